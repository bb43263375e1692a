"""``ptmgraph export`` and ``ptmgraph explore`` as a user meets them: which format, where it goes."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import networkx as nx
import polars as pl
import pytest
from cyclonedx.model import HashAlgorithm
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import ComponentType
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from typer.testing import CliRunner

from ptmgraph import snapshot
from ptmgraph.cli import app
from ptmgraph.formats import html as html_format
from ptmgraph.graph import LineageGraph

runner = CliRunner()
DEPTH3 = "AmberYifan/Gemma-7B-sft-SPIN-Gemma-2-27B"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SVG = "{http://www.w3.org/2000/svg}"


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_the_out_extension_chooses_the_format(tmp_path: Path) -> None:
    assert run("export", DEPTH3, "--ancestry", "--out", str(tmp_path / "g.png")).exit_code == 0
    assert (tmp_path / "g.png").read_bytes().startswith(PNG_SIGNATURE)
    assert run("export", DEPTH3, "--ancestry", "--out", str(tmp_path / "g.graphml")).exit_code == 0
    assert b"<graphml" in (tmp_path / "g.graphml").read_bytes()
    assert run("export", DEPTH3, "--ancestry", "-o", str(tmp_path / "bom.cdx.json")).exit_code == 0
    assert json.loads((tmp_path / "bom.cdx.json").read_text())["bomFormat"] == "CycloneDX"


def test_a_format_that_clashes_with_the_extension_is_an_error(tmp_path: Path) -> None:
    target = tmp_path / "g.svg"
    result = run("export", DEPTH3, "--ancestry", "--format", "png", "--out", str(target))
    assert result.exit_code == 1
    assert "the file name says svg but --format says png" in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2  # one message (folded at 80 columns at most once)
    assert not target.exists()


def test_out_dash_writes_to_standard_output(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ptmgraph", "export", DEPTH3, "--ancestry", "--format", "mermaid", "--out", "-"],
        capture_output=True, cwd=tmp_path, check=False, env={**os.environ, "COLUMNS": "200"},
    )
    assert done.returncode == 0, done.stderr
    assert b"flowchart TB" in done.stdout and b"google/gemma-7b" in done.stdout
    assert b"wrote standard output" in done.stderr
    assert list(tmp_path.iterdir()) == []  # no file called '-'


def test_out_never_replaces_a_fifo_or_a_directory(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.svg"
    os.mkfifo(fifo)
    result = run("export", DEPTH3, "--ancestry", "--out", str(fifo))
    assert result.exit_code == 1 and "not a regular file" in result.stderr
    assert fifo.is_fifo()
    folder = tmp_path / "folder.svg"
    folder.mkdir()
    result = run("export", DEPTH3, "--ancestry", "--out", str(folder))
    assert result.exit_code == 1 and "is a directory" in result.stderr
    assert folder.is_dir() and list(folder.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder.svg", "pipe.svg"]  # no temporary left


def test_ancestry_and_impact_together_draw_both(tmp_path: Path) -> None:
    target = tmp_path / "both.json"
    assert run("export", "google/gemma-7b", "--ancestry", "--impact", "-o", str(target)).exit_code == 0
    doc = json.loads(target.read_text())
    assert doc["graph"]["direction"] == "both"
    assert {e["source"] for e in doc["edges"]} >= {"google/gemma-7b"}


def test_explore_writes_one_offline_html_file(tmp_path: Path) -> None:
    target = tmp_path / "explore.html"
    result = run("explore", DEPTH3, "--out", str(target))
    assert result.exit_code == 0, result.stderr
    page = target.read_text()
    assert page.startswith("<!DOCTYPE html>") and "cytoscape" in page
    for fetch in ("<link", " src=", "http://", "@import"):
        assert fetch not in page.split('id="graph-data"')[0], fetch  # nothing fetched at view time
    assert "Permission is hereby granted" in page  # the bundled libraries' licences travel with them


def test_explore_takes_a_model_or_all_but_not_both(tmp_path: Path) -> None:
    for args in ([DEPTH3, "--all"], []):
        result = run("explore", *args, "--out", str(tmp_path / "x.html"))
        assert result.exit_code == 2 and "give MODEL, or --all for the whole snapshot" in result.stderr
    assert not (tmp_path / "x.html").exists()


def test_explore_without_the_javascript_libraries_says_how_to_install_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(html_format, "VENDOR_DIR", tmp_path / "nothing-here")
    target = tmp_path / "explore.html"
    result = run("explore", DEPTH3, "--out", str(target))
    assert result.exit_code == 1
    message = " ".join(result.stderr.split())
    assert "cytoscape.min.js is missing" in message and "bash scripts/run main" in message
    assert not target.exists()


def test_all_exports_the_whole_snapshot_or_its_edges_of_one_relation(tmp_path: Path, bundled: LineageGraph) -> None:
    target = tmp_path / "all.json"
    assert run("export", "--all", "--max-nodes", "0", "-o", str(target)).exit_code == 0
    doc = json.loads(target.read_text())
    assert len(doc["nodes"]) == bundled.graph.number_of_nodes()
    assert {(e["source"], e["target"]) for e in doc["edges"]} == set(bundled.graph.edges)

    merges = {(b, c) for b, c, r in bundled.graph.edges(data="relation") if r == "merge"}
    target = tmp_path / "merges.graphml"
    assert run("export", "--all", "-r", "merge", "--max-nodes", "0", "-o", str(target)).exit_code == 0
    graph = nx.read_graphml(target)
    assert set(graph.edges) == merges
    assert set(graph.nodes) == {m for edge in merges for m in edge}


def test_all_keeps_the_picture_connected_and_counts_what_it_hides(tmp_path: Path, bundled: LineageGraph) -> None:
    target = tmp_path / "merges.json"
    result = run("export", "--all", "-r", "merge", "--max-nodes", "20", "-o", str(target))
    assert result.exit_code == 0, result.stderr
    doc = json.loads(target.read_text())
    models = [n for n in doc["nodes"] if n["kind"] == "model"]
    (more,) = [n for n in doc["nodes"] if n["kind"] == "more"]
    merges = {(b, c) for b, c, r in bundled.graph.edges(data="relation") if r == "merge"}
    ends = {m for edge in merges for m in edge}
    assert len(models) == 20 and more["hidden_count"] == len(ends) - 20
    assert sorted([n["id"] for n in models] + more["hidden_ids"]) == sorted(ends)
    # taken edge by edge: every drawn model but possibly the last has a drawn merge edge
    touched = {m for e in doc["edges"] for m in (e["source"], e["target"])}
    assert len({n["id"] for n in models} - touched) <= 1


def test_all_refuses_a_model_and_a_bom(tmp_path: Path) -> None:
    result = run("export", DEPTH3, "--all", "-o", str(tmp_path / "x.svg"))
    assert result.exit_code == 2 and "--all" in result.stderr
    result = run("export", "--all", "-o", str(tmp_path / "x.cdx.json"))
    assert result.exit_code == 1 and "describes one model" in result.stderr
    assert not (tmp_path / "x.cdx.json").exists()


# --- whole data, pictures that show the mix, titles (issue 20) ------------------------------------------

GEMMA = "google/gemma-7b"


def bundled_edges() -> pl.DataFrame:
    """The bundled snapshot's edges table, read from its Parquet file."""
    return pl.read_parquet(snapshot.current_files(snapshot.bundled_path()) / "edges.parquet")


