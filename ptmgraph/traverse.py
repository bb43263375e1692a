"""The only graph walks: reach from a set of models, the roots, and the reach of every model.

Words that mean one thing everywhere (``notes/design.md``); every other module refers here:

- **root**: a model with no parent other than itself. An isolated model is its own root.
- **depth** of a reached model: the fewest hops from the nearest source along the followed edges.
- **reach** of a model m: its transitive dependents (the models with a path from m), each counted
  once however many paths lead to it (merges give a model several parents); m itself is not in its
  own reach, even when it lies on a cycle. The reach of a *set* of models is the union of the reach
  of its members.
- **runtime**, **runtime_code** and **inherited** dependency of a model on a source: the runtime rule,
  :func:`ptmgraph.relations.dependency` (``RUNTIME_RELATIONS`` is its set of weight-loading relations).

The graph is either the compact index (:class:`ptmgraph.index.CompactGraph`: CSR arrays, walked one
edge at a time on a small graph and with numpy a whole BFS level at a time on a larger one) or the
lineage ``networkx.DiGraph`` (edge base -> derived, the hop's relation in the edge attribute
``relation``) that the Python API hands out; :func:`reach`, :func:`is_root`, :func:`roots` and
:func:`paths_to_roots` give the same answers on both (``tests/test_index.py`` checks it;
``tests/test_why.py`` checks :func:`paths_between`). A walk keeps one parent pointer (``via``) and one
hop relation per reached model, so its memory is linear in the models reached whatever the depth; paths
are rebuilt from the pointers only when asked for.

Beside this module, on the same words: :mod:`ptmgraph.tree_lines` draws a walk as the lines of a tree,
:mod:`ptmgraph.passes` answers about every model at once (whole-graph passes on arrays) and
:mod:`ptmgraph.pair_walks` walks from many sources at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain, repeat
from typing import TYPE_CHECKING, Any, Literal, Union

import polars as pl

from ptmgraph.index import Adjacency, CompactGraph
from ptmgraph.lazy import lazy_module
from ptmgraph.relations import RUNTIME_RELATIONS

if TYPE_CHECKING:  # networkx is imported only by whoever builds a networkx graph
    import networkx as nx
    import numpy as np
else:
    np = lazy_module("numpy")  # the point walks on a small graph never import it (see ptmgraph.index)

Graph = Union["nx.DiGraph", CompactGraph]
"""A lineage graph a walk accepts: the compact index or the networkx graph."""

Direction = Literal["descendants", "ancestors"]
"""``descendants`` follows edges base -> derived; ``ancestors`` follows them backwards."""


PATH_END_HOPS = 16
"""A written ``relation_path`` holds at most ``2 * PATH_END_HOPS`` hops (see :func:`relation_path_text`)."""


def relation_path_text(hops: list[str], length: int | None = None) -> str:
    """A ``relation_path`` as written: the relations of the hops, base first, joined by ``>``.

    **The cap.** A path of more than ``2 * PATH_END_HOPS`` hops is written as its first and last
    :data:`PATH_END_HOPS` hops around a marker ``…(N more)…``, N the hops left out, so that a row's text
    is bounded and output grows linearly with the rows, however deep the walk. ``hops`` is either the
    whole path, or (``length`` given, over the cap) only its first and last :data:`PATH_END_HOPS` hops.
    """
    length = len(hops) if length is None else length
    if length <= 2 * PATH_END_HOPS:
        return ">".join(hops)
    first, last = hops[:PATH_END_HOPS], hops[-PATH_END_HOPS:]
    return ">".join([*first, f"…({length - 2 * PATH_END_HOPS} more)…", *last])


def is_root(graph: Graph, model: str) -> bool:
    """Whether ``model`` is a root: it has no parent other than itself."""
    if isinstance(graph, CompactGraph):
        at = graph.position(model)
        return all(parent == at for parent in graph.parents.neighbours(at))
    return all(parent == model for parent in graph.pred[model])


def roots_at(index: CompactGraph, positions: pl.Series) -> list[bool]:
    """Whether each model at ``positions`` is a root, in that order."""
    parents = index.parents
    if index.small:
        return [all(parent == at for parent in parents.neighbours(at)) for at in positions.to_list()]
    at = positions.to_numpy()
    first = parents.indptr[at]
    counts = parents.indptr[at + 1] - first
    ends = np.cumsum(counts)
    offsets = np.arange(int(counts.sum())) + np.repeat(first - (ends - counts), counts)
    owner = np.repeat(np.arange(len(at)), counts)
    others = np.bincount(owner[parents.neighbour[offsets] != np.repeat(at, counts)], minlength=len(at))
    return (others == 0).tolist()  # type: ignore[no-any-return]


def root_mask(index: CompactGraph) -> np.ndarray:
    """A boolean per position: whether that model is a root."""
    parents = index.parents
    owner = np.repeat(np.arange(index.nodes), np.diff(parents.indptr))
    others = np.bincount(owner[parents.neighbour != owner], minlength=index.nodes)
    return others == 0


def roots(graph: Graph) -> list[str]:
    """Every root of ``graph`` (see the module docstring), sorted."""
    if isinstance(graph, CompactGraph):
        return sorted(graph.names(np.flatnonzero(root_mask(graph))))
    return sorted(n for n in graph if is_root(graph, n))


@dataclass(frozen=True)
class Reach:
    """The models reached from ``sources``, each with its depth, parent pointer and hop relation.

    ``depth[m]`` is m's depth; ``via[m]`` the model one hop nearer the sources on one shortest path
    (among equals, the one the walk met first: neighbours are visited in id order); ``relation[m]``
    the relation of the edge between m and ``via[m]``. Sources are never in the mappings, even when
    another source reaches them. Iteration yields models in the order found (by depth).
    """

    sources: tuple[str, ...]
    direction: Direction
    depth: dict[str, int]
    via: dict[str, str]
    relation: dict[str, str]
    positions: pl.Series | None = field(default=None, compare=False, repr=False)
    """On the compact index: the reached models' positions (Int64), in iteration order (None on networkx)."""

    def __len__(self) -> int:
        return len(self.depth)

    def __contains__(self, model: object) -> bool:
        return model in self.depth

    def __iter__(self) -> Iterator[str]:
        return iter(self.depth)

    def _chain(self, model: str) -> list[str]:
        """``model``, its via, the via's via ... up to the source (a list of depth + 1 models)."""
        chain = [model]
        while chain[-1] in self.via:
            chain.append(self.via[chain[-1]])
        return chain

    def source(self, model: str) -> str:
        """The source at the far end of ``model``'s via chain."""
        return self._chain(model)[-1]

    def path(self, model: str) -> list[str]:
        """One shortest path between the source and ``model``, base first (in edge direction)."""
        chain = self._chain(model)
        return chain[::-1] if self.direction == "descendants" else chain

    def relation_path(self, model: str) -> list[str]:
        """The relations along :meth:`path`, base first."""
        hops = [self.relation[m] for m in self._chain(model)[:-1]]
        return hops[::-1] if self.direction == "descendants" else hops

    def relation_path_texts(self, models: Iterable[str]) -> list[str | None]:
        """:meth:`relation_path` of each of ``models`` as :func:`relation_path_text` writes it (None for a
        model not reached), in time linear in the models asked about whatever their depth: a deep model's
        hops near the source are read from the model :data:`PATH_END_HOPS` hops below the source on its
        via chain, found once per chain and shared (``_anchor``)."""
        anchor: dict[str, str] = {}  # model deeper than the cap -> its via-chain model at depth PATH_END_HOPS

        def anchor_of(model: str) -> str:
            walked = []
            at = model
            while self.depth[at] > PATH_END_HOPS and at not in anchor:
                walked.append(at)
                at = self.via[at]
            found = anchor.get(at, at)
            for m in walked:
                anchor[m] = found
            return found

        def hops_up(model: str, count: int) -> list[str]:
            """The relations of the ``count`` hops of ``model``'s via chain nearest ``model``, nearest first."""
            hops = []
            for _ in range(count):
                hops.append(self.relation[model])
                model = self.via[model]
            return hops

        texts: list[str | None] = []
        for model in models:
            if model not in self.depth:
                texts.append(None)
                continue
            depth = self.depth[model]
            if depth <= 2 * PATH_END_HOPS:
                walk = hops_up(model, depth)[::-1]  # source first
            else:
                walk = hops_up(anchor_of(model), PATH_END_HOPS)[::-1] + hops_up(model, PATH_END_HOPS)[::-1]
            # base first: below a source the walk's order, above it (ancestors) the reverse
            texts.append(relation_path_text(walk if self.direction == "descendants" else walk[::-1], depth))
        return texts

    def is_runtime(self, model: str) -> bool:
        """Whether every hop of :meth:`path` is a runtime relation (see the module docstring)."""
        return all(self.relation[m] in RUNTIME_RELATIONS for m in self._chain(model)[:-1])


