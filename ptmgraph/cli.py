"""The ``ptmgraph`` command line: wires sources, snapshot, graph, analyses and formats together.

The analyses' commands are built from their declarations (``COMMANDS`` in each ``analyses/*.py``, see
:mod:`ptmgraph.declaration`), each when it runs. :data:`ptmgraph.cli_index.COMMANDS` holds their names,
help and options (written from the declarations), so that ``--help`` and usage errors import no
analysis; ``--format`` offers the result formats that serve each command's rows (the registry's, above
the analyses: :func:`ptmgraph.cli_output.with_formats`); :mod:`ptmgraph.cli_commands` runs each command as
its declaration says, and holds the few bodies of its own. The commands that
draw (``export``, ``explore``) and build snapshots (``ingest``, ``crawl``) are declared here. What every
command shares is :mod:`ptmgraph.cli_output`, which :mod:`ptmgraph.entry` also runs without typer.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import replace
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from ptmgraph.cli_commands import BODIES, Run, default_body
from ptmgraph.cli_conventions import CONTEXT_SETTINGS, App, PlainCommand, PlainGroup, declared
from ptmgraph.cli_index import COMMANDS
from ptmgraph.cli_output import Query, fail, note, screen, user_errors, with_formats
from ptmgraph.declaration import MAX_DEPTH, RELATION, SNAPSHOT, Analysis, ColorChoice, Option
from ptmgraph.vocabulary import Relation
from ptmgraph.words import plural

if TYPE_CHECKING:
    from ptmgraph.formats.subgraph import DrawnGraph
    from ptmgraph.result import AnalysisResult

# Everything heavier than typer (polars, networkx, rich, the analyses) is imported inside the commands,
# so that --help, --version and completion start in a fraction of the time (benchmarks/bench_cli_start.py).


def declaration(name: str) -> Analysis:
    """The declaration of the analysis command ``name`` (imports its analysis)."""
    # the import statement's machinery (importlib.import_module bypasses it: python -X importtime would not see it)
    module = __import__(f"ptmgraph.analyses.{COMMANDS[name][0]}", fromlist=["COMMANDS"])
    return next(declared for declared in module.COMMANDS if declared.name == name)


def command_function(declared_as: Analysis, body: Callable[[Run], AnalysisResult | None],
                     run_as: Callable[[], Analysis] | None = None) -> Callable[..., None]:
    """The typer function of a declared command: its options as parameters; it runs ``body`` with them and
    their query, then exits 1 when the declaration's exit rule (``fails``) holds for the result.
    ``run_as``: the whole declaration, read when the command runs (``declared_as`` is then the index's)."""
    options = declared_as.all_options()

    def command(**values: Any) -> None:
        whole = run_as() if run_as is not None else declared_as
        result = body(Run(values, Query.given(values, options), whole))
        if result is not None and whole.fails is not None and whole.fails(result):
            raise typer.Exit(1)

    return declared(command, options)


def single_command(declared_as: Analysis, body: Callable[[Run], AnalysisResult | None],
                   run_as: Callable[[], Analysis] | None = None) -> Any:
    """The command ``declared_as`` declares, running ``body``."""
    single = typer.Typer(add_completion=False, rich_markup_mode=None)
    single.command(declared_as.name, help=declared_as.help, cls=PlainCommand, context_settings=CONTEXT_SETTINGS)(
        command_function(declared_as, body, run_as))
    return typer.main.get_command(single)


def build_command(name: str) -> Any:
    """The analysis command ``name``: its options and help from the index (:mod:`ptmgraph.cli_index`, the
    declarations' own, so that ``--help`` and a usage error import no analysis), ``--format`` choosing among
    the result formats that serve its rows (:func:`ptmgraph.cli_output.with_formats`), its body
    (:mod:`ptmgraph.cli_commands`) run with the whole declaration, read from its module when it runs."""
    indexed = indexed_command(name)
    return single_command(indexed, BODIES.get(name, default_body), lambda: declaration(name))


def indexed_command(name: str) -> Analysis:
    """What the index holds of the analysis command ``name``, its ``--format`` choices filled in."""
    _, indexed = COMMANDS[name]
    return replace(indexed, options=with_formats(indexed.options, indexed.rows))


class Group(PlainGroup):
    """The program's commands: the analyses' are built when asked for (see the module docstring)."""

    def build(self, name: str) -> Any:
        return drawing(name) if name in DRAWINGS else build_command(name)


app = App(
    group=Group,
    name="ptmgraph",
    help="Lineage graphs of pre-trained models: where a model comes from, and what depends on it.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)


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
            "    from ptmgraph.cli import command_index\n\n"
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


RankDir = Enum("RankDir", {name: name for name in ("TB", "LR", "BT", "RL")}, type=str)  # type: ignore[misc]

DRAWN_MODEL = Option(("MODEL",), "model", "Model id (ORG/NAME or a Hub URL); none with --all.", argument=True)
MAX_NODES = Option(("--max-nodes",), "max_nodes", "Draw at most this many models; the rest are counted in '+N more' "
                   "nodes (0: no limit; default: 32 for pictures, no limit for HTML, GraphML, GEXF, JSON and "
                   "CycloneDX).", "int", least=0)
EXPORT = Analysis(
    "export", "Draw MODEL's ancestry, impact or both (give both flags), or with --all the whole snapshot, as a "
    "picture, a graph file, an ML-BOM or HTML.",
    (DRAWN_MODEL,
     Option(("--out", "-o"), "out_file", "File to write, '-' for standard output (default: "
            "outputs/DIRECTION-ORG__NAME.EXT).", metavar="FILE"),
     Option(("--ancestry",), "show_ancestry", "Draw where MODEL comes from.", "flag", False),
     Option(("--impact",), "show_impact", "Draw what depends on MODEL.", "flag", False),
     Option(("--all",), "show_all", "Draw the whole snapshot (its edges of the --relation given).", "flag", False),
     Option(("--format", "-f"), "fmt", "Output format (default: from the --out file name, else svg).", "choice",
            choices=None),  # the registry's formats, read when the command is built (see drawing)
     MAX_NODES,
     Option(("--max-per-depth",), "max_per_depth", "Draw at most this many models at one depth (0: no limit; "
            "default: 8 for pictures).", "int", least=0),
     Option(("--rankdir",), "rankdir", "Layout direction, base first (default: LR for impact, TB otherwise).",
            "choice", choices=RankDir),
     Option(("--title",), "title", "The title to write instead of the analysis's own.", metavar="TITLE"),
     Option(("--subtitle",), "subtitle", "The line under the title instead of the default (what is shown of how "
            "many models).", metavar="LINE"),
     RELATION, MAX_DEPTH, SNAPSHOT),
)
"""``export``: a graph format (:mod:`ptmgraph.formats.registry`) drawing the lineage analyses' walks; its
``--format`` choices are the registry's (:func:`drawing`)."""
EXPLORE = Analysis(
    "explore", "Write one offline HTML file to explore MODEL's ancestry and impact (depths left to right, each "
    "depth's models in clusters by relation that open on click), or with --all the whole snapshot: pan, zoom, "
    "search, click.",
    (DRAWN_MODEL,
     Option(("--out", "-o"), "out_file", "HTML file to write (default: outputs/both-ORG__NAME.html; "
            "outputs/snapshot.html with --all).", metavar="FILE"),
     Option(("--all",), "show_all", "Draw every model of the snapshot (WebGL; coloured by relation, sized by "
            "reach).", "flag", False),
     MAX_NODES, RELATION, MAX_DEPTH, SNAPSHOT),
)
"""``explore``: the HTML graph format, both ways or the whole snapshot."""


def _write_export(
    model: str | None, out_file: str | None, name: str | None, *,
    direction: Literal["ancestry", "impact", "both", "snapshot"],
    max_nodes: int | None, max_per_depth: int | None, rankdir: str | None, relation: list[Relation] | None,
    max_depth: int | None, snapshot: Path | None, query: Query, title: str | None = None,
    subtitle: str | None = None,
) -> None:
    """Draw ``model``'s subgraph in the chosen format and write it (see :mod:`ptmgraph.formats.registry`);
    ``title`` and ``subtitle`` replace the default title and caption. The whole-snapshot explorer (``--all``
    as HTML) sizes models by reach: each drawn model gets its ``reach`` (:func:`ptmgraph.analyses.reach.model_reach`)
    as an attribute."""
    from ptmgraph.analyses.lineage import ancestry, impact
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
            up = ancestry(lg, model)
            drawn = lineage_subgraph(lg, up, direction="ancestry", max_nodes=nodes_cap, max_per_depth=depth_cap)
            titles.append(up.title)
        if model is not None and direction in ("impact", "both"):
            down = impact(lg, model, relations=relations, max_depth=max_depth)
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
    nodes = tuple(
        replace(n, attributes={**n.attributes, "reach": reach[n.key]}) if n.kind != "more" and n.key in reach else n
        for n in drawn.nodes
    )
    return replace(drawn, nodes=nodes)


def export(run: Run) -> None:
    v = run.values
    if v["show_all"] and (v["model"] is not None or v["show_ancestry"] or v["show_impact"]):
        fail("--all draws the whole snapshot: give no MODEL, --ancestry or --impact with it", 2)
    if not v["show_all"] and (v["model"] is None or not (v["show_ancestry"] or v["show_impact"])):
        fail("give MODEL and --ancestry, --impact or both; or --all for the whole snapshot", 2)
    direction: Literal["ancestry", "impact", "both", "snapshot"] = (
        "snapshot" if v["show_all"] else
        "both" if v["show_ancestry"] and v["show_impact"] else "ancestry" if v["show_ancestry"] else "impact"
    )
    _write_export(v["model"], v["out_file"], v["fmt"].value if v["fmt"] else None, direction=direction,
                  max_nodes=v["max_nodes"], max_per_depth=v["max_per_depth"],
                  rankdir=v["rankdir"].value if v["rankdir"] else None, relation=v["relation"],
                  max_depth=v["max_depth"], snapshot=v["snapshot"], query=run.query, title=v["title"],
                  subtitle=v["subtitle"])


def explore(run: Run) -> None:
    v = run.values
    if v["show_all"] == (v["model"] is not None):
        fail("give MODEL, or --all for the whole snapshot", 2)
    _write_export(v["model"], v["out_file"], "html", direction="snapshot" if v["show_all"] else "both",
                  max_nodes=v["max_nodes"], max_per_depth=None, rankdir=None, relation=v["relation"],
                  max_depth=v["max_depth"], snapshot=v["snapshot"], query=run.query)


DRAWINGS: dict[str, tuple[Analysis, Callable[[Run], None]]] = {"export": (EXPORT, export),
                                                               "explore": (EXPLORE, explore)}
"""The commands that draw, built when asked for as the analyses' are (:class:`Group`)."""
Group.lazy = {**{name: indexed.help for name, (_, indexed) in COMMANDS.items()},
              **{name: declared_as.help for name, (declared_as, _) in DRAWINGS.items()}}


def drawing(name: str) -> Any:
    """The drawing command ``name``, ``--format`` choosing among the graph formats of the registry."""
    from ptmgraph.declaration import choices
    from ptmgraph.formats.registry import GRAPH_FORMATS

    declared_as, body = DRAWINGS[name]
    formats = choices("ExportFormat", GRAPH_FORMATS)
    options = tuple(o.but(choices=formats) if o.param == "fmt" else o for o in declared_as.options)
    return single_command(replace(declared_as, options=options), body)


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

    from ptmgraph.snapshot_versions import SnapshotError, history_partition

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
    from ptmgraph.snapshot_versions import add_to_history

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
                                 help="Force the input kind (an unknown one is refused with the list of kinds).")
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
    from ptmgraph.assemble import build_snapshot
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
        snap = build_snapshot(tables, target, {"inputs": [i.as_meta() for i in inputs]})
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
    out_dir: Annotated[
        Path | None, typer.Option("--out", "-o", metavar="DIR", show_default=False,
                                  help="Snapshot directory to write (with --update: default, the snapshot updated).")
    ] = None,
    seed: Annotated[
        list[str] | None, typer.Option("--seed", metavar="MODEL", show_default=False,
                                       help="Crawl the descendants of this model (repeatable).")
    ] = None,
    root: Annotated[list[str] | None, typer.Option("--root", hidden=True, show_default=False)] = None,
    update: Annotated[
        Path | None, typer.Option("--update", metavar="SNAPSHOT", show_default=False,
                                  help="Refresh this crawl snapshot with what changed on the Hub since it was made "
                                  "(the same seeds and options; a new generation, or --out).")
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
    """Crawl the Hub (or HF_ENDPOINT): descendants of --seed models and/or a bulk listing. Resumable.

    The token comes from HF_TOKEN or the huggingface_hub login (that one is sent only to the Hub itself unless
    --token-for-endpoint), and is never printed or stored. Exit 3: a partial snapshot (listings or records
    not read, or --max-models reached).
    """
    from ptmgraph.sources.hub_api import FETCH_FILES, Limits
    from ptmgraph.sources.hub_crawl import crawl as crawl_hub
    from ptmgraph.sources.hub_crawl import update as update_hub

    seconds = {"--timeout": timeout, "--connect-timeout": connect_timeout, "--max-wait": max_wait,
               "--request-deadline": request_deadline, "--deadline": deadline}
    for name, value in seconds.items():
        if not value <= _LONGEST_SECONDS:  # also NaN
            fail(f"{name} must be a number of seconds up to {_LONGEST_SECONDS:,}, not {value}", 2)
    seeds = [*(seed or []), *(root or [])]  # --root: the old name of --seed, kept for one release
    if update is not None:
        given = [name for name, value in (("--seed", seeds), ("--author", author), ("--search", search),
                                          ("--sort", sort), ("--limit", limit), ("--max-depth", max_depth),
                                          ("--fetch-files", fetch_files != "auto"), ("--check-bases", check_bases),
                                          ("--ancestors", ancestors), ("--file-commits", file_commits))
                 if not (value is None or value is False or value == [])]
        if given:
            fail(f"--update takes the seeds and options the snapshot was crawled with; {given[0]} cannot be given", 2)
    elif out_dir is None:
        fail("give --out DIR (or --update SNAPSHOT)", 2)
    elif not seeds and not (author or search or limit):
        fail("give --seed, or a bulk listing with --author, --search or --limit", 2)
    if fetch_files not in FETCH_FILES:
        fail(f"--fetch-files must be one of {', '.join(FETCH_FILES)}, not {fetch_files!r}", 2)
    from ptmgraph.lookup import hub_offline

    if offline := hub_offline():  # huggingface_hub's switch: no request at all (README, exit codes)
        fail(f"{offline} forbids any request to the Hub, and a crawl makes them; unset HF_HUB_OFFLINE to crawl")
    day = _history_slot(history, history_date)
    limits = Limits(connect_timeout=connect_timeout, read_timeout=timeout, max_wait=max_wait, max_pages=max_pages,
                    workers=workers, request_deadline=request_deadline, deadline=deadline, max_requests=max_requests,
                    max_journal_bytes=max_journal_bytes)
    with user_errors():
        if update is not None:
            result = update_hub(update, out_dir, endpoint=endpoint, max_models=max_models, state_dir=state_dir,
                                progress=progress, keep_state=keep_state, limits=limits,
                                token_for_endpoint=token_for_endpoint)
            out_dir = result.snapshot
        else:
            assert out_dir is not None
            result = crawl_hub(
                seeds, out_dir, endpoint=endpoint, max_depth=max_depth, max_models=max_models,
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
        if update is not None:
            lines.append(f"update: {plural(int(st['changes']), 'record')} changed since the snapshot; "
                         f"{plural(int(st['requests']), 'request')}, where a full crawl would send about "
                         f"{int(st['full_crawl_requests']):,}")
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


CacheAction = Enum("CacheAction", {name: name for name in ("info", "list", "dir", "clear")}, type=str)  # type: ignore[misc]


@app.command()
def cache(
    action: Annotated[
        CacheAction, typer.Argument(metavar="ACTION", show_default=False,
                                    help="info: where the look-up cache is, its size and bounds; list: each look-up "
                                    "kept; dir: the folder alone; clear: remove the look-ups.")
    ],
    older_than: Annotated[
        str | None, typer.Option("--older-than", metavar="AGE", show_default=False,
                                 help="clear: only look-ups older than this (seconds, or 12h, 7d).")
    ] = None,
) -> None:
    """The cache of models looked up on the Hub: where it is, what it holds, and clearing it (as pip cache does).

    Whenever a look-up writes it, look-ups older than PTMGRAPH_CACHE_MAX_AGE are removed, then the oldest past
    PTMGRAPH_CACHE_MAX_SIZE in all (cache info shows both). Only the cache's own look-ups are ever removed.
    """
    from ptmgraph import lookup_cache as lookup

    with user_errors():
        if older_than is not None and action.value != "clear":
            fail("--older-than goes with clear", 2)
        try:
            age = None if older_than is None else lookup.parse_age(older_than)
        except ValueError as err:
            fail(f"--older-than: {err}", 2)
        root = lookup.cache_root()
        if action.value == "dir":
            typer.echo(str(root))
        elif action.value == "clear":
            removed, busy = lookup.clear(age)
            typer.echo(f"removed {plural(len(removed), 'look-up')} "
                       f"({lookup.size_text(sum(e.size for e in removed))}) from {root}")
            if busy:
                typer.echo(f"kept {plural(len(busy), 'look-up')}: in use by another ptmgraph process, or holding "
                           "files ptmgraph did not write")
        else:
            entries = lookup.cache_entries()
            if action.value == "list":
                for entry in entries:
                    typer.echo(f"{lookup.ago(entry.written):>12}  {lookup.size_text(entry.size):>10}  "
                               f"{entry.need:<11}  {', '.join(entry.models) or entry.path.name}  {entry.endpoint}")
            else:
                bounds = lookup.cache_bounds()
                size = lookup.size_text(sum(e.size for e in entries))
                typer.echo(f"look-up cache: {root}\nlook-ups: {len(entries):,} ({size})")
                if entries:
                    typer.echo(f"oldest: {lookup.ago(entries[0].written)}; newest: {lookup.ago(entries[-1].written)}")
                typer.echo(f"bounds: {bounds.said()} (pruned whenever a look-up is written)")


def main() -> None:  # pragma: no cover - console entry point
    app()
