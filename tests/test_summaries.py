"""Each command's ``--format json`` document holds its summary's members, as the README describes them: the
title, the summary members, ``rows``, the secondary ``tables``, the ``provenance``. The members expected are
written here by hand, per command; the summary type of each analysis must hold exactly those fields, in that
order, and the document's members must rebuild it. Queries run on the bundled snapshot, ``diff`` and
``history`` on two snapshots ingested from hand-written Hub records."""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
from dataclasses import fields
from pathlib import Path

import pytest
from typer.testing import CliRunner

import ptmgraph.analyses
from ptmgraph.analyses.check import CheckSummary
from ptmgraph.analyses.completeness import CompletenessSummary
from ptmgraph.analyses.diff import DiffSummary
from ptmgraph.analyses.history import HistorySummary
from ptmgraph.analyses.licenses import LicenseDriftSummary
from ptmgraph.analyses.model_search import ListSummary, SearchSummary
from ptmgraph.analyses.overview import DanglingSummary, ProblemsSummary, StatsSummary
from ptmgraph.analyses.reach import ReachSummary
from ptmgraph.analyses.relation_audit import RelationAuditSummary
from ptmgraph.analyses.risk import RiskSummary
from ptmgraph.analyses.staleness import StaleSummary
from ptmgraph.cli import app
from ptmgraph.result import AncestrySummary, ImpactSummary, ModelInfoSummary, Summary, WhySummary

LLAMA_CHAT = "meta-llama/Llama-2-7b-chat-hf"
DEPTH3 = "AmberYifan/Gemma-7B-sft-SPIN-Gemma-2-27B"
GEMMA = "google/gemma-7b"

ANCESTRY = ["model", "ancestors", "max_depth", "roots", "paths", "paths_truncated", "ancestors_in_cycles", "has_record"]
IMPACT = ["model", "affected_models", "affected_downloads", "models_without_download_count", "affected_space_links",
          "max_depth", "relations_followed", "depth_limit"]
RISK = ["sources", "risks", "affected_models", "affected_downloads", "models_without_download_count",
        "runtime_code_rows", "runtime_rows", "inherited_rows"]

# (command line, summary type, the summary members in order, the secondary tables)
QUERIES: list[tuple[list[str], type[Summary], list[str], list[str]]] = [
    (["ancestry", DEPTH3], AncestrySummary, ANCESTRY, ["paths"]),
    (["ancestry", DEPTH3, "--min-confidence", "high"], AncestrySummary, [*ANCESTRY, "filtered_out"], ["paths"]),
    (["impact", LLAMA_CHAT], ImpactSummary, IMPACT, ["by_depth", "by_relation"]),
    (["impact", GEMMA, "--relation", "adapter"], ImpactSummary, [*IMPACT, "filtered_out"],
     ["by_depth", "by_relation"]),
    (["info", LLAMA_CHAT], ModelInfoSummary, ["model", "record", "parents", "children"], ["dangling"]),
    (["why", DEPTH3, GEMMA], WhySummary, ["model", "ancestor", "paths", "paths_truncated", "shortest"], []),
    (["search", "llama"], SearchSummary, ["query", "models"], ["by_match"]),
    (["list", "--author", "google"], ListSummary, ["author", "models"], []),
    (["stats"], StatsSummary,
     ["models", "models_with_record", "edges", "evidence", "dangling_references", "problems", "roots",
      "isolated_models", "max_generation", "components", "self_loops", "cycles", "relation_disagreements",
      "models_with_several_parents", "sources"], []),
    (["dangling"], DanglingSummary, ["references", "models", "reason_filter"], ["by_reason"]),
    (["problems"], ProblemsSummary, ["problems"], []),
    (["audit-relations"], RelationAuditSummary, ["edges_with_hub_label", "judged_by_weights", "disagreements",
                                                 "children"], ["by_kind"]),
    (["licenses"], LicenseDriftSummary,
     ["edges", "edges_both_licensed", "edges_license_unstated", "drift_edges", "likely_violations", "missing",
      "unclear", "allowed"], ["by_pair", "by_verdict"]),
    (["audit"], CompletenessSummary,
     ["models", "models_assessed", "models_missing_any", "edges", "edges_relations_disagree"],
     ["rates", "disagreements", "disagreement_pairs"]),
    (["reach"], ReachSummary,
     ["by", "models", "authors", "derived_models", "models_with_dependents", "share_with_dependents",
      "top_1pct_models", "share_of_reach_top_1pct", "share_of_reach_top_20_authors", "max_reach"], ["fan_out"]),
    (["stale", LLAMA_CHAT], StaleSummary,
     ["model", "stale_rows", "models_with_stale_ancestors", "rows_weights_updated", "rows_card_updated",
      "rows_updated_unknown_part", "rows_new_version", "rows_unavailable", "models_without_created_at",
      "max_lag_days"], ["by_reason"]),
    (["risk", "--compromised", GEMMA], RiskSummary, RISK, ["by_risk", "sources"]),
    (["risk", "--compromised", GEMMA, "--dependency", "runtime"], RiskSummary, ["filters", *RISK],
     ["by_risk", "sources"]),
    (["check", LLAMA_CHAT], CheckSummary,
     ["models", "findings", "high", "medium", "low", "waived", "unmatched_ignores", "fail_on", "failed",
      "failing_models"], ["by_model", "by_finding"]),
]
ON_HISTORY: list[tuple[str, type[Summary], list[str], list[str]]] = [
    ("diff", DiffSummary, ["old", "new", "old_written_at", "new_written_at", "changes", "watch", "watched_models",
                           "watched_changes"], ["by_change"]),
    ("history", HistorySummary, ["model", "snapshots", "first", "last", "dates_with_changes"], []),
]
OMITTED_WHEN_NONE = {"filtered_out", "filters"}
"""Members a document holds only when they apply: the models the filters left out, the filters in words."""


