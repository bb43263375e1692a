"""The data model's words that the command line offers as choices: relations (``--relation``) and
confidence levels (``--min-confidence``).

Light on purpose (no imports): :mod:`ptmgraph.declaration` names them as the choices of its options, read
before any command runs, without the tables (polars) of :mod:`ptmgraph.records`, which re-exports
:class:`Relation`, and :mod:`ptmgraph.relations`, which re-exports :class:`Confidence`.
"""

from __future__ import annotations

from enum import Enum


class Relation(str, Enum):
    """How a derived model was made from its base."""

    FINETUNE = "finetune"
    ADAPTER = "adapter"
    QUANTIZED = "quantized"
    MERGE = "merge"
    UNKNOWN = "unknown"

    @classmethod
    def parse(cls, value: object) -> Relation | None:
        """Map the spellings found on the Hub and in datasets to a relation; None if unrecognised."""
        if not isinstance(value, str):
            return None
        key = value.strip().lower().replace("-", "_").replace(" ", "_")
        return _RELATION_SPELLINGS.get(key)


_RELATION_SPELLINGS: dict[str, Relation] = {
    "finetune": Relation.FINETUNE,
    "fine_tune": Relation.FINETUNE,
    "finetunes": Relation.FINETUNE,
    "finetuned": Relation.FINETUNE,
    "fine_tuned": Relation.FINETUNE,
    "adapter": Relation.ADAPTER,
    "adapters": Relation.ADAPTER,
    "lora": Relation.ADAPTER,
    "qlora": Relation.ADAPTER,
    "peft": Relation.ADAPTER,
    "gguf": Relation.QUANTIZED,
    "gptq": Relation.QUANTIZED,
    "awq": Relation.QUANTIZED,
    "exl2": Relation.QUANTIZED,
    "quantized": Relation.QUANTIZED,
    "quantization": Relation.QUANTIZED,
    "quantizations": Relation.QUANTIZED,
    "quantised": Relation.QUANTIZED,
    "quant": Relation.QUANTIZED,
    "merge": Relation.MERGE,
    "merges": Relation.MERGE,
    "merged": Relation.MERGE,
    "model_merge": Relation.MERGE,
    "unknown": Relation.UNKNOWN,
}


class Confidence(str, Enum):
    """How far an edge can be trusted (see the module docstring)."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Confidence.LOW: 0, Confidence.MEDIUM: 1, Confidence.HIGH: 2}
