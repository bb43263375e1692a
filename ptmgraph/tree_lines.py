"""Tree lines: a walk (:func:`ptmgraph.traverse.walk`) drawn as the lines of a tree, depth first, as
``npm ls`` and ``cargo tree`` print one (:func:`tree_lines`), and how many lines that makes without making
them (:func:`tree_line_count`).

The analysis that walked wraps its walk in a :class:`LineageTree` (:mod:`ptmgraph.analyses.lineage`), so
that a view draws the walk already made and never walks again nor reads the index: it takes the lines and
their count from it. Same answers on the compact index and on a networkx graph, which is converted to the
index first (``tests/test_index.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from ptmgraph.index import CONFIDENCE_CODES, CompactGraph
from ptmgraph.lazy import lazy_module
from ptmgraph.passes import neighbour_offsets
from ptmgraph.traverse import Direction, Graph, Walk, compact, walk_neighbours

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy_module("numpy")  # the point walks on a small graph never import it (see ptmgraph.index)


class TreeLine(NamedTuple):
    """One line of a lineage tree (see :func:`tree_lines`).

    ``level`` counts the lines above it on its branch (the top model is level 0); ``above`` is the model
    of the line it hangs from (in an impact tree its base, in an ancestry tree its child; None on the top
    line); ``relation`` and ``confidence`` are the relation and the parent confidence of the edge between
    ``model`` and ``above``; ``last`` says whether no sibling follows it; ``repeated`` marks a model already
    shown, or shown elsewhere, whose own branches are not printed here.
    """

    level: int
    model: str
    above: str | None
    relation: str | None
    confidence: str | None
    last: bool
    repeated: bool


@dataclass(frozen=True)
class LineageTree:
    """A walk from one model ready to be drawn as a tree: :meth:`lines` and :meth:`count` (see
    :func:`tree_lines`); siblings come in ``order`` (a sort key on the model; id order when None)."""

    index: CompactGraph
    walk: Walk
    order: Callable[[str], Any] | None = None

    @property
    def source(self) -> str:
        return self.walk.sources[0]

    @property
    def direction(self) -> Direction:
        return self.walk.direction

    def lines(self) -> Iterator[TreeLine]:
        return tree_lines(self.index, self.walk, order=self.order)

    def count(self) -> int:
        return tree_line_count(self.index, self.walk)


def _codes(index: CompactGraph, found: Walk) -> frozenset[int] | None:
    """The relation codes the walk ``found`` followed (None: every relation)."""
    if found.relations is None:
        return None
    return frozenset(code for code, name in enumerate(index.relation_names) if name in found.relations)


def tree_lines(graph: Graph, found: Walk, *, order: Callable[[str], Any] | None = None) -> Iterator[TreeLine]:
    """The walk ``found`` from one model as the lines of a tree, depth first.

    Every followed edge between two models of the walk (its source, or a model it reached) is one line. A
    model is expanded once, under its ``via`` (so at its depth); its other edges give lines marked
    ``repeated``, as cargo's ``(*)``. Siblings come in ``order`` (a sort key on the model; id order when
    None). Lines are made lazily, so taking the first N costs N lines.
    """
    index = compact(graph)
    (source,) = found.sources
    adjacency = index.parents if found.direction == "ancestors" else index.children
    codes = _codes(index, found)
    key = order or (lambda model: model)
    shown = walk_neighbours(index, source, found)
    relation_names = [*index.relation_names, None]  # code -1 (no relation) picks the last

    def branches(node: str) -> list[tuple[str, int]]:
        kept = [(other, offset) for other, offset in shown(node)
                if other != node and (codes is None or adjacency.relation_code(offset) in codes)]
        return sorted(kept, key=lambda pair: (key(pair[0]), pair[0]))

    yield TreeLine(0, source, None, None, None, True, False)
    stack: list[tuple[str, int, list[tuple[str, int]]]] = [(source, 1, branches(source)[::-1])]
    while stack:
        node, level, pending = stack[-1]
        if not pending:
            stack.pop()
            continue
        other, offset = pending.pop()
        expand = found.via.get(other) == node
        confidence = adjacency.confidence_code(offset)
        yield TreeLine(level, other, node, relation_names[adjacency.relation_code(offset)],
                       CONFIDENCE_CODES[confidence] if confidence >= 0 else None, not pending, not expand)
        if expand:
            stack.append((other, level + 1, branches(other)[::-1]))


def tree_line_count(graph: Graph, found: Walk) -> int:
    """How many lines :func:`tree_lines` makes for the walk ``found``, without making or sorting them: the
    top line, then one per branch of each expanded model, and every model is expanded once (the source at
    the top, a reached model under its ``via``)."""
    index = compact(graph)
    (source,) = found.sources
    adjacency = index.parents if found.direction == "ancestors" else index.children
    shown = {*found.positions.to_list(), index.position(source)}
    codes = _codes(index, found)
    if index.small:
        return 1 + sum(1 for node in shown
                       for other, code in zip(adjacency.neighbours(node), adjacency.relations(node), strict=True)
                       if other != node and other in shown and (codes is None or code in codes))
    at = np.fromiter(shown, dtype=np.int64, count=len(shown))
    is_shown = np.zeros(index.nodes, dtype=bool)
    is_shown[at] = True
    owner, offsets = neighbour_offsets(adjacency.indptr, at)
    other = adjacency.neighbour[offsets]
    counted = is_shown[other] & (other != at[owner])
    if codes is not None:
        counted &= np.isin(adjacency.relation[offsets], np.array(sorted(codes), dtype=np.int8))
    return 1 + int(counted.sum())
