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
    from analyses.check import check
    from analyses.completeness import completeness
    from analyses.diff import diff_snapshots
    from analyses.finding import list_models, search
    from analyses.history import model_history
    from analyses.licenses import classify_license_pair, license_drift
    from analyses.lineage import ancestry, impact
    from analyses.overview import dangling, model_info, problems, stats
    from analyses.reach import reach_ranking
    from analyses.relation_audit import audit_relations
    from analyses.report import build_report
    from analyses.risk import DATA_RISKS, risk
    from analyses.staleness import stale_ancestors
    from analyses.why import why
    from ptmgraph.result import AnalysisResult

_LAZY = {
    "list_models": "analyses.finding",
    "search": "analyses.finding",
    "classify_license_pair": "analyses.licenses",
    "license_drift": "analyses.licenses",
    "diff_snapshots": "analyses.diff",
    "model_history": "analyses.history",
    "ancestry": "analyses.lineage",
    "impact": "analyses.lineage",
    "dangling": "analyses.overview",
    "model_info": "analyses.overview",
    "problems": "analyses.overview",
    "stats": "analyses.overview",
    "reach_ranking": "analyses.reach",
    "audit_relations": "analyses.relation_audit",
    "build_report": "analyses.report",
    "DATA_RISKS": "analyses.risk",
    "stale_ancestors": "analyses.staleness",
    "AnalysisResult": "ptmgraph.result",
}

__getattr__ = lazy_attributes("analyses", _LAZY)

_NAMED_LIKE_THEIR_MODULE = ("check", "completeness", "risk", "why")
"""Analyses that share their module's name. Importing ``analyses.risk`` binds the package attribute
``risk`` to the module; these attributes are properties of the package instead, so ``analyses.risk`` is
always the function, whichever was imported first."""


class _Package(ModuleType):
    """This package's module type: :data:`_NAMED_LIKE_THEIR_MODULE` read as functions (see there)."""


def _function_named_like_its_module(name: str) -> property:
    def function(package: ModuleType) -> Any:
        return getattr(import_module(f"analyses.{name}"), name)

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
