"""Snapshot tables -> the lineage graph (base -> derived), and lookups on it.

Queries walk the compact index (:mod:`ptmgraph.index`, ``LineageGraph.compact``), stored in the
snapshot or built in memory; the NetworkX graph (``LineageGraph.graph``) is built on first use only,
for the Python API and the analyses that still walk it. Its nodes carry the scalar ``models``
columns as attributes (:data:`NODE_ATTRIBUTES`; the full record,
lists included, is :meth:`LineageGraph.record`); edges carry the ``edges`` columns. Cycles and
self-loops are kept: every traversal in ``analyses`` tolerates them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
from polars.exceptions import PanicException

from ptmgraph import index as compact_index
from ptmgraph import snapshot as snapshot_io
from ptmgraph.ids import IdIndex, normalize_reference
from ptmgraph.records import MODELS_SCHEMA
from ptmgraph.relations import Confidence
from ptmgraph.snapshot import Snapshot

if TYPE_CHECKING:
    import networkx as nx

NODE_ATTRIBUTES = [c for c, t in MODELS_SCHEMA.items() if not isinstance(t, pl.List) and c != "id"] + [
    "weight_formats"
]
"""Model columns copied onto the graph's nodes: the scalars analyses read, and the (short) weight formats.
Files, tags, card fields and datasets stay in the table: copying them would dominate the build."""


class UnknownModelError(LookupError):
    """A model id that is not in the snapshot; ``suggestions`` holds the closest known ids."""

    def __init__(self, query: str, suggestions: list[str]) -> None:
        self.query = query
        self.suggestions = suggestions
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"unknown model '{query}'{hint}")


class LineageGraph:
    """The lineage graph of one snapshot."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.compact: compact_index.CompactGraph = snapshot.index or compact_index.build(
            snapshot.models, snapshot.edges)
        """The compact index every query walks (see :mod:`ptmgraph.index`)."""

    @cached_property
    def graph(self) -> nx.DiGraph:
        """The networkx graph (base -> derived) with node and edge attributes, built on first use."""
        import networkx as nx

        graph = nx.DiGraph()
        models = self.snapshot.models
        graph.add_nodes_from(zip(models["id"].to_list(), models.select(NODE_ATTRIBUTES).to_dicts(), strict=True))
        edges = self.snapshot.edges
        graph.add_edges_from(zip(edges["base"].to_list(), edges["child"].to_list(), edges.to_dicts(), strict=True))
        return graph

    @cached_property
    def index(self) -> IdIndex:
        """Every model id, looked up case-insensitively (built on first use: exact ids need none)."""
        return IdIndex(self.compact.ids.to_list())

    def nodes_at(self, positions: np.ndarray, columns: list[str] | None = None) -> pl.DataFrame:
        """``id`` and the node attributes (:data:`NODE_ATTRIBUTES`, or ``columns``) of the models at these
        index positions, one row each in that order, taken from the models table (null for a model
        named only by an edge)."""
        wanted = columns or NODE_ATTRIBUTES
        positions = np.asarray(positions, dtype=np.int64)
        recorded = positions < self.compact.rows
        rows = self.snapshot.models.select(wanted).gather(np.where(recorded, positions, 0))
        if not recorded.all():
            mask = pl.Series(recorded)
            rows = rows.select(pl.when(mask).then(pl.col(c)).alias(c) for c in wanted)
        return rows.insert_column(0, pl.Series("id", self.compact.names(positions), dtype=pl.String()))

    def nodes_of(self, models: list[str]) -> dict[str, dict[str, Any]]:
        """The node attributes of some models, by id (see :meth:`nodes_at`); one hash join finds them all."""
        positions = self.compact.positions_of(models)
        return {row["id"]: row for row in self.nodes_at(positions).to_dicts()}

    def __contains__(self, model_id: object) -> bool:
        return model_id in self.index

    def resolve(self, query: str) -> str:
        """The canonical id for what a user typed (URL, other letter case, trailing slash ...).

        Raises :class:`UnknownModelError` with the closest known ids when there is none.
        """
        norm = normalize_reference(query)
        if norm.id:
            # one vectorised scan instead of a dict of every id; the first spelling is canonical, as in IdIndex
            same = (self.compact.ids.str.to_lowercase() == norm.id.lower()).arg_true()
            if same.len():
                return self.compact.name(int(same[0]))
        found = self.index.canonical(norm.id) if norm.id else None
        if found is None:
            raise UnknownModelError(query, self.index.closest(norm.id or query))
        return found

    def node(self, model_id: str) -> dict[str, Any]:
        """The node's attributes (see :data:`NODE_ATTRIBUTES`)."""
        row = self.nodes_of([model_id])[model_id]
        del row["id"]
        return row

    def record(self, model_id: str) -> dict[str, Any]:
        """Everything the snapshot knows of one model: its ``models`` row, lists included."""
        rows = self.snapshot.models.filter(pl.col("id") == model_id)
        return rows.row(0, named=True) if rows.height else {"id": model_id}

    def parents(self, model_id: str) -> list[str]:
        """The model's bases, in id order (itself too when it names itself)."""
        side = self.compact.parents
        return self.compact.names(side.neighbour[side.of(self.compact.position(model_id))])

    def children(self, model_id: str) -> list[str]:
        """The models derived from it, in id order."""
        side = self.compact.children
        return self.compact.names(side.neighbour[side.of(self.compact.position(model_id))])

    def edge(self, base: str, child: str) -> dict[str, Any]:
        """The ``edges`` row of base -> child (the last one, as networkx keeps it); KeyError when none."""
        rows = self.snapshot.edges.filter((pl.col("base") == base) & (pl.col("child") == child))
        if not rows.height:
            raise KeyError((base, child))
        return rows.row(rows.height - 1, named=True)


