"""Snapshot tables -> the lineage graph (base -> derived), and lookups on it.

Queries walk the compact index (:mod:`ptmgraph.index`, ``LineageGraph.compact``), stored in the
snapshot or built in memory; the NetworkX graph (``LineageGraph.graph``) is built on first use only,
for the Python API and the analyses that still walk it. Its nodes carry the scalar ``models``
columns as attributes (:data:`NODE_ATTRIBUTES`; the full record,
lists included, is :meth:`LineageGraph.record`); edges carry the ``edges`` columns. Cycles and
self-loops are kept: every traversal in ``analyses`` tolerates them.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from ptmgraph import index as compact_index
from ptmgraph import snapshot as snapshot_io
from ptmgraph.ids import IdLookup, first_with_key, id_key, lowercase_ids, normalize_reference, normalized_references
from ptmgraph.records import MODELS_SCHEMA
from ptmgraph.relations import Confidence
from ptmgraph.snapshot import Snapshot

if TYPE_CHECKING:
    import networkx as nx
    import numpy as np

NODE_ATTRIBUTES = [c for c, t in MODELS_SCHEMA.items() if not isinstance(t, pl.List) and c != "id"] + [
    "weight_formats", "code_files"
]
"""Model columns copied onto the graph's nodes: the scalars analyses read, and the (short) weight formats
and own code files.
Files, tags, card fields and datasets stay in the table: copying them would dominate the build."""


class UnknownModelError(LookupError):
    """A model id that is not in the snapshot; ``suggestions`` holds the closest known ids."""

    def __init__(self, query: str, suggestions: list[str], dangling: dict[str, int] | None = None) -> None:
        self.query = query
        self.suggestions = suggestions
        self.dangling = dangling or {}
        """How many references name the model but could not become edges, by reason (a dangling reference)."""
        known = ""
        if self.dangling:
            reasons = ", ".join(f"{reason} {count:,}" for reason, count in sorted(self.dangling.items()))
            known = (f"; the snapshot knows it only as a dangling reference ({reasons}); fetch it: ptmgraph crawl "
                     f"--seed {query} --ancestors --max-depth 0 --out DIR")
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"unknown model '{query}'{known}{hint}")


class LineageGraph:
    """The lineage graph of one snapshot."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.compact: compact_index.CompactGraph = snapshot.index or _built(snapshot)
        """The compact index every query walks (see :mod:`ptmgraph.index`): the stored one when it
        passes its checks against the tables, else one built from them."""

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
    def id_lookup(self) -> IdLookup:
        """Every model id, looked up case-insensitively (built on first use: exact ids need none)."""
        return IdLookup(self.compact.ids.to_list())

    node_columns: list[str] = NODE_ATTRIBUTES
    """The node attributes :meth:`nodes_at` and :meth:`nodes_of` give when not told which
    (:data:`NODE_ATTRIBUTES`, or fewer in a view made by :meth:`with_node_columns`)."""

    def with_node_columns(self, columns: list[str]) -> LineageGraph:
        """This graph (sharing its snapshot and index) whose node rows carry only ``columns``: for a
        format that prints a few attributes of some models, so a stored snapshot reads those columns only."""
        view = copy.copy(self)
        view.node_columns = list(columns)
        return view

    def nodes_at(self, positions: pl.Series | np.ndarray | list[int], columns: list[str] | None = None) -> pl.DataFrame:
        """``id`` and the node attributes (:attr:`node_columns`, or ``columns``) of the models at these
        index positions, one row each in that order, taken from the models table (null for a model
        named only by an edge)."""
        wanted = columns or self.node_columns
        at = pl.Series(positions, dtype=pl.Int64) if not isinstance(positions, pl.Series) else positions.cast(pl.Int64)
        recorded = at < self.compact.rows
        # an edge-only model takes row 0's values, then null: a gather needs a row for every position
        rows = self.snapshot.columns("models", wanted).gather(at * recorded.cast(pl.Int64))
        if not recorded.all():
            rows = rows.select(pl.when(recorded).then(pl.col(c)).alias(c) for c in wanted)
        return rows.insert_column(0, self.compact.ids.gather(at).alias("id").cast(pl.String()))

    def nodes_of(self, models: list[str]) -> dict[str, dict[str, Any]]:
        """The node attributes of some models, by id (see :meth:`nodes_at`); KeyError for an unknown model."""
        positions = self.compact.position_list(models)
        return {row["id"]: row for row in self.nodes_at(positions).to_dicts()}

    def __contains__(self, model_id: object) -> bool:
        return model_id in self.id_lookup

    def resolve(self, query: str) -> str:
        """The canonical id for what a user typed (URL, other letter case, trailing slash ...).

        An id stored in the snapshot, typed as it is stored, is itself (a local id such as
        ``team/My Model v2`` included: README "Identity"); otherwise the Hub id the query names
        (:func:`~ptmgraph.ids.normalize_reference`), then the query as typed, in any letter case.
        Raises :class:`UnknownModelError` with the closest known ids when there is none.
        """
        ids = self.compact.ids
        if (ids == query).any():
            return query
        norm = normalize_reference(query)
        for wanted in dict.fromkeys(text for text in (norm.id, query.strip()) if text):
            at = first_with_key(ids, wanted)
            if at is not None:
                return self.compact.name(at)
        raise UnknownModelError(query, self.id_lookup.closest(norm.id or query), self._dangling(norm.id))

    def _dangling(self, model_id: str | None) -> dict[str, int]:
        """The dangling references that name ``model_id`` (in any letter case), counted by reason."""
        if model_id is None:
            return {}
        dangling = self.snapshot.columns("dangling", ["raw", "reason"])
        if not dangling.height:
            return {}
        named = normalized_references(dangling["raw"])["id"]
        hits = dangling.filter(lowercase_ids(named) == id_key(model_id))
        return dict(hits.group_by("reason").len().iter_rows())

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
        return self.compact.names(self.compact.parents.neighbours(self.compact.position(model_id)))

    def children(self, model_id: str) -> list[str]:
        """The models derived from it, in id order."""
        return self.compact.names(self.compact.children.neighbours(self.compact.position(model_id)))

    def edge(self, base: str, child: str) -> dict[str, Any]:
        """The ``edges`` row of base -> child (the last one, as networkx keeps it); KeyError when none."""
        rows = self.snapshot.edges.filter((pl.col("base") == base) & (pl.col("child") == child))
        if not rows.height:
            raise KeyError((base, child))
        return rows.row(rows.height - 1, named=True)