def reach(
    graph: Graph,
    sources: Iterable[str],
    *,
    direction: Direction = "descendants",
    relations: Iterable[str] | None = None,
    max_depth: int | None = None,
) -> Reach:
    """Breadth-first walk from ``sources``: every model within ``max_depth`` hops (all when None),
    following only edges whose relation is in ``relations`` (all when None), in ``direction``.

    With one source and ``direction="descendants"`` the models found are its reach (module docstring).
    """
    starts = tuple(dict.fromkeys(sources))
    wanted = None if relations is None else frozenset(relations)
    if isinstance(graph, CompactGraph):
        return _reach_index(graph, starts, direction, wanted, max_depth)
    neighbours = graph.pred if direction == "ancestors" else graph.succ
    start_set = set(starts)
    depth: dict[str, int] = {}
    via: dict[str, str] = {}
    hop: dict[str, str] = {}
    frontier = list(starts)
    level = 0
    while frontier and (max_depth is None or level < max_depth):
        level += 1
        found: list[str] = []
        for node in frontier:
            adjacent = neighbours[node]
            for other in sorted(adjacent):
                if other in start_set or other in depth:
                    continue
                relation = adjacent[other].get("relation")
                if wanted is not None and relation not in wanted:
                    continue
                depth[other] = level
                via[other] = node
                hop[other] = relation
                found.append(other)
        frontier = found
    return Reach(sources=starts, direction=direction, depth=depth, via=via, relation=hop)


