"""Analyses of the lineage graph. Each returns an :class:`AnalysisResult` whose tables are Polars."""

from analyses.lineage import ancestry, impact
from analyses.overview import dangling, model_info, problems, stats
from ptmgraph.result import AnalysisResult

__all__ = ["AnalysisResult", "ancestry", "dangling", "impact", "model_info", "problems", "stats"]
