"""A cheap, deterministic layout for drawing thousands of models at once (the whole-snapshot explorer).

**Radial layout.** The drawing's edges split the models into connected pieces (edge direction
ignored). In each piece the model with the most edges (then the smallest key) sits at the centre;
the others sit in bands by their number of hops from it, band ``r`` at least one unit outside band
``r - 1``; a band of ``n`` models is ``k`` circles one unit apart (``k`` about ``sqrt(n / 2 pi R)``
for a band starting at radius ``R``), and its models go round it one unit apart, each on the next
circle of the band, ordered by the angle of the model one hop nearer the centre that reached them
first (then by key), so a family stays together and a model with thousands of children is ringed
by a disc, not a circle of thousands. The pieces, widest first, are packed row by row into a
roughly square area. A model without edges is a piece of one. The same models and edges always give the same
positions; the work is linear in models and edges (plus sorting), where a force-directed layout
such as ForceAtlas2 in Python (networkx) takes minutes and gigabytes for the 6,810 models of the
bundled snapshot.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Sequence

Point = tuple[float, float]


def _pieces(keys: Sequence[str], neighbours: dict[str, list[str]]) -> list[list[str]]:
    seen: set[str] = set()
    pieces = []
    for key in keys:
        if key in seen:
            continue
        seen.add(key)
        piece, queue = [key], deque([key])
        while queue:
            for other in neighbours[queue.popleft()]:
                if other not in seen:
                    seen.add(other)
                    piece.append(other)
                    queue.append(other)
        pieces.append(piece)
    return pieces


def _rings(piece: list[str], neighbours: dict[str, list[str]]) -> tuple[dict[str, Point], float]:
    """Positions around (0, 0) and the radius of the outermost ring."""
    centre = min(piece, key=lambda k: (-len(neighbours[k]), k))
    parent: dict[str, str | None] = {centre: None}
    rings: list[list[str]] = [[centre]]
    while True:
        following = []
        for key in rings[-1]:
            for other in sorted(neighbours[key]):
                if other not in parent:
                    parent[other] = key
                    following.append(other)
        if not following:
            break
        rings.append(following)
    angle: dict[str, float] = {centre: 0.0}
    positions: dict[str, Point] = {centre: (0.0, 0.0)}
    radius = 0.0
    for ring in rings[1:]:
        # a band of `lanes` circles one unit apart, wide enough for its models one unit apart along it
        lanes = max(1, math.ceil(math.sqrt(len(ring) / (2 * math.pi * (radius + 1)))))
        inner = max(radius + 1.0, len(ring) / lanes / (2 * math.pi))
        ordered = sorted(ring, key=lambda k: (angle[parent[k] or centre], k))
        slots = math.ceil(len(ordered) / lanes) * lanes  # whole turns of the lanes: no crowding where it closes
        for i, key in enumerate(ordered):
            a = 2 * math.pi * i / slots
            r = inner + i % lanes
            angle[key] = a
            positions[key] = (r * math.cos(a), r * math.sin(a))
        radius = inner + lanes - 1
    return positions, radius


def radial_layout(keys: Iterable[str], edges: Iterable[tuple[str, str]]) -> dict[str, Point]:
    """``(x, y)`` for every key (see the module docstring); edges naming unknown keys are ignored."""
    order = list(dict.fromkeys(keys))
    neighbours: dict[str, list[str]] = {k: [] for k in order}
    for tail, head in edges:
        if tail in neighbours and head in neighbours and tail != head:
            neighbours[tail].append(head)
            neighbours[head].append(tail)
    laid = [_rings(piece, neighbours) for piece in _pieces(sorted(order), neighbours)]
    laid.sort(key=lambda p: (-p[1], -len(p[0]), min(p[0])))
    area = sum((2 * r + 2) ** 2 for _, r in laid)
    width = max(math.sqrt(area) * 1.1, max((2 * r + 2 for _, r in laid), default=0.0))
    positions: dict[str, Point] = {}
    x = y = row_height = 0.0
    for piece, r in laid:
        size = 2 * r + 2
        if x > 0 and x + size > width:
            x, y, row_height = 0.0, y + row_height, 0.0
        for key, (px, py) in piece.items():
            positions[key] = (round(x + size / 2 + px, 3), round(y + size / 2 + py, 3))
        x += size
        row_height = max(row_height, size)
    return positions
