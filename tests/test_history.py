"""Snapshot history: ``ingest --history DIR`` keeps each snapshot as ``DIR/date=YYYY-MM-DD/`` (plain Parquet,
written once), ``ptmgraph history MODEL`` shows a model across them, and polars or DuckDB read the history as
one Hive-partitioned dataset without ptmgraph. Three dated snapshots of hand-written Hub records."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import duckdb  # a test dependency (pyproject's test extra)
import polars as pl
import pytest
from typer.testing import CliRunner

from ptmgraph.cli import app

GEMMA = "google/gemma-7b"
README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def record(model_id: str, *, bases: tuple[str, ...] = (), license: str = "mit", downloads: int = 0) -> dict:
    tags = [t for base in bases for t in (f"base_model:{base}", f"base_model:finetune:{base}")]
    return {"id": model_id, "author": model_id.split("/")[0], "downloads": downloads, "tags": tags,
            "gated": False, "disabled": False, "private": False, "cardData": {"license": license},
            "siblings": [{"rfilename": "model.safetensors"}], "createdAt": "2024-03-01T00:00:00.000Z"}


DAYS = {
    "2026-11-01": [record(GEMMA, license="gemma", downloads=100), record("a/ft", bases=(GEMMA,), downloads=5),
                   record("o/other")],
    # a new descendant of gemma; a/ft becomes a merge of gemma and o/other
    "2026-11-08": [record(GEMMA, license="gemma", downloads=150), record("a/ft", bases=(GEMMA, "o/other"), downloads=7),
                   record("o/other"), record("n/new", bases=("a/ft",))],
    # a/ft is relicensed; n/new was deleted
    "2026-11-15": [record(GEMMA, license="gemma", downloads=150),
                   record("a/ft", bases=(GEMMA, "o/other"), license="apache-2.0", downloads=7), record("o/other")],
}


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def ingest(tmp: Path, day: str, rows: list[dict], history: Path) -> tuple[int, str]:
    records = tmp / f"records-{day}"
    records.mkdir(exist_ok=True)
    (records / "models.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    code, _, err = invoke("ingest", str(records), "--out", str(tmp / "snap"), "--replace", "--history", str(history),
                          "--history-date", day)
    return code, err


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("history")
    for day, rows in DAYS.items():
        code, err = ingest(tmp, day, rows, tmp / "history")
        assert code == 0 and f"date={day}" in err, err
    return tmp / "history"


def rows(*args: str) -> list[dict]:
    code, out, err = invoke("history", *args, "-f", "json")
    assert code == 0, err
    return json.loads(out)["rows"]


def test_each_ingest_adds_one_dated_partition_of_plain_parquet(history: Path) -> None:
    assert sorted(os.listdir(history)) == ["date=2026-11-01", "date=2026-11-08", "date=2026-11-15"]
    partition = history / "date=2026-11-08"
    assert {"models.parquet", "edges.parquet", "meta.json"} <= set(os.listdir(partition))
    assert pl.read_parquet(partition / "models.parquet")["id"].sort().to_list() == [
        "a/ft", GEMMA, "n/new", "o/other"]
    assert all((os.stat(partition / name).st_mode & 0o222) == 0 for name in os.listdir(partition))


def test_history_shows_how_a_models_parents_licence_and_downloads_changed(history: Path) -> None:
    found = rows("a/ft", "--history", str(history))
    assert [(r["date"], r["parents"], r["license"], r["downloads"], r["reach"], r["changed"]) for r in found] == [
        ("2026-11-01", [GEMMA], "mit", 5, 0, []),
        ("2026-11-08", [GEMMA, "o/other"], "mit", 7, 1, ["parents", "downloads", "reach"]),
        ("2026-11-15", [GEMMA, "o/other"], "apache-2.0", 7, 0, ["license", "reach"]),
    ]


def test_history_shows_a_bases_reach_and_a_model_that_came_and_went(history: Path) -> None:
    assert [(r["downloads"], r["reach"]) for r in rows(GEMMA, "--history", str(history))] == [
        (100, 1), (150, 2), (150, 1)]
    assert [(r["present"], r["parents"], r["changed"]) for r in rows("N/New", "--history", str(history))] == [
        (False, [], []), (True, ["a/ft"], ["present", "parents", "license", "access", "downloads", "reach"]),
        (False, [], ["present", "parents", "license", "access", "downloads", "reach"])]


def test_history_of_an_unknown_model_or_an_empty_history_fails_clearly(history: Path, tmp_path: Path) -> None:
    code, _, err = invoke("history", "google/gemma-7", "--history", str(history))
    assert code == 2 and GEMMA in err
    code, _, err = invoke("history", GEMMA, "--history", str(tmp_path))
    assert code == 1 and "holds no dated snapshot" in err


def test_a_second_snapshot_of_the_same_day_is_refused_and_nothing_changes(history: Path, tmp_path: Path) -> None:
    before = (history / "date=2026-11-15" / "models.parquet").read_bytes()
    code, err = ingest(tmp_path, "2026-11-15", DAYS["2026-11-01"], history)
    assert code == 1 and "already holds a snapshot of 2026-11-15" in " ".join(err.split())
    assert not (tmp_path / "snap").exists()  # refused before any work
    assert (history / "date=2026-11-15" / "models.parquet").read_bytes() == before
    code, err = ingest(tmp_path, "2026-13-01", DAYS["2026-11-01"], history)
    assert code == 2 and "--history-date must be a date" in err


def test_polars_reads_the_history_as_one_hive_partitioned_dataset(history: Path) -> None:
    models = pl.scan_parquet(history / "*" / "models.parquet", hive_partitioning=True)
    licences = models.filter(pl.col("id") == "a/ft").select(pl.col("date").cast(pl.String()), "license")
    assert licences.sort("date").collect().rows() == [
        ("2026-11-01", "mit"), ("2026-11-08", "mit"), ("2026-11-15", "apache-2.0")]


def test_the_readmes_duckdb_query_runs_on_a_history(history: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (query,) = re.findall(r"```sql\n(.*?)```", README, flags=re.S)
    monkeypatch.chdir(history.parent)
    found = duckdb.sql(query).fetchall()
    assert [(str(day), downloads) for day, _, downloads in found] == [
        ("2026-11-01", 100), ("2026-11-08", 150), ("2026-11-15", 150)]


def test_a_crawl_keeps_its_snapshot_in_the_history_and_is_refused_a_second_time_that_day(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hub_server import HubData, HubServer, point_hf_at

    records = {r["id"]: r for r in DAYS["2026-11-08"]}
    history = tmp_path / "history"
    crawl = ["crawl", "--seed", GEMMA, "--out", str(tmp_path / "snap"), "--no-progress", "--history", str(history),
             "--history-date", "2026-12-01"]
    with HubServer(HubData(records=records)) as server:  # type: ignore[arg-type]
        point_hf_at(monkeypatch, tmp_path, server.url)
        code, _, err = invoke(*crawl)
        assert code == 0, err
        asked = len(server.log)
        code, _, err = invoke(*crawl)
        assert code == 1 and "already holds a snapshot of 2026-12-01" in " ".join(err.split())
        assert len(server.log) == asked  # refused before any request
    assert os.listdir(history) == ["date=2026-12-01"]
    assert [(r["date"], r["reach"]) for r in rows(GEMMA, "--history", str(history))] == [("2026-12-01", 2)]
