"""The ``ptmgraph`` command line: wires sources, snapshot, graph, analyses and formats together."""

from __future__ import annotations

import io
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import IO, Annotated, Literal, NoReturn, cast

import polars as pl
import typer
from rich.console import Console

import analyses
from ptmgraph import snapshot as snapshot_io
from ptmgraph.assemble import assemble
from ptmgraph.formats import console as console_format
from ptmgraph.formats.csv_table import result_to_csv
from ptmgraph.formats.json_doc import result_to_json
from ptmgraph.formats.registry import GRAPH_FORMATS
from ptmgraph.graph import UnknownModelError, load_graph
from ptmgraph.records import Harvest, Relation
from ptmgraph.relations import Confidence
from ptmgraph.result import AnalysisResult
from ptmgraph.snapshot import SnapshotError
from ptmgraph.sources import SourceError

app = typer.Typer(
    name="ptmgraph",
    help="Lineage graphs of pre-trained models: where a model comes from, and what depends on it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class OutputError(Exception):
    """Standard output could not take what was written (a full disk, a closed pipe, an I/O error)."""


class _CheckedStdout(io.TextIOBase):
    """The current ``sys.stdout``, whose write errors raise :class:`OutputError` (rich lets them escape raw)."""

    def write(self, text: str) -> int:
        try:
            return sys.stdout.write(text)
        except OSError as e:
            raise OutputError(e) from None

    def flush(self) -> None:
        try:
            sys.stdout.flush()
        except OSError as e:
            raise OutputError(e) from None

    def isatty(self) -> bool:
        return sys.stdout.isatty()

    def fileno(self) -> int:
        return sys.stdout.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return sys.stdout.encoding


stdout = _CheckedStdout()
# Not a terminal (a pipe, CI): rich would assume 80 columns and fold ids; COLUMNS still wins.
out = Console(file=cast(IO[str], stdout), soft_wrap=False, width=shutil.get_terminal_size((140, 40)).columns)
err = Console(stderr=True)


class OutputFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


SnapshotOption = Annotated[
    Path | None,
    typer.Option("--snapshot", "-s", help="Snapshot directory (default: the bundled Hub sample).", show_default=False),
]
FormatOption = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]
LimitOption = Annotated[int, typer.Option(help="Table rows to print (0: all). JSON and CSV are never cut.")]
RelationOption = Annotated[
    list[Relation] | None,
    typer.Option("--relation", "-r", help="Follow only edges of this relation (repeatable).", show_default=False),
]
ConfidenceOption = Annotated[
    Confidence | None,
    typer.Option("--min-confidence", help="Drop edges below this confidence (high: declared or Hub-labelled, "
                 "medium: config or card prose, low: name only).", show_default=False),
]
DepthOption = Annotated[int | None, typer.Option("--max-depth", min=1, help="Follow at most this many hops.")]
CsvRawOption = Annotated[
    bool, typer.Option("--csv-raw", help="CSV: keep cells starting with = + - @ as they are (no leading ').")
]


