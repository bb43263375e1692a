"""Draw a :class:`~ptmgraph.formats.drawing.DrawnGraph` with Graphviz: DOT source, SVG or PNG.

Layout: base before derived, left to right for impact sets (depth runs across the page, the
children of one model stacked in one column) and top to bottom for ancestries; ``rankdir`` changes
it. Edges are coloured by relation with the Okabe-Ito palette (safe for the common colour-vision
deficiencies) and also styled, so colour is never the only cue; a model's outline takes the colour
of the relation of its own hop. Models are shaded by downloads (:data:`DOWNLOAD_SHADES`, darker is
more). The focus model is yellow with a bold border; models without a record of their own (only
seen as a base or in a tree listing) have a dashed outline; ``+K more`` nodes are grey notes. A
legend lists all of it.

**Size rule.** Pictures draw at most :data:`PICTURE_MAX_NODES` models, at most
:data:`PICTURE_MAX_PER_DEPTH` at any one depth (the rest in ``+K more`` nodes): one rank holds
at most 8 models and 8 ``+K more`` boxes, and ids longer than :data:`ID_LINE_CHARS` are broken over
two lines. The drawing of Llama-2-7b-chat-hf's impact set is 1,525 x 797 px at 96 dpi, and none of
the bundled sample's impact sets draws wider than 2,271 px (``benchmarks/RESULTS.md``). The options
``--max-nodes``, ``--max-per-depth`` and ``--rankdir`` change it.

All text comes from untrusted metadata, so every label is made safe here: control and bidi
characters become visible ``\\xNN``/``\\uNNNN`` escapes, long strings are shortened with ``…``, ``&``
is written ``&amp;`` (Graphviz turns entities into characters), and
:func:`graphviz.escape` disables backslash escapes and ``<...>`` HTML-like labels (node names are
generated ``n0``, ``n1``... so ids never reach DOT syntax). No record labels are used, and the one
HTML-like label, the legend's, holds constants and relation names escaped with :func:`html.escape`.
"""

from __future__ import annotations

import html
import itertools
import shutil
import subprocess
import unicodedata
from typing import ClassVar, Literal

import graphviz

from ptmgraph.formats.drawing import RELATION_ORDER, DrawnEdge, DrawnGraph, DrawnNode
from ptmgraph.formats.escaping import visible
from ptmgraph.formats.interface import ExportError, GraphFormat
from ptmgraph.ids import hub_url

RankDir = Literal["TB", "LR", "BT", "RL"]
RANKDIRS: tuple[str, ...] = ("TB", "LR", "BT", "RL")

PICTURE_MAX_NODES = 32
PICTURE_MAX_PER_DEPTH = 8


# Okabe & Ito (2008) colour-blind-safe palette; style is a second cue for each relation.
RELATION_STYLE: dict[str, dict[str, str]] = {
    "finetune": {"color": "#0072B2", "style": "solid", "penwidth": "1.6"},  # blue
    "adapter": {"color": "#E69F00", "style": "dashed", "penwidth": "1.6"},  # orange
    "quantized": {"color": "#009E73", "style": "dotted", "penwidth": "2.2"},  # bluish green
    "merge": {"color": "#CC79A7", "style": "bold", "penwidth": "2.4"},  # reddish purple
    "unknown": {"color": "#7F7F7F", "style": "solid", "penwidth": "1.0"},  # grey
}
_OTHER_STYLE = {"color": "#000000", "style": "solid", "penwidth": "1.0"}  # a relation outside Relation
_SUMMARY_EDGE = {"color": "#9A9A9A", "style": "dashed", "penwidth": "1.0", "arrowhead": "none"}

FOCUS_FILL = "#F0E442"  # Okabe-Ito yellow
MORE_FILL = "#EEEEEE"
DOWNLOAD_SHADES: tuple[tuple[int, str, str], ...] = (
    (100_000, "#6FA3D6", ">= 100,000"),
    (1_000, "#A9C8E8", "1,000 - 99,999"),
    (10, "#D6E4F3", "10 - 999"),
    (0, "#F1F5FB", "0 - 9"),
)
"""(lowest count, fill, legend text) from most downloads down; a model with no count is white."""
UNKNOWN_FILL = "#FFFFFF"
FONT = "sans-serif"

MAX_ID_CHARS = 100
ID_LINE_CHARS = 44  # longer ids are broken over two lines, which keeps the columns narrow
MAX_TEXT_CHARS = 48
MAX_TOOLTIP_CHARS = 300
LABEL_EDGES_UP_TO = 40  # edges get a text label when the drawing has at most this many model edges


