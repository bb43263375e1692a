"""ptmgraph: lineage graphs of pre-trained models (Hugging Face Hub metadata -> NetworkX + Polars).

Python API, in the order data flows::

    from ptmgraph import load_graph             # the bundled snapshot, or load_graph(Path(dir))
    from ptmgraph.analyses.lineage import ancestry, impact
    from ptmgraph.analyses.overview import stats, model_info
    lg = load_graph()
    impact(lg, "meta-llama/Llama-2-7b-chat-hf").rows   # a Polars DataFrame
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ptmgraph.lazy import lazy_attributes

if TYPE_CHECKING:
    from ptmgraph.graph import LineageGraph, UnknownModelError, load_graph
    from ptmgraph.records import EvidenceKind, Harvest, ModelRecord, Reference, Relation

__version__ = "0.1.0"

# The API is imported on first use, so that the command line's --help and --version load neither
# polars nor networkx (they start with ``import ptmgraph``).
_LAZY = {
    "LineageGraph": "ptmgraph.graph",
    "UnknownModelError": "ptmgraph.graph",
    "load_graph": "ptmgraph.graph",
    "EvidenceKind": "ptmgraph.records",
    "Harvest": "ptmgraph.records",
    "ModelRecord": "ptmgraph.records",
    "Reference": "ptmgraph.records",
    "Relation": "ptmgraph.records",
}


__getattr__ = lazy_attributes("ptmgraph", _LAZY)

__all__ = [
    "EvidenceKind",
    "Harvest",
    "LineageGraph",
    "ModelRecord",
    "Reference",
    "Relation",
    "UnknownModelError",
    "__version__",
    "load_graph",
]
