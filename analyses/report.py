"""The ecosystem report: the analyses' results for one snapshot, gathered into sections of tables and figures.

:func:`build_report` computes nothing of its own beyond the snapshot's date range: every number is read
from another analysis' :class:`~ptmgraph.result.AnalysisResult`, whose docstring defines it. Turning the
:class:`~ptmgraph.result.Report` into Markdown and images is the formats layer's job
(:mod:`ptmgraph.formats.markdown`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import polars as pl

from ptmgraph import declaration as d
from ptmgraph.analyses.check import Identity, Ignore, check, ignores
from ptmgraph.analyses.completeness import CompletenessSummary, completeness
from ptmgraph.analyses.licenses import license_drift
from ptmgraph.analyses.overview import StatsSummary, stats
from ptmgraph.analyses.reach import ReachSummary, reach_ranking
from ptmgraph.analyses.risk import DATA_RISKS, risk
from ptmgraph.analyses.staleness import UPDATE_REASONS, stale_ancestors
from ptmgraph.graph import LineageGraph
from ptmgraph.result import AnalysisResult, Figure, Report, ReportSection

TOP = 20
"""Rows in each ranked table of the report."""


def _section_rows(result_rows: pl.DataFrame, section: str, key: str, value: str) -> pl.DataFrame:
    """One section of the ``stats`` table as (key, value) columns."""
    return (
        result_rows.filter(pl.col("section") == section)
        .select(pl.col("id").alias(key), pl.col("count").alias(value))
    )


def _date_range(lg: LineageGraph, column: str) -> tuple[datetime | None, datetime | None]:
    values = lg.snapshot.columns("models", [column])[column].drop_nulls()
    return (values.min(), values.max()) if values.len() else (None, None)  # type: ignore[return-value]


def _day(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d") if value is not None else "unknown"


def snapshot_section(lg: LineageGraph, overview: StatsSummary, min_confidence: str | None) -> ReportSection:
    created, modified = _date_range(lg, "created_at"), _date_range(lg, "last_modified")
    measures = [
        ("models", overview.models),
        ("models with a record of their own", overview.models_with_record),
        ("edges (base → derived)", overview.edges),
        ("pieces of evidence", overview.evidence),
        ("dangling references", overview.dangling_references),
        ("input problems", overview.problems),
        ("roots", overview.roots),
        ("isolated models", overview.isolated_models),
        ("weakly connected components (2+ models)", overview.components),
        ("models with several parents", overview.models_with_several_parents),
        ("cycles / self-loops", f"{overview.cycles} / {overview.self_loops}"),
    ]
    table = pl.DataFrame(
        {"measure": [m for m, _ in measures], "value": [f"{v:,}" if isinstance(v, int) else v for _, v in measures]}
    )
    sources = "; ".join(str(s) for s in overview.sources or []) or "not recorded"
    return ReportSection(
        "Snapshot",
        lines=[
            f"Sources: {sources}.",
            f"Models created between {_day(created[0])} and {_day(created[1])}; last modified between "
            f"{_day(modified[0])} and {_day(modified[1])} (models with a record; others have no dates).",
            f"Snapshot written {lg.snapshot.meta.get('written_at', 'at an unrecorded time')}. "
            + (f"Only edges whose parent confidence is {min_confidence} or better are counted." if min_confidence
               else "Edges of every parent confidence are counted."),
        ],
        tables=[("", table)],
    )


def relation_section(rows: pl.DataFrame, edges: int) -> ReportSection:
    mix = _section_rows(rows, "edges_by_relation", "relation", "edges").with_columns(
        (pl.col("edges") / max(edges, 1) * 100).round(1).alias("share %")
    )
    rules = _section_rows(rows, "edges_by_rule", "decided by", "edges")
    parent = _section_rows(rows, "edges_by_parent_confidence", "parent confidence", "edges")
    relation = _section_rows(rows, "edges_by_relation_confidence", "relation confidence", "edges")
    return ReportSection(
        "Relation mix",
        lines=["Each edge's resolved relation, which piece of evidence decided it (README: Data model), and "
               "how sure its parent and its relation are (README: Definitions)."],
        tables=[("edges by relation", mix), ("edges by deciding rule", rules),
                ("edges by parent confidence", parent), ("edges by relation confidence", relation)],
        figures=[
            Figure("relation_mix", "Edges by relation", "bar", mix["relation"].to_list(), mix["edges"].to_list(),
                   xlabel="relation", ylabel="edges")
        ],
    )


def generation_section(rows: pl.DataFrame, overview: StatsSummary) -> ReportSection:
    generations = _section_rows(rows, "models_by_generation", "generation", "models").with_columns(
        pl.col("generation").cast(pl.Int64))
    return ReportSection(
        "Generation distribution",
        lines=[
            "Generation: the fewest hops from a root (README: Definitions); an isolated model is a root, "
            "generation 0; a model no root reaches (inside a cycle) has no generation. Highest: "
            f"{overview.max_generation}."
        ],
        tables=[("models by generation", generations)],
        figures=[
            Figure("generation_distribution", "Models by generation", "bar", generations["generation"].to_list(),
                   generations["models"].to_list(), xlabel="generation (hops from a root)", ylabel="models")
        ],
    )


def fan_out_section(by_model: AnalysisResult[ReachSummary]) -> ReportSection:
    fan_out = by_model.tables["fan_out"]
    s = by_model.summary
    with_children = fan_out.filter(pl.col("direct_dependents") > 0)
    return ReportSection(
        "Fan-out distribution",
        lines=[
            f"Fan-out: a model's direct dependents (analyses/reach.py). {s.models_with_dependents:,} of "
            f"{s.models:,} models ({s.share_with_dependents:.1%}) have at least one; the figure leaves out "
            "the models with none, which a log axis cannot show.",
        ],
        tables=[("models by number of direct dependents", fan_out.rename({"direct_dependents": "fan-out"}))],
        figures=[
            Figure("fan_out", "Fan-out distribution (log-log)", "loglog",
                   with_children["direct_dependents"].to_list(), with_children["models"].to_list(),
                   xlabel="direct dependents (fan-out)", ylabel="models")
        ],
    )


def reach_section(
    by_model: AnalysisResult[ReachSummary], by_author: AnalysisResult[ReachSummary], top: int
) -> ReportSection:
    s = by_model.summary
    models = by_model.rows.select("id", "direct_dependents", "reach", "reach_downloads", "downloads_unknown",
                                  "subtree_height")
    authors = by_author.rows.select("id", "models", "direct_dependents", "reach", "reach_downloads",
                                    "downloads_unknown")
    shown = models.head(15)
    return ReportSection(
        "Top models and authors by reach",
        lines=[
            "Reach: a model's transitive dependents, each counted once; an author's reach is the union over the "
            f"author's models (analyses/reach.py). The top 1% of models by reach ({s.top_1pct_models:,} models) "
            f"reach {s.share_of_reach_top_1pct:.2%} of the {s.derived_models:,} derived models; the top 20 "
            f"authors reach {s.share_of_reach_top_20_authors:.2%}. Downloads are the Hub's 30-day counts.",
        ],
        tables=[(f"top {models.height} models by reach", models), (f"top {authors.height} authors by reach", authors)],
        figures=[
            Figure("top_models_by_reach", "Models with the greatest reach", "bar", shown["id"].to_list(),
                   shown["reach"].to_list(), xlabel="model", ylabel="models in its reach")
        ],
    )


def stale_section(lg: LineageGraph) -> ReportSection:
    stale = stale_ancestors(lg)
    s = stale.summary
    lags = stale.rows.filter(pl.col("reason").is_in(UPDATE_REASONS))["lag_days"].drop_nulls()
    return ReportSection(
        "Stale ancestors",
        lines=[
            f"{s.models_with_stale_ancestors:,} models have at least one stale ancestor ({s.stale_rows:,} "
            "(model, ancestor, reason) rows). weights_updated: the ancestor's weights, config, tokenizer or code "
            "changed after the model was created; card_updated: only its other files did; updated_unknown_part: "
            "it was modified, and only the repo-wide date is known (the lag, in days, is the difference); "
            "new_version: the ancestor's card names a newer release; unavailable: disabled, private or not "
            "found (gated is a kind of access, not unavailability; analyses/staleness.py). "
            f"{s.models_without_created_at:,} models have no creation date and cannot be checked for "
            f"updates; the longest lag is {s.max_lag_days or 0:,} days.",
        ],
        tables=[("stale ancestors by reason", stale.tables["by_reason"])],
        figures=[
            Figure("stale_lag", "Lag behind an updated ancestor", "hist", lags.to_list(),
                   xlabel="lag (days between the model's creation and its ancestor's last change)",
                   ylabel="(model, ancestor) pairs")
        ],
    )


def risk_section(lg: LineageGraph, by_model: AnalysisResult[ReachSummary], top: int) -> ReportSection:
    data = risk(lg, data_risks=DATA_RISKS)
    own_risks = data.tables["sources"].group_by("id").agg(pl.col("risk").sort())
    bases = by_model.rows.head(top).select(pl.col("id").alias("base"))
    # one walk for every base: risk() walks each source on its own, and its rows say which source they are from
    exposure = risk(lg, bases["base"].to_list()).rows
    exposure_table = bases.join(
        exposure.group_by("source").agg(
            pl.len().cast(pl.Int64).alias("affected_models"),  # one row per model a source affects
            pl.col("downloads").sum().cast(pl.Int64).alias("affected_downloads"),
            *((pl.col("dependency") == kind).sum().cast(pl.Int64).alias(kind)
              for kind in ("runtime_code", "runtime", "inherited")),
        ),
        left_on="base", right_on="source", how="left", maintain_order="left",
    ).join(own_risks.rename({"id": "base", "risk": "its own risks"}), on="base", how="left", maintain_order="left")
    exposure_table = exposure_table.with_columns(
        pl.col("affected_models", "affected_downloads", "runtime_code", "runtime", "inherited").fill_null(0),
        pl.col("its own risks").fill_null([]),
    )
    d = data.summary
    return ReportSection(
        "Risk exposure",
        lines=[
            f"If one of the {exposure_table.height} most depended-on bases were compromised: the models affected "
            "(its reach), their downloads, and how they depend on it (the runtime rule, README Definitions): "
            "runtime_code when they run the base's Python code (auto_map), runtime when they load its weights "
            "(adapter hops), inherited when the weights were copied. \"its own risks\" are the risks the data "
            "shows for the base itself.",
            f"Across the snapshot, the risks the data shows (pickle-only weights, no licence, a licence conflict "
            f"with a parent) come from {d.sources:,} models and reach {d.affected_models:,} models "
            f"({d.affected_downloads:,} downloads).",
        ],
        tables=[
            ("the most depended-on bases, if compromised", exposure_table),
            ("risks the data shows, by risk", data.tables["by_risk"]),
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
            f"{s.drift_edges:,} of {s.edges:,} edges join two models whose stated licences differ, or a "
            "child stating none under a base whose licence must be passed on "
            f"({s.edges_both_licensed:,} edges have a licence on both sides; on {s.edges_license_unstated:,} "
            "only one side states one). Verdicts follow the licence table in analyses/licenses.py: "
            f"{s.likely_violations:,} likely violations, {s.missing:,} missing, {s.unclear:,} unclear, "
            f"{s.allowed:,} allowed.",
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


def missing_section(audit_rates: pl.DataFrame, summary: CompletenessSummary) -> ReportSection:
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
            f"Of {summary.models_assessed:,} models with a record, {summary.models_missing_any:,} miss at "
            "least one attribute. base_model counts only models the graph gives a parent; \"% of downloads\" is "
            "the share of the assessed models' downloads held by those missing it (analyses/completeness.py)."
        ],
        tables=[("missing attributes", rates)],
        figures=[
            Figure("missing_attributes", "Models missing each attribute", "bar", rates["attribute"].to_list(),
                   rates["missing %"].fill_null(0).to_list(), xlabel="attribute", ylabel="% of assessed models")
        ],
    )


def disagreement_section(tables: dict[str, pl.DataFrame], summary: CompletenessSummary) -> ReportSection:
    return ReportSection(
        "Relation disagreements",
        lines=[
            f"{summary.edges_relations_disagree:,} of {summary.edges:,} edges state two or more different "
            "relations: declared in the child's card, given by the Hub (tag or model tree), inferred from the "
            "child's files and name. The resolved relation is the one the graph uses."
        ],
        tables=[
            ("each pair of sources", tables["disagreement_pairs"]),
            ("disagreeing edges by stated relations", tables["disagreements"]),
        ],
    )


def check_section(lg: LineageGraph, top: int, ignore: Iterable[Ignore], baseline: Iterable[Identity]) -> ReportSection:
    """``check`` on the ``top`` most downloaded models with a record (most downloaded first, then by id)."""
    recorded = lg.snapshot.columns("models", ["id", "has_record", "downloads"]).filter(pl.col("has_record"))
    # top_k, not a sort of every model (unknown counts least, then the first ids); then those few in order
    models = recorded.top_k(top, by=["downloads", "id"], reverse=[False, True]).sort(
        ["downloads", "id"], descending=[True, False], nulls_last=True)
    gate = check(lg, models["id"].to_list(), fail_on="medium", ignore=ignore, baseline=baseline)
    s = gate.summary
    return ReportSection(
        "Lineage check of the most downloaded models",
        lines=[
            f"ptmgraph check on the {len(s.models)} most downloaded models with a record: their findings over "
            "their own record and their ancestors, by kind, each with a severity (analyses/check.py). "
            f"{s.findings:,} findings, {s.waived:,} of them waived (--ignore, --baseline), which count for "
            f"nothing; {len(s.failing_models):,} models have a finding at medium or above that is not waived.",
        ],
        tables=[
            ("findings by kind", gate.tables["by_finding"]),
            ("findings by model (not waived, by severity; and waived)", gate.tables["by_model"]),
        ],
    )


def build_report(
    lg: LineageGraph, *, top: int = TOP, min_confidence: str | None = None, ignore: Iterable[Ignore] = (),
    baseline: Iterable[Identity] = (),
) -> Report:
    """The report's sections for the snapshot behind ``lg``; ``top`` rows in each ranked table.
    ``min_confidence`` names the edge filter ``lg`` was loaded with (:func:`ptmgraph.graph.load_graph`),
    for the report to state; ``ignore`` and ``baseline`` waive findings of the check section
    (:func:`ptmgraph.analyses.check.waive`)."""
    overview = stats(lg)
    audit = completeness(lg)
    by_model = reach_ranking(lg, by="model", top=top)
    by_author = reach_ranking(lg, by="author", top=top)
    return Report(
        title="ptmgraph ecosystem report",
        sections=[
            snapshot_section(lg, overview.summary, min_confidence),
            relation_section(overview.rows, overview.summary.edges),
            generation_section(overview.rows, overview.summary),
            fan_out_section(by_model),
            reach_section(by_model, by_author, top),
            stale_section(lg),
            license_section(lg, top),
            risk_section(lg, by_model, top),
            check_section(lg, top, ignore, baseline),
            missing_section(audit.tables["rates"], audit.summary),
            disagreement_section(audit.tables, audit.summary),
        ],
    )


COMMANDS = (
    d.Analysis("report", "Write a Markdown report with tables and figures (PNG and SVG) about a whole snapshot.",
               (d.Option(("--out", "-o"), "out_dir", "Report directory to write.", "path", "outputs/report",
                         metavar="DIR"),
                d.Option(("--top",), "top", "Rows in each ranked table.", "int", 20, metavar="N", least=1),
                d.SNAPSHOT, d.IGNORE, d.BASELINE),
               summary="Report", function=build_report,
               prepare=lambda values: {"ignore": ignores(values["ignore"])}),
)
"""The command of this module's analysis (:mod:`ptmgraph.declaration`): files, not a table."""
