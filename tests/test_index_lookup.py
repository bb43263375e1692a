"""Looking models up on the compact index: the positions the earlier lookup (a join against a table of
every id, written out here as the oracle) gives, for ids named twice, edge-only ids and unknown ids."""

from __future__ import annotations

import random

import numpy as np
import polars as pl
import pytest

from ptmgraph import index as compact
from ptmgraph.graph import LineageGraph


def positions_by_hand(graph: compact.CompactGraph, models: list[str]) -> list[int]:
    first: dict[str, int] = {}
    for position, model in enumerate(graph.ids.to_list()):
        first.setdefault(model, position)
    return [first[m] for m in models]


def small_graph(seed: int) -> compact.CompactGraph:
    rng = random.Random(seed)
    names = [f"o{rng.randrange(5)}/m{i}" for i in range(40)]
    recorded = [*names[:30], names[3], names[7]]  # two ids repeated in the models table
    edges = [(rng.choice(names), rng.choice(names)) for _ in range(60)]
    models = pl.DataFrame({"id": recorded})
    table = pl.DataFrame({"base": [b for b, _ in edges], "child": [c for _, c in edges],
                          "relation": ["finetune"] * len(edges), "parent_confidence": ["high"] * len(edges)})
    return compact.build(models, table)


@pytest.mark.parametrize("seed", range(5))
def test_positions_are_those_of_the_first_spelling_in_order(seed: int) -> None:
    graph = small_graph(seed)
    rng = random.Random(seed)
    ids = sorted(set(graph.ids.to_list()))
    models = [rng.choice(ids) for _ in range(25)]
    assert graph.positions_of(models).tolist() == positions_by_hand(graph, models)
    assert graph.positions_of(models).dtype == np.int64
    assert graph.positions_of([]).tolist() == []
    with pytest.raises(KeyError, match="no/such"):
        graph.positions_of([models[0], "no/such"])


def test_positions_on_the_bundled_snapshot(bundled: LineageGraph) -> None:
    models = ["meta-llama/Llama-2-7b-chat-hf", "google/gemma-7b", "meta-llama/Llama-2-7b-chat-hf"]
    assert bundled.compact.positions_of(models).tolist() == positions_by_hand(bundled.compact, models)
