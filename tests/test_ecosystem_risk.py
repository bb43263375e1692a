"""Reach, stale ancestors, risk propagation and the lineage check: small graphs worked out by hand,
and the bundled snapshot against values computed from the raw Hub sample without ptmgraph code."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from raw_sample import raw_edges, raw_records
from test_lineage_sample import bfs
from typer.testing import CliRunner

from ptmgraph.analyses.check import check
from ptmgraph.analyses.reach import reach_ranking
from ptmgraph.analyses.risk import DATA_RISKS, risk
from ptmgraph.analyses.staleness import stale_ancestors
from ptmgraph.assemble import assemble
from ptmgraph.cli import app
from ptmgraph.graph import LineageGraph
from ptmgraph.records import DanglingReason, EvidenceKind, Harvest, ModelRecord, Reference, Relation

LLAMA_CHAT = "meta-llama/Llama-2-7b-chat-hf"


def lineage(records: list[ModelRecord], edges: list[tuple[str, str, Relation]],
            dead: list[tuple[str, str, DanglingReason]] = ()) -> LineageGraph:  # type: ignore[assignment]
    """A graph from records and (base, child, relation) Hub tags; ``dead`` are (child, raw, reason) references."""
    known = {r.id for r in records}
    records = records + [ModelRecord(id=i) for b, c, _ in edges for i in (b, c) if i not in known]
    refs = [Reference(c, b, EvidenceKind.HUB_TAG, f"tags:base_model:{rel.value}", "test", rel) for b, c, rel in edges]
    gone = [(Reference(c, raw, EvidenceKind.CARD_BASE_MODEL, "README.md:base_model", "test"), reason)
            for c, raw, reason in dead]
    return LineageGraph(assemble(Harvest(records=records, references=refs, dangling=gone)))


def day(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


# ---------------------------------------------------------------- reach


def reach_graph() -> LineageGraph:
    """o/r -> o/a (finetune), o/r -> p/b (adapter); both -> p/m (a merge diamond); p/m -> p/q;
    c/1 <-> c/2 (a cycle), c/2 -> c/3; s/s names itself, s/s -> s/t; z/x is isolated."""
    downloads = {"o/r": 1000, "o/a": 10, "p/b": 20, "p/m": 5, "z/x": 7}
    records = [ModelRecord(id=i, downloads=d) for i, d in downloads.items()]
    edges = [("o/r", "o/a", Relation.FINETUNE), ("o/r", "p/b", Relation.ADAPTER), ("o/a", "p/m", Relation.MERGE),
             ("p/b", "p/m", Relation.MERGE), ("p/m", "p/q", Relation.QUANTIZED), ("c/1", "c/2", Relation.FINETUNE),
             ("c/2", "c/1", Relation.FINETUNE), ("c/2", "c/3", Relation.FINETUNE), ("s/s", "s/s", Relation.FINETUNE),
             ("s/s", "s/t", Relation.FINETUNE)]
    return lineage(records, edges)


def test_reach_counts_each_descendant_once_on_a_merge_diamond_a_cycle_and_a_self_loop() -> None:
    result = reach_ranking(reach_graph(), top=0)
    rows = {r["id"]: r for r in result.rows.iter_rows(named=True)}
    assert (rows["o/r"]["direct_dependents"], rows["o/r"]["reach"], rows["o/r"]["reach_downloads"]) == (2, 4, 35)
    assert rows["o/r"]["subtree_height"] == 3  # o/r -> o/a -> p/m -> p/q
    assert (rows["o/a"]["reach"], rows["o/a"]["reach_downloads"]) == (2, 5)
    assert (rows["c/1"]["reach"], rows["c/2"]["reach"], rows["c/3"]["reach"]) == (2, 2, 0)
    assert (rows["s/s"]["direct_dependents"], rows["s/s"]["reach"]) == (1, 1)
    assert rows["z/x"]["reach"] == 0
    assert result.rows["id"][0] == "o/r"
    summary = result.summary
    # 11 models; 7 have a child (o/r, o/a, p/b, p/m, c/1, c/2, s/s); roots o/r, s/s, z/x leave 8 derived
    assert summary["models_with_dependents"] == 7 and summary["share_with_dependents"] == round(7 / 11, 4)
    assert summary["derived_models"] == 8
    # top 1% of 11 models is one model, o/r, whose reach holds 4 of the 8 derived models
    assert summary["top_1pct_models"] == 1 and summary["share_of_reach_top_1pct"] == 0.5
    assert summary["share_of_reach_top_20_authors"] == 1.0


def test_maintainer_reach_is_the_union_over_the_authors_models() -> None:
    rows = {r["id"]: r for r in reach_ranking(reach_graph(), by="author", top=0).rows.iter_rows(named=True)}
    assert (rows["o"]["models"], rows["o"]["reach"], rows["o"]["reach_downloads"]) == (2, 4, 35)  # o/a counts once
    assert (rows["p"]["models"], rows["p"]["direct_dependents"], rows["p"]["reach"]) == (3, 2, 2)  # p/m, p/q
    assert rows["c"]["reach"] == 3  # each member of the cycle is reached from the other
    assert rows["s"]["reach"] == 1 and rows["z"]["reach"] == 0


# ---------------------------------------------------------------- stale ancestors


def stale_graph() -> LineageGraph:
    records = [
        ModelRecord(id="o/base", created_at=day("2023-06-01"), last_modified=day("2024-03-01"), gated="manual",
                    new_version="o/base-v2", license="mit"),
        ModelRecord(id="o/ft", created_at=day("2024-01-01"), last_modified=day("2024-06-01"), license="mit"),
        ModelRecord(id="o/lora", created_at=day("2024-05-01"), last_modified=day("2024-05-01"), license="mit"),
        ModelRecord(id="o/other", created_at=day("2024-05-01"), license="mit"),
    ]
    return lineage(
        records,
        [("o/base", "o/ft", Relation.FINETUNE), ("o/ft", "o/lora", Relation.ADAPTER)],
        dead=[("o/lora", "gone/model", DanglingReason.NOT_FOUND), ("o/ft", "./output", DanglingReason.LOCAL_PATH)],
    )


def test_stale_ancestors_by_reason_with_the_lag_in_days() -> None:
    rows = {(r["id"], r["ancestor"], r["reason"]): (r["lag_days"], r["depth"], r["detail"])
            for r in stale_ancestors(stale_graph()).rows.iter_rows(named=True)}
    only_the_date = "only the repo-wide date is known: which files changed is not"
    assert rows == {
        # o/base changed 60 days (2024 is a leap year) after o/ft was made; o/lora came after that change.
        # No file listing: which part changed is unknown. o/base is gated (manual): available, not a row.
        ("o/ft", "o/base", "updated_unknown_part"): (60.0, 1, only_the_date),
        ("o/ft", "o/base", "new_version"): (None, 1, "o/base-v2"),
        ("o/lora", "o/ft", "updated_unknown_part"): (31.0, 1, only_the_date),
        ("o/lora", "o/base", "new_version"): (None, 2, "o/base-v2"),
        ("o/lora", "gone/model", "unavailable"): (None, 1, "dangling: not_found"),
    }


def test_stale_ancestors_of_one_model_are_its_rows_of_the_whole() -> None:
    lg = stale_graph()
    whole = stale_ancestors(lg).rows
    one = stale_ancestors(lg, "o/lora")
    key = ["ancestor", "reason"]
    assert one.rows.sort(key).equals(whole.filter(whole["id"] == "o/lora").sort(key))
    totals = {r["reason"]: r["rows"] for r in one.tables["by_reason"].iter_rows(named=True)}
    assert totals == {"weights_updated": 0, "card_updated": 0, "updated_unknown_part": 1, "new_version": 1,
                      "unavailable": 1}


# ---------------------------------------------------------------- risk and check


def risk_graph() -> LineageGraph:
    """o/base -> o/lora -> o/lora2 and o/lora -> o/lora3 (adapters); o/base -> o/ft -> o/ftlora (adapter);
    o/base -> o/ft2 -> o/lora3 (so o/lora3 has an adapter-only path and a finetune path); o/base -> o/q."""
    licences = {"o/base": "llama2", "o/lora": "llama2", "o/lora2": "llama2", "o/lora3": "apache-2.0",
                "o/ft": "llama2", "o/ft2": "apache-2.0", "o/ftlora": "llama2", "o/q": "llama2"}
    downloads = {"o/base": 900, "o/lora": 50, "o/lora2": 5, "o/lora3": 70, "o/ft": 40, "o/ft2": 1, "o/ftlora": 3}
    records = [ModelRecord(id=i, license=lic, downloads=downloads.get(i), weight_formats=["safetensors"])
               for i, lic in licences.items()]
    records[4].weight_formats = ["pickle"]  # o/ft
    edges = [("o/base", "o/lora", Relation.ADAPTER), ("o/lora", "o/lora2", Relation.ADAPTER),
             ("o/lora", "o/lora3", Relation.ADAPTER), ("o/base", "o/ft", Relation.FINETUNE),
             ("o/ft", "o/ftlora", Relation.ADAPTER), ("o/base", "o/ft2", Relation.FINETUNE),
             ("o/ft2", "o/lora3", Relation.ADAPTER), ("o/base", "o/q", Relation.QUANTIZED)]
    return lineage(records, edges)


def test_a_compromised_model_puts_its_reach_at_risk_runtime_only_through_adapters() -> None:
    result = risk(risk_graph(), ["o/base"])
    rows = [(r["id"], r["depth"], r["relation_path"], r["dependency"])
            for r in result.output_rows().iter_rows(named=True)]
    assert rows == [  # most downloaded first, unknown counts last
        ("o/lora3", 2, "adapter>adapter", "runtime"),  # via o/lora, not the equally short finetune path
        ("o/lora", 1, "adapter", "runtime"),
        ("o/ft", 1, "finetune", "inherited"),
        ("o/lora2", 2, "adapter>adapter", "runtime"),
        ("o/ftlora", 2, "finetune>adapter", "inherited"),
        ("o/ft2", 1, "finetune", "inherited"),
        ("o/q", 1, "quantized", "inherited"),
    ]
    assert set(result.rows["source"]) == {"o/base"} and set(result.rows["risk"]) == {"compromised"}
    assert result.summary["affected_models"] == 7
    assert result.summary["affected_downloads"] == 70 + 50 + 40 + 5 + 3 + 1
    assert result.summary["models_without_download_count"] == 1


def test_risks_the_data_shows_spread_from_their_sources() -> None:
    result = risk(risk_graph(), data_risks=DATA_RISKS)
    found = {(r["id"], r["source"], r["risk"], r["dependency"]) for r in result.rows.iter_rows(named=True)}
    assert found == {
        ("o/ftlora", "o/ft", "pickle_only", "runtime"),  # o/ft ships only .bin/.pt weights
        ("o/lora3", "o/ft2", "license_conflict", "runtime"),  # o/ft2 is apache-2.0 under a llama2 base
    }
    sources = {(r["id"], r["risk"]) for r in result.tables["sources"].iter_rows(named=True)}
    # o/lora3 is apache-2.0 under the llama2 o/lora: a conflict, but nothing derives from it
    assert sources == {("o/ft", "pickle_only"), ("o/ft2", "license_conflict"), ("o/lora3", "license_conflict")}


def test_check_lists_findings_with_severities_and_fails_at_the_threshold() -> None:
    lg = risk_graph()
    result = check(lg, ["o/ftlora"], compromised=["o/base"])
    found = {(r["severity"], r["finding"], r["ancestor"], r["depth"]) for r in result.rows.iter_rows(named=True)}
    # o/ftlora loads o/ft (adapter hop), whose weights are pickle only: high
    assert found == {("high", "compromised", "o/base", 2), ("high", "pickle_only", "o/ft", 1)}
    assert result.summary["failed"] is True
    lora3 = check(lg, ["o/lora3"])
    found = {(r["severity"], r["finding"], r["ancestor"]) for r in lora3.rows.iter_rows(named=True)}
    assert found == {("high", "license_violation", "o/ft2"), ("high", "license_violation", "o/lora3")}
    clean = check(lg, ["o/base"])
    assert clean.rows.height == 0 and clean.summary["failed"] is False
    stale = check(stale_graph(), ["o/lora"], fail_on="high")
    found = {(r["severity"], r["finding"], r["ancestor"]) for r in stale.rows.iter_rows(named=True)}
    assert found == {
        ("medium", "new_version", "o/base"), ("medium", "unavailable", "gone/model"),
        ("low", "updated_unknown_part", "o/ft"), ("low", "dangling", "o/ft"),
    }
    assert stale.summary["failed"] is False  # nothing high
    assert check(stale_graph(), ["o/lora"], fail_on="medium").summary["failed"] is True


# ---------------------------------------------------------------- the bundled snapshot vs the raw files


@pytest.fixture(scope="module")
def raw_children(hub_sample: Path) -> dict[str, set[str]]:
    children: dict[str, set[str]] = {}
    for base, child in raw_edges(hub_sample):
        children.setdefault(base, set()).add(child)
    return children


def raw_descendants(children: dict[str, set[str]], start: str) -> dict[str, int]:
    """Lower-case id -> fewest hops, by breadth-first search over the raw pairs."""
    return bfs(start, children)


def test_reach_of_the_biggest_bases_matches_the_raw_sample(
    bundled: LineageGraph, raw_children: dict[str, set[str]], hub_sample: Path
) -> None:
    downloads = {r["id"].lower(): r.get("downloads") or 0 for r in raw_records(hub_sample)}
    rows = reach_ranking(bundled, top=8).rows
    assert rows["id"][0] == "google/gemma-7b"
    for row in rows.iter_rows(named=True):
        expected = raw_descendants(raw_children, row["id"].lower())
        assert row["reach"] == len(expected), row["id"]
        assert row["direct_dependents"] == len(raw_children[row["id"].lower()]), row["id"]
        assert row["reach_downloads"] == sum(downloads.get(m, 0) for m in expected), row["id"]


def test_risk_from_llama_2_chat_is_its_raw_descendants_at_their_depths(
    bundled: LineageGraph, raw_children: dict[str, set[str]]
) -> None:
    expected = raw_descendants(raw_children, LLAMA_CHAT.lower())
    rows = risk(bundled, [LLAMA_CHAT]).output_rows()
    assert len(expected) == 1683
    inherited = rows.filter(rows["dependency"] == "inherited")
    assert {m.lower(): d for m, d in zip(inherited["id"], inherited["depth"], strict=True)}.items() <= expected.items()
    assert {m.lower() for m in rows["id"]} == set(expected)
    assert all(len(p.split(">")) == d for p, d in zip(rows["relation_path"], rows["depth"], strict=True))
    runtime = rows.filter(rows["dependency"] == "runtime")
    assert runtime.height > 0 and all(set(p.split(">")) == {"adapter"} for p in runtime["relation_path"])


def test_updated_and_gated_ancestors_match_the_raw_sample(
    bundled: LineageGraph, raw_children: dict[str, set[str]], hub_sample: Path
) -> None:
    records = {r["id"].lower(): r for r in raw_records(hub_sample)}
    expected_updated, expected_gated = set(), set()
    for ancestor, record in records.items():
        modified = record.get("lastModified")
        for child in raw_descendants(raw_children, ancestor):
            created = (records.get(child) or {}).get("createdAt")
            if modified and created and modified > created:
                expected_updated.add((child, ancestor))
            if record.get("gated") in ("auto", "manual"):
                expected_gated.add((child, ancestor))
    rows = stale_ancestors(bundled).rows
    pairs = {
        reason: {(i.lower(), a.lower()) for i, a, r in rows.select("id", "ancestor", "reason").rows() if r == reason}
        for reason in ("updated_unknown_part", "unavailable")
    }
    # the sample holds no file listing: every update is of an unknown part
    assert expected_updated and pairs["updated_unknown_part"] == expected_updated
    # no record is disabled or private, and gated is not unavailable
    assert expected_gated and pairs["unavailable"] == set()


# ---------------------------------------------------------------- the command line


def test_cli_risk_lists_every_descendant_and_exits_1() -> None:
    run = CliRunner().invoke(app, ["risk", "--compromised", LLAMA_CHAT, "-f", "json", "--paths"])
    assert run.exit_code == 1, run.output
    doc = json.loads(run.stdout)
    assert doc["affected_models"] == len(doc["rows"]) == 1683
    assert {"id", "source", "risk", "depth", "relation_path", "dependency"} <= set(doc["rows"][0])
    assert {r["dependency"] for r in doc["rows"]} == {"runtime", "inherited"}


def test_cli_check_exits_0_on_a_clean_model_and_1_on_one_with_findings() -> None:
    clean = CliRunner().invoke(app, ["check", "EleutherAI/gpt-neox-20b", "-f", "json"])
    assert clean.exit_code == 0, clean.output
    assert json.loads(clean.stdout)["rows"] == []
    dirty = CliRunner().invoke(app, ["check", "AmberYifan/Gemma-7B-sft-SPIN-Gemma-2-27B", "-f", "json"])
    assert dirty.exit_code == 1, dirty.output
    doc = json.loads(dirty.stdout)
    # its base chain ends at google/gemma-7b, gated on the Hub: a kind of access, not unavailable
    assert {"severity": "medium", "finding": "no_license", "ancestor": "AmberYifan/Gemma-7B-sft-SPIN-Gemma-2-27B"
            }.items() <= next(r for r in doc["rows"] if r["finding"] == "no_license").items()
    assert "unavailable" not in {r["finding"] for r in doc["rows"]}


def test_cli_reach_and_stale_print_json_with_the_documented_names() -> None:
    run = CliRunner().invoke(app, ["reach", "--by", "author", "--top", "3", "-f", "json"])
    assert run.exit_code == 0, run.output
    rows = json.loads(run.stdout)["rows"]
    assert len(rows) == 3 and {"id", "direct_dependents", "reach", "reach_downloads"} <= set(rows[0])
    run = CliRunner().invoke(app, ["stale", "TheBloke/Llama-2-7B-Chat-GGML", "-f", "json"])
    assert run.exit_code == 0, run.output
    rows = json.loads(run.stdout)["rows"]
    assert {"ancestor", "reason", "lag_days"} <= set(rows[0])


def test_cycles_and_self_loops_never_make_a_model_its_own_ancestor_or_victim() -> None:
    records = [
        ModelRecord(id="c/x", created_at=day("2024-01-01"), last_modified=day("2024-02-01"), license="mit"),
        ModelRecord(id="c/y", created_at=day("2024-01-10"), last_modified=day("2024-01-10"), license="mit"),
        ModelRecord(id="c/s", created_at=day("2024-01-01"), last_modified=day("2024-09-01"), license="mit"),
    ]
    lg = lineage(records, [("c/x", "c/y", Relation.FINETUNE), ("c/y", "c/x", Relation.FINETUNE),
                           ("c/y", "c/z", Relation.ADAPTER), ("c/s", "c/s", Relation.FINETUNE)])
    stale = {(r["id"], r["ancestor"], r["lag_days"]) for r in stale_ancestors(lg).rows.iter_rows(named=True)}
    # c/x changed 22 days after c/y was made; c/y was last changed 9 days after c/x was made; c/s names itself
    assert stale == {("c/y", "c/x", 22.0), ("c/x", "c/y", 9.0)}
    affected = {(r["id"], r["depth"], r["dependency"]) for r in risk(lg, ["c/x"]).rows.iter_rows(named=True)}
    assert affected == {("c/y", 1, "inherited"), ("c/z", 2, "inherited")}
    assert risk(lg, ["c/s"]).rows.height == 0
    assert {r["finding"] for r in check(lg, ["c/s"]).rows.iter_rows(named=True)} == set()
