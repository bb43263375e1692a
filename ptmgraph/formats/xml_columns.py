"""XML text and attribute values a column at a time, for the GraphML and GEXF writers.

Every string goes through :func:`~ptmgraph.formats.escaping.xml_text` first (what XML 1.0 cannot hold,
shown escaped: :func:`clean`), then the markup characters are written as entities: ``&``, ``<``, ``>``
in text, and also ``"``, tab, line feed and carriage return in attribute values (so a reader gets them
back instead of a space), as libxml2 and ElementTree write them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import polars as pl

from ptmgraph.formats.escaping import xml_text
from ptmgraph.formats.graph_data import Column

_ILLEGAL = "[^\t\n\r\\x{20}-\\x{D7FF}\\x{E000}-\\x{FFFD}\\x{10000}-\\x{10FFFF}]"
""":data:`ptmgraph.formats.escaping._XML_ILLEGAL` in the syntax of polars' regular expressions (its strings
are UTF-8, so they hold no lone surrogates)."""

CHUNK = 16_384
"""Elements written at a time: the file is written in pieces, never held as one string."""


def clean(series: pl.Series) -> pl.Series:
    """``series`` with :func:`xml_text` applied to each value that needs it (the rest are as they are)."""
    bad = series.str.contains(_ILLEGAL).fill_null(False)
    if not bad.any():
        return series
    values = series.to_list()
    for i in bad.arg_true().to_list():
        values[i] = xml_text(values[i])
    return pl.Series(series.name, values, dtype=pl.String)


def escaped_series(series: pl.Series, *, attribute: Literal["lxml", "etree"] | None = None) -> pl.Series:
    """:func:`escaped` of a column, read only when it holds a character to escape."""
    special = "[&<>\r]" if attribute is None else "[&<>\"\n\r\t]"
    if not series.str.contains(special).any():
        return series
    return series.to_frame("v").select(escaped(pl.col("v"), attribute=attribute).alias("v"))["v"].alias(series.name)


def escaped(expr: pl.Expr, *, attribute: Literal["lxml", "etree"] | None = None) -> pl.Expr:
    """Entities for the markup characters of ``expr``: text (``attribute`` None), or an attribute value as
    libxml2 (``lxml``: tab ``&#9;``) or ElementTree (``etree``: tab ``&#09;``) writes it."""
    expr = expr.str.replace_all("&", "&amp;", literal=True).str.replace_all("<", "&lt;", literal=True)
    expr = expr.str.replace_all(">", "&gt;", literal=True)
    if attribute is None:
        return expr.str.replace_all("\r", "&#13;", literal=True)
    expr = expr.str.replace_all('"', "&quot;", literal=True).str.replace_all("\n", "&#10;", literal=True)
    tab = "&#9;" if attribute == "lxml" else "&#09;"
    return expr.str.replace_all("\r", "&#13;", literal=True).str.replace_all("\t", tab, literal=True)


def attribute_text(value: str, style: Literal["lxml", "etree"]) -> str:
    """One attribute value (a name, a title) as :func:`escaped` writes it."""
    return pl.select(escaped(pl.lit(clean(pl.Series([value]))[0]), attribute=style)).item()


def element_text(value: str) -> str:
    """One text value as :func:`escaped` writes it."""
    return pl.select(escaped(pl.lit(clean(pl.Series([value]))[0]))).item()


def value_text(column: Column, booleans: tuple[str, str]) -> pl.Series:
    """``column`` as text: booleans as ``booleans`` (true, false), floats as Python writes them, strings
    through :func:`clean`; null where the value is left out."""
    values = column.values
    if column.kind == "bool":
        true, false = booleans
        return values.to_frame("v").select(
            pl.when(pl.col("v").is_null()).then(None).when(pl.col("v")).then(pl.lit(true)).otherwise(pl.lit(false)).alias("v")
        )["v"]
    if column.kind == "float":
        return pl.Series([None if v is None else str(v) for v in values.to_list()], dtype=pl.String)
    if column.kind == "int":
        return values.cast(pl.String)
    return clean(values.cast(pl.String))


def first_seen(columns: list[Column], kinds: dict[str, str]) -> list[tuple[str, str]]:
    """(name, type) of the attributes in the order an element-by-element writer meets them: by the first
    element that has one, then by column order; ``kinds`` maps a :data:`Kind` to the file's type name."""
    seen: list[tuple[int, int, str, str]] = []
    for position, column in enumerate(columns):
        present = column.values.is_not_null()
        if present.any():
            seen.append((int(present.arg_max() or 0), position, column.name, kinds[column.kind]))
    return list(dict.fromkeys((name, kind) for _, _, name, kind in sorted(seen)))


def blocks(frame: pl.DataFrame, block: pl.Expr) -> Iterator[bytes]:
    """``block`` (one string per row of ``frame``) evaluated :data:`CHUNK` rows at a time, as UTF-8."""
    for start in range(0, frame.height, CHUNK):
        part = frame.slice(start, CHUNK).select(block.alias("block"))["block"]
        yield part.str.join("").item().encode()
