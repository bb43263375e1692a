"""Analyses of the lineage graph. Each returns an :class:`AnalysisResult` whose tables are Polars."""

from analyses.completeness import completeness
from analyses.licenses import classify_license_pair, license_drift
from analyses.lineage import ancestry, impact
from analyses.overview import dangling, model_info, problems, stats
from analyses.relation_audit import audit_relations
from analyses.report import build_report
from ptmgraph.result import AnalysisResult

__all__ = [
    "AnalysisResult",
    "ancestry",
    "audit_relations",
    "build_report",
    "classify_license_pair",
    "completeness",
    "dangling",
    "impact",
    "license_drift",
    "model_info",
    "problems",
    "stats",
]
