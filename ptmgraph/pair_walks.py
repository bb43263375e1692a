"""Pair walks: the breadth-first walk of :mod:`ptmgraph.traverse` from many sources at once, each source
walked on its own, as (source, model) pairs a level at a time. One walk, :func:`pair_levels` (its docstring
states what it finds), and two ways to take it: :func:`reach_pairs` (the reach of each source, with depths)
and :func:`walk_pairs` (each source's own walk, with via and relation: :class:`PairWalk`).
``tests/test_wholegraph.py`` checks both against the walk of each source alone."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from ptmgraph.index import CompactGraph
from ptmgraph.lazy import lazy_module
from ptmgraph.passes import distinct, neighbour_offsets

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
    """(source, model, depth) int64 arrays: every model in the reach of each of ``sources`` (positions), with
    its depth from that source: the :func:`pair_levels` of every edge, without their order or via."""
    return _columns(list(pair_levels(index, sources, ordered=False)))


def _columns(found: list[PairLevel]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The (source, model, depth) int64 columns of the levels ``found``, in order."""
    if not found:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    return (np.concatenate([level.source for level in found]), np.concatenate([level.model for level in found]),
            np.concatenate([np.full(len(level.model), level.depth, dtype=np.int64) for level in found]))


@dataclass(frozen=True)
class PairWalk:
    """Breadth-first walks down from many sources at once (:func:`walk_pairs`): one entry per (source,
    model) pair, ``model`` in the reach of ``source``, with what :class:`ptmgraph.traverse.Walk` records of
    it: ``depth``, ``via`` (position) and ``relation`` (the hop's relation code, -1 for none). Entries come
    a level at a time (:func:`pair_levels`), each source's models in the order its own walk finds them."""

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
    """The :func:`pair_levels` of ``relations`` (all when None) and ``first_hops``, in order and with the
    via and relation of each pair, as one :class:`PairWalk`."""
    found = list(pair_levels(index, sources, relations, first_hops=first_hops))
    source, model, depth = _columns(found)
    if not found:
        return PairWalk(source, model, depth, source, np.zeros(0, dtype=np.int8), index.nodes)
    return PairWalk(source, model, depth, via=np.concatenate([level.via for level in found]),
                    relation=index.children.relation[np.concatenate([level.offset for level in found])],
                    nodes=index.nodes)


@dataclass(frozen=True)
class PairLevel:
    """The (source, model) pairs one :func:`pair_levels` step finds: position arrays ``source`` and ``model``
    at hop ``depth``; with ``ordered``, ``via`` (the model one hop above, on the walk from the source) and
    ``offset`` (of the hop's edge in ``index.children``), else None."""

    source: np.ndarray
    model: np.ndarray
    depth: int
    via: np.ndarray | None
    offset: np.ndarray | None


def pair_levels(index: CompactGraph, sources: np.ndarray, relations: Iterable[str] | None = None, *,
                first_hops: np.ndarray | None = None, ordered: bool = True) -> Iterator[PairLevel]:
    """The one walk from many sources: the :func:`ptmgraph.traverse.walk` of descendants from each of
    ``sources`` (positions) on its own, done for all of them at once, a level of (source, model) pairs at a
    time. Level k holds each pair whose model the walk from that source alone first reaches at depth k
    (a source is never in its own walk, even on a cycle), following only edges of ``relations`` (all
    when None). Time and memory follow the number of pairs.

    ``first_hops``: offsets into ``index.children`` of the only edges a walk may take first (those out of
    its source; any relation), after which it follows ``relations`` (the runtime rule's code hop,
    :func:`ptmgraph.relations.dependency`).

    ``ordered``: each source's pairs in the order its own walk finds them, with the same via and hop
    (the first edge met from the model met first; ``tests/test_wholegraph.py`` checks it against the walk
    of each source alone); without it each level's pairs are sorted by (source, model), with no via or
    hop, which is faster."""
    nodes = index.nodes
    children = index.children
    codes = None if relations is None else np.array(
        [code for code, name in enumerate(index.relation_names) if name in frozenset(relations)], dtype=np.int8)
    sources = distinct(np.asarray(sources, dtype=np.int64))
    seen = sources * nodes + sources
    owner, at = sources, sources
    level = 0
    if first_hops is not None:
        offsets = np.sort(np.asarray(first_hops, dtype=np.int64))  # by base, then child id: the walks' order
        base = np.searchsorted(children.indptr, offsets, side="right") - 1
        child = children.neighbour[offsets].astype(np.int64)
        wanted = _contains(sources, base) & (base != child)
        owner, at, offsets = base[wanted], child[wanted], offsets[wanted]
        seen = np.sort(np.concatenate([seen, owner * nodes + at]))
        level = 1
        yield PairLevel(owner, at, level, owner if ordered else None, offsets if ordered else None)
    while at.size:
        level += 1
        which, offsets = neighbour_offsets(children.indptr, at)
        if codes is not None:
            wanted = np.isin(children.relation[offsets], codes)
            which, offsets = which[wanted], offsets[wanted]
        keys = owner[which] * nodes + children.neighbour[offsets]
        if ordered:
            fresh = ~_contains(seen, keys)
            which, offsets, keys = which[fresh], offsets[fresh], keys[fresh]
            _, first = np.unique(keys, return_index=True)
            first.sort()  # each pair's first meeting, in the order met
            which, offsets, keys = which[first], offsets[first], keys[first]
            owner, via = owner[which], at[which]
        else:
            keys = distinct(keys)
            keys = keys[~_contains(seen, keys)]
            owner = keys // nodes
        seen = np.sort(np.concatenate([seen, keys]))
        at = keys % nodes
        if at.size:
            yield PairLevel(owner, at, level, via, offsets) if ordered else PairLevel(owner, at, level, None, None)
