"""The only graph walks: reach from a set of models, the roots, and the reach of every model.

Words that mean one thing everywhere (``notes/design.md``); every other module refers here:

- **root**: a model with no parent other than itself. An isolated model is its own root.
- **depth** of a reached model: the fewest hops from the nearest source along the followed edges.
- **reach** of a model m: its transitive dependents (the models with a path from m), each counted
  once however many paths lead to it (merges give a model several parents); m itself is not in its
  own reach, even when it lies on a cycle. The reach of a *set* of models is the union of the reach
  of its members.
- **runtime** vs **inherited** dependency of a model on a source: *runtime* when every hop of the
  path from the source is an adapter (an adapter loads its base's weights at run time, like a package
  dependency); *inherited* when any hop copied the weights (finetune, merge, quantized, unknown).

The graph is either the compact index (:class:`ptmgraph.index.CompactGraph`: CSR arrays, walked with
numpy a whole BFS level at a time) or the lineage ``networkx.DiGraph`` (edge base -> derived, the
hop's relation in the edge attribute ``relation``) that the Python API hands out; :func:`reach`,
:func:`is_root`, :func:`roots`, :func:`paths_to_roots` and :func:`tree_lines` give the same answers
on both (``tests/test_index.py`` checks it), and so do :func:`reach_union`, :func:`depths_from_roots`,
:func:`reach_of_every_model` and :func:`reach_of_every_group` (``tests/test_traverse.py``). A walk
keeps one parent pointer (``via``) and one hop relation per reached model, so its memory is linear in
the models reached whatever the depth; paths are rebuilt from the pointers only when asked for.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Union

import numpy as np

from ptmgraph.index import CompactGraph

if TYPE_CHECKING:  # networkx is imported only by whoever builds a networkx graph
    import networkx as nx

Graph = Union["nx.DiGraph", CompactGraph]
"""A lineage graph a walk accepts: the compact index or the networkx graph."""

Direction = Literal["descendants", "ancestors"]
"""``descendants`` follows edges base -> derived; ``ancestors`` follows them backwards."""

RUNTIME_RELATIONS = frozenset({"adapter"})
"""Relations whose derived model loads the base's weights at run time (see *runtime* above)."""


def is_root(graph: Graph, model: str) -> bool:
    """Whether ``model`` is a root: it has no parent other than itself."""
    if isinstance(graph, CompactGraph):
        at = graph.position(model)
        return bool(np.all(graph.parents.neighbour[graph.parents.of(at)] == at))
    return all(parent == model for parent in graph.pred[model])


