"""The ``ptmgraph`` program (the console script and ``python -m ptmgraph``).

A point query (``ancestry`` or ``impact``) whose command line is plain runs without typer. Measured on
the bundled snapshot (median CPU of 21 cold runs, issue 18): ``impact MODEL -f json`` takes 259 ms this
way and 397 ms through typer (``python -c 'import polars'``: 263 ms), so typer's import, its group and
its per-parameter checks cost a cold query some 140 ms, far over the 50 ms that would allow dropping
this reader. The options it reads are the declarations' (``COMMANDS`` in ``analyses/lineage.py``, as the
generated index :mod:`ptmgraph.cli_index` holds them, with the result formats as ``--format``'s choices), the
same the typer command is built from, and it runs the same body (:mod:`ptmgraph.cli_commands`), so the
two cannot drift. *Plain* means every word is one this module reads exactly as typer would: the options
of the two commands (long, ``--name=value``, or a short name followed by a separate value), valid
choices, whole numbers within bounds, paths typer would accept, ``--``, and the global ``--color`` and
``--no-pager`` before the command. Anything else (help, completion, another command, an unknown or
repeated-in-one-word option, a value typer would refuse) goes to typer, which answers with its own help
or message. ``tests/test_entry.py`` checks that both ways give the same output and exit code.

On success the process ends with ``os._exit`` once standard output and error are flushed: a query
at a million models holds large tables whose teardown would take a tenth of a second for nothing.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ptmgraph.declaration import LARGEST_WHOLE_NUMBER, PATH_KINDS, WHOLE_NUMBER, ColorChoice, Option

POINT_QUERIES = ("ancestry", "impact")
"""The commands read here when plain; their options are their declarations' (``analyses/lineage.py``)."""


def _declared_options(command: str) -> tuple[Option, ...]:
    """The options of ``command`` as the typer command is built from them (:func:`ptmgraph.cli.indexed_command`):
    the index's (the declaration's own), ``--format`` choosing among the result formats that serve its rows."""
    from ptmgraph.cli_index import COMMANDS
    from ptmgraph.cli_output import with_formats

    _, indexed = COMMANDS[command]
    return with_formats(indexed.all_options(), indexed.rows)


def _options(command: str) -> dict[str, Option]:
    """The options of ``command`` by every name they take (``--max-depth``, ``--depth``; ``-s``): the same the
    typer command is built from (:func:`_declared_options`), so the two cannot drift."""
    return {name: option for option in _declared_options(command) if not option.argument for name in option.names}


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


def _value(option: Option, text: str) -> Any:
    """``text`` as the value of ``option``, or :class:`_NotPlain` when typer should judge it."""
    if text.startswith("-"):  # typer may read it as the next option's name: let it say so
        raise _NotPlain
    if option.choices is not None:
        if text not in {choice.value for choice in option.choices}:
            raise _NotPlain
        return option.choices(text)
    if option.kind == "int":
        least = option.least if option.least is not None else 0
        if not WHOLE_NUMBER.fullmatch(text) or not least <= int(text) <= LARGEST_WHOLE_NUMBER:
            raise _NotPlain
        return int(text)
    if option.kind in PATH_KINDS:
        return _path(text)
    if option.kind != "text":
        raise _NotPlain
    return text  # --columns: checked by the command itself


_COLOR = Option(("--color",), "color", "", "choice", choices=ColorChoice)


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
            color = _value(_COLOR, args.pop(0)).value
        elif word.startswith("--color="):
            color = _value(_COLOR, word.partition("=")[2]).value
        else:
            return None
    if not args or args[0] not in POINT_QUERIES:
        return None
    call = LineageCall(command=args.pop(0), color=color, pager=pager)
    options = _options(call.command)
    while args:
        word = args.pop(0)
        if word == "--":
            call.models += args
            break
        if not word.startswith("-"):
            call.models.append(word)
            continue
        name, has_value, attached = word.partition("=")
        option = options.get(name)
        if option is None:
            raise _NotPlain
        if option.kind == "flag":
            if has_value or not name.startswith("--"):
                raise _NotPlain
            call.values[option.param] = True
        elif (has_value and name.startswith("--")) or (not has_value and args):
            value = _value(option, attached if has_value else args.pop(0))
            if option.many:
                call.values.setdefault(option.param, []).append(value)
            else:
                call.values[option.param] = value  # given twice: the last one counts, as in typer
        else:
            raise _NotPlain
    return call


def run_lineage(call: LineageCall) -> None:
    """Run ``call`` as ``ptmgraph.cli`` would, through the same body (:mod:`ptmgraph.cli_commands`)."""
    from ptmgraph.analyses.lineage import COMMANDS
    from ptmgraph.cli_commands import BODIES, Run
    from ptmgraph.cli_output import Query, screen

    screen.configure(color=call.color, pager=call.pager)  # type: ignore[arg-type]
    declared = next(c for c in COMMANDS if c.name == call.command)
    options = _declared_options(call.command)
    values = {option.param: option.initial for option in options}
    values.update(call.values)
    values["model"] = call.models or None
    BODIES[call.command](Run(values, Query.given(values, options), declared))


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