def document(args: list[str]) -> dict[str, object]:
    done = CliRunner().invoke(app, [*args, "--format", "json"])
    assert done.exit_code in (0, 1), done.output  # risk and check exit 1 on what they find
    doc: dict[str, object] = json.loads(done.stdout)
    return doc


def members_rebuild_the_summary(doc: dict[str, object], summary_type: type[Summary], members: list[str],
                                tables: list[str]) -> None:
    assert list(doc) == ["title", *members, "rows", *(["tables"] if tables else []), "provenance"]
    if tables:
        assert list(doc["tables"]) == tables  # type: ignore[call-overload]
    declared = [f.name for f in fields(summary_type)]
    assert [name for name in declared if name in members] == members  # the document's order is the type's
    assert set(declared) - set(members) <= OMITTED_WHEN_NONE
    rebuilt = summary_type(**{name: doc[name] for name in members})
    assert rebuilt.as_dict() == {name: doc[name] for name in members}


@pytest.mark.parametrize(("args", "summary_type", "members", "tables"), QUERIES,
                         ids=[" ".join(args) for args, *_ in QUERIES])
def test_a_query_document_holds_its_summary_members(args: list[str], summary_type: type[Summary],
                                                     members: list[str], tables: list[str]) -> None:
    members_rebuild_the_summary(document(args), summary_type, members, tables)


def record(model_id: str, *, bases: tuple[str, ...] = (), license: str = "mit") -> dict[str, object]:
    tags = [t for base in bases for t in (f"base_model:{base}", f"base_model:finetune:{base}")]
    return {"id": model_id, "author": model_id.split("/")[0], "downloads": 10, "tags": tags, "gated": False,
            "disabled": False, "private": False, "cardData": {"license": license},
            "siblings": [{"rfilename": "model.safetensors"}], "createdAt": "2024-03-01T00:00:00.000Z"}


@pytest.fixture(scope="module")
def two_days(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two snapshots a week apart (snap-1, snap-2) and their history: a new fine-tune of gemma appears."""
    tmp = tmp_path_factory.mktemp("days")
    days = {"2026-11-01": [record(GEMMA, license="gemma"), record("a/ft", bases=(GEMMA,))],
            "2026-11-08": [record(GEMMA, license="gemma"), record("a/ft", bases=(GEMMA,)),
                           record("n/new", bases=(GEMMA,))]}
    for number, (day, rows) in enumerate(days.items(), 1):
        records = tmp / f"records-{number}"
        records.mkdir()
        (records / "models.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        done = CliRunner().invoke(app, ["ingest", str(records), "--out", str(tmp / f"snap-{number}"), "--history",
                                        str(tmp / "history"), "--history-date", day])
        assert done.exit_code == 0, done.output
    return tmp


@pytest.mark.parametrize(("command", "summary_type", "members", "tables"), ON_HISTORY, ids=["diff", "history"])
def test_diff_and_history_documents_hold_their_summary_members(
    two_days: Path, command: str, summary_type: type[Summary], members: list[str], tables: list[str]
) -> None:
    if command == "diff":
        args = ["diff", str(two_days / "snap-1"), str(two_days / "snap-2"), "--watch", GEMMA]
    else:
        args = ["history", GEMMA, "--history", str(two_days / "history")]
    doc = document(args)
    members_rebuild_the_summary(doc, summary_type, members, tables)
    if command == "diff":  # n/new: a model added, an edge added, a descendant of gemma added
        assert (doc["changes"], doc["watched_changes"]) == (3, 3)
    else:
        assert (doc["snapshots"], doc["first"], doc["last"]) == (2, "2026-11-01", "2026-11-08")


def test_every_summary_type_has_its_document_checked() -> None:
    for module in pkgutil.iter_modules(ptmgraph.analyses.__path__):
        importlib.import_module(f"ptmgraph.analyses.{module.name}")
    checked = {t for _, t, _, _ in QUERIES} | {t for _, t, _, _ in ON_HISTORY}
    # the types the installed modules define (a toy analysis another test wrote and forgot is not one)
    defined = {t for t in Summary.__subclasses__() if getattr(sys.modules.get(t.__module__), t.__name__, None) is t}
    assert defined == checked


def test_stale_states_its_row_count_beside_the_rows() -> None:
    doc = document(["stale"])
    rows = doc["rows"]
    assert isinstance(rows, list) and rows
    assert doc["stale_rows"] == len(rows)
    by_reason = {r["reason"]: r["rows"] for r in doc["tables"]["by_reason"]}  # type: ignore[index]
    assert {reason: doc[f"rows_{reason}"] for reason in by_reason} == by_reason
