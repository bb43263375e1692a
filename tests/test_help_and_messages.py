"""Help that names what to give, numbers that agree with their nouns, folders made under the user's umask."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ptmgraph.cli import app
from ptmgraph.words import plural

runner = CliRunner()
COMMANDS = ["ancestry", "impact", "info", "why", "search", "list", "stats", "dangling", "problems", "audit-relations",
            "licenses", "audit", "reach", "stale", "risk", "check", "report", "export", "explore", "ingest", "crawl",
            "cache"]


@pytest.mark.parametrize("command", COMMANDS)
def test_help_names_what_to_give_never_a_python_type(command: str) -> None:
    text = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"}).stdout
    assert text.startswith(f"Usage: ptmgraph {command} ")
    for word in ("list[", "TEXT", "PATH", "{", "}", "INTEGER", "FLOAT"):
        assert word not in text, (command, word)


def test_the_usual_names_are_shown() -> None:
    def usage(*argv: str) -> str:
        return runner.invoke(app, [*argv, "--help"], env={"COLUMNS": "200"}).stdout

    assert usage("ingest").splitlines()[0] == "Usage: ptmgraph ingest [OPTIONS] SOURCE..."
    assert "-o, --out DIR" in usage("ingest") and "-o, --out DIR" in usage("report")
    assert "-o, --out FILE" in usage("export") and "-o, --out FILE" in usage("explore")
    assert "-c, --compromised MODEL" in usage("risk") and "-c, --compromised MODEL" in usage("check")
    assert "--seed MODEL" in usage("crawl") and "--endpoint URL" in usage("crawl")
    assert usage("why").splitlines()[0] == "Usage: ptmgraph why [OPTIONS] MODEL ANCESTOR"
    assert usage("search").splitlines()[0] == "Usage: ptmgraph search [OPTIONS] QUERY"


def test_one_is_singular_and_every_other_count_plural() -> None:
    assert [plural(n, "model") for n in (0, 1, 2, 1234)] == ["0 models", "1 model", "2 models", "1,234 models"]
    assert plural(1, "try", "tries") == "1 try" and plural(3, "try", "tries") == "3 tries"


def test_ingest_says_1_model_and_1_edge(tmp_path: Path) -> None:
    edges = tmp_path / "lineage.csv"
    edges.write_text("child,base,relation\norg/child,org/base,finetune\n")
    result = runner.invoke(app, ["ingest", str(edges), "--out", str(tmp_path / "snap")])
    said = " ".join(result.stderr.split())  # the message wraps at the terminal's width
    assert result.exit_code == 0 and said.endswith(": 2 models, 1 edge, 0 dangling references, 0 problems")


@pytest.mark.parametrize("mask", [0o022, 0o027])
def test_folders_the_tool_creates_follow_the_umask(tmp_path: Path, mask: int) -> None:
    records = tmp_path / "models.jsonl"
    records.write_text(json.dumps({"id": "o/base", "downloads": 1, "tags": []}) + "\n"
                       + json.dumps({"id": "o/ft", "downloads": 1, "tags": ["base_model:finetune:o/base"]}) + "\n")
    snap, report = tmp_path / "snap", tmp_path / "out" / "report"

    def run(*argv: str) -> None:
        subprocess.run([sys.executable, "-m", "ptmgraph", *argv], check=True, capture_output=True,
                       preexec_fn=lambda: os.umask(mask))

    run("ingest", str(records), "--out", str(snap))
    run("report", "-s", str(snap), "--out", str(report))
    folders = [snap, *[p for p in snap.iterdir() if p.is_dir()], report, report / "figures"]
    files = [snap / "CURRENT", report / "report.md"]
    assert {oct(stat.S_IMODE(p.stat().st_mode)) for p in folders} == {oct(0o777 & ~mask)}
    assert {oct(stat.S_IMODE(p.stat().st_mode)) for p in files} == {oct(0o666 & ~mask)}