def load_graph(directory: Path | None = None, *, min_confidence: Confidence | str | None = None) -> LineageGraph:
    """The graph of the snapshot in ``directory``, or of the bundled snapshot when None.

    ``min_confidence`` drops the edges below that :class:`~ptmgraph.relations.Confidence` from the
    snapshot before the graph is built, so every analysis sees only the edges it may trust.
    """
    snap = snapshot_io.load(directory or snapshot_io.bundled_path())
    if min_confidence is not None:
        snap = at_least(snap, Confidence(min_confidence))
    return LineageGraph(snap)


def at_least(snap: Snapshot, min_confidence: Confidence) -> Snapshot:
    """``snap`` without the edges whose confidence is below ``min_confidence``."""
    kept = [c.value for c in Confidence if c.rank >= min_confidence.rank]
    # the stored index holds every edge: the graph builds one of the kept edges
    return replace(snap, edges=snap.edges.filter(pl.col("confidence").is_in(kept)), index=None)


def load_graph_columns(directory: Path | None, columns: Mapping[str, list[str]],
                       min_confidence: Confidence | str | None = None) -> LineageGraph:
    """The graph of a snapshot read for a whole-graph analysis: of each table only the ``columns`` named
    for it (table name -> columns), with ``id`` of ``models``, the four ``edges`` columns the index is
    checked against, ``base`` and ``child`` of ``evidence`` when it is read, and the stored index; a table
    not named is left empty. At a million models that reads a tenth of the bytes :func:`load_graph` reads.

    Anything unusual (a file or column missing, a column of any table stored with another type, an empty
    id, base or child, a time Python cannot hold in a column read, no usable index) reads the snapshot
    whole instead, so a damaged snapshot fails with :func:`load_graph`'s error. (Empty values and times
    in columns it does not read are not looked at.) ``min_confidence`` as in :func:`load_graph`.
    """
    directory = Path(directory or snapshot_io.bundled_path())
    wanted = {name: list(dict.fromkeys([*_ALWAYS.get(name, []), *columns.get(name, [])]))
              for name in snapshot_io.TABLES if name in columns or name in _ALWAYS}
    try:
        snap = _read_columns(directory, wanted)
    except (Exception, PanicException):  # any failure: the whole read below says what is wrong
        snap = None
    if snap is None:
        whole = snapshot_io.load(directory)
        tables: dict[str, Any] = {name: whole.table(name).select(wanted[name]) if name in wanted
                                  else whole.table(name).clear() for name in snapshot_io.TABLES}
        snap = replace(whole, **tables)
    if min_confidence is not None:
        snap = at_least(snap, Confidence(min_confidence))
    return LineageGraph(snap)


_ALWAYS = {"models": ["id"], "edges": ["base", "child", "relation", "confidence"]}
"""The columns :func:`load_graph_columns` always reads: those the index is built from."""

_NOT_EMPTY = {"models": ("id",), "edges": ("base", "child"), "evidence": ("base", "child")}
"""Columns that hold a value in every row of a readable snapshot (``snapshot.load`` checks them)."""


def _read_columns(directory: Path, wanted: dict[str, list[str]]) -> Snapshot | None:
    """:func:`load_graph_columns`' quick read, or None when anything is unusual."""
    from ptmgraph.reader import json_object

    if "evidence" in wanted:
        wanted["evidence"] = list(dict.fromkeys(["base", "child", *wanted["evidence"]]))
    for name, schema in snapshot_io.TABLES.items():
        path = directory / f"{name}.parquet"
        if path.is_symlink() or not path.is_file():
            return None
        kept = pl.read_parquet_schema(path)
        if any(kept.get(column) != dtype for column, dtype in schema.items()):
            return None  # a column missing or of another type: the whole read casts it or says why not
        if set(wanted.get(name, [])) - set(schema):
            return None
    with open(directory / "meta.json", "rb") as handle:
        meta = json_object(handle.read(1024 * 1024), "meta.json")
    if not isinstance(meta, dict) or meta.get("format_version") != snapshot_io.FORMAT_VERSION:
        return None
    read: dict[str, pl.DataFrame] = {}
    for name, schema in snapshot_io.TABLES.items():
        columns = wanted.get(name)
        if columns is None:
            read[name] = pl.DataFrame(schema=schema)
            continue
        frame = pl.read_parquet(directory / f"{name}.parquet", columns=columns)
        frame = frame.cast({c: schema[c] for c in columns}, strict=True)  # type: ignore[dict-item]
        if any(frame[c].null_count() for c in _NOT_EMPTY.get(name, ()) if c in frame.columns):
            return None
        for column in columns:
            if isinstance(schema[column], pl.Datetime):
                years = frame[column].dt.year()
                if years.null_count() < years.len() and not (years.min() >= 1 and years.max() <= 9999):  # type: ignore[operator]
                    return None
        read[name] = frame
    index_path = directory / compact_index.INDEX_FILE
    if index_path.is_symlink() or not index_path.is_file():
        return None
    stored = compact_index.read(index_path, read["models"], read["edges"])
    if stored is None:
        return None
    return Snapshot(meta=meta, index=stored, **read)