def _built(snapshot: Snapshot) -> compact_index.CompactGraph:
    """The index of ``snapshot``'s tables, built in memory; tables it cannot describe raise SnapshotError."""
    try:
        return compact_index.build(
            *(snapshot.columns(table, columns) for table, columns in snapshot_io.INDEX_COLUMNS.items()))
    except compact_index.IndexBuildError as err:
        raise snapshot_io.SnapshotError(f"{snapshot.where('edges')}: {err}") from None


def load_graph(directory: Path | None = None, *, min_confidence: Confidence | str | None = None) -> LineageGraph:
    """The graph of the snapshot in ``directory``, or of the bundled snapshot when None.

    The snapshot's tables are read as they are used (:func:`ptmgraph.snapshot.open_snapshot`): a point
    query reads the columns it prints, and a damaged table it does not use goes unnoticed.

    ``min_confidence`` drops the edges whose parent confidence is below that
    :class:`~ptmgraph.relations.Confidence` from the snapshot before the graph is built, so every
    analysis sees only the edges it may trust.
    """
    snap = snapshot_io.open_snapshot(directory or snapshot_io.bundled_path())
    if min_confidence is not None:
        snap = at_least(snap, Confidence(min_confidence))
    return LineageGraph(snap)


def at_least(snap: Snapshot, min_confidence: Confidence) -> Snapshot:
    """``snap`` without the edges whose parent confidence is below ``min_confidence``."""
    kept = [c.value for c in Confidence if c.rank >= min_confidence.rank]
    # the stored index holds every edge: the graph builds one of the kept edges
    return snap.with_edges(snap.edges.filter(pl.col("parent_confidence").is_in(kept)))


def load_graph_columns(directory: Path | None, columns: Mapping[str, list[str]],
                       min_confidence: Confidence | str | None = None) -> LineageGraph:
    """The graph of a snapshot read for a whole-graph analysis: of each table only the ``columns`` named
    for it (table name -> columns), with ``id`` of ``models``, the ``edges`` columns the index is built
    from, ``base`` and ``child`` of ``evidence`` when it is read, and the stored index; a table not
    named is left empty. At a million models that reads a tenth of the bytes :func:`load_graph` reads.

    The columns are read and checked as :func:`ptmgraph.snapshot.open_snapshot` reads any column (same
    errors); columns not read are not looked at. ``min_confidence`` as in :func:`load_graph`.
    """
    snap = snapshot_io.open_snapshot(Path(directory or snapshot_io.bundled_path()))
    always = {**_ALWAYS, "evidence": ["base", "child"]} if "evidence" in columns else _ALWAYS
    wanted = {name: list(dict.fromkeys([*always.get(name, []), *columns.get(name, [])]))
              for name in snapshot_io.TABLES if name in columns or name in always}
    tables = {name: snap.columns(name, wanted[name]) if name in wanted else pl.DataFrame(schema=schema)
              for name, schema in snapshot_io.TABLES.items()}
    partial = Snapshot(tables["models"], tables["edges"], tables["evidence"], tables["dangling"], tables["problems"],
                       tables["files"], meta=snap.meta, index=snap.index, directory=snap.directory)
    if min_confidence is not None:
        partial = at_least(partial, Confidence(min_confidence))
    return LineageGraph(partial)


_ALWAYS = snapshot_io.INDEX_COLUMNS
"""The columns :func:`load_graph_columns` always reads: those the index is built from."""