def descendants_and_itself(edges: pl.DataFrame, model: str) -> set[str]:
    """Every model reachable from ``model`` along base -> child edges, and ``model``: a plain fixpoint."""
    found, frontier = {model}, {model}
    while frontier:
        children = set(edges.filter(pl.col("base").is_in(sorted(frontier)))["child"].to_list())
        frontier = children - found
        found |= frontier
    return found


def test_a_graph_file_holds_every_model_of_the_impact_set_unless_max_nodes_is_given(tmp_path: Path) -> None:
    edges = bundled_edges()
    models = descendants_and_itself(edges, GEMMA)
    assert len(models) == 3_565
    target = tmp_path / "x.graphml"
    result = run("export", GEMMA, "--impact", "--out", str(target))
    assert result.exit_code == 0, result.stderr
    assert "showing all 3,564 models" in " ".join(result.stderr.split())
    graph = nx.read_graphml(target)
    assert graph.number_of_nodes() == 3_565 and set(graph.nodes) == models
    inside = edges.filter(pl.col("base").is_in(sorted(models)) & pl.col("child").is_in(sorted(models)))
    assert set(graph.edges) == set(inside.select("base", "child").iter_rows())
    assert graph.graph["hidden"] == 0

    assert run("export", GEMMA, "--impact", "--max-nodes", "100", "--out", str(tmp_path / "cut.json")).exit_code == 0
    doc = json.loads((tmp_path / "cut.json").read_text())
    assert sum(n["kind"] == "model" for n in doc["nodes"]) == 100
    assert sum(n.get("hidden_count", 0) for n in doc["nodes"]) == 3_464


