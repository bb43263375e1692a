"""The benchmark instrument: its parameters come from the sample, its data has the promised shape,
and the command runs end to end at a small size (no timing thresholds: the numbers belong in
benchmarks/RESULTS.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from benchmarks.derive_shape import derive
from benchmarks.generate import generate
from benchmarks.hub_shape import FROM_SAMPLE, ROOT_SHARE
from benchmarks.table import markdown_table, terminal_table

ROOT = Path(__file__).resolve().parents[1]


def test_committed_parameters_are_what_the_sample_gives(hub_sample: Path) -> None:
    assert derive(hub_sample) == FROM_SAMPLE


def test_derived_shares_match_a_hand_count_of_the_sample(hub_sample: Path) -> None:
    # Two parameters counted here independently of derive_shape, straight from the raw lines.
    records = [json.loads(line) for line in (hub_sample / "models.jsonl").open()]
    full = [r for r in records if "createdAt" in r]
    merges = sum(1 for r in full if isinstance((r.get("cardData") or {}).get("base_model"), list)
                 and len(r["cardData"]["base_model"]) >= 2)
    assert FROM_SAMPLE["multi_base_share"] == round(merges / len(full), 4)
    trees = [json.loads(line) for line in (hub_sample / "model_tree.jsonl").open()]
    adapters = sum(len(t["adapters"]) for t in trees if t["depth"] == 0)
    below_root = sum(len(t[k]) for t in trees if t["depth"] == 0
                     for k in ("finetunes", "adapters", "quantizations", "merges"))
    assert FROM_SAMPLE["relation_shares_below_root"]["adapter"] == round(adapters / below_root, 4)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict], dict]:
    folder = tmp_path_factory.mktemp("generated")
    generate(5_000, folder, seed=3)
    records = [json.loads(line) for line in (folder / "models.jsonl").open()]
    return records, json.loads((folder / "shape.json").read_text())


def _bases(record: dict) -> list[str]:
    base = record["cardData"].get("base_model")
    return [] if base is None else [base] if isinstance(base, str) else base


def test_generated_records_have_the_api_shape(generated: tuple[list[dict], dict]) -> None:
    records, _ = generated
    assert len(records) == 5_000
    assert len({r["id"] for r in records}) == 5_000
    for record in records:
        assert {"id", "author", "createdAt", "lastModified", "downloads", "likes", "tags", "cardData",
                "siblings", "gated"} <= record.keys()
        assert record["id"].split("/")[0] == record["author"]
        for base in _bases(record):
            assert f"base_model:{base}" in record["tags"]


def test_generated_lineage_follows_the_sample_shape(generated: tuple[list[dict], dict]) -> None:
    records, shape = generated
    position = {r["id"]: i for i, r in enumerate(records)}
    roots = [r for r in records if not _bases(r)]
    merges = [r for r in records if len(_bases(r)) >= 2]
    # Binomial counts: 5,000 draws give a standard deviation under 0.3 percentage points.
    assert abs(len(roots) / len(records) - ROOT_SHARE) < 0.015
    assert abs(len(merges) / len(records) - FROM_SAMPLE["multi_base_share"]) < 0.015
    for record in records:
        for base in _bases(record):
            assert position[base] < position[record["id"]], "a base is generated before its children"
            assert records[position[base]]["createdAt"] <= record["createdAt"]
    children = Counter(b for r in records for b in _bases(r))
    # Heavy tail: most models have no child, and one base holds a large share of all edges.
    assert len(children) < 0.3 * len(records)
    assert max(children.values()) > 0.05 * sum(children.values())
    # The summary the benchmark reads agrees with the records.
    assert shape["edges"] == sum(children.values())
    assert shape["roots"] == len(roots)
    assert shape["merges"] == len(merges)
    assert shape["biggest_root_children"] == max(children[r["id"]] for r in roots)


def test_same_seed_same_records(tmp_path: Path) -> None:
    generate(300, tmp_path / "a", seed=11)
    generate(300, tmp_path / "b", seed=11)
    generate(300, tmp_path / "c", seed=12)
    first = (tmp_path / "a" / "models.jsonl").read_bytes()
    assert first == (tmp_path / "b" / "models.jsonl").read_bytes()
    assert first != (tmp_path / "c" / "models.jsonl").read_bytes()


STEPS = ["generate", "import_polars", "import_polars_networkx", "ingest", "load", "stats", "impact_biggest_root",
         "impact_deep_leaf", "ancestry_biggest_root", "ancestry_deep_leaf", "reach_all", "stale_all",
         "risk_top100", "export_capped", "audit_all", "licenses_all", "risk_data", "check_root", "why_leaf",
         "export_graphml", "export_cyclonedx", "report", "changed_copy", "ingest_changed", "diff_1pct", "update_1pct"]
WITH_BASELINE = ["load", "impact_biggest_root", "impact_deep_leaf", "ancestry_biggest_root",
                 "ancestry_deep_leaf", "reach_all"]
MAY_BE_MISSING = {"stale_all", "risk_top100"}  # analyses that issue 6 adds to the package


@pytest.mark.slow
def test_benchmark_command_smoke_run(tmp_path: Path) -> None:
    result_file = tmp_path / "result.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "run", "--models", "2000", "--json", str(result_file),
         "--work", str(tmp_path / "work")],
        cwd=ROOT, capture_output=True, text=True, timeout=900, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(result_file.read_text())
    assert report["models"] == 2000
    steps = {s["name"]: s for s in report["steps"]}
    assert list(steps) == STEPS
    for name, step in steps.items():
        if step["status"] == "not available":
            assert name in MAY_BE_MISSING and step["note"], name
            continue
        assert step["status"] == "ok", (name, step["error"])
        for key in ("wall_s", "cpu_s", "peak_rss_mib"):
            assert step["measured"][key] > 0, (name, key)
    for name in WITH_BASELINE:
        baseline = steps[name]["baseline"]
        assert baseline["status"] == "ok", (name, baseline["error"])
        assert baseline["measured"]["wall_s"] > 0 and baseline["measured"]["peak_rss_mib"] > 0
        assert steps[name]["ratio"] > 0
    # Every generated model and base reference reached the snapshot the queries read.
    assert steps["load"]["output"]["models"] == 2000
    assert steps["load"]["output"]["edges"] == report["generated"]["edges"]
    # The impact of the biggest root lists at least its direct children.
    impact_rows = json.loads((tmp_path / "work" / "impact_biggest_root.out").read_text())["rows"]
    assert len(impact_rows) >= report["generated"]["biggest_root_children"]
    # One record in 100 changed, and the diff lists each as a licence and a weight-file change.
    assert steps["changed_copy"]["output"] == {"records": 2000, "changed": 20}
    diff = json.loads((tmp_path / "work" / "diff_1pct.out").read_text())
    assert {r["change"] for r in diff["rows"]} >= {"license_changed", "weights_changed"}
    assert sum(r["change"] == "weights_changed" for r in diff["rows"]) == 20
    # The update of a crawl of the same records, 1% changed, is the fresh crawl's snapshot for fewer requests.
    update = steps["update_1pct"]["output"]
    assert update["models"] == 2000 and update["changed"] == 20 and update["equal_to_fresh"] is True
    assert update["update"]["requests"] < update["fresh"]["requests"] == update["crawl"]["requests"]
    # What a user reads: the table fits 80 columns; the Markdown table has a row per step.
    assert all(len(line) <= 80 for line in terminal_table(report).splitlines())
    assert all(f"| {name}" in markdown_table([report]) for name in STEPS)


def test_sample_copies_are_disjoint_renamed_copies(tmp_path: Path, hub_sample: Path) -> None:
    from benchmarks.sample_copies import write_sample_copies

    originals = [json.loads(line) for line in (hub_sample / "models.jsonl").open()]
    assert write_sample_copies(2, tmp_path, hub_sample) == 2 * len(originals)
    copies = [json.loads(line) for line in (tmp_path / "models.jsonl").open()]
    assert len({r["id"] for r in copies}) == 2 * len(originals)
    second = copies[len(originals):]
    for original, copy in zip(originals, second, strict=True):
        assert copy["id"] == original["id"] + "-c1"
        base = (original.get("cardData") or {}).get("base_model")
        if isinstance(base, str):
            assert copy["cardData"]["base_model"] == base + "-c1"
        tags = [t for t in original["tags"] if t.startswith("base_model:")]
        assert [t for t in copy["tags"] if t.startswith("base_model:")] == [t + "-c1" for t in tags]
