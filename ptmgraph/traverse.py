"""The point walks, and the words every module uses: one breadth-first walk (:func:`walk`) from a set
of models, the roots, and paths to the roots and between two models.

Words that mean one thing everywhere (README "Definitions"); every other module refers here:

- **walk** from a set of models (its *sources*): every model reached along the followed edges, in one
  :class:`Direction`: ``descendants`` follows edges base -> derived, ``ancestors`` follows them back.
- **root**: a model with no parent other than itself. An isolated model is its own root.
- **depth** of a reached model: the fewest hops from the nearest source along the followed edges.
- **reach** of a model m: its transitive dependents (the models with a path from m: the walk of its
  descendants), each counted once however many paths lead to it (merges give a model several parents);
  m itself is not in its own reach, even when it lies on a cycle. The reach of a *set* of models is the
  union of the reach of its members. *Reach* names dependents only; the general traversal is a walk.
- **runtime**, **runtime_code** and **inherited** dependency of a model on a source: the runtime rule,
  stated once, :func:`ptmgraph.relations.dependency`.

Every walk runs on the compact index (:class:`ptmgraph.index.CompactGraph`: CSR arrays). A lineage
``networkx.DiGraph`` (edge base -> derived, the hop's relation in the edge attribute ``relation``), as
the Python API hands out, is converted to the index first by the same build as a snapshot's tables
(:func:`compact`), so both give the same answers by construction. :func:`walk` is the one breadth-first
walk: it keeps one parent pointer (``via``) and one hop relation per reached model, so its memory is
linear in the models reached whatever the depth; paths are rebuilt from the pointers only when asked for.
``tests/test_index.py`` checks it against networkx's own breadth-first search.

Beside this module, on the same words: :mod:`ptmgraph.tree_lines` draws a walk as the lines of a tree,
:mod:`ptmgraph.passes` answers about every model at once (whole-graph passes on arrays) and
:mod:`ptmgraph.pair_walks` walks from many sources at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain, pairwise, repeat
from typing import TYPE_CHECKING, Any, Literal, Union

import polars as pl

from ptmgraph.index import Adjacency, CompactGraph, build
from ptmgraph.lazy import lazy_module

if TYPE_CHECKING:  # networkx is imported only by whoever builds a networkx graph
    import networkx as nx
    import numpy as np
else:
    np = lazy_module("numpy")  # the point walks on a small graph never import it (see ptmgraph.index)

Graph = Union["nx.DiGraph", CompactGraph]
"""A lineage graph a walk accepts: the compact index, or a networkx graph (converted by :func:`compact`)."""

Direction = Literal["descendants", "ancestors"]
"""The direction of a walk, the one vocabulary for it: ``descendants`` follows edges base -> derived;
``ancestors`` follows them backwards."""


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


def compact(graph: Graph) -> CompactGraph:
    """``graph`` as the compact index: the index itself, or a networkx graph built into one by
    :func:`ptmgraph.index.build`, the build a snapshot's tables go through (the graph's nodes, in graph
    order, as the models; its edges with their ``relation`` and ``parent_confidence`` attributes). A
    networkx graph is converted on every call, in time linear in its size: a caller that walks one graph
    many times converts it once."""
    if isinstance(graph, CompactGraph):
        return graph
    edges = [(str(b), str(c), _text(d.get("relation")), _text(d.get("parent_confidence")))
             for b, c, d in graph.edges(data=True)]
    return build(
        pl.DataFrame({"id": [str(n) for n in graph]}, schema={"id": pl.String()}),
        pl.DataFrame(edges, schema={"base": pl.String(), "child": pl.String(), "relation": pl.String(),
                                    "parent_confidence": pl.String()}, orient="row"),
    )


def _text(value: object) -> str | None:
    """An edge attribute as text (an enum by its value); None stays None."""
    return None if value is None else str(getattr(value, "value", value))


def is_root(graph: Graph, model: str) -> bool:
    """Whether ``model`` is a root: it has no parent other than itself."""
    index = compact(graph)
    at = index.position(model)
    return all(parent == at for parent in index.parents.neighbours(at))


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
    index = compact(graph)
    return sorted(index.names(np.flatnonzero(root_mask(index))))


@dataclass(frozen=True)
class Walk:
    """The models a :func:`walk` reached from ``sources``, each with its depth, parent pointer and hop relation.

    ``depth[m]`` is m's depth; ``via[m]`` the model one hop nearer the sources on one shortest path
    (among equals, the one the walk met first: neighbours are visited in id order); ``relation[m]``
    the relation of the edge between m and ``via[m]``. Sources are never in the mappings, even when
    another source reaches them. Iteration yields models in the order found (by depth). ``relations``
    is what the walk followed (None: every relation).
    """

    sources: tuple[str, ...]
    direction: Direction
    relations: frozenset[str] | None
    depth: dict[str, int]
    via: dict[str, str]
    relation: dict[str, str]
    positions: pl.Series = field(compare=False, repr=False)
    """The reached models' positions in the index walked (Int64), in iteration order."""

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


