"""A bad record costs only that record: it becomes a problem row and every other record is kept.

Inputs are the test copy of the Hub sample (tests/data/hub-sample) with one thing broken by hand; the
expected counts come from the raw files.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from raw_sample import hub_sample_dir
from typer.testing import CliRunner

from ptmgraph import snapshot
from ptmgraph.cli import app
from ptmgraph.records import Problem
from ptmgraph.sources import HubRecordsSource, LocalReposSource


def sample_lines(name: str) -> list[bytes]:
    return (hub_sample_dir() / name).read_bytes().splitlines(keepends=True)


def ingest(tmp_path: Path, *inputs: Path) -> tuple[snapshot.Snapshot, str]:
    out = tmp_path / "snap"
    result = CliRunner().invoke(app, ["ingest", *map(str, inputs), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return snapshot.load(out), result.output


def test_one_invalid_utf8_byte_in_models_jsonl_costs_one_record(tmp_path: Path) -> None:
    lines = sample_lines("models.jsonl")
    broken_at = 700
    assert lines[broken_at - 1].startswith(b'{"')
    lines[broken_at - 1] = b'{"\xff' + lines[broken_at - 1][2:]  # the third byte of the line
    models = tmp_path / "models.jsonl"
    models.write_bytes(b"".join(lines))
    snap, _ = ingest(tmp_path, models)
    assert snap.models.filter(pl.col("has_record")).height == len(lines) - 1  # 1,613 of 1,614
    problems = snap.problems.select("source", "message").rows()
    assert problems == [(f"models.jsonl:{broken_at}", "not UTF-8 text (byte 3)")]


def test_hostile_rows_cost_only_themselves(tmp_path: Path) -> None:
    lines = sample_lines("readmes.jsonl")[:40]
    ids = [json.loads(line)["id"] for line in lines]
    bomb = "---\nbase_model: org/base\n" + "a0: &a0 [x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]\n" for i in range(1, 10)
    ) + "---\n"
    hostile = [
        {"id": "evil/bomb", "readme": bomb},
        {"id": "evil/digits", "readme": "---\nbase_model: org/base\nlikes: " + "7" * 5000 + "\n---\n"},
        {"id": "evil/deep", "readme": "---\nbase_model: " + "[" * 100_000 + "\n---\n"},
    ]
    deep_line = b'{"id": "evil/deep-json", "readme": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n"
    readmes = tmp_path / "readmes.jsonl"
    readmes.write_bytes(b"".join(lines) + b"".join(json.dumps(h).encode() + b"\n" for h in hostile) + deep_line)
    start = time.monotonic()
    snap, _ = ingest(tmp_path, readmes)
    assert time.monotonic() - start < 60  # unbounded, the bomb alone took 2 minutes and 6.8 GB
    problems = {(row["model"], row["source"]): row["message"] for row in snap.problems.to_dicts()}
    n = len(lines)
    assert "expands to more than 1,000,000 values" in problems[("evil/bomb", f"readmes.jsonl:{n + 1}")]
    assert "5,000 digits" in problems[("evil/digits", f"readmes.jsonl:{n + 2}")]
    assert "nested deeper than the 100-level limit" in problems[("evil/deep", f"readmes.jsonl:{n + 3}")]
    assert problems[(None, f"readmes.jsonl:{n + 4}")] == "nested deeper than the 100-level limit"
    assert set(ids) <= set(snap.models["id"].to_list())  # every good card is still there
    assert snap.evidence.filter(pl.col("child").str.starts_with("evil/")).height == 0
    assert snap.models["id"].str.len_bytes().max() < 200 and snap.evidence["raw"].str.len_bytes().max() < 1000


def test_a_5000_digit_integer_in_config_json_costs_only_that_file(tmp_path: Path) -> None:
    for name, config in (("good", '{"_name_or_path": "org/base"}'), ("bad", '{"_name_or_path": "org/base", '
                                                                            '"vocab_size": ' + "9" * 5000 + "}")):
        repo = tmp_path / "repos" / "org" / name
        repo.mkdir(parents=True)
        (repo / "config.json").write_text(config)
        (repo / "README.md").write_text("---\nlicense: mit\n---\n")
    harvest = LocalReposSource(tmp_path / "repos").harvest()
    assert sorted(r.id for r in harvest.records) == ["org/bad", "org/good"]
    assert [(r.child, r.raw) for r in harvest.references] == [("org/good", "org/base")]
    assert harvest.problems == [
        Problem(str(tmp_path / "repos/org/bad/config.json"), "org/bad",
                "config.json: an integer has 5,000 digits, over the 100-digit limit")
    ]


def test_duplicate_ids_with_different_data_are_reported(tmp_path: Path) -> None:
    rows = [json.loads(line) for line in sample_lines("models.jsonl")[:3]]
    changed = {**rows[0], "downloads": (rows[0].get("downloads") or 0) + 1}
    models = tmp_path / "models.jsonl"
    models.write_text("\n".join(json.dumps(r) for r in [*rows, rows[1], changed]) + "\n")
    harvest = HubRecordsSource(models=models).harvest()
    assert harvest.problems == [
        Problem("models.jsonl:5", rows[0]["id"],
                "same id as models.jsonl:1 with different data; merged, the first row's values win")
    ]  # line 4 repeats line 2 exactly: nothing to report


_UNREADABLE = """
import json, os, sys
from pathlib import Path
from ptmgraph.sources import LocalReposSource
LocalReposSource(Path(sys.argv[1]) / "warm").harvest()  # every lazy import done while still allowed
if os.geteuid() == 0:  # root reads any directory: become nobody, for whom mode 000 means what it says
    os.setgroups([]); os.setgid(65534); os.setuid(65534)
