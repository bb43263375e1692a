"""Ancestry (where a model comes from) and impact (what depends on it).

Definitions, on the lineage graph G (edge base -> derived); *root*, *depth* and *reach* are those of
:mod:`ptmgraph.traverse`, which does every walk:

- **ancestor** of m: a node with a directed path to m, at its ``depth`` from m; ``via`` is the next
  node on one shortest path towards m, ``relation`` the relation of that hop.
- **root** of m: an ancestor that is a root. A model without ancestors is its own root.
- **path to a root**: a simple path root -> ... -> m. Models with several parents have several paths;
  at most ``max_paths`` are listed and ``paths_truncated`` says when more exist.
- **descendant** (the *blast radius*) of m: a model in m's reach, following only edges whose
  relation is in ``relations`` (all when None) and at most ``max_depth`` hops. ``depth`` and ``via``
  are as for ancestors.
- ``relation_path``: the relations along the via chain, base first, joined by ``>``. It is built only
  for the rows printed (:meth:`AnalysisResult.output_rows`), so a deep chain costs linear memory.
- **affected downloads**: the sum of the descendants' download counts (as recorded in the snapshot:
  the Hub's last-30-days count); models with no known count add nothing and are counted separately.
- **affected Space links**: the sum of the descendants' counts of Hugging Face Spaces using them (a
  Space that uses two affected models counts twice); unknown where the source did not list Spaces.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import pairwise
from typing import Any

import networkx as nx
import polars as pl

from ptmgraph.graph import LineageGraph
from ptmgraph.result import AnalysisResult
from ptmgraph.traverse import Reach, is_root, paths_to_roots, reach

_NODE_COLUMNS = ("downloads", "likes", "spaces", "license", "created_at", "has_record")
_ROW_SCHEMA = {
    "id": pl.String(),
    "depth": pl.Int64(),
    "via": pl.String(),
    "relation": pl.String(),
    "downloads": pl.Int64(),
    "likes": pl.Int64(),
    "spaces": pl.Int64(),
    "license": pl.String(),
    "created_at": pl.Datetime("us", "UTC"),
    "has_record": pl.Boolean(),
}


def _rows(lg: LineageGraph, found: Reach) -> pl.DataFrame:
    nodes = lg.graph.nodes
    ids = list(found)
    columns: dict[str, list[Any]] = {
        "id": ids,
        "depth": [found.depth[n] for n in ids],
        "via": [found.via[n] for n in ids],
        "relation": [found.relation[n] for n in ids],
    }
    for column in _NODE_COLUMNS:
        columns[column] = [nodes[n].get(column) for n in ids]
    frame = pl.DataFrame(columns, schema=_ROW_SCHEMA)
    return frame.sort(["depth", "downloads", "id"], descending=[False, True, False], nulls_last=True)


def with_relation_path(found: Reach, key: str = "id") -> Callable[[pl.DataFrame], pl.DataFrame]:
    """Deferred column ``relation_path`` (the relations along ``found.path``, joined by ``>``), placed
    after ``relation``; rows whose ``key`` model the walk did not reach get null."""

    def expand(rows: pl.DataFrame) -> pl.DataFrame:
        paths = [">".join(found.relation_path(m)) if m in found else None for m in rows[key].to_list()]
        column = pl.Series("relation_path", paths, dtype=pl.String())
        at = rows.columns.index("relation") + 1 if "relation" in rows.columns else rows.width
        return rows.insert_column(at, column)

    return expand


def ancestry(lg: LineageGraph, model: str, *, max_paths: int = 200) -> AnalysisResult:
    """Every ancestor of ``model`` with its depth, the hop relations, the paths to each root, and the roots."""
    model = lg.resolve(model)
    graph = lg.graph
    found = reach(graph, [model], direction="ancestors")
    rows = _rows(lg, found)
    rows = rows.with_columns(pl.Series("is_root", [is_root(graph, n) for n in rows["id"]], dtype=pl.Boolean()))
    paths, truncated = paths_to_roots(graph, model, max_paths)
    path_rows = [
        {
            "root": p[0],
            "length": len(p) - 1,
            "path": p,
            "relations": [graph.edges[a, b]["relation"] for a, b in pairwise(p)],
        }
        for p in sorted(paths, key=lambda p: (len(p), p))
    ]
    roots = sorted(rows.filter(pl.col("is_root"))["id"].to_list()) if found else [model]
    cycle_nodes = _cycle_nodes(graph, set(found) | {model})
    in_cycle = [n for n in found if n in cycle_nodes]
    return AnalysisResult(
        title=f"Ancestry of {model}",
        rows=rows,
        deferred=with_relation_path(found),
        summary={
            "model": model,
            "ancestors": rows.height,
            "max_depth": int(rows["depth"].max()) if rows.height else 0,  # type: ignore[arg-type]
            "roots": roots,
            "paths": len(paths),
            "paths_truncated": truncated,
            "ancestors_in_cycles": sorted(in_cycle),
        },
        tables={
            "paths": pl.DataFrame(
                path_rows,
                schema={
                    "root": pl.String(),
                    "length": pl.Int64(),
                    "path": pl.List(pl.String()),
                    "relations": pl.List(pl.String()),
                },
            )
        },
    )


def _cycle_nodes(graph: nx.DiGraph, nodes: Iterable[str]) -> set[str]:
    sub = graph.subgraph(nodes)
    return {n for comp in nx.strongly_connected_components(sub) if len(comp) > 1 for n in comp}


def _totals(rows: pl.DataFrame, by: str) -> pl.DataFrame:
    """Models and summed downloads per value of ``by``."""
    return rows.group_by(by).agg(pl.len().alias("models"), pl.col("downloads").sum().alias("downloads"))


def impact(
    lg: LineageGraph, model: str, *, relations: Iterable[str] | None = None, max_depth: int | None = None
) -> AnalysisResult:
    """The blast radius of ``model``: every transitive descendant, with a summary by depth and relation."""
    model = lg.resolve(model)
    wanted = {str(r) for r in relations} if relations else None
    found = reach(lg.graph, [model], relations=wanted, max_depth=max_depth)
    rows = _rows(lg, found)
    by_depth = _totals(rows, "depth").sort("depth")
    by_relation = _totals(rows, "relation").sort("models", descending=True)
    return AnalysisResult(
        title=f"Impact of {model}",
        rows=rows,
        deferred=with_relation_path(found),
        summary={
            "model": model,
            "affected_models": rows.height,
            "affected_downloads": int(rows["downloads"].sum() or 0),
            "models_without_download_count": int(rows["downloads"].null_count()),
            "affected_space_links": int(rows["spaces"].sum() or 0),
            "max_depth": int(rows["depth"].max()) if rows.height else 0,  # type: ignore[arg-type]
            "relations_followed": sorted(wanted) if wanted else "all",
            "depth_limit": max_depth,
        },
        tables={"by_depth": by_depth, "by_relation": by_relation},
    )
