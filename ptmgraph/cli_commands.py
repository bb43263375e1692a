"""What is truly per-command in the commands built from the analyses' declarations (:mod:`ptmgraph.declaration`).

Each body gets one :class:`Run`: the option values by parameter name, the query they make and the
command's declaration; it calls its analysis, prints the result and returns it, and the command exits
by the declaration's exit rule (:func:`ptmgraph.cli.build_command`). Options, help, the snapshot
columns read and the default columns are the declaration's; only what a command adds to them is here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ptmgraph.cli_output import (
    Query,
    answering,
    emit,
    emit_table,
    fail,
    model_ids,
    note,
    out,
    print_lineage,
    screen,
    user_errors,
)
from ptmgraph.words import plural

if TYPE_CHECKING:
    from ptmgraph.declaration import Analysis
    from ptmgraph.graph import LineageGraph
    from ptmgraph.lookup import LookupOptions
    from ptmgraph.result import AnalysisResult


@dataclass
class Run:
    """One command line of a declared command: its values (also as attributes), query and declaration."""

    values: dict[str, Any]
    query: Query
    declared: Analysis

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["values"][name]
        except KeyError:
            raise AttributeError(name) from None

    def load(self, snapshot: Path | None = None, *, whole: bool = False) -> LineageGraph:
        """The snapshot's graph with the query's edges: the declared columns only, unless ``whole``."""
        reads = None if whole else self.declared.reads
        return self.query.load(snapshot if snapshot is not None else self.values.get("snapshot"), reads)

    def emit(self, result: AnalysisResult, columns: list[str] | None = None,
             table: Callable[[], None] | None = None) -> AnalysisResult:
        """Print ``result`` in the chosen format: the table with ``columns`` (default: the declared ones)."""
        given = self.values
        output = {"csv_raw": given.get("csv_raw", False), "paths": given.get("paths", False)}
        shown = list(self.declared.columns) if columns is None else columns
        if table is not None or not shown:
            emit(result, self.fmt, given.get("limit", 0), table, **output)
        else:
            emit_table(result, self.fmt, given.get("limit", 0), shown, answer=self.declared.answer, **output)
        return result

    def look(self) -> LookupOptions:
        """How the command may look up a model its snapshot has no record of (``declaration.LOOKUP``)."""
        from ptmgraph.lookup import DEFAULT_MAX_MODELS, LookupOptions

        return LookupOptions(offline=self.values["offline"], max_age=self.values["max_age"],
                             max_models=self.values.get("max_models", DEFAULT_MAX_MODELS))


BODIES: dict[str, Callable[[Run], AnalysisResult | None]] = {}
"""Each declared command's body, by the command's name."""


def body(name: str) -> Callable[[Callable[[Run], AnalysisResult | None]], Callable[[Run], AnalysisResult | None]]:
    def register(function: Callable[[Run], AnalysisResult | None]) -> Callable[[Run], AnalysisResult | None]:
        BODIES[name] = function
        return function

    return register


def _lineage(direction: str, run: Run) -> None:
    v = run.values
    print_lineage(direction, v["model"], v["from_file"], v["snapshot"], run.query,  # type: ignore[arg-type]
                  v["relation"], v["max_depth"], v["fmt"], v["limit"], v["csv_raw"], v["flat"], v["columns"],
                  **({"max_paths": v["max_paths"]} if "max_paths" in v else {}), paths=v["paths"], look=run.look())


@body("ancestry")
def ancestry(run: Run) -> None:
    _lineage("ancestors", run)


@body("impact")
def impact(run: Run) -> None:
    _lineage("descendants", run)


@body("info")
def info(run: Run) -> AnalysisResult:
    from ptmgraph.analyses.overview import model_info
    from ptmgraph.formats import views

    with user_errors():
        lg, _ = answering(run.query, run.snapshot, [run.model], "ancestors", run.look())
        result = model_info(lg, run.model)
        return run.emit(result, table=lambda: views.print_model_info(out(), result, children=run.children))


@body("why")
def why(run: Run) -> AnalysisResult:
    from ptmgraph.analyses.why import why
    from ptmgraph.formats import views
    from ptmgraph.graph import UnknownModelError

    with user_errors():
        lg, answered = answering(run.query, run.snapshot, [run.model], "ancestors", run.look(), run.declared.reads)
        try:
            result = why(lg, run.model, run.ancestor, max_paths=run.max_paths)
        except UnknownModelError:
            if answered == run.snapshot:
                raise
            run.load().resolve(run.ancestor)  # unknown to the snapshot as well: the usage error, with its closest ids
            fail(f"{run.model} does not derive from {run.ancestor}: its whole ancestry, looked up, does not hold it")
        return run.emit(result, table=lambda: views.show_why(screen, result))


@body("search")
def search(run: Run) -> AnalysisResult:
    from ptmgraph.analyses.model_search import search

    if not run.text.strip():
        fail("give some text to search for", 2)
    with user_errors():
        return run.emit(search(run.load(), run.text))


def default_body(run: Run) -> AnalysisResult:
    """The body of a command that only runs its declared ``function``: the graph, and the options named like
    its other parameters (a choice as its word); the result printed with the declared columns."""
    import inspect
    from enum import Enum

    function = run.declared.function
    assert function is not None, run.declared.name
    wanted = list(inspect.signature(function).parameters)[1:]
    given = {name: run.values[name] for name in wanted if name in run.values}
    with user_errors():
        return run.emit(function(run.load(), **{k: v.value if isinstance(v, Enum) else v for k, v in given.items()}))


@body("reach")
def reach(run: Run) -> AnalysisResult:
    from ptmgraph.analyses.reach import reach_ranking

    with user_errors():
        result = reach_ranking(run.load(), by=run.by.value, top=run.top)
        columns = list(run.declared.columns)
        if run.by.value == "author":
            columns[1] = "models"
        return run.emit(result, columns)


@body("stale")
def stale(run: Run) -> AnalysisResult:
    from ptmgraph.analyses.staleness import stale_ancestors

    with user_errors():
        lg = run.load(whole=run.model is not None)
        earlier = run.load(run.since, whole=True) if run.since is not None else None
        result = stale_ancestors(lg, run.model, since=earlier)
        return run.emit(result, ["ancestor", "reason", "lag_days", "depth"] if run.model else None)


@body("diff")
def diff(run: Run) -> AnalysisResult:
    from ptmgraph.analyses.diff import diff_snapshots

    watched = model_ids(run.watch, run.watch_from_file, required=False)
    with user_errors():
        result = diff_snapshots(run.load(run.old), run.load(run.new), watched)
        columns = list(run.declared.columns)
        if watched:
            columns.insert(2, "watched")
        return run.emit(result, columns)


@body("history")
def history(run: Run) -> AnalysisResult:
    from ptmgraph.analyses.history import model_history
    from ptmgraph.snapshot_versions import SnapshotError, history_partitions

    with user_errors():
        partitions = history_partitions(run.history_dir)
        if not partitions:
            raise SnapshotError(f"{run.history_dir}: holds no dated snapshot (date=YYYY-MM-DD/)")
        return run.emit(model_history([(day, run.load(path)) for day, path in partitions], run.model))


def iso_date(option: str, value: str | None) -> datetime | None:
    """``value`` of ``option`` as an aware datetime (a day is its midnight; no zone: UTC); exit 2 if it is
    not an ISO date."""
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        fail(f"{option}: not an ISO date (YYYY-MM-DD or YYYY-MM-DDTHH:MM): {value!r}", 2)
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)


@body("risk")
def risk(run: Run) -> AnalysisResult:
    from ptmgraph.analyses.risk import DATA_RISKS, risk

    after = iso_date("--created-after", run.created_after)
    before = iso_date("--created-before", run.created_before)
    if after is not None and before is not None and after >= before:
        fail(f"--created-after {run.created_after} is not before --created-before {run.created_before}", 2)
    named = model_ids(run.compromised, run.from_file, required=False)
    if not named and not run.data_risks:
        fail("give --compromised ID, --from-file FILE or --data-risks", 2)
    with user_errors():
        lg, _ = answering(run.query, run.snapshot, named, "descendants", run.look(), run.declared.reads)
        result = risk(lg, named, data_risks=DATA_RISKS if run.data_risks else (),
                      dependencies=[d.value for d in run.dependency or ()], created_after=after,
                      created_before=before, sort=run.sort.value)
        columns = list(run.declared.columns)
        if after is not None or before is not None:  # the window's answer: when each was made
            columns.append("created_at")
        if result.summary.sources > 1:  # one source is named in the summary and the sources table
            columns[1:1] = ["source", "risk"]
        return run.emit(result, columns)


def waivers(ignore: list[str] | None, baseline: Path | None) -> tuple[list[Any], list[tuple[str, str, str]]]:
    """The ``--ignore`` and ``--baseline`` waivers: exit 2 for an unknown finding, 1 for a bad baseline file."""
    from ptmgraph.analyses.check import Ignore, UnknownFinding
    from ptmgraph.baseline import BaselineError, read_baseline

    try:
        ignores = [Ignore.parse(text) for text in ignore or []]
    except UnknownFinding as e:
        fail(str(e), 2)
    try:
        return ignores, read_baseline(baseline) if baseline is not None else []
    except BaselineError as e:
        fail(str(e))


@body("check")
def check(run: Run) -> AnalysisResult:
    from ptmgraph.analyses.check import check, identities, waive

    checked = model_ids(run.model, run.from_file)
    named = model_ids(run.compromised, run.compromised_file, required=False)
    ignores, accepted = waivers(run.ignore, run.baseline)
    fail_on = run.fail_on.value
    with user_errors():
        lg, _ = answering(run.query, run.snapshot, checked, "ancestors", run.look())
        result = check(lg, checked, compromised=named, fail_on=fail_on,
                       include=[finding.value for finding in run.include or ()], ignore=ignores, baseline=accepted)
        if run.write_baseline is not None:
            from ptmgraph.baseline import write_baseline as write

            found = identities(result.rows)
            write(run.write_baseline, found)
            result = waive(result, fail_on=fail_on, ignore=ignores, baseline=[*accepted, *found])
            note(f"wrote {run.write_baseline}: {plural(len(found), 'finding')}")
        for unmatched in result.summary.unmatched_ignores:
            note(f"ptmgraph: note: --ignore {unmatched} matched no finding")
        columns = list(run.declared.columns)
        if result.summary.waived:
            columns.insert(1, "waived")
        if len(result.summary.models) > 1:
            columns.insert(0, "id")
        return run.emit(result, columns)


@body("report")
def report(run: Run) -> None:
    from ptmgraph.analyses.report import build_report
    from ptmgraph.formats.markdown import ReportError, write_report  # matplotlib loads only for reports

    ignores, accepted = waivers(run.ignore, run.baseline)
    with user_errors():
        try:
            built = build_report(run.load(), top=run.top, min_confidence=run.query.confidence, ignore=ignores,
                                 baseline=accepted)
            files = write_report(built, run.out_dir)
        except ReportError as e:
            fail(str(e))
        note(f"wrote {run.out_dir / files[0].name} and {plural(len(files) - 1, 'figure file')}")
