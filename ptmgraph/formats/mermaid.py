"""Mermaid ``flowchart`` source, which GitHub draws inside a Markdown ````` ```mermaid ````` block.

Meant for small subgraphs: the same cap (and defaults) as the Graphviz drawing, the same relation
colours, download shades and ``+K more`` nodes (see :mod:`ptmgraph.formats.dot`). Edge styles:
``-->`` finetune, ``-.->`` adapter, ``==>`` merge, with the relation as the edge's text.

Every label is one quoted string in which anything but letters, digits, space and ``/ . _ : , -``
is written as a Mermaid entity code (``#60;`` for ``<``), so no id can close the string, start markup
or break out of a Markdown code fence; node names are generated (``n0``, ``n1`` ...). The caption is a
``%%`` comment in plain text: a comment ends only at a line end, so only line ends (and other control
characters) are escaped, as visible ``\\xNN`` text; the line starts with ``%%`` and a space, so it
is neither a ``%%{...}%%`` directive nor a Markdown code fence.
"""

from __future__ import annotations

import re

from ptmgraph.formats.dot import (
    FOCUS_FILL,
    MAX_ID_CHARS,
    MORE_FILL,
    PICTURE_MAX_NODES,
    PICTURE_MAX_PER_DEPTH,
    clean_text,
    download_fill,
    layout_direction,
    relation_style,
)
from ptmgraph.formats.drawing import DrawnGraph, DrawnNode
from ptmgraph.formats.interface import GraphFormat

_PLAIN = re.compile(r"[A-Za-z0-9 /._:,\-]")
_ARROWS = {"adapter": "-.->", "merge": "==>"}


def mermaid_text(text: str) -> str:
    """``text`` as the inside of a quoted Mermaid label (see the module docstring)."""
    return "".join(ch if _PLAIN.fullmatch(ch) else f"#{ord(ch)};" for ch in text)


def _label(node: DrawnNode) -> str:
    if node.kind == "more":
        return mermaid_text(clean_text(node.summary_text, 200))
    lines = [mermaid_text(clean_text(node.id, MAX_ID_CHARS))]
    if node.downloads is not None:
        lines.append(mermaid_text(f"{node.downloads:,} downloads"))
    if node.license is not None:
        lines.append(mermaid_text(f"license: {clean_text(node.license)}"))
    return "<br/>".join(lines)  # the one piece of markup, ours: Mermaid's line break


class MermaidFormat(GraphFormat):
    name = "mermaid"
    extensions = (".mmd", ".mermaid")
    description = "Mermaid flowchart (GitHub Markdown)"
    default_max_nodes = PICTURE_MAX_NODES
    max_per_depth = PICTURE_MAX_PER_DEPTH

    def render(self, drawn: DrawnGraph, *, title: str, rankdir: str | None = None) -> bytes:
        direction = layout_direction(drawn, rankdir)
        lines = [
            "---",
            f'title: "{mermaid_text(clean_text(title, 200))}"',
            "---",
            f"flowchart {direction}",
            f"  %% {clean_text(drawn.caption, 300)}",
        ]
        names = {node.key: f"n{i}" for i, node in enumerate(drawn.nodes)}
        classes: dict[str, str] = {"focus": f"fill:{FOCUS_FILL},stroke:#000,stroke-width:3px",
                                   "more": f"fill:{MORE_FILL},stroke:#9A9A9A,stroke-dasharray:4 3"}
        for node in drawn.nodes:
            name = names[node.key]
            shape = ('["', '"]') if node.kind != "more" else ('>"', '"]')
            lines.append(f"  {name}{shape[0]}{_label(node)}{shape[1]}")
            if node.kind in ("focus", "more"):
                lines.append(f"  class {name} {node.kind}")
                continue
            fill = download_fill(node.downloads)
            outline = relation_style(node.relation or "unknown")["color"]
            dash = ",stroke-dasharray:4 3" if node.has_record is False else ""
            lines.append(f"  style {name} fill:{fill},stroke:{outline},stroke-width:2px{dash}")
        for index, edge in enumerate(drawn.edges):
            tail, head = names[edge.tail], names[edge.head]
            if edge.relation is None:
                lines.append(f"  {tail} --- {head}")
                lines.append(f"  linkStyle {index} stroke:#9A9A9A,stroke-dasharray:4 3")
                continue
            arrow = _ARROWS.get(edge.relation, "-->")
            lines.append(f'  {tail} {arrow}|"{mermaid_text(clean_text(edge.relation, 24))}"| {head}')
            lines.append(f"  linkStyle {index} stroke:{relation_style(edge.relation)['color']}")
        lines += [f"  classDef {name} {style}" for name, style in classes.items()]
        return ("\n".join(lines) + "\n").encode("utf-8")