def roots_at(index: CompactGraph, positions: np.ndarray) -> np.ndarray:
    """Whether each model at ``positions`` is a root (a boolean array in that order)."""
    parents = index.parents
    first = parents.indptr[positions]
    counts = parents.indptr[positions + 1] - first
    ends = np.cumsum(counts)
    offsets = np.arange(int(counts.sum())) + np.repeat(first - (ends - counts), counts)
    owner = np.repeat(np.arange(len(positions)), counts)
    others = np.bincount(owner[parents.neighbour[offsets] != np.repeat(positions, counts)], minlength=len(positions))
    return others == 0  # type: ignore[no-any-return]


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
    positions: np.ndarray | None = field(default=None, compare=False, repr=False)
    """On the compact index: the reached models' positions, in iteration order (None on networkx)."""

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
    """:func:`reach` on the compact index: one numpy pass per BFS level.

    A level lists every (frontier node, neighbour) pair in the order the one-at-a-time walk meets them
    (frontier in the order found, neighbours in id order), drops those already seen or of an unwanted
    relation, and keeps each neighbour's first pair: the same depth, via and relation as that walk.
    """
    adjacency = index.parents if direction == "ancestors" else index.children
    start_at = np.array([index.position(s) for s in starts], dtype=np.int64)
    seen = np.zeros(index.nodes, dtype=bool)
    seen[start_at] = True
    codes = None if wanted is None else np.array(
        [code for code, name in enumerate(index.relation_names) if name in wanted], dtype=np.int8)
    found: list[np.ndarray] = []
    vias: list[np.ndarray] = []
    hops: list[np.ndarray] = []
    levels: list[int] = []
    frontier = start_at
    level = 0
    while frontier.size and (max_depth is None or level < max_depth):
        level += 1
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
        if codes is not None:
            keep &= np.isin(adjacency.relation[offsets], codes)
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
    positions = np.concatenate(found) if found else np.zeros(0, dtype=np.int64)
    names = index.names(positions)
    via_names = index.names(np.concatenate(vias)) if vias else []
    relation_names = [*index.relation_names, None]  # code -1 (no relation) picks the last
    hop_codes = np.concatenate(hops).tolist() if hops else []
    depths = np.repeat(np.arange(1, len(levels) + 1), levels).tolist()
    return Reach(
        sources=starts,
        direction=direction,
        depth=dict(zip(names, depths, strict=True)),
        via=dict(zip(names, via_names, strict=True)),
        relation=dict(zip(names, [relation_names[c] for c in hop_codes], strict=True)),  # type: ignore[misc]
        positions=positions,
    )


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
    position_of = dict(zip(found, found.positions.tolist(), strict=True)) | {source: at}
    name_at = {p: n for n, p in position_of.items()}
    relation_names = [*graph.relation_names, None]

    def from_index(node: str) -> list[tuple[str, str | None]]:
        span = adjacency.of(position_of[node])
        return [(name_at[o], relation_names[c])  # type: ignore[misc]
                for o, c in zip(adjacency.neighbour[span].tolist(), adjacency.relation[span].tolist(), strict=True)
                if o in name_at]

    return from_index


def reach_union(graph: Graph, models: Iterable[str]) -> set[str]:
    """The reach of a set of models: the union of each member's reach (module docstring)."""
    members = set(models)
    walk = reach(graph, members)
    found = set(walk)
    parents_of = _parents_of(graph, sorted(members))
    for member in members:
        others = members - {member}
        for parent in parents_of[member]:
            if parent == member or (parent not in found and parent not in others):
                continue
            # The walk met ``parent`` from ``member`` itself only when a cycle runs through both: then
            # ``member`` is in the union only if another member also reaches ``parent``.
            if parent in others or walk.source(parent) != member or any(
                a in others for a in reach(graph, [parent], direction="ancestors")
            ):
                found.add(member)
                break
    return found


def _parents_of(graph: Graph, models: list[str]) -> dict[str, list[str]]:
    """Each of ``models``' parents (itself included when it has a self-loop)."""
    if isinstance(graph, CompactGraph):
        parents = graph.parents
        at = graph.positions_of(models).tolist()
        return {m: graph.names(parents.neighbour[parents.of(p)]) for m, p in zip(models, at, strict=True)}
    return {m: list(graph.pred[m]) for m in models}


def paths_to_roots(graph: Graph, model: str, max_paths: int) -> tuple[list[list[str]], bool]:
    """Simple paths root -> ... -> model (at most ``max_paths``, in depth-first order taking parents in
    id order) and whether more exist. A path also ends where every parent is already on it (a cycle).

    Depth-first with one shared path and an on-path set, so a chain costs time and memory linear in its length.
    """
    if isinstance(graph, CompactGraph):
        parents = graph.parents
        start = graph.position(model)

        def parents_of(node: int) -> list[int]:
            return parents.neighbour[parents.of(node)].tolist()  # type: ignore[no-any-return]

        found, more = _paths_up(parents_of, start, max_paths)
        every = sorted({n for path in found for n in path})
        name = dict(zip(every, graph.names(np.array(every, dtype=np.int64)), strict=True))
        return [[name[n] for n in path] for path in found], more
    pred = graph.pred
    return _paths_up(lambda node: sorted(pred[node]), model, max_paths)


def _paths_up(parents_of: Callable[[Any], list[Any]], model: Any, max_paths: int) -> tuple[list[list[Any]], bool]:
    """:func:`paths_to_roots` given each model's parents in id order."""
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
        path.append(parent)
        on_path.add(parent)
        parents = [p for p in parents_of(parent) if p not in on_path][::-1]
        if not parents:  # a root, or every parent already on the path (a cycle)
            if len(paths) >= max_paths:
                return paths, True
            paths.append(path[::-1])
        pending.append(parents)
    return paths, False


