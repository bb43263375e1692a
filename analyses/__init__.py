"""Analyses of the lineage graph. Each returns an :class:`AnalysisResult` whose tables are Polars."""

from typing import TYPE_CHECKING

from ptmgraph.lazy import lazy_attributes

if TYPE_CHECKING:
    from analyses.finding import list_models, search
    from analyses.licenses import classify_license_pair, license_drift
    from analyses.lineage import ancestry, impact
    from analyses.overview import dangling, model_info, problems, stats
    from analyses.reach import reach_ranking
    from analyses.relation_audit import audit_relations
    from analyses.report import build_report
    from analyses.staleness import stale_ancestors
    from ptmgraph.result import AnalysisResult

# Each analysis is imported on first use, so that a point query (ancestry, impact) imports neither
# networkx nor the other analyses.
_LAZY = {
    "list_models": "analyses.finding",
    "search": "analyses.finding",
    "classify_license_pair": "analyses.licenses",
    "license_drift": "analyses.licenses",
    "ancestry": "analyses.lineage",
    "impact": "analyses.lineage",
    "dangling": "analyses.overview",
    "model_info": "analyses.overview",
    "problems": "analyses.overview",
    "stats": "analyses.overview",
    "reach_ranking": "analyses.reach",
    "audit_relations": "analyses.relation_audit",
    "build_report": "analyses.report",
    "stale_ancestors": "analyses.staleness",
    "AnalysisResult": "ptmgraph.result",
}

__getattr__ = lazy_attributes("analyses", _LAZY)

# Three analyses share their module's name: importing the module would bind ``analyses.risk`` to it
# and hide the function, so these three are imported now (none imports networkx).
from analyses.check import check  # noqa: E402
from analyses.completeness import completeness  # noqa: E402
from analyses.risk import DATA_RISKS, risk  # noqa: E402

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
    "list_models",
    "model_info",
    "problems",
    "reach_ranking",
    "risk",
    "search",
    "stale_ancestors",
    "stats",
]
