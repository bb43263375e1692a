"""Analyses of the lineage graph. Each returns an :class:`AnalysisResult` whose tables are Polars.

Each analysis is imported on first use, so that a point query (ancestry, impact) imports neither
networkx nor the other analyses.
"""

import sys
from importlib import import_module
from types import ModuleType
from typing import TYPE_CHECKING, Any

from ptmgraph.lazy import lazy_attributes

if TYPE_CHECKING:
    from ptmgraph.analyses.check import check
    from ptmgraph.analyses.completeness import completeness
    from ptmgraph.analyses.diff import diff_snapshots
    from ptmgraph.analyses.history import model_history
    from ptmgraph.analyses.licenses import classify_license_pair, license_drift
    from ptmgraph.analyses.lineage import ancestry, impact
    from ptmgraph.analyses.model_search import list_models, search
    from ptmgraph.analyses.overview import dangling, model_info, problems, stats
    from ptmgraph.analyses.reach import reach_ranking
    from ptmgraph.analyses.relation_audit import audit_relations
    from ptmgraph.analyses.report import build_report
    from ptmgraph.analyses.risk import DATA_RISKS, risk
    from ptmgraph.analyses.staleness import stale_ancestors
    from ptmgraph.analyses.why import why
    from ptmgraph.result import AnalysisResult

_LAZY = {
    "list_models": "ptmgraph.analyses.model_search",
    "search": "ptmgraph.analyses.model_search",
    "classify_license_pair": "ptmgraph.analyses.licenses",
    "license_drift": "ptmgraph.analyses.licenses",
    "diff_snapshots": "ptmgraph.analyses.diff",
    "model_history": "ptmgraph.analyses.history",
    "ancestry": "ptmgraph.analyses.lineage",
    "impact": "ptmgraph.analyses.lineage",
    "dangling": "ptmgraph.analyses.overview",
    "model_info": "ptmgraph.analyses.overview",
    "problems": "ptmgraph.analyses.overview",
    "stats": "ptmgraph.analyses.overview",
    "reach_ranking": "ptmgraph.analyses.reach",
    "audit_relations": "ptmgraph.analyses.relation_audit",
    "build_report": "ptmgraph.analyses.report",
    "DATA_RISKS": "ptmgraph.analyses.risk",
    "stale_ancestors": "ptmgraph.analyses.staleness",
    "AnalysisResult": "ptmgraph.result",
}

__getattr__ = lazy_attributes("ptmgraph.analyses", _LAZY)

_NAMED_LIKE_THEIR_MODULE = ("check", "completeness", "risk", "why")
"""Analyses that share their module's name. Importing ``ptmgraph.analyses.risk`` binds the package attribute
``risk`` to the module; these attributes are properties of the package instead, so ``ptmgraph.analyses.risk`` is
always the function, whichever was imported first."""


class _Package(ModuleType):
    """This package's module type: :data:`_NAMED_LIKE_THEIR_MODULE` read as functions (see there)."""


def _function_named_like_its_module(name: str) -> property:
    def function(package: ModuleType) -> Any:
        return getattr(import_module(f"ptmgraph.analyses.{name}"), name)

    def bind(package: ModuleType, value: Any) -> None:
        """The import system binding the submodule: the attribute stays the function."""

    return property(function, bind)


for _name in _NAMED_LIKE_THEIR_MODULE:
    setattr(_Package, _name, _function_named_like_its_module(_name))
sys.modules[__name__].__class__ = _Package

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
    "diff_snapshots",
    "impact",
    "license_drift",
    "list_models",
    "model_history",
    "model_info",
    "problems",
    "reach_ranking",
    "risk",
    "search",
    "stale_ancestors",
    "stats",
    "why",
]