def svg_models(path: Path) -> set[str]:
    """The first text line of every node of an SVG drawing (the model id, for a model's box)."""
    root = ET.parse(path).getroot()
    found = set()
    for group in root.iter(f"{SVG}g"):
        if group.get("class") == "node":
            lines = ["".join(el.itertext()) for el in group.iter(f"{SVG}text")]
            found.update(lines[:1])
    return found


def test_the_impact_picture_shows_a_model_of_every_relation_at_depth_one(tmp_path: Path) -> None:
    edges = bundled_edges().filter(pl.col("base") == GEMMA)
    relation_of = dict(edges.select("child", "relation").iter_rows())
    assert set(relation_of.values()) == {"finetune", "adapter", "quantized", "merge"}
    assert sum(r == "adapter" for r in relation_of.values()) > 3_000  # most of them adapters
    target = tmp_path / "gemma.svg"
    assert run("export", GEMMA, "--impact", "--out", str(target)).exit_code == 0
    shown = {relation_of[m] for m in svg_models(target) if m in relation_of}
    assert shown == set(relation_of.values())
    texts = ["".join(el.itertext()) for el in ET.parse(target).getroot().iter(f"{SVG}text")]
    assert "Impact of google/gemma-7b" in texts
    caption = next(t for t in texts if t.startswith("showing "))
    assert caption.startswith("showing 16 of 3,564 models") and "'+N more'" in caption  # the drawing says it is cut


def test_title_and_subtitle_replace_the_defaults(tmp_path: Path) -> None:
    target = tmp_path / "a.svg"
    result = run("export", DEPTH3, "--ancestry", "--title", "Where it comes from", "--subtitle", "three finetunes",
                 "--out", str(target))
    assert result.exit_code == 0, result.stderr
    texts = ["".join(el.itertext()) for el in ET.parse(target).getroot().iter(f"{SVG}text")]
    assert texts[:2] == ["Where it comes from", "three finetunes"]
    assert not any(t.startswith(("Ancestry of", "showing")) for t in texts)
    target = tmp_path / "a.json"
    assert run("export", DEPTH3, "--ancestry", "--title", "T", "--subtitle", "S", "-o", str(target)).exit_code == 0
    graph = json.loads(target.read_text())["graph"]
    assert (graph["title"], graph["caption"]) == ("T", "S")


def test_mermaid_comments_are_plain_text_and_labels_stay_escaped(tmp_path: Path) -> None:
    target = tmp_path / "a.mmd"
    subtitle = 'nearest first (then "most" downloaded) & <more>\nsecond line'
    assert run("export", DEPTH3, "--ancestry", "--subtitle", subtitle, "-o", str(target)).exit_code == 0
    lines = target.read_text().splitlines()
    comments = [line for line in lines if line.lstrip().startswith("%%")]
    assert comments == ['  %% nearest first (then "most" downloaded) & <more>\\x0asecond line']
    assert "second line" not in [line.strip() for line in lines]  # the line end did not end the comment
    assert '  n0["AmberYifan/Gemma-7B-sft-SPIN-Gemma-2-27B<br/>0 downloads"]' in lines