def _reach_index(
    index: CompactGraph, starts: tuple[str, ...], direction: Direction, wanted: frozenset[str] | None,
    max_depth: int | None,
) -> Reach:
    """:func:`reach` on the compact index: one edge at a time on a small graph (:func:`_walk_edges`), one
    numpy pass per BFS level on a larger one (:func:`_walk_levels`). Both visit the frontier in the order
    found and each node's neighbours in id order, and keep each model's first pair (via, relation): the
    walk :func:`reach` defines on networkx."""
    adjacency = index.parents if direction == "ancestors" else index.children
    start_at = [index.position(s) for s in starts]
    codes = None if wanted is None else frozenset(
        code for code, name in enumerate(index.relation_names) if name in wanted)
    walk = _walk_edges if index.small else _walk_levels
    positions, vias, hop_codes, levels = walk(adjacency, start_at, index.nodes, codes, max_depth)
    names = index.names(positions)
    relation_names = [*index.relation_names, None]  # code -1 (no relation) picks the last
    depths = list(chain.from_iterable(repeat(depth, count) for depth, count in enumerate(levels, 1)))
    return Reach(
        sources=starts,
        direction=direction,
        depth=dict(zip(names, depths, strict=True)),
        via=dict(zip(names, index.names(vias), strict=True)),
        relation=dict(zip(names, [relation_names[c] for c in hop_codes], strict=True)),  # type: ignore[misc]
        positions=positions,
    )


