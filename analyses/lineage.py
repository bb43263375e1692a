"""Ancestry (where a model comes from) and impact (what depends on it).

Definitions, on the lineage graph G (edge base -> derived):

- **ancestor** of m: a node with a directed path to m. Its ``depth`` is the length (in edges) of the
  shortest such path; ``via`` is the next node on one shortest path towards m, ``relation`` the
  relation of that hop.
- **root** of m: an ancestor with no parents (self-loops ignored). A model without ancestors is its own root.
- **path to a root**: a simple path root -> ... -> m. Models with several parents have several paths;
  at most ``max_paths`` are listed and ``paths_truncated`` says when more exist.
- **descendant** (the *blast radius*) of m: a node reachable from m, following only edges whose
  relation is in ``relations`` (all when None) and at most ``max_depth`` hops. ``depth``, ``via`` and
  ``relation_path`` (the relations along one shortest path, joined by ``>``) are as for ancestors.
- **affected downloads**: the sum of the descendants' download counts (as recorded in the snapshot:
  the Hub's last-30-days count); models with no known count add nothing and are counted separately.
- **affected Space links**: the sum of the descendants' counts of Hugging Face Spaces using them (a
  Space that uses two affected models counts twice); unknown where the source did not list Spaces.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from itertools import pairwise

import networkx as nx
import polars as pl

from ptmgraph.graph import LineageGraph
from ptmgraph.result import AnalysisResult

_NODE_COLUMNS = ("downloads", "likes", "spaces", "license", "created_at", "has_record")
_ROW_SCHEMA = {
    "id": pl.String(),
    "depth": pl.Int64(),
    "via": pl.String(),
    "relation": pl.String(),
    "relation_path": pl.String(),
    "downloads": pl.Int64(),
    "likes": pl.Int64(),
    "spaces": pl.Int64(),
    "license": pl.String(),
    "created_at": pl.Datetime("us", "UTC"),
    "has_record": pl.Boolean(),
}


def _bfs(
    graph: nx.DiGraph, start: str, *, upward: bool, relations: set[str] | None, max_depth: int | None
) -> dict[str, tuple[int, str, str, str]]:
    """Shortest-hop search from ``start``: node -> (depth, via, relation, relation_path)."""
    step = graph.predecessors if upward else graph.successors
    seen: dict[str, tuple[int, str, str, str]] = {}
    queue: deque[tuple[str, int, str]] = deque([(start, 0, "")])
    while queue:
        node, depth, path = queue.popleft()
        if max_depth is not None and depth >= max_depth:
            continue
        for other in sorted(step(node)):
            if other == start or other in seen:
                continue
            data = graph.edges[(other, node) if upward else (node, other)]
            relation = data["relation"]
            if relations is not None and relation not in relations:
                continue
            rel_path = relation if not path else (f"{relation}>{path}" if upward else f"{path}>{relation}")
            seen[other] = (depth + 1, node, relation, rel_path)
            queue.append((other, depth + 1, rel_path))
    return seen


def _rows(lg: LineageGraph, found: dict[str, tuple[int, str, str, str]]) -> pl.DataFrame:
    rows = []
    for node, (depth, via, relation, rel_path) in found.items():
        attrs = lg.graph.nodes[node]
        rows.append(
            {"id": node, "depth": depth, "via": via, "relation": relation, "relation_path": rel_path}
            | {c: attrs.get(c) for c in _NODE_COLUMNS}
        )
    frame = pl.DataFrame(rows, schema=_ROW_SCHEMA)
    return frame.sort(["depth", "downloads", "id"], descending=[False, True, False], nulls_last=True)


def _has_parents(graph: nx.DiGraph, node: str) -> bool:
    return any(p != node for p in graph.predecessors(node))


def paths_to_roots(graph: nx.DiGraph, model: str, max_paths: int) -> tuple[list[list[str]], bool]:
    """Simple paths root -> ... -> model (at most ``max_paths``) and whether more exist."""
    paths: list[list[str]] = []
    truncated = False
    stack: list[tuple[str, list[str]]] = [(model, [model])]
    while stack:
        node, path = stack.pop()
        parents = [p for p in sorted(graph.predecessors(node), reverse=True) if p not in path]
        if not _has_parents(graph, node) or (not parents and node != model):
            if node != model:
                if len(paths) >= max_paths:
                    truncated = True
                    break
                paths.append(list(reversed(path)))
            continue
        for parent in parents:
            stack.append((parent, [*path, parent]))
    return paths, truncated


def ancestry(lg: LineageGraph, model: str, *, max_paths: int = 200) -> AnalysisResult:
    """Every ancestor of ``model`` with its depth, the hop relations, the paths to each root, and the roots."""
    model = lg.resolve(model)
    graph = lg.graph
    found = _bfs(graph, model, upward=True, relations=None, max_depth=None)
    rows = _rows(lg, found).with_columns(
        pl.col("id").map_elements(lambda n: not _has_parents(graph, n), return_dtype=pl.Boolean).alias("is_root")
    )
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
    cycle_nodes = _cycle_nodes(graph, found.keys() | {model})
    in_cycle = [n for n in found if n in cycle_nodes]
    return AnalysisResult(
        title=f"Ancestry of {model}",
        rows=rows,
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
    found = _bfs(lg.graph, model, upward=False, relations=wanted, max_depth=max_depth)
    rows = _rows(lg, found)
    by_depth = _totals(rows, "depth").sort("depth")
    by_relation = _totals(rows, "relation").sort("models", descending=True)
    return AnalysisResult(
        title=f"Impact of {model}",
        rows=rows,
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
