"""The commands built from the analyses' declarations (:mod:`ptmgraph.declaration`): the one body every
command runs (:func:`default_body`), and the few that do more than print their analysis' answer.

A body gets one :class:`Run`: the option values by parameter name, the query they make and the
command's declaration; it answers (:meth:`Run.answer`: the option values read and prepared as the
declaration says, the snapshot loaded, the declared function called), prints the result and returns it,
and the command exits by the declaration's exit rule (:func:`ptmgraph.cli.build_command`). What is here
besides is what only a command line does: ``ancestry``/``impact``'s trees (one result per model, each
possibly looked up, :func:`~ptmgraph.cli_output.print_lineage`), ``why``'s view, ``check --write-baseline``
and ``report``, which write files.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
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
    from ptmgraph.declaration import Analysis, Option
    from ptmgraph.graph import LineageGraph
    from ptmgraph.lookup import LookupOptions
    from ptmgraph.result import AnalysisResult


@dataclass
class Run:
    """One command line of a declared command: its values (also as attributes), query and declaration;
    ``given`` and ``arguments``: the values as :meth:`answer` read them and the function's arguments."""

    values: dict[str, Any]
    query: Query
    declared: Analysis
    given: dict[str, Any] | None = None
    arguments: dict[str, Any] | None = None

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["values"][name]
        except KeyError:
            raise AttributeError(name) from None

    def load(self, snapshot: Path | None = None) -> LineageGraph:
        """The snapshot's graph (default: ``--snapshot``'s) with the query's edges and the declared columns."""
        return self.query.load(snapshot if snapshot is not None else self.values.get("snapshot"), self.declared.reads)

    def emit(self, result: AnalysisResult, table: Callable[[], None] | None = None) -> AnalysisResult:
        """Print ``result`` in the chosen format: the table view ``table`` (default: the declared view,
        :func:`view`), or the table showing the declaration's columns for this result and these values
        (:meth:`~ptmgraph.declaration.Analysis.columns_for`)."""
        given = self.values
        output = {"csv_raw": given.get("csv_raw", False), "paths": given.get("paths", False)}
        values = self.given or words(given, self.declared.all_options())
        if table is None and self.declared.view is not None:
            table = view(self.declared.view, result, values)
        shown = self.declared.columns_for(result, values)
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

    def answer(self) -> Any:
        """The declared function's answer to this command line, as the declaration says (run within
        :func:`~ptmgraph.cli_output.user_errors`): the option values as words (:func:`words`), each list of
        models joined by the ids of the file option that ``extends`` it, each path kind read
        (:func:`read_paths`), :attr:`~ptmgraph.declaration.Analysis.prepare` run (a ``UsageError``: exit 2),
        then the ``--snapshot`` graph loaded (with the declared columns; a live look-up of the declared
        models it has no record of, :func:`~ptmgraph.cli_output.answering`) and the function called. The
        answer's provenance is that snapshot's (without ``--snapshot``: the last snapshot read)."""
        declared = self.declared
        options = declared.all_options()
        given = words(self.values, options)
        for option in options:
            if option.extends is not None:
                extended = next(o for o in options if o.param == option.extends)
                given[option.extends] = model_ids(given[option.extends], given[option.param],
                                                  required=bool(extended.least))
        given.update(read_paths(self.query, options, given))
        self.given = given
        self.arguments = arguments = declared.arguments(given)
        function = declared.function
        assert function is not None, declared.name
        if not declared.takes_snapshot:
            return function(**arguments)
        snapshot = self.values.get("snapshot")
        if declared.look_up is None:
            lg = self.query.load(snapshot, declared.reads)
        else:
            asked = given[declared.look_up.models]
            models = [asked] if isinstance(asked, str) else list(asked)
            lg, _ = answering(self.query, snapshot, models, declared.look_up.need, self.look(), declared.reads)
        return function(lg, **arguments)


def words(values: dict[str, Any], options: tuple[Option, ...]) -> dict[str, Any]:
    """Option values as an analysis takes them: a choice as its word, a repeatable option as a list (empty
    when not given)."""
    def word(value: Any) -> Any:
        return value.value if isinstance(value, Enum) else value

    given = {name: [word(v) for v in value] if isinstance(value, list | tuple) else word(value)
             for name, value in values.items()}
    given.update({option.param: [] for option in options if option.many and given.get(option.param) is None})
    return given


