"""What every command does around its analysis, without typer: standard output, one-line errors and
exit codes, printing a result as a table, JSON or CSV, and the body of ``ancestry`` and ``impact``.

:mod:`ptmgraph.cli` builds the commands (typer) from the analyses' declarations; :mod:`ptmgraph.entry`
runs a plain ``ancestry`` or ``impact`` command line through the same body (:mod:`ptmgraph.cli_commands`)
without typer, so these must import nothing heavy at module level: polars,
numpy, rich and the analyses are imported by the code that uses them. Exit codes: 0 done, 1 bad
input (or what risk and check report), 2 an unknown model or a bad value, 70 a bug of ours, 130
interrupted, 141 the reader of standard output went away.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from enum import Enum
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal, NoReturn

from ptmgraph.declaration import FORMAT, Option, UsageError, choices
from ptmgraph.formats.result_interface import WriteOptions
from ptmgraph.terminal import OutputError, Screen
from ptmgraph.vocabulary import Confidence, Relation

if TYPE_CHECKING:
    from rich.console import Console

    from ptmgraph.graph import LineageGraph
    from ptmgraph.lookup import LookupOptions
    from ptmgraph.result import AnalysisResult, AncestrySummary, ImpactSummary

screen = Screen()
"""Standard output: the console commands print to, colour and pager (:mod:`ptmgraph.terminal`)."""


def out() -> Console:
    return screen.console


def _err() -> Console:
    """Standard error. Its ``print`` takes no markup: user text (paths, ids) never goes through rich's
    markup, where ``[/]`` is an error and ``[red]`` a style (:func:`note` and :func:`fail` print through it)."""
    from rich.console import Console

    return Console(stderr=True, highlight=False, markup=False, emoji=False,
                   no_color=bool(os.environ.get("NO_COLOR")) or None)


def note(message: str) -> None:
    """One message on stderr (what was written, what was done), its user text shown :func:`printable`."""
    from ptmgraph.formats.lines import printable

    _err().print(printable(message), soft_wrap=True)


def fail(message: str, code: int = 1) -> NoReturn:
    """One line on stderr, then exit non-zero."""
    from rich.text import Text

    from ptmgraph.formats.lines import printable

    _err().print(Text.assemble(("ptmgraph: error:", "red"), " ", printable(message)), soft_wrap=True)
    raise SystemExit(code)


def write_stdout(text: str) -> None:
    """Write ``text`` to standard output (held for the pager when it may be needed)."""
    screen.write(text)


def _loaded(*classes: tuple[str, str]) -> tuple[type[BaseException], ...]:
    """The exception classes named (module, class) whose module is imported: an error of a module that was
    never imported cannot have been raised, and importing it to find out would cost a point query its start."""
    return tuple(getattr(sys.modules[module], name) for module, name in classes if module in sys.modules)


_UNKNOWN_MODEL = (("ptmgraph.graph", "UnknownModelError"), ("ptmgraph.lookup", "NotCovered"))
_BAD_INPUT = (
    ("ptmgraph.snapshot", "SnapshotError"),
    ("ptmgraph.lookup_cache", "LookupRefused"),
    ("ptmgraph.sources.interface", "SourceError"),
    ("ptmgraph.formats.interface", "ExportError"),
    ("ptmgraph.model_list", "ModelListError"),
)
_EXITS = (("typer", "Exit"), ("typer", "Abort"))
"""typer's exits, raised by the commands' own code, pass through."""


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn the errors users cause into one-line messages and exit codes (2: unknown model or bad value, such as
    a :class:`~ptmgraph.declaration.UsageError` of an analysis' ``prepare``)."""
    try:
        try:
            yield
        except BaseException:
            screen.finish(page=False)
            raise
        screen.finish()
    except (OutputError, BrokenPipeError) as e:
        cause = e.args[0] if isinstance(e, OutputError) else e
        if isinstance(cause, BrokenPipeError):
            # The reader went away (`| head`): exit as a process killed by SIGPIPE would, without a message,
            # and point stdout at nothing so the interpreter's last flush cannot fail again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise SystemExit(141) from None
        fail(f"cannot write the output to standard output ({getattr(cause, 'strerror', None) or cause})")
    except KeyboardInterrupt:
        fail("interrupted", 130)
    except Exception as e:
        if isinstance(e, _loaded(*_EXITS)):
            raise
        if isinstance(e, (UsageError, *_loaded(*_UNKNOWN_MODEL))):
            fail(str(e), 2)
        if isinstance(e, _loaded(*_BAD_INPUT)):
            fail(str(e))
        if isinstance(e, OSError):
            # The system refused a file (permissions, a path that vanished, a full disk): the machine's or the
            # input's fault, not a bug of ours.
            where = f"{e.filename}: " if e.filename else ""
            fail(f"{where}{e.strerror or type(e).__name__}")
        # A bug of ours, not the user's input: one line by default, the traceback on request.
        if os.environ.get("PTMGRAPH_DEBUG"):
            raise
        fail(f"internal error: {type(e).__name__}: {str(e)[:300]} (set PTMGRAPH_DEBUG=1 for the traceback)", 70)


