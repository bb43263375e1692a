"""A drawable subgraph's attributes as columns, for the data formats (GraphML, GEXF, node-link JSON).

Nodes are keyed by :attr:`DrawnNode.key` (the model id; ``more:ID`` for a ``+K more`` node). Each
carries ``label`` (the id, or the ``+K more (...)`` text), ``kind`` (focus / model / more), ``depth``
(hops from the focus), ``relation`` (of its own hop) and the model's record attributes; a ``more``
node carries ``anchor``, ``hidden_count``, ``hidden_ids`` and ``hidden_by_relation``. Edges (base ->
derived) carry the snapshot's edge columns (``relation``, ``relation_rule``, the declared / Hub /
inferred relations side by side, ``parent_confidence`` and ``relation_confidence`` ...), ``evidence`` (the
evidence rows) and ``summary`` (true for the edge to a ``+K more`` node). The graph carries
``focus``, ``direction``, ``title``, ``caption``, ``shown``, ``total`` and ``hidden``.

**Projection.** Missing values (None) are left out; datetimes become ISO 8601 text; with
``flat=True`` (GraphML, GEXF: scalars only) lists and mappings become JSON text, otherwise (JSON)
they stay lists and objects. Strings, integers, floats and booleans are kept as they are.

**Order.** A node's attributes come in this order: its record's columns (``downloads``, ``likes``,
``license`` and ``has_record`` taken from the walk when the record has none), then ``label``, ``kind``,
``depth``, those four for a model with no record, ``relation``, and a ``more`` node's own. An edge's: its
``edges`` columns (``relation`` replaced by the drawn relation), ``summary``, ``evidence``. Edges are
listed grouped by their tail, in node order (as networkx lists a graph's edges).

Every column is a :class:`polars.Series` aligned with the drawing's nodes (or edges), null where the
attribute is left out: the writers read them a column at a time, with no dict per node.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import polars as pl

from ptmgraph.formats.drawing import DrawnGraph, DrawnNode, TableList, TableRow

if TYPE_CHECKING:
    from polars._typing import PolarsDataType

Kind = Literal["str", "int", "float", "bool", "json"]
"""What a column holds: text, integers, floats, booleans, or (``flat=False`` only) JSON text of a list or object."""


def project(value: Any, *, flat: bool) -> Any:
    """``value`` as a type the file format accepts (see the module docstring); None stays None."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, Mapping):
        native = {str(k): project(v, flat=False) for k, v in value.items()}
        return json.dumps(native, ensure_ascii=False, sort_keys=True) if flat else native
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [project(v, flat=False) for v in value]
        return json.dumps(items, ensure_ascii=False) if flat else items
    return str(value)


@dataclass(frozen=True)
class Column:
    """One attribute of every node (or edge): ``values`` aligned with them, null where it is left out."""

    name: str
    kind: Kind
    values: pl.Series


def _same(value: str) -> str:
    return value


def through(text: Callable[[str], str], values: list[str]) -> list[str]:
    """``values`` through ``text``, which changes characters one by one: one call when it changes none."""
    if text is _same:
        return values
    joined = "\n".join(values)
    return values if text(joined) == joined else [text(v) for v in values]


def _json_texts(values: list[Any], flat: bool, text: Callable[[str], str] = _same) -> pl.Series:
    """The JSON text of each list or object (:func:`project`), None kept; equal values encoded once."""
    done: dict[str, str] = {}
    out: list[str | None] = []
    for value in values:
        if value is None:
            out.append(None)
            continue
        memo = repr(value)
        encoded = done.get(memo)
        if encoded is None:
            projected = project(value, flat=flat)
            encoded = done[memo] = text(projected if flat else json.dumps(projected, ensure_ascii=False))
        out.append(encoded)
    return pl.Series(out, dtype=pl.String)