Walked = tuple[pl.Series, pl.Series, list[int], list[int]]
"""A walk on the index: the positions reached (in the order found), the position of each one's via,
each one's hop relation code, and how many were found at each depth (1, 2 ...)."""


def _walk_edges(adjacency: Adjacency, start_at: list[int], nodes: int, codes: frozenset[int] | None,
                max_depth: int | None) -> Walked:
    """The walk of :func:`_reach_index`, one edge at a time: a model is taken the first time it is met."""
    indptr, neighbour, relation, _ = adjacency.held
    seen = bytearray(nodes)
    for at in start_at:
        seen[at] = 1
    found: list[int] = []
    vias: list[int] = []
    hops: list[int] = []
    levels: list[int] = []
    frontier = start_at
    while frontier and (max_depth is None or len(levels) < max_depth):
        level_start = len(found)
        for node in frontier:
            first, end = indptr[node], indptr[node + 1]
            for other, code in zip(neighbour[first:end].tolist(), relation[first:end].tolist(), strict=True):
                if seen[other] or (codes is not None and code not in codes):
                    continue
                seen[other] = 1
                found.append(other)
                vias.append(node)
                hops.append(code)
        levels.append(len(found) - level_start)
        frontier = found[level_start:]
    return pl.Series(found, dtype=pl.Int64), pl.Series(vias, dtype=pl.Int64), hops, levels


_FEW_EDGES = 32
"""A BFS level with at most this many edges to look at is walked edge by edge (:func:`_walk_levels`)."""


def _walk_levels(adjacency: Adjacency, start_at: list[int], nodes: int, codes: frozenset[int] | None,
                 max_depth: int | None) -> Walked:
    """The walk of :func:`_reach_index`, one numpy pass per level.

    A level lists every (frontier node, neighbour) pair in the order the one-at-a-time walk meets them
    (frontier in the order found, neighbours in id order), drops those already seen or of an unwanted
    relation, and keeps each neighbour's first pair: the same depth, via and relation as that walk.
    A level of a few edges (a long chain has one a level) is walked edge by edge, as :func:`_walk_edges`
    does, so that a level costs what it holds rather than a dozen numpy calls.
    """
    import numpy as np  # the module itself: the lazy stand-in would look it up on every use, per level

    frontier = np.array(start_at, dtype=np.int64)
    seen = np.zeros(nodes, dtype=bool)
    seen[frontier] = True
    wanted = None if codes is None else np.array(sorted(codes), dtype=np.int8)
    indptr, neighbour, relation = adjacency.indptr, adjacency.neighbour, adjacency.relation
    found: list[np.ndarray] = []
    vias: list[np.ndarray] = []
    hops: list[np.ndarray] = []
    levels: list[int] = []
    while frontier.size and (max_depth is None or len(levels) < max_depth):
        if frontier.size <= _FEW_EDGES:
            bounds = [(int(indptr[n]), int(indptr[n + 1])) for n in frontier.tolist()]
            if sum(end - start for start, end in bounds) <= _FEW_EDGES:
                step_new: list[int] = []
                step_via: list[int] = []
                step_hop: list[int] = []
                for node, (start, end) in zip(frontier.tolist(), bounds, strict=True):
                    for other, code in zip(neighbour[start:end].tolist(), relation[start:end].tolist(), strict=True):
                        if seen[other] or (codes is not None and code not in codes):
                            continue
                        seen[other] = True
                        step_new.append(other)
                        step_via.append(node)
                        step_hop.append(code)
                if not step_new and not any(end > start for start, end in bounds):
                    break
                new = np.array(step_new, dtype=np.int64)
                found.append(new)
                vias.append(np.array(step_via, dtype=np.int64))
                hops.append(np.array(step_hop, dtype=np.int8))
                levels.append(len(new))
                frontier = new
                continue
        first = adjacency.indptr[frontier]
        counts = adjacency.indptr[frontier + 1] - first
        total = int(counts.sum())
        if not total:
            break
        # offsets of every neighbour of every frontier node, frontier order kept
        ends = np.cumsum(counts)
        offsets = np.arange(total) + np.repeat(first - (ends - counts), counts)
        owner = np.repeat(frontier, counts)
        candidate = adjacency.neighbour[offsets]
        keep = ~seen[candidate]
        if wanted is not None:
            keep &= np.isin(adjacency.relation[offsets], wanted)
        candidate, owner, offsets = candidate[keep], owner[keep], offsets[keep]
        _, firsts = np.unique(candidate, return_index=True)
        firsts.sort()
        new = candidate[firsts].astype(np.int64)
        seen[new] = True
        found.append(new)
        vias.append(owner[firsts])
        hops.append(adjacency.relation[offsets[firsts]])
        levels.append(len(new))
        frontier = new
    empty = np.zeros(0, dtype=np.int64)
    return (pl.Series(np.concatenate(found) if found else empty, dtype=pl.Int64),
            pl.Series(np.concatenate(vias) if vias else empty, dtype=pl.Int64),
            np.concatenate(hops).tolist() if hops else [], levels)


