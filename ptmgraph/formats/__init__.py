"""Export formats: choose a drawable lineage subgraph and render it with Graphviz (dot, svg, png)."""

from ptmgraph.formats.dot import FORMATS, ExportError, render, to_graphviz, write_graph
from ptmgraph.formats.subgraph import DrawnEdge, DrawnGraph, DrawnNode, lineage_subgraph

__all__ = [
    "FORMATS",
    "DrawnEdge",
    "DrawnGraph",
    "DrawnNode",
    "ExportError",
    "lineage_subgraph",
    "render",
    "to_graphviz",
    "write_graph",
]
