"""Output never becomes the attacker's tool: CSV cells cannot start formulas (unless --csv-raw), terminal
output shows control characters escaped, and a failed write to stdout never exits 0."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from ptmgraph.cli import app
from ptmgraph.formats.console import printable
from ptmgraph.formats.csv_table import result_to_csv
from ptmgraph.result import AnalysisResult

# Leading tabs and CRs do not survive the edge list's cell trimming; the unit test below covers them.
HOSTILE_BASES = ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\x1b[2Jcleared"]


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def hostile_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A snapshot whose dangling references hold formula starts and an ESC sequence, from an edge list."""
    folder = tmp_path_factory.mktemp("hostile")
    rows = [{"child": "org/victim", "base": base} for base in HOSTILE_BASES] + [{"child": "org/ok", "base": "org/base"}]
    edges = folder / "lineage.parquet"
    pl.DataFrame(rows).write_parquet(edges)
    code, output = run("ingest", str(edges), "--out", str(folder / "snap"))
    assert code == 0, output
    return folder / "snap"


def test_csv_cells_that_start_a_formula_get_a_leading_quote(hostile_snapshot: Path) -> None:
    code, output = run("dangling", "--snapshot", str(hostile_snapshot), "-f", "csv")
    assert code == 0, output
    raws = [row["raw"] for row in csv.DictReader(io.StringIO(output))]
    assert sorted(raws) == sorted("'" + b if b[0] in "=+-@\t\r" else b for b in HOSTILE_BASES)
    assert not any(cell[:1] in ("=", "+", "-", "@", "\t", "\r") for row in csv.reader(io.StringIO(output))
                   for cell in row)


def test_csv_raw_keeps_cells_as_they_are(hostile_snapshot: Path) -> None:
    code, output = run("dangling", "--snapshot", str(hostile_snapshot), "-f", "csv", "--csv-raw")
    assert code == 0, output
    assert sorted(row["raw"] for row in csv.DictReader(io.StringIO(output))) == sorted(HOSTILE_BASES)


def test_numbers_are_not_text_and_are_never_quoted() -> None:
    rows = pl.DataFrame(
        {"id": ["-a/x", "b/y", "\tc", "\rd"], "delta": [-5, 3, 0, 1], "tags": [["=x", "y"], ["z"], [], []]}
    )
    text = result_to_csv(AnalysisResult("t", rows))
    assert list(csv.reader(io.StringIO(text))) == [
        ["id", "delta", "tags"], ["'-a/x", "-5", "'=x;y"], ["b/y", "3", "z"], ["'\tc", "0", ""], ["'\rd", "1", ""]
    ]


def test_the_terminal_never_receives_a_raw_escape_character(hostile_snapshot: Path) -> None:
    code, output = run("dangling", "--snapshot", str(hostile_snapshot), "--limit", "0")
    assert code == 0, output
    assert "\x1b" not in output and "\r" not in output
    assert "\\x1b[2Jcleared" in output
    code, output = run("info", "\x1b]0;pwned\x07", "--snapshot", str(hostile_snapshot))
    assert code == 2 and "\x1b" not in output and "\x07" not in output and "\\x1b]0;pwned\\x07" in output


def test_printable_escapes_controls_and_bidi_overrides() -> None:
    assert printable("a\x1b[31mb\x00c\x7fd\u202ee\u2066f") == "a\\x1b[31mb\\x00c\\x7fd\\u202ee\\u2066f"
    assert printable("line one\nline two", keep_newlines=True) == "line one\nline two"
    assert printable("ünïcode/名前") == "ünïcode/名前"


def _cli(*args: str, stdout: int | io.BufferedWriter) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "ptmgraph", *args], stdout=stdout, stderr=subprocess.PIPE)


@pytest.mark.parametrize("fmt", ["json", "csv", "table"])
def test_a_full_disk_on_stdout_exits_1_with_a_message(fmt: str) -> None:
    with open("/dev/full", "wb") as full:
        child = _cli("impact", "meta-llama/Llama-2-7b-chat-hf", "-f", fmt, "--limit", "0", stdout=full)
        _, stderr = child.communicate(timeout=120)
    assert child.returncode == 1, stderr
    assert b"cannot write the output to standard output (No space left on device)" in stderr
    assert b"Traceback" not in stderr and b"internal error" not in stderr


def test_a_closed_pipe_exits_141_without_a_traceback() -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first byte: every write fails with EPIPE
    with os.fdopen(write_end, "wb") as pipe:
        child = _cli("impact", "meta-llama/Llama-2-7b-chat-hf", "-f", "json", stdout=pipe)
        _, stderr = child.communicate(timeout=120)
    assert child.returncode == 141, stderr
    assert b"Traceback" not in stderr and b"Exception ignored" not in stderr


def test_a_file_the_system_refuses_exits_1_not_70(monkeypatch: pytest.MonkeyPatch) -> None:
    import ptmgraph.cli_output

    def refused(*_: object, **__: object) -> None:
        raise PermissionError(13, "Permission denied", "some/models.parquet")

    monkeypatch.setattr(ptmgraph.cli_output, "load", refused)  # what every command loads the graph with
    code, output = run("stats")
    assert code == 1 and "some/models.parquet: Permission denied" in output and "internal error" not in output