@cache
def format_choices(rows: str) -> type[Enum]:
    """The ``--format`` choices of a command whose rows are of the kind ``rows`` (:attr:`Analysis.rows`): the
    result formats that serve them (:func:`ptmgraph.formats.results.formats_for`), in the registry's order."""
    from ptmgraph.formats.results import formats_for

    return choices("Format", formats_for(rows))


def with_formats(options: tuple[Option, ...], rows: str) -> tuple[Option, ...]:
    """``options`` with :data:`~ptmgraph.declaration.FORMAT` choosing among the result formats that serve
    ``rows`` (:func:`format_choices`), and showing them as its metavar."""
    formats = format_choices(rows)
    metavar = "|".join(word.value for word in formats)
    return tuple(option.but(choices=formats, metavar=metavar) if option.names == FORMAT.names and
                 option.choices is None else option for option in options)


def write_answer(fmt: str, results: list[AnalysisResult], options: WriteOptions) -> None:
    """Write ``results`` on standard output in the result format ``fmt`` (:mod:`ptmgraph.formats.results`),
    with the provenance of the answer (:func:`provenance`; CSV only with ``--provenance``)."""
    from ptmgraph.formats.results import RESULT_FORMATS, result_format

    carried = provenance() if not RESULT_FORMATS[fmt].provenance_on_request or _csv_provenance else None
    result_format(fmt).write(results, screen, replace(options, provenance=carried or None))


def emit(
    result: AnalysisResult,
    fmt: Enum,
    limit: int,
    table: Callable[[], None] | None = None,
    *,
    csv_raw: bool = False,
    paths: bool = False,
) -> None:
    """Print ``result`` in ``fmt``: the ``table`` view given (default: its summary and tables), or a
    document format (:mod:`ptmgraph.formats.results`), with the deferred columns (``relation_path``) only
    with ``paths``."""
    view = (lambda _: table()) if table is not None else None
    write_answer(fmt.value, [result], WriteOptions(limit=limit, raw=csv_raw, paths=paths, view=view))


def emit_table(
    result: AnalysisResult, fmt: Enum, limit: int, columns: list[str], *,
    csv_raw: bool = False, paths: bool = False, answer: tuple[str, ...] = (),
) -> None:
    """:func:`emit`, the table showing ``columns`` of the main table in that order; on a narrow terminal
    the rightmost drop first, except the first and the ``answer`` columns, which drop last
    (:func:`ptmgraph.formats.console.drop_order`)."""
    write_answer(fmt.value, [result], WriteOptions(limit=limit, raw=csv_raw, paths=paths, columns=columns,
                                                   answer=answer))


def emit_many(
    results: list[AnalysisResult], fmt: Enum, limit: int, table: Callable[[AnalysisResult], None],
    *, csv_raw: bool = False, paths: bool = False,
) -> None:
    """One result as :func:`emit` prints it; several: one tree or table each, or one document (JSON:
    ``{"results": [...]}``; CSV: one table whose rows are led by the queried model)."""
    write_answer(fmt.value, results, WriteOptions(limit=limit, raw=csv_raw, paths=paths, view=table))


_answer: dict[str, object] = {}
"""The provenance of the answer being printed: set when the command loads its snapshot (:func:`load`)."""
_csv_provenance = False
"""Whether a CSV answer carries it (:data:`PROVENANCE`), as the query asked."""