def cycle_members(graph: Graph, models: Iterable[str]) -> set[str]:
    """The ``models`` that lie on a cycle of the subgraph they induce (a strongly connected component of
    two or more of them; a self-loop alone is not one)."""
    members = list(dict.fromkeys(models))
    number = {m: i for i, m in enumerate(members)}
    if isinstance(graph, CompactGraph):
        children = graph.children
        at = graph.positions_of(members).tolist()
        local = {p: i for i, p in enumerate(at)}
        successors = [[local[c] for c in children.neighbour[children.of(p)].tolist() if c in local] for p in at]
    else:
        successors = [[number[c] for c in graph.succ[m] if c in number] for m in members]
    component, count = _components(successors)
    size = [0] * count
    for c in component:
        size[c] += 1
    return {m for m, c in zip(members, component, strict=True) if size[c] > 1}


def depths_from_roots(graph: Graph) -> dict[str, int]:
    """Every model's depth from the roots (roots 0); models no root reaches (inside cycles) are left out."""
    starts = roots(graph)
    found = reach(graph, starts)
    return dict.fromkeys(starts, 0) | found.depth


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


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector: the whole-graph passes allocate a few small objects per model
    and no cycles, and the collector's rescans of the growing heap would cost more than the pass itself."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _integer_adjacency(graph: Graph) -> tuple[list[str], list[list[int]]]:
    """The models in graph order (index position order on the compact index), and each one's children
    (itself left out, each once) by position in that order."""
    if isinstance(graph, CompactGraph):
        children = graph.children
        nodes = graph.nodes
        owner = np.repeat(np.arange(nodes, dtype=np.int64), np.diff(children.indptr))
        neighbour = children.neighbour.astype(np.int64)
        keep = neighbour != owner
        # one (owner, child) pair per edge, sorted by owner then child and without repeats
        pairs = np.unique(owner[keep] * nodes + neighbour[keep])
        bounds = np.searchsorted(pairs, np.arange(nodes + 1, dtype=np.int64) * nodes).tolist()
        kept = (pairs % nodes).tolist() if nodes else []
        return graph.ids.to_list(), [kept[bounds[i]:bounds[i + 1]] for i in range(nodes)]
    names = list(graph)
    number = {n: i for i, n in enumerate(names)}
    # adjacency() hands out the graph's own dicts: much cheaper than a view per model
    return names, [[number[c] for c in children if c != n] for n, children in graph.adjacency()]


