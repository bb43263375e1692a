"""GraphML (for Cytoscape, yEd, Gephi), written by networkx from :mod:`ptmgraph.formats.graph_data`;
every string through :func:`~ptmgraph.formats.escaping.xml_text` (what XML cannot hold, shown escaped)."""

from __future__ import annotations

import io

import networkx as nx

from ptmgraph.formats.escaping import xml_text
from ptmgraph.formats.graph_data import to_networkx
from ptmgraph.formats.interface import GraphFormat
from ptmgraph.formats.subgraph import DrawnGraph


class GraphMLFormat(GraphFormat):
    name = "graphml"
    extensions = (".graphml",)
    description = "GraphML for Cytoscape, yEd and Gephi"

    def render(self, drawn: DrawnGraph, *, title: str, rankdir: str | None = None) -> bytes:
        buffer = io.BytesIO()
        # named_key_ids: keys are called by their attribute names, which keeps the file readable
        graph = to_networkx(drawn, title=title, flat=True, text=xml_text)
        nx.write_graphml(graph, buffer, encoding="utf-8", named_key_ids=True)
        return buffer.getvalue()