def walk(
    graph: Graph,
    sources: Iterable[str],
    *,
    direction: Direction = "descendants",
    relations: Iterable[str] | None = None,
    max_depth: int | None = None,
) -> Walk:
    """The one breadth-first walk, from ``sources``: every model within ``max_depth`` hops (all when None),
    following only edges whose relation is in ``relations`` (all when None), in ``direction``.

    Each level takes the models of the level above in the order found, and each one's neighbours in id
    order; a model is taken the first time it is met (so its ``via`` is the first model of the level above
    with an edge to it) and a source never is. With one source and ``direction="descendants"`` the models
    found are its reach (module docstring).
    """
    index = compact(graph)
    starts = tuple(dict.fromkeys(sources))
    wanted = None if relations is None else frozenset(relations)
    adjacency = index.parents if direction == "ancestors" else index.children
    codes = None if wanted is None else frozenset(
        code for code, name in enumerate(index.relation_names) if name in wanted)
    positions, vias, hop_codes, levels = _breadth_first(
        adjacency, [index.position(s) for s in starts], index.nodes, codes, max_depth, arrays=not index.small)
    names = index.names(positions)
    relation_names = [*index.relation_names, None]  # code -1 (no relation) picks the last
    depths = list(chain.from_iterable(repeat(depth, count) for depth, count in enumerate(levels, 1)))
    return Walk(
        sources=starts,
        direction=direction,
        relations=wanted,
        depth=dict(zip(names, depths, strict=True)),
        via=dict(zip(names, index.names(vias), strict=True)),
        relation=dict(zip(names, [relation_names[c] for c in hop_codes], strict=True)),  # type: ignore[misc]
        positions=positions,
    )


Walked = tuple[pl.Series, pl.Series, list[int], list[int]]
"""A walk on the index: the positions reached (in the order found), the position of each one's via,
each one's hop relation code, and how many were found at each depth (1, 2 ...)."""

Level = tuple[list[int], list[int], list[int]]
"""One level of a walk: the positions taken, each one's via, each one's hop relation code."""

_FEW_EDGES = 32
"""A level with at most this many edges to look at is taken edge by edge, even on a large graph."""


def _breadth_first(adjacency: Adjacency, start_at: list[int], nodes: int, codes: frozenset[int] | None,
                   max_depth: int | None, *, arrays: bool) -> Walked:
    """The body of :func:`walk`, on one direction of the index, a level at a time.

    A level is taken edge by edge (:func:`_level_by_edges`), or with ``arrays`` (a large graph, see
    :mod:`ptmgraph.index`) and more than :data:`_FEW_EDGES` edges to look at, in a few numpy passes
    (:func:`_level_by_arrays`); both take the same models with the same via and relation, so a long
    chain (one model a level) costs what it holds rather than a dozen numpy calls a level, and a small
    graph is walked without importing numpy.
    """
    seen = bytearray(nodes)
    for at in start_at:
        seen[at] = 1
    found: list[Any] = []  # per level: lists, or numpy arrays where a level was taken with numpy
    vias: list[Any] = []
    hops: list[Any] = []
    levels: list[int] = []
    frontier: Any = start_at
    indptr = adjacency.held[0]
    while len(frontier) and (max_depth is None or len(levels) < max_depth):
        few = len(frontier) <= _FEW_EDGES and sum(
            int(indptr[n + 1]) - int(indptr[n]) for n in _listed(frontier)) <= _FEW_EDGES
        taken = _level_by_edges(adjacency, _listed(frontier), seen, codes) if few or not arrays else \
            _level_by_arrays(adjacency, frontier, seen, codes)
        if not len(taken[0]):
            break
        found.append(taken[0])
        vias.append(taken[1])
        hops.append(taken[2])
        levels.append(len(taken[0]))
        frontier = taken[0]
    if not arrays:
        return (pl.Series(list(chain.from_iterable(found)), dtype=pl.Int64),
                pl.Series(list(chain.from_iterable(vias)), dtype=pl.Int64),
                list(chain.from_iterable(hops)), levels)
    import numpy as np  # the module itself: the lazy stand-in would look it up on every use

    def joined(parts: list[Any], dtype: Any) -> Any:
        return np.concatenate([np.asarray(p, dtype=dtype) for p in parts]) if parts else np.zeros(0, dtype=dtype)

    return (pl.Series(joined(found, np.int64), dtype=pl.Int64), pl.Series(joined(vias, np.int64), dtype=pl.Int64),
            joined(hops, np.int8).tolist(), levels)


def _listed(frontier: Any) -> list[int]:
    """A level's positions as a list (a level taken with numpy holds an array)."""
    return frontier if isinstance(frontier, list) else frontier.tolist()  # type: ignore[no-any-return]


