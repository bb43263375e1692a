"""The README's examples work as written, from a clone: every path they name is in the repository, and
what they write goes to ``outputs/`` (here redirected to a temporary folder)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from itertools import pairwise
from pathlib import Path

import pytest
from hub_server import HubData, HubServer, point_hf_at
from typer.testing import CliRunner

from ptmgraph.cli import app

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def block_after(lead: str) -> str:
    """The code block that follows the line ``lead``."""
    match = re.search(rf"^{re.escape(lead)}\n\n```\n(.*?)```", README, flags=re.S | re.M)
    assert match, lead
    return match.group(1)


def examples(block: str) -> list[tuple[list[str], int]]:
    """Each command line of a block and the exit code its comment states ("exit 1"), else 0."""
    found = []
    for line in block.strip().splitlines():
        command, _, comment = line.partition("#")
        found.append((shlex.split(command), 1 if re.search(r"\bexit 1\b", comment) else 0))
    return found


def run_examples(block: str, tmp_path: Path) -> int:
    """Run every command of ``block`` from the repository's root, ``outputs/`` moved to ``tmp_path``."""
    runner = CliRunner()
    ran = 0
    for argv, code in examples(block):
        assert argv[0] == "ptmgraph", argv
        into = argv[argv.index(">") + 1] if ">" in argv else ""  # a redirection of standard output
        argv = argv[: argv.index(">")] if into else argv
        outs = [b for a, b in pairwise(argv) if a in ("--out", "--write-baseline")] + ([into] if into else [])
        assert all(out.startswith("outputs/") for out in outs), argv  # never an untracked file in the tree
        argv = [str(tmp_path / a) if a.startswith("outputs/") else a for a in argv]
        for arg in argv:
            if arg.startswith("examples/"):
                assert (REPO / arg).exists(), arg
        result = runner.invoke(app, argv[1:])
        assert result.exit_code == code, (argv, result.stderr)
        if into:
            (tmp_path / into).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / into).write_text(result.stdout)
        # An example a user copies shows something: a table row or tree line, or the file it wrote.
        shown = [line for line in result.stdout.splitlines()[1:] if line.strip()] or result.stderr.strip()
        assert shown, argv
        ran += 1
    return ran


def test_the_readme_starts_with_the_two_commands_of_a_fresh_machine() -> None:
    first = blocks("")[0].strip().splitlines()
    assert [line.split("#")[0].strip() for line in first] == ["bash scripts/run main", "bash scripts/run test"]
    assert README.startswith("```\nbash scripts/run main")


def test_the_python_example_runs_and_finds_the_adapters() -> None:
    namespace: dict[str, object] = {}
    exec(blocks("python")[0], namespace)  # the README's own code, nothing downloaded
    blast = namespace["blast"]
    assert blast.rows.height > 1000 and set(blast.rows["relation"]) == {"adapter"}  # type: ignore[attr-defined]


def test_the_query_commands_of_the_usage_section_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    usage = blocks("")[1]
    assert run_examples(usage, tmp_path) == len(usage.strip().splitlines()) == 16


def test_the_ecosystem_commands_run_with_the_exit_codes_they_state(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    block = block_after("Ecosystem analyses and the CI gate:")
    assert [code for _, code in examples(block)] == [0, 0, 0, 0, 1, 1, 1, 1, 0, 1, 1, 1, 0, 0, 1, 0, 0, 0]
    assert run_examples(block, tmp_path) == 18


def test_the_snapshot_building_commands_run_on_the_examples_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hub_sample: Path
) -> None:
    """The ingest examples read examples/; the crawl examples, written for the live Hub, run against the
    tests' Hub-shaped server (the Hub is out of reach here) serving the test copy of the Hub sample."""
    monkeypatch.chdir(REPO)
    block = block_after("Building snapshots:")
    with HubServer(HubData.from_directory(hub_sample)) as server:
        point_hf_at(monkeypatch, tmp_path, server.url)
        assert run_examples(block, tmp_path / "out") == 10