def test_the_ancestry_legend_leaves_no_gap_between_the_models(tmp_path: Path) -> None:
    target = tmp_path / "a.svg"
    assert run("export", DEPTH3, "--ancestry", "--out", str(target)).exit_code == 0
    chain = ["google/gemma-7b", "AmberYifan/Gemma-7b-sft-ultrachat", "AmberYifan/Gemma-7b-sft-ultrachat-safeRLHF",
             DEPTH3]
    y = {}
    for el in ET.parse(target).getroot().iter(f"{SVG}text"):
        if "".join(el.itertext()) in chain:
            y["".join(el.itertext())] = float(el.get("y", "nan"))
    steps = [y[b] - y[a] for a, b in itertools.pairwise(chain)]
    assert all(step > 0 for step in steps)
    assert max(steps) <= 1.15 * min(steps), steps  # every rank as tall as the next: the legend stretches none
    assert "Legend" in {"".join(el.itertext()) for el in ET.parse(target).getroot().iter(f"{SVG}text")}


# --- the CycloneDX graph -------------------------------------------------------------------------------

SHA256 = "9" * 64


def sha_of(model_id: str) -> str:
    """A commit sha for a hand-written record: 40 hex digits of its own."""
    return hashlib.sha1(model_id.encode()).hexdigest()


