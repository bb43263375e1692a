"""Output formats. Results: an answer written by one :class:`~ptmgraph.formats.result_interface.ResultFormat`
per file (the terminal view ``table``, drawn by console, tree and views; the documents json_doc, csv_table,
sarif, markdown_text), all listed in :mod:`~ptmgraph.formats.results`. Graph exports: a drawable subgraph
(:mod:`~ptmgraph.formats.subgraph`) written by one :class:`~ptmgraph.formats.interface.GraphFormat`
per file, all listed in :mod:`~ptmgraph.formats.registry`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ptmgraph.lazy import lazy_attributes

if TYPE_CHECKING:
    from ptmgraph.formats.drawing import DrawnEdge, DrawnGraph, DrawnNode
    from ptmgraph.formats.interface import ExportError, GraphFormat
    from ptmgraph.formats.registry import GRAPH_FORMATS, choose_format, graph_format, write_graph
    from ptmgraph.formats.subgraph import lineage_subgraph

# Imported on first use: the terminal formats (console, tree, views) must not load Graphviz and
# CycloneDX through this package.
_LAZY = {
    "ExportError": "ptmgraph.formats.interface",
    "GraphFormat": "ptmgraph.formats.interface",
    "GRAPH_FORMATS": "ptmgraph.formats.registry",
    "choose_format": "ptmgraph.formats.registry",
    "graph_format": "ptmgraph.formats.registry",
    "write_graph": "ptmgraph.formats.registry",
    "DrawnEdge": "ptmgraph.formats.drawing",
    "DrawnGraph": "ptmgraph.formats.drawing",
    "DrawnNode": "ptmgraph.formats.drawing",
    "lineage_subgraph": "ptmgraph.formats.subgraph",
}


__getattr__ = lazy_attributes("ptmgraph.formats", _LAZY)

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
