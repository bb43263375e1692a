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

import polars as pl

from ptmgraph.graph import LineageGraph
from ptmgraph.result import AnalysisResult
from ptmgraph.traverse import reach

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


def stale_ancestor_rows(lg: LineageGraph, models: Iterable[str] | None = None) -> list[tuple[Any, ...]]:
    """The rows of :func:`stale_ancestors` for ``models`` (every model when None), unsorted."""
    graph, nodes = lg.graph, lg.graph.nodes
    wanted = None if models is None else set(models)
    rows: list[tuple[Any, ...]] = []
    dangling = lg.snapshot.dangling.filter(pl.col("reason").is_in(UNAVAILABLE_DANGLING))
    dead_refs: dict[str, list[tuple[str, str]]] = {}
    for child, raw, reason in dangling.select("child", "raw", "reason").iter_rows():
        dead_refs.setdefault(child, []).append((raw, f"dangling: {reason}"))

    def emit(model: str, ancestor: str, reason: str, lag: float | None, depth: int, detail: str | None) -> None:
        if wanted is None or model in wanted:
            rows.append((model, ancestor, reason, lag, depth, detail))

    if wanted is not None:
        # Few models: walk up from each.
        for model in wanted:
            up = reach(graph, [model], direction="ancestors")
            created = nodes[model].get("created_at")
            for ancestor in up:
                _ancestor_rows(model, ancestor, up.depth[ancestor], created, nodes[ancestor], emit)
            for holder in [model, *up]:
                base_depth = 0 if holder == model else up.depth[holder]
                for raw, detail in dead_refs.get(holder, []):
                    emit(model, raw, "unavailable", None, base_depth + 1, detail)
        return rows
    # Every model: walk down once from each model that can be a stale ancestor.
    for ancestor, attrs in nodes(data=True):
        if graph.out_degree(ancestor) == 0 and ancestor not in dead_refs:
            continue
        down = reach(graph, [ancestor])
        for model in down:
            _ancestor_rows(model, ancestor, down.depth[model], nodes[model].get("created_at"), attrs, emit)
        for raw, detail in dead_refs.get(ancestor, []):
            emit(ancestor, raw, "unavailable", None, 1, detail)
            for model in down:
                emit(model, raw, "unavailable", None, down.depth[model] + 1, detail)
    return rows


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
        pl.DataFrame(stale_ancestor_rows(lg, None if target is None else [target]), schema=_ROW_SCHEMA, orient="row")
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