def code_family(tmp_path: Path) -> Path:
    """o/code ships weights (an LFS file with a sha256) and its own modelling code; o/small finetunes it
    and runs its code (auto_map), o/small-lora is an adapter of o/small and o/small-q a GGUF
    quantization of it; o/lora is an adapter of o/code; o/merged merges o/code and o/other."""
    def record(model_id: str, files: list[dict[str, object]], tags: list[str], **extra: object) -> dict[str, object]:
        return {"id": model_id, "author": "o", "sha": sha_of(model_id), "siblings": files,
                "tags": tags, "cardData": {"license": "apache-2.0"}, **extra}

    def names(*paths: str) -> list[dict[str, object]]:
        return [{"rfilename": p} for p in paths]

    weights = names("config.json", "model.safetensors")
    records = [
        record("o/code", [{"rfilename": "config.json", "size": 600, "blobId": "c" * 40},
                          {"rfilename": "model.safetensors", "size": 10**9, "blobId": "d" * 40,
                           "lfs": {"sha256": SHA256, "size": 10**9, "pointerSize": 135}},
                          {"rfilename": "modeling_c.py", "size": 900, "blobId": "e" * 40}], [],
               config={"auto_map": {"AutoModelForCausalLM": "modeling_c.CForCausalLM"}}),
        record("o/other", weights, []),
        record("o/small", weights, ["base_model:o/code", "base_model:finetune:o/code"],
               config={"auto_map": {"AutoModelForCausalLM": "o/code--modeling_c.CForCausalLM"}}),
        record("o/small-lora", names("adapter_config.json", "adapter_model.safetensors"),
               ["base_model:o/small", "base_model:adapter:o/small"]),
        record("o/small-q", names("small.Q4_K_M.gguf"), ["base_model:o/small", "base_model:quantized:o/small"]),
        record("o/lora", names("adapter_config.json", "adapter_model.safetensors"),
               ["base_model:o/code", "base_model:adapter:o/code"]),
        record("o/merged", [*weights, *names("mergekit_config.yml")],
               ["base_model:o/code", "base_model:o/other", "merge", "base_model:merge:o/code",
                "base_model:merge:o/other"]),
    ]
    source = tmp_path / "hub"
    source.mkdir()
    (source / "models.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    out = tmp_path / "snap"
    result = run("ingest", str(source), "--out", str(out))
    assert result.exit_code == 0, result.output
    return out


def edges_of_bom(bom: Bom) -> set[tuple[str, str, str, str]]:
    """(base, child, relation, dependency) of every dependency of a BOM read by cyclonedx-python-lib."""
    by_ref = {str(c.bom_ref): c for c in [bom.metadata.component, *bom.components] if c is not None}
    found = set()
    for entry in bom.dependencies:
        child = by_ref[str(entry.ref)]
        properties = {p.name: p.value for p in child.properties}
        for needed in entry.dependencies:
            base = by_ref[str(needed.ref)]
            base_id = f"{base.group}/{base.name}"
            found.add((base_id, f"{child.group}/{child.name}", properties[f"ptmgraph:relation:{base_id}"],
                       properties[f"ptmgraph:dependency:{base_id}"]))
    return found


def test_the_cyclonedx_bom_of_an_impact_set_is_a_graph_that_cyclonedx_reads_back(tmp_path: Path) -> None:
    snap = code_family(tmp_path)
    target = tmp_path / "code.cdx.json"
    result = run("export", "o/code", "--impact", "--snapshot", str(snap), "-o", str(target))
    assert result.exit_code == 0, result.stderr
    assert "UserWarning" not in result.stderr
    text = target.read_text()
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None

    bom = Bom.from_json(json.loads(text))  # type: ignore[attr-defined]
    assert edges_of_bom(bom) == {
        ("o/code", "o/small", "finetune", "runtime_code"),  # a copy of the weights, but it runs o/code's code
        ("o/small", "o/small-lora", "adapter", "runtime"),  # loads o/small's weights
        ("o/small", "o/small-q", "quantized", "inherited"),
        ("o/code", "o/lora", "adapter", "runtime"),
        ("o/code", "o/merged", "merge", "inherited"),  # o/other -> o/merged is no part of o/code's impact
    }
    subject = bom.metadata.component
    models = [subject, *bom.components]
    assert sorted(f"{c.group}/{c.name}" for c in models) == [
        "o/code", "o/lora", "o/merged", "o/small", "o/small-lora", "o/small-q"]
    for component in models:
        model_id = f"{component.group}/{component.name}"
        assert component.type is ComponentType.MACHINE_LEARNING_MODEL
        assert str(component.purl) == f"pkg:huggingface/{model_id}@{sha_of(model_id)}"
        assert [str(lic.id) for lic in component.licenses] == ["Apache-2.0"]
    (weights,) = subject.components  # the one file whose sha256 the listing gives
    assert weights.name == "model.safetensors"
    assert [(h.alg, h.content) for h in weights.hashes] == [(HashAlgorithm.SHA_256, SHA256)]
    # the subject keeps its pedigree: every model derived from it, nearest first
    assert [f"{c.group}/{c.name}" for c in subject.pedigree.descendants] == [
        "o/lora", "o/merged", "o/small", "o/small-lora", "o/small-q"]


def test_the_cyclonedx_bom_of_gemma_holds_every_model_and_every_edge(tmp_path: Path) -> None:
    edges = bundled_edges()
    models = descendants_and_itself(edges, GEMMA)
    inside = edges.filter(pl.col("base").is_in(sorted(models)) & pl.col("child").is_in(sorted(models)))
    target = tmp_path / "gemma.cdx.json"
    assert run("export", GEMMA, "--impact", "-o", str(target)).exit_code == 0
    bom = json.loads(target.read_text())
    assert bom["metadata"]["component"]["bom-ref"] == f"model:{GEMMA}"
    refs = [c["bom-ref"] for c in bom["components"]]
    assert len(refs) == len(set(refs)) == 3_564 and set(refs) == {f"model:{m}" for m in models - {GEMMA}}
    rebuilt = {(base.removeprefix("model:"), d["ref"].removeprefix("model:"))
               for d in bom["dependencies"] for base in d.get("dependsOn", [])}
    assert rebuilt == set(inside.select("base", "child").iter_rows())
    relation = {(c["bom-ref"].removeprefix("model:"), p["name"].removeprefix("ptmgraph:relation:")): p["value"]
                for c in bom["components"] for p in c["properties"] if p["name"].startswith("ptmgraph:relation:")}
    assert relation == {(child, base): r for base, child, r in inside.select("base", "child", "relation").iter_rows()}
