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
- ``relation_path``: the relations along the via chain, base first, joined by ``>``, capped at
  ``2 * PATH_END_HOPS`` hops with a marker (:func:`ptmgraph.traverse.relation_path_text`). Rows carry
  ``depth`` and ``via``; the path is built only for rows printed as a table, or in JSON and CSV when
  asked for (``--paths``; :meth:`AnalysisResult.output_rows`): for a few rows or a deep walk, from each
  row's chain ends (:meth:`ptmgraph.traverse.Walk.relation_path_texts`), for many rows of a shallow walk
  every path at once, one table pass per depth (:func:`relation_paths`). Either way output is linear in
  the rows, however deep the walk.
- **affected downloads**: the sum of the descendants' download counts (as recorded in the snapshot:
  the Hub's last-30-days count); models with no known count add nothing and are counted separately.
- **affected Space links**: the sum of the descendants' counts of Hugging Face Spaces using them (a
  Space that uses two affected models counts twice); unknown where the source did not list Spaces.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import polars as pl

from ptmgraph import declaration as d
from ptmgraph.graph import LineageGraph
from ptmgraph.result import AnalysisResult, AncestrySummary, ImpactSummary
from ptmgraph.traverse import Walk, cycle_members, hop_relations, paths_to_roots, roots_at, walk
from ptmgraph.tree_lines import LineageTree

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


def _rows(lg: LineageGraph, found: Walk) -> pl.DataFrame:
    """One row per reached model: the walk's columns, then the node columns read from the models table
    for these rows only."""
    ids = list(found)
    walk = pl.DataFrame(
        {
            "depth": [found.depth[n] for n in ids],
            "via": [found.via[n] for n in ids],
            "relation": [found.relation[n] for n in ids],
        },
        schema={c: _ROW_SCHEMA[c] for c in ("depth", "via", "relation")},
    )
    nodes = lg.nodes_at(found.positions, list(_NODE_COLUMNS))
    frame = pl.concat([nodes.select("id"), walk, nodes.drop("id")], how="horizontal").cast(_ROW_SCHEMA)  # type: ignore[arg-type]
    return frame.sort(["depth", "downloads", "id"], descending=[False, True, False], nulls_last=True)


def with_relation_path(found: Walk, key: str = "id") -> Callable[[pl.DataFrame], pl.DataFrame]:
    """Deferred column ``relation_path`` (the relations along ``found.path``, joined by ``>``), placed
    after ``relation``; rows whose ``key`` model the walk did not reach get null."""

    def expand(rows: pl.DataFrame) -> pl.DataFrame:
        if rows.height >= _MANY_ROWS and max(found.depth.values(), default=0) <= _FEW_LEVELS:
            column = rows.select(pl.col(key).alias("id")).join(relation_paths(found), on="id", how="left")
            paths = column["relation_path"]
        else:  # a few rows, or a long chain: each row's ends of its chain (capped, linear in the rows)
            paths = pl.Series("relation_path", found.relation_path_texts(rows[key].to_list()), dtype=pl.String())
        at = rows.columns.index("relation") + 1 if "relation" in rows.columns else rows.width
        # a copy: insert_column changes the frame it is called on, and ``rows`` may be the result's own
        return rows.clone().insert_column(at, paths)

    return expand


_MANY_ROWS = 1_000
_FEW_LEVELS = 32
"""Rows printed and depths for which :func:`relation_paths` builds every path at once, one table pass
per depth; otherwise each printed row's chain is walked (a chain 200,000 deep would take a pass per
depth, and paths of every length)."""


def relation_paths(found: Walk) -> pl.DataFrame:
    """``id`` and ``relation_path`` of every model ``found`` reached, one depth at a time: a model's path
    is its via's path and its own hop (a model one hop from a source: its hop alone)."""
    hops = pl.DataFrame(
        {"id": list(found.depth), "depth": list(found.depth.values()),
         "via": [found.via[m] for m in found.depth], "relation": [found.relation[m] for m in found.depth]},
        schema={"id": pl.String(), "depth": pl.Int64(), "via": pl.String(), "relation": pl.String()},
    )
    done = hops.filter(pl.col("depth") == 1).select("id", pl.col("relation").alias("relation_path"))
    levels = [done]
    deepest: int = hops["depth"].max() or 0  # type: ignore[assignment]
    for depth in range(2, deepest + 1):
        level = hops.filter(pl.col("depth") == depth).join(
            done.rename({"id": "via", "relation_path": "via_path"}), on="via", how="left")
        # base first: below a source the via's hops come first, above it (ancestors) they come last
        parts = ["via_path", "relation"] if found.direction == "descendants" else ["relation", "via_path"]
        done = level.select("id", pl.concat_str(parts, separator=">").alias("relation_path"))
        levels.append(done)
    return pl.concat(levels)