def relation_style(relation: str) -> dict[str, str]:
    return RELATION_STYLE.get(relation, _OTHER_STYLE)


def download_fill(downloads: int | None) -> str:
    """The fill of a model with ``downloads`` (see :data:`DOWNLOAD_SHADES`)."""
    if downloads is None:
        return UNKNOWN_FILL
    return next((fill for lowest, fill, _ in DOWNLOAD_SHADES if downloads >= lowest), DOWNLOAD_SHADES[-1][1])


_BIDI_CONTROLS = {
    "\u061c", "\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",
    "\u2066", "\u2067", "\u2068", "\u2069",
}


_SHOWN_ESCAPED = frozenset(("Cc", "Cs", "Zl", "Zp", "Co", "Cn"))
"""Unicode categories a label shows as escapes: controls, surrogates, line and paragraph separators,
private use, and unassigned code points (U+FFFE and U+FFFF among them, which XML cannot hold)."""


def clean_text(text: object, limit: int = MAX_TEXT_CHARS) -> str:
    """Untrusted text as one visible line: control, separator, surrogate, unassigned and bidi characters
    shown as escapes (:func:`ptmgraph.formats.escaping.visible`), then shortened to ``limit`` characters with
    a trailing ``…``. Not yet DOT-escaped."""
    out = []
    for ch in str(text):
        shown = unicodedata.category(ch) in _SHOWN_ESCAPED or ch in _BIDI_CONTROLS
        out.append(visible(ch) if shown else ch)
    line = "".join(out)
    return line if len(line) <= limit else line[: max(limit - 1, 0)] + "…"


def dot_text(*lines: str) -> str:
    """Lines of already-cleaned text as one DOT escString label, the Graphviz family's escaping: ``&``
    written ``&amp;`` (Graphviz reads ``&lt;`` as ``<`` and writes ``&#1;`` into SVG as it is), each line
    escaped with :func:`graphviz.escape` (backslashes), joined with DOT's ``\\n`` line break, and never
    taken for an HTML label."""
    return graphviz.nohtml("\\n".join(graphviz.escape(line.replace("&", "&amp;")) for line in lines))


def wrap_id(text: str, width: int = ID_LINE_CHARS) -> list[str]:
    """A long id in two lines, broken after the last ``/ - _ .`` that leaves a first line of
    between half of ``width`` and ``width`` characters; one line when there is no such place."""
    if len(text) <= width:
        return [text]
    cut = max((i + 1 for i, ch in enumerate(text[:width]) if ch in "/-_."), default=0)
    return [text[:cut], text[cut:]] if cut >= width // 2 else [text]


def _model_lines(node: DrawnNode) -> list[str]:
    lines = wrap_id(clean_text(node.id, MAX_ID_CHARS))
    facts = []
    if node.downloads is not None:
        facts.append(f"{node.downloads:,} download{'' if node.downloads == 1 else 's'}")
    if node.license is not None:
        facts.append(f"license: {clean_text(node.license, MAX_TEXT_CHARS)}")
    if facts:
        lines.append(" · ".join(facts))
    if node.has_record is False:
        lines.append("(no record)")
    return lines


def _model_tooltip(node: DrawnNode) -> str:
    parts = [clean_text(node.id, MAX_TOOLTIP_CHARS)]
    if node.kind == "focus":
        parts.append("focus model")
    else:
        parts.append(f"depth {node.depth} via {clean_text(node.relation or 'unknown')}")
    if node.likes is not None:
        parts.append(f"{node.likes:,} likes")
    if node.has_record is False:
        parts.append("no record of its own")
    return " | ".join(parts)




def _node_attrs(node: DrawnNode) -> dict[str, str]:
    if node.kind == "more":
        shown = ", ".join(clean_text(i, MAX_ID_CHARS) for i in node.hidden_ids[:20])
        more = f", and {node.hidden_count - 20} more" if node.hidden_count > 20 else ""
        return {
            "label": dot_text(clean_text(node.summary_text, 200)),
            "shape": "note", "style": "filled,dashed", "fillcolor": MORE_FILL, "color": "#9A9A9A",
            "fontcolor": "#333333",
            "tooltip": dot_text(clean_text(f"hidden: {shown}{more}", 4000)),
        }
    attrs = {"label": dot_text(*_model_lines(node)), "tooltip": dot_text(_model_tooltip(node))}
    url = hub_url(str(node.id))
    if url is not None:  # a link to the model's Hub page (SVG); a local id has none
        attrs |= {"URL": dot_text(url), "target": "_blank"}
    styles = ["rounded", "filled"]
    if node.has_record is False:
        styles.append("dashed")
        attrs["fontcolor"] = "#444444"
    if node.kind == "focus":
        styles.append("bold")
        attrs |= {"fillcolor": FOCUS_FILL, "penwidth": "3"}
    else:
        outline = relation_style(node.relation or "unknown")["color"]
        attrs |= {"fillcolor": download_fill(node.downloads), "color": outline, "penwidth": "2"}
    attrs["style"] = ",".join(styles)
    return attrs