def json_scalar(expr: pl.Expr, dtype: PolarsDataType) -> pl.Expr | None:
    """JSON text of a column of text, integers or booleans (``null`` for null): text by polars' JSON encoder
    (the one-field object it encodes, unwrapped); None for another type."""
    if dtype in (pl.String, pl.Null):
        encoded = pl.struct(expr.cast(pl.String).alias("v")).struct.json_encode()
        return encoded.str.slice(5, encoded.str.len_chars() - 6)  # {"v":...} -> ...
    if dtype == pl.Boolean:
        return pl.when(expr.is_null()).then(pl.lit("null")).when(expr).then(pl.lit("true")).otherwise(pl.lit("false"))
    if dtype.is_integer():
        return expr.cast(pl.String).fill_null("null")
    return None


def _json_lists(series: pl.Series) -> pl.Series | None:
    """JSON text of each list of scalars or of flat objects (evidence rows), as :func:`json.dumps` writes
    it (``", "`` and ``": "`` between items), a column at a time; None kept; None for other lists."""
    dtype = series.dtype
    if not isinstance(dtype, pl.List):
        return None
    inner = dtype.inner
    if isinstance(inner, pl.Struct):
        if not inner.fields:
            return None
        parts: list[pl.Expr] = []
        for i, item in enumerate(inner.fields):
            value = json_scalar(pl.element().struct.field(item.name), item.dtype)
            if value is None:
                return None
            parts += [pl.lit(("{" if i == 0 else ", ") + json.dumps(item.name, ensure_ascii=False) + ": "), value]
        encoded: pl.Expr | None = pl.concat_str([*parts, pl.lit("}")])
    else:
        encoded = json_scalar(pl.element(), inner)
    if encoded is None:
        return None
    frame = series.alias("v").to_frame()
    text = pl.concat_str([pl.lit("["), pl.col("v").list.eval(encoded).list.join(", "), pl.lit("]")])
    return frame.select(pl.when(pl.col("v").is_null()).then(None).otherwise(text).alias("v"))["v"]


def _iso(series: pl.Series) -> pl.Series:
    """Datetimes and dates as :meth:`datetime.isoformat` writes them (microseconds only when not zero)."""
    dtype = series.dtype
    if dtype == pl.Date:
        return series.dt.to_string("%Y-%m-%d")
    zone = "%:z" if getattr(dtype, "time_zone", None) else ""
    frame = series.to_frame("v")
    whole = pl.col("v").dt.to_string(f"%Y-%m-%dT%H:%M:%S{zone}")
    fraction = pl.col("v").dt.to_string(f"%Y-%m-%dT%H:%M:%S%.6f{zone}")
    return frame.select(pl.when(pl.col("v").dt.microsecond() == 0).then(whole).otherwise(fraction).alias("v"))["v"]


def column_of(name: str, series: pl.Series, *, flat: bool) -> Column:
    """A table column projected (see the module docstring)."""
    dtype = series.dtype
    if dtype == pl.String:
        return Column(name, "str", series)
    if dtype == pl.Boolean:
        return Column(name, "bool", series)
    if dtype.is_integer():
        return Column(name, "int", series)
    if dtype.is_float():
        return Column(name, "float", series)
    if dtype in (pl.Datetime, pl.Date):
        return Column(name, "str", _iso(series))
    if dtype == pl.Null:
        return Column(name, "str", series.cast(pl.String))
    texts = _json_lists(series)
    if texts is None:
        texts = _json_texts(series.to_list(), flat)
    return Column(name, "str" if flat else "json", texts)


def python_column(name: str, values: list[Any], *, flat: bool, text: Callable[[str], str] = _same) -> Column:
    """A column of Python values (one kind, or None) projected (see the module docstring); text (JSON text
    included) written through ``text``, the escaping of the file format for what a table cannot hold."""
    values = [v.isoformat() if isinstance(v, (dt.datetime, dt.date)) else v for v in values]
    present = [v for v in values if v is not None]
    first = present[0] if present else None
    if isinstance(first, bool):
        return Column(name, "bool", pl.Series(values, dtype=pl.Boolean))
    if isinstance(first, int):
        return Column(name, "int", pl.Series(values, dtype=pl.Int64))
    if isinstance(first, float):
        return Column(name, "float", pl.Series(values, dtype=pl.Float64))
    if first is None or isinstance(first, str):
        present_text = iter(through(text, [v for v in values if v is not None]))
        return Column(name, "str", pl.Series([None if v is None else next(present_text) for v in values],
                                             dtype=pl.String))
    texts = _json_texts(values, flat, text)
    return Column(name, "str" if flat else "json", texts)


