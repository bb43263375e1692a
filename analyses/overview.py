"""Whole-snapshot statistics and one model's neighbourhood.

Definitions (*root*, *depth* and *reach* as in :mod:`ptmgraph.traverse`):
- **depth** of a model (stats): its depth from the roots; a model no root reaches (inside a cycle)
  has none. An isolated model is a root at depth 0.
- **component**: a weakly connected component of the graph; its *hub* is its model with the most children.
- **cycle**: a strongly connected component of two or more models; a **self-loop** is a model naming itself.
"""

from __future__ import annotations

from typing import Any

import networkx as nx
import polars as pl

from ptmgraph.graph import LineageGraph
from ptmgraph.result import AnalysisResult
from ptmgraph.traverse import depths_from_roots, reach

_METRIC_SCHEMA = {"section": pl.String(), "id": pl.String(), "count": pl.Int64()}


def _counts(section: str, frame: pl.DataFrame, column: str) -> list[dict[str, Any]]:
    if frame.height == 0:
        return []
    grouped = frame.group_by(column).len().sort(["len", column], descending=[True, False])
    return [{"section": section, "id": str(k), "count": int(n)} for k, n in grouped.iter_rows()]


def stats(lg: LineageGraph, *, top: int = 10) -> AnalysisResult:
    """Counts of models, edges by relation and evidence, dangling references, roots, depths, components."""
    snap, graph = lg.snapshot, lg.graph
    depths = depths_from_roots(graph)
    roots = [n for n, d in depths.items() if d == 0]
    components = sorted(nx.weakly_connected_components(graph), key=len, reverse=True)
    cycles = [c for c in nx.strongly_connected_components(graph) if len(c) > 1]
    rows: list[dict[str, Any]] = []
    rows += _counts("edges_by_relation", snap.edges, "relation")
    rows += _counts("edges_by_rule", snap.edges, "relation_rule")
    rows += _counts("edges_by_confidence", snap.edges, "confidence")
    rows += _counts("evidence_by_kind", snap.evidence, "kind")
    rows += _counts("dangling_by_reason", snap.dangling, "reason")
    depth_frame = pl.DataFrame({"depth": list(depths.values())}, schema={"depth": pl.Int64()})
    rows += [
        {"section": "models_by_depth", "id": str(d), "count": n}
        for d, n in depth_frame.group_by("depth").len().sort("depth").iter_rows()
    ]
    for comp in components[:top]:
        if len(comp) < 2:
            break
        hub = max(sorted(comp), key=graph.out_degree)
        rows.append({"section": "largest_components", "id": hub, "count": len(comp)})
    # Each model lies below few roots, so walking from every root is linear for Hub-shaped graphs.
    counts = {r: len(reach(graph, [r])) for r in roots if graph.out_degree(r)}
    top_roots = sorted(counts, key=lambda r: (-counts[r], r))[:top]
    rows += [{"section": "top_roots_by_descendants", "id": r, "count": counts[r]} for r in top_roots]
    summary = {
        "models": graph.number_of_nodes(),
        "models_with_record": int(snap.models["has_record"].sum()),
        "edges": graph.number_of_edges(),
        "evidence": snap.evidence.height,
        "dangling_references": snap.dangling.height,
        "problems": snap.problems.height,
        "roots": len(roots),
        "isolated_models": sum(1 for n in graph if graph.degree(n) == 0),
        "max_depth": max(depths.values(), default=0),
        "components": sum(1 for c in components if len(c) > 1),
        "self_loops": nx.number_of_selfloops(graph),
        "cycles": len(cycles),
        "relation_disagreements": int(snap.edges["relations_disagree"].sum()),
        "models_with_several_parents": sum(1 for n in graph if graph.in_degree(n) > 1),
        "sources": snap.meta.get("sources", []),
    }
    return AnalysisResult(title="Snapshot statistics", rows=pl.DataFrame(rows, schema=_METRIC_SCHEMA), summary=summary)


_NEIGHBOUR_SCHEMA = {
    "id": pl.String(),
    "direction": pl.String(),
    "relation": pl.String(),
    "relation_rule": pl.String(),
    "confidence": pl.String(),
    "declared_relation": pl.String(),
    "hub_relation": pl.String(),
    "inferred_relation": pl.String(),
    "evidence": pl.List(pl.String()),
}


def model_info(lg: LineageGraph, model: str) -> AnalysisResult:
    """The model's record, its direct parents and children, and the evidence for each edge.

    Each evidence item reads ``kind field (source)``; dangling references the model makes are listed too.
    """
    model = lg.resolve(model)
    snap = lg.snapshot
    evidence = snap.evidence.filter((pl.col("child") == model) | (pl.col("base") == model))
    rows = []
    for direction, pairs in (
        ("parent", [(p, model) for p in lg.parents(model)]),
        ("child", [(model, c) for c in lg.children(model)]),
    ):
        for base, child in pairs:
            edge = lg.edge(base, child)
            items = evidence.filter((pl.col("base") == base) & (pl.col("child") == child))
            rows.append(
                {
                    "id": base if direction == "parent" else child,
                    "direction": direction,
                    **{
                        k: edge[k]
                        for k in ("relation", "relation_rule", "confidence", "declared_relation", "hub_relation",
                                  "inferred_relation")
                    },
                    "evidence": [f"{k} {f} ({s})" for k, f, s in items.select("kind", "field", "source").iter_rows()],
                }
            )
    full = lg.record(model)
    record = {k: v for k, v in full.items() if k not in {"files", "tags"}}
    record["files"] = len(full.get("files") or [])
    dangling = snap.dangling.filter(pl.col("child") == model)
    return AnalysisResult(
        title=f"{model}",
        rows=pl.DataFrame(rows, schema=_NEIGHBOUR_SCHEMA),
        summary={
            "model": model,
            "record": record,
            "parents": len(lg.parents(model)),
            "children": len(lg.children(model)),
        },
        tables={"dangling": dangling},
    )


def dangling(lg: LineageGraph, *, reason: str | None = None) -> AnalysisResult:
    """References that could not become edges (local paths, other sites, deleted models ...), with a count by reason.

    One row per reference: the model that made it (``id``), the raw value, where it was found and why it dangles.
    """
    frame = lg.snapshot.dangling
    if reason is not None:
        frame = frame.filter(pl.col("reason") == reason)
    rows = frame.rename({"child": "id"}).sort(["reason", "id"])
    by_reason = rows.group_by("reason").len("references").sort("references", descending=True)
    return AnalysisResult(
        title="Dangling references",
        rows=rows,
        summary={"references": rows.height, "models": rows["id"].n_unique(), "reason_filter": reason},
        tables={"by_reason": by_reason},
    )


def problems(lg: LineageGraph) -> AnalysisResult:
    """Input that was read but could not be used: broken card YAML, bad JSON lines, unreadable files."""
    rows = lg.snapshot.problems.rename({"model": "id"}).select("id", "source", "message")
    return AnalysisResult(title="Input problems", rows=rows, summary={"problems": rows.height})
