"""``audit-relations`` and ``--min-confidence`` on the bundled snapshot, checked against the raw Hub sample."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from ptmgraph.analyses.relation_audit import audit_relations
from ptmgraph.cli import app
from ptmgraph.graph import load_graph

runner = CliRunner()
ADAPTER_WEIGHTS = re.compile(r"^adapter_model\.(safetensors|bin)$")
FULL_WEIGHTS = re.compile(r"^(model|pytorch_model)(-\d+-of-\d+)?\.(safetensors|bin)$")


def raw_hub_finetunes_shipping_only_adapters(sample: Path) -> set[tuple[str, str]]:
    """(base, child) where the Hub tags the child a finetune of base and the child ships only adapter weights."""
    pairs = set()
    for line in (sample / "models.jsonl").open():
        row = json.loads(line)
        root = [s["rfilename"] for s in row.get("siblings") or [] if "/" not in s["rfilename"]]
        if any(FULL_WEIGHTS.match(n) for n in root) or not any(ADAPTER_WEIGHTS.match(n) for n in root):
            continue
        for tag in row["tags"]:
            if tag.startswith("base_model:finetune:"):
                pairs.add((tag.split(":", 2)[2], row["id"]))
    return pairs


def test_the_hubs_finetunes_that_ship_only_adapters_are_listed(bundled, hub_sample) -> None:
    expected = raw_hub_finetunes_shipping_only_adapters(hub_sample)
    assert len(expected) > 400
    result = audit_relations(bundled)
    listed = result.rows.filter(result.rows["kind"] == "hub finetune / weights adapter_only")
    assert expected <= set(listed.select("base", "id").rows())
    by_kind = dict(result.tables["by_kind"].iter_rows())
    assert by_kind["hub finetune / weights adapter_only"] == listed.height
    assert sum(by_kind.values()) == result.summary["disagreements"] == result.rows.height


def test_audit_relations_on_the_command_line_prints_one_json_document() -> None:
    result = runner.invoke(app, ["audit-relations", "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["disagreements"] == len(doc["rows"]) > 400
    assert {r["kind"] for r in doc["tables"]["by_kind"]} == {r["kind"] for r in doc["rows"]}


def test_min_confidence_drops_the_edges_of_weaker_parents_for_every_command() -> None:
    everything = load_graph()
    confident = load_graph(min_confidence="medium")
    low = {(b, c) for b, c, d in everything.graph.edges(data=True) if d["parent_confidence"] == "low"}
    assert low, "the sample has parents named by prose or by name alone"
    assert set(confident.graph.edges) == set(everything.graph.edges) - low
    base, child = sorted(low)[0]
    args = ["impact", base, "--max-depth", "1", "-f", "json"]
    plain = json.loads(runner.invoke(app, args, catch_exceptions=False).stdout)
    strict = json.loads(runner.invoke(app, [*args, "--min-confidence", "medium"], catch_exceptions=False).stdout)
    assert child in {r["id"] for r in plain["rows"]} and child not in {r["id"] for r in strict["rows"]}
    stats = json.loads(runner.invoke(app, ["stats", "-f", "json"], catch_exceptions=False).stdout)
    by_confidence = {r["id"]: r["count"] for r in stats["rows"] if r["section"] == "edges_by_parent_confidence"}
    assert by_confidence["low"] == len(low) and sum(by_confidence.values()) == stats["edges"]
