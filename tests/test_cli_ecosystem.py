"""The ecosystem commands as a user meets them: licences, audit and report."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from typer.testing import CliRunner

from ptmgraph.cli import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_licenses_as_json_carries_the_names_scripts_rely_on() -> None:
    result = run("licenses", "--format", "json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["drift_edges"] == len(doc["rows"]) > 0
    assert {"id", "base", "base_license", "license", "verdict"} <= set(doc["rows"][0])
    assert {r["verdict"] for r in doc["rows"]} <= {"likely_violation", "missing", "unclear", "allowed"}
    llama_to_apache = [r for r in doc["rows"] if (r["base_license"], r["license"]) == ("llama2", "apache-2.0")]
    assert llama_to_apache and {r["verdict"] for r in llama_to_apache} == {"likely_violation"}


def test_licenses_as_csv_has_one_line_per_drift_edge() -> None:
    result = run("licenses", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert result.exit_code == 0 and len(rows) == json.loads(run("licenses", "-f", "json").stdout)["drift_edges"]


def test_audit_as_json_lists_missing_attributes_and_rates() -> None:
    result = run("audit", "--format", "json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["models_missing_any"] == len(doc["rows"])
    assert all(r["missing"] and len(r["missing"]) == r["n_missing"] for r in doc["rows"])
    rates = {r["attribute"]: r for r in doc["tables"]["rates"]}
    assert list(rates) == ["license", "base_model", "datasets", "pipeline_tag", "library", "evaluation", "card"]
    assert all(0 <= r["share"] <= 1 for r in rates.values())
    assert doc["edges_relations_disagree"] == sum(r["edges"] for r in doc["tables"]["disagreements"])


def test_table_output_names_the_analysis(tmp_path: Path) -> None:
    assert "Licence drift" in run("licenses", "--limit", "3").stdout
    assert "rates" in run("audit", "--limit", "3").stdout


def test_a_missing_snapshot_is_one_line_and_exit_1(tmp_path: Path) -> None:
    for command in ("licenses", "audit"):
        result = runner.invoke(app, [command, "--snapshot", str(tmp_path / "nope")])
        assert result.exit_code == 1
        assert "no such snapshot directory" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_min_confidence_drops_weak_edges_from_licences_and_audit() -> None:
    every = json.loads(run("licenses", "-f", "json").stdout)
    strong = json.loads(run("licenses", "--min-confidence", "high", "-f", "json").stdout)
    assert strong["edges"] < every["edges"] and strong["drift_edges"] <= every["drift_edges"]
    audit_strong = json.loads(run("audit", "--min-confidence", "high", "-f", "json").stdout)
    assert audit_strong["edges"] == strong["edges"]


def test_report_states_the_confidence_filter(tmp_path: Path) -> None:
    result = run("report", "--min-confidence", "medium", "--out", str(tmp_path / "r"))
    assert result.exit_code == 0
    report = (tmp_path / "r" / "report.md").read_text()
    assert "Only edges whose parent confidence is medium or better are counted." in report
