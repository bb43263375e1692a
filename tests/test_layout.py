"""The whole-snapshot explorer's layout (:func:`ptmgraph.formats.layout.radial_layout`) on hand-written graphs."""

from __future__ import annotations

import math

from ptmgraph.formats.layout import radial_layout


def distance(a: tuple[float, float], b: tuple[float, float]) -> float:
    return math.hypot(a[0] - b[0], a[1] - b[1])


def test_a_base_sits_at_the_centre_of_its_children_and_grandchildren_one_band_further() -> None:
    edges = [("base/m", "a/1"), ("base/m", "a/2"), ("base/m", "a/3"), ("a/1", "b/1")]
    at = radial_layout(["base/m", "a/1", "a/2", "a/3", "b/1", "alone/x"], edges)
    assert set(at) == {"base/m", "a/1", "a/2", "a/3", "b/1", "alone/x"}
    assert [round(distance(at["base/m"], at[c]), 2) for c in ("a/1", "a/2", "a/3")] == [1.0, 1.0, 1.0]
    assert round(distance(at["base/m"], at["b/1"]), 2) == 2.0
    assert min(distance(at["alone/x"], p) for k, p in at.items() if k != "alone/x") >= 1.0  # a piece of its own
    assert radial_layout(["alone/x", "b/1", "a/3", "a/2", "a/1", "base/m"], reversed(edges)) == at  # deterministic


def test_thousands_of_children_fill_a_disc_of_bands_not_one_huge_circle() -> None:
    children = [f"child/{i:04d}" for i in range(3000)]
    at = radial_layout(["base/m", *children], [("base/m", c) for c in children])
    radii = [distance(at["base/m"], at[c]) for c in children]
    assert max(radii) < 60 < 3000 / (2 * math.pi)  # one circle would need a radius of 477
    points = list(at.values())
    nearest = min(distance(p, q) for i, p in enumerate(points) for q in points[i + 1:] if abs(p[0] - q[0]) < 1)
    assert nearest > 0.5  # no two models on one spot