def _shown_neighbours(
    graph: Graph, source: str, found: Reach, direction: Direction
) -> Callable[[str], list[tuple[str, str | None]]]:
    """For a model of the tree: its neighbours in ``direction`` that are the source or reached, with the
    relation of each edge."""
    if not isinstance(graph, CompactGraph):
        neighbours = graph.pred if direction == "ancestors" else graph.succ

        def from_networkx(node: str) -> list[tuple[str, str | None]]:
            return [(o, a.get("relation")) for o, a in neighbours[node].items() if o in found or o == source]

        return from_networkx
    adjacency = graph.parents if direction == "ancestors" else graph.children
    assert found.positions is not None  # a walk on the index records positions
    at = graph.position(source)
    position_of = dict(zip(found, found.positions.to_list(), strict=True)) | {source: at}
    name_at = {p: n for n, p in position_of.items()}
    relation_names = [*graph.relation_names, None]

    def from_index(node: str) -> list[tuple[str, str | None]]:
        position = position_of[node]
        return [(name_at[o], relation_names[c])  # type: ignore[misc]
                for o, c in zip(adjacency.neighbours(position), adjacency.relations(position), strict=True)
                if o in name_at]

    return from_index


def paths_to_roots(graph: Graph, model: str, max_paths: int) -> tuple[list[list[str]], bool]:
    """Simple paths root -> ... -> model (at most ``max_paths``, in depth-first order taking parents in
    id order) and whether more exist. A path also ends where every parent is already on it (a cycle).

    Depth-first with one shared path and an on-path set, so a chain costs time and memory linear in its length.
    """
    if isinstance(graph, CompactGraph):
        parents = graph.parents
        start = graph.position(model)

        found, more = _paths_up(parents.neighbours, start, max_paths)
        every = sorted({n for path in found for n in path})
        name = dict(zip(every, graph.names(every), strict=True))
        return [[name[n] for n in path] for path in found], more
    pred = graph.pred
    return _paths_up(lambda node: sorted(pred[node]), model, max_paths)


