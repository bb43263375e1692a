"""The ``ptmgraph`` command line: wires sources, snapshot, graph, analyses and formats together.

The commands are declared here (typer); what they share, and the body of ``ancestry`` and ``impact``,
is :mod:`ptmgraph.cli_output`, which :mod:`ptmgraph.entry` also runs without typer.
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from ptmgraph.cli_conventions import App
from ptmgraph.cli_output import (
    ANY_EDGE,
    MIN_CONFIDENCE,
    PROVENANCE,
    READS,
    ChangesFormat,
    ColorChoice,
    ConfidenceChoice,
    FindingsFormat,
    OutputFormat,
    Query,
    RelationChoice,
    emit,
    emit_table,
    fail,
    load,
    model_ids,
    note,
    out,
    print_lineage,
    screen,
    user_errors,
)
from ptmgraph.words import plural

if TYPE_CHECKING:
    from ptmgraph.formats.subgraph import DrawnGraph

# Everything heavier than typer (polars, networkx, rich, the analyses) is imported inside the commands,
# so that --help, --version and completion start in a fraction of the time (benchmarks/bench_cli_start.py).

app = App(
    name="ptmgraph",
    help="Lineage graphs of pre-trained models: where a model comes from, and what depends on it.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)


class DanglingReasonChoice(str, Enum):
    not_a_string = "not_a_string"
    empty = "empty"
    local_path = "local_path"
    other_site = "other_site"
    invalid_id = "invalid_id"
    not_found = "not_found"
    gated = "gated"
    disabled = "disabled"
    outweighed = "outweighed"
    namespace_mismatch = "namespace_mismatch"


EXPORT_FORMATS = ("svg", "png", "dot", "html", "mermaid", "graphml", "gexf", "json", "cyclonedx")
"""The names of :data:`ptmgraph.formats.registry.GRAPH_FORMATS`."""

SnapshotOption = Annotated[
    Path | None,
    typer.Option("--snapshot", "-s", metavar="DIR", help="Snapshot directory (default: the bundled Hub sample).",
                 show_default=False),
]
FormatOption = Annotated[OutputFormat, typer.Option("--format", "-f", metavar="table|json|csv", help="Output format.")]
LimitOption = Annotated[
    int, typer.Option(min=0, metavar="N", help="Table rows (tree lines) to print (0: all). JSON and CSV are never cut.")
]
RelationOption = Annotated[
    list[RelationChoice] | None,
    typer.Option("--relation", "-r", metavar="RELATION", show_default=False,
                 help="Follow only edges of this relation: finetune, adapter, quantized, merge, unknown "
                 "(repeatable)."),
]
ConfidenceOption = Annotated[
    ConfidenceChoice | None,
    typer.Option(MIN_CONFIDENCE, metavar="low|medium|high", show_default=False,
                 help="Drop edges whose parent confidence is below this (high: the child's card, Hub tags "
                 "or an edge list; medium: the Hub's tree or config files only; low: card prose or the name)."),
]
"""The query option of :func:`query_command`: declared here only."""
ProvenanceOption = Annotated[
    bool,
    typer.Option(PROVENANCE, help="CSV: begin with the answer's provenance as '# key: value' lines (snapshot, "
                 "date, sources, seeds, version, filters); JSON always carries it."),
]
DepthOption = Annotated[
    int | None,
    typer.Option("--max-depth", "--depth", min=1, metavar="N", show_default=False,
                 help="Follow at most this many hops."),
]
CsvRawOption = Annotated[
    bool, typer.Option("--csv-raw", help="CSV: keep cells starting with = + - @ as they are (no leading ').")
]
ModelsArgument = Annotated[
    list[str] | None,
    typer.Argument(metavar="MODEL", show_default=False, help="Model ids (ORG/NAME or a Hub URL)."),
]
ModelsFileOption = Annotated[
    Path | None,
    typer.Option("--from-file", metavar="FILE", show_default=False,
                 help="More model ids, one a line (# comments, ORG/NAME@REVISION accepted)."),
]
FlatOption = Annotated[bool, typer.Option("--flat", help="A table, one row per model, instead of the tree.")]
PathsOption = Annotated[
    bool, typer.Option("--paths", help="JSON and CSV: add each row's relation_path (capped at 32 hops; rows always "
                       "carry depth and via).")
]
ColumnsOption = Annotated[
    str | None,
    typer.Option("--columns", metavar="A,B,...", show_default=False,
                 help="Tree columns, most important first: relation, downloads, license, created, likes, "
                 "confidence (default: relation,downloads,license,created; the last drops first when narrow)."),
]


ANSWER_COLUMNS: dict[str, tuple[str, ...]] = {
    "licenses": ("verdict", "base_license", "license"),
    "risk": ("dependency", "risk"),
    "check": ("severity", "finding", "ancestor"),
    "dangling": ("reason",),
    "audit-relations": ("kind",),
    "stale": ("ancestor", "reason"),
    "reach": ("reach",),
}
"""The columns that answer each command's question, most important first: a table too wide for the
terminal drops its other columns before these (never its first column either; see
:func:`ptmgraph.formats.console.drop_order`). Declared here only."""


def query_command(name: str | None = None) -> Callable[[Callable[..., None]], Any]:
    """``app.command`` for a command that queries the lineage graph. It gets the query options, declared
    once (:data:`ConfidenceOption`, :data:`ProvenanceOption`), right after its ``--snapshot``; the command
    receives them as one :class:`~ptmgraph.cli_output.Query` in its ``query`` parameter, which loads the
    graph with them and holds every filter option given (for the answer's provenance)."""

    def decorate(function: Callable[..., None]) -> Any:
        own = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
               for p in inspect.signature(function, eval_str=True).parameters.values() if p.name != "query"]
        shared = [inspect.Parameter("min_confidence", inspect.Parameter.KEYWORD_ONLY, default=None,
                                    annotation=ConfidenceOption),
                  inspect.Parameter("provenance", inspect.Parameter.KEYWORD_ONLY, default=False,
                                    annotation=ProvenanceOption)]
        at = next((i + 1 for i, p in enumerate(own) if p.name == "snapshot"), len(own))
        parameters = [*own[:at], *shared, *own[at:]]
        defaults = {p.name: p.default for p in parameters}
        names = {p.name: _option_name(p.annotation) for p in parameters}

        @functools.wraps(function)
        def command(**values: Any) -> None:
            query = Query.given(values, defaults, {k: v for k, v in names.items() if v})
            values.pop("min_confidence", None)
            values.pop("provenance", None)
            function(query=query, **values)

        command.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in parameters}
        return app.command(name)(command)

    return decorate


