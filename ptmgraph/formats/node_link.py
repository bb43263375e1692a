"""Node-link JSON (``networkx.node_link_data``, D3's shape): ``directed``, ``multigraph``, ``graph``,
``nodes`` (each node's attributes and its ``id``) and ``edges`` (each edge's attributes, ``source`` and
``target``).

Attributes are those of :mod:`ptmgraph.formats.graph_data`, with lists and objects kept as JSON. Every
value is written by a JSON encoder, a column at a time (polars' for table columns, the standard
library's for the rest), one node or edge a line.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any, BinaryIO

import polars as pl

from ptmgraph.formats.drawing import DrawnGraph
from ptmgraph.formats.graph_data import Column, edge_columns, graph_values, json_scalar, node_columns
from ptmgraph.formats.interface import GraphFormat

CHUNK = 16_384
"""Nodes or edges written at a time."""


def _encoded(values: pl.Series) -> pl.Series:
    """Each value (text, integer, boolean) as JSON, null where it is null (:func:`json_scalar`)."""
    encoded = json_scalar(pl.col("v"), values.dtype)
    assert encoded is not None, values.dtype
    return values.alias("v").to_frame().select(pl.when(pl.col("v").is_null()).then(None).otherwise(encoded)
                                               .alias("v"))["v"]


def _json_values(column: Column) -> pl.Series:
    if column.kind == "json":  # already JSON text
        return column.values
    if column.kind == "float":  # as Python's encoder writes floats (NaN, Infinity)
        return pl.Series([None if v is None else json.dumps(v) for v in column.values.to_list()], dtype=pl.String)
    return _encoded(column.values)


def _objects(ends: list[tuple[str, list[str]]], columns: list[Column]) -> Iterator[bytes]:
    """One JSON object per row: each present attribute, then ``ends`` (id, or source and target)."""
    frame = pl.DataFrame([_json_values(c).alias(f"v{i}") for i, c in enumerate(columns)]
                         + [_encoded(pl.Series(values, dtype=pl.String)).alias(f"end{i}")
                            for i, (_, values) in enumerate(ends)])
    pieces = [pl.when(pl.col(f"v{i}").is_not_null())
              .then(pl.concat_str([pl.lit(json.dumps(c.name) + ": "), pl.col(f"v{i}"), pl.lit(", ")]))
              .otherwise(pl.lit("")) for i, c in enumerate(columns)]
    ends_text = [pl.concat_str([pl.lit((", " if i else "") + json.dumps(name) + ": "), pl.col(f"end{i}")])
                 for i, (name, _) in enumerate(ends)]
    block = pl.concat_str([pl.lit("{"), *pieces, *ends_text, pl.lit("}")])
    for start in range(0, frame.height, CHUNK):
        part = frame.slice(start, CHUNK).select(block.alias("b"))["b"]
        yield (",\n".join(part.to_list())).encode()
        if start + CHUNK < frame.height:
            yield b",\n"


def write_node_link(drawn: DrawnGraph, stream: BinaryIO, *, title: str) -> None:
    """Write ``drawn`` as node-link JSON to ``stream`` (see the module docstring)."""
    keys, nodes = node_columns(drawn, flat=False)
    tails, heads, edges = edge_columns(drawn, flat=False)
    graph: dict[str, Any] = dict(graph_values(drawn, title))
    head = json.dumps({"directed": True, "multigraph": False, "graph": graph}, ensure_ascii=False)
    stream.write((head[:-1] + ', "nodes": [\n').encode())
    for piece in _objects([("id", keys)], nodes):
        stream.write(piece)
    stream.write(b'\n], "edges": [\n')
    for piece in _objects([("source", tails), ("target", heads)], edges):
        stream.write(piece)
    stream.write(b"\n]}\n")


def node_link_document(drawn: DrawnGraph, *, title: str) -> dict[str, Any]:
    """The node-link document of ``drawn`` (``directed``, ``multigraph``, ``graph``, ``nodes``, ``edges``)."""
    buffer = io.BytesIO()
    write_node_link(drawn, buffer, title=title)
    return dict(json.loads(buffer.getvalue()))


class NodeLinkJsonFormat(GraphFormat):
    name = "json"
    extensions = (".json",)
    description = "node-link JSON (networkx, D3)"
    default_max_nodes = 0  # data: every model of the set

    def write(self, drawn: DrawnGraph, stream: BinaryIO, *, title: str, rankdir: str | None = None) -> None:
        write_node_link(drawn, stream, title=title)

    def render(self, drawn: DrawnGraph, *, title: str, rankdir: str | None = None) -> bytes:
        buffer = io.BytesIO()
        write_node_link(drawn, buffer, title=title)
        return buffer.getvalue()
