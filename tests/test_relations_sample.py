"""On the real Hub sample, relations match the weights each child ships, with and without the Hub's trees.

Which children ship only adapter weights and which ship full weights is read here straight from the
raw ``siblings`` lists in ``models.jsonl``, without ptmgraph code.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
import pytest

from ptmgraph.assemble import assemble
from ptmgraph.snapshot import Snapshot
from ptmgraph.sources.hub_records import HubRecordsSource

FULL_WEIGHTS = re.compile(r"^(model|pytorch_model)(-\d+-of-\d+)?\.(safetensors|bin)$")
ADAPTER_WEIGHTS = re.compile(r"^adapter_model\.(safetensors|bin)$")


def repos_by_weights(sample: Path) -> tuple[set[str], set[str]]:
    """(ids shipping adapter weights and no full weights at the root, ids shipping full weights there)."""
    adapter_only: set[str] = set()
    full: set[str] = set()
    for line in (sample / "models.jsonl").open():
        row = json.loads(line)
        root = [s["rfilename"] for s in row.get("siblings") or [] if "/" not in s["rfilename"]]
        if any(FULL_WEIGHTS.match(name) for name in root):
            full.add(row["id"])
        elif any(ADAPTER_WEIGHTS.match(name) for name in root):
            adapter_only.add(row["id"])
    return adapter_only, full


@pytest.fixture(scope="module", params=["with model trees", "without model trees", "without trees or Hub tags"])
def sample_snapshot(request, hub_sample: Path, tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    tree = hub_sample / "model_tree.jsonl" if request.param == "with model trees" else None
    models = hub_sample / "models.jsonl"
    if request.param == "without trees or Hub tags":
        # Records as a crawl without the Hub's inferred relations would see them: cards and files only.
        models = tmp_path_factory.mktemp("untagged") / "models.jsonl"
        with models.open("w") as out:
            for line in (hub_sample / "models.jsonl").open():
                row = json.loads(line)
                row["tags"] = [t for t in row.get("tags") or [] if not t.startswith("base_model:")]
                out.write(json.dumps(row) + "\n")
    return assemble(HubRecordsSource(models, hub_sample / "readmes.jsonl", tree).harvest())


def share_of_children(edges: pl.DataFrame, children: set[str], adapter: bool) -> tuple[int, float]:
    """How many of ``children`` have a parent, and the share whose every parent edge is (not) adapter."""
    rows = edges.filter(pl.col("child").is_in(sorted(children)))
    judged = rows.group_by("child").agg(((pl.col("relation") == "adapter") == adapter).all().alias("ok"))
    return judged.height, judged["ok"].mean() if judged.height else 0.0  # type: ignore[return-value]


def test_children_shipping_only_adapter_weights_are_adapters(sample_snapshot: Snapshot, hub_sample: Path) -> None:
    adapter_only, _ = repos_by_weights(hub_sample)
    assert len(adapter_only) > 400
    children, share = share_of_children(sample_snapshot.edges, adapter_only, adapter=True)
    assert children > 400
    assert share >= 0.98


def test_children_shipping_full_weights_are_not_adapters(sample_snapshot: Snapshot, hub_sample: Path) -> None:
    _, full = repos_by_weights(hub_sample)
    assert len(full) > 400
    children, share = share_of_children(sample_snapshot.edges, full, adapter=False)
    assert children > 300
    assert share >= 0.98


def test_the_exl2_quantization_hangs_under_the_model_its_card_names(sample_snapshot: Snapshot) -> None:
    parents = sample_snapshot.edges.filter(pl.col("child") == "bartowski/gemma-7b-openhermes-exl2")
    assert parents.select("base", "relation", "relation_rule").rows() == [
        ("abideen/gemma-7b-openhermes", "quantized", "prose_parent")
    ]
    # The card's own base_model stays as evidence of the edge it no longer makes.
    evidence = sample_snapshot.evidence.filter(pl.col("child") == "bartowski/gemma-7b-openhermes-exl2")
    assert ("google/gemma-7b-it", "card_base_model") in evidence.select("base", "kind").rows()


def test_no_edge_of_the_sample_is_left_unknown(sample_snapshot: Snapshot) -> None:
    assert sample_snapshot.edges.filter(pl.col("relation") == "unknown").height == 0
