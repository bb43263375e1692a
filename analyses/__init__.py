"""Analyses of the lineage graph. Each returns an :class:`AnalysisResult` whose tables are Polars."""

from analyses.check import check
from analyses.completeness import completeness
from analyses.licenses import classify_license_pair, license_drift
from analyses.lineage import ancestry, impact
from analyses.overview import dangling, model_info, problems, stats
from analyses.reach import reach_ranking
from analyses.relation_audit import audit_relations
from analyses.report import build_report
from analyses.risk import DATA_RISKS, risk
from analyses.staleness import stale_ancestors
from ptmgraph.result import AnalysisResult

__all__ = [
    "DATA_RISKS",
    "AnalysisResult",
    "ancestry",
    "audit_relations",
    "build_report",
    "check",
    "classify_license_pair",
    "completeness",
    "dangling",
    "impact",
    "license_drift",
    "model_info",
    "problems",
    "reach_ranking",
    "risk",
    "stale_ancestors",
    "stats",
]