@_collector_paused()
def reach_of_every_model(graph: Graph, weights: Mapping[str, int | None] | None = None) -> EveryReach:
    """:class:`ReachCounts` of every model (as :class:`EveryReach` columns), in one pass over the
    condensation (linear for trees).

    Method: on the DAG of strongly connected components, a component with two or more parent
    components is a *merge*. Every other component hangs below exactly one parent, so the models
    below C split into (a) those whose single-parent chain passes through C, counted by
    ``below(C) = sum over non-merge children D of size(D) + below(D)``, and (b) the merges below C
    with what hangs below them: ``reach(C) = below(C) + sum over merges M below C of size(M) + below(M)``.
    The merges below C are a set (a Python int used as a bit set), so a merge reached by several
    paths counts once. Weights (e.g. downloads; None counts 0) are summed the same way.
    """
    names, successors = _integer_adjacency(graph)
    weight = [int((weights or {}).get(n) or 0) for n in names]
    component, count = _components(successors)
    size, mass = [0] * count, [0] * count
    children: list[set[int]] = [set() for _ in range(count)]
    for v, c in enumerate(component):
        size[c] += 1
        mass[c] += weight[v]
        children[c].update(component[w] for w in successors[v] if component[w] != c)
    parents = [0] * count
    for kids in children:
        for d in kids:
            parents[d] += 1
    merge_bit = {c: 0 for c in range(count) if parents[c] > 1}
    merge_at: list[int] = []
    for c in merge_bit:
        merge_bit[c] = 1 << len(merge_at)
        merge_at.append(c)

    below_count, below_mass, merges_below, height = [0] * count, [0] * count, [0] * count, [0] * count
    reach_count, reach_mass = [0] * count, [0] * count
    for c in range(count):  # sinks first: children are done
        total = weight_sum = bits = 0
        tallest = -1
        for d in children[c]:
            tallest = max(tallest, height[d])
            bits |= merges_below[d]
            if d in merge_bit:
                bits |= merge_bit[d]
            else:
                total += size[d] + below_count[d]
                weight_sum += mass[d] + below_mass[d]
        below_count[c], below_mass[c], merges_below[c], height[c] = total, weight_sum, bits, tallest + 1
        while bits:
            low_bit = bits & -bits
            m = merge_at[low_bit.bit_length() - 1]
            total += size[m] + below_count[m]
            weight_sum += mass[m] + below_mass[m]
            bits ^= low_bit
        reach_count[c], reach_mass[c] = total, weight_sum

    return EveryReach(
        models=names,
        direct_dependents=[len(children) for children in successors],
        reach=[reach_count[c] + size[c] - 1 for c in component],
        reach_weight=[reach_mass[c] + mass[c] - w for c, w in zip(component, weight, strict=True)],
        subtree_height=[height[c] for c in component],
    )


class GroupReach(NamedTuple):
    """One group's fan-out (e.g. an author's): ``direct_dependents`` (models with a parent other than
    themselves in the group), ``reach`` (the reach of the set of the group's models) and ``reach_weight``."""

    direct_dependents: int
    reach: int
    reach_weight: int


@_collector_paused()
def reach_of_every_group(
    graph: Graph, group_of: Mapping[str, str], weights: Mapping[str, int | None] | None = None
) -> dict[str, GroupReach]:
    """:class:`GroupReach` of every group named in ``group_of`` (model -> group), in one pass down the
    condensation.

    A model is in the reach of a group's set of models exactly when one of its ancestors other than
    itself is in the group, so each model carries the set of groups above it, handed down from its
    parents: a model counts once per group above it, never once per path. Time and memory follow the
    sum over models of the number of groups above them.
    """
    names, successors = _integer_adjacency(graph)
    weight = [int((weights or {}).get(n) or 0) for n in names]
    group = [group_of[n] for n in names]
    component, count = _components(successors)
    members: list[list[int]] = [[] for _ in range(count)]
    for v, c in enumerate(component):
        members[c].append(v)
    above: list[frozenset[str] | None] = [None] * count  # groups above a component, from outside it
    reach_count: dict[str, int] = dict.fromkeys(group, 0)
    reach_weight: dict[str, int] = dict.fromkeys(group, 0)
    direct: dict[str, int] = dict.fromkeys(group, 0)
    empty: frozenset[str] = frozenset()
    for c in range(count - 1, -1, -1):  # sources first: Tarjan numbers a component after those below it
        outside = above[c] or empty
        above[c] = None
        inside: dict[str, int] = {}
        for v in members[c]:
            inside[group[v]] = inside.get(group[v], 0) + 1
        for v in members[c]:
            # other members of a cycle are ancestors too; the model itself is not its own ancestor
            mine = outside if len(members[c]) == 1 else outside | {g for g, k in inside.items() if k > (g == group[v])}
            for g in mine:
                reach_count[g] += 1
                reach_weight[g] += weight[v]
        handed = outside if outside.issuperset(inside) else outside | frozenset(inside)
        for v in members[c]:
            for w in successors[v]:
                d = component[w]
                if d != c:
                    previous = above[d]
                    above[d] = handed if previous is None or previous is handed else previous | handed
    for _, g in {(w, group[v]) for v in range(len(names)) for w in successors[v]}:  # (child, parent's group)
        direct[g] += 1
    return {g: GroupReach(direct[g], reach_count[g], reach_weight[g]) for g in reach_count}
