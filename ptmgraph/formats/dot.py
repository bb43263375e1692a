"""Draw a :class:`~ptmgraph.formats.subgraph.DrawnGraph` with Graphviz: DOT source, SVG or PNG.

Layout: top to bottom, base above derived. Edges are coloured by relation with the Okabe-Ito
palette (safe for the common colour-vision deficiencies) and also styled, so colour is never the only
cue; a legend cluster lists them. The focus model is filled with a bold border; models without a
record of their own (only seen as a base or in a tree listing) have a dashed outline; ``+K more``
nodes are grey notes.

All text comes from untrusted metadata, so every label is made safe here: control and bidi
characters become visible ``\\xNN``/``\\uNNNN`` escapes, long strings are shortened with ``…``, and
:func:`graphviz.escape` disables backslash escapes and ``<...>`` HTML-like labels (node names are
generated ``n0``, ``n1``... so ids never reach DOT syntax). No HTML-like or record labels are used.
"""

from __future__ import annotations

import itertools
import math
import os
import shutil
import subprocess
import tempfile
import unicodedata
from pathlib import Path
from typing import Literal
from urllib.parse import quote as url_quote

import graphviz

from ptmgraph.formats.subgraph import RELATION_ORDER, DrawnEdge, DrawnGraph, DrawnNode

Format = Literal["dot", "svg", "png"]
FORMATS: tuple[str, ...] = ("dot", "svg", "png")


class ExportError(Exception):
    """The graph could not be exported; the message is one line naming the problem."""


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
FONT = "sans-serif"

MAX_ID_CHARS = 100
MAX_TEXT_CHARS = 48
MAX_TOOLTIP_CHARS = 300
LABEL_EDGES_UP_TO = 40  # edges get a text label when the drawing has at most this many model edges
FAN_PER_ROW = 7  # a fan of more models than this is spread over several rows ...
FAN_MAX_ROWS = 15  # ... but never more rows than this (long edges through many rows make dot slow)


def relation_style(relation: str) -> dict[str, str]:
    return RELATION_STYLE.get(relation, _OTHER_STYLE)


_BIDI_CONTROLS = {
    "\u061c", "\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",
    "\u2066", "\u2067", "\u2068", "\u2069",
}


