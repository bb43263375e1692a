"""The ``ptmgraph`` program (the console script and ``python -m ptmgraph``).

A point query (``ancestry`` or ``impact``) whose command line is plain runs without typer: typer's
import and its per-parameter checks cost a cold query some 50 ms of CPU, a quarter of what the rest
of it costs on the bundled snapshot. *Plain* means every word is one this module reads exactly as
typer would: the options of the two commands (long, ``--name=value``, or the short ``-s``, ``-f``,
``-r`` followed by a separate value), valid choices, whole numbers within bounds, paths typer would
accept, ``--``, and the global ``--color`` and ``--no-pager`` before the command. Anything else (help,
completion, another command, an unknown or repeated-in-one-word option, a value typer would refuse)
goes to typer, which answers with its own help or message. ``tests/test_entry.py`` checks that both
ways give the same output and exit code.

On success the process ends with ``os._exit`` once standard output and error are flushed: a query
at a million models holds large tables whose teardown would take a tenth of a second for nothing.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ptmgraph.cli_output import (
    LARGEST_WHOLE_NUMBER,
    MIN_CONFIDENCE,
    PROVENANCE,
    ColorChoice,
    ConfidenceChoice,
    OutputFormat,
    RelationChoice,
)

_FLAGS = {"--csv-raw": "csv_raw", "--flat": "flat", "--paths": "paths", PROVENANCE: "provenance"}
"""Options of ``ancestry`` and ``impact`` that take no value, by the parameter they set."""

_VALUED = {
    "--snapshot": "snapshot", "-s": "snapshot",
    MIN_CONFIDENCE: "min_confidence",
    "--format": "fmt", "-f": "fmt",
    "--limit": "limit",
    "--relation": "relation", "-r": "relation",
    "--max-depth": "max_depth", "--depth": "max_depth",
    "--columns": "columns",
    "--from-file": "from_file",
}
"""Options of both commands that take a value, by the parameter they set."""

_ANCESTRY_ONLY = {"--max-paths": "max_paths"}

_SMALLEST = {"limit": 0, "max_depth": 1, "max_paths": 1}
"""The whole-number parameters and their least value (typer's ``min``)."""

_CHOICES = {
    name: tuple(choice.value for choice in enum)
    for name, enum in (("fmt", OutputFormat), ("min_confidence", ConfidenceChoice), ("relation", RelationChoice),
                       ("color", ColorChoice))
}
"""The parameters that take one of some words (case matters, as in typer): the CLI's own choices."""

_WHOLE_NUMBER = re.compile(r"0|[1-9][0-9]{0,17}")


@dataclass
class LineageCall:
    """A plain ``ancestry`` or ``impact`` command line, its values as typer would hand them over."""

    command: str
    color: str = "auto"
    pager: bool = True
    models: list[str] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)


class _NotPlain(Exception):
    """A command line for typer."""


def _path(value: str) -> Path:
    # typer refuses an existing path the user may not read; an empty one it reads as the current directory
    if not value or (os.path.exists(value) and not os.access(value, os.R_OK)):
        raise _NotPlain
    return Path(value)


def _value(name: str, text: str) -> Any:
    """``text`` as the value of parameter ``name``, or :class:`_NotPlain` when typer should judge it."""
    if text.startswith("-"):  # typer may read it as the next option's name: let it say so
        raise _NotPlain
    if name in _CHOICES:
        if text not in _CHOICES[name]:
            raise _NotPlain
        return text
    if name in _SMALLEST:
        if not _WHOLE_NUMBER.fullmatch(text) or not _SMALLEST[name] <= int(text) <= LARGEST_WHOLE_NUMBER:
            raise _NotPlain
        return int(text)
    if name in ("snapshot", "from_file"):
        return _path(text)
    return text  # --columns: checked by the command itself


def lineage_call(argv: Sequence[str], environ: dict[str, str] | os._Environ[str] = os.environ) -> LineageCall | None:
    """The point query ``argv`` asks for when it is plain (see the module docstring), else None."""
    if any(key.startswith("_") and key.endswith("_COMPLETE") for key in environ):
        return None  # shell completion: typer's
    try:
        return _parse(list(argv))
    except _NotPlain:
        return None


def _parse(args: list[str]) -> LineageCall | None:
    color, pager = "auto", True
    while args and args[0].startswith("-"):
        word = args.pop(0)
        if word == "--no-pager":
            pager = False
        elif word == "--color" and args:
            color = _value("color", args.pop(0))
        elif word.startswith("--color="):
            color = _value("color", word.partition("=")[2])
        else:
            return None
    if not args or args[0] not in ("ancestry", "impact"):
        return None
    call = LineageCall(command=args.pop(0), color=color, pager=pager)
    valued = {**_VALUED, **(_ANCESTRY_ONLY if call.command == "ancestry" else {})}
    while args:
        word = args.pop(0)
        if word == "--":
            call.models += args
            break
        if not word.startswith("-"):
            call.models.append(word)
            continue
        name, has_value, attached = word.partition("=")
        if name.startswith("--") and name in _FLAGS and not has_value:
            call.values[_FLAGS[name]] = True
        elif name in valued and ((has_value and name.startswith("--")) or (not has_value and args)):
            parameter = valued[name]
            value = _value(parameter, attached if has_value else args.pop(0))
            if parameter == "relation":
                call.values.setdefault("relation", []).append(value)
            else:
                call.values[parameter] = value  # given twice: the last one counts, as in typer
        else:
            raise _NotPlain
    return call


def run_lineage(call: LineageCall) -> None:
    """Run ``call`` as ``ptmgraph.cli`` would, through the same body (:func:`ptmgraph.cli_output.print_lineage`)."""
    from ptmgraph import cli_output as run

    run.screen.configure(color=call.color, pager=call.pager)  # type: ignore[arg-type]
    values = call.values
    run.print_lineage(
        "ancestors" if call.command == "ancestry" else "descendants",
        call.models or None,
        values.get("from_file"),
        values.get("snapshot"),
        run.Query.given(values, {}, {}),
        [run.RelationChoice(r) for r in values["relation"]] if "relation" in values else None,
        values.get("max_depth"),
        run.OutputFormat(values.get("fmt", "table")),
        values.get("limit", 50),
        values.get("csv_raw", False),
        values.get("flat", False),
        values.get("columns"),
        **({"max_paths": values["max_paths"]} if "max_paths" in values else {}),
        paths=values.get("paths", False),
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Run the ``ptmgraph`` command line ``argv`` (default: the process's arguments)."""
    args = list(sys.argv[1:] if argv is None else argv)
    # The commands do no linear algebra: one BLAS thread, instead of one per core spinning up at numpy's import.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    call = lineage_call(args)
    if call is None:
        from ptmgraph.cli import app

        app(args, prog_name="ptmgraph")
        return
    try:
        run_lineage(call)
    except (KeyboardInterrupt, EOFError):
        sys.stderr.write("\nAborted!\n")  # as typer says it outside a command's own handling
        raise SystemExit(1) from None
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:
        raise SystemExit(1) from None
    os._exit(0)