def _option_name(annotation: Any) -> str | None:
    """The first long name of the typer option an ``Annotated`` parameter declares (None: none declared)."""
    for info in getattr(annotation, "__metadata__", ()):
        # typer.Option("--name", ...) inside Annotated: the first name is held as the option's default
        for declared in (getattr(info, "default", None), *(getattr(info, "param_decls", None) or ())):
            if isinstance(declared, str) and declared.startswith("--"):
                return declared
    return None


def _print_version(value: bool) -> None:
    if value:
        from ptmgraph import __version__

        sys.stdout.write(f"ptmgraph {__version__}\n")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit.")
    ] = False,
    color: Annotated[
        ColorChoice, typer.Option("--color", metavar="auto|always|never",
                                  help="Colour and styles (auto: on for a terminal, off with NO_COLOR, on with "
                                  "FORCE_COLOR).")
    ] = ColorChoice.auto,
    no_pager: Annotated[
        bool, typer.Option("--no-pager", help="Never page (by default output longer than the terminal goes "
                           "through $PAGER or less -R).")
    ] = False,
) -> None:
    """Lineage graphs of pre-trained models: where a model comes from, and what depends on it."""
    screen.configure(color=color.value, pager=not no_pager)


@query_command()
def ancestry(
    model: ModelsArgument = None,
    snapshot: SnapshotOption = None,
    fmt: FormatOption = OutputFormat.table,
    limit: LimitOption = 50,
    max_paths: Annotated[int, typer.Option(min=1, metavar="N", help="List at most this many paths to roots.")] = 200,
    csv_raw: CsvRawOption = False,
    relation: RelationOption = None,
    max_depth: DepthOption = None,
    flat: FlatOption = False,
    columns: ColumnsOption = None,
    from_file: ModelsFileOption = None,
    paths: PathsOption = False,
    query: Query = ANY_EDGE,
) -> None:
    """Where MODEL comes from: a tree of its ancestors up to the roots, each with its relation."""
    print_lineage("ancestors", model, from_file, snapshot, query, relation, max_depth,
                  fmt, limit, csv_raw, flat, columns, max_paths=max_paths, paths=paths)


@query_command()
def impact(
    model: ModelsArgument = None,
    relation: RelationOption = None,
    max_depth: DepthOption = None,
    snapshot: SnapshotOption = None,
    fmt: FormatOption = OutputFormat.table,
    limit: LimitOption = 50,
    csv_raw: CsvRawOption = False,
    flat: FlatOption = False,
    columns: ColumnsOption = None,
    from_file: ModelsFileOption = None,
    paths: PathsOption = False,
    query: Query = ANY_EDGE,
) -> None:
    """What depends on MODEL: a tree of every transitive descendant (the blast radius), most downloaded first."""
    print_lineage("descendants", model, from_file, snapshot, query, relation, max_depth,
                  fmt, limit, csv_raw, flat, columns, paths=paths)


@query_command()
def info(
    model: Annotated[str, typer.Argument(metavar="MODEL", help="Model id (ORG/NAME or a Hub URL).")],
    snapshot: SnapshotOption = None,
    fmt: FormatOption = OutputFormat.table,
    limit: LimitOption = 50,
    csv_raw: CsvRawOption = False,
    children: Annotated[
        int, typer.Option("--children", min=0, metavar="N", help="Children shown per relation (0: all).")
    ] = 10,
    query: Query = ANY_EDGE,
) -> None:
    """MODEL's record, its parents with the evidence of each edge, and its children by relation."""
    from ptmgraph import analyses
    from ptmgraph.formats import views

    with user_errors():
        result = analyses.model_info(query.load(snapshot), model)
        emit(result, fmt, limit, lambda: views.print_model_info(out(), result, children=children), csv_raw=csv_raw)



@query_command()
def why(
    model: Annotated[str, typer.Argument(metavar="MODEL", help="The derived model (ORG/NAME or a Hub URL).")],
    ancestor: Annotated[str, typer.Argument(metavar="ANCESTOR", help="The ancestor it may derive from.")],
    snapshot: SnapshotOption = None,
    fmt: FormatOption = OutputFormat.table,
    max_paths: Annotated[
        int, typer.Option("--max-paths", min=1, metavar="N", help="List at most this many paths (merges multiply "
                          "them).")
    ] = 20,
    csv_raw: CsvRawOption = False,
    query: Query = ANY_EDGE,
) -> None:
    """Every path by which MODEL derives from ANCESTOR, hop by hop with each edge's relation and evidence;
    exit 1 when there is none."""
    from ptmgraph import analyses
    from ptmgraph.formats import views

    with user_errors():
        result = analyses.why(query.load(snapshot), model, ancestor, max_paths=max_paths)
        emit(result, fmt, 0, lambda: views.show_why(screen, result), csv_raw=csv_raw)
    if not result.summary["paths"]:
        raise typer.Exit(1)


@app.command()
def search(
    text: Annotated[str, typer.Argument(metavar="QUERY", help="Part of an id, an author, or a Hub tag.")],
    snapshot: SnapshotOption = None,
    fmt: FormatOption = OutputFormat.table,
    limit: LimitOption = 20,
    csv_raw: CsvRawOption = False,
) -> None:
    """Models whose id contains QUERY, whose author is QUERY or that carry the tag QUERY, most downloaded first."""
    from ptmgraph import analyses

    if not text.strip():
        fail("give some text to search for", 2)
    with user_errors():
        result = analyses.search(load(snapshot), text)
        columns = ["id", "downloads", "matched", "pipeline_tag", "license", "likes"]
        emit_table(result, fmt, limit, columns, csv_raw=csv_raw)


@app.command(name="list")
def list_command(
    author: Annotated[str, typer.Option("--author", metavar="ORG", help="The user or organisation.")],
    snapshot: SnapshotOption = None,
    fmt: FormatOption = OutputFormat.table,
    limit: LimitOption = 50,
    csv_raw: CsvRawOption = False,
) -> None:
    """The models of one author, most downloaded first."""
    from ptmgraph import analyses

    with user_errors():
        result = analyses.list_models(load(snapshot), author)
        columns = ["id", "downloads", "pipeline_tag", "license", "likes"]
        emit_table(result, fmt, limit, columns, csv_raw=csv_raw)


