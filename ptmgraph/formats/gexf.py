"""GEXF 1.2 (for Gephi), written a column at a time from :mod:`ptmgraph.formats.graph_data`;
every string through :func:`~ptmgraph.formats.escaping.xml_text` (what XML cannot hold, shown escaped).

The file is the one networkx's ``write_gexf(version="1.2draft")`` wrote before: static attributes
numbered in the order they are met (nodes first, typed ``string``, ``long``, ``double`` or ``boolean``),
each node's ``label`` as its label, edges numbered from 0; the graph's own attributes are not written.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from typing import BinaryIO

import polars as pl

from ptmgraph import __version__
from ptmgraph.formats.drawing import DrawnGraph
from ptmgraph.formats.escaping import xml_text
from ptmgraph.formats.graph_data import Column, edge_columns, node_columns
from ptmgraph.formats.interface import GraphFormat
from ptmgraph.formats.xml_columns import attribute_text, blocks, clean, escaped_series, first_seen, value_text

TYPES = {"str": "string", "int": "long", "float": "double", "bool": "boolean"}
"""The GEXF type of each kind of column (networkx's names for Python's str, int, float and bool)."""
_BOOLEANS = ("true", "false")
_SPECIAL = {"inf": "INF", "-inf": "-INF", "nan": "NaN"}


def _values(column: Column) -> pl.Series:
    text = value_text(column, _BOOLEANS)
    if column.kind == "float":
        text = text.replace(_SPECIAL)
    return text


def _elements(tag: str, ends: list[tuple[str, pl.Series]], columns: list[Column], ids: dict[str, str]
              ) -> Iterator[bytes]:
    columns = [c for c in columns if c.name in ids]  # the others are never present
    frame = pl.DataFrame([escaped_series(clean(values), attribute="etree").alias(f"end{i}")
                          for i, (_, values) in enumerate(ends)]
                         + [escaped_series(_values(c), attribute="etree").alias(f"v{i}")
                            for i, c in enumerate(columns)])
    opening: list[pl.Expr] = [pl.lit(f"      <{tag}")]
    for i, (name, _) in enumerate(ends):
        opening += [pl.lit(f' {name}="'), pl.col(f"end{i}"), pl.lit('"')]
    values = [
        pl.when(pl.col(f"v{i}").is_not_null())
        .then(pl.concat_str([pl.lit(f'          <attvalue for="{ids[c.name]}" value="'),
                             pl.col(f"v{i}"), pl.lit('" />\n')]))
        .otherwise(pl.lit(""))
        for i, c in enumerate(columns)
    ]
    inside = pl.concat_str(values) if values else pl.lit("")
    start = pl.concat_str(opening)
    block = (pl.when(inside == "").then(pl.concat_str([start, pl.lit(" />\n")]))
             .otherwise(pl.concat_str([start, pl.lit(">\n        <attvalues>\n"), inside,
                                       pl.lit(f"        </attvalues>\n      </{tag}>\n")])))
    yield from blocks(frame, block)


def _write_section(stream: BinaryIO, tag: str, ends: list[tuple[str, pl.Series]] | None, columns: list[Column],
                   ids: dict[str, str]) -> None:
    """The ``<nodes>`` or ``<edges>`` section (``tag``: node, edge) to ``stream``: one element a row of
    ``ends`` (its own attributes), empty when there is none."""
    if ends is None:
        stream.write(f"    <{tag}s />\n".encode())
        return
    stream.write(f"    <{tag}s>\n".encode())
    for piece in _elements(tag, ends, columns, ids):
        stream.write(piece)
    stream.write(f"    </{tag}s>\n".encode())


def _by_name(seen: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """One attribute per name, of the first type met (GEXF attributes are keyed by title)."""
    found: dict[str, str] = {}
    for name, kind in seen:
        found.setdefault(name, kind)
    return list(found.items())


def write_gexf(drawn: DrawnGraph, stream: BinaryIO) -> None:
    """Write ``drawn`` as GEXF 1.2draft to ``stream`` (see the module docstring)."""
    keys, nodes = node_columns(drawn, flat=True, text=xml_text)
    tails, heads, edges = edge_columns(drawn, flat=True, text=xml_text)
    labels = next(c for c in nodes if c.name == "label").values
    nodes = [c for c in nodes if c.name != "label"]
    node_attrs, edge_attrs = _by_name(first_seen(nodes, TYPES)), _by_name(first_seen(edges, TYPES))
    node_ids = {name: str(i) for i, (name, _) in enumerate(node_attrs)}
    edge_ids = {name: str(i + len(node_attrs)) for i, (name, _) in enumerate(edge_attrs)}
    out = ["<?xml version='1.0' encoding='utf-8'?>\n"
           '<gexf xmlns="http://www.gexf.net/1.2draft" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
           'xsi:schemaLocation="http://www.gexf.net/1.2draft http://www.gexf.net/1.2draft/gexf.xsd" version="1.2">\n'
           f'  <meta lastmodifieddate="{time.strftime("%Y-%m-%d")}">\n    <creator>ptmgraph {__version__}</creator>\n'
           '  </meta>\n  <graph defaultedgetype="directed" mode="static" name="">\n']
    for scope, attrs, ids in (("edge", edge_attrs, edge_ids), ("node", node_attrs, node_ids)):
        if attrs:
            out.append(f'    <attributes mode="static" class="{scope}">\n')
            out += [f'      <attribute id="{ids[name]}" title="{attribute_text(name, "etree")}" type="{kind}" />\n'
                    for name, kind in attrs]
            out.append("    </attributes>\n")
    stream.write("".join(out).encode())
    node_ends = [("id", pl.Series(keys, dtype=pl.String)), ("label", labels.fill_null(pl.Series(keys)))]
    _write_section(stream, "node", node_ends if keys else None, nodes, node_ids)
    edge_ends = [("source", pl.Series(tails, dtype=pl.String)), ("target", pl.Series(heads, dtype=pl.String)),
                 ("id", pl.Series([str(i) for i in range(len(tails))], dtype=pl.String))]
    _write_section(stream, "edge", edge_ends if tails else None, edges, edge_ids)
    stream.write(b"  </graph>\n</gexf>\n")


class GexfFormat(GraphFormat):
    name = "gexf"
    extensions = (".gexf",)
    description = "GEXF for Gephi"
    default_max_nodes = 0  # data: every model of the set

    def write(self, drawn: DrawnGraph, stream: BinaryIO, *, title: str, rankdir: str | None = None) -> None:
        write_gexf(drawn, stream)

    def render(self, drawn: DrawnGraph, *, title: str, rankdir: str | None = None) -> bytes:
        buffer = io.BytesIO()
        write_gexf(drawn, buffer)
        return buffer.getvalue()
