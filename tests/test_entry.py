"""The ``ptmgraph`` program's start: a plain ``ancestry`` or ``impact`` runs without typer, as typer runs it.

The oracle is typer itself: the same command line given to ``ptmgraph.cli.app`` must reach the same
command body with the same values, and print the same bytes with the same exit code.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from ptmgraph import cli, cli_commands, cli_output, entry
from ptmgraph.formats.tree import DEFAULT_TREE_COLUMNS

LLAMA_CHAT = "meta-llama/Llama-2-7b-chat-hf"
DEPTH3 = "AmberYifan/Gemma-7B-sft-SPIN-Gemma-2-27B"


def _normal(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """print_lineage's arguments, with 'nothing given' spelled one way (typer gives () or None)."""
    direction, model, from_file, snapshot, confidence, relation, *rest = args
    return (direction, list(model or []), from_file, snapshot, confidence, list(relation or []), *rest,
            kwargs.get("max_paths", 200), kwargs.get("look"))


def through_typer(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[Any, ...]:
    seen: list[tuple[Any, ...]] = []
    monkeypatch.setattr(cli_commands, "print_lineage", lambda *a, **k: seen.append(_normal(a, k)))
    done = CliRunner().invoke(cli.app, argv, catch_exceptions=False)
    assert done.exit_code == 0 and len(seen) == 1, done.output
    return (*seen[0], cli_output.screen.color, cli_output.screen.pager)


def through_entry(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[Any, ...]:
    call = entry.lineage_call(argv, environ={})
    assert call is not None, argv
    seen: list[tuple[Any, ...]] = []
    monkeypatch.setattr(cli_commands, "print_lineage", lambda *a, **k: seen.append(_normal(a, k)))
    entry.run_lineage(call)
    assert len(seen) == 1
    return (*seen[0], cli_output.screen.color, cli_output.screen.pager)


PLAIN = [
    ["impact", LLAMA_CHAT],
    ["impact", LLAMA_CHAT, "--format", "json"],
    ["impact", "-f", "csv", LLAMA_CHAT, "--csv-raw", "--limit", "0"],
    ["impact", LLAMA_CHAT, "google/gemma-7b", "--depth", "2", "-r", "quantized", "--relation=adapter"],
    ["impact", LLAMA_CHAT, "--max-depth=3", "--min-confidence", "high", "--flat", "--limit=7", "--limit", "9"],
    ["impact", "--snapshot", "ptmgraph/data/hub-sample", LLAMA_CHAT, "--columns", "likes,relation"],
    ["impact", "--", "-dash/model", LLAMA_CHAT],
    ["--color", "never", "--no-pager", "ancestry", DEPTH3],
    ["--color=always", "ancestry", DEPTH3, "--max-paths", "3", "-s", "no/such/dir", "--columns="],
    ["ancestry", "--from-file", "models.txt", "--format=table", "--flat", "--flat"],
    ["ancestry"],
    ["impact", LLAMA_CHAT, "--offline", "--max-age", "12h", "--max-models=20"],
    ["ancestry", DEPTH3, "--max-age=0", "--offline"],
]


@pytest.mark.parametrize("argv", PLAIN, ids=[" ".join(a) for a in PLAIN])
def test_a_plain_command_line_reaches_the_command_with_typer_s_values(
    argv: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert through_entry(argv, monkeypatch) == through_typer(argv, monkeypatch)


NOT_PLAIN = [
    [], ["--help"], ["--version"], ["-h"], ["stats"], ["info", LLAMA_CHAT], ["impact", "-h"],
    ["impact", LLAMA_CHAT, "--help"], ["impact", LLAMA_CHAT, "--limit", "-1"], ["impact", LLAMA_CHAT, "--limit", "007"],
    ["impact", LLAMA_CHAT, "--limit", "ten"], ["impact", LLAMA_CHAT, "--depth", "0"], ["impact", LLAMA_CHAT, "-fjson"],
    ["impact", LLAMA_CHAT, "-f=json"], ["impact", LLAMA_CHAT, "--format", "JSON"], ["impact", LLAMA_CHAT, "--flat=1"],
    ["impact", LLAMA_CHAT, "--max-paths", "3"], ["impact", LLAMA_CHAT, "--limit"],
    ["ancestry", DEPTH3, "--max-models", "3"], ["impact", LLAMA_CHAT, "--max-models", "0"],
    ["impact", LLAMA_CHAT, "-r", "bogus"],
    ["impact", LLAMA_CHAT, "--snapshot="], ["impact", "-", LLAMA_CHAT], ["impact", LLAMA_CHAT, "--no-pager"],
    ["--color", "blue", "impact", LLAMA_CHAT], ["--install-completion"], ["impact", LLAMA_CHAT, "--unknown"],
]


@pytest.mark.parametrize("argv", NOT_PLAIN, ids=[" ".join(a) or "nothing" for a in NOT_PLAIN])
def test_every_other_command_line_is_typer_s(argv: list[str]) -> None:
    assert entry.lineage_call(argv, environ={}) is None


def test_shell_completion_is_typer_s() -> None:
    assert entry.lineage_call(["impact", LLAMA_CHAT], environ={"_PTMGRAPH_COMPLETE": "complete_bash"}) is None


def test_the_options_read_without_typer_are_the_commands_options() -> None:
    group = typer.main.get_command(cli.app)
    for command in ("ancestry", "impact"):
        params = group.get_command(None, command).params  # type: ignore[attr-defined]
        declared = {name for p in params for name in p.opts if name.startswith("-")} - {"-h", "--help"}
        assert set(entry._options(command)) == declared, command
        assert "--max-paths" in declared if command == "ancestry" else "--max-paths" not in declared
    assert cli_output.DEFAULT_TREE_COLUMNS == DEFAULT_TREE_COLUMNS


TYPER = "import sys; from ptmgraph.cli import app; app(sys.argv[1:], prog_name='ptmgraph')"


def both_ways(argv: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess[str], subprocess.CompletedProcess[str]]:
    env = {"COLUMNS": "100", "NO_COLOR": "", "PYTHONPATH": str(Path(cli.__file__).parents[1]),
           "PTMGRAPH_CACHE": str(cwd / "cache"), "HF_HUB_OFFLINE": "1"}
    quick = subprocess.run([sys.executable, "-m", "ptmgraph", *argv], capture_output=True, text=True, cwd=cwd,
                           env=env, timeout=120)
    slow = subprocess.run([sys.executable, "-c", TYPER, *argv], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=120)
    return quick, slow


@pytest.mark.parametrize(
    "argv",
    [
        ["impact", LLAMA_CHAT, "-f", "json", "--depth", "1"],
        ["--color", "never", "ancestry", DEPTH3],
        ["impact", LLAMA_CHAT, "--flat", "--limit", "5", "-r", "adapter"],
        ["ancestry", DEPTH3, "LLAMA-chat", "-f", "csv"],
        ["impact", "no-such/model"],
        ["ancestry", "no-such/model", "--max-age", "soon"],
        ["impact", LLAMA_CHAT, "--snapshot", "no/such/dir"],
        ["impact", LLAMA_CHAT, "--columns", "colour"],
        ["impact", "--from-file", "models.txt", "-f", "json"],
        ["impact", "google/gemma-7b", "--min-confidence", "high", "-r", "adapter", "-f", "json"],
        ["ancestry", DEPTH3, "-f", "csv", "--provenance", "--depth", "2"],
        ["impact", "google/gemma-7b", "--min-confidence", "high", "--limit", "3"],
    ],
)
def test_a_query_prints_the_same_bytes_and_exit_code_either_way(argv: list[str], tmp_path: Path) -> None:
    (tmp_path / "models.txt").write_text(f"# ours\n{LLAMA_CHAT}@main\n\ngoogle/gemma-7b\n")
    quick, slow = both_ways(argv, tmp_path)
    assert (quick.returncode, quick.stdout, quick.stderr) == (slow.returncode, slow.stdout, slow.stderr)
    if "json" in argv:
        assert json.loads(quick.stdout)


def imported(argv: list[str]) -> tuple[set[str], str]:
    """The modules a cold ``ptmgraph`` run imports (as ``-X importtime`` lists them), and what it printed."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "ptmgraph", *argv],
                          capture_output=True, text=True, check=True, timeout=120)
    return {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if "|" in line}, done.stdout


def test_a_json_query_loads_neither_typer_nor_rich_nor_networkx_nor_numpy() -> None:
    loaded, printed = imported(["impact", LLAMA_CHAT, "-f", "json"])
    unwanted = {"typer", "pydantic", "rich", "networkx", "numpy", "ptmgraph.analyses.check", "ptmgraph.sources"}
    assert not loaded & unwanted
    assert json.loads(printed)["model"] == LLAMA_CHAT


@pytest.mark.parametrize("command", ["impact", "ancestry"])
def test_a_tree_of_the_bundled_snapshot_into_a_pipe_loads_neither_numpy_nor_rich_console(command: str) -> None:
    loaded, printed = imported([command, DEPTH3 if command == "ancestry" else LLAMA_CHAT, "--columns",
                                "relation,downloads,confidence"])
    assert not loaded & {"numpy", "rich.console", "typer", "networkx"}
    assert printed.startswith(f"{'Ancestry' if command == 'ancestry' else 'Impact'} of ")
    assert "columns: relation, downloads, confidence" in printed


def test_importing_the_analyses_imports_none_and_each_analysis_is_imported_from_its_module() -> None:
    code = (
        "import sys, ptmgraph.analyses\n"
        "print(sorted(m for m in sys.modules if m.startswith('ptmgraph.analyses.')))\n"
        "from ptmgraph.analyses.risk import DATA_RISKS, risk\n"
        "import ptmgraph.analyses.risk as module\n"
        "print(risk.__module__, module.__name__, DATA_RISKS)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    lines = done.stdout.splitlines()
    assert lines[0] == "[]"
    assert lines[1] == ("ptmgraph.analyses.risk ptmgraph.analyses.risk "
                        "('pickle_only', 'no_license', 'license_conflict', 'unsafe_files')")
