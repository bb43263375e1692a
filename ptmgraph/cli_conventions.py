"""The command line's manners, the same for every command: ``-h``, plain usage lines and plain errors.

Typer writes a required argument as ``{MODEL}`` in usage lines and prefixes the messages of bad
values with pydantic's "Value error,"; these classes write ``MODEL`` and the message alone, as
click, git and pip do; arguments and options show a metavar (``MODEL``, ``N``) instead of the Python
type (``<list[str]>``). Every command of :class:`App` gets them without naming them.
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"]}


_METAVARS = {"int": "N", "float": "X", "str": "TEXT", "path": "PATH", "directory": "DIR", "file": "FILE"}
"""Metavars for options that name none, by the type typer would show (``<int range>`` -> ``N``)."""


def plain_message(message: str) -> str:
    """A parameter error without the validation library's prefixes."""
    return message.replace("Value error, ", "")


class _PlainManners:
    """Mixed into typer's command and group classes (see the module docstring)."""

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        try:
            return super().make_context(info_name, args, parent, **extra)  # type: ignore[misc]
        except Exception as e:
            # click's exceptions here are typer's vendored copies: recognised by their message, not class.
            if isinstance(getattr(e, "message", None), str):
                e.message = plain_message(e.message)  # type: ignore[attr-defined]
            raise

    def get_params(self, ctx: Any) -> list[Any]:
        params: list[Any] = super().get_params(ctx)  # type: ignore[misc]
        for param in params:
            if isinstance(param, TyperArgument):
                param.metavar = param.metavar or str(param.name).upper()
                # The metavar says what to give; typer would add the Python type (``<list[str]>``) beside it.
                param.display_type_rich = lambda ctx: None  # type: ignore[method-assign]
            elif isinstance(param, TyperOption) and not param.is_flag and param.metavar is None:
                shown = param.display_type(ctx).strip("<>")
                param.metavar = _METAVARS.get(shown.split(" ")[0], shown)
        return params

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces: list[str] = super().collect_usage_pieces(ctx)  # type: ignore[misc]
        return [p[1:-1] if p.startswith("{") and p.endswith("}") else p for p in pieces]


class PlainCommand(_PlainManners, TyperCommand):
    pass


class PlainGroup(_PlainManners, TyperGroup):
    pass


class App(typer.Typer):
    """A Typer application whose commands are :class:`PlainCommand` unless they name another class."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cls=PlainGroup, context_settings=CONTEXT_SETTINGS, rich_markup_mode=None, **kwargs)

    def command(self, *args: Any, cls: type[TyperCommand] | None = None, **kwargs: Any) -> Any:  # type: ignore[override]
        return super().command(*args, cls=cls or PlainCommand, **kwargs)
