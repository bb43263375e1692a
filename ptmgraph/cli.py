"""The ``ptmgraph`` command line: wires sources, snapshot, graph, analyses and formats together.

The analyses' commands are built from their declarations (``COMMANDS`` in each ``analyses/*.py``, see
:mod:`ptmgraph.declaration`), each when it runs. :data:`ptmgraph.cli_index.COMMANDS` holds their names,
help and options (written from the declarations), so that ``--help`` and usage errors import no
analysis; ``--format`` offers the result formats that serve each command's rows (the registry's, above
the analyses: :func:`ptmgraph.cli_output.with_formats`); :mod:`ptmgraph.cli_commands` runs each command as
its declaration says, and holds the few bodies of its own. The commands that
draw (``export``, ``explore``) are declared here; those that build snapshots (``ingest``, ``crawl``) and
keep the look-up cache (``cache``) are :mod:`ptmgraph.cli_snapshots`'s, registered here. What every
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
from ptmgraph.cli_snapshots import cache, crawl, ingest
from ptmgraph.declaration import MAX_DEPTH, RELATION, SNAPSHOT, Analysis, ColorChoice, Option
from ptmgraph.vocabulary import Relation

if TYPE_CHECKING:
    from ptmgraph.formats.drawing import DrawnGraph
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


app.command()(ingest)
app.command()(crawl)
app.command()(cache)


def main() -> None:  # pragma: no cover - console entry point
    app()
