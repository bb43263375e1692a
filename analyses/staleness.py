"""Stale ancestors: technical lag (Zerouali et al. 2019) applied to model lineage.

Definitions (*ancestor* and *depth* as in :mod:`ptmgraph.traverse`). For a model m and each ancestor a
of m, one row per reason that applies:

- ``base_updated``: a was last modified after m was created, so m was built on an older revision of
  a. ``lag_days`` = (a's ``last_modified`` - m's ``created_at``) in days, rounded to 0.1. Needs both
  dates; models without them are counted in ``models_without_created_at`` and never get this reason.
- ``new_version``: a's card declares ``new_version`` (a newer release of a exists, other than a);
  ``detail`` names it.
- ``unavailable``: a cannot be fetched as the snapshot saw it: gated (``gated`` auto or manual),
  disabled, or a reference that dangles as ``not_found``, ``gated`` or ``disabled`` (a crawl found it
  missing). For a dangling reference the ancestor is the raw reference made by m or by one of its
  ancestors (then at that model's depth + 1). ``detail`` says which.

``depth`` is a's depth from m. Rows are (model ``id``, ``ancestor``, ``reason``, ``lag_days``, ``depth``,
``detail``); ``tables["by_reason"]`` totals rows, models and ancestors per reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import polars as pl

from ptmgraph.graph import LineageGraph
from ptmgraph.result import AnalysisResult
from ptmgraph.traverse import reach, reach_pairs

UNAVAILABLE_DANGLING = ("not_found", "gated", "disabled")
"""Dangling-reference reasons that mean the base exists (or existed) on the Hub but cannot be read."""

REASONS = ("base_updated", "new_version", "unavailable")

_ROW_SCHEMA = {
    "id": pl.String(),
    "ancestor": pl.String(),
    "reason": pl.String(),
    "lag_days": pl.Float64(),
    "depth": pl.Int64(),
    "detail": pl.String(),
}


def _unavailable_detail(node: dict[str, Any]) -> str | None:
    if node.get("gated") in ("auto", "manual"):
        return f"gated ({node['gated']})"
    if node.get("disabled"):
        return "disabled"
    return None


def _stale_reasons(model_id: str, node: dict[str, Any]) -> list[tuple[str, str | None]]:
    """(reason, detail) that make ``model_id`` a stale ancestor of any model derived from it, except base_updated."""
    found: list[tuple[str, str | None]] = []
    new_version = node.get("new_version")
    if new_version and new_version != model_id:
        found.append(("new_version", new_version))
    unavailable = _unavailable_detail(node)
    if unavailable:
        found.append(("unavailable", unavailable))
    return found


def _dead_references(lg: LineageGraph) -> pl.DataFrame:
    """The references that dangle as unavailable: ``holder`` (the model making it), ``raw`` and ``detail``."""
    dangling = lg.snapshot.dangling.filter(pl.col("reason").is_in(UNAVAILABLE_DANGLING))
    return dangling.select(pl.col("child").alias("holder"), "raw",
                           pl.format("dangling: {}", pl.col("reason")).alias("detail"))


def stale_ancestor_rows(lg: LineageGraph, models: Iterable[str] | None = None) -> list[tuple[Any, ...]]:
    """The rows of :func:`stale_ancestors` for ``models`` (every model when None), unsorted."""
    if models is None:
        return _rows_of_every_model(lg).rows()
    graph = lg.compact
    rows: list[tuple[Any, ...]] = []
    dead_refs: dict[str, list[tuple[str, str]]] = {}
    for holder, raw, detail in _dead_references(lg).iter_rows():
        dead_refs.setdefault(holder, []).append((raw, detail))

    def emit(model: str, ancestor: str, reason: str, lag: float | None, depth: int, detail: str | None) -> None:
        rows.append((model, ancestor, reason, lag, depth, detail))

    # Few models: walk up from each.
    for model in dict.fromkeys(models):
        up = reach(graph, [model], direction="ancestors")
        nodes = lg.nodes_of([model, *up])
        created = nodes[model].get("created_at")
        for ancestor in up:
            _ancestor_rows(model, ancestor, up.depth[ancestor], created, nodes[ancestor], emit)
        for holder in [model, *up]:
            base_depth = 0 if holder == model else up.depth[holder]
            for raw, detail in dead_refs.get(holder, []):
                emit(model, raw, "unavailable", None, base_depth + 1, detail)
    return rows


def _rows_of_every_model(lg: LineageGraph) -> pl.DataFrame:
    """:func:`stale_ancestor_rows` of every model, as a table, by one walk down from every model with a
    child or a dead reference at once (:func:`ptmgraph.traverse.reach_pairs`) and column operations."""
    index = lg.compact
    dead = _dead_references(lg)
    holders = dead.join(pl.DataFrame({"holder": index.ids}).with_row_index("position"), on="holder")
    sources = np.concatenate([np.flatnonzero(np.diff(index.children.indptr) > 0),
                              holders["position"].to_numpy().astype(np.int64)])
    ancestor_at, model_at, depth = reach_pairs(index, sources)
    table = lg.snapshot.models.select("created_at", "last_modified", "new_version", "gated", "disabled")
    if index.nodes > table.height:
        table = pl.concat([table, table.clear(index.nodes - table.height)])
    table = table.insert_column(0, index.ids.alias("id"))
    ancestors = table[ancestor_at].select(pl.col("id").alias("ancestor"), "last_modified", "new_version", "gated",
                                          "disabled")
    models = table[model_at].select("id", "created_at")
    pairs = pl.concat([models, ancestors], how="horizontal").with_columns(pl.Series("depth", depth))
    updated = pairs.filter(pl.col("last_modified") > pl.col("created_at"))
    seconds = ((updated["last_modified"] - updated["created_at"]).dt.total_microseconds() / 1e6).to_list()
    lag = pl.Series("lag_days", [round(s / 86400, 1) for s in seconds], dtype=pl.Float64())  # Python's rounding
    parts = [
        updated.select("id", "ancestor", pl.lit("base_updated").alias("reason"), lag, "depth",
                       pl.lit(None, pl.String()).alias("detail")),
        pairs.filter(pl.col("new_version").is_not_null() & (pl.col("new_version") != "")
                     & (pl.col("new_version") != pl.col("ancestor")))
        .select("id", "ancestor", pl.lit("new_version").alias("reason"), pl.lit(None, pl.Float64()).alias("lag_days"),
                "depth", pl.col("new_version").alias("detail")),
        pairs.with_columns(
            pl.when(pl.col("gated").is_in(["auto", "manual"])).then(pl.format("gated ({})", pl.col("gated")))
            .when(pl.col("disabled")).then(pl.lit("disabled")).alias("detail"))
        .filter(pl.col("detail").is_not_null())
        .select("id", "ancestor", pl.lit("unavailable").alias("reason"), pl.lit(None, pl.Float64()).alias("lag_days"),
                "depth", "detail"),
        # a dead reference: a row for the model making it, and one for each model below that one
        holders.select(pl.col("holder").alias("id"), pl.col("raw").alias("ancestor"),
                       pl.lit("unavailable").alias("reason"), pl.lit(None, pl.Float64()).alias("lag_days"),
                       pl.lit(1, pl.Int64()).alias("depth"), "detail"),
        pl.DataFrame({"holder": table["id"][ancestor_at], "id": models["id"], "depth": depth})
        .join(holders.select("holder", "raw", "detail"), on="holder")
        .select("id", pl.col("raw").alias("ancestor"), pl.lit("unavailable").alias("reason"),
                pl.lit(None, pl.Float64()).alias("lag_days"), pl.col("depth") + 1, "detail"),
    ]
    return pl.concat([part.cast(_ROW_SCHEMA) for part in parts])  # type: ignore[arg-type]


def _ancestor_rows(model: str, ancestor: str, depth: int, created: Any, attrs: dict[str, Any], emit: Any) -> None:
    modified = attrs.get("last_modified")
    if created is not None and modified is not None and modified > created:
        emit(model, ancestor, "base_updated", round((modified - created).total_seconds() / 86400, 1), depth, None)
    for reason, detail in _stale_reasons(ancestor, attrs):
        emit(model, ancestor, reason, None, depth, detail)


def stale_ancestors(lg: LineageGraph, model: str | None = None) -> AnalysisResult:
    """Every stale ancestor (module docstring) of ``model``, or of every model when None."""
    target = lg.resolve(model) if model is not None else None
    rows = (
        (pl.DataFrame(stale_ancestor_rows(lg, [target]), schema=_ROW_SCHEMA, orient="row") if target is not None
         else _rows_of_every_model(lg))
        # a dangling reference reached along two paths: keep its nearest
        .sort(["id", "ancestor", "reason", "depth"])
        .unique(["id", "ancestor", "reason"], keep="first", maintain_order=True)
        .sort(["id", "depth", "ancestor", "reason"])
    )
    by_reason = (
        pl.DataFrame({"reason": list(REASONS)})
        .join(
            rows.group_by("reason").agg(
                pl.len().alias("rows"),
                pl.col("id").n_unique().alias("models"),
                pl.col("ancestor").n_unique().alias("ancestors"),
                pl.col("lag_days").median().alias("median_lag_days"),
            ),
            on="reason",
            how="left",
        )
        .with_columns(pl.col("rows", "models", "ancestors").fill_null(0))
    )
    created = lg.snapshot.models.select("id", "created_at")
    if target is not None:
        created = created.filter(pl.col("id") == target)
    summary: dict[str, Any] = {
        "model": target or "all",
        "rows": rows.height,
        "models_with_stale_ancestors": rows["id"].n_unique(),
        **{f"rows_{reason}": int((rows["reason"] == reason).sum()) for reason in REASONS},
        "models_without_created_at": int(created["created_at"].null_count()),
        "max_lag_days": rows["lag_days"].max(),
    }
    title = f"Stale ancestors of {target}" if target else "Stale ancestors"
    return AnalysisResult(title=title, rows=rows, summary=summary, tables={"by_reason": by_reason})
