"""The only graph walks: reach from a set of models, the roots, and the reach of every model.

Words that mean one thing everywhere (README "Definitions"); every other module refers here:

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
``relation``) that the Python API hands out; :func:`reach`, :func:`is_root`, :func:`roots`,
:func:`paths_to_roots` and :func:`tree_lines` give the same answers on both (``tests/test_index.py``
checks it; ``tests/test_why.py`` checks :func:`paths_between`), and so do :func:`reach_union`,
:func:`depths_from_roots`,
:func:`reach_of_every_model` and :func:`reach_of_every_group` (``tests/test_traverse.py``). A walk
keeps one parent pointer (``via``) and one hop relation per reached model, so its memory is linear in
the models reached whatever the depth; paths are rebuilt from the pointers only when asked for.

The whole-graph passes take the compact index only and answer with arrays indexed by position (a
networkx graph is converted first): :func:`condense` (strongly connected components and the rounds of
the component DAG), :func:`reach_arrays` (reach of every model), :func:`group_reach_arrays` (of every
group, e.g. author), :func:`reached_mask` (reach of a set), :func:`depth_array`,
:func:`weak_components`, :func:`reach_pairs` and :func:`walk_pairs` (the walks from many sources at
once, as (source, model) pairs). ``tests/test_wholegraph.py`` checks them against networkx.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain, repeat
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Union

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


class TreeLine(NamedTuple):
    """One line of a lineage tree (see :func:`tree_lines`).

    ``level`` counts the lines above it on its branch (the top model is level 0); ``relation`` is the
    relation of the edge between ``model`` and ``parent`` (None on the top line); ``last`` says whether
    no sibling follows it; ``repeated`` marks a model already shown, or shown elsewhere, whose own
    branches are not printed here.
    """

    level: int
    model: str
    parent: str | None
    relation: str | None
    last: bool
    repeated: bool


def tree_lines(
    graph: Graph,
    source: str,
    *,
    direction: Direction = "descendants",
    relations: Iterable[str] | None = None,
    max_depth: int | None = None,
    order: Callable[[str], Any] | None = None,
    found: Reach | None = None,
) -> Iterator[TreeLine]:
    """The models :func:`reach` finds from ``source``, as the lines of a tree, depth first.

    Every followed edge between two models within ``max_depth`` is one line. A model is expanded once,
    under its ``via`` (so at its depth); its other edges give lines marked ``repeated``, as cargo's
    ``(*)``. Siblings come in ``order`` (a sort key on the model; id order when None). Lines are made
    lazily, so taking the first N costs the walk plus N lines. ``found`` reuses that walk when the
    caller already made it (same arguments).
    """
    if found is None:
        found = reach(graph, [source], direction=direction, relations=relations, max_depth=max_depth)
    wanted = None if relations is None else frozenset(str(r) for r in relations)
    key = order or (lambda model: model)
    adjacent = _shown_neighbours(graph, source, found, direction)

    def branches(node: str) -> list[tuple[str, str | None]]:
        shown = [(other, relation) for other, relation in adjacent(node)
                 if other != node and (wanted is None or relation in wanted)]
        return sorted(shown, key=lambda pair: (key(pair[0]), pair[0]))

    yield TreeLine(0, source, None, None, True, False)
    stack: list[tuple[str, int, list[tuple[str, str | None]]]] = [(source, 1, branches(source)[::-1])]
    while stack:
        node, level, pending = stack[-1]
        if not pending:
            stack.pop()
            continue
        other, relation = pending.pop()
        expand = found.via.get(other) == node
        yield TreeLine(level, other, node, relation, not pending, not expand)
        if expand:
            stack.append((other, level + 1, branches(other)[::-1]))


def tree_line_count(
    graph: Graph,
    source: str,
    found: Reach,
    *,
    direction: Direction = "descendants",
    relations: Iterable[str] | None = None,
) -> int:
    """How many lines :func:`tree_lines` makes for the walk ``found`` from ``source`` (same arguments),
    without making or sorting them: the top line, then one per branch of each expanded model, and every
    model is expanded once (the source at the top, a reached model under its ``via``)."""
    wanted = None if relations is None else frozenset(str(r) for r in relations)
    if not isinstance(graph, CompactGraph):
        adjacent = _shown_neighbours(graph, source, found, direction)
        return 1 + sum(1 for node in (source, *found) for other, relation in adjacent(node)
                       if other != node and (wanted is None or relation in wanted))
    adjacency = graph.parents if direction == "ancestors" else graph.children
    assert found.positions is not None  # a walk on the index records positions
    shown = {*found.positions.to_list(), graph.position(source)}
    codes = None if wanted is None else {c for c, name in enumerate(graph.relation_names) if name in wanted}
    if graph.small:
        return 1 + sum(1 for node in shown
                       for other, code in zip(adjacency.neighbours(node), adjacency.relations(node), strict=True)
                       if other != node and other in shown and (codes is None or code in codes))
    at = np.fromiter(shown, dtype=np.int64, count=len(shown))
    is_shown = np.zeros(graph.nodes, dtype=bool)
    is_shown[at] = True
    owner, offsets = _offsets(adjacency.indptr, at)
    other = adjacency.neighbour[offsets]
    counted = is_shown[other] & (other != at[owner])
    if codes is not None:
        counted &= np.isin(adjacency.relation[offsets], np.array(sorted(codes), dtype=np.int8))
    return 1 + int(counted.sum())


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


class ReachCounts(NamedTuple):
    """One model's fan-out: ``direct_dependents`` (children other than itself), ``reach`` (module
    docstring), ``reach_weight`` (the sum of the reach's weights, each model once) and
    ``subtree_height`` (the most hops on a chain of derivations below it, a cycle counting as one model).
    """

    direct_dependents: int
    reach: int
    reach_weight: int
    subtree_height: int


@dataclass(frozen=True)
class EveryReach:
    """:class:`ReachCounts` of every model, as columns (position i is ``models[i]``)."""

    models: list[str]
    direct_dependents: list[int]
    reach: list[int]
    reach_weight: list[int]
    subtree_height: list[int]

    def __getitem__(self, model: str) -> ReachCounts:
        i = self.models.index(model)
        return ReachCounts(self.direct_dependents[i], self.reach[i], self.reach_weight[i], self.subtree_height[i])


# --- Whole-graph passes on arrays -------------------------------------------------------------------------
#
# Every pass below works on the condensation (the DAG of strongly connected components) with numpy, a
# whole *round* at a time: round k holds the components whose longest chain of derivations below them has k
# hops (their subtree height), so a component's children all lie in earlier rounds and its parents in later
# ones. Component arrays are indexed by position: a component is named by its smallest member (its
# *representative*); entries at other positions are unused (size 0).


@dataclass(frozen=True)
class Condensation:
    """The condensation of a compact graph (see the comment above); self-loops are left out.

    ``component[v]``: the representative of v's component. ``size[c]``: its member count (0 when c
    represents none). ``height[c]``: its subtree height (the round it is in). ``rounds[k]``: the
    representatives of round k. ``down``/``up``: the component DAG as CSR (indptr, neighbour) from each
    representative to its child / parent components, each once. ``edges``: (base, child) of every
    edge of the graph but the self-loops.
    """

    component: np.ndarray
    size: np.ndarray
    height: np.ndarray
    rounds: list[np.ndarray]
    down: tuple[np.ndarray, np.ndarray]
    up: tuple[np.ndarray, np.ndarray]
    edges: tuple[np.ndarray, np.ndarray]

    @property
    def parent_count(self) -> np.ndarray:
        """How many parent components each component has."""
        return np.diff(self.up[0])  # type: ignore[no-any-return]


def _without_loops(adjacency: Adjacency, nodes: int) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
    """One direction of the adjacency without the self-loops: CSR (indptr, neighbour), int64, and the
    owner of each entry."""
    counts = np.diff(adjacency.indptr)
    owner = np.repeat(np.arange(nodes, dtype=np.int64), counts)
    neighbour = adjacency.neighbour.astype(np.int64)
    keep = owner != neighbour
    if keep.all():
        return (adjacency.indptr.astype(np.int64), neighbour), owner
    owner, neighbour = owner[keep], neighbour[keep]
    indptr = np.zeros(nodes + 1, dtype=np.int64)
    np.cumsum(np.bincount(owner, minlength=nodes), out=indptr[1:])
    return (indptr, neighbour), owner


def _distinct(values: np.ndarray) -> np.ndarray:
    """The distinct values, sorted (numpy 2's hash-based ``np.unique`` is many times slower on int64 keys)."""
    values = np.sort(values)
    if len(values) > 1:
        values = values[np.concatenate(([True], values[1:] != values[:-1]))]
    return values


def _csr(source: np.ndarray, target: np.ndarray, nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """CSR (indptr, neighbour) of the pairs source -> target over ``nodes`` positions."""
    order = np.argsort(source, kind="stable")
    indptr = np.zeros(nodes + 1, dtype=np.int64)
    np.cumsum(np.bincount(source, minlength=nodes), out=indptr[1:])
    return indptr, target[order]


def _offsets(indptr: np.ndarray, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For every neighbour of every node in ``at`` (in order, neighbours in CSR order): the index into
    ``at`` it belongs to, and its offset in the CSR arrays."""
    first = indptr[at]
    counts = indptr[at + 1] - first
    ends = np.cumsum(counts)
    total = int(ends[-1]) if len(ends) else 0
    offsets = np.arange(total, dtype=np.int64) + np.repeat(first - (ends - counts), counts)
    return np.repeat(np.arange(len(at), dtype=np.int64), counts), offsets


def _expand(csr: tuple[np.ndarray, np.ndarray], at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For every neighbour of every node in ``at`` (in order): the index into ``at`` it belongs to, and
    the neighbour."""
    which, offsets = _offsets(csr[0], at)
    return which, csr[1][offsets]


_NEVER = -(2**62)  # np.iinfo(np.int64).min // 2, spelled out: numpy is imported on first use
"""A pending-parent count that never falls to zero: marks nodes a peel must not take."""


def _peel(csr: tuple[np.ndarray, np.ndarray], pending: np.ndarray) -> list[np.ndarray]:
    """Kahn's peel, a round at a time: round 0 is the nodes with ``pending`` 0; taking a round lowers the
    count of each of its neighbours (per ``csr``) once per edge, and the nodes that reach 0 form the next
    round. Nodes on or behind a cycle are never taken. ``pending`` is consumed."""
    rounds = []
    frontier = np.flatnonzero(pending == 0)
    while frontier.size:
        rounds.append(frontier)
        _, hit = _expand(csr, frontier)
        if not hit.size:
            break
        np.subtract.at(pending, hit, 1)
        frontier = _distinct(hit[pending[hit] == 0])
    return rounds


def condense(index: CompactGraph) -> Condensation:
    """The :class:`Condensation` of ``index``.

    Peeling sinks gives the rounds when the graph has no cycle. Otherwise the models left (on or above a
    cycle), peeled from their sources, leave the *core*: the models that lie both below a cycle and above
    one (every model on a cycle among them). Only the core is searched for strongly connected components
    (Tarjan's algorithm, in Python); every other model is a component of its own. The component DAG is
    then peeled from its sinks to give the rounds.
    """
    nodes = index.nodes
    down_csr, base = _without_loops(index.children, nodes)
    up_csr, _ = _without_loops(index.parents, nodes)
    child = down_csr[1]
    edges = (base, child)
    rounds = _peel(up_csr, np.diff(down_csr[0]))
    core = np.ones(nodes, dtype=bool)
    for taken in rounds:
        core[taken] = False
    component = np.arange(nodes, dtype=np.int64)
    if core.any():
        # above a cycle: every parent is too, so each such model's in-degree counts only such models
        pending = np.where(core, np.bincount(child, minlength=nodes), _NEVER)
        for taken in _peel(down_csr, pending):
            core[taken] = False
        at = np.flatnonzero(core)
        local = np.full(nodes, -1, dtype=np.int64)
        local[at] = np.arange(len(at))
        owner, neighbour = _expand(down_csr, at)
        inside = local[neighbour] >= 0
        successors: list[list[int]] = [[] for _ in range(len(at))]
        for o, w in zip(owner[inside].tolist(), local[neighbour[inside]].tolist(), strict=True):
            successors[o].append(w)
        numbers, count = _components(successors)
        number = np.array(numbers, dtype=np.int64)
        smallest = np.full(count, nodes, dtype=np.int64)
        np.minimum.at(smallest, number, at)
        component[at] = smallest[number]
        base, child = component[base], component[child]
        keep = base != child
        pairs = _distinct(base[keep] * nodes + child[keep])
        base, child = pairs // nodes, pairs % nodes
        down_csr, up_csr = _csr(base, child, nodes), _csr(child, base, nodes)
    size = np.bincount(component, minlength=nodes)
    if core.any():  # there are cycles: the rounds are the component DAG's
        rounds = _peel(up_csr, np.where(size > 0, np.diff(down_csr[0]), _NEVER))
    height = np.zeros(nodes, dtype=np.int64)
    for k, taken in enumerate(rounds):
        height[taken] = k
    return Condensation(component, size, height, rounds, down_csr, up_csr, edges)


def _handed_down(
    condensed: Condensation, seed: tuple[np.ndarray, np.ndarray], *, upwards: bool, width: int
) -> tuple[np.ndarray, np.ndarray]:
    """Sets carried along the component DAG: for each component c, S(c) = the union over its parents
    p of S(p) and seed(p) (``upwards``: over its children instead). ``seed`` is (component, item) pairs,
    items below ``width``. Returns every (component, item) pair of the S sets, each once.

    Rounds are taken from the far end, so each component gets all its pairs before it hands them on;
    the pairs waiting for a component are kept with its round and made unique when that round is taken.
    Time and memory follow the number of pairs handed (each pair once per DAG edge it crosses).
    """
    rounds = condensed.rounds if upwards else condensed.rounds[::-1]
    csr = condensed.up if upwards else condensed.down
    nodes = len(condensed.size)
    step = np.full(nodes, -1, dtype=np.int64)  # the index in ``rounds`` of each component's round
    for k, taken in enumerate(rounds):
        step[taken] = k
    handing = np.diff(csr[0])[seed[0]] > 0  # a component with no child (parent) hands nothing on
    seed_keys = _distinct(seed[0][handing] * width + seed[1][handing])
    seed_step = step[seed_keys // width]
    seed_order = np.argsort(seed_step, kind="stable")
    seed_keys = seed_keys[seed_order]
    seed_bounds = np.searchsorted(seed_step[seed_order], np.arange(len(rounds) + 1))
    has_target = np.diff(csr[0]) > 0
    waiting: list[list[np.ndarray]] = [[] for _ in rounds]
    found: list[np.ndarray] = []
    for k in range(len(rounds)):
        keys = _distinct(np.concatenate(waiting[k])) if waiting[k] else np.zeros(0, dtype=np.int64)
        waiting[k] = []
        found.append(keys)
        handed = np.concatenate([keys, seed_keys[seed_bounds[k]:seed_bounds[k + 1]]])
        if not handed.size:
            continue
        handed = handed[has_target[handed // width]]  # most components are leaves: nothing to hand on
        which, target = _expand(csr, handed // width)
        if not target.size:
            continue
        moved = target * width + handed[which] % width
        target_step = step[target]
        order = np.argsort(target_step, kind="stable")
        moved, target_step = moved[order], target_step[order]
        cuts = np.flatnonzero(np.diff(target_step)) + 1
        for part, first in zip(np.split(moved, cuts), target_step[np.concatenate([[0], cuts])].tolist(),
                               strict=True):
            waiting[first].append(part)
    keys = np.concatenate(found) if found else np.zeros(0, dtype=np.int64)
    return keys // width, keys % width


@dataclass(frozen=True)
class ReachArrays:
    """:class:`ReachCounts` of every model as int64 arrays indexed by position (``reach_weight``: one
    column per column of the weights, when they have several)."""

    direct_dependents: np.ndarray
    reach: np.ndarray
    reach_weight: np.ndarray
    subtree_height: np.ndarray


def reach_arrays(index: CompactGraph, weights: np.ndarray | None = None,
                 condensed: Condensation | None = None) -> ReachArrays:
    """:class:`ReachCounts` of every model (``weights``: int64 per position, e.g. downloads, or a 2-D array
    of several weights per position, each summed apart; 0 when None), in passes over the condensation
    (linear for trees and forests).

    Method: a component with two or more parent components is a *merge*. Every other component hangs
    below exactly one parent, so the models below a component C split into (a) those whose single-parent
    chain passes through C, counted by ``below(C) = sum over non-merge children D of size(D) + below(D)``
    (one pass, sinks first), and (b) the merges below C with what hangs below them:
    ``reach(C) = below(C) + sum over merges M below C of size(M) + below(M)``. The set of merges below
    each component is carried up the DAG (:func:`_handed_down`), so a merge reached by several paths
    counts once; only the ancestors of merges carry any.
    """
    condensed = condensed or condense(index)
    nodes = index.nodes
    weight = np.zeros(nodes, dtype=np.int64) if weights is None else np.asarray(weights, dtype=np.int64)
    component, size = condensed.component, condensed.size
    mass = _sum_by(component, weight, nodes)
    parent_count = condensed.parent_count
    only_parent = np.full(nodes, -1, dtype=np.int64)
    single = np.flatnonzero(parent_count == 1)
    only_parent[single] = condensed.up[1][condensed.up[0][single]]
    below_count = np.zeros(nodes, dtype=np.int64)
    below_mass = np.zeros(mass.shape, dtype=np.int64)
    for taken in condensed.rounds:
        hanging = taken[only_parent[taken] >= 0]
        _add_to(below_count, only_parent[hanging], size[hanging] + below_count[hanging])
        _add_to(below_mass, only_parent[hanging], mass[hanging] + below_mass[hanging])
    merges = np.flatnonzero(parent_count > 1)
    holder, merge = _handed_down(condensed, (merges, merges), upwards=True, width=max(nodes, 1))
    reach_count = below_count.copy()
    reach_mass = below_mass.copy()
    _add_to(reach_count, holder, size[merge] + below_count[merge])
    _add_to(reach_mass, holder, mass[merge] + below_mass[merge])
    base, _ = condensed.edges
    return ReachArrays(
        direct_dependents=np.bincount(base, minlength=nodes).astype(np.int64),
        reach=reach_count[component] + size[component] - 1,
        reach_weight=reach_mass[component] + mass[component] - weight,
        subtree_height=condensed.height[component],
    )


def _add_to(total: np.ndarray, keys: np.ndarray, values: np.ndarray) -> None:
    """``total[k] += v`` for each (k, v) pair (int64, exact; 2-D ``total`` and ``values``: row k, column by
    column). A bincount when the pairs are many (it costs the length of ``total``) and the sum is exact in
    float64 (below 2**53), else ``np.add.at``."""
    if total.ndim == 2:
        for column in range(total.shape[1]):
            _add_to(total[:, column], keys, values[:, column])
        return
    if len(keys) * 8 >= len(total) and float(np.abs(values).sum(dtype=np.float64)) < 2**52:
        total += np.bincount(keys, weights=values, minlength=len(total)).astype(np.int64)
    else:
        np.add.at(total, keys, values)


def _sum_by(keys: np.ndarray, values: np.ndarray, length: int) -> np.ndarray:
    """int64 sums of ``values`` per key in ``range(length)`` (of each column, for 2-D ``values``)."""
    total = np.zeros((length, *values.shape[1:]), dtype=np.int64)
    _add_to(total, keys, values)
    return total


@dataclass(frozen=True)
class GroupArrays:
    """:class:`GroupReach` of every group as int64 arrays indexed by group number (``reach_weight``: one
    column per column of the weights, when they have several)."""

    direct_dependents: np.ndarray
    reach: np.ndarray
    reach_weight: np.ndarray


def group_reach_arrays(index: CompactGraph, group: np.ndarray, groups: int, weights: np.ndarray | None = None,
                       condensed: Condensation | None = None) -> GroupArrays:
    """:class:`GroupReach` of every group: ``group`` holds each position's group number (int64, below
    ``groups``), ``weights`` an int64 per position, or several (a 2-D array, each summed apart; 0 when None).

    A model is in the reach of a group's set of models exactly when one of its ancestors other than
    itself is in the group, so each component carries the set of groups above it, handed down from its
    parents (:func:`_handed_down`): a model counts once per group above it, never once per path. The
    other members of a cycle are ancestors too. Time and memory follow the sum over models of the number
    of groups above them.
    """
    condensed = condensed or condense(index)
    nodes = index.nodes
    weight = np.zeros(nodes, dtype=np.int64) if weights is None else np.asarray(weights, dtype=np.int64)
    group = np.asarray(group, dtype=np.int64)
    component, size = condensed.component, condensed.size
    width = max(groups, 1)
    holder, above = _handed_down(condensed, (component, group), upwards=False, width=width)
    cyclic = size[component] > 1
    if not cyclic.any():  # every component is one model: a component's pairs are its model's
        models, model_group = [holder], [above]
    else:
        members = _csr(component, np.arange(nodes, dtype=np.int64), nodes)
        which, model = _expand(members, holder)
        model_group = [above[which]]
        models = [model]
        # a cycle's members: the groups of its other members are above each of them
        keys, counts = np.unique(component[cyclic] * width + group[cyclic], return_counts=True)
        which, member = _expand(members, keys // width)
        own = group[member] == keys[which] % width
        keep = counts[which] > own
        models.append(member[keep])
        model_group.append(keys[which][keep] % width)
        pairs = _distinct(np.concatenate(models) * width + np.concatenate(model_group))
        models, model_group = [pairs // width], [pairs % width]
    model, above = models[0], model_group[0]
    base, child = condensed.edges
    direct = _distinct(child * width + group[base]) % width
    return GroupArrays(
        direct_dependents=np.bincount(direct, minlength=groups).astype(np.int64),
        reach=np.bincount(above, minlength=groups).astype(np.int64),
        reach_weight=_sum_by(above, weight[model], groups),
    )


def reached_mask(index: CompactGraph, positions: np.ndarray, condensed: Condensation | None = None) -> np.ndarray:
    """Whether each position is in the reach of the set of models at ``positions`` (module docstring):
    a model is, when a member other than itself reaches it."""
    condensed = condensed or condense(index)
    nodes = index.nodes
    positions = _distinct(np.asarray(positions, dtype=np.int64))
    component = condensed.component
    member = np.zeros(nodes, dtype=bool)
    member[positions] = True
    members_in = np.bincount(component[positions], minlength=nodes)
    below = np.zeros(nodes, dtype=bool)
    _, frontier = _expand(condensed.down, _distinct(component[positions]))
    while frontier.size:
        frontier = _distinct(frontier)
        frontier = frontier[~below[frontier]]
        below[frontier] = True
        _, frontier = _expand(condensed.down, frontier)
    return below[component] | (members_in[component] - member > 0)  # type: ignore[no-any-return]


def depth_array(index: CompactGraph) -> np.ndarray:
    """Every model's depth from the roots (roots 0) by position; -1 for the models no root reaches."""
    depth = np.full(index.nodes, -1, dtype=np.int64)
    frontier = np.flatnonzero(root_mask(index))
    children = (index.children.indptr, index.children.neighbour)
    level = 0
    while frontier.size:
        depth[frontier] = level
        level += 1
        _, frontier = _expand(children, frontier)
        frontier = _distinct(frontier)
        frontier = frontier[depth[frontier] < 0]
    return depth


def _compact_of(graph: Graph) -> CompactGraph:
    """``graph`` as a compact graph (positions in graph order; no relations), for the whole-graph
    passes on a networkx graph."""
    if isinstance(graph, CompactGraph):
        return graph
    import polars as pl

    from ptmgraph.index import RELATION_CODES

    names = list(graph)
    number = {n: i for i, n in enumerate(names)}
    pairs = np.array([(number[b], number[c]) for b, c in graph.edges()], dtype=np.int64).reshape(-1, 2)

    def side(source: np.ndarray, target: np.ndarray) -> Adjacency:
        indptr, neighbour = _csr(source, target, len(names))
        unknown = np.full(len(neighbour), -1, dtype=np.int8)
        return Adjacency(indptr, neighbour.astype(np.int32), unknown, unknown)

    return CompactGraph(ids=pl.Series("id", names, dtype=pl.String()), rows=len(names),
                        children=side(pairs[:, 0], pairs[:, 1]), parents=side(pairs[:, 1], pairs[:, 0]),
                        relation_names=RELATION_CODES, fingerprint=0)


def _weights_of(index: CompactGraph, weights: Mapping[str, int | None] | None) -> np.ndarray | None:
    if not weights:
        return None
    return np.array([int(weights.get(n) or 0) for n in index.ids.to_list()], dtype=np.int64)


def reach_of_every_model(graph: Graph, weights: Mapping[str, int | None] | None = None) -> EveryReach:
    """:class:`ReachCounts` of every model (as :class:`EveryReach` columns, in graph order), by
    :func:`reach_arrays`. ``weights``: a number per model id (None or missing counts 0)."""
    index = _compact_of(graph)
    counts = reach_arrays(index, _weights_of(index, weights))
    return EveryReach(
        models=index.ids.to_list(),
        direct_dependents=counts.direct_dependents.tolist(),
        reach=counts.reach.tolist(),
        reach_weight=counts.reach_weight.tolist(),
        subtree_height=counts.subtree_height.tolist(),
    )


class GroupReach(NamedTuple):
    """One group's fan-out (e.g. an author's): ``direct_dependents`` (models with a parent other than
    themselves in the group), ``reach`` (the reach of the set of the group's models) and ``reach_weight``."""

    direct_dependents: int
    reach: int
    reach_weight: int


def reach_of_every_group(
    graph: Graph, group_of: Mapping[str, str], weights: Mapping[str, int | None] | None = None
) -> dict[str, GroupReach]:
    """:class:`GroupReach` of every group named in ``group_of`` (model -> group), by :func:`group_reach_arrays`."""
    index = _compact_of(graph)
    names = index.ids.to_list()
    number: dict[str, int] = {}
    group = np.array([number.setdefault(group_of[n], len(number)) for n in names], dtype=np.int64)
    counts = group_reach_arrays(index, group, len(number), _weights_of(index, weights))
    return {g: GroupReach(int(counts.direct_dependents[i]), int(counts.reach[i]), int(counts.reach_weight[i]))
            for g, i in number.items()}


def reach_union(graph: Graph, models: Iterable[str]) -> set[str]:
    """The reach of a set of models: the union of each member's reach (module docstring)."""
    index = _compact_of(graph)
    members = list(dict.fromkeys(models))
    return set(index.names(np.flatnonzero(reached_mask(index, index.positions_of(members)))))


def depths_from_roots(graph: Graph) -> dict[str, int]:
    """Every model's depth from the roots (roots 0); models no root reaches (inside cycles) are left out."""
    index = _compact_of(graph)
    depth = depth_array(index)
    at = np.flatnonzero(depth >= 0)
    return dict(zip(index.names(at), depth[at].tolist(), strict=True))


def weak_components(index: CompactGraph) -> np.ndarray:
    """Each position's weakly connected component (edge direction ignored), named by its smallest position.

    Hooking and pointer jumping on arrays: every edge whose ends carry two names points the larger name at
    the smaller, then every pointer is followed to its end; repeated until no edge joins two names.
    Names only ever fall, so the pointers never form a cycle.
    """
    label = np.arange(index.nodes, dtype=np.int64)
    base = np.repeat(label, np.diff(index.children.indptr))
    child = index.children.neighbour.astype(np.int64)
    while True:
        low, high = label[base], label[child]
        apart = low != high
        if not apart.any():
            return label
        base, child, low, high = base[apart], child[apart], low[apart], high[apart]
        np.minimum.at(label, np.maximum(low, high), np.minimum(low, high))
        while True:
            jumped = label[label]
            if np.array_equal(jumped, label):
                break
            label = jumped


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
    model) pair, ``model`` in the reach of ``source``, with what :class:`Reach` records of it: ``depth``,
    ``via`` (position) and ``relation`` (the hop's relation code, -1 for none). Entries are grouped by
    source (in position order), each source's models in the order its own walk finds them."""

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
        source = self.source[entries]
        live = np.arange(len(entries))
        at = np.asarray(entries, dtype=np.int64)
        while live.size:
            for i, code in zip(live.tolist(), self.relation[at].tolist(), strict=True):
                chains[i].append(code)
            via = self.via[at]
            more = via != source[live]
            live, at = live[more], self.find(source[live][more], via[more])
        return [chain[::-1] for chain in chains]


def walk_pairs(index: CompactGraph, sources: np.ndarray, relations: Iterable[str] | None = None, *,
               first_hops: np.ndarray | None = None) -> PairWalk:
    """:func:`reach` from each of ``sources`` (positions) on its own, following only edges of
    ``relations`` (all when None), done as one walk of (source, model) pairs a level at a time: the
    same depth, via and relation per model as the walk from that source alone (see :func:`_reach_index`:
    each source's pairs keep its own walk's order). Time and memory follow the number of pairs.

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