def graph_values(drawn: DrawnGraph, title: str) -> list[tuple[str, Any]]:
    """The graph's own attributes, missing ones left out."""
    values = {"focus": drawn.focus, "direction": drawn.direction, "title": title, "caption": drawn.caption,
              "shown": drawn.shown, "total": drawn.total, "hidden": drawn.hidden}
    return [(k, v) for k, v in values.items() if v is not None]


def _mapping_table(mappings: list[dict[str, Any]], text: Callable[[str], str]) -> dict[str, pl.Series]:
    """The columns of hand-made attribute mappings (strings through ``text``; lists and objects as they are)."""
    columns: dict[str, pl.Series] = {}
    for name in dict.fromkeys(k for m in mappings for k in m):
        values = [m.get(name) for m in mappings]
        if any(isinstance(v, (list, tuple, set, frozenset, Mapping)) for v in values):
            columns[name] = pl.Series(name, [project(v, flat=False) for v in values])
        else:
            columns[name] = python_column(name, values, flat=False, text=text).values
    return columns


def _records(drawn: DrawnGraph, text: Callable[[str], str]) -> tuple[pl.DataFrame, list[int | None]]:
    """The record table of the drawn models and, per node, its row (None for a ``more`` node): the drawing's
    own :attr:`DrawnGraph.records` when every model reads it, else a table of the models' mappings."""
    models = [(i, n) for i, n in enumerate(drawn.nodes) if n.kind != "more"]
    rows: list[int | None] = [None] * len(drawn.nodes)
    table = drawn.records
    if table is not None and all(isinstance(n.attributes, TableRow) and n.attributes.table is table for _, n in models):
        for i, node in models:
            rows[i] = node.attributes.row  # type: ignore[attr-defined]
        return table, rows
    mappings = [dict(n.attributes) for _, n in models]
    columns = {k: v for k, v in _mapping_table(mappings, text).items() if k != "id"}
    columns["id"] = pl.Series([text(n.key) if m else None for (_, n), m in zip(models, mappings, strict=True)],
                              dtype=pl.String)
    for j, (i, _) in enumerate(models):
        rows[i] = j
    return pl.DataFrame(columns), rows


def node_columns(drawn: DrawnGraph, *, flat: bool, text: Callable[[str], str] = _same
                 ) -> tuple[list[str], list[Column]]:
    """The node keys and their attribute columns, in the order of the module docstring."""
    nodes = drawn.nodes
    table, rows = _records(drawn, text)
    at = pl.Series(rows, dtype=pl.Int64)
    recorded = table["id"].gather(at).is_not_null() if "id" in table.columns else pl.Series([False] * len(nodes))

    def own(getter: Any, name: str, nodes_: tuple[DrawnNode, ...] = nodes) -> Column:
        return python_column(name, [getter(n) for n in nodes_], flat=flat, text=text)

    fallback = ("downloads", "likes", "license", "has_record")
    drawn_cols = {
        "label": own(lambda n: n.summary_text if n.kind == "more" else n.id, "label"),
        "kind": own(lambda n: n.kind, "kind"),
        "depth": own(lambda n: n.depth, "depth"),
    }
    walk = {name: own(lambda n, name=name: None if n.kind == "more" else getattr(n, name), name) for name in fallback}
    late = {
        "relation": own(lambda n: None if n.kind == "more" else n.relation, "relation"),
        "anchor": own(lambda n: n.anchor if n.kind == "more" else None, "anchor"),
        "hidden_count": own(lambda n: n.hidden_count if n.kind == "more" else None, "hidden_count"),
        "hidden_ids": own(lambda n: list(n.hidden_ids) if n.kind == "more" else None, "hidden_ids"),
        "hidden_by_relation": own(lambda n: dict(n.hidden_by_relation) if n.kind == "more" else None,
                                  "hidden_by_relation"),
    }
    columns: list[Column] = []
    placed: set[str] = set()
    for name in table.columns:
        if name == "id":
            continue
        column = column_of(name, table[name].gather(at), flat=flat)
        if name in drawn_cols or name in late:  # the drawing's own value, in the record's place
            column = (drawn_cols | late)[name]
            placed.add(name)
        elif name in walk:  # the record's value, else the walk's (same kind: both are the record's)
            other = walk[name].values
            if other.dtype != column.values.dtype and other.null_count() < len(other):
                other = other.cast(column.values.dtype, strict=False)
            values = pl.select(pl.when(recorded).then(pl.coalesce(column.values, other)).alias(name))[name] \
                if column.kind != "json" else column.values
            column = Column(name, column.kind, values)
        columns.append(column)
    columns += [c for name, c in drawn_cols.items() if name not in placed]
    for name in fallback:  # a model with no record: the walk's values, after label, kind and depth
        values = walk[name].values
        if name in table.columns:
            values = pl.select(pl.when(recorded).then(None).otherwise(values).alias(name))[name]
        columns.append(Column(name, walk[name].kind, values))
    columns += [c for name, c in late.items() if name not in placed]
    return through(text, [n.key for n in nodes]), columns


