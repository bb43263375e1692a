"""On the bundled snapshot, ancestry and impact agree with the raw Hub sample.

The expected answers are computed here straight from the raw files (model-tree lists, card
``base_model`` fields and Hub tags), without any ptmgraph code.
"""

from __future__ import annotations

import json
from collections import defaultdict, deque
from pathlib import Path

import pytest
from raw_sample import raw_edges

from ptmgraph.analyses.lineage import ancestry, impact

HEADINGS = {"finetunes": "finetune", "adapters": "adapter", "quantizations": "quantized", "merges": "merge"}


def raw_parent_map(sample: Path) -> dict[str, set[str]]:
    """child (lower-case id) -> parents (lower-case ids), from every lineage field of the raw files (with the
    copied-card and quantized-copy rules README states, as tests/raw_sample.py applies them)."""
    parents: dict[str, set[str]] = defaultdict(set)
    for base, child in raw_edges(sample):
        parents[child].add(base)
    return parents


def bfs(start: str, step: dict[str, set[str]]) -> dict[str, int]:
    depth = {start: 0}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for nxt in step.get(node, ()):
            if nxt not in depth:
                depth[nxt] = depth[node] + 1
                queue.append(nxt)
    del depth[start]
    return depth


@pytest.fixture(scope="module")
def raw_parents(hub_sample: Path) -> dict[str, set[str]]:
    return raw_parent_map(hub_sample)


def test_impact_of_llama_2_chat_matches_the_raw_model_tree(bundled, raw_parents) -> None:
    children: dict[str, set[str]] = defaultdict(set)
    for child, bases in raw_parents.items():
        for base in bases:
            children[base].add(child)
    expected = bfs("meta-llama/llama-2-7b-chat-hf", children)

    result = impact(bundled, "meta-llama/Llama-2-7b-chat-hf")
    got = {row["id"].lower(): row["depth"] for row in result.rows.iter_rows(named=True)}

    assert len(expected) > 1500
    assert got == expected
    assert result.summary["affected_models"] == len(expected)
    by_depth = dict(result.tables["by_depth"].select("depth", "models").iter_rows())
    assert sum(by_depth.values()) == len(expected)


def test_impact_of_direct_adapters_follows_only_adapter_edges(bundled, hub_sample) -> None:
    tree = {json.loads(line)["id"]: json.loads(line) for line in (hub_sample / "model_tree.jsonl").open()}
    listed_adapters = {c.lower() for c in tree["meta-llama/Llama-2-7b-chat-hf"]["adapters"]}

    result = impact(bundled, "meta-llama/Llama-2-7b-chat-hf", relations=["adapter"], max_depth=1)
    got = {i.lower() for i in result.rows["id"]}

    assert set(result.rows["relation"]) == {"adapter"}
    # The Hub lists these as adapters; the ones it misfiles as finetunes but that ship adapter files come on top.
    assert listed_adapters <= got
    extra = got - listed_adapters
    for model in extra:
        edge = bundled.edge("meta-llama/Llama-2-7b-chat-hf", bundled.resolve(model))
        assert edge["relation_rule"] in {"adapter_weights", "declared"}


def test_ancestry_of_a_depth_3_model_matches_cards_and_tree(bundled, raw_parents, hub_sample) -> None:
    depth3 = [json.loads(line) for line in (hub_sample / "model_tree.jsonl").open()]
    depth3 = [row["id"] for row in depth3 if row["depth"] == 3]
    assert depth3, "the sample has depth-3 models"
    for model in depth3[:5]:
        expected = bfs(model.lower(), raw_parents)
        result = ancestry(bundled, model)
        got = {row["id"].lower(): row["depth"] for row in result.rows.iter_rows(named=True)}
        assert got == expected, model
        assert result.summary["max_depth"] >= 3
        roots = {r.lower() for r in result.summary["roots"]}
        assert roots == {a for a in expected if not raw_parents.get(a)}
        for path in result.tables["paths"].iter_rows(named=True):
            assert path["path"][-1] == model and path["path"][0].lower() in roots
            assert len(path["relations"]) == path["length"] == len(path["path"]) - 1