def _edge_attrs(edge: DrawnEdge, labelled: bool) -> dict[str, str]:
    if edge.relation is None:
        return dict(_SUMMARY_EDGE)
    style = relation_style(edge.relation)
    attrs = dict(style)
    tip = [clean_text(edge.relation)]
    if edge.relation_rule:
        tip.append(f"decided by: {clean_text(edge.relation_rule)}")
    for which in ("parent", "relation"):
        if edge.attributes.get(f"{which}_confidence") is not None:
            tip.append(f"{which} confidence: {clean_text(edge.attributes[f'{which}_confidence'])}")
    if edge.evidence_kinds:
        tip.append("evidence: " + ", ".join(clean_text(k) for k in edge.evidence_kinds))
    attrs["tooltip"] = dot_text(" | ".join(tip))
    if labelled:
        attrs |= {"label": dot_text(clean_text(edge.relation, 24)), "fontcolor": style["color"], "fontsize": "9"}
    return attrs


_LINE_SAMPLES = {"solid": "───▶", "dashed": "╌╌╌▶", "dotted": "┈┈┈▶", "bold": "━━━▶"}


def _legend(graph: graphviz.Digraph, drawn: DrawnGraph, rankdir: str) -> None:
    """The kinds of box, the download shades and a styled arrow per relation, beside the drawing.

    Each rank is as tall (``TB``, ``BT``) or as wide (``LR``, ``RL``) as its largest node, so the
    legend is shaped to stretch no rank: when ranks are columns it is one tall, narrow node in the
    first column; when they are rows it is three short rows (kinds of box, shades, relations), one
    node each in three consecutive ranks, held together by invisible edges in a ``Legend`` cluster.
    The graph's only HTML-like labels: their text is constants and relation names, cleaned and
    XML-escaped."""
    relations = list(RELATION_ORDER) + [r for r in drawn.relations_drawn if r not in RELATION_ORDER]
    cell = '<TD ALIGN="LEFT" {attrs}><FONT POINT-SIZE="10" {font}>{text}</FONT></TD>'
    boxes = [
        ("focus model", f'BGCOLOR="{FOCUS_FILL}" BORDER="3" COLOR="#000000" STYLE="rounded"'),
        ("no record of its own", 'STYLE="rounded,dashed"'),
        ("+N more: hidden models", f'BGCOLOR="{MORE_FILL}" COLOR="#9A9A9A" STYLE="dashed"'),
    ]
    shades = [(f"{text} downloads", f'BGCOLOR="{fill}" STYLE="rounded"') for _, fill, text in DOWNLOAD_SHADES]
    shades.append(("no download count", f'BGCOLOR="{UNKNOWN_FILL}" STYLE="rounded"'))
    groups = [
        [cell.format(attrs=attrs, font="", text=html.escape(text)) for text, attrs in boxes],
        [cell.format(attrs=attrs, font="", text=html.escape(text)) for text, attrs in shades],
        [],
    ]
    for relation in relations:
        style = relation_style(relation)
        sample = _LINE_SAMPLES.get(style["style"], _LINE_SAMPLES["solid"])
        text = html.escape(f"{sample} {clean_text(relation, 24)}")
        groups[2].append(cell.format(attrs='BORDER="0"', font=f'COLOR="{style["color"]}"', text=text))
    table = '<TABLE BORDER="{border}" COLOR="#9A9A9A" STYLE="rounded" CELLBORDER="1" CELLSPACING="3" CELLPADDING="3">'
    if rankdir in ("LR", "RL"):
        rows = ['<TR><TD ALIGN="LEFT" BORDER="0"><B>Legend</B></TD></TR>']
        rows += [f"<TR>{c}</TR>" for group in groups for c in group]
        graph.node("legend", label="<" + table.format(border=1) + "".join(rows) + "</TABLE>>", shape="plaintext",
                   margin="0")
        return
    with graph.subgraph(name="cluster_legend") as legend:
        legend.attr(label="Legend", labeljust="l", style="rounded", color="#9A9A9A", fontsize="11", margin="6")
        names = [f"legend{i}" for i in range(len(groups))]
        for name, group in zip(names, groups, strict=True):
            label = "<" + table.format(border=0) + "<TR>" + "".join(group) + "</TR></TABLE>>"
            legend.node(name, label=label, shape="plaintext", margin="0")
        for upper, lower in itertools.pairwise(names):
            legend.edge(upper, lower, style="invis")


