"""ptmgraph: lineage graphs of pre-trained models (Hugging Face Hub metadata -> NetworkX + Polars).

Python API, in the order data flows::

    from ptmgraph import load_graph             # the bundled snapshot, or load_graph(Path(dir))
    from analyses import ancestry, impact, stats, model_info
    lg = load_graph()
    impact(lg, "meta-llama/Llama-2-7b-chat-hf").rows   # a Polars DataFrame
"""

from ptmgraph.graph import LineageGraph, UnknownModelError, load_graph
from ptmgraph.records import EvidenceKind, Harvest, ModelRecord, Reference, Relation

__version__ = "0.1.0"

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