def _visible(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def clean_text(text: object, limit: int = MAX_TEXT_CHARS) -> str:
    """Untrusted text as one visible line: control, separator, surrogate and bidi characters shown as
    escapes, then shortened to ``limit`` characters with a trailing ``…``. Not yet DOT-escaped."""
    out = []
    for ch in str(text):
        category = unicodedata.category(ch)
        out.append(_visible(ch) if category in ("Cc", "Cs", "Zl", "Zp", "Co") or ch in _BIDI_CONTROLS else ch)
    line = "".join(out)
    return line if len(line) <= limit else line[: max(limit - 1, 0)] + "…"


def dot_text(*lines: str) -> str:
    """Lines of already-cleaned text as one DOT escString label: each line escaped with
    :func:`graphviz.escape`, joined with DOT's ``\\n`` line break, and never taken for an HTML label."""
    return graphviz.nohtml("\\n".join(graphviz.escape(line) for line in lines))


def _model_lines(node: DrawnNode) -> list[str]:
    lines = [clean_text(node.id, MAX_ID_CHARS)]
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


def _hub_url(model_id: str) -> str:
    return "https://huggingface.co/" + url_quote(model_id, safe="/", errors="backslashreplace")


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
    if len(str(node.id)) <= MAX_ID_CHARS:  # a link to the model's Hub page (SVG)
        attrs |= {"URL": dot_text(_hub_url(str(node.id))), "target": "_blank"}
    styles = ["rounded"]
    if node.has_record is False:
        styles.append("dashed")
        attrs["fontcolor"] = "#444444"
    if node.kind == "focus":
        styles += ["filled", "bold"]
        attrs |= {"fillcolor": FOCUS_FILL, "penwidth": "3"}
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
    if edge.evidence_kinds:
        tip.append("evidence: " + ", ".join(clean_text(k) for k in edge.evidence_kinds))
    attrs["tooltip"] = dot_text(" | ".join(tip))
    if labelled:
        attrs |= {"label": dot_text(clean_text(edge.relation, 24)), "fontcolor": style["color"], "fontsize": "9"}
    return attrs


def _fan_grid(drawn: DrawnGraph) -> tuple[dict[tuple[str, str], int], list[tuple[str, str]]]:
    """Spread wide fans of leaf models over a grid of rows of at most ``FAN_PER_ROW`` (like Graphviz'
    ``unflatten``) instead of one very wide rank: ``minlen`` per fan edge, plus invisible column edges
    (node keys) that keep each column straight. Leaves keep their cap order, so the nearest row holds
    the most downloaded."""
    outs: dict[str, list[str]] = {}
    ins: dict[str, list[str]] = {}
    for e in drawn.edges:
        outs.setdefault(e.tail, []).append(e.head)
        ins.setdefault(e.head, []).append(e.tail)
    kinds = {n.key: n.kind for n in drawn.nodes}
    minlen: dict[tuple[str, str], int] = {}
    columns: list[tuple[str, str]] = []
    for node in drawn.nodes:
        if drawn.direction == "impact":
            leaves = [c for c in outs.get(node.key, []) if kinds[c] == "model" and len(ins.get(c, [])) == 1]
            pairs = [(node.key, c) for c in leaves]
        else:
            leaves = [p for p in ins.get(node.key, []) if kinds[p] == "model" and len(outs.get(p, [])) == 1]
            pairs = [(p, node.key) for p in leaves]
        if len(pairs) <= FAN_PER_ROW:
            continue
        rows = min(math.ceil(len(pairs) / FAN_PER_ROW), FAN_MAX_ROWS)
        per_row = math.ceil(len(pairs) / rows)
        for i, pair in enumerate(pairs):
            minlen[pair] = 1 + i // per_row
            if i + per_row < len(leaves):
                near, far = leaves[i], leaves[i + per_row]
                columns.append((near, far) if drawn.direction == "impact" else (far, near))
    return minlen, columns


def _legend(graph: graphviz.Digraph, drawn: DrawnGraph) -> None:
    """A cluster with one short styled arrow per relation and a sample of each kind of box."""
    relations = list(RELATION_ORDER) + [r for r in drawn.relations_drawn if r not in RELATION_ORDER]
    with graph.subgraph(name="cluster_legend") as legend:
        legend.attr(label="Legend", style="rounded,dashed", color="#9A9A9A", fontsize="11", labeljust="l")
        legend.attr("node", fontsize="10")
        legend.node("legend_focus", label="focus model", shape="box", style="rounded,filled,bold",
                    fillcolor=FOCUS_FILL, penwidth="3")
        legend.node("legend_norecord", label="no record of its own", shape="box", style="rounded,dashed")
        legend.node("legend_more", label="+N more: hidden models", shape="note", style="filled,dashed",
                    fillcolor=MORE_FILL, color="#9A9A9A")
        legend.edge("legend_focus", "legend_norecord", style="invis")
        legend.edge("legend_norecord", "legend_more", style="invis")
        tops = ["legend_focus"]
        for i, relation in enumerate(relations):
            style = relation_style(relation)
            tops.append(f"legend_{i}_from")
            legend.node(f"legend_{i}_from", label="", shape="point", width="0.06", color=style["color"])
            legend.node(f"legend_{i}_to", label=dot_text(clean_text(relation, 24)), shape="plaintext",
                        fontcolor=style["color"])
            legend.edge(f"legend_{i}_from", f"legend_{i}_to", color=style["color"], style=style["style"],
                        penwidth=style["penwidth"])
        with legend.subgraph() as row:  # left to right in this order
            row.attr(rank="same")
            for left, right in itertools.pairwise(tops):
                row.edge(left, right, style="invis")


def to_graphviz(drawn: DrawnGraph, *, title: str) -> graphviz.Digraph:
    """The Graphviz graph for ``drawn``; its label is ``title`` and the cap sentence."""
    graph = graphviz.Digraph(name="lineage")
    graph.attr(
        rankdir="TB", label=dot_text(clean_text(title, 200), clean_text(drawn.caption, 300)), labelloc="t",
        labeljust="c", fontname=FONT, fontsize="16", nodesep="0.25", ranksep="0.45", newrank="true",
        tooltip=dot_text(clean_text(title, 200)),
    )
    graph.attr("node", shape="box", fontname=FONT, fontsize="11", margin="0.12,0.05", height="0.3")
    graph.attr("edge", fontname=FONT, arrowsize="0.7")

    names = {node.key: f"n{i}" for i, node in enumerate(drawn.nodes)}
    for node in drawn.nodes:
        graph.node(names[node.key], **_node_attrs(node))
    labelled = sum(1 for e in drawn.edges if not e.is_summary) <= LABEL_EDGES_UP_TO
    minlen, columns = _fan_grid(drawn)
    for edge in drawn.edges:
        attrs = _edge_attrs(edge, labelled)
        if (edge.tail, edge.head) in minlen:
            attrs["minlen"] = str(minlen[edge.tail, edge.head])
        graph.edge(names[edge.tail], names[edge.head], **attrs)
    for tail, head in columns:
        graph.edge(names[tail], names[head], style="invis", weight="10")
    _legend(graph, drawn)
    return graph


def render(drawn: DrawnGraph, fmt: Format, *, title: str) -> bytes:
    """The bytes of the drawing in ``fmt``; svg and png call Graphviz' ``dot`` program."""
    if fmt not in FORMATS:
        raise ExportError(f"unsupported format {fmt!r}: use one of {', '.join(FORMATS)}")
    graph = to_graphviz(drawn, title=title)
    if fmt == "dot":
        return graph.source.encode("utf-8")
    dot = shutil.which("dot")
    if dot is None:
        raise ExportError(
            f"cannot render {fmt}: the Graphviz 'dot' program is not installed or not on PATH "
            "(install Graphviz, e.g. 'apt-get install graphviz', or export as dot)"
        )
    try:
        # subprocess.run, not graphviz.pipe: a dot that dies before reading its input must still be
        # reported by its own stderr, not by the broken pipe it leaves behind.
        done = subprocess.run([dot, f"-T{fmt}"], input=graph.source.encode("utf-8"), capture_output=True, check=False)
    except OSError as err:
        raise ExportError(f"cannot run Graphviz 'dot' to render {fmt}: {err.strerror or err}") from None
    if done.returncode != 0:
        stderr = done.stderr.decode("utf-8", "replace")
        first = next((line.strip() for line in stderr.splitlines() if line.strip()), f"exit status {done.returncode}")
        raise ExportError(f"Graphviz 'dot' failed to render {fmt}: {first}")
    return done.stdout


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes_atomically(data: bytes, out: Path) -> Path:
    """Write ``data`` to ``out`` via a temporary file in the same directory and ``os.replace``."""
    out = Path(out)
    if out.is_dir():
        raise ExportError(f"{out}: is a directory")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        mode = out.stat().st_mode & 0o777 if out.exists() else 0o666 & ~_umask()
        fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    except OSError as err:
        raise ExportError(f"{out}: cannot write here ({err.strerror or err})") from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, out)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise ExportError(f"{out}: cannot write here ({err.strerror or err})") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return out


def write_graph(drawn: DrawnGraph, out: Path, fmt: Format, title: str) -> Path:
    """Render ``drawn`` as ``fmt`` (dot, svg or png) and write it to ``out`` atomically.

    The drawing is rendered completely before anything is written, so a failure (``dot`` missing or
    failing, unwritable directory) raises :class:`ExportError` and leaves an existing ``out`` untouched.
    """
    data = render(drawn, fmt, title=title)
    return write_bytes_atomically(data, Path(out))
