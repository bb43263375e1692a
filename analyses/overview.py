"""Whole-snapshot statistics and one model's neighbourhood.

Definitions (*root* and *reach* as in :mod:`ptmgraph.traverse`):
- **generation** of a model: the fewest hops from any root (a root is generation 0, an isolated model
  too); a model no root reaches (inside a cycle) has none. *Depth* is never this: it counts hops from
  the model a query asks about.
- **component**: a weakly connected component of the graph; its *hub* is its model with the most children.
- **cycle**: a strongly connected component of two or more models; a **self-loop** is a model naming itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from ptmgraph import declaration as d
from ptmgraph.graph import LineageGraph
from ptmgraph.passes import condense, depth_array, reach_arrays, weak_components
from ptmgraph.records import DanglingReason
from ptmgraph.result import AnalysisResult, ModelInfoSummary, Summary


@dataclass(frozen=True, kw_only=True)
class StatsSummary(Summary):
    """The summary of ``stats`` (:func:`stats`): counts over the whole snapshot."""

    models: int
    """Models, with a record or only referenced."""
    models_with_record: int
    """Models whose own record the snapshot holds."""
    edges: int
    """Edges (base -> derived)."""
    evidence: int
    """Evidence rows."""
    dangling_references: int
    """References that could not become edges."""
    problems: int
    """Input problems (unreadable card YAML, bad JSON lines, ...)."""
    roots: int
    """Models with no parent other than themselves (depth 0)."""
    isolated_models: int
    """Models with no edge at all."""
    max_generation: int
    """The largest generation (hops from a root); 0 when every model lies on a cycle."""
    components: int
    """Weakly connected components of two models or more."""
    self_loops: int
    """Models naming themselves as a parent."""
    cycles: int
    """Strongly connected components of two models or more."""
    relation_disagreements: int
    """Edges whose sources state different relations."""
    models_with_several_parents: int
    """Models with two parents or more (merges)."""
    sources: list[str]
    """The sources the snapshot was built from (its ``meta.json``)."""


@dataclass(frozen=True, kw_only=True)
class DanglingSummary(Summary):
    """The summary of ``dangling`` (:func:`dangling`)."""

    references: int
    """Dangling references listed (its rows)."""
    models: int
    """Models that make them."""
    reason_filter: str | None
    """The ``--reason`` asked for; None: every reason."""


@dataclass(frozen=True, kw_only=True)
class ProblemsSummary(Summary):
    """The summary of ``problems`` (:func:`problems`)."""

    problems: int
    """Input problems listed (its rows)."""


_METRIC_SCHEMA = {"section": pl.String(), "id": pl.String(), "count": pl.Int64()}


def _counts(section: str, frame: pl.DataFrame, column: str) -> list[dict[str, Any]]:
    if frame.height == 0:
        return []
    grouped = frame.group_by(column).len().sort(["len", column], descending=[True, False])
    return [{"section": section, "id": str(k), "count": int(n)} for k, n in grouped.iter_rows()]


def stats(lg: LineageGraph, *, top: int = 10) -> AnalysisResult[StatsSummary]:
    """Counts of models, edges by relation and evidence, dangling references, roots, generations, components."""
    snap, index = lg.snapshot, lg.compact
    condensed = condense(index)
    generation = depth_array(index)  # hops from the roots
    out_degree = np.diff(index.children.indptr)  # a self-loop counts, as networkx counts it
    in_degree = np.diff(index.parents.indptr)
    # of each table only the columns counted (a stored snapshot reads no other)
    edges = snap.columns("edges", ["relation", "relation_rule", "parent_confidence", "relation_confidence",
                                   "relations_disagree"])
    evidence = snap.columns("evidence", ["kind"])
    dangling = snap.columns("dangling", ["reason"])
    rows: list[dict[str, Any]] = []
    rows += _counts("edges_by_relation", edges, "relation")
    rows += _counts("edges_by_rule", edges, "relation_rule")
    rows += _counts("edges_by_parent_confidence", edges, "parent_confidence")
    rows += _counts("edges_by_relation_confidence", edges, "relation_confidence")
    rows += _counts("evidence_by_kind", evidence, "kind")
    rows += _counts("dangling_by_reason", dangling, "reason")
    by_generation = np.bincount(generation[generation >= 0])
    rows += [{"section": "models_by_generation", "id": str(g), "count": int(n)}
             for g, n in enumerate(by_generation) if n]
    component = weak_components(index)
    size = np.bincount(component, minlength=index.nodes)
    several = np.flatnonzero(size > 1)  # components of two models or more, named by their smallest position
    largest = several[np.lexsort((several, -size[several]))][:top]  # networkx's order: biggest, then first met
    for name in largest.tolist():
        members = np.flatnonzero(component == name)
        busiest = members[out_degree[members] == out_degree[members].max()]
        rows.append({"section": "largest_components", "id": min(index.names(busiest)), "count": int(size[name])})
    # every root with an edge out, by its reach (reach_arrays: each descendant once)
    with_children = np.flatnonzero((generation == 0) & (out_degree > 0))
    reach_of = reach_arrays(index, None, condensed).reach[with_children]
    ranked = pl.DataFrame({"id": pl.Series(index.names(with_children), dtype=pl.String()), "count": reach_of})
    ranked = ranked.sort(["count", "id"], descending=[True, False]).head(top)
    rows += [{"section": "top_roots_by_descendants", "id": r, "count": int(c)} for r, c in ranked.iter_rows()]
    summary = StatsSummary(
        models=index.nodes,
        models_with_record=int(snap.columns("models", ["has_record"])["has_record"].sum()),
        edges=len(index.children.neighbour),
        evidence=evidence.height,
        dangling_references=dangling.height,
        problems=snap.columns("problems", ["model"]).height,
        roots=int((generation == 0).sum()),
        isolated_models=int(((out_degree == 0) & (in_degree == 0)).sum()),
        max_generation=max(int(generation.max()), 0) if index.nodes else 0,  # 0: every model on a cycle
        components=len(several),
        self_loops=len(index.children.neighbour) - len(condensed.edges[0]),
        cycles=int((condensed.size > 1).sum()),
        relation_disagreements=int(edges["relations_disagree"].sum()),
        models_with_several_parents=int((in_degree > 1).sum()),
        sources=snap.meta.get("sources", []),
    )
    return AnalysisResult(title="Snapshot statistics", rows=pl.DataFrame(rows, schema=_METRIC_SCHEMA), summary=summary)


_NEIGHBOUR_SCHEMA = {
    "id": pl.String(),
    "direction": pl.String(),
    "relation": pl.String(),
    "downloads": pl.Int64(),
    "relation_rule": pl.String(),
    "parent_confidence": pl.String(),
    "relation_confidence": pl.String(),
    "declared_relation": pl.String(),
    "hub_relation": pl.String(),
    "inferred_relation": pl.String(),
    "evidence": pl.List(pl.String()),
}


def _replaced_items(edge: dict[str, Any], items_of: dict[tuple[str, str], list[str]]) -> list[str]:
    """The evidence of the base a ``prose_parent`` / ``name_parent`` edge stands in for, each item naming it."""
    replaced = edge.get("replaced_base")
    if not replaced:
        return []
    return [f"{item}, of {replaced}" for item in items_of.get((replaced, edge["child"]), [])]


def model_info(lg: LineageGraph, model: str) -> AnalysisResult[ModelInfoSummary]:
    """The model's record, its direct parents and children, and the evidence for each edge.

    Each evidence item reads ``kind field (source)``; dangling references the model makes are listed too.
    """
    model = lg.resolve(model)
    snap = lg.snapshot
    evidence = snap.evidence.filter((pl.col("child") == model) | (pl.col("base") == model))
    rows = []
    parents, children = lg.parents(model), lg.children(model)
    downloads = {m: node["downloads"] for m, node in lg.nodes_of([*parents, *children]).items()}
    # one pass over the edges and the evidence: a base with 100,000 children must not filter them 100,000 times
    touching = snap.edges.filter((pl.col("child") == model) | (pl.col("base") == model))
    edge_of = {(row["base"], row["child"]): row for row in touching.iter_rows(named=True)}  # the last row wins
    items_of: dict[tuple[str, str], list[str]] = {}
    for base, child, kind, field, source in evidence.select("base", "child", "kind", "field", "source").iter_rows():
        items_of.setdefault((base, child), []).append(f"{kind} {field} ({source})")
    for direction, pairs in (
        ("parent", [(p, model) for p in parents]),
        ("child", [(model, c) for c in children]),
    ):
        for base, child in pairs:
            edge = edge_of[(base, child)]
            rows.append(
                {
                    "id": base if direction == "parent" else child,
                    "direction": direction,
                    "downloads": downloads[base if direction == "parent" else child],
                    **{
                        k: edge[k]
                        for k in ("relation", "relation_rule", "parent_confidence", "relation_confidence",
                                  "declared_relation", "hub_relation",
                                  "inferred_relation")
                    },
                    "evidence": items_of.get((base, child), []) + _replaced_items(edge, items_of),
                }
            )
    full = lg.record(model)
    record = {k: v for k, v in full.items() if k not in {"files", "tags"}}
    record["files"] = len(full.get("files") or [])
    dangling = snap.dangling.filter(pl.col("child") == model)
    return AnalysisResult(
        title=f"{model}",
        rows=pl.DataFrame(rows, schema=_NEIGHBOUR_SCHEMA),
        summary=ModelInfoSummary(model=model, record=record, parents=len(parents), children=len(children)),
        tables={"dangling": dangling},
    )


def dangling(lg: LineageGraph, *, reason: str | None = None) -> AnalysisResult[DanglingSummary]:
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
        summary=DanglingSummary(references=rows.height, models=rows["id"].n_unique(), reason_filter=reason),
        tables={"by_reason": by_reason},
    )


def problems(lg: LineageGraph) -> AnalysisResult[ProblemsSummary]:
    """Input that was read but could not be used: broken card YAML, bad JSON lines, unreadable files."""
    rows = lg.snapshot.problems.rename({"model": "id"}).select("id", "source", "message")
    return AnalysisResult(title="Input problems", rows=rows, summary=ProblemsSummary(problems=rows.height))


_TABLE = (d.SNAPSHOT, d.FORMAT, d.LIMIT, d.CSV_RAW, d.PROVENANCE)
COMMANDS = (
    d.Analysis("info", "MODEL's record, its parents with the evidence of each edge, and its children by relation.",
               (d.MODEL, d.SNAPSHOT, d.FORMAT, d.LIMIT, d.CSV_RAW,
                d.Option(("--children",), "children", "Children shown per relation (0: all).", "int", 10,
                         metavar="N", least=0), *d.LOOKUP), summary="ModelInfoSummary", function=model_info,
               look_up=d.LookUp("model", "ancestors"), view="print_model_info"),
    d.Analysis("stats", "Counts: models, edges by relation and evidence, dangling references, roots, depths, "
               "components.", (d.SNAPSHOT, d.FORMAT, d.LIMIT.but(default=0), d.CSV_RAW), summary="StatsSummary",
               function=stats,
               reads={"models": ["has_record"], "edges": ["relation_rule", "relation_confidence", "relations_disagree"],
                      "evidence": ["kind"], "dangling": ["reason"], "problems": ["model"]}),
    d.Analysis("dangling", "References that could not become edges (local paths, other sites, deleted or private "
               "models).",
               (d.Option(("--reason",), "reason", "Only this reason: " + ", ".join(r.value for r in DanglingReason)
                         + ".", "choice", metavar="REASON", choices=DanglingReason), *_TABLE),
               summary="DanglingSummary", function=dangling, columns=("id", "reason", "raw", "field", "source"),
               answer=("reason",),
               query=False),
    d.Analysis("problems", "Input that was read but not usable: broken model-card YAML, bad JSON lines, unreadable "
               "files.", _TABLE, summary="ProblemsSummary", function=problems, query=False),
)
"""The commands of this module's analyses (:mod:`ptmgraph.declaration`)."""
