"""Whole-graph passes: answers about every model at once, on arrays indexed by position.

The passes take the compact index only (a networkx graph is converted first,
:func:`ptmgraph.traverse.compact`): :func:`condense` (strongly connected components and the rounds of the
component DAG), :func:`reach_arrays` (reach of every model), :func:`group_reach_arrays` (of every group, e.g.
author), :func:`reached_mask` (reach of a set), :func:`depth_array` (by :func:`hops_from`, the one
breadth-first pass on arrays) and :func:`weak_components`;
:func:`reach_of_every_model`, :func:`reach_of_every_group`, :func:`reach_union` and :func:`depths_from_roots`
give the same on either graph by model id (``tests/test_traverse.py``, ``tests/test_wholegraph.py`` check them
against networkx). The words (*root*, *depth*, *reach*) are those of :mod:`ptmgraph.traverse`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from ptmgraph.index import Adjacency, CompactGraph
from ptmgraph.lazy import lazy_module
from ptmgraph.traverse import Graph, compact, root_mask, strong_components

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy_module("numpy")


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


def distinct(values: np.ndarray) -> np.ndarray:
    """The distinct values, sorted (numpy 2's hash-based ``np.unique`` is many times slower on int64 keys)."""
    values = np.sort(values)
    if len(values) > 1:
        values = values[np.concatenate(([True], values[1:] != values[:-1]))]
    return values


def csr_of(source: np.ndarray, target: np.ndarray, nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """CSR (indptr, neighbour) of the pairs source -> target over ``nodes`` positions."""
    order = np.argsort(source, kind="stable")
    indptr = np.zeros(nodes + 1, dtype=np.int64)
    np.cumsum(np.bincount(source, minlength=nodes), out=indptr[1:])
    return indptr, target[order]


def neighbour_offsets(indptr: np.ndarray, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For every neighbour of every node in ``at`` (in order, neighbours in CSR order): the index into
    ``at`` it belongs to, and its offset in the CSR arrays."""
    first = indptr[at]
    counts = indptr[at + 1] - first
    ends = np.cumsum(counts)
    total = int(ends[-1]) if len(ends) else 0
    offsets = np.arange(total, dtype=np.int64) + np.repeat(first - (ends - counts), counts)
    return np.repeat(np.arange(len(at), dtype=np.int64), counts), offsets


def neighbours_of(csr: tuple[np.ndarray, np.ndarray], at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For every neighbour of every node in ``at`` (in order): the index into ``at`` it belongs to, and
    the neighbour."""
    which, offsets = neighbour_offsets(csr[0], at)
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
        _, hit = neighbours_of(csr, frontier)
        if not hit.size:
            break
        np.subtract.at(pending, hit, 1)
        frontier = distinct(hit[pending[hit] == 0])
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
        owner, neighbour = neighbours_of(down_csr, at)
        inside = local[neighbour] >= 0
        successors: list[list[int]] = [[] for _ in range(len(at))]
        for o, w in zip(owner[inside].tolist(), local[neighbour[inside]].tolist(), strict=True):
            successors[o].append(w)
        numbers, count = strong_components(successors)
        number = np.array(numbers, dtype=np.int64)
        smallest = np.full(count, nodes, dtype=np.int64)
        np.minimum.at(smallest, number, at)
        component[at] = smallest[number]
        base, child = component[base], component[child]
        keep = base != child
        pairs = distinct(base[keep] * nodes + child[keep])
        base, child = pairs // nodes, pairs % nodes
        down_csr, up_csr = csr_of(base, child, nodes), csr_of(child, base, nodes)
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
    seed_keys = distinct(seed[0][handing] * width + seed[1][handing])
    seed_step = step[seed_keys // width]
    seed_order = np.argsort(seed_step, kind="stable")
    seed_keys = seed_keys[seed_order]
    seed_bounds = np.searchsorted(seed_step[seed_order], np.arange(len(rounds) + 1))
    has_target = np.diff(csr[0]) > 0
    waiting: list[list[np.ndarray]] = [[] for _ in rounds]
    found: list[np.ndarray] = []
    for k in range(len(rounds)):
        keys = distinct(np.concatenate(waiting[k])) if waiting[k] else np.zeros(0, dtype=np.int64)
        waiting[k] = []
        found.append(keys)
        handed = np.concatenate([keys, seed_keys[seed_bounds[k]:seed_bounds[k + 1]]])
        if not handed.size:
            continue
        handed = handed[has_target[handed // width]]  # most components are leaves: nothing to hand on
        which, target = neighbours_of(csr, handed // width)
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
class GroupArrays:
    """:class:`GroupReach` of every group as int64 arrays indexed by group number (``reach_weight``: one
    column per column of the weights, when they have several)."""

    direct_dependents: np.ndarray
    reach: np.ndarray
    reach_weight: np.ndarray


@dataclass(frozen=True)
class ReachArrays(GroupArrays):
    """:class:`ReachCounts` of every model as int64 arrays indexed by position: a model's counts are those
    of the group of that one model (:class:`GroupArrays`), and its ``subtree_height``."""

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
        members = csr_of(component, np.arange(nodes, dtype=np.int64), nodes)
        which, model = neighbours_of(members, holder)
        model_group = [above[which]]
        models = [model]
        # a cycle's members: the groups of its other members are above each of them
        keys, counts = np.unique(component[cyclic] * width + group[cyclic], return_counts=True)
        which, member = neighbours_of(members, keys // width)
        own = group[member] == keys[which] % width
        keep = counts[which] > own
        models.append(member[keep])
        model_group.append(keys[which][keep] % width)
        pairs = distinct(np.concatenate(models) * width + np.concatenate(model_group))
        models, model_group = [pairs // width], [pairs % width]
    model, above = models[0], model_group[0]
    base, child = condensed.edges
    direct = distinct(child * width + group[base]) % width
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
    positions = distinct(np.asarray(positions, dtype=np.int64))
    component = condensed.component
    member = np.zeros(nodes, dtype=bool)
    member[positions] = True
    members_in = np.bincount(component[positions], minlength=nodes)
    _, children = neighbours_of(condensed.down, distinct(component[positions]))
    below = hops_from(condensed.down, children, nodes) >= 0
    return below[component] | (members_in[component] - member > 0)  # type: ignore[no-any-return]


def depth_array(index: CompactGraph) -> np.ndarray:
    """Every model's depth from the roots (roots 0) by position; -1 for the models no root reaches."""
    return hops_from((index.children.indptr, index.children.neighbour), np.flatnonzero(root_mask(index)), index.nodes)


def hops_from(csr: tuple[np.ndarray, np.ndarray], start: np.ndarray, nodes: int) -> np.ndarray:
    """Each of ``nodes`` positions' fewest hops from the positions ``start`` (0 for them) along the CSR
    (indptr, neighbour) ``csr``, -1 where no path leads: a breadth-first pass, a level at a time."""
    hops = np.full(nodes, -1, dtype=np.int64)
    frontier = distinct(np.asarray(start, dtype=np.int64))
    level = 0
    while frontier.size:
        hops[frontier] = level
        level += 1
        _, frontier = neighbours_of(csr, frontier)
        frontier = distinct(frontier)
        frontier = frontier[hops[frontier] < 0]
    return hops


def _weights_of(index: CompactGraph, weights: Mapping[str, int | None] | None) -> np.ndarray | None:
    if not weights:
        return None
    return np.array([int(weights.get(n) or 0) for n in index.ids.to_list()], dtype=np.int64)


def reach_of_every_model(graph: Graph, weights: Mapping[str, int | None] | None = None) -> EveryReach:
    """:class:`ReachCounts` of every model (as :class:`EveryReach` columns, in graph order), by
    :func:`reach_arrays`. ``weights``: a number per model id (None or missing counts 0)."""
    index = compact(graph)
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
    index = compact(graph)
    names = index.ids.to_list()
    number: dict[str, int] = {}
    group = np.array([number.setdefault(group_of[n], len(number)) for n in names], dtype=np.int64)
    counts = group_reach_arrays(index, group, len(number), _weights_of(index, weights))
    return {g: GroupReach(int(counts.direct_dependents[i]), int(counts.reach[i]), int(counts.reach_weight[i]))
            for g, i in number.items()}


def reach_union(graph: Graph, models: Iterable[str]) -> set[str]:
    """The reach of a set of models: the union of each member's reach (module docstring)."""
    index = compact(graph)
    members = list(dict.fromkeys(models))
    return set(index.names(np.flatnonzero(reached_mask(index, index.positions_of(members)))))


def depths_from_roots(graph: Graph) -> dict[str, int]:
    """Every model's depth from the roots (roots 0); models no root reaches (inside cycles) are left out."""
    index = compact(graph)
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


def edge_offsets(adjacency: Adjacency, owner: np.ndarray, neighbour: np.ndarray) -> np.ndarray:
    """The offset in ``adjacency`` of each edge ``owner[i]`` -> ``neighbour[i]`` (positions); -1 where there is
    no such edge. One pass over the adjacency lists of the distinct owners, whatever the number of edges asked."""
    owner = np.asarray(owner, dtype=np.int64)
    wanted = owner * (len(adjacency.indptr) - 1) + np.asarray(neighbour, dtype=np.int64)
    owners = distinct(owner)
    which, offsets = neighbour_offsets(adjacency.indptr, owners)
    keys = owners[which] * (len(adjacency.indptr) - 1) + adjacency.neighbour[offsets]
    order = np.argsort(keys, kind="stable")
    keys, offsets = keys[order], offsets[order]
    if not len(keys):
        return np.full(len(wanted), -1, dtype=np.int64)
    at = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
    return np.where(keys[at] == wanted, offsets[at], -1)


def distinct_rows(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of a 2-D integer array, sorted, and the index of each row among them (what
    ``np.unique(matrix, axis=0, return_inverse=True)`` gives, by a lexsort: ten times faster)."""
    if not len(matrix):
        return matrix, np.zeros(0, dtype=np.int64)
    order = np.lexsort(matrix.T[::-1])
    ordered = matrix[order]
    first = np.ones(len(matrix), dtype=bool)
    first[1:] = (ordered[1:] != ordered[:-1]).any(axis=1)
    which = np.empty(len(matrix), dtype=np.int64)
    which[order] = np.cumsum(first) - 1
    return ordered[first], which
