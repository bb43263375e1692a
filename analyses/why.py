"""Why: every path by which a model derives from an ancestor, hop by hop with each edge's evidence.

Definitions (*ancestor* as in :mod:`ptmgraph.analyses.lineage`; the walk is :func:`ptmgraph.traverse.paths_between`):

- a **path** from ANCESTOR to MODEL: a simple path ANCESTOR -> ... -> MODEL along edges base -> derived.
  Merges can multiply paths: at most ``max_paths`` are listed (depth first from MODEL, parents in id
  order) and ``paths_truncated`` says when more exist.
- one row per **hop** of each path: its ``path`` number (1, 2 ...), ``hop`` number (1 at MODEL's end),
  ``child`` (the derived model), ``base``, the edge's ``relation``, ``parent_confidence`` and
  ``relation_confidence`` (README "Definitions"), and its
  ``evidence``: each item ``kind field (source)`` of the ``evidence`` table.
"""

from __future__ import annotations

from itertools import pairwise

import polars as pl

from ptmgraph import declaration as d
from ptmgraph.graph import LineageGraph
from ptmgraph.result import AnalysisResult, WhySummary
from ptmgraph.traverse import paths_between

_ROW_SCHEMA = {
    "path": pl.Int64(),
    "hop": pl.Int64(),
    "child": pl.String(),
    "base": pl.String(),
    "relation": pl.String(),
    "parent_confidence": pl.String(),
    "relation_confidence": pl.String(),
    "evidence": pl.List(pl.String()),
}


def why(lg: LineageGraph, model: str, ancestor: str, *, max_paths: int = 20) -> AnalysisResult[WhySummary]:
    """The paths from ``ancestor`` to ``model`` (module docstring), one row per hop."""
    model = lg.resolve(model)
    ancestor = lg.resolve(ancestor)
    paths, truncated = paths_between(lg.compact, model, ancestor, max_paths)
    hops = [(number, hop, child, base)
            for number, path in enumerate(paths, 1)
            for hop, (base, child) in enumerate(reversed(list(pairwise(path))), 1)]
    pairs = pl.DataFrame([(b, c) for _, _, c, b in hops], schema={"base": pl.String(), "child": pl.String()},
                         orient="row").unique()
    snap = lg.snapshot
    # the last edges row of a pair, as the graph keeps it (LineageGraph.edge)
    edges = snap.edges.select("base", "child", "relation", "parent_confidence", "relation_confidence").join(
        pairs, on=["base", "child"]).unique(["base", "child"], keep="last", maintain_order=True)
    evidence = snap.evidence.select("base", "child", "kind", "field", "source").join(pairs, on=["base", "child"])
    items = evidence.group_by("base", "child", maintain_order=True).agg(
        pl.format("{} {} ({})", "kind", "field", "source").alias("evidence"))
    edge_of = {(r["base"], r["child"]): r for r in edges.join(items, on=["base", "child"], how="left").to_dicts()}
    rows = []
    for number, hop, child, base in hops:
        edge = edge_of.get((base, child), {})
        rows.append({"path": number, "hop": hop, "child": child, "base": base, "relation": edge.get("relation"),
                     "parent_confidence": edge.get("parent_confidence"),
                     "relation_confidence": edge.get("relation_confidence"), "evidence": edge.get("evidence") or []})
    return AnalysisResult(
        title=f"Why {model} derives from {ancestor}",
        rows=pl.DataFrame(rows, schema=_ROW_SCHEMA),
        summary=WhySummary(model=model, ancestor=ancestor, paths=len(paths), paths_truncated=truncated,
                           shortest=min((len(p) - 1 for p in paths), default=None)),
    )


COMMANDS = (
    d.Analysis("why", "Every path by which MODEL derives from ANCESTOR, hop by hop with each edge's relation and "
               "evidence; exit 1 when there is none.",
               (d.MODEL.but(help="The derived model (ORG/NAME or a Hub URL)."),
                d.Option(("ANCESTOR",), "ancestor", "The ancestor it may derive from.", argument=True, required=True),
                d.SNAPSHOT, d.FORMAT,
                d.Option(("--max-paths",), "max_paths", "List at most this many paths (merges multiply them).", "int",
                         20, metavar="N", least=1), d.CSV_RAW, *d.LOOKUP),
               summary="WhySummary", fails=lambda result: not result.summary["paths"],
               look_up=d.LookUp("model", "ancestors")),
)
"""The command of this module's analysis (:mod:`ptmgraph.declaration`)."""