def _paths_up(
    parents_of: Callable[[Any], list[Any]], model: Any, max_paths: int, to: Any = None,
) -> tuple[list[list[Any]], bool]:
    """Simple paths from ``model`` up through its parents (depth first, in the order ``parents_of`` gives),
    each base first: ending at ``to`` when it is given, else at a model with no parent off the path (a
    root, or the end of a cycle); at most ``max_paths``, and whether more exist."""
    paths: list[list[Any]] = []
    path = [model]
    on_path = {model}
    pending: list[list[Any]] = [[p for p in parents_of(model) if p != model][::-1]]
    while pending:
        if not pending[-1]:
            pending.pop()
            on_path.discard(path.pop())
            continue
        parent = pending[-1].pop()
        if parent in on_path:
            continue
        if to is not None and parent == to:
            if len(paths) >= max_paths:
                return paths, True
            paths.append([to, *path[::-1]])
            continue
        path.append(parent)
        on_path.add(parent)
        parents = [p for p in parents_of(parent) if p not in on_path][::-1]
        if to is None and not parents:  # a root, or every parent already on the path (a cycle)
            if len(paths) >= max_paths:
                return paths, True
            paths.append(path[::-1])
        pending.append(parents)
    return paths, False


def paths_between(graph: Graph, model: str, ancestor: str, max_paths: int) -> tuple[list[list[str]], bool]:
    """Simple paths ancestor -> ... -> model, base first (at most ``max_paths``, depth first from ``model``
    taking parents in id order), and whether more exist; none when ``ancestor`` is ``model`` itself.

    The walk keeps to the models between the two: those that are both ancestors of ``model`` and
    descendants of ``ancestor`` (two :func:`reach` walks); only that sub-DAG's paths are enumerated.
    """
    if model == ancestor:
        return [], False
    up = reach(graph, [model], direction="ancestors")
    if ancestor not in up:
        return [], False
    down = reach(graph, [ancestor], direction="descendants")
    between = {m for m in up if m in down} | {model, ancestor}
    parents_of = _shown_neighbours(graph, model, up, "ancestors")

    def parents(node: str) -> list[str]:
        return sorted({p for p, _ in parents_of(node) if p in between and p != node})

    return _paths_up(parents, model, max_paths, to=ancestor)


def cycle_members(graph: Graph, models: Iterable[str]) -> set[str]:
    """The ``models`` that lie on a cycle of the subgraph they induce (a strongly connected component of
    two or more of them; a self-loop alone is not one)."""
    members = list(dict.fromkeys(models))
    number = {m: i for i, m in enumerate(members)}
    if isinstance(graph, CompactGraph):
        children = graph.children
        at = graph.position_list(members)
        local = {p: i for i, p in enumerate(at)}
        successors = [[local[c] for c in children.neighbours(p) if c in local] for p in at]
    else:
        successors = [[number[c] for c in graph.succ[m] if c in number] for m in members]
    component, count = _components(successors)
    size = [0] * count
    for c in component:
        size[c] += 1
    return {m for m, c in zip(members, component, strict=True) if size[c] > 1}


def _components(successors: list[list[int]]) -> tuple[list[int], int]:
    """Strongly connected components (Tarjan's algorithm, iterative): each model's component number and
    the count. Components are numbered sinks first, so a component's children have smaller numbers."""
    count = len(successors)
    order, low, component = [-1] * count, [0] * count, [-1] * count
    stack: list[int] = []
    found = visited = 0
    for start in range(count):
        if order[start] != -1:
            continue
        order[start] = low[start] = visited
        visited += 1
        stack.append(start)
        work = [(start, 0)]
        while work:
            v, i = work[-1]
            if i < len(successors[v]):
                work[-1] = (v, i + 1)
                w = successors[v][i]
                if order[w] == -1:
                    order[w] = low[w] = visited
                    visited += 1
                    stack.append(w)
                    work.append((w, 0))
                elif component[w] == -1 and order[w] < low[v]:  # w is still on the stack
                    low[v] = order[w]
                continue
            work.pop()
            if work and low[v] < low[work[-1][0]]:
                low[work[-1][0]] = low[v]
            if low[v] == order[v]:
                while True:
                    w = stack.pop()
                    component[w] = found
                    if w == v:
                        break
                found += 1
    return component, found
