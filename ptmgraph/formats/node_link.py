"""Node-link JSON (``networkx.node_link_data``, D3's shape): ``nodes``, ``edges`` and ``graph``.

Attributes are those of :mod:`ptmgraph.formats.graph_data`, with lists and objects kept as JSON.
"""

from __future__ import annotations

import json
from typing import Any

import networkx as nx

from ptmgraph.formats.graph_data import to_networkx
from ptmgraph.formats.interface import GraphFormat
from ptmgraph.formats.subgraph import DrawnGraph


def node_link_document(drawn: DrawnGraph, *, title: str) -> dict[str, Any]:
    """The node-link document of ``drawn`` (``directed``, ``multigraph``, ``graph``, ``nodes``, ``edges``)."""
    return dict(nx.node_link_data(to_networkx(drawn, title=title, flat=False), edges="edges"))


class NodeLinkJsonFormat(GraphFormat):
    name = "json"
    extensions = (".json",)
    description = "node-link JSON (networkx, D3)"
    default_max_nodes = 0  # data: every model of the set

    def render(self, drawn: DrawnGraph, *, title: str, rankdir: str | None = None) -> bytes:
        return (json.dumps(node_link_document(drawn, title=title), ensure_ascii=False, indent=1) + "\n").encode()
