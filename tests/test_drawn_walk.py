"""A tree on the terminal and an ML-BOM draw the walk the analysis made: they never walk the graph again.

On a hand-written graph: o/base -> o/ft (finetune, high), o/ft -> o/lora (adapter, medium), o/base ->
o/lora (merge, low), o/lora -> o/q (quantized, high). Downloads follow the models' order (o/base 0,
o/ft 1, o/lora 2, o/q 3).
"""

from __future__ import annotations

import json

import networkx as nx
import pytest
from cyclonedx.output.json import JsonV1Dot6
from test_index import tables

from ptmgraph import traverse
from ptmgraph.analyses.lineage import ancestry, impact
from ptmgraph.formats import lineage_subgraph
from ptmgraph.formats.cyclonedx import build_bom
from ptmgraph.formats.lines import plain_text
from ptmgraph.formats.subgraph import combine
from ptmgraph.formats.views import lineage_tree
from ptmgraph.graph import LineageGraph

EDGES = [("o/base", "o/ft", "finetune", "high"), ("o/ft", "o/lora", "adapter", "medium"),
         ("o/base", "o/lora", "merge", "low"), ("o/lora", "o/q", "quantized", "high")]


def no_walk(*args: object, **kwargs: object) -> None:
    raise AssertionError("a format walked the graph")


@pytest.fixture
def graph() -> LineageGraph:
    return LineageGraph(tables(EDGES, ["o/base", "o/ft", "o/lora", "o/q"]))


def test_the_ancestry_tree_is_the_walk_the_analysis_made(graph: LineageGraph, monkeypatch: pytest.MonkeyPatch) -> None:
    result = ancestry(graph, "o/lora")
    monkeypatch.setattr(traverse, "_breadth_first", no_walk)  # every walk goes through it
    assert result.tree is not None
    lines = [(line.level, line.model, line.above, line.relation, line.confidence, line.repeated)
             for line in result.tree.lines()]
    # siblings most downloaded first: o/ft (1) before o/base (0); o/base shows once, under its via o/lora
    assert lines == [
        (0, "o/lora", None, None, None, False),
        (1, "o/ft", "o/lora", "adapter", "medium", False),
        (2, "o/base", "o/ft", "finetune", "high", True),
        (1, "o/base", "o/lora", "merge", "low", False),
    ]
    assert result.tree.count() == 4
    text = plain_text(lineage_tree(graph, result, columns=["relation", "confidence"], width=100), 100)
    assert "│   └── o/base root (*)  base of ↑ (finetune)  high" in text
    assert "└── o/base root  base of ↑ (merge)  low" in text


def test_the_impact_tree_names_the_line_above_as_the_base(graph: LineageGraph) -> None:
    result = impact(graph, "o/ft")
    assert result.tree is not None
    assert [(line.model, line.above, line.relation) for line in result.tree.lines()] == [
        ("o/ft", None, None), ("o/lora", "o/ft", "adapter"), ("o/q", "o/lora", "quantized")]


def test_an_ml_bom_pedigree_is_the_walks_the_analyses_made(graph: LineageGraph,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    up, down = ancestry(graph, "o/lora"), impact(graph, "o/lora")
    monkeypatch.setattr(traverse, "_breadth_first", no_walk)
    monkeypatch.setattr(nx, "single_source_shortest_path", no_walk)
    drawn = combine(lineage_subgraph(graph, up, direction="ancestry"),
                    lineage_subgraph(graph, down, direction="impact"))
    bom = json.loads(JsonV1Dot6(build_bom(drawn, title="o/lora")).output_as_string())
    pedigree = bom["metadata"]["component"]["pedigree"]

    def hops(components: list[dict[str, object]]) -> list[tuple[str, str]]:
        return [(f"{c['group']}/{c['name']}", next(p["value"] for p in c["properties"]  # type: ignore[attr-defined]
                                                   if p["name"] == "ptmgraph:relation")) for c in components]

    # nearest first, then by id; each with the relation of its own hop towards o/lora
    assert hops(pedigree["ancestors"]) == [("o/base", "merge"), ("o/ft", "adapter")]
    assert hops(pedigree["descendants"]) == [("o/q", "quantized")]
