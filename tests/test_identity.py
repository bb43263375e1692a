"""Identity (README "Identity"): purls and Hub links only from Hub-shaped ids, ids that differ only in
letter case are one model with a problem row naming both records, and local ids that are not Hub-shaped
(a folder ``team/My Model v2``) can be asked about and reported on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ptmgraph.cli import app
from ptmgraph.ids import hub_purl, hub_url, is_hub_id

REAL = "meta-llama/Llama-2-7b-chat-hf"
SPACED = "meta-llama/ Llama-2-7b-chat-hf"


def run(*args: str) -> tuple[int, str]:
    done = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    return done.exit_code, done.stdout + done.stderr


@pytest.mark.parametrize("model_id", [SPACED, f"{REAL} ", "meta-llama/Llama-2-7b-chat-hf\n", "meta-llama//Llama",
                                      "team/My Model v2", "a/b/c", "org/-name", "org/na--me", "org/name.", ""])
def test_an_id_that_is_not_hub_shaped_gets_no_purl_and_no_hub_link(model_id: str) -> None:
    assert not is_hub_id(model_id)
    assert hub_purl(model_id, "0" * 40) is None and hub_url(model_id) is None


def test_a_hub_id_gets_its_purl() -> None:
    assert str(hub_purl(REAL, "08751db2aca9bf2f7f80d2e516117a53d7450235")) == (
        "pkg:huggingface/meta-llama/Llama-2-7b-chat-hf@08751db2aca9bf2f7f80d2e516117a53d7450235")
    assert str(hub_purl("gpt2")) == "pkg:huggingface/gpt2"


@pytest.fixture(scope="module")
def records_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("records")
    lines = [
        {"id": REAL, "downloads": 100, "license": "llama2", "sha": "08751db2aca9bf2f7f80d2e516117a53d7450235"},
        {"id": SPACED, "downloads": 1, "license": "mit", "sha": "08751db2aca9bf2f7f80d2e516117a53d7450235",
         "cardData": {"base_model": REAL}},
        {"id": "Org/Model", "downloads": 5, "license": "mit"},
        {"id": "org/model", "downloads": 7, "license": "apache-2.0", "likes": 3},
    ]
    (folder / "models.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    code, output = run("ingest", str(folder / "models.jsonl"), "--out", str(folder / "snap"))
    assert code == 0, output
    return folder / "snap"


def test_a_record_id_with_a_space_never_gets_the_real_models_purl(records_snapshot: Path, tmp_path: Path) -> None:
    out = tmp_path / "bom.cdx.json"
    code, output = run("export", SPACED, "--ancestry", "-s", str(records_snapshot), "--out", str(out))
    assert code == 0, output
    bom = json.loads(out.read_text())
    focus = bom["metadata"]["component"]
    assert focus["name"] == " Llama-2-7b-chat-hf" and "purl" not in focus and "externalReferences" not in focus
    (ancestor,) = focus["pedigree"]["ancestors"]
    assert ancestor["purl"] == f"pkg:huggingface/{REAL}@08751db2aca9bf2f7f80d2e516117a53d7450235"


def test_ids_differing_only_in_case_are_one_model_and_a_problem_naming_both(records_snapshot: Path) -> None:
    code, output = run("problems", "-s", str(records_snapshot), "-f", "json")
    assert code == 0, output
    (row,) = [r for r in json.loads(output)["rows"] if r["id"] == "Org/Model"]
    assert row["source"] == "models.jsonl:3;models.jsonl:4"
    assert "'Org/Model' (models.jsonl:3), 'org/model' (models.jsonl:4)" in row["message"]
    assert "merged under 'Org/Model', the first read" in row["message"]
    code, output = run("info", "org/MODEL", "-s", str(records_snapshot), "-f", "json")
    assert code == 0, output
    record = json.loads(output)
    # the first record's values win; the second fills what the first lacks
    assert (record["model"], record["record"]["downloads"], record["record"]["likes"]) == ("Org/Model", 5, 3)


@pytest.fixture(scope="module")
def local_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("local")
    model = folder / "repos" / "team" / "My Model v2"
    base = folder / "repos" / "team" / "base"
    model.mkdir(parents=True)
    base.mkdir(parents=True)
    (model / "config.json").write_text('{"_name_or_path": "team/base", "architectures": ["LlamaForCausalLM"]}')
    (model / "README.md").write_text("---\nlicense: mit\n---\n")
    (base / "config.json").write_text('{"architectures": ["LlamaForCausalLM"]}')
    code, output = run("ingest", str(folder / "repos"), "--out", str(folder / "snap"))
    assert code == 0, output
    return folder / "snap"


@pytest.mark.parametrize("typed", ["team/My Model v2", "TEAM/my model v2", " team/My Model v2 "])
def test_a_local_id_that_is_not_hub_shaped_can_be_asked_about(local_snapshot: Path, typed: str) -> None:
    code, output = run("ancestry", typed, "-s", str(local_snapshot), "-f", "csv")
    assert code == 0, output
    assert output.splitlines()[1].startswith("team/base,1,team/My Model v2,")


def test_report_works_on_a_snapshot_of_local_ids(local_snapshot: Path, tmp_path: Path) -> None:
    code, output = run("report", "-s", str(local_snapshot), "--out", str(tmp_path / "report"))
    assert code == 0, output
    assert "team/My Model v2" in (tmp_path / "report" / "report.md").read_text()