@query_command()
def stats(
    snapshot: SnapshotOption = None,
    fmt: FormatOption = OutputFormat.table,
    limit: LimitOption = 0,
    csv_raw: CsvRawOption = False,
    query: Query = ANY_EDGE,
) -> None:
    """Counts: models, edges by relation and evidence, dangling references, roots, depths, components."""
    from ptmgraph import analyses

    with user_errors():
        emit(analyses.stats(query.load(snapshot, READS["stats"])), fmt, limit, csv_raw=csv_raw)


@app.command()
def dangling(
    reason: Annotated[
        DanglingReasonChoice | None,
        typer.Option(metavar="REASON", show_default=False,
                     help="Only this reason: " + ", ".join(r.value for r in DanglingReasonChoice) + "."),
    ] = None,
    snapshot: SnapshotOption = None,
    fmt: FormatOption = OutputFormat.table,
    limit: LimitOption = 50,
    csv_raw: CsvRawOption = False,
) -> None:
    """References that could not become edges (local paths, other sites, deleted or private models)."""
    from ptmgraph import analyses

    with user_errors():
        result = analyses.dangling(load(snapshot), reason=reason.value if reason else None)
        columns = ["id", "reason", "raw", "field", "source"]
        emit_table(result, fmt, limit, columns, csv_raw=csv_raw, answer=ANSWER_COLUMNS["dangling"])


@app.command()
def problems(
    snapshot: SnapshotOption = None,
    fmt: FormatOption = OutputFormat.table,
    limit: LimitOption = 50,
    csv_raw: CsvRawOption = False,
) -> None:
    """Input that was read but not usable: broken model-card YAML, bad JSON lines, unreadable files."""
    from ptmgraph import analyses

    with user_errors():
        emit(analyses.problems(load(snapshot)), fmt, limit, csv_raw=csv_raw)


@query_command("audit-relations")
def audit_relations(
    snapshot: SnapshotOption = None,
    fmt: FormatOption = OutputFormat.table,
    limit: LimitOption = 50,
    csv_raw: CsvRawOption = False,
    query: Query = ANY_EDGE,
) -> None:
    """Edges where the Hub's relation label disagrees with the weights the child ships, counted by kind."""
    from ptmgraph import analyses

    with user_errors():
        result = analyses.audit_relations(query.load(snapshot))

        emit_table(result, fmt, limit, ["id", "kind", "downloads"], csv_raw=csv_raw,
                   answer=ANSWER_COLUMNS["audit-relations"])


@query_command()
def licenses(
    snapshot: SnapshotOption = None,
    fmt: FormatOption = OutputFormat.table,
    limit: LimitOption = 50,
    query: Query = ANY_EDGE,
) -> None:
    """Licence drift: edges whose derived model states another licence than its base, or none under a
    base whose licence must be passed on, with a verdict."""
    from ptmgraph import analyses

    with user_errors():
        result = analyses.license_drift(query.load(snapshot))
        columns = ["id", "base", "base_license", "license", "verdict"]
        emit_table(result, fmt, limit, columns, answer=ANSWER_COLUMNS["licenses"])


@query_command()
def audit(
    snapshot: SnapshotOption = None,
    fmt: FormatOption = OutputFormat.table,
    limit: LimitOption = 20,
    query: Query = ANY_EDGE,
) -> None:
    """Missing attributes (licence, base_model, datasets, task, library, evaluation, card) and their
    rates; edges whose declared, Hub and inferred relations disagree."""
    from ptmgraph import analyses

    with user_errors():
        result = analyses.completeness(query.load(snapshot))
        columns = ["n_missing", "id", "missing"]
        emit_table(result, fmt, limit, columns)


class ReachBy(str, Enum):
    model = "model"
    author = "author"


@query_command("reach")
def reach_command(
    by: Annotated[ReachBy, typer.Option("--by", help="Rank models, or authors by the union of their models' reach.")]
    = ReachBy.model,
    top: Annotated[int, typer.Option(min=0, help="Rank the top N (0: all).")] = 20,
    snapshot: SnapshotOption = None,
    fmt: FormatOption = OutputFormat.table,
    limit: LimitOption = 50,
    query: Query = ANY_EDGE,
) -> None:
    """Fan-out and reach: direct and transitive dependents (each once), downloads-weighted, and their spread."""
    from ptmgraph import analyses

    with user_errors():
        # a million models: read the two columns the ranking shows, not the whole models table
        result = analyses.reach_ranking(query.load(snapshot, READS["reach"]), by=by.value, top=top)
        columns = ["id", "models" if by is ReachBy.author else "direct_dependents", "reach", "reach_downloads",
                   "downloads_unknown"]
        emit_table(result, fmt, limit, columns, answer=ANSWER_COLUMNS["reach"])


@query_command()
def stale(
    model: Annotated[
        str | None, typer.Argument(metavar="MODEL", help="Model id (default: every model).", show_default=False)
    ] = None,
    snapshot: SnapshotOption = None,
    fmt: FormatOption = OutputFormat.table,
    limit: LimitOption = 50,
    since: Annotated[
        Path | None,
        typer.Option("--since", metavar="OLD_SNAPSHOT", show_default=False,
                     help="Only ancestors that changed after this earlier snapshot (what changed since I looked)."),
    ] = None,
    query: Query = ANY_EDGE,
) -> None:
    """Stale ancestors: bases whose weights (or only card) changed after the model was made, with a newer
    version, or unavailable (disabled or not found; gated is not)."""
    from ptmgraph import analyses

    with user_errors():
        lg = query.load(snapshot, None if model else READS["stale"])
        earlier = query.load(since) if since is not None else None
        result = analyses.stale_ancestors(lg, model, since=earlier)
        columns = ["ancestor", "reason", "lag_days", "depth"] if model else ["id", "ancestor", "reason", "lag_days"]
        emit_table(result, fmt, limit, columns, answer=ANSWER_COLUMNS["stale"])


