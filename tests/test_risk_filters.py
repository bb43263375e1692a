"""`risk` narrowed as a user narrows it: by dependency kind, by a creation window, in another order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ptmgraph.cli import app

runner = CliRunner()

# o/base is compromised. By hand: o/lora is an adapter of it (runtime: it loads o/base's weights when
# run); o/lora-lora an adapter of o/lora (runtime too, two hops); o/ft a finetune (inherited); o/q a
# quantization (inherited), with no download count.
RECORDS = [
    {"id": "o/base", "createdAt": "2024-01-01T00:00:00.000Z", "downloads": 100, "tags": []},
    {"id": "o/lora", "createdAt": "2024-02-15T00:00:00.000Z", "downloads": 50, "tags": ["base_model:adapter:o/base"]},
    {"id": "o/lora-lora", "createdAt": "2024-05-01T00:00:00.000Z", "downloads": 500,
     "tags": ["base_model:adapter:o/lora"]},
    {"id": "o/ft", "createdAt": "2024-03-10T12:00:00.000Z", "downloads": 5, "tags": ["base_model:finetune:o/base"]},
    {"id": "o/q", "createdAt": "2024-03-31T23:59:00.000Z", "tags": ["base_model:quantized:o/base"]},
]


@pytest.fixture(scope="module")
def snap(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("records")
    (folder / "models.jsonl").write_text("".join(json.dumps(r) + "\n" for r in RECORDS))
    out = folder / "snap"
    result = runner.invoke(app, ["ingest", str(folder), "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    return out


def risk(snap: Path, *options: str) -> dict:
    result = runner.invoke(app, ["risk", "-c", "o/base", "-s", str(snap), "-f", "json", *options])
    assert result.exit_code in (0, 1), result.stderr
    return json.loads(result.stdout)


def ids(doc: dict) -> list[str]:
    return [row["id"] for row in doc["rows"]]


def test_without_filters_every_affected_model_comes_most_downloaded_first(snap: Path) -> None:
    doc = risk(snap)
    assert ids(doc) == ["o/lora-lora", "o/lora", "o/ft", "o/q"] and "filters" not in doc


def test_dependency_keeps_the_kinds_asked_for_and_the_totals_follow(snap: Path) -> None:
    doc = risk(snap, "--dependency", "runtime")
    assert ids(doc) == ["o/lora-lora", "o/lora"] and doc["affected_models"] == 2
    assert doc["affected_downloads"] == 550 and doc["filters"] == "dependency runtime"
    assert doc["tables"]["sources"][0]["affected_models"] == 2
    doc = risk(snap, "--dependency", "inherited", "--dependency", "runtime_code")
    assert ids(doc) == ["o/ft", "o/q"]


def test_a_creation_window_keeps_the_models_made_in_it(snap: Path) -> None:
    # on or after 2024-03-01, before 2024-04-01: o/ft (March 10) and o/q (March 31, 23:59)
    doc = risk(snap, "--created-after", "2024-03-01", "--created-before", "2024-04-01")
    assert sorted(ids(doc)) == ["o/ft", "o/q"]
    assert doc["filters"] == "created on or after 2024-03-01; created before 2024-04-01"
    assert ids(risk(snap, "--created-before", "2024-03-10")) == ["o/lora"]
    assert ids(risk(snap, "--created-after", "2024-03-10T12:00")) == ["o/lora-lora", "o/ft", "o/q"]
    table = runner.invoke(app, ["--no-pager", "risk", "-c", "o/base", "-s", str(snap), "--created-after",
                                "2024-05-01"], env={"COLUMNS": "120", "NO_COLOR": "1"})
    assert table.exit_code == 1 and "created_at" in table.stdout and "2024-05-01" in table.stdout
    assert "filters: created on or after 2024-05-01" in table.stdout
    # a window that leaves nothing: nothing affected, exit 0
    empty = runner.invoke(app, ["risk", "-c", "o/base", "-s", str(snap), "--created-after", "2025-01-01"])
    assert empty.exit_code == 0


def test_sort_orders_by_depth_or_id(snap: Path) -> None:
    assert ids(risk(snap, "--sort", "depth")) == ["o/lora", "o/ft", "o/q", "o/lora-lora"]
    assert ids(risk(snap, "--sort", "id")) == ["o/ft", "o/lora", "o/lora-lora", "o/q"]


@pytest.mark.parametrize(("option", "value"), [("--created-after", "2024-13-01"), ("--created-before", "last week")])
def test_a_bad_date_is_a_usage_error_naming_the_option(snap: Path, option: str, value: str) -> None:
    result = runner.invoke(app, ["risk", "-c", "o/base", "-s", str(snap), option, value])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [f"ptmgraph: error: {option}: not an ISO date "
                                                  f"(YYYY-MM-DD or YYYY-MM-DDTHH:MM): {value!r}"]


def test_an_empty_window_and_an_unknown_kind_are_usage_errors(snap: Path) -> None:
    result = runner.invoke(app, ["risk", "-c", "o/base", "-s", str(snap), "--created-after", "2024-05-01",
                                 "--created-before", "2024-05-01"])
    assert result.exit_code == 2 and "--created-after 2024-05-01 is not before --created-before" in result.stderr
    result = runner.invoke(app, ["risk", "-c", "o/base", "-s", str(snap), "--dependency", "weights"])
    assert result.exit_code == 2 and "weights" in result.stderr
