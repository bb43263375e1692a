"""Reading an exported data file back as a user's tool would: networkx's own readers."""

from __future__ import annotations

import io
import json

import networkx as nx


def read_back(name: str, data: bytes) -> nx.DiGraph:
    """The graph a GraphML, GEXF or node-link JSON (``name``: graphml, gexf, json) file holds."""
    if name == "graphml":
        return nx.read_graphml(io.BytesIO(data))
    if name == "gexf":
        return nx.read_gexf(io.BytesIO(data))
    return nx.node_link_graph(json.loads(data), edges="edges")