def _level_by_edges(adjacency: Adjacency, frontier: list[int], seen: bytearray, codes: frozenset[int] | None) -> Level:
    """The next level of :func:`_breadth_first`, one edge at a time."""
    indptr, neighbour, relation, _ = adjacency.held
    taken: list[int] = []
    vias: list[int] = []
    hops: list[int] = []
    for node in frontier:
        first, end = indptr[node], indptr[node + 1]
        for other, code in zip(neighbour[first:end].tolist(), relation[first:end].tolist(), strict=True):
            if seen[other] or (codes is not None and code not in codes):
                continue
            seen[other] = 1
            taken.append(other)
            vias.append(node)
            hops.append(code)
    return taken, vias, hops


def _level_by_arrays(adjacency: Adjacency, frontier: Any, seen: bytearray, codes: frozenset[int] | None) -> Any:
    """The next level of :func:`_breadth_first` in numpy passes: every (frontier model, neighbour) pair in
    the order :func:`_level_by_edges` meets them, less those already seen or of an unwanted relation, and
    each neighbour's first pair."""
    import numpy as np

    at = np.asarray(frontier, dtype=np.int64)
    first = adjacency.indptr[at]
    counts = adjacency.indptr[at + 1] - first
    ends = np.cumsum(counts)
    offsets = np.arange(int(ends[-1])) + np.repeat(first - (ends - counts), counts)  # frontier order kept
    owner = np.repeat(at, counts)
    candidate = adjacency.neighbour[offsets]
    marked = np.frombuffer(seen, dtype=bool)  # the same memory: marks made here are seen edge by edge too
    keep = ~marked[candidate]
    if codes is not None:
        keep &= np.isin(adjacency.relation[offsets], np.array(sorted(codes), dtype=np.int8))
    candidate, owner, offsets = candidate[keep], owner[keep], offsets[keep]
    _, firsts = np.unique(candidate, return_index=True)
    firsts.sort()
    taken = candidate[firsts].astype(np.int64)
    marked[taken] = True
    return taken, owner[firsts], adjacency.relation[offsets[firsts]]


def walk_neighbours(index: CompactGraph, source: str, found: Walk) -> Callable[[str], list[tuple[str, int]]]:
    """For a model of the walk ``found`` from ``source``: its neighbours in the walk's direction that are
    the source or reached, each with the offset of its edge in that direction's adjacency."""
    adjacency = index.parents if found.direction == "ancestors" else index.children
    position_of = dict(zip(found, found.positions.to_list(), strict=True)) | {source: index.position(source)}
    name_at = {p: n for n, p in position_of.items()}

    def shown(node: str) -> list[tuple[str, int]]:
        where = adjacency.of(position_of[node])
        return [(name_at[o], offset) for offset, o in enumerate(adjacency.neighbours(position_of[node]), where.start)
                if o in name_at]

    return shown


def paths_to_roots(graph: Graph, model: str, max_paths: int) -> tuple[list[list[str]], bool]:
    """Simple paths root -> ... -> model (at most ``max_paths``, in depth-first order taking parents in
    id order) and whether more exist. A path also ends where every parent is already on it (a cycle).

    Depth-first with one shared path and an on-path set, so a chain costs time and memory linear in its length.
    """
    index = compact(graph)
    found, more = _paths_up(index.parents.neighbours, index.position(model), max_paths)
    every = sorted({n for path in found for n in path})
    name = dict(zip(every, index.names(every), strict=True))
    return [[name[n] for n in path] for path in found], more


def hop_relations(graph: Graph, path: list[str]) -> list[str | None]:
    """The relation of each edge along ``path`` (models base first), None where there is no such edge or
    it has no relation."""
    index = compact(graph)
    offsets = [index.edge_offset(a, b) for a, b in pairwise(index.position_list(path))]
    return [None if o is None else index.relation_of(index.children.relation_code(o)) for o in offsets]


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
    descendants of ``ancestor`` (two :func:`walk` walks); only that sub-DAG's paths are enumerated.
    """
    if model == ancestor:
        return [], False
    index = compact(graph)
    up = walk(index, [model], direction="ancestors")
    if ancestor not in up:
        return [], False
    down = walk(index, [ancestor], direction="descendants")
    between = {m for m in up if m in down} | {model, ancestor}
    parents_of = walk_neighbours(index, model, up)

    def parents(node: str) -> list[str]:
        return sorted({p for p, _ in parents_of(node) if p in between and p != node})

    return _paths_up(parents, model, max_paths, to=ancestor)


def cycle_members(graph: Graph, models: Iterable[str]) -> set[str]:
    """The ``models`` that lie on a cycle of the subgraph they induce (a strongly connected component of
    two or more of them; a self-loop alone is not one)."""
    index = compact(graph)
    members = list(dict.fromkeys(models))
    at = index.position_list(members)
    local = {p: i for i, p in enumerate(at)}
    successors = [[local[c] for c in index.children.neighbours(p) if c in local] for p in at]
    component, count = strong_components(successors)
    size = [0] * count
    for c in component:
        size[c] += 1
    return {m for m, c in zip(members, component, strict=True) if size[c] > 1}


def strong_components(successors: list[list[int]]) -> tuple[list[int], int]:
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