def ancestry(
    lg: LineageGraph,
    model: str,
    *,
    max_paths: int = 200,
    relations: Iterable[str] | None = None,
    max_depth: int | None = None,
) -> AnalysisResult[AncestrySummary]:
    """Every ancestor of ``model`` with its depth, the hop relations, the paths to each root, and the roots.

    ``relations`` and ``max_depth`` limit the ancestors as for :func:`impact`; the paths to the roots
    always follow every edge.
    """
    model = lg.resolve(model)
    graph = lg.compact
    wanted = {str(r) for r in relations} if relations else None
    found = walk(graph, [model], direction="ancestors", relations=wanted, max_depth=max_depth)
    rows = _rows(lg, found)
    is_root = dict(zip(found, roots_at(graph, found.positions), strict=True))
    rows = rows.with_columns(pl.Series("is_root", [is_root[n] for n in rows["id"]], dtype=pl.Boolean()))
    paths, truncated = paths_to_roots(graph, model, max_paths)
    path_rows = [
        {"root": p[0], "length": len(p) - 1, "path": p, "relations": hop_relations(graph, p)}
        for p in sorted(paths, key=lambda p: (len(p), p))
    ]
    roots = sorted(rows.filter(pl.col("is_root"))["id"].to_list()) if found else [model]
    cycle_nodes = cycle_members(graph, [*found, model])
    in_cycle = [n for n in found if n in cycle_nodes]
    return AnalysisResult(
        title=f"Ancestry of {model}",
        rows=rows,
        deferred=with_relation_path(found),
        tree=_tree(lg, found, rows),
        summary=AncestrySummary(
            model=model,
            ancestors=rows.height,
            max_depth=int(rows["depth"].max()) if rows.height else 0,  # type: ignore[arg-type]
            roots=roots,
            paths=len(paths),
            paths_truncated=truncated,
            ancestors_in_cycles=sorted(in_cycle),
            has_record=bool(lg.nodes_at([graph.position(model)], ["has_record"])["has_record"][0]),
        ),
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


def _tree(lg: LineageGraph, found: Walk, rows: pl.DataFrame) -> LineageTree:
    """The walk ``found`` ready to draw as a tree, siblings most downloaded first (unknown counts last),
    from the downloads of the result's ``rows`` and of the source, read when the tree is first drawn."""
    (source,) = found.sources
    downloads: dict[str, Any] = {}

    def order(model: str) -> int:
        if not downloads:
            downloads.update(rows.select("id", "downloads").iter_rows())
            at = [lg.compact.position(source)]
            downloads[source] = lg.nodes_at(at, ["downloads"])["downloads"][0]  # that column only
        return -(downloads.get(model) or -1)

    return LineageTree(lg.compact, found, order=order)


def _totals(rows: pl.DataFrame, by: str) -> pl.DataFrame:
    """Models and summed downloads per value of ``by``."""
    return rows.group_by(by).agg(pl.len().alias("models"), pl.col("downloads").sum().alias("downloads"))


def impact(
    lg: LineageGraph, model: str, *, relations: Iterable[str] | None = None, max_depth: int | None = None
) -> AnalysisResult[ImpactSummary]:
    """The blast radius of ``model``: every transitive descendant, with a summary by depth and relation."""
    model = lg.resolve(model)
    wanted = {str(r) for r in relations} if relations else None
    found = walk(lg.compact, [model], relations=wanted, max_depth=max_depth)
    rows = _rows(lg, found)
    by_depth = _totals(rows, "depth").sort("depth")
    by_relation = _totals(rows, "relation").sort("models", descending=True)
    return AnalysisResult(
        title=f"Impact of {model}",
        rows=rows,
        deferred=with_relation_path(found),
        tree=_tree(lg, found, rows),
        summary=ImpactSummary(
            model=model,
            affected_models=rows.height,
            affected_downloads=int(rows["downloads"].sum() or 0),
            models_without_download_count=int(rows["downloads"].null_count()),
            affected_space_links=int(rows["spaces"].sum() or 0),
            max_depth=int(rows["depth"].max()) if rows.height else 0,  # type: ignore[arg-type]
            relations_followed=sorted(wanted) if wanted else "all",
            depth_limit=max_depth,
        ),
        tables={"by_depth": by_depth, "by_relation": by_relation},
    )


FLAT = d.Option(("--flat",), "flat", "A table, one row per model, instead of the tree.", "flag", False)
COLUMNS = d.Option(("--columns",), "columns", "Tree columns, most important first: relation, downloads, license, "
                   "created, likes, confidence (default: relation,downloads,license,created; the last drops first "
                   "when narrow).", metavar="A,B,...")
_LINEAGE = (d.MODELS, d.SNAPSHOT, d.FORMAT, d.LIMIT, d.CSV_RAW, d.RELATION, d.MAX_DEPTH, FLAT, COLUMNS, d.FROM_FILE,
            d.PATHS, *d.LOOKUP)
COMMANDS = (
    d.Analysis("ancestry", "Where MODEL comes from: a tree of its ancestors up to the roots, each with its relation.",
               (*_LINEAGE[:4], d.Option(("--max-paths",), "max_paths", "List at most this many paths to roots.", "int",
                                        200, metavar="N", least=1), *_LINEAGE[4:]),
               summary="AncestrySummary"),
    d.Analysis("impact", "What depends on MODEL: a tree of every transitive descendant (the blast radius), most "
               "downloaded first.", (*_LINEAGE, d.LOOKUP_MAX_MODELS), summary="ImpactSummary"),
)
"""The commands of this module's analyses (:mod:`ptmgraph.declaration`)."""