@query_command()
def diff(
    old: Annotated[Path, typer.Argument(metavar="OLD", help="The earlier snapshot directory.")],
    new: Annotated[Path, typer.Argument(metavar="NEW", help="The later snapshot directory.")],
    watch: Annotated[
        list[str] | None,
        typer.Option("--watch", "-w", metavar="MODEL", show_default=False,
                     help="Flag changes to this model and its descendants; exit 1 if any (repeatable)."),
    ] = None,
    watch_from_file: Annotated[
        Path | None,
        typer.Option("--watch-from-file", metavar="FILE", show_default=False,
                     help="More models to watch, one id a line (# comments, ORG/NAME@REVISION accepted)."),
    ] = None,
    fmt: Annotated[
        ChangesFormat, typer.Option("--format", "-f", metavar="table|json|csv|markdown", help="Output format.")
    ] = ChangesFormat.table,
    limit: LimitOption = 50,
    csv_raw: CsvRawOption = False,
    query: Query = ANY_EDGE,
) -> None:
    """What changed from OLD to NEW: models and edges added and removed, relation, licence, access and
    weight-file changes, new and removed descendants of --watch models; exit 1 when a watched one changed."""
    from ptmgraph import analyses

    watched = model_ids(watch, watch_from_file, required=False)
    with user_errors():
        result = analyses.diff_snapshots(query.load(old), query.load(new), watched)
        columns = ["change", "id", "old", "new", "base", "watch", "detail"]  # by priority: the last drops first
        if watched:
            columns.insert(2, "watched")
        emit_table(result, fmt, limit, columns, csv_raw=csv_raw)
    if result.summary["watched_changes"]:
        raise typer.Exit(1)


@query_command()
def history(
    model: Annotated[str, typer.Argument(metavar="MODEL", help="Model id (ORG/NAME or a Hub URL).")],
    history_dir: Annotated[
        Path, typer.Option("--history", metavar="DIR", help="The history: dated snapshots DIR/date=YYYY-MM-DD/.")
    ],
    fmt: Annotated[
        ChangesFormat, typer.Option("--format", "-f", metavar="table|json|csv|markdown", help="Output format.")
    ] = ChangesFormat.table,
    limit: LimitOption = 0,
    csv_raw: CsvRawOption = False,
    query: Query = ANY_EDGE,
) -> None:
    """How MODEL's parents, licence, access, downloads and reach changed across the dated snapshots of a
    history (written by ingest or crawl --history DIR)."""
    from ptmgraph import analyses
    from ptmgraph.snapshot import SnapshotError, history_partitions

    with user_errors():
        partitions = history_partitions(history_dir)
        if not partitions:
            raise SnapshotError(f"{history_dir}: holds no dated snapshot (date=YYYY-MM-DD/)")
        result = analyses.model_history([(day, query.load(path)) for day, path in partitions], model)
        columns = ["date", "parents", "license", "access", "downloads", "reach", "changed", "present"]
        emit_table(result, fmt, limit, columns, csv_raw=csv_raw)


CompromisedOption = Annotated[
    list[str] | None,
    typer.Option("--compromised", "-c", metavar="MODEL", help="A model to treat as compromised (repeatable).",
                 show_default=False),
]
FromFileOption = Annotated[
    Path | None,
    typer.Option("--from-file", metavar="FILE", show_default=False,
                 help="More compromised models, one id a line (# comments, ORG/NAME@REVISION accepted)."),
]


class DependencyChoice(str, Enum):
    runtime_code = "runtime_code"
    runtime = "runtime"
    inherited = "inherited"


class RiskSort(str, Enum):
    downloads = "downloads"
    depth = "depth"
    id = "id"


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


@query_command()
def risk(
    compromised: CompromisedOption = None,
    from_file: FromFileOption = None,
    data_risks: Annotated[
        bool, typer.Option("--data-risks", help="Also spread pickle-only weights, missing and conflicting licences, "
                     "files the Hub's scan calls unsafe.")
    ] = False,
    dependency: Annotated[
        list[DependencyChoice] | None,
        typer.Option("--dependency", metavar="KIND", show_default=False,
                     help="Only affected models of this dependency kind: runtime_code, runtime, inherited "
                     "(repeatable)."),
    ] = None,
    created_after: Annotated[
        str | None, typer.Option("--created-after", metavar="DATE", show_default=False,
                                 help="Only affected models created on or after this day (ISO, YYYY-MM-DD).")
    ] = None,
    created_before: Annotated[
        str | None, typer.Option("--created-before", metavar="DATE", show_default=False,
                                 help="Only affected models created before this day (ISO, YYYY-MM-DD).")
    ] = None,
    sort: Annotated[
        RiskSort, typer.Option("--sort", metavar="downloads|depth|id",
                               help="Row order: most downloaded, nearest, or by id.")
    ] = RiskSort.downloads,
    snapshot: SnapshotOption = None,
    fmt: FormatOption = OutputFormat.table,
    limit: LimitOption = 50,
    paths: PathsOption = False,
    query: Query = ANY_EDGE,
) -> None:
    """Everything a risky model puts at risk, most downloaded first; exit 1 if anything is affected."""
    from ptmgraph import analyses

    after = iso_date("--created-after", created_after)
    before = iso_date("--created-before", created_before)
    if after is not None and before is not None and after >= before:
        fail(f"--created-after {created_after} is not before --created-before {created_before}", 2)
    named = model_ids(compromised, from_file, required=False)
    if not named and not data_risks:
        fail("give --compromised ID, --from-file FILE or --data-risks", 2)
    with user_errors():
        result = analyses.risk(query.load(snapshot, READS["risk"]), named,
                               data_risks=analyses.DATA_RISKS if data_risks else (),
                               dependencies=[d.value for d in dependency or ()], created_after=after,
                               created_before=before, sort=sort.value)
        columns = ["id", "depth", "relation_path", "dependency", "downloads"]
        if after is not None or before is not None:  # the window's answer: when each was made
            columns.append("created_at")
        if result.summary["sources"] > 1:  # one source is named in the summary and the sources table
            columns[1:1] = ["source", "risk"]
        emit_table(result, fmt, limit, columns, paths=paths, answer=ANSWER_COLUMNS["risk"])
    if result.rows.height:
        raise typer.Exit(1)


IgnoreOption = Annotated[
    list[str] | None,
    typer.Option("--ignore", metavar="FINDING[:MODEL]", show_default=False,
                 help="Waive findings of this kind (about MODEL only: the ancestor the finding names); "
                 "listed as waived, never failing (repeatable)."),
]
BaselineOption = Annotated[
    Path | None,
    typer.Option("--baseline", metavar="FILE", show_default=False,
                 help="Waive the findings listed in this baseline file (written by check --write-baseline)."),
]


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


class FailOn(str, Enum):
    low = "low"
    medium = "medium"
    high = "high"


class OptInFinding(str, Enum):
    restricted = "restricted"
    card_updated = "card_updated"