harvest = LocalReposSource(Path(sys.argv[1]) / "repos").harvest()
print(json.dumps({"ids": sorted(r.id for r in harvest.records),
                  "problems": [[p.source, p.message] for p in harvest.problems]}))
"""


def test_a_chmod_000_repo_directory_is_a_problem_row() -> None:
    """Proves the real kernel refusal, not a simulation: as root the check runs after dropping to uid 65534."""
    root = Path(tempfile.mkdtemp(prefix="ptmgraph-perm-"))
    try:
        root.chmod(0o755)
        for folder in ("warm/org/x", "repos/org/good", "repos/org/locked"):
            (root / folder).mkdir(parents=True)
            (root / folder / "config.json").write_text('{"_name_or_path": "org/base"}')
        for folder in (root / "warm", root / "warm/org", root / "warm/org/x", root / "repos", root / "repos/org",
                       root / "repos/org/good"):
            folder.chmod(0o755)
            for file in folder.glob("*.json"):
                file.chmod(0o644)
        (root / "repos/org/locked").chmod(0)
        done = subprocess.run([sys.executable, "-c", _UNREADABLE, str(root)], capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr
        answer = json.loads(done.stdout)
        assert answer["ids"] == ["org/good"]
        assert answer["problems"] == [
            [str(root / "repos/org/locked"), "directory cannot be read (Permission denied); skipped"]
        ]
    finally:
        (root / "repos/org/locked").chmod(0o755)
        subprocess.run(["rm", "-rf", str(root)], check=False)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32))
def test_byte_mutations_of_real_jsonl_lines_cost_at_most_the_mutated_lines(seed: int) -> None:
    rng = random.Random(seed)
    lines = [line.rstrip(b"\n") for line in sample_lines("models.jsonl")[:30]]
    mutated = set(rng.sample(range(len(lines)), 6))
    for i in mutated:
        line = bytearray(lines[i])
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(len(line))
            op = rng.choice(["flip", "cut", "insert"])
            if op == "flip":
                line[at] = rng.randrange(256)
            elif op == "cut":
                del line[at : at + rng.randint(1, 40)]
            else:
                line[at:at] = rng.choice([b"[" * 200, b"9" * 200, b"\xff\xfe", b'"', b"{}", b"\\u0000"])
        lines[i] = bytes(line).replace(b"\n", b" ")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "models.jsonl"
        path.write_bytes(b"\n".join(lines) + b"\n")
        harvest = HubRecordsSource(models=path).harvest()
    line_problems = {p.source for p in harvest.problems}
    assert line_problems <= {f"models.jsonl:{i + 1}" for i in mutated}
    kept = {r.source for r in harvest.records}
    assert {f"models.jsonl:{i + 1}" for i in range(len(lines)) if i not in mutated} <= kept
