"""The command line as a user meets it: commands, output formats, and errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from raw_sample import raw_edges, raw_license, raw_records
from typer.testing import CliRunner

from ptmgraph import snapshot
from ptmgraph.cli import app

runner = CliRunner()
DEPTH3 = "AmberYifan/Gemma-7B-sft-SPIN-Gemma-2-27B"


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_impact_as_json_prints_one_document_with_rows_and_summary() -> None:
    result = run("impact", "meta-llama/Llama-2-7b-chat-hf", "--format", "json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["affected_models"] == len(doc["rows"]) > 1500
    assert {"id", "depth", "via", "relation", "downloads", "likes"} <= set(doc["rows"][0])
    assert "relation_path" not in doc["rows"][0]  # only with --paths: output stays linear in its rows
    with_paths = json.loads(run("impact", "meta-llama/Llama-2-7b-chat-hf", "--format", "json", "--paths").stdout)
    assert {r["relation_path"] for r in with_paths["rows"] if r["depth"] == 1} == {r["relation"] for r in doc["rows"]
                                                                                   if r["depth"] == 1}
    assert doc["affected_downloads"] == sum(r["downloads"] or 0 for r in doc["rows"])
    assert doc["affected_space_links"] == sum(r["spaces"] or 0 for r in doc["rows"]) > 0
    assert {r["depth"] for r in doc["tables"]["by_depth"]} == {r["depth"] for r in doc["rows"]}


def test_impact_can_follow_one_relation_and_stop_at_a_depth() -> None:
    result = run("impact", "meta-llama/Llama-2-7b-chat-hf", "-r", "quantized", "--max-depth", "1", "-f", "json")
    doc = json.loads(result.stdout)
    assert doc["rows"] and {r["relation"] for r in doc["rows"]} == {"quantized"}
    assert {r["depth"] for r in doc["rows"]} == {1}


def test_ancestry_prints_a_tree_up_to_the_root() -> None:
    result = run("ancestry", DEPTH3)
    assert result.exit_code == 0
    assert "google/gemma-7b" in result.stdout and "root" in result.stdout
    doc = json.loads(run("ancestry", DEPTH3, "-f", "json").stdout)
    assert doc["roots"] == ["google/gemma-7b"]
    assert doc["tables"]["paths"][0]["path"][0] == "google/gemma-7b"


def test_ancestry_as_csv_has_a_header_and_one_line_per_ancestor() -> None:
    result = run("ancestry", DEPTH3, "--format", "csv")
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("id,depth,via,relation")
    assert len(lines) == 1 + 3


def test_info_shows_parents_children_and_the_evidence_of_each_edge(hub_sample: Path) -> None:
    doc = json.loads(run("info", "meta-llama/Llama-2-7b-chat-hf", "-f", "json").stdout)
    children = [r for r in doc["rows"] if r["direction"] == "child"]
    assert len(children) == doc["children"] > 1000
    assert all(r["evidence"] for r in doc["rows"])
    doc = json.loads(run("info", DEPTH3, "-f", "json").stdout)
    (parent,) = [r for r in doc["rows"] if r["direction"] == "parent"]
    (raw,) = [r for r in raw_records(hub_sample) if r["id"] == DEPTH3]
    assert parent["id"] == raw["cardData"]["base_model"] == "AmberYifan/Gemma-7b-sft-ultrachat-safeRLHF"
    assert any(e.startswith("card_base_model README.md:base_model") for e in parent["evidence"])
    # Its card's licence is the placeholder "license": no licence.
    assert doc["record"]["license"] is raw_license(raw) is None


def test_stats_counts_models_edges_and_relations() -> None:
    doc = json.loads(run("stats", "--format", "json").stdout)
    assert doc["models"] > 6500 and doc["edges"] > 6500
    by_relation = {r["id"]: r["count"] for r in doc["rows"] if r["section"] == "edges_by_relation"}
    assert sum(by_relation.values()) == doc["edges"]
    assert set(by_relation) <= {"finetune", "adapter", "quantized", "merge", "unknown"}


def test_a_model_given_as_url_or_in_other_case_is_found() -> None:
    doc = json.loads(run("impact", "https://huggingface.co/META-LLAMA/llama-2-7b-chat-hf/", "-f", "json").stdout)
    assert doc["model"] == "meta-llama/Llama-2-7b-chat-hf"


def test_an_unknown_model_exits_2_and_suggests_close_ids() -> None:
    result = run("impact", "meta-llama/Llama-2-7b-chatt")
    assert result.exit_code == 2
    assert "unknown model 'meta-llama/Llama-2-7b-chatt'" in result.stderr
    assert "meta-llama/Llama-2-7b-chat-hf" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p, "no such snapshot directory"),
        (lambda p: (p.mkdir(), p)[1], "not a ptmgraph snapshot"),
    ],
)
def test_a_bad_snapshot_is_one_line_and_a_nonzero_exit(tmp_path: Path, make, message: str) -> None:
    target = make(tmp_path / "snap")
    result = run("stats", "--snapshot", str(target))
    assert result.exit_code == 1
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_corrupt_snapshot_table_is_reported_not_raised(tmp_path: Path, hub_sample: Path) -> None:
    snap = tmp_path / "snap"
    assert run("ingest", str(hub_sample / "model_tree.jsonl"), "--out", str(snap)).exit_code == 0
    (snapshot.current_files(snap) / "edges.parquet").write_bytes(b"not parquet at all")
    result = run("stats", "--snapshot", str(snap))
    assert result.exit_code == 1
    assert "edges.parquet: not a readable Parquet file" in result.stderr


def test_ingest_then_query_the_new_snapshot(tmp_path: Path, hub_sample: Path) -> None:
    snap = tmp_path / "snap"
    result = run("ingest", str(hub_sample), "--out", str(snap))
    assert result.exit_code == 0, result.stderr
    # Models: every id the files name; edges: the pairs of cards, tags and model trees. The six dangling
    # references are card text outweighed by a declared base: the mergekit configurations quoted in the cards
    # of arcee-ai/gemma-7b-slerp and mlabonne/gemma-7b-dare (each naming google/gemma-7b-it), and the prose
    # of kuazi/deepseek-r1-medical-test, persadian/CropSeek-LLM, somosnlp/gemma-7b-it-legal-refugiados-es and
    # webbigdata/C3TR-Adapter_hqq naming another model than the card declares.
    pairs = raw_edges(hub_sample)
    ids = {r["id"].lower() for r in raw_records(hub_sample)} | {i for pair in pairs for i in pair}
    ids |= {json.loads(line)["id"].lower() for line in (hub_sample / "model_tree.jsonl").open()}
    assert " ".join(result.stderr.split()) == (
        f"wrote snapshot {snap}: {len(ids):,} models, {len(pairs):,} edges, 6 dangling references, 0 problems"
    )
    mine = json.loads(run("stats", "-s", str(snap), "-f", "json").stdout)
    shipped = json.loads(run("stats", "-f", "json").stdout)
    assert (mine["models"], mine["edges"]) == (shipped["models"], shipped["edges"])
    # The shipped snapshot is exactly what the project's own ingest makes of the sample (no stale copy).
    for table in ("edges", "evidence", "models"):
        ours = snapshot.load(snap).table(table)
        bundled = snapshot.load(snapshot.bundled_path()).table(table)
        key = ["id"] if table == "models" else ["base", "child"] + (["kind", "field"] if table == "evidence" else [])
        assert ours.drop("source", strict=False).sort(key).equals(bundled.drop("source", strict=False).sort(key)), table


def test_ingest_of_a_missing_file_fails_cleanly_and_writes_nothing(tmp_path: Path) -> None:
    result = run("ingest", str(tmp_path / "nope.jsonl"), "--out", str(tmp_path / "snap"))
    assert result.exit_code != 0
    assert "nope.jsonl" in result.stderr
    assert not (tmp_path / "snap").exists()


def test_the_installed_command_runs_as_a_user_would() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "ptmgraph", "impact", "google/gemma-7b", "--format", "json"],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["model"] == "google/gemma-7b"


def test_export_draws_the_impact_as_svg_and_states_the_cap(tmp_path: Path) -> None:
    target = tmp_path / "graphs" / "impact.svg"
    result = run("export", "meta-llama/Llama-2-7b-chat-hf", "--impact", "--format", "svg", "--out", str(target),
                 "--max-nodes", "60", "--max-per-depth", "0")
    assert result.exit_code == 0, result.stderr
    svg = target.read_text()
    assert svg.lstrip().startswith("<?xml") and "meta-llama/Llama-2-7b-chat-hf" in svg
    assert "showing 60 of 1,683 models" in " ".join(result.stderr.split())


def test_export_draws_the_ancestry_as_dot_with_every_ancestor(tmp_path: Path) -> None:
    target = tmp_path / "ancestry.dot"
    assert run("export", DEPTH3, "--ancestry", "-f", "dot", "-o", str(target)).exit_code == 0
    dot = target.read_text()
    for model in (DEPTH3, "google/gemma-7b", "AmberYifan/Gemma-7b-sft-ultrachat"):
        assert model in dot


def test_export_needs_a_direction(tmp_path: Path) -> None:
    result = run("export", DEPTH3, "-o", str(tmp_path / "x.svg"))
    assert result.exit_code == 2 and "--ancestry" in result.stderr


def test_export_without_out_writes_into_outputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("export", DEPTH3, "--ancestry", "-f", "dot")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "outputs" / "ancestry-AmberYifan__Gemma-7B-sft-SPIN-Gemma-2-27B.dot").is_file()


def test_ingest_combines_hub_records_local_repos_and_an_edge_list(
    tmp_path: Path, hub_sample: Path, local_repos: Path
) -> None:
    edges = tmp_path / "lineage.csv"
    edges.write_text("child,base,relation\nme/minilm-ft,sentence-transformers/all-MiniLM-L6-v2,finetune\n")
    snap = tmp_path / "snap"
    result = run("ingest", str(hub_sample), str(local_repos), str(edges), "--out", str(snap))
    assert result.exit_code == 0, result.stderr
    doc = json.loads(run("ancestry", "me/minilm-ft", "-s", str(snap), "-f", "json").stdout)
    assert [(r["id"], r["depth"]) for r in doc["rows"]] == [
        ("sentence-transformers/all-MiniLM-L6-v2", 1), ("nreimers/MiniLM-L6-H384-uncased", 2)]
    stats = json.loads(run("stats", "-s", str(snap), "-f", "json").stdout)
    assert stats["models"] == 6810 + 3 and len(stats["sources"]) == 3