def test_the_look_up_examples_fetch_once_then_answer_from_the_cache(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The look-up examples, written for the live Hub, run against the Hub-shaped server serving records
    written here (the bases the Hub lists for these models); the first fetches, the others make no request
    but the one `impact` of a model the bundled snapshot knows only from references."""
    monkeypatch.chdir(REPO)
    block = block_after("Looking up models the snapshot does not hold (the tests run these against the Hub-shaped "
                        "test server):")

    def record(model: str, base: str | None = None, relation: str = "finetune") -> dict[str, object]:
        tags = [f"base_model:{base}", f"base_model:{relation}:{base}"] if base else []
        return {"id": model, "author": model.split("/")[0], "tags": tags,
                "cardData": {"base_model": base} if base else {}, "siblings": []}

    served = [record("Qwen/Qwen2.5-7B"), record("Qwen/Qwen2.5-7B-Instruct", "Qwen/Qwen2.5-7B"),
              record("mistralai/Mistral-7B-v0.1"),
              record("mistralai/Mistral-7B-Instruct-v0.1", "mistralai/Mistral-7B-v0.1"),
              record("TheBloke/Mistral-7B-v0.1-GGUF", "mistralai/Mistral-7B-v0.1", "quantized")]
    with HubServer(HubData(records={r["id"]: r for r in served})) as server:  # type: ignore[misc]
        point_hf_at(monkeypatch, tmp_path, server.url)
        assert run_examples(block, tmp_path / "out") == 7
        asked = [e.path.split("?")[0] for e in server.requests()]
    assert asked.count("/api/models/Qwen/Qwen2.5-7B-Instruct") == 1  # fetched once, then from the cache
    assert "/api/models/mistralai/Mistral-7B-v0.1" in asked


def test_the_tree_examples_are_what_an_80_column_terminal_shows() -> None:
    runner = CliRunner()
    (shown,) = blocks("text")
    for session in shown.strip().split("\n\n"):
        command, *expected = session.splitlines()
        argv = shlex.split(command.removeprefix("$ "))
        result = runner.invoke(app, argv[1:], env={"COLUMNS": "80", "NO_COLOR": "1"})
        assert result.exit_code == 0
        assert [line.rstrip() for line in result.stdout.splitlines()] == expected


def test_the_local_example_builds_its_input_and_shows_a_local_path_and_a_broken_card(tmp_path: Path) -> None:
    (script,) = blocks("bash")
    venv_bin = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{venv_bin}{os.pathsep}{os.environ['PATH']}", "COLUMNS": "100", "NO_COLOR": "1"}
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, env=env, capture_output=True,
                          text=True, check=True)
    assert "local_path" in done.stdout and "/content/outputs/checkpoint-500" in done.stdout
    assert "problems: 1" in done.stdout and "not valid YAML" in done.stdout
    assert [p.name for p in tmp_path.iterdir()] == ["outputs"], "the demo writes into outputs/ only"


def test_the_update_example_runs_offline_against_the_bundled_sample(tmp_path: Path) -> None:
    """The over-time example: a crawl of the sample Hub as it was, an update after it changed, then a diff;
    ``scripts/serve_sample_hub.py`` serves each state on 127.0.0.1 for one command and stops."""
    (script,) = blocks("sh")
    (tmp_path / "scripts").symlink_to(REPO / "scripts")
    venv_bin = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{venv_bin}{os.pathsep}{os.environ['PATH']}", "COLUMNS": "100", "NO_COLOR": "1"}
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, env=env, capture_output=True,
                          text=True, check=True, timeout=600)
    (said,) = re.findall(r"\(`(update: [^`]*)`\)", README.replace("\n", " "))
    assert said in done.stderr
    assert "exit 1: a watched model changed" in done.stdout
    changes = (tmp_path / "outputs" / "r1-changes.md").read_text()
    assert r"| descendant\_added |" in changes and "| license\\_changed | perplexity-ai/r1-1776 |" in changes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["outputs", "scripts"], "the example writes into outputs/"
    assert sorted(p.name for p in (tmp_path / "outputs").iterdir()) == ["r1", "r1-changes.md", "r1-later"]
