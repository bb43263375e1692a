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

The graph is the lineage ``networkx.DiGraph`` (edge base -> derived, the hop's relation in the edge
attribute ``relation``). A walk keeps one parent pointer (``via``) and one hop relation per reached
model, so its memory is linear in the models reached whatever the depth; paths are rebuilt from
the pointers only when asked for. Callers use only these functions and :class:`Reach`, so the walks
can later run on a compact array index without the callers changing.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal, NamedTuple

import networkx as nx

Direction = Literal["descendants", "ancestors"]
"""``descendants`` follows edges base -> derived; ``ancestors`` follows them backwards."""

RUNTIME_RELATIONS = frozenset({"adapter"})
"""Relations whose derived model loads the base's weights at run time (see *runtime* above)."""


def is_root(graph: nx.DiGraph, model: str) -> bool:
    """Whether ``model`` is a root: it has no parent other than itself."""
    return all(parent == model for parent in graph.pred[model])


def roots(graph: nx.DiGraph) -> list[str]:
    """Every root of ``graph`` (see the module docstring), sorted."""
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
    graph: nx.DiGraph,
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


def reach_union(graph: nx.DiGraph, models: Iterable[str]) -> set[str]:
    """The reach of a set of models: the union of each member's reach (module docstring)."""
    members = set(models)
    walk = reach(graph, members)
    found = set(walk)
    for member in members:
        others = members - {member}
        for parent in graph.pred[member]:
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


def paths_to_roots(graph: nx.DiGraph, model: str, max_paths: int) -> tuple[list[list[str]], bool]:
    """Simple paths root -> ... -> model (at most ``max_paths``, in depth-first order taking parents in
    id order) and whether more exist. A path also ends where every parent is already on it (a cycle).

    Depth-first with one shared path and an on-path set, so a chain costs time and memory linear in its length.
    """
    paths: list[list[str]] = []
    path = [model]
    on_path = {model}
    pending: list[list[str]] = [sorted((p for p in graph.pred[model] if p != model), reverse=True)]
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
        parents = sorted((p for p in graph.pred[parent] if p not in on_path), reverse=True)
        if not parents:  # a root, or every parent already on the path (a cycle)
            if len(paths) >= max_paths:
                return paths, True
            paths.append(path[::-1])
        pending.append(parents)
    return paths, False


def depths_from_roots(graph: nx.DiGraph) -> dict[str, int]:
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


def _integer_adjacency(graph: nx.DiGraph) -> tuple[list[str], list[list[int]]]:
    """The models in graph order, and each one's children (itself left out) by position in that order."""
    names = list(graph)
    number = {n: i for i, n in enumerate(names)}
    # adjacency() hands out the graph's own dicts: much cheaper than a view per model
    return names, [[number[c] for c in children if c != n] for n, children in graph.adjacency()]


@_collector_paused()
def reach_of_every_model(graph: nx.DiGraph, weights: Mapping[str, int | None] | None = None) -> EveryReach:
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
    graph: nx.DiGraph, group_of: Mapping[str, str], weights: Mapping[str, int | None] | None = None
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
    for n in names:
        for g in {group_of[p] for p in graph.pred[n] if p != n}:
            direct[g] += 1
    return {g: GroupReach(direct[g], reach_count[g], reach_weight[g]) for g in reach_count}