@query_command()
def check(
    models: ModelsArgument = None,
    fail_on: Annotated[FailOn, typer.Option("--fail-on", help="Exit 1 on a finding at this severity or above.")]
    = FailOn.low,
    compromised: CompromisedOption = None,
    from_file: ModelsFileOption = None,
    snapshot: SnapshotOption = None,
    fmt: Annotated[
        FindingsFormat, typer.Option("--format", "-f", metavar="table|json|csv|sarif", help="Output format.")
    ] = FindingsFormat.table,
    limit: LimitOption = 50,
    compromised_file: Annotated[
        Path | None,
        typer.Option("--compromised-from-file", metavar="FILE", show_default=False,
                     help="More compromised models, one id a line."),
    ] = None,
    include: Annotated[
        list[OptInFinding] | None,
        typer.Option("--include", metavar="FINDING", show_default=False,
                     help="Also report this opt-in finding (repeatable): restricted (gated with manual "
                          "approval), card_updated (only an ancestor's card or other files changed)."),
    ] = None,
    ignore: IgnoreOption = None,
    baseline: BaselineOption = None,
    write_baseline: Annotated[
        Path | None,
        typer.Option("--write-baseline", metavar="FILE", show_default=False,
                     help="Write every finding of this run to a baseline file (then waived: exit 0)."),
    ] = None,
    query: Query = ANY_EDGE,
) -> None:
    """Lineage findings of each model (stale, risky, unavailable or compromised ancestors, licence drift,
    files the Hub's scan calls unsafe, dangling references, pickle-only weights), each with a severity;
    exit 1 at --fail-on or above."""
    from ptmgraph import analyses
    from ptmgraph.analyses.check import identities, waive

    checked = model_ids(models, from_file)
    named = model_ids(compromised, compromised_file, required=False)
    ignores, accepted = waivers(ignore, baseline)
    with user_errors():
        result = analyses.check(query.load(snapshot), checked, compromised=named, fail_on=fail_on.value,
                                include=[finding.value for finding in include or ()],
                                ignore=ignores, baseline=accepted)
        if write_baseline is not None:
            from ptmgraph.baseline import write_baseline as write

            found = identities(result.rows)
            write(write_baseline, found)
            result = waive(result, fail_on=fail_on.value, ignore=ignores, baseline=[*accepted, *found])
            note(f"wrote {write_baseline}: {plural(len(found), 'finding')}")
        for unmatched in result.summary["unmatched_ignores"]:
            note(f"ptmgraph: note: --ignore {unmatched} matched no finding")
        columns = ["severity", "finding", "ancestor", "detail"]
        if result.summary["waived"]:
            columns.insert(1, "waived")
        if len(result.summary["models"]) > 1:
            columns.insert(0, "id")
        emit_table(result, fmt, limit, columns, answer=ANSWER_COLUMNS["check"])
    if result.summary["failed"]:
        raise typer.Exit(1)


@query_command()
def report(
    out_dir: Annotated[
        Path, typer.Option("--out", "-o", metavar="DIR", help="Report directory to write.")
    ] = Path("outputs/report"),
    top: Annotated[int, typer.Option(min=1, help="Rows in each ranked table.")] = 20,
    snapshot: SnapshotOption = None,
    ignore: IgnoreOption = None,
    baseline: BaselineOption = None,
    query: Query = ANY_EDGE,
) -> None:
    """Write a Markdown report with tables and figures (PNG and SVG) about a whole snapshot."""
    from ptmgraph import analyses
    from ptmgraph.formats.markdown import ReportError, write_report  # matplotlib loads only for reports

    ignores, accepted = waivers(ignore, baseline)
    with user_errors():
        try:
            lg = query.load(snapshot)
            report = analyses.build_report(lg, top=top, min_confidence=query.confidence, ignore=ignores,
                                           baseline=accepted)
            files = write_report(report, out_dir)
        except ReportError as e:
            fail(str(e))
        note(f"wrote {out_dir / files[0].name} and {plural(len(files) - 1, 'figure file')}")


ExportFormat = Enum("ExportFormat", {name: name for name in EXPORT_FORMATS}, type=str)  # type: ignore[misc]
"""The ``--format`` choices of ``export``: the registry's formats."""
RankDir = Enum("RankDir", {name: name for name in ("TB", "LR", "BT", "RL")}, type=str)  # type: ignore[misc]

ExportFormatOption = Annotated[
    ExportFormat | None,
    typer.Option(
        "--format", "-f", show_default=False, help="Output format (default: from the --out file name, else svg)."
    ),
]
MaxNodesOption = Annotated[
    int | None,
    typer.Option(min=0, show_default=False,
                 help="Draw at most this many models; the rest are counted in '+N more' nodes "
                 "(0: no limit; default: 32 for pictures, no limit for HTML, GraphML, GEXF, JSON and CycloneDX)."),
]
MaxPerDepthOption = Annotated[
    int | None,
    typer.Option(min=0, show_default=False,
                 help="Draw at most this many models at one depth (0: no limit; default: 8 for pictures)."),
]
TitleOption = Annotated[
    str | None, typer.Option(metavar="TITLE", show_default=False,
                             help="The title to write instead of the analysis's own.")
]
SubtitleOption = Annotated[
    str | None,
    typer.Option(metavar="LINE", show_default=False,
                 help="The line under the title instead of the default (what is shown of how many models)."),
]
RankdirOption = Annotated[
    RankDir | None,
    typer.Option(show_default=False, help="Layout direction, base first (default: LR for impact, TB otherwise)."),
]


