"""GEXF 1.2 (for Gephi), written by networkx from :mod:`ptmgraph.formats.graph_data`;
every string through :func:`~ptmgraph.formats.escaping.xml_text` (what XML cannot hold, shown escaped)."""

from __future__ import annotations

import io

import networkx as nx

from ptmgraph.formats.escaping import xml_text
from ptmgraph.formats.graph_data import to_networkx
from ptmgraph.formats.interface import GraphFormat
from ptmgraph.formats.subgraph import DrawnGraph


class GexfFormat(GraphFormat):
    name = "gexf"
    extensions = (".gexf",)
    description = "GEXF for Gephi"

    def render(self, drawn: DrawnGraph, *, title: str, rankdir: str | None = None) -> bytes:
        buffer = io.BytesIO()
        graph = to_networkx(drawn, title=title, flat=True, text=xml_text)
        nx.write_gexf(graph, buffer, encoding="utf-8", version="1.2draft")
        return buffer.getvalue()
