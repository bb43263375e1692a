"""Analyses of the lineage graph. Each returns an :class:`~ptmgraph.result.AnalysisResult` whose tables are Polars.

Each module is one analysis (or a few that share their reading): its functions, and ``COMMANDS``, the
declaration of the commands it answers (:mod:`ptmgraph.declaration`), from which the command line is
built. Import an analysis from its module (``from ptmgraph.analyses.lineage import impact``): this
package imports none of them, so that a point query imports neither networkx nor the other analyses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ptmgraph.declaration import Analysis


def declarations() -> dict[str, tuple[str, Analysis]]:
    """Every command an analysis declares, by name: the module declaring it and its declaration. It imports
    every analysis (polars with them): the command line reads its index instead (:mod:`ptmgraph.cli_index`)."""
    import pkgutil
    from importlib import import_module

    found: dict[str, tuple[str, Analysis]] = {}
    for module in sorted(info.name for info in pkgutil.iter_modules(__path__)):
        for declared in getattr(import_module(f"{__name__}.{module}"), "COMMANDS", ()):
            found[declared.name] = (module, declared)
    return found