def default_rankdir(drawn: DrawnGraph) -> RankDir:
    """Left to right when descendants are drawn (depth across the page), top to bottom for an ancestry."""
    return "TB" if drawn.direction == "ancestry" else "LR"


def layout_direction(drawn: DrawnGraph, rankdir: str | None) -> str:
    """``rankdir``, or the default for ``drawn`` when None; :class:`ExportError` unless in :data:`RANKDIRS`."""
    chosen = rankdir or default_rankdir(drawn)
    if chosen not in RANKDIRS:
        raise ExportError(f"unsupported rankdir {chosen!r}: use one of {', '.join(RANKDIRS)}")
    return chosen


def to_graphviz(drawn: DrawnGraph, *, title: str, rankdir: str | None = None) -> graphviz.Digraph:
    """The Graphviz graph for ``drawn``; its label is ``title`` and the cap sentence."""
    rankdir = layout_direction(drawn, rankdir)
    graph = graphviz.Digraph(name="lineage")
    graph.attr(
        rankdir=rankdir, label=dot_text(clean_text(title, 200), clean_text(drawn.caption, 300)), labelloc="t",
        labeljust="c", fontname=FONT, fontsize="16", nodesep="0.25", ranksep="0.45", newrank="true",
        tooltip=dot_text(clean_text(title, 200)),
    )
    graph.attr("node", shape="box", fontname=FONT, fontsize="11", margin="0.12,0.05", height="0.3")
    graph.attr("edge", fontname=FONT, arrowsize="0.7")

    names = {node.key: f"n{i}" for i, node in enumerate(drawn.nodes)}
    for node in drawn.nodes:
        graph.node(names[node.key], **_node_attrs(node))
    labelled = sum(1 for e in drawn.edges if not e.is_summary) <= LABEL_EDGES_UP_TO
    for edge in drawn.edges:
        graph.edge(names[edge.tail], names[edge.head], **_edge_attrs(edge, labelled))
    _legend(graph, drawn, rankdir)
    return graph


def run_dot(source: str, fmt: Literal["svg", "png"]) -> bytes:
    """Graphviz' ``dot`` program's rendering of DOT ``source`` as ``fmt``."""
    dot = shutil.which("dot")
    if dot is None:
        raise ExportError(
            f"cannot render {fmt}: the Graphviz 'dot' program is not installed or not on PATH "
            "(install Graphviz, e.g. 'apt-get install graphviz', or export as dot)"
        )
    try:
        # subprocess.run, not graphviz.pipe: a dot that dies before reading its input must still be
        # reported by its own stderr, not by the broken pipe it leaves behind.
        done = subprocess.run([dot, f"-T{fmt}"], input=source.encode("utf-8"), capture_output=True, check=False)
    except OSError as err:
        raise ExportError(f"cannot run Graphviz 'dot' to render {fmt}: {err.strerror or err}") from None
    if done.returncode != 0:
        stderr = done.stderr.decode("utf-8", "replace")
        first = next((line.strip() for line in stderr.splitlines() if line.strip()), f"exit status {done.returncode}")
        raise ExportError(f"Graphviz 'dot' failed to render {fmt}: {first}")
    return done.stdout


class DotFormat(GraphFormat):
    """Graphviz DOT source (no Graphviz program needed)."""

    name = "dot"
    extensions: ClassVar[tuple[str, ...]] = (".dot", ".gv")
    description = "Graphviz DOT source"
    default_max_nodes = PICTURE_MAX_NODES
    max_per_depth = PICTURE_MAX_PER_DEPTH

    def render(self, drawn: DrawnGraph, *, title: str, rankdir: str | None = None) -> bytes:
        return to_graphviz(drawn, title=title, rankdir=rankdir).source.encode("utf-8")


class SvgFormat(DotFormat):
    """The drawing as SVG, rendered by Graphviz' ``dot``; nodes link to their Hub pages."""

    name = "svg"
    extensions = (".svg",)
    description = "SVG drawing (Graphviz)"
    image: ClassVar[Literal["svg", "png"]] = "svg"

    def render(self, drawn: DrawnGraph, *, title: str, rankdir: str | None = None) -> bytes:
        return run_dot(to_graphviz(drawn, title=title, rankdir=rankdir).source, self.image)


class PngFormat(SvgFormat):
    """The drawing as PNG, rendered by Graphviz' ``dot``."""

    name = "png"
    extensions = (".png",)
    description = "PNG image (Graphviz)"
    image = "png"
