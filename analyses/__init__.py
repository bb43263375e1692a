"""Analyses of the lineage graph. Each returns an :class:`AnalysisResult` whose tables are Polars."""

from analyses.lineage import ancestry, impact
from analyses.overview import dangling, model_info, problems, stats
from analyses.relation_audit import audit_relations
from ptmgraph.result import AnalysisResult

__all__ = ["AnalysisResult", "ancestry", "audit_relations", "dangling", "impact", "model_info", "problems", "stats"]
