"""Where the Hub's relation label disagrees with the weights the child ships.

The Hub labels an edge (tag ``base_model:<relation>:<base>`` or a model-tree heading) from the card,
with undocumented rules; the child's files say what it is at run time (see :mod:`ptmgraph.relations`
for the weight shapes). An edge is *judged* when it has both a Hub label and a weight shape that
settles the question, and *disagrees* when:

- the weights are adapter weights only, and the Hub's label is not ``adapter`` (the main case: the
  Hub files adapters as finetunes);
- the weights are quantized, and the Hub's label is not ``quantized``;
- the weights are full (with or without merged adapter files), and the Hub's label is ``adapter``.

Full weights under a ``quantized`` label are not counted: a quantization format the files do not show
(FP8 or HQQ in plain safetensors) looks the same.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from ptmgraph import declaration as d
from ptmgraph.graph import LineageGraph
from ptmgraph.result import AnalysisResult, Summary

_WEIGHTS_SAY = {
    "adapter_only": "adapter",
    "quantized": "quantized",
    "full": "full copy",
    "merged_adapter": "full copy",
}


@dataclass(frozen=True, kw_only=True)
class RelationAuditSummary(Summary):
    """The summary of ``audit-relations`` (:func:`audit_relations`)."""

    edges_with_hub_label: int
    """Edges the Hub's model tree labels."""
    judged_by_weights: int
    """Of those, edges whose child's weight files say what they are."""
    disagreements: int
    """Edges whose Hub label disagrees with the weights (its rows)."""
    children: int
    """Models that are the child of such an edge."""


def audit_relations(lg: LineageGraph) -> AnalysisResult[RelationAuditSummary]:
    """Edges whose Hub label disagrees with the child's weights, and their counts by kind.

    One row per edge: the child (``id``), its base, the Hub's label, the weight shape, the relation
    ptmgraph decided and by which rule, and the child's downloads.
    """
    edges = lg.snapshot.edges.filter(pl.col("hub_relation").is_not_null())
    judged = edges.with_columns(
        pl.col("weights").replace_strict(_WEIGHTS_SAY, default=None, return_dtype=pl.String()).alias("weights_say")
    ).filter(pl.col("weights_say").is_not_null())
    hub, say = pl.col("hub_relation"), pl.col("weights_say")
    disagree = judged.filter(
        ((say == "full copy") & (hub == "adapter")) | ((say != "full copy") & (hub != say))
    )
    downloads = lg.snapshot.models.select(pl.col("id").alias("child"), "downloads")
    rows = (
        disagree.join(downloads, on="child", how="left")
        .with_columns(pl.format("hub {} / weights {}", hub, pl.col("weights")).alias("kind"))
        .select(
            pl.col("child").alias("id"), "base", "kind", "hub_relation", "weights", "relation", "relation_rule",
            "relation_confidence", "downloads",
        )
        .sort(["kind", "downloads", "id"], descending=[False, True, False], nulls_last=True)
    )
    by_kind = rows.group_by("kind").len("edges").sort(["edges", "kind"], descending=[True, False])
    return AnalysisResult(
        title="Where the Hub's label disagrees with the weights",
        rows=rows,
        summary=RelationAuditSummary(
            edges_with_hub_label=edges.height,
            judged_by_weights=judged.height,
            disagreements=rows.height,
            children=rows["id"].n_unique(),
        ),
        tables={"by_kind": by_kind},
    )


COMMANDS = (
    d.Analysis("audit-relations", "Edges where the Hub's relation label disagrees with the weights the child ships, "
               "counted by kind.", (d.SNAPSHOT, d.FORMAT, d.LIMIT, d.CSV_RAW), summary="RelationAuditSummary",
               function=audit_relations, columns=("id", "kind", "downloads"), answer=("kind",)),
)
"""The command of this module's analysis (:mod:`ptmgraph.declaration`)."""