def provenance() -> dict[str, object]:
    """Where the answer being printed comes from: the snapshot (its ``path``, ``written_at``, ``sources``
    and ``crawl`` seeds, from its ``meta.json``), the ``ptmgraph`` version, and the ``filters`` applied
    (each option given that narrows the answer, by its name: ``{"--min-confidence": "high"}``); empty
    before a snapshot is loaded. Every document (JSON; CSV with ``--provenance``) carries it."""
    return _answer


def _record_provenance(snapshot: Path | None, lg: LineageGraph, filters: dict[str, object]) -> None:
    from ptmgraph import __version__
    from ptmgraph.snapshot import bundled_path

    meta = lg.snapshot.meta
    crawl = meta.get("crawl")
    _answer.clear()
    _answer.update({
        "snapshot": os.path.abspath(snapshot if snapshot is not None else bundled_path()),
        "written_at": meta.get("written_at"),
        "sources": list(meta.get("sources") or []),
        "crawl": {k: v for k, v in crawl.items() if k != "stats"} if isinstance(crawl, dict) else None,
        "ptmgraph": __version__,
        "filters": dict(filters),
    })


@dataclass(frozen=True)
class Query:
    """The options every command that queries the lineage graph takes, whatever else it takes: declared once
    (:data:`ptmgraph.declaration.QUERY`) and handed to the command as one value. ``min_confidence``: drop
    the edges below it; ``filters``: every filter option given (:attr:`ptmgraph.declaration.Option.filter`),
    by its name, ``min_confidence`` included; ``provenance``: CSV answers carry their provenance."""

    min_confidence: Confidence | None = None
    filters: tuple[tuple[str, object], ...] = ()
    provenance: bool = False

    @classmethod
    def given(cls, values: dict[str, object], options: tuple[Option, ...]) -> Query:
        """The query of a command called with ``values`` (by parameter) for its ``options``: the filters are
        the options marked ``filter`` whose value is given and not their default, under their long names,
        in the order of those names."""
        confidence = values.get("min_confidence")
        filters = []
        for option in options:
            value = values.get(option.param)
            if (not option.filter or value is None or value is False or value == option.default
                    or (isinstance(value, list | tuple) and not value)):
                continue
            shown = [_choice(v) for v in value] if isinstance(value, list | tuple) else _choice(value)
            if shown == option.default:
                continue
            filters.append((option.name, shown))
        return cls(Confidence(_choice(confidence)) if confidence else None, tuple(sorted(filters)),
                   bool(values.get("provenance")))

    def load(self, snapshot: Path | None, columns: dict[str, list[str]] | None = None) -> LineageGraph:
        """The snapshot's graph as :func:`load` gives it, with this query's edges."""
        return load(snapshot, self.min_confidence, columns, filters=dict(self.filters), in_csv=self.provenance)

    @property
    def confidence(self) -> str | None:
        """``min_confidence`` as its word, or None."""
        return self.min_confidence.value if self.min_confidence else None


def _choice(value: object) -> object:
    """An option's value as its word (an enum's value), a path as text."""
    if isinstance(value, Enum):
        return value.value
    return str(value) if isinstance(value, Path) else value


ANY_EDGE = Query()
"""The query of a command line that names no query option: every edge."""


def load(snapshot: Path | None, min_confidence: Confidence | None = None,
         columns: dict[str, list[str]] | None = None, *, filters: dict[str, object] | None = None,
         in_csv: bool = False, answer: bool = True) -> LineageGraph:
    """The snapshot's graph; with ``columns``, only those columns of its tables (an analysis' ``reads``). The
    answer's :func:`provenance` is this snapshot's, with ``filters``, and a CSV answer carries it when
    ``in_csv`` (unless ``answer`` is False: a graph loaded to compare with)."""
    from ptmgraph.graph import load_graph, load_graph_columns

    confidence = min_confidence.value if min_confidence else None
    if columns is not None:
        lg = load_graph_columns(snapshot, columns, confidence)
    else:
        lg = load_graph(snapshot, min_confidence=confidence)
    if answer:
        global _csv_provenance
        _csv_provenance = in_csv
        _record_provenance(snapshot, lg, filters or {})
    return lg


