"""Output grows linearly with its rows, however deep the walk (README "Reliability", the output rule).

A chain c/m0 -> c/m1 -> ... -> c/m{N-1} (the first hop an adapter, every other a finetune), written as
an edge list and ingested. Rows carry ``depth`` and ``via``; ``relation_path`` comes only with
``--paths`` (and in printed tables), capped at 32 hops with a marker naming the hops left out."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ptmgraph.cli import app

LENGTH = 20_000
CAP = 32  # hops written: 16 from each end


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("chain")
    lines = ["child,base,relation", "c/m1,c/m0,adapter"]
    lines += [f"c/m{i},c/m{i - 1},finetune" for i in range(2, LENGTH)]
    (folder / "chain.csv").write_text("\n".join(lines) + "\n")
    done = CliRunner().invoke(app, ["ingest", str(folder / "chain.csv"), "--out", str(folder / "snap")])
    assert done.exit_code == 0, done.output
    return folder / "snap"


def query(chain: Path, *args: str) -> str:
    done = CliRunner().invoke(app, [*args, "--snapshot", str(chain)], env={"COLUMNS": "1000"})
    assert done.exit_code == 0, done.output
    return done.stdout


def expected_path(depth: int) -> str:
    """The relation_path of the model ``depth`` hops below c/m0, written by hand from the rule."""
    hops = ["adapter", *["finetune"] * (depth - 1)]
    if depth <= CAP:
        return ">".join(hops)
    return ">".join([*hops[:16], f"…({depth - CAP} more)…", *hops[-16:]])


@pytest.mark.parametrize("command", [["impact", "c/m0"], ["ancestry", f"c/m{LENGTH - 1}"]])
def test_json_rows_carry_depth_and_via_and_stay_small(chain: Path, command: list[str]) -> None:
    text = query(chain, *command, "-f", "json")
    rows = json.loads(text)["rows"]
    assert len(rows) == LENGTH - 1
    assert "relation_path" not in rows[0]
    deepest = max(rows, key=lambda r: r["depth"])
    assert deepest["depth"] == LENGTH - 1
    assert deepest["via"] == ("c/m19998" if command[0] == "impact" else "c/m1")
    # One row is some 150 bytes; the ancestry's one path to its root lists every id once more.
    assert len(text) / len(rows) < 300, len(text) / len(rows)


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_paths_are_capped_with_a_marker(chain: Path, fmt: str) -> None:
    text = query(chain, "impact", "c/m0", "-f", fmt, "--paths")
    rows = json.loads(text)["rows"] if fmt == "json" else list(csv.DictReader(io.StringIO(text)))
    by_id = {r["id"]: r["relation_path"] for r in rows}
    for depth in (1, 2, CAP, CAP + 1, 1000, LENGTH - 1):
        assert by_id[f"c/m{depth}"] == expected_path(depth)
    assert len(text) / len(rows) < 600, len(text) / len(rows)


def test_an_ancestry_path_is_written_base_first_and_capped(chain: Path) -> None:
    rows = json.loads(query(chain, "ancestry", f"c/m{LENGTH - 1}", "-f", "json", "--paths"))["rows"]
    by_id = {r["id"]: r["relation_path"] for r in rows}
    # c/m0 is LENGTH - 1 hops above: its path starts with its own hop, the adapter
    assert by_id["c/m0"] == expected_path(LENGTH - 1)
    assert by_id[f"c/m{LENGTH - 2}"] == "finetune"


def test_a_printed_flat_table_shows_the_capped_path(chain: Path) -> None:
    text = query(chain, "impact", "c/m0", "--flat", "--limit", "0")
    assert f"…({LENGTH - 1 - CAP} more)…" in text
    assert len(text.splitlines()) < 3 * LENGTH  # a row is one line, or a few at this width
