"""The ecosystem report: the analyses' results for one snapshot, gathered into sections of tables and figures.

:func:`build_report` computes nothing of its own beyond the snapshot's date range: every number is read
from another analysis' :class:`~ptmgraph.result.AnalysisResult`, whose docstring defines it. Turning the
:class:`~ptmgraph.result.Report` into Markdown and images is the formats layer's job
(:mod:`ptmgraph.formats.markdown`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import polars as pl

from analyses.completeness import completeness
from analyses.licenses import license_drift
from analyses.overview import stats
from ptmgraph.graph import LineageGraph
from ptmgraph.result import Figure, Report, ReportSection

TOP = 20
"""Rows in each ranked table of the report."""


def _section_rows(result_rows: pl.DataFrame, section: str, key: str, value: str) -> pl.DataFrame:
    """One section of the ``stats`` table as (key, value) columns."""
    return (
        result_rows.filter(pl.col("section") == section)
        .select(pl.col("id").alias(key), pl.col("count").alias(value))
    )


def _date_range(lg: LineageGraph, column: str) -> tuple[datetime | None, datetime | None]:
    values = lg.snapshot.models[column].drop_nulls()
    return (values.min(), values.max()) if values.len() else (None, None)  # type: ignore[return-value]


def _day(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d") if value is not None else "unknown"


def snapshot_section(lg: LineageGraph, overview: dict[str, Any]) -> ReportSection:
    created, modified = _date_range(lg, "created_at"), _date_range(lg, "last_modified")
    measures = [
        ("models", overview["models"]),
        ("models with a record of their own", overview["models_with_record"]),
        ("edges (base → derived)", overview["edges"]),
        ("pieces of evidence", overview["evidence"]),
        ("dangling references", overview["dangling_references"]),
        ("input problems", overview["problems"]),
        ("roots", overview["roots"]),
        ("isolated models", overview["isolated_models"]),
        ("weakly connected components (2+ models)", overview["components"]),
        ("models with several parents", overview["models_with_several_parents"]),
        ("cycles / self-loops", f"{overview['cycles']} / {overview['self_loops']}"),
    ]
    table = pl.DataFrame(
        {"measure": [m for m, _ in measures], "value": [f"{v:,}" if isinstance(v, int) else v for _, v in measures]}
    )
    sources = "; ".join(str(s) for s in overview.get("sources") or []) or "not recorded"
    return ReportSection(
        "Snapshot",
        lines=[
            f"Sources: {sources}.",
            f"Models created between {_day(created[0])} and {_day(created[1])}; last modified between "
            f"{_day(modified[0])} and {_day(modified[1])} (models with a record; others have no dates).",
            f"Snapshot written {lg.snapshot.meta.get('written_at', 'at an unrecorded time')}.",
        ],
        tables=[("", table)],
    )


def relation_section(rows: pl.DataFrame, edges: int) -> ReportSection:
    mix = _section_rows(rows, "edges_by_relation", "relation", "edges").with_columns(
        (pl.col("edges") / max(edges, 1) * 100).round(1).alias("share %")
    )
    rules = _section_rows(rows, "edges_by_rule", "decided by", "edges")
    return ReportSection(
        "Relation mix",
        lines=["Each edge's resolved relation, and which piece of evidence decided it (README: Data model)."],
        tables=[("edges by relation", mix), ("edges by deciding rule", rules)],
        figures=[
            Figure("relation_mix", "Edges by relation", "bar", mix["relation"].to_list(), mix["edges"].to_list(),
                   xlabel="relation", ylabel="edges")
        ],
    )


def depth_section(rows: pl.DataFrame, overview: dict[str, Any]) -> ReportSection:
    depths = _section_rows(rows, "models_by_depth", "depth", "models").with_columns(pl.col("depth").cast(pl.Int64))
    return ReportSection(
        "Depth distribution",
        lines=[
            "Depth: the fewest hops from a root (README: Definitions); an isolated model is a root at depth 0, "
            f"a model no root reaches (inside a cycle) has no depth. Deepest: {overview['max_depth']}."
        ],
        tables=[("models by depth", depths)],
        figures=[
            Figure("depth_distribution", "Models by depth", "bar", depths["depth"].to_list(),
                   depths["models"].to_list(), xlabel="depth (hops from a root)", ylabel="models")
        ],
    )


def license_section(lg: LineageGraph, top: int) -> ReportSection:
    drift = license_drift(lg)
    s = drift.summary
    pairs = drift.tables["by_pair"]
    shown = pairs.head(12)
    violations = drift.rows.filter(pl.col("verdict") == "likely_violation").select(
        "id", "base", "relation", "base_license", "license", "downloads"
    )
    return ReportSection(
        "Licence drift",
        lines=[
            f"{s['drift_edges']:,} of {s['edges']:,} edges join two models whose stated licences differ "
            f"({s['edges_both_licensed']:,} edges have a licence on both sides; on {s['edges_license_unstated']:,} "
            "only one side states one). Verdicts follow the licence table in analyses/licenses.py: "
            f"{s['likely_violations']:,} likely violations, {s['unclear']:,} unclear, {s['allowed']:,} allowed.",
        ],
        tables=[
            ("drift edges by verdict", drift.tables["by_verdict"]),
            (f"the {min(top, pairs.height)} most frequent licence changes", pairs.head(top)),
            (f"likely violations, most downloaded first (first {min(top, violations.height)})", violations.head(top)),
        ],
        figures=[
            Figure(
                "license_drift",
                "Most frequent licence changes (base → derived)",
                "bar",
                [f"{b} → {c}" for b, c in shown.select("base_license", "license").iter_rows()],
                shown["edges"].to_list(),
                xlabel="licence change",
                ylabel="edges",
            )
        ],
    )


def missing_section(audit_rates: pl.DataFrame, summary: dict[str, Any]) -> ReportSection:
    rates = audit_rates.select(
        "attribute",
        "missing",
        "assessed",
        (pl.col("share") * 100).round(1).alias("missing %"),
        (pl.col("downloads_share") * 100).round(1).alias("% of downloads"),
    )
    return ReportSection(
        "Missing attributes",
        lines=[
            f"Of {summary['models_assessed']:,} models with a record, {summary['models_missing_any']:,} miss at "
            "least one attribute. base_model counts only models the graph gives a parent; \"% of downloads\" is "
            "the share of the assessed models' downloads held by those missing it (analyses/completeness.py)."
        ],
        tables=[("missing attributes", rates)],
        figures=[
            Figure("missing_attributes", "Models missing each attribute", "bar", rates["attribute"].to_list(),
                   rates["missing %"].fill_null(0).to_list(), xlabel="attribute", ylabel="% of assessed models")
        ],
    )


def disagreement_section(tables: dict[str, pl.DataFrame], summary: dict[str, Any]) -> ReportSection:
    return ReportSection(
        "Relation disagreements",
        lines=[
            f"{summary['edges_relations_disagree']:,} of {summary['edges']:,} edges state two or more different "
            "relations: declared in the child's card, given by the Hub (tag or model tree), inferred from the "
            "child's files and name. The resolved relation is the one the graph uses."
        ],
        tables=[
            ("each pair of sources", tables["disagreement_pairs"]),
            ("disagreeing edges by stated relations", tables["disagreements"]),
        ],
    )


def build_report(lg: LineageGraph, *, top: int = TOP) -> Report:
    """The report's sections for the snapshot behind ``lg``; ``top`` rows in each ranked table."""
    overview = stats(lg)
    audit = completeness(lg)
    return Report(
        title="ptmgraph ecosystem report",
        sections=[
            snapshot_section(lg, overview.summary),
            relation_section(overview.rows, overview.summary["edges"]),
            depth_section(overview.rows, overview.summary),
            license_section(lg, top),
            missing_section(audit.tables["rates"], audit.summary),
            disagreement_section(audit.tables, audit.summary),
        ],
    )
