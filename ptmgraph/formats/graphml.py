"""GraphML (for Cytoscape, yEd, Gephi), written a column at a time from :mod:`ptmgraph.formats.graph_data`;
every string through :func:`~ptmgraph.formats.escaping.xml_text` (what XML cannot hold, shown escaped).

The file is the one networkx's ``write_graphml(named_key_ids=True)`` wrote before: each key is called by
its attribute name, typed ``string``, ``long``, ``double`` or ``boolean`` (``True`` / ``False``), all keys
declared first (in the reverse of the order they are met), then the graph's data, nodes and edges.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any, BinaryIO

import polars as pl

from ptmgraph.formats.drawing import DrawnGraph
from ptmgraph.formats.escaping import xml_text
from ptmgraph.formats.graph_data import Column, edge_columns, graph_values, node_columns, project
from ptmgraph.formats.interface import GraphFormat
from ptmgraph.formats.xml_columns import (
    attribute_text,
    blocks,
    clean,
    element_text,
    escaped_series,
    first_seen,
    value_text,
)

TYPES = {"str": "string", "int": "long", "float": "double", "bool": "boolean"}
"""The GraphML type of each kind of column (networkx's names for Python's str, int, float and bool)."""
_BOOLEANS = ("True", "False")
_HEAD = ("<?xml version='1.0' encoding='utf-8'?>\n<graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\" "
         "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:schemaLocation=\"http://graphml.graphdrawing"
         ".org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd\">")


def _type_of(value: Any) -> str:
    return TYPES["bool" if isinstance(value, bool) else "int" if isinstance(value, int)
                 else "float" if isinstance(value, float) else "str"]


def _elements(tag: str, ends: list[tuple[str, list[str]]], columns: list[Column]) -> Iterator[bytes]:
    """``<tag ends...>`` with one ``<data>`` per present attribute, for every element (row)."""
    frame = pl.DataFrame(
        [escaped_series(clean(pl.Series(f"end{i}", values, dtype=pl.String)), attribute="lxml")
         for i, (_, values) in enumerate(ends)]
        + [escaped_series(value_text(c, _BOOLEANS)).alias(f"v{i}") for i, c in enumerate(columns)]
    )
    opening: list[pl.Expr | str] = [pl.lit(f"<{tag}")]
    for i, (name, _) in enumerate(ends):
        opening += [pl.lit(f' {name}="'), pl.col(f"end{i}"), pl.lit('"')]
    data = [
        pl.when(pl.col(f"v{i}").is_not_null())
        .then(pl.concat_str([pl.lit(f'  <data key="{attribute_text(c.name, "lxml")}">'), pl.col(f"v{i}"),
                             pl.lit("</data>\n")]))
        .otherwise(pl.lit(""))
        for i, c in enumerate(columns)
    ]
    inside = pl.concat_str(data) if data else pl.lit("")
    start = pl.concat_str(opening)
    block = (pl.when(inside == "").then(pl.concat_str([start, pl.lit("/>\n")]))
             .otherwise(pl.concat_str([start, pl.lit(">\n"), inside, pl.lit(f"</{tag}>\n")])))
    yield from blocks(frame, block)


def write_graphml(drawn: DrawnGraph, stream: BinaryIO, *, title: str) -> None:
    """Write ``drawn`` as GraphML to ``stream`` (see the module docstring)."""
    graph = [(xml_text(name), project(value, flat=True)) for name, value in graph_values(drawn, title)]
    keys, nodes = node_columns(drawn, flat=True, text=xml_text)
    tails, heads, edges = edge_columns(drawn, flat=True, text=xml_text)
    declared = [(name, _type_of(value), "graph") for name, value in graph]
    declared += [(name, kind, "node") for name, kind in first_seen(nodes, TYPES)]
    declared += [(name, kind, "edge") for name, kind in first_seen(edges, TYPES)]
    stream.write(_HEAD.encode())
    for name, kind, scope in reversed(list(dict.fromkeys(declared))):
        named = attribute_text(name, "lxml")
        stream.write(f'<key id="{named}" for="{scope}" attr.name="{named}" attr.type="{kind}"/>\n'.encode())
    stream.write(b'<graph edgedefault="directed">')
    for name, value in graph:
        text = element_text(xml_text(str(value)))
        stream.write(f'<data key="{attribute_text(name, "lxml")}">{text}</data>\n'.encode())
    for piece in _elements("node", [("id", keys)], nodes):
        stream.write(piece)
    for piece in _elements("edge", [("source", tails), ("target", heads)], edges):
        stream.write(piece)
    stream.write(b"</graph></graphml>")


class GraphMLFormat(GraphFormat):
    name = "graphml"
    extensions = (".graphml",)
    description = "GraphML for Cytoscape, yEd and Gephi"
    default_max_nodes = 0  # data: every model of the set

    def write(self, drawn: DrawnGraph, stream: BinaryIO, *, title: str, rankdir: str | None = None) -> None:
        write_graphml(drawn, stream, title=title)

    def render(self, drawn: DrawnGraph, *, title: str, rankdir: str | None = None) -> bytes:
        buffer = io.BytesIO()
        write_graphml(drawn, buffer, title=title)
        return buffer.getvalue()
