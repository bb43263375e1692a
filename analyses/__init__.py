"""Analyses of the lineage graph. Each returns an :class:`AnalysisResult` whose tables are Polars."""

from analyses.lineage import ancestry, impact
from analyses.overview import model_info, stats
from analyses.result import AnalysisResult

__all__ = ["AnalysisResult", "ancestry", "impact", "model_info", "stats"]