def _write_export(
    model: str | None, out_file: str | None, name: str | None, *,
    direction: Literal["ancestry", "impact", "both", "snapshot"],
    max_nodes: int | None, max_per_depth: int | None, rankdir: str | None, relation: list[RelationChoice] | None,
    max_depth: int | None, snapshot: Path | None, query: Query, title: str | None = None,
    subtitle: str | None = None,
) -> None:
    """Draw ``model``'s subgraph in the chosen format and write it (see :mod:`ptmgraph.formats.registry`);
    ``title`` and ``subtitle`` replace the default title and caption. The whole-snapshot explorer (``--all``
    as HTML) sizes models by reach: each drawn model gets its ``reach`` (:func:`ptmgraph.analyses.reach.model_reach`)
    as an attribute."""
    from dataclasses import replace

    from ptmgraph import analyses
    from ptmgraph.formats import choose_format, lineage_subgraph, write_graph
    from ptmgraph.formats.subgraph import combine, snapshot_subgraph, with_file_hashes

    with user_errors():
        fmt = choose_format(name, Path(out_file) if out_file is not None else None)
        lg = query.load(snapshot)
        relations = {r.value for r in relation or []} or None
        nodes_cap = (fmt.default_max_nodes if max_nodes is None else max_nodes) or sys.maxsize  # 0: no limit
        depth_cap = fmt.max_per_depth if max_per_depth is None else max_per_depth
        drawn: DrawnGraph | None = None
        titles = []
        if model is None:
            drawn = snapshot_subgraph(lg, max_nodes=nodes_cap, relations=relations)
            which = f" ({', '.join(sorted(relations))} edges)" if relations else ""
            titles.append(f"The snapshot's lineage graph{which}")
        elif direction in ("ancestry", "both"):
            up = analyses.ancestry(lg, model)
            drawn = lineage_subgraph(lg, up, direction="ancestry", max_nodes=nodes_cap, max_per_depth=depth_cap)
            titles.append(up.title)
        if model is not None and direction in ("impact", "both"):
            down = analyses.impact(lg, model, relations=relations, max_depth=max_depth)
            below = lineage_subgraph(
                lg, down, direction="impact", relations=relations, max_nodes=nodes_cap, max_per_depth=depth_cap
            )
            drawn = below if drawn is None else combine(drawn, below)
            titles.append(down.title)
        assert drawn is not None
        if model is None and fmt.name == "html":
            from ptmgraph.analyses.reach import model_reach

            drawn = _with_reach(drawn, dict(model_reach(lg).select("id", "reach").iter_rows()))
        if out_file is None:
            stem = direction if drawn.focus is None else f"{direction}-{drawn.focus.replace('/', '__')}"
            out_file = str(Path("outputs") / f"{stem}{fmt.extensions[0]}")
        if fmt.file_hashes:
            drawn = with_file_hashes(lg, drawn)
        caption = drawn.caption
        if subtitle is not None:
            drawn = replace(drawn, caption=subtitle)
        written = write_graph(drawn, out_file, fmt.name, " / ".join(titles) if title is None else title,
                              rankdir=rankdir)
        note(f"wrote {written or 'standard output'}: {caption}")


def _with_reach(drawn: DrawnGraph, reach: dict[str, int]) -> DrawnGraph:
    from dataclasses import replace

    nodes = tuple(
        replace(n, attributes={**n.attributes, "reach": reach[n.key]}) if n.kind != "more" and n.key in reach else n
        for n in drawn.nodes
    )
    return replace(drawn, nodes=nodes)


@query_command()
def export(
    model: Annotated[
        str | None, typer.Argument(metavar="MODEL", help="Model id (ORG/NAME or a Hub URL); none with --all.",
                                   show_default=False)
    ] = None,
    out_file: Annotated[
        str | None,
        typer.Option("--out", "-o", metavar="FILE", help="File to write, '-' for standard output "
                     "(default: outputs/DIRECTION-ORG__NAME.EXT)."),
    ] = None,
    show_ancestry: Annotated[bool, typer.Option("--ancestry", help="Draw where MODEL comes from.")] = False,
    show_impact: Annotated[bool, typer.Option("--impact", help="Draw what depends on MODEL.")] = False,
    show_all: Annotated[
        bool, typer.Option("--all", help="Draw the whole snapshot (its edges of the --relation given).")
    ] = False,
    fmt: ExportFormatOption = None,
    max_nodes: MaxNodesOption = None,
    max_per_depth: MaxPerDepthOption = None,
    rankdir: RankdirOption = None,
    title: TitleOption = None,
    subtitle: SubtitleOption = None,
    relation: RelationOption = None,
    max_depth: DepthOption = None,
    snapshot: SnapshotOption = None,
    query: Query = ANY_EDGE,
) -> None:
    """Draw MODEL's ancestry, impact or both (give both flags), or with --all the whole snapshot, as a
    picture, a graph file, an ML-BOM or HTML."""
    if show_all and (model is not None or show_ancestry or show_impact):
        fail("--all draws the whole snapshot: give no MODEL, --ancestry or --impact with it", 2)
    if not show_all and (model is None or not (show_ancestry or show_impact)):
        fail("give MODEL and --ancestry, --impact or both; or --all for the whole snapshot", 2)
    direction: Literal["ancestry", "impact", "both", "snapshot"] = (
        "snapshot" if show_all else
        "both" if show_ancestry and show_impact else "ancestry" if show_ancestry else "impact"
    )
    _write_export(model, out_file, fmt.value if fmt else None, direction=direction, max_nodes=max_nodes,
                  max_per_depth=max_per_depth, rankdir=rankdir.value if rankdir else None, relation=relation,
                  max_depth=max_depth, snapshot=snapshot, query=query, title=title, subtitle=subtitle)

@query_command()
def explore(
    model: Annotated[
        str | None, typer.Argument(metavar="MODEL", help="Model id (ORG/NAME or a Hub URL); none with --all.",
                                   show_default=False)
    ] = None,
    out_file: Annotated[
        str | None, typer.Option("--out", "-o", metavar="FILE", help="HTML file to write (default: "
                                 "outputs/both-ORG__NAME.html; outputs/snapshot.html with --all).")
    ] = None,
    show_all: Annotated[
        bool,
        typer.Option("--all", help="Draw every model of the snapshot (WebGL; coloured by relation, sized by reach)."),
    ] = False,
    max_nodes: MaxNodesOption = None,
    relation: RelationOption = None,
    max_depth: DepthOption = None,
    snapshot: SnapshotOption = None,
    query: Query = ANY_EDGE,
) -> None:
    """Write one offline HTML file to explore MODEL's ancestry and impact (depths left to right, each depth's
    models in clusters by relation that open on click), or with --all the whole snapshot: pan, zoom, search,
    click."""
    if show_all == (model is not None):
        fail("give MODEL, or --all for the whole snapshot", 2)
    _write_export(model, out_file, "html", direction="snapshot" if show_all else "both", max_nodes=max_nodes,
                  max_per_depth=None, rankdir=None, relation=relation, max_depth=max_depth, snapshot=snapshot,
                  query=query)


HistoryOption = Annotated[
    Path | None,
    typer.Option("--history", metavar="DIR", show_default=False,
                 help="Also keep the snapshot in this history, as DIR/date=YYYY-MM-DD/ (plain Parquet, written once)."),
]
HistoryDateOption = Annotated[
    str | None,
    typer.Option("--history-date", metavar="YYYY-MM-DD", show_default=False,
                 help="The day to file the snapshot under in --history (default: today, UTC)."),
]


