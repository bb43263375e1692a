"""``ptmgraph export`` and ``ptmgraph explore`` as a user meets them: which format, where it goes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest
from typer.testing import CliRunner

from ptmgraph.cli import app
from ptmgraph.formats import html as html_format
from ptmgraph.graph import LineageGraph

runner = CliRunner()
DEPTH3 = "AmberYifan/Gemma-7B-sft-SPIN-Gemma-2-27B"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


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
