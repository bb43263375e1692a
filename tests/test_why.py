"""`ptmgraph why MODEL ANCESTOR`: every path by which a model derives from an ancestor, as a user reads it."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from ptmgraph import snapshot
from ptmgraph.cli import app

runner = CliRunner()
DEPTH3 = "AmberYifan/Gemma-7B-sft-SPIN-Gemma-2-27B"


def run(*args: str, columns: int = 120) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--no-pager", *args], env={"COLUMNS": str(columns), "NO_COLOR": "1"})
    return result.exit_code, result.stdout, result.stderr


def ingest(tmp_path: Path, rows: str) -> Path:
    edges = tmp_path / "lineage.csv"
    edges.write_text("child,base,relation\n" + rows)
    out = tmp_path / "snap"
    code, _, err = run("ingest", str(edges), "--out", str(out))
    assert code == 0, err
    return out


def test_why_prints_the_three_hop_path_of_the_bundled_snapshot_with_relations_and_evidence() -> None:
    # the expected hops, read from the bundled snapshot's edges and evidence tables, not by our walk
    files = snapshot.current_files(snapshot.bundled_path())
    edges = pl.read_parquet(files / "edges.parquet")
    evidence = pl.read_parquet(files / "evidence.parquet")
    expected, child = [], DEPTH3
    while child != "google/gemma-7b":
        (base, relation), = edges.filter(pl.col("child") == child).select("base", "relation").rows()
        expected.append((child, base, relation))
        child = base
    assert len(expected) == 3

    code, out, _ = run("why", DEPTH3, "google/gemma-7b")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"Why {DEPTH3} derives from google/gemma-7b: 1 path, 3 hops"
    assert lines[1] == DEPTH3
    hop_lines = [line for line in lines if "── " in line]
    assert [line.split("── ")[1].split("  ")[0] for line in hop_lines] == [b for _, b, _ in expected]
    assert all(f"base of ↑ ({r})" in line for line, (_, _, r) in zip(hop_lines, expected, strict=True))
    kinds = evidence.filter((pl.col("child") == expected[-1][0]) & (pl.col("base") == "google/gemma-7b"))["kind"]
    last = out[out.index(hop_lines[-1]):]
    assert kinds.len() and all(f"evidence: {kind} " in last for kind in kinds.to_list())

    code, out, _ = run("why", DEPTH3, "google/gemma-7b", "-f", "json")
    doc = json.loads(out)
    assert code == 0 and doc["paths"] == 1 and doc["paths_truncated"] is False
    assert [(r["child"], r["base"], r["relation"]) for r in doc["rows"]] == expected
    assert [r["hop"] for r in doc["rows"]] == [1, 2, 3] and all(r["evidence"] for r in doc["rows"])


def test_a_diamond_gives_two_paths_sharing_the_model_line(tmp_path: Path) -> None:
    snap = ingest(tmp_path, "org/left,org/base,finetune\norg/right,org/base,adapter\n"
                            "org/merged,org/left,merge\norg/merged,org/right,merge\norg/other,org/base,finetune\n")
    code, out, _ = run("why", "org/merged", "org/base", "-s", str(snap))
    assert code == 0
    assert out.splitlines()[0] == "Why org/merged derives from org/base: 2 paths, the shortest 2 hops"
    tree = [line for line in out.splitlines()[1:] if "evidence:" not in line]
    assert tree == [
        "org/merged",
        "├── org/left  base of ↑ (merge), parent confidence high",
        "│   └── org/base  base of ↑ (finetune), parent confidence high",
        "└── org/right  base of ↑ (merge), parent confidence high",
        "    └── org/base  base of ↑ (adapter), parent confidence high",
    ]
    assert "org/other" not in out  # a descendant of the ancestor that is no ancestor of the model
    code, out, _ = run("why", "org/merged", "org/base", "-s", str(snap), "--max-paths", "1", "-f", "csv")
    rows = out.splitlines()
    assert code == 0 and rows[0].startswith("path,hop,child,base,relation")
    assert [r.split(",")[:4] for r in rows[1:]] == [["1", "1", "org/merged", "org/left"],
                                                     ["1", "2", "org/left", "org/base"]]
    code, out, _ = run("why", "org/merged", "org/base", "-s", str(snap), "--max-paths", "1")
    assert "1 path" in out.splitlines()[0] and "--max-paths" in out.splitlines()[0]


def test_no_path_says_so_in_one_line_and_exits_1(tmp_path: Path) -> None:
    snap = ingest(tmp_path, "org/a,org/base,finetune\norg/b,org/base,finetune\n")
    code, out, _ = run("why", "org/a", "org/b", "-s", str(snap))
    assert code == 1
    assert out.strip().splitlines() == ["org/a does not derive from org/b: no path in this snapshot"]
    code, out, _ = run("why", "org/base", "org/a", "-s", str(snap), "-f", "json")  # the wrong way round
    assert code == 1 and json.loads(out)["paths"] == 0
    code, _, err = run("why", "org/a", "org/nowhere", "-s", str(snap))
    assert code == 2 and "org/nowhere" in err


def test_the_paths_are_the_same_on_the_index_and_on_networkx(tmp_path: Path) -> None:
    from ptmgraph.graph import load_graph
    from ptmgraph.traverse import paths_between

    lg = load_graph(ingest(tmp_path, "b,a,finetune\nc,a,finetune\nd,b,merge\nd,c,merge\ne,d,finetune\ne,a,adapter\n"))
    expected = [["a", "e"], ["a", "b", "d", "e"], ["a", "c", "d", "e"]]  # by hand: parents in id order, from e
    assert paths_between(lg.compact, "e", "a", 10) == (expected, False)
    assert paths_between(lg.graph, "e", "a", 10) == (expected, False)
    assert paths_between(lg.compact, "e", "a", 2) == (expected[:2], True)
    assert paths_between(lg.graph, "a", "e", 10) == ([], False)
