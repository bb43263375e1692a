"""Pair walks: the breadth-first walks of :mod:`ptmgraph.traverse` from many sources at once, as
(source, model) pairs a level at a time: :func:`reach_pairs` (the reach of each source, with depths) and
:func:`walk_pairs` (each source's own walk, with via and relation: :class:`PairWalk`).
``tests/test_wholegraph.py`` checks them against networkx."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from ptmgraph.index import CompactGraph
from ptmgraph.lazy import lazy_module
from ptmgraph.passes import _distinct, _expand, _offsets

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy_module("numpy")


def _contains(ordered: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Whether each of ``values`` is in the sorted array ``ordered``."""
    at = np.searchsorted(ordered, values)
    hit = at < len(ordered)
    hit[hit] = ordered[at[hit]] == values[hit]
    return hit


def reach_pairs(index: CompactGraph, sources: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(source, model, depth) int64 arrays: every model in the reach of each of ``sources`` (positions),
    with its depth from that source, found by one breadth-first walk of all the sources at once (a
    level of (source, model) pairs at a time). Time and memory follow the number of pairs."""
    nodes = index.nodes
    children = (index.children.indptr, index.children.neighbour.astype(np.int64))
    sources = _distinct(np.asarray(sources, dtype=np.int64))
    seen = sources * nodes + sources  # a source is never in its own reach
    owner, at = sources, sources
    found_source, found_model, found_depth = [], [], []
    level = 0
    while at.size:
        level += 1
        which, child = _expand(children, at)
        keys = _distinct(owner[which] * nodes + child)
        keys = keys[~_contains(seen, keys)]
        seen = np.sort(np.concatenate([seen, keys]))
        owner, at = keys // nodes, keys % nodes
        found_source.append(owner)
        found_model.append(at)
        found_depth.append(np.full(len(keys), level, dtype=np.int64))
    if not found_source:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    return np.concatenate(found_source), np.concatenate(found_model), np.concatenate(found_depth)


@dataclass(frozen=True)
class PairWalk:
    """Breadth-first walks down from many sources at once (:func:`walk_pairs`): one entry per (source,
    model) pair, ``model`` in the reach of ``source``, with what :class:`ptmgraph.traverse.Walk` records of
    it: ``depth``, ``via`` (position) and ``relation`` (the hop's relation code, -1 for none). Entries are
    grouped by source (in position order), each source's models in the order its own walk finds them."""

    source: np.ndarray
    model: np.ndarray
    depth: np.ndarray
    via: np.ndarray
    relation: np.ndarray
    nodes: int

    def find(self, source: np.ndarray, model: np.ndarray) -> np.ndarray:
        """The entry of each (source, model) pair; -1 where the pair is not in the walk."""
        wanted = np.asarray(source, dtype=np.int64) * self.nodes + np.asarray(model, dtype=np.int64)
        keys, order = self._sorted
        if not len(keys):
            return np.full(len(wanted), -1, dtype=np.int64)
        at = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
        return np.where(keys[at] == wanted, order[at], -1)

    @cached_property
    def _sorted(self) -> tuple[np.ndarray, np.ndarray]:
        """The (source, model) keys sorted, and the entry of each."""
        keys = self.source * self.nodes + self.model
        order = np.argsort(keys, kind="stable")
        return keys[order], order

    def relation_codes(self, entries: np.ndarray) -> list[list[int]]:
        """The relation codes along the via chain of each entry, source end first."""
        chains: list[list[int]] = [[] for _ in entries]
        which, _, codes = self.relation_code_steps(entries)
        for i, code in zip(which.tolist(), codes.tolist(), strict=True):
            chains[i].append(code)
        return [chain[::-1] for chain in chains]

    def relation_code_steps(self, entries: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`relation_codes` as arrays, one element per hop: (the index into ``entries``, the hop's
        distance from the entry's model (0: the hop into it), its relation code), a hop distance at a time."""
        found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        source = self.source[entries]
        live = np.arange(len(entries))
        at = np.asarray(entries, dtype=np.int64)
        step = 0
        while live.size:
            found.append((live, np.full(len(live), step, dtype=np.int64), self.relation[at]))
            via = self.via[at]
            more = via != source[live]
            live, at = live[more], self.find(source[live][more], via[more])
            step += 1
        if not found:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, np.zeros(0, dtype=self.relation.dtype)
        return tuple(np.concatenate([f[k] for f in found]) for k in range(3))  # type: ignore[return-value]


def walk_pairs(index: CompactGraph, sources: np.ndarray, relations: Iterable[str] | None = None, *,
               first_hops: np.ndarray | None = None) -> PairWalk:
    """The :func:`ptmgraph.traverse.walk` of descendants from each of ``sources`` (positions) on its own,
    following only edges of ``relations`` (all when None), done as one walk of (source, model) pairs a
    level at a time: the same depth, via and relation per model as the walk from that source alone (each
    source's pairs keep its own walk's order; ``tests/test_wholegraph.py`` checks it). Time and memory
    follow the number of pairs.

    ``first_hops``: offsets into ``index.children`` of the only edges a walk may take first (those out
    of its source; any relation), after which it follows ``relations`` (the runtime rule's code hop,
    :func:`ptmgraph.relations.dependency`)."""
    nodes = index.nodes
    children = index.children
    codes = None if relations is None else np.array(
        [code for code, name in enumerate(index.relation_names) if name in frozenset(relations)], dtype=np.int8)
    sources = _distinct(np.asarray(sources, dtype=np.int64))
    seen = sources * nodes + sources
    owner, at = sources, sources
    found: list[tuple[np.ndarray, ...]] = []
    level = 0
    if first_hops is not None:
        offsets = np.sort(np.asarray(first_hops, dtype=np.int64))  # by base, then child id: the walks' order
        base = np.searchsorted(children.indptr, offsets, side="right") - 1
        child = children.neighbour[offsets].astype(np.int64)
        wanted = _contains(sources, base) & (base != child)
        base, child, offsets = base[wanted], child[wanted], offsets[wanted]
        keys = base * nodes + child
        seen = np.sort(np.concatenate([seen, keys]))
        owner, at, level = base, child, 1
        found.append((owner, at, np.ones(len(keys), dtype=np.int64), base, offsets))
    while at.size:
        level += 1
        which, offsets = _offsets(children.indptr, at)
        if codes is not None:
            wanted = np.isin(children.relation[offsets], codes)
            which, offsets = which[wanted], offsets[wanted]
        keys = owner[which] * nodes + children.neighbour[offsets]
        fresh = ~_contains(seen, keys)
        which, offsets, keys = which[fresh], offsets[fresh], keys[fresh]
        _, first = np.unique(keys, return_index=True)
        first.sort()  # each pair's first meeting, in the order met
        which, offsets, keys = which[first], offsets[first], keys[first]
        seen = np.sort(np.concatenate([seen, keys]))
        via = at[which]
        owner, at = owner[which], keys % nodes
        found.append((owner, at, np.full(len(keys), level, dtype=np.int64), via, offsets))
    empty = np.zeros(0, dtype=np.int64)
    if not found:
        return PairWalk(empty, empty, empty, empty, np.zeros(0, dtype=np.int8), nodes)
    return PairWalk(
        source=np.concatenate([f[0] for f in found]),
        model=np.concatenate([f[1] for f in found]),
        depth=np.concatenate([f[2] for f in found]),
        via=np.concatenate([f[3] for f in found]),
        relation=children.relation[np.concatenate([f[4] for f in found])],
        nodes=nodes,
    )