def _print_version(value: bool) -> None:
    if value:
        from ptmgraph import __version__

        out.print(f"ptmgraph {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Lineage graphs of pre-trained models: where a model comes from, and what depends on it."""


def fail(message: str, code: int = 1) -> NoReturn:
    """One line on stderr, then exit non-zero."""
    err.print(f"[red]ptmgraph: error:[/red] {console_format.printable(message)}", markup=True, highlight=False,
              soft_wrap=True)
    raise typer.Exit(code)


def write_stdout(text: str) -> None:
    """Write ``text`` to standard output in 1 MiB pieces, then flush; any failure raises :class:`OutputError`."""
    piece = 1 << 20
    for start in range(0, len(text), piece):
        stdout.write(text[start : start + piece])
    stdout.flush()


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn the errors users cause into one-line messages and exit codes (2: unknown model)."""
    from ptmgraph.formats import ExportError  # the export layer is optional for the other commands

    try:
        yield
        stdout.flush()
    except (OutputError, BrokenPipeError) as e:
        cause = e.args[0] if isinstance(e, OutputError) else e
        if isinstance(cause, BrokenPipeError):
            # The reader went away (`| head`): exit as a process killed by SIGPIPE would, without a message,
            # and point stdout at nothing so the interpreter's last flush cannot fail again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(141) from None
        fail(f"cannot write the output to standard output ({getattr(cause, 'strerror', None) or cause})")
    except UnknownModelError as e:
        fail(str(e).replace("[", r"\["), 2)
    except (SnapshotError, SourceError, ExportError) as e:
        fail(str(e).replace("[", r"\["))
    except OSError as e:
        # The system refused a file (permissions, a path that vanished, a full disk): the machine's or the
        # input's fault, not a bug of ours.
        where = f"{e.filename}: " if e.filename else ""
        fail(f"{where}{e.strerror or type(e).__name__}".replace("[", r"\["))
    except KeyboardInterrupt:
        fail("interrupted", 130)
    except (typer.Exit, typer.Abort):
        raise
    except Exception as e:
        # A bug of ours, not the user's input: one line by default, the traceback on request.
        if os.environ.get("PTMGRAPH_DEBUG"):
            raise
        fail(f"internal error: {type(e).__name__}: {str(e)[:300]} (set PTMGRAPH_DEBUG=1 for the traceback)", 70)


def emit(
    result: AnalysisResult,
    fmt: OutputFormat,
    limit: int,
    table: Callable[[], None] | None = None,
    *,
    csv_raw: bool = False,
) -> None:
    if fmt is OutputFormat.json:
        write_stdout(result_to_json(result) + "\n")
    elif fmt is OutputFormat.csv:
        write_stdout(result_to_csv(result, raw=csv_raw))
    elif table is not None:
        table()
    else:
        console_format.print_result(out, result, limit=limit)


@app.command()
def ancestry(
    model: Annotated[str, typer.Argument(help="Model id (ORG/NAME or a Hub URL).")],
    snapshot: SnapshotOption = None,
    min_confidence: ConfidenceOption = None,
    fmt: FormatOption = OutputFormat.table,
    limit: LimitOption = 50,
    max_paths: Annotated[int, typer.Option(min=1, help="List at most this many paths to roots.")] = 200,
    csv_raw: CsvRawOption = False,
) -> None:
    """Where MODEL comes from: every ancestor, its depth and relation, the paths to each root."""
    with user_errors():
        lg = load_graph(snapshot, min_confidence=min_confidence)
        result = analyses.ancestry(lg, model, max_paths=max_paths)

        def table() -> None:
            console_format.print_summary(out, result)
            out.print(console_format.ancestry_tree(lg, result.summary["model"]))
            if result.rows.height:
                columns = ["id", "depth", "relation", "via", "is_root", "license", "created_at"]
                out.print(console_format.frame_table(result.rows.select(columns), limit=limit))
                paths = result.tables["paths"].select(
                    "root", "length", pl.col("path").list.join(" -> ").alias("path (root first)")
                )
                out.print(console_format.frame_table(paths, title="paths to the roots", limit=limit))

        emit(result, fmt, limit, table, csv_raw=csv_raw)


@app.command()
def impact(
    model: Annotated[str, typer.Argument(help="Model id (ORG/NAME or a Hub URL).")],
    relation: RelationOption = None,
    max_depth: DepthOption = None,
    snapshot: SnapshotOption = None,
    min_confidence: ConfidenceOption = None,
    fmt: FormatOption = OutputFormat.table,
    limit: LimitOption = 50,
    csv_raw: CsvRawOption = False,
) -> None:
    """What depends on MODEL: every transitive descendant (the blast radius), by depth and relation."""
    with user_errors():
        lg = load_graph(snapshot, min_confidence=min_confidence)
        result = analyses.impact(lg, model, relations=[r.value for r in relation or []], max_depth=max_depth)

        def table() -> None:
            columns = ["id", "depth", "relation_path", "via", "downloads", "likes", "spaces", "license"]
            console_format.print_result(out, result, limit=limit, columns=columns)

        emit(result, fmt, limit, table, csv_raw=csv_raw)


@app.command()
def info(
    model: Annotated[str, typer.Argument(help="Model id (ORG/NAME or a Hub URL).")],
    snapshot: SnapshotOption = None,
    min_confidence: ConfidenceOption = None,
    fmt: FormatOption = OutputFormat.table,
    limit: LimitOption = 50,
    csv_raw: CsvRawOption = False,
) -> None:
    """MODEL's record, its direct parents and children, and the evidence for each edge."""
    with user_errors():
        result = analyses.model_info(load_graph(snapshot, min_confidence=min_confidence), model)

        def table() -> None:
            console_format.print_summary(out, result)
            views = result.rows.select(
                "id",
                "direction",
                "relation",
                pl.col("relation_rule").alias("decided by"),
                "confidence",
                pl.concat_str(
                    [pl.col(c).fill_null("-") for c in ("declared_relation", "hub_relation", "inferred_relation")],
                    separator=" / ",
                ).alias("declared / hub / inferred"),
                pl.col("evidence").list.join("\n"),
            )
            out.print(console_format.frame_table(views, limit=limit))

        emit(result, fmt, limit, table, csv_raw=csv_raw)


@app.command()
def stats(
    snapshot: SnapshotOption = None,
    min_confidence: ConfidenceOption = None,
    fmt: FormatOption = OutputFormat.table,
    limit: LimitOption = 0,
    csv_raw: CsvRawOption = False,
) -> None:
    """Counts: models, edges by relation and evidence, dangling references, roots, depths, components."""
    with user_errors():
        emit(analyses.stats(load_graph(snapshot, min_confidence=min_confidence)), fmt, limit, csv_raw=csv_raw)


@app.command()
def dangling(
    reason: Annotated[
        str | None, typer.Option(help="Only this reason: local_path, other_site, empty, not_a_string, invalid_id, ...")
    ] = None,
    snapshot: SnapshotOption = None,
    fmt: FormatOption = OutputFormat.table,
    limit: LimitOption = 50,
    csv_raw: CsvRawOption = False,
) -> None:
    """References that could not become edges (local paths, other sites, deleted or private models)."""
    with user_errors():
        emit(analyses.dangling(load_graph(snapshot), reason=reason), fmt, limit, csv_raw=csv_raw)


@app.command()
def problems(
    snapshot: SnapshotOption = None,
    fmt: FormatOption = OutputFormat.table,
    limit: LimitOption = 50,
    csv_raw: CsvRawOption = False,
) -> None:
    """Input that was read but not usable: broken model-card YAML, bad JSON lines, unreadable files."""
    with user_errors():
        emit(analyses.problems(load_graph(snapshot)), fmt, limit, csv_raw=csv_raw)


@app.command("audit-relations")
def audit_relations(
    snapshot: SnapshotOption = None,
    min_confidence: ConfidenceOption = None,
    fmt: FormatOption = OutputFormat.table,
    limit: LimitOption = 50,
    csv_raw: CsvRawOption = False,
) -> None:
    """Edges where the Hub's relation label disagrees with the weights the child ships, counted by kind."""
    with user_errors():
        result = analyses.audit_relations(load_graph(snapshot, min_confidence=min_confidence))

        def table() -> None:
            columns = ["id", "kind", "downloads"]
            console_format.print_result(out, result, limit=limit, columns=columns)

        emit(result, fmt, limit, table, csv_raw=csv_raw)


@app.command()
def licenses(
    snapshot: SnapshotOption = None,
    min_confidence: ConfidenceOption = None,
    fmt: FormatOption = OutputFormat.table,
    limit: LimitOption = 50,
) -> None:
    """Licence drift: edges whose derived model states another licence than its base, with a verdict."""
    with user_errors():
        result = analyses.license_drift(load_graph(snapshot, min_confidence=min_confidence))
        columns = ["id", "base", "base_license", "license", "verdict"]
        emit(result, fmt, limit, lambda: console_format.print_result(out, result, limit=limit, columns=columns))


@app.command()
def audit(
    snapshot: SnapshotOption = None,
    min_confidence: ConfidenceOption = None,
    fmt: FormatOption = OutputFormat.table,
    limit: LimitOption = 20,
) -> None:
    """Missing attributes (licence, base_model, datasets, task, library, evaluation, card) and their
    rates; edges whose declared, Hub and inferred relations disagree."""
    with user_errors():
        result = analyses.completeness(load_graph(snapshot, min_confidence=min_confidence))
        columns = ["n_missing", "id", "missing"]
        emit(result, fmt, limit, lambda: console_format.print_result(out, result, limit=limit, columns=columns))


class ReachBy(str, Enum):
    model = "model"
    author = "author"


@app.command(name="reach")
def reach_command(
    by: Annotated[ReachBy, typer.Option("--by", help="Rank models, or authors by the union of their models' reach.")]
    = ReachBy.model,
    top: Annotated[int, typer.Option(min=0, help="Rank the top N (0: all).")] = 20,
    snapshot: SnapshotOption = None,
    fmt: FormatOption = OutputFormat.table,
    limit: LimitOption = 50,
) -> None:
    """Fan-out and reach: direct and transitive dependents (each once), downloads-weighted, and their spread."""
    with user_errors():
        result = analyses.reach_ranking(load_graph(snapshot), by=by.value, top=top)
        columns = ["id", "models" if by is ReachBy.author else "direct_dependents", "reach", "reach_downloads"]
        emit(result, fmt, limit, lambda: console_format.print_result(out, result, limit=limit, columns=columns))


@app.command()
def stale(
    model: Annotated[str | None, typer.Argument(help="Model id (default: every model).", show_default=False)] = None,
    snapshot: SnapshotOption = None,
    fmt: FormatOption = OutputFormat.table,
    limit: LimitOption = 50,
) -> None:
    """Stale ancestors: bases updated after the model was made, with a newer version, or unavailable."""
    with user_errors():
        result = analyses.stale_ancestors(load_graph(snapshot), model)
        columns = ["ancestor", "reason", "lag_days", "depth"] if model else ["id", "ancestor", "reason", "lag_days"]
        emit(result, fmt, limit, lambda: console_format.print_result(out, result, limit=limit, columns=columns))


def _ids_from_file(path: Path) -> list[str]:
    """Model ids, one a line; blank lines and ``#`` comments skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        fail(f"cannot read {path}: {e}")
    return [line.split("#", 1)[0].strip() for line in text.splitlines() if line.split("#", 1)[0].strip()]


CompromisedOption = Annotated[
    list[str] | None,
    typer.Option("--compromised", "-c", help="A model to treat as compromised (repeatable).", show_default=False),
]
FromFileOption = Annotated[
    Path | None, typer.Option("--from-file", help="More compromised models, one id a line.", show_default=False)
]


@app.command()
def risk(
    compromised: CompromisedOption = None,
    from_file: FromFileOption = None,
    data_risks: Annotated[
        bool, typer.Option("--data-risks", help="Also spread pickle-only weights, missing and conflicting licences.")
    ] = False,
    snapshot: SnapshotOption = None,
    fmt: FormatOption = OutputFormat.table,
    limit: LimitOption = 50,
) -> None:
    """Everything a risky model puts at risk, most downloaded first; exit 1 if anything is affected."""
    named = [*(compromised or []), *(_ids_from_file(from_file) if from_file else [])]
    if not named and not data_risks:
        fail("give --compromised ID, --from-file FILE or --data-risks", 2)
    with user_errors():
        result = analyses.risk(load_graph(snapshot), named, data_risks=analyses.DATA_RISKS if data_risks else ())
        columns = ["id", "depth", "relation_path", "dependency", "downloads"]
        if result.summary["sources"] > 1:  # one source is named in the summary and the sources table
            columns[1:1] = ["source", "risk"]
        emit(result, fmt, limit, lambda: console_format.print_result(out, result, limit=limit, columns=columns))
    if result.rows.height:
        raise typer.Exit(1)


class FailOn(str, Enum):
    low = "low"
    medium = "medium"
    high = "high"


@app.command()
def check(
    models: Annotated[list[str], typer.Argument(help="Model ids to check.")],
    fail_on: Annotated[FailOn, typer.Option("--fail-on", help="Exit 1 on a finding at this severity or above.")]
    = FailOn.low,
    compromised: CompromisedOption = None,
    from_file: FromFileOption = None,
    snapshot: SnapshotOption = None,
    fmt: FormatOption = OutputFormat.table,
    limit: LimitOption = 50,
) -> None:
    """Lineage findings of each model (stale, risky or compromised ancestors, licence drift, dangling
    references, pickle-only weights), each with a severity; exit 1 at --fail-on or above."""
    named = [*(compromised or []), *(_ids_from_file(from_file) if from_file else [])]
    with user_errors():
        result = analyses.check(load_graph(snapshot), models, compromised=named, fail_on=fail_on.value)
        columns = ["severity", "finding", "ancestor", "detail"]
        if len(result.summary["models"]) > 1:
            columns.insert(0, "id")
        emit(result, fmt, limit, lambda: console_format.print_result(out, result, limit=limit, columns=columns))
    if result.summary["failed"]:
        raise typer.Exit(1)


@app.command()
def report(
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Report directory to write.")] = Path("outputs/report"),
    top: Annotated[int, typer.Option(min=1, help="Rows in each ranked table.")] = 20,
    snapshot: SnapshotOption = None,
    min_confidence: ConfidenceOption = None,
) -> None:
    """Write a Markdown report with tables and figures (PNG and SVG) about a whole snapshot."""
    from ptmgraph.formats.markdown import ReportError, write_report  # matplotlib loads only for reports

    with user_errors():
        try:
            lg = load_graph(snapshot, min_confidence=min_confidence)
            confidence = min_confidence.value if min_confidence else None
            files = write_report(analyses.build_report(lg, top=top, min_confidence=confidence), out_dir)
        except ReportError as e:
            fail(str(e).replace("[", r"\["))
        err.print(f"wrote {out_dir / files[0].name} and {len(files) - 1} figure files", highlight=False, markup=False)


ExportFormat = Enum("ExportFormat", {name: name for name in GRAPH_FORMATS}, type=str)  # type: ignore[misc]
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
                 help="Draw at most this many models; the rest are summarised "
                 "(0: no limit; default: 32 for pictures, 150 for data and HTML)."),
]
MaxPerDepthOption = Annotated[
    int | None,
    typer.Option(min=0, show_default=False,
                 help="Draw at most this many models at one depth (0: no limit; default: 8 for pictures)."),
]
RankdirOption = Annotated[
    RankDir | None,
    typer.Option(show_default=False, help="Layout direction, base first (default: LR for impact, TB otherwise)."),
]


def _write_export(
    model: str | None, out_file: str | None, name: str | None, *,
    direction: Literal["ancestry", "impact", "both", "snapshot"],
    max_nodes: int | None, max_per_depth: int | None, rankdir: str | None, relation: list[Relation] | None,
    max_depth: int | None, snapshot: Path | None, min_confidence: Confidence | None,
) -> None:
    """Draw ``model``'s subgraph in the chosen format and write it (see :mod:`ptmgraph.formats.registry`)."""
    from ptmgraph.formats import choose_format, lineage_subgraph, write_graph
    from ptmgraph.formats.subgraph import DrawnGraph, combine, snapshot_subgraph

    with user_errors():
        fmt = choose_format(name, Path(out_file) if out_file is not None else None)
        lg = load_graph(snapshot, min_confidence=min_confidence)
        relations = {r.value for r in relation or []} or None
        nodes_cap = fmt.default_max_nodes if max_nodes is None else max_nodes or sys.maxsize  # 0: no limit
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
        if out_file is None:
            stem = direction if drawn.focus is None else f"{direction}-{drawn.focus.replace('/', '__')}"
            out_file = str(Path("outputs") / f"{stem}{fmt.extensions[0]}")
        written = write_graph(drawn, out_file, fmt.name, " / ".join(titles), rankdir=rankdir)
        err.print(f"wrote {written or 'standard output'}: {drawn.caption}", highlight=False, markup=False)


@app.command()
def export(
    model: Annotated[
        str | None, typer.Argument(help="Model id (ORG/NAME or a Hub URL); none with --all.", show_default=False)
    ] = None,
    out_file: Annotated[
        str | None,
        typer.Option("--out", "-o", help="File to write, '-' for standard output "
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
    relation: RelationOption = None,
    max_depth: DepthOption = None,
    snapshot: SnapshotOption = None,
    min_confidence: ConfidenceOption = None,
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
                  max_depth=max_depth, snapshot=snapshot, min_confidence=min_confidence)

@app.command()
def explore(
    model: Annotated[str, typer.Argument(help="Model id (ORG/NAME or a Hub URL).")],
    out_file: Annotated[
        str | None, typer.Option("--out", "-o", help="HTML file to write (default: outputs/both-ORG__NAME.html).")
    ] = None,
    max_nodes: MaxNodesOption = None,
    relation: RelationOption = None,
    max_depth: DepthOption = None,
    snapshot: SnapshotOption = None,
    min_confidence: ConfidenceOption = None,
) -> None:
    """Write one offline HTML file to explore MODEL's ancestry and impact: pan, zoom, search, filter, click."""
    _write_export(model, out_file, "html", direction="both", max_nodes=max_nodes, max_per_depth=None,
                  rankdir=None, relation=relation, max_depth=max_depth, snapshot=snapshot,
                  min_confidence=min_confidence)


@app.command()
def ingest(
    sources: Annotated[list[Path], typer.Argument(help="Hub record files or folders, edge lists, model repos.")],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Snapshot directory to write.")],
    kind: Annotated[str | None, typer.Option(help="Force the input kind: hub-records, edge-list or local.")] = None,
) -> None:
    """Build a snapshot from files: Hub API records, READMEs, model trees, edge lists, local repos or the HF cache."""
    from ptmgraph.sources import open_source

    with user_errors():
        harvest = Harvest()
        for path in sources:
            harvest.extend(open_source(path, kind).harvest())
        snap = assemble(harvest)
        snapshot_io.save(snap, out_dir)
        err.print(
            f"wrote snapshot {out_dir}: {snap.models.height} models, {snap.edges.height} edges, "
            f"{snap.dangling.height} dangling references, {snap.problems.height} problems",
            highlight=False,
        )


@app.command()
def crawl(
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Snapshot directory to write.")],
    root: Annotated[
        list[str] | None, typer.Option("--root", help="Crawl the descendants of this model (repeatable).")
    ] = None,
    author: Annotated[str | None, typer.Option(help="Bulk listing: models of this user or organisation.")] = None,
    search: Annotated[str | None, typer.Option(help="Bulk listing: models whose id contains this text.")] = None,
    sort: Annotated[
        str | None, typer.Option(help="Bulk listing order: downloads, likes, created_at, last_modified, ...")
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Bulk listing: at most this many models.")] = None,
    max_depth: Annotated[
        int | None, typer.Option("--max-depth", min=0, help="List children at most this many hops from a seed.")
    ] = None,
    max_models: Annotated[int | None, typer.Option(min=1, help="Stop after this many models.")] = None,
    endpoint: Annotated[str | None, typer.Option(help="Hub URL (default: HF_ENDPOINT or huggingface.co).")] = None,
    state_dir: Annotated[
        Path | None, typer.Option(help="Where progress is kept for resuming (default: OUT.crawl).")
    ] = None,
    fetch_files: Annotated[
        str, typer.Option(help="auto: fetch adapter_config/config/README when they add lineage; never.")
    ] = "auto",
    check_bases: Annotated[
        bool, typer.Option(help="Look up bases outside the crawl; missing ones become dangling references.")
    ] = False,
    ancestors: Annotated[
        bool, typer.Option(help="Also follow the bases' bases up to the roots (with --max-depth 0: ancestry only).")
    ] = False,
    keep_state: Annotated[bool, typer.Option(help="Keep the state directory after a successful crawl.")] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar on stderr.")] = True,
) -> None:
    """Crawl the Hub (or HF_ENDPOINT): descendants of --root models and/or a bulk listing. Resumable.

    The token comes from HF_TOKEN or the huggingface_hub login, and is never printed or stored.
    """
    from ptmgraph.sources.hub_api import crawl as crawl_hub

    if not root and not (author or search or limit):
        fail("give --root, or a bulk listing with --author, --search or --limit", 2)
    if fetch_files not in ("auto", "never"):
        fail(f"--fetch-files must be auto or never, not {fetch_files!r}", 2)
    with user_errors():
        result = crawl_hub(
            root or [], out_dir, endpoint=endpoint, max_depth=max_depth, max_models=max_models,
            fetch_files=fetch_files,  # type: ignore[arg-type]
            state_dir=state_dir, progress=progress, check_bases=check_bases, ancestors=ancestors,
            keep_state=keep_state,
            author=author, search=search, sort=sort, limit=limit,
        )
        st = result.stats
        err.print(
            f"wrote snapshot {out_dir}: {st['models']} models from {st['parents_listed']} listings; "
            f"{st['requests']} HTTP requests ({st['retries_429']} rate-limited, {st['retries_5xx']} server errors "
            f"retried) in {st['seconds']:.1f} s",
            highlight=False,
        )


def main() -> None:  # pragma: no cover - console entry point
    app()
