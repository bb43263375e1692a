"""Output formats. Results: console, json_doc, csv_table. Graph exports: a drawable subgraph
(:mod:`~ptmgraph.formats.subgraph`) written by one :class:`~ptmgraph.formats.interface.GraphFormat`
per file, all listed in :mod:`~ptmgraph.formats.registry`."""

from ptmgraph.formats.interface import ExportError, GraphFormat
from ptmgraph.formats.registry import GRAPH_FORMATS, choose_format, graph_format, write_graph
from ptmgraph.formats.subgraph import DrawnEdge, DrawnGraph, DrawnNode, lineage_subgraph

__all__ = [
    "GRAPH_FORMATS",
    "DrawnEdge",
    "DrawnGraph",
    "DrawnNode",
    "ExportError",
    "GraphFormat",
    "choose_format",
    "graph_format",
    "lineage_subgraph",
    "write_graph",
]
