"""The compact lineage graph: integer node ids and CSR adjacency in both directions, on numpy arrays.

Definitions:

- **position** (node id) of a model: its row number in the ``models`` table; models named only by
  edges (no row of their own) follow, numbered in the order the ``edges`` table first names them
  (base before child), as :class:`networkx.DiGraph` would add them.
- **CSR adjacency**: for direction d (``children``: base -> derived, ``parents``: derived -> base),
  the neighbours of node v are ``neighbour[d][indptr[d][v]:indptr[d][v + 1]]`` (int32 positions),
  sorted by model id (Unicode code point order, as Python sorts ``str``), so a walk visits them in id
  order. Each entry carries its edge's relation code and confidence code at the same offset.
- **relation code**: a small int, ``relation_names[code]`` the relation; the table starts with
  :data:`RELATION_CODES` (0 finetune, 1 adapter, 2 quantized, 3 merge, 4 unknown) and appends any
  other spelling found in the edges; -1 is a missing relation.
- **confidence code**: 0 low, 1 medium, 2 high (:data:`CONFIDENCE_CODES`); -1 missing.

A pair (base, child) named twice in ``edges`` is one edge carrying the last row's relation and
confidence, as networkx's ``add_edges_from`` keeps it. Self-loops are kept.

The index is built from the tables (:func:`build`), written beside them as ``index.npz`` (plain
arrays, never pickled) and read back by :func:`read`; :func:`read` returns None when the stored
index was built from other tables (its ``fingerprint`` differs), so the caller builds one in memory.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl

INDEX_FILE = "index.npz"
"""The snapshot file holding the index (numpy's uncompressed ``.npz``: a zip of ``.npy`` arrays)."""

INDEX_VERSION = 1

RELATION_CODES = ("finetune", "adapter", "quantized", "merge", "unknown")
"""The first relation codes, in code order (see the module docstring)."""

CONFIDENCE_CODES = ("low", "medium", "high")
"""The confidence codes, in code order (weakest first)."""

Side = Literal["children", "parents"]
"""``children`` lists each model's derived models; ``parents`` each model's bases."""


class IndexFileError(ValueError):
    """A stored index file that cannot be used; the message says why."""


@dataclass(frozen=True)
class Adjacency:
    """One direction of the CSR adjacency (see the module docstring)."""

    indptr: np.ndarray  # int64, one more than the node count
    neighbour: np.ndarray  # int32 positions
    relation: np.ndarray  # int8 relation codes
    confidence: np.ndarray  # int8 confidence codes

    def of(self, node: int) -> slice:
        """The offsets of ``node``'s neighbours."""
        return slice(int(self.indptr[node]), int(self.indptr[node + 1]))


@dataclass(frozen=True)
class CompactGraph:
    """The compact lineage graph of one snapshot (see the module docstring)."""

    ids: pl.Series  # String: the model id at each position
    rows: int  # how many positions are rows of the models table (the rest are edge-only models)
    children: Adjacency
    parents: Adjacency
    relation_names: tuple[str, ...]
    fingerprint: int

    @property
    def nodes(self) -> int:
        return self.ids.len()

    def side(self, side: Side) -> Adjacency:
        return self.children if side == "children" else self.parents

    def position(self, model: str) -> int:
        """The position of ``model``; KeyError when the graph has no such model.

        A scan of the id column (milliseconds at a million models): a point query looks up one or two
        models, and a dict of every id would cost more than the query.
        """
        found = self.ids.index_of(model)
        if found is None:
            raise KeyError(model)
        return int(found)

    def positions_of(self, models: list[str]) -> np.ndarray:
        """The positions of ``models`` (int64, in that order; an id named twice in the graph: its first
        position); KeyError for an unknown model.

        One scan of the ids finds the positions of the models asked for; only those are joined, so a
        lookup of a few models costs milliseconds at a million models, not a table of every id.
        """
        if not models:
            return np.zeros(0, dtype=np.int64)
        wanted = pl.Series("id", models, dtype=pl.String())
        hits = self.ids.is_in(wanted.implode()).arg_true().alias("position")
        table = pl.DataFrame({"id": self.ids.gather(hits), "position": hits}).unique("id", keep="first")
        found = wanted.to_frame().join(table, on="id", how="left", maintain_order="left")["position"]
        if found.null_count():
            raise KeyError(models[found.is_null().arg_true()[0]])
        return found.to_numpy().astype(np.int64)

    def name(self, position: int) -> str:
        return str(self.ids[position])

    def names(self, positions: np.ndarray) -> list[str]:
        return self.ids.gather(positions).to_list() if len(positions) else []

    def relation_of(self, code: int) -> str | None:
        return self.relation_names[code] if code >= 0 else None

    def edge_offset(self, base: int, child: int) -> int | None:
        """The offset of the edge base -> child in :attr:`children`, or None when there is none."""
        span = self.children.of(base)
        hits = np.flatnonzero(self.children.neighbour[span] == child)
        return span.start + int(hits[0]) if len(hits) else None


def _codes(column: pl.Series, first: tuple[str, ...]) -> tuple[np.ndarray, tuple[str, ...]]:
    """``column`` as int8 codes into a table that starts with ``first``; null -> -1."""
    extra = sorted(set(column.drop_nulls().unique().to_list()) - set(first))
    names = first + tuple(extra)
    if len(names) > 127:
        raise ValueError("more than 127 distinct relations")
    mapping = pl.DataFrame({"value": list(names), "code": list(range(len(names)))},
                           schema={"value": pl.String(), "code": pl.Int8()})
    coded = pl.DataFrame({"value": column.cast(pl.String)}).join(mapping, on="value", how="left",
                                                                  maintain_order="left")
    return coded["code"].fill_null(-1).to_numpy().astype(np.int8), names


def fingerprint(models: pl.DataFrame, edges: pl.DataFrame) -> int:
    """A 63-bit hash of the columns the index is built from, so a stored index is used only with its tables.

    (polars' hashes may change between polars versions: then the index is rebuilt in memory, never wrong.)
    """
    total = models.height * 1_000_003 + edges.height
    for frame, columns in ((models, ["id"]), (edges, ["base", "child", "relation", "confidence"])):
        if frame.height:
            hashed = frame.select(columns).hash_rows(seed=7).to_numpy()
            # Weighted by row so that reordering rows changes it too.
            weights = np.arange(1, len(hashed) + 1, dtype=np.uint64)
            total ^= int(np.bitwise_xor.reduce(hashed * weights)) if len(hashed) else 0
    return total & ((1 << 63) - 1)


def _adjacency(source: np.ndarray, target: np.ndarray, rank: np.ndarray, relation: np.ndarray,
               confidence: np.ndarray, nodes: int) -> Adjacency:
    order = np.lexsort((rank[target], source))  # by source, then neighbour id
    counts = np.bincount(source, minlength=nodes)
    indptr = np.zeros(nodes + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    return Adjacency(indptr, target[order].astype(np.int32), relation[order], confidence[order])


def build(models: pl.DataFrame, edges: pl.DataFrame) -> CompactGraph:
    """The compact graph of the ``models`` and ``edges`` tables (see the module docstring)."""
    model_ids = models["id"].cast(pl.String)
    named = pl.DataFrame({"id": pl.concat([edges["base"], edges["child"]]).cast(pl.String)}) if edges.height else None
    extra = pl.Series("id", [], dtype=pl.String)
    if named is not None:
        # edge-only ids in order of first mention, base before child within an edge (networkx's order)
        interleaved = pl.DataFrame({"base": edges["base"], "child": edges["child"]}).select(
            pl.concat_list("base", "child").alias("id")).explode("id")["id"]
        extra = interleaved.filter(~interleaved.is_in(model_ids.implode())).unique(maintain_order=True)
    ids = pl.concat([model_ids, extra]).alias("id")
    nodes = ids.len()
    positions = pl.DataFrame({"id": ids, "position": np.arange(nodes, dtype=np.int32)})
    # A model id repeated in the table keeps its first row, as networkx merges it into one node.
    positions = positions.unique("id", keep="first", maintain_order=True)
    pairs = (
        edges.select("base", "child", "relation", "confidence")
        .with_row_index("row")
        .unique(["base", "child"], keep="last", maintain_order=True)  # networkx keeps the last attributes
        .join(positions.rename({"id": "base", "position": "b"}), on="base", how="left", maintain_order="left")
        .join(positions.rename({"id": "child", "position": "c"}), on="child", how="left", maintain_order="left")
    )
    base = pairs["b"].to_numpy().astype(np.int64)
    child = pairs["c"].to_numpy().astype(np.int64)
    relation, relation_names = _codes(pairs["relation"], RELATION_CODES)
    confidence, _ = _codes(pairs["confidence"], CONFIDENCE_CODES)
    confidence[confidence >= len(CONFIDENCE_CODES)] = -1
    rank = np.empty(nodes, dtype=np.int64)
    rank[ids.arg_sort().to_numpy()] = np.arange(nodes)
    return CompactGraph(
        ids=ids,
        rows=models.height,
        children=_adjacency(base, child, rank, relation, confidence, nodes),
        parents=_adjacency(child, base, rank, relation, confidence, nodes),
        relation_names=relation_names,
        fingerprint=fingerprint(models, edges),
    )


def write(index: CompactGraph, path: Path) -> None:
    """Store ``index`` (without the ids, which the models table holds) as an uncompressed ``.npz``."""
    arrays: dict[str, np.ndarray] = {
        "version": np.array([INDEX_VERSION], dtype=np.int64),
        "fingerprint": np.array([index.fingerprint], dtype=np.int64),
        "rows": np.array([index.rows], dtype=np.int64),
        "extra_ids": np.array(index.ids.slice(index.rows).to_list(), dtype=np.str_),
        "relation_names": np.array(index.relation_names, dtype=np.str_),
    }
    for side in ("children", "parents"):
        adjacency = index.side(side)  # type: ignore[arg-type]
        for field in ("indptr", "neighbour", "relation", "confidence"):
            arrays[f"{side}_{field}"] = getattr(adjacency, field)
    with open(path, "wb") as handle:
        np.savez(handle, allow_pickle=False, **arrays)


def read(path: Path, models: pl.DataFrame, edges: pl.DataFrame) -> CompactGraph | None:
    """The index stored at ``path`` for these tables; None when it was built from other tables or
    another index version. Raises :class:`IndexFileError` when the file is damaged."""
    try:
        with np.load(path, allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as err:
        raise IndexFileError(f"not a readable index ({type(err).__name__})") from None
    try:
        if int(arrays["version"][0]) != INDEX_VERSION:
            return None
        if int(arrays["rows"][0]) != models.height or int(arrays["fingerprint"][0]) != fingerprint(models, edges):
            return None
        ids = pl.concat([models["id"].cast(pl.String),
                         pl.Series("id", arrays["extra_ids"].tolist(), dtype=pl.String)]).alias("id")
        sides = {}
        for side in ("children", "parents"):
            sides[side] = _checked(Adjacency(*(arrays[f"{side}_{f}"] for f in
                                               ("indptr", "neighbour", "relation", "confidence"))), ids.len())
        names = tuple(str(n) for n in arrays["relation_names"].tolist())
    except (KeyError, IndexError, TypeError, ValueError) as err:
        raise IndexFileError(f"not a readable index ({type(err).__name__}: {err})") from None
    return CompactGraph(ids=ids, rows=models.height, relation_names=names,
                        fingerprint=int(arrays["fingerprint"][0]), **sides)


def _checked(adjacency: Adjacency, nodes: int) -> Adjacency:
    """``adjacency`` when its arrays are consistent with ``nodes`` models; ValueError otherwise."""
    indptr, neighbour = adjacency.indptr, adjacency.neighbour
    edges = len(neighbour)
    if indptr.shape != (nodes + 1,) or indptr[0] != 0 or indptr[-1] != edges or np.any(np.diff(indptr) < 0):
        raise ValueError("offsets do not match the models")
    if edges and (neighbour.min() < 0 or neighbour.max() >= nodes):
        raise ValueError("a neighbour outside the models")
    if len(adjacency.relation) != edges or len(adjacency.confidence) != edges:
        raise ValueError("edge codes do not match the edges")
    return Adjacency(indptr.astype(np.int64), neighbour.astype(np.int32), adjacency.relation.astype(np.int8),
                     adjacency.confidence.astype(np.int8))