def edge_columns(drawn: DrawnGraph, *, flat: bool, text: Callable[[str], str] = _same
                 ) -> tuple[list[str], list[str], list[Column]]:
    """The edges' ends (tail, head) and their attribute columns, in the order of the module docstring."""
    edges = drawn.edges
    models = [(i, e) for i, e in enumerate(edges) if not e.is_summary]
    table = drawn.edge_records
    rows: list[int | None] = [None] * len(edges)
    if table is not None and all(isinstance(e.attributes, TableRow) and e.attributes.table is table
                                 and isinstance(e.evidence, TableList) for _, e in models):
        for i, edge in models:
            rows[i] = edge.attributes.row  # type: ignore[attr-defined]
    else:
        mappings = [{k: v for k, v in e.attributes.items() if k != "evidence"} for _, e in models]
        data = _mapping_table(mappings, text)
        data["evidence"] = _json_texts([[dict(r) for r in e.evidence] or None for _, e in models], True, text)
        table = pl.DataFrame(data) if data else pl.DataFrame({"evidence": pl.Series([], dtype=pl.String)})
        for j, (i, _) in enumerate(models):
            rows[i] = j
    at = pl.Series(rows, dtype=pl.Int64)
    columns: list[Column] = []
    relation = python_column("relation", [e.relation for e in edges], flat=flat, text=text)
    for name in table.columns:
        if name in ("base", "child", "evidence"):
            continue
        columns.append(relation if name == "relation" else column_of(name, table[name].gather(at), flat=flat))
    if "relation" not in table.columns:
        columns.append(relation)
    columns.append(python_column("summary", [e.is_summary for e in edges], flat=flat))
    if "evidence" in table.columns:
        evidence = table["evidence"]
        if evidence.dtype == pl.Null:  # a snapshot without evidence rows
            evidence = evidence.cast(pl.String)
        if evidence.dtype != pl.String:  # the snapshot's rows (list of structs): JSON text of each non-empty list
            evidence = evidence.to_frame("v").select(
                pl.when(pl.col("v").list.len() > 0).then(pl.col("v")).alias("v"))["v"]
            listed = _json_lists(evidence)
            evidence = listed if listed is not None else _json_texts(evidence.to_list(), True)
        columns.append(Column("evidence", "str" if flat else "json", evidence.gather(at)))
    # listed as networkx lists a graph's edges: grouped by tail, in node order, each group in drawing order
    place = {n.key: i for i, n in enumerate(drawn.nodes)}
    order = sorted(range(len(edges)), key=lambda i: place.get(edges[i].tail, len(place)))
    if order != list(range(len(edges))):
        taken = pl.Series(order, dtype=pl.Int64)
        columns = [Column(c.name, c.kind, c.values.gather(taken)) for c in columns]
        edges = tuple(edges[i] for i in order)
    return through(text, [e.tail for e in edges]), through(text, [e.head for e in edges]), columns
