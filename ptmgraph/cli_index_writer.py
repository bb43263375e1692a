"""Writes :mod:`ptmgraph.cli_index` from the analyses' declarations (``python -m ptmgraph.cli_index``): each
command's module, name, help, options, kind of rows and whether it queries the graph, as Python source.
Apart from the command line so that the index, which the command line imports, imports nothing that
imports it.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from ptmgraph.declaration import Analysis, Option


def command_index() -> str:
    """The text of :mod:`ptmgraph.cli_index`, from the analyses' declarations (tests/test_declarations.py
    checks the file against it; ``python -m ptmgraph.cli_index`` writes it)."""
    from ptmgraph.analyses import declarations

    lines = []
    for name, (module, declared_as) in sorted(declarations().items()):
        options = "".join(f"\n            {_option_source(option)}," for option in declared_as.options)
        rows = "" if declared_as.rows == Analysis.rows else f", rows={declared_as.rows!r}"
        query = "" if declared_as.query else ", query=False"
        lines.append(f"    {name!r}: ({module!r}, d.Analysis(\n        {name!r},\n        {declared_as.help!r},\n"
                     f"        ({options}\n        ){rows}{query},\n    )),")
    return ('"""The analyses\' commands, by name: the module declaring each, and its name, help, options, kind of\n'
            "rows and whether it queries the graph, so that ``--help`` and a usage error import no analysis.\n"
            "Written by ``python -m ptmgraph.cli_index`` from the declarations; do not edit:\n"
            'tests/test_declarations.py checks it."""\n'
            "# ruff: noqa: E501\n\n"
            "from ptmgraph import declaration as d\n\n"
            "COMMANDS: dict[str, tuple[str, d.Analysis]] = {\n" + "\n".join(lines) + "\n}\n\n\n"
            'if __name__ == "__main__":  # pragma: no cover - writes this file\n'
            "    from pathlib import Path\n\n"
            "    from ptmgraph.cli_index_writer import command_index\n\n"
            "    Path(__file__).write_text(command_index())\n")


def _option_source(option: Option) -> str:
    """``option`` as Python source for the index: a shared option by its name in :mod:`ptmgraph.declaration`
    (with ``.but`` for what a command changes), any other field by field, its choices by their words."""
    from dataclasses import fields

    from ptmgraph import declaration as shared

    named = {key: value for key, value in vars(shared).items() if isinstance(value, Option)}
    base_name = next((key for key, value in named.items() if value is option), None) or next(
        (key for key, value in named.items() if (value.names, value.param) == (option.names, option.param)), None)
    base = named[base_name] if base_name is not None else Option(option.names, option.param, option.help)
    changed = [(f.name, getattr(option, f.name)) for f in fields(Option)
               if getattr(option, f.name) != getattr(base, f.name)]
    text = ", ".join(f"{key}={_value_source(value)}" for key, value in changed)
    if base_name is not None:
        return f"d.{base_name}.but({text})" if changed else f"d.{base_name}"
    return f"d.Option({option.names!r}, {option.param!r}, {option.help!r}{', ' if text else ''}{text})"


def _value_source(value: Any) -> str:
    if isinstance(value, type) and issubclass(value, Enum):
        return f"d.choices({value.__name__!r}, {tuple(member.value for member in value)!r})"
    return repr(value.value if isinstance(value, Enum) else value)