def _history_slot(history: Path | None, day: str | None) -> str | None:
    """The ``--history`` day, checked before any work: exit 2 for a bad date, 1 for a day already kept."""
    if history is None:
        if day is not None:
            fail("--history-date needs --history DIR", 2)
        return None
    from datetime import datetime, timezone

    from ptmgraph.snapshot import SnapshotError, history_partition

    day = day or datetime.now(timezone.utc).strftime("%Y-%m-%d")
    try:
        datetime.strptime(day, "%Y-%m-%d")
    except ValueError:
        fail(f"--history-date must be a date (YYYY-MM-DD), not {day!r}", 2)
    try:
        history_partition(history, day)
    except SnapshotError as e:
        fail(str(e))
    return day


def _keep_in_history(out_dir: Path, history: Path | None, day: str | None) -> None:
    if history is None or day is None:
        return
    from ptmgraph.snapshot import add_to_history

    partition = add_to_history(out_dir, history, day)
    note(f"kept it in the history as {partition}")


@app.command()
def ingest(
    sources: Annotated[
        list[Path], typer.Argument(metavar="SOURCE", show_default=False,
                                   help="Hub record files or folders, edge lists, model repos.")
    ],
    out_dir: Annotated[
        Path | None, typer.Option("--out", "-o", metavar="DIR", show_default=False,
                                  help="Snapshot directory to write (a snapshot of other sources only with "
                                  "--replace).")
    ] = None,
    add: Annotated[
        Path | None, typer.Option("--add", metavar="DIR", show_default=False,
                                  help="Add the sources to this snapshot: its recorded sources and these, "
                                  "ingested again together.")
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace a snapshot that was built from other sources.")
    ] = False,
    kind: Annotated[
        str | None, typer.Option(metavar="KIND", show_default=False,
                                 help="Force the input kind: hub-records, edge-list or local.")
    ] = None,
    namespace: Annotated[
        str | None, typer.Option(metavar="ORG", show_default=False,
                                 help="Local repos: the namespace of flat folders (NAME/ -> ORG/NAME) whose "
                                 "config.json does not name their Hub id.")
    ] = None,
    history: HistoryOption = None,
    history_date: HistoryDateOption = None,
) -> None:
    """Build a snapshot from files: Hub API records, READMEs, model trees, edge lists, local repos or the HF cache."""
    from ptmgraph import snapshot as snapshot_io
    from ptmgraph.assemble import assemble_tables
    from ptmgraph.records import HarvestTables
    from ptmgraph.sources import Input, open_input, recorded_inputs
    from ptmgraph.sources.interface import harvest_tables

    if (out_dir is None) == (add is None):
        fail("give --out DIR (a new snapshot) or --add DIR (add to one), not both", 2)
    if namespace is not None and not _namespace_ok(namespace):
        fail(f"--namespace {namespace!r}: not a Hub user or organisation name", 2)
    target = out_dir if out_dir is not None else add
    assert target is not None
    day = _history_slot(history, history_date)
    with user_errors():
        meta = snapshot_io.stored_meta(target)
        opened = [open_input(Input.of(path, kind, namespace)) for path in sources]
        inputs = [given for given, _ in opened]
        if add is not None:
            if meta is None:
                fail(f"--add {add}: not a ptmgraph snapshot; make one with --out {add}")
            stored = recorded_inputs(meta, add)
            opened = [*(open_input(given) for given in stored), *((i, s) for i, s in opened if i not in stored)]
            inputs = [given for given, _ in opened]
        elif meta is not None and not replace:
            recorded = meta.get("inputs")
            before = {Input.from_meta(value) for value in recorded} if isinstance(recorded, list) else None
            if before != set(inputs):
                made = ("; ".join(i.describe() for i in before if i is not None) if before else
                        "; ".join(str(s) for s in meta.get("sources") or []) or "sources not recorded")
                now = "; ".join(i.describe() for i in inputs)
                fail(f"{target}: holds a snapshot of other sources ({made}), not of {now}; give --replace to "
                     f"replace it, or --add {target} SOURCE... to add sources to it")
        tables = HarvestTables.concat([harvest_tables(source) for _, source in opened])
        snap = assemble_tables(tables, consume=True, text_lists=False)
        snap.meta["inputs"] = [i.as_meta() for i in inputs]
        snapshot_io.save(snap, target)
        note(f"wrote snapshot {target}: {plural(snap.models.height, 'model')}, {plural(snap.edges.height, 'edge')}, "
             f"{plural(snap.dangling.height, 'dangling reference')}, {plural(snap.problems.height, 'problem')}")
        _keep_in_history(target, history, day)


def _namespace_ok(namespace: str) -> bool:
    from ptmgraph.ids import normalize_reference

    return "/" not in namespace and normalize_reference(namespace + "/x").id == namespace + "/x"


_LONGEST_SECONDS = 30 * 24 * 3600
"""The longest time any crawl option may give (30 days): every wait stays a finite sleep the system can do."""