def view(name: str, result: AnalysisResult, values: dict[str, Any]) -> Callable[[], None]:
    """The table view ``name`` of :mod:`ptmgraph.formats.views` (a declaration's ``view``) drawing ``result``
    on the console, with the option ``values`` named like its keyword parameters."""
    import inspect

    from ptmgraph.formats import views

    draw = getattr(views, name)
    wanted = [p.name for p in inspect.signature(draw).parameters.values() if p.kind is p.KEYWORD_ONLY]
    return lambda: draw(out(), result, **{key: values[key] for key in wanted})


def read_paths(query: Query, options: tuple[Option, ...], given: dict[str, Any]) -> dict[str, Any]:
    """What the options of the path kinds (:data:`ptmgraph.declaration.Kind`) name, by parameter: another
    snapshot's graph, a history's dated graphs, a baseline file's identities. Exit 1 for one that cannot be
    read."""
    read: dict[str, Any] = {}
    for option in options:
        path = given.get(option.param)
        if option.kind == "baseline":
            from ptmgraph.baseline import BaselineError, read_baseline

            try:
                read[option.param] = read_baseline(path) if path is not None else []
            except BaselineError as e:
                fail(str(e))
        elif option.kind == "snapshot" and path is not None:
            read[option.param] = query.load(path)
        elif option.kind == "history" and path is not None:
            from ptmgraph.snapshot_versions import SnapshotError, history_partitions

            partitions = history_partitions(path)
            if not partitions:
                raise SnapshotError(f"{path}: holds no dated snapshot (date=YYYY-MM-DD/)")
            read[option.param] = [(day, query.load(partition)) for day, partition in partitions]
    return read


BODIES: dict[str, Callable[[Run], AnalysisResult | None]] = {}
"""The commands with a body of their own, by name; every other runs :func:`default_body`."""


def body(name: str) -> Callable[[Callable[[Run], AnalysisResult | None]], Callable[[Run], AnalysisResult | None]]:
    def register(function: Callable[[Run], AnalysisResult | None]) -> Callable[[Run], AnalysisResult | None]:
        BODIES[name] = function
        return function

    return register


def default_body(run: Run) -> AnalysisResult:
    """The body of a declared command: its answer (:meth:`Run.answer`) printed with the declared columns."""
    with user_errors():
        return run.emit(run.answer())


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


@body("why")
def why(run: Run) -> AnalysisResult:
    from ptmgraph.analyses.why import why
    from ptmgraph.formats import views
    from ptmgraph.graph import UnknownModelError

    with user_errors():
        look = run.declared.look_up
        assert look is not None
        lg, answered = answering(run.query, run.snapshot, [run.model], look.need, run.look(), run.declared.reads)
        try:
            result = why(lg, run.model, run.ancestor, max_paths=run.max_paths)
        except UnknownModelError:
            if answered == run.snapshot:
                raise
            run.load().resolve(run.ancestor)  # unknown to the snapshot as well: the usage error, with its closest ids
            fail(f"{run.model} does not derive from {run.ancestor}: its whole ancestry, looked up, does not hold it")
        return run.emit(result, table=lambda: views.show_why(screen, result))


@body("check")
def check(run: Run) -> AnalysisResult:
    from ptmgraph.analyses.check import identities, waive

    with user_errors():
        result = run.answer()
        if run.write_baseline is not None:
            from ptmgraph.baseline import write_baseline as write

            found = identities(result.rows)
            write(run.write_baseline, found)
            used = run.arguments or {}
            result = waive(result, fail_on=used["fail_on"], ignore=used["ignore"],
                           baseline=[*used["baseline"], *found])
            note(f"wrote {run.write_baseline}: {plural(len(found), 'finding')}")
        for unmatched in result.summary.unmatched_ignores:
            note(f"ptmgraph: note: --ignore {unmatched} matched no finding")
        return run.emit(result)


@body("report")
def report(run: Run) -> None:
    from ptmgraph.formats.markdown import ReportError, write_report  # matplotlib loads only for reports

    with user_errors():
        built = run.answer()
        try:
            files = write_report(built, run.out_dir)
        except ReportError as e:
            fail(str(e))
        note(f"wrote {run.out_dir / files[0].name} and {plural(len(files) - 1, 'figure file')}")
