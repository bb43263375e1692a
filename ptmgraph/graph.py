"""Snapshot tables -> a NetworkX directed graph (base -> derived), and lookups on it.

Nodes carry the scalar ``models`` columns as attributes (:data:`NODE_ATTRIBUTES`; the full record,
lists included, is :meth:`LineageGraph.record`); edges carry the ``edges`` columns. Cycles and
self-loops are kept: every traversal in ``analyses`` tolerates them.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import networkx as nx
import polars as pl

from ptmgraph import snapshot as snapshot_io
from ptmgraph.ids import IdIndex, normalize_reference
from ptmgraph.records import MODELS_SCHEMA
from ptmgraph.relations import Confidence
from ptmgraph.snapshot import Snapshot

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
        self.graph: nx.DiGraph = nx.DiGraph()
        models = snapshot.models
        self.graph.add_nodes_from(zip(models["id"].to_list(), models.select(NODE_ATTRIBUTES).to_dicts(), strict=True))
        edges = snapshot.edges
        self.graph.add_edges_from(
            zip(edges["base"].to_list(), edges["child"].to_list(), edges.to_dicts(), strict=True)
        )
        self.index = IdIndex(self.graph.nodes)

    def __contains__(self, model_id: object) -> bool:
        return model_id in self.index

    def resolve(self, query: str) -> str:
        """The canonical id for what a user typed (URL, other letter case, trailing slash ...).

        Raises :class:`UnknownModelError` with the closest known ids when there is none.
        """
        norm = normalize_reference(query)
        found = self.index.canonical(norm.id) if norm.id else None
        if found is None:
            raise UnknownModelError(query, self.index.closest(norm.id or query))
        return found

    def node(self, model_id: str) -> dict[str, Any]:
        """The node's attributes (see :data:`NODE_ATTRIBUTES`)."""
        return dict(self.graph.nodes[model_id])

    def record(self, model_id: str) -> dict[str, Any]:
        """Everything the snapshot knows of one model: its ``models`` row, lists included."""
        rows = self.snapshot.models.filter(pl.col("id") == model_id)
        return rows.row(0, named=True) if rows.height else {"id": model_id}

    def parents(self, model_id: str) -> list[str]:
        return sorted(self.graph.predecessors(model_id))

    def children(self, model_id: str) -> list[str]:
        return sorted(self.graph.successors(model_id))

    def edge(self, base: str, child: str) -> dict[str, Any]:
        return dict(self.graph.edges[base, child])


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
    return replace(snap, edges=snap.edges.filter(pl.col("confidence").is_in(kept)))