@app.command()
def crawl(
    out_dir: Annotated[Path, typer.Option("--out", "-o", metavar="DIR", help="Snapshot directory to write.")],
    root: Annotated[
        list[str] | None, typer.Option("--root", metavar="MODEL", show_default=False,
                                       help="Crawl the descendants of this model (repeatable).")
    ] = None,
    author: Annotated[
        str | None, typer.Option(metavar="ORG", help="Bulk listing: models of this user or organisation.")
    ] = None,
    search: Annotated[
        str | None, typer.Option(metavar="QUERY", help="Bulk listing: models whose id contains this text.")
    ] = None,
    sort: Annotated[
        str | None, typer.Option(metavar="FIELD",
                                 help="Bulk listing order: downloads, likes, created_at, last_modified, ...")
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Bulk listing: at most this many models.")] = None,
    max_depth: Annotated[
        int | None, typer.Option("--max-depth", min=0, help="List children at most this many hops from a seed.")
    ] = None,
    max_models: Annotated[
        int, typer.Option(min=1, help="Stop after this many models (a partial snapshot, exit 3; resumable).")
    ] = 100_000,
    endpoint: Annotated[
        str | None,
        typer.Option(metavar="URL", help="Hub URL (default: HF_ENDPOINT or huggingface.co); user:password@ in it "
                     "is sent as Basic "
                     "credentials to that host only."),
    ] = None,
    token_for_endpoint: Annotated[
        bool, typer.Option(help="Send the token stored by the huggingface_hub login to --endpoint too (by default "
                           "it goes only to https://huggingface.co and https://hf.co).")
    ] = False,
    state_dir: Annotated[
        Path | None,
        typer.Option(metavar="DIR", help="Where progress is kept for resuming (default: OUT.crawl); a new or empty "
                     "directory, or "
                     "one a crawl made."),
    ] = None,
    fetch_files: Annotated[
        str,
        typer.Option(metavar="auto|all|never",
                     help="auto: lineage files only of roots and bases that name no base; all: also every "
                     "adapter_config.json (a request each); never."),
    ] = "auto",
    check_bases: Annotated[
        bool, typer.Option(help="Look up bases outside the crawl; missing ones become dangling references.")
    ] = False,
    ancestors: Annotated[
        bool, typer.Option(help="Also follow the bases' bases up to the roots (with --max-depth 0: ancestry only).")
    ] = False,
    file_commits: Annotated[
        bool, typer.Option(help="Read each file's last commit, sha256 and the Hub's security scan, for every model "
                           "with children (one request each; none per leaf): stale then tells weights from card edits.")
    ] = False,
    keep_state: Annotated[bool, typer.Option(help="Keep the state directory after a successful crawl.")] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar on stderr.")] = True,
    timeout: Annotated[
        float, typer.Option(min=0.1, help="Seconds without data before a request is retried (read timeout).")
    ] = 60.0,
    connect_timeout: Annotated[float, typer.Option(min=0.1, help="Seconds to open a connection.")] = 10.0,
    max_wait: Annotated[
        float, typer.Option(min=0, help="Longest (s) the Hub may make one request wait (Retry-After, RateLimit), "
                            "its waits together; longer: stop, resumable.")
    ] = 300.0,
    max_pages: Annotated[int, typer.Option(min=1, help="Pages read per listing (1,000 models a page).")] = 10_000,
    workers: Annotated[int, typer.Option(min=1, max=32, help="Requests in flight at once.")] = 8,
    request_deadline: Annotated[
        float, typer.Option(min=0.1, help="Seconds one request may take, retries included (waits the Hub asks "
                            "for come on top); then the crawl stops, resumable.")
    ] = 120.0,
    deadline: Annotated[
        float, typer.Option(min=0.1, help="Seconds the crawl may run; then it stops, resumable.")
    ] = 21_600.0,
    max_requests: Annotated[
        int, typer.Option(min=1, help="HTTP requests one run may send; then it stops, resumable.")
    ] = 250_000,
    max_journal_bytes: Annotated[
        int, typer.Option(min=1, help="Bytes the state directory's journal may reach; then the crawl stops.")
    ] = 1 << 30,
    history: HistoryOption = None,
    history_date: HistoryDateOption = None,
) -> None:
    """Crawl the Hub (or HF_ENDPOINT): descendants of --root models and/or a bulk listing. Resumable.

    The token comes from HF_TOKEN or the huggingface_hub login (that one is sent only to the Hub itself unless
    --token-for-endpoint), and is never printed or stored. Exit 3: a partial snapshot (listings or records
    not read, or --max-models reached).
    """
    from ptmgraph.sources.hub_api import FETCH_FILES, Limits
    from ptmgraph.sources.hub_api import crawl as crawl_hub

    seconds = {"--timeout": timeout, "--connect-timeout": connect_timeout, "--max-wait": max_wait,
               "--request-deadline": request_deadline, "--deadline": deadline}
    for name, value in seconds.items():
        if not value <= _LONGEST_SECONDS:  # also NaN
            fail(f"{name} must be a number of seconds up to {_LONGEST_SECONDS:,}, not {value}", 2)
    if not root and not (author or search or limit):
        fail("give --root, or a bulk listing with --author, --search or --limit", 2)
    if fetch_files not in FETCH_FILES:
        fail(f"--fetch-files must be one of {', '.join(FETCH_FILES)}, not {fetch_files!r}", 2)
    day = _history_slot(history, history_date)
    limits = Limits(connect_timeout=connect_timeout, read_timeout=timeout, max_wait=max_wait, max_pages=max_pages,
                    workers=workers, request_deadline=request_deadline, deadline=deadline, max_requests=max_requests,
                    max_journal_bytes=max_journal_bytes)
    with user_errors():
        result = crawl_hub(
            root or [], out_dir, endpoint=endpoint, max_depth=max_depth, max_models=max_models,
            fetch_files=fetch_files,  # type: ignore[arg-type]
            state_dir=state_dir, progress=progress, check_bases=check_bases, ancestors=ancestors,
            keep_state=keep_state, token_for_endpoint=token_for_endpoint,
            author=author, search=search, sort=sort, limit=limit, limits=limits, file_commits=file_commits,
        )
        st = result.stats
        lines = [
            f"wrote {'' if result.complete else 'a partial '}snapshot {out_dir}: "
            f"{plural(int(st['models']), 'model')} from "
            f"{plural(int(st['parents_listed']), 'listing')}; {plural(int(st['requests']), 'HTTP request')} "
            f"({st['retries_429']:,} rate-limited, {plural(int(st['retries_5xx']), 'server error')}, "
            f"{plural(int(st['retries_other']), 'timeout or broken reply', 'timeouts or broken replies')} retried) in "
            f"{st['seconds']:.1f} s"
            + (f"; file listings of {plural(int(st['file_listings']), 'model')} with children" if file_commits else "")]
        if result.state_kept and not keep_state and not st["truncated"]:
            lines.append(f"kept the state directory {result.state_dir}: it holds files the crawl did not write")
        partial = []
        if st["listings_failed"] or st["records_failed"]:
            partial.append(f"{plural(int(st['listings_failed']), 'listing')} and "
                           f"{plural(int(st['records_failed']), 'record')} could not be read "
                           f"in full (`ptmgraph problems --snapshot {out_dir}` says why)")
        if st["truncated"]:
            partial.append(f"stopped at --max-models {max_models}; the state directory {result.state_dir} is kept: "
                           "the same command with a larger --max-models goes on")
        if partial:
            lines.append("ptmgraph: partial crawl: " + "; ".join(partial))
        for line in lines:
            note(line)
        if result.complete:
            _keep_in_history(out_dir, history, day)
        elif history is not None:
            note("ptmgraph: the partial snapshot was not added to the history")
    if not result.complete:
        raise SystemExit(3)


def main() -> None:  # pragma: no cover - console entry point
    app()