def answering(
    query: Query, snapshot: Path | None, models: list[str], need: Literal["ancestors", "descendants"],
    look: LookupOptions | None, columns: dict[str, list[str]] | None = None,
) -> tuple[LineageGraph, Path | None]:
    """The graph that answers a question about ``models``, and its snapshot: the one given (``--snapshot``, or
    the bundled one) when it has a record of every model, else a live look-up's (:mod:`ptmgraph.lookup`),
    whose provenance the answer then carries; where it came from is said on stderr. ``look`` None: never."""
    if look is not None:
        from ptmgraph.lookup import parse_age

        try:
            parse_age(look.max_age)
        except ValueError as e:
            fail(f"--max-age: {e}", 2)
    lg = query.load(snapshot, columns)
    if look is None or not models:
        return lg, snapshot
    from ptmgraph import lookup

    missing = lookup.uncovered(lg, models)
    if not missing:
        return lg, snapshot
    from ptmgraph.snapshot import bundled_path

    where = str(snapshot) if snapshot is not None else f"bundled with ptmgraph ({bundled_path()})"
    found = lookup.look_up(lg, where, models, missing, need, look)
    if found is None:
        return lg, snapshot
    note(found.note)
    if found.path is None:
        return lg, snapshot
    return query.load(found.path, columns), found.path


def model_ids(models: list[str] | None, from_file: Path | None, *, required: bool = True) -> list[str]:
    """The models named on the command line, then those of the ``--from-file`` list (each once)."""
    from ptmgraph.model_list import ModelListError, read_model_list

    named = list(models or [])
    if from_file is not None:
        try:
            named += read_model_list(from_file)
        except ModelListError as e:
            fail(str(e))
    if required and not named:
        fail("give a MODEL or --from-file FILE", 2)
    return list(dict.fromkeys(named))


def tree_columns(columns: str | None) -> list[str]:
    """The ``--columns`` of a tree, checked (the default ones when None)."""
    if columns is None:
        return list(DEFAULT_TREE_COLUMNS)
    from ptmgraph.formats.tree import describe_columns

    try:
        return describe_columns([columns])
    except ValueError as e:
        fail(f"--columns: {e}", 2)


DEFAULT_TREE_COLUMNS = ("relation", "downloads", "license", "created")
""":data:`ptmgraph.formats.tree.DEFAULT_TREE_COLUMNS`, spelled here so that JSON output never imports the
tree (and rich); tests/test_cli_start.py checks that they are equal."""


def print_lineage(
    direction: Literal["ancestors", "descendants"],
    model: list[str] | None,
    from_file: Path | None,
    snapshot: Path | None,
    query: Query,
    relation: list[Relation] | None,
    max_depth: int | None,
    fmt: Enum,
    limit: int,
    csv_raw: bool,
    flat: bool,
    columns: str | None,
    *,
    max_paths: int = 200,
    paths: bool = False,
    look: LookupOptions | None = None,
) -> None:
    """``ancestry`` and ``impact``: one analysis per model, shown as trees, a flat table, JSON or CSV; a
    model the snapshot has no record of is looked up (``look``, :func:`answering`)."""
    models = model_ids(model, from_file)
    chosen = tree_columns(columns)
    with user_errors():
        from ptmgraph.analyses.lineage import ancestry, impact

        lg, snapshot = answering(query, snapshot, models, direction, look)
        relations = [r.value for r in relation or []]
        results: list[AnalysisResult[AncestrySummary | ImpactSummary]]
        if direction == "ancestors":
            results = [ancestry(lg, m, max_paths=max_paths, relations=relations, max_depth=max_depth) for m in models]
        else:
            results = [impact(lg, m, relations=relations, max_depth=max_depth) for m in models]
        if query.min_confidence or relations or max_depth:
            # what the filters left out: the same walk over every edge, every relation, any depth
            every = load(snapshot, answer=False)
            for result in results:
                asked = result.summary.model
                whole = ancestry(every, asked, max_paths=1) if direction == "ancestors" else impact(every, asked)
                result.summary = replace(result.summary, filtered_out=whole.rows.height - result.rows.height)

        def table(result: AnalysisResult) -> None:
            from ptmgraph.formats import views

            if flat:
                views.print_lineage_flat(out(), result, limit=limit)
            else:
                views.show_lineage_tree(screen, lg, result, columns=chosen, limit=limit)

        emit_many(results, fmt, limit, table, csv_raw=csv_raw, paths=paths)
