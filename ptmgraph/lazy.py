"""Package attributes imported on first use (PEP 562), so that importing a package stays cheap."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any


def lazy_attributes(package: str, where: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package`` that imports ``where[name]`` (a module) when ``name`` is first used."""

    def attribute(name: str) -> Any:
        if name in where:
            return getattr(import_module(where[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return attribute


def lazy_module(name: str) -> Any:
    """A stand-in for module ``name`` that imports it when one of its attributes is first read.

    For a module that only some functions of a cheap-to-import module use (numpy in the whole-graph
    passes, beside the point queries that must not load it). The stand-in is not entered in
    ``sys.modules``: libraries that look there to see whether numpy is loaded (polars does) must not
    find it before it is.
    """

    class Module:
        def __getattr__(self, attribute: str) -> Any:
            return getattr(import_module(name), attribute)

        def __repr__(self) -> str:
            return f"<module {name!r}, imported on first use>"

    return Module()
