"""Tree lines: a walk of :mod:`ptmgraph.traverse` drawn as the lines of a tree, depth first, as
``npm ls`` and ``cargo tree`` print one (:func:`tree_lines`), and how many lines that makes without making
them (:func:`tree_line_count`). Same answers on the compact index and on the networkx graph
(``tests/test_index.py``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

from ptmgraph.index import CompactGraph
from ptmgraph.lazy import lazy_module
from ptmgraph.passes import _offsets
from ptmgraph.traverse import Direction, Graph, Reach, _shown_neighbours, reach

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy_module("numpy")  # the point walks on a small graph never import it (see ptmgraph.index)


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
