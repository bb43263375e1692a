"""No command builds the networkx graph, and a format's libraries load only when that format is used.

A cold ``ptmgraph`` run lists what it imports (``python -X importtime``, as in tests/test_entry.py): a
command that never imports networkx cannot have built ``LineageGraph.graph``, which only the Python API
builds, on first use.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

LLAMA_CHAT = "meta-llama/Llama-2-7b-chat-hf"
DEPTH3 = "AmberYifan/Gemma-7B-sft-SPIN-Gemma-2-27B"


def imported(argv: list[str], cwd: Path) -> tuple[set[str], int]:
    """The modules a cold ``ptmgraph`` run imports, and its exit code."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "ptmgraph", *argv], cwd=cwd,
                          capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode in (0, 1), done.stderr[-2000:]  # risk and check exit 1 when they find something
    return {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if "|" in line}, done.returncode


WHOLE_GRAPH_COMMANDS = [
    ["audit"], ["stats"], ["reach"], ["licenses"], ["stale"], ["risk", "--data-risks"], ["check", LLAMA_CHAT],
    ["why", DEPTH3, "google/gemma-7b"],
]


@pytest.mark.parametrize("command", WHOLE_GRAPH_COMMANDS, ids=" ".join)
def test_an_analysis_command_never_imports_networkx(tmp_path: Path, command: list[str]) -> None:
    loaded, _ = imported([*command, "--format", "json"], tmp_path)
    assert "ptmgraph.analyses" in loaded  # the command ran its analysis
    assert "networkx" not in loaded


def test_the_report_never_imports_networkx(tmp_path: Path) -> None:
    loaded, code = imported(["report", "--out", str(tmp_path / "report")], tmp_path)
    assert code == 0 and (tmp_path / "report" / "report.md").is_file()
    assert "networkx" not in loaded


@pytest.mark.parametrize("picture", ["impact.svg", "impact.mmd"])
def test_exporting_a_picture_loads_neither_networkx_nor_cyclonedx(tmp_path: Path, picture: str) -> None:
    loaded, code = imported(["export", LLAMA_CHAT, "--impact", "--out", str(tmp_path / picture)], tmp_path)
    assert code == 0 and (tmp_path / picture).stat().st_size > 0
    assert not loaded & {"networkx", "cyclonedx", "ptmgraph.formats.cyclonedx", "ptmgraph.formats.graphml"}


def test_exporting_an_ml_bom_loads_the_cyclonedx_library(tmp_path: Path) -> None:
    loaded, code = imported(["export", LLAMA_CHAT, "--ancestry", "--out", str(tmp_path / "bom.cdx.json")], tmp_path)
    assert code == 0 and (tmp_path / "bom.cdx.json").stat().st_size > 0
    assert "cyclonedx" in loaded  # the format still finds its library when it is used


@pytest.mark.parametrize("data_file", ["impact.graphml", "impact.gexf", "impact.json"])
def test_exporting_a_data_file_loads_no_networkx(tmp_path: Path, data_file: str) -> None:
    loaded, code = imported(["export", LLAMA_CHAT, "--impact", "--out", str(tmp_path / data_file)], tmp_path)
    assert code == 0 and (tmp_path / data_file).stat().st_size > 0
    assert "networkx" not in loaded
