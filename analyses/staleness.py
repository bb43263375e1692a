"""Stale ancestors: technical lag (Zerouali et al. 2019) applied to model lineage.

Definitions (*ancestor* and *depth* as in :mod:`ptmgraph.traverse`; *access* and *unavailable* as in
:mod:`ptmgraph.records`). For a model m and each ancestor a of m, one row per reason that applies:

- ``weights_updated``: a file of a that decides what a user loads (weights, config, tokenizer or code:
  ``files.part`` other than ``other``, :func:`ptmgraph.file_rules.file_part`) was last changed by a commit
  after m was created, so m was built on an older revision of it. ``detail`` names those files.
- ``card_updated``: files of a changed after m was created, but only other files (card, images, licence,
  results). ``detail`` names them.
- ``updated_unknown_part``: a was modified after m was created, and which of its files changed is not
  known: the snapshot holds only the repo-wide ``last_modified`` (no file listing with last commits),
  or the listing shows no file changed since (a file was removed or renamed). ``detail`` says which.

  ``lag_days`` of these three = (the latest such change - m's ``created_at``) in days, rounded to 0.1.
  They need m's ``created_at``; models without it are counted in ``models_without_created_at``.
- ``new_version``: a's card declares ``new_version`` (a newer release of a exists, other than a);
  ``detail`` names it.
- ``unavailable``: a cannot be downloaded by anyone: its access is ``disabled`` or ``not_found``
  (private, deleted; :data:`ptmgraph.records.UNAVAILABLE`), or a reference dangles as ``not_found`` or
  ``disabled`` (a crawl found it missing). A gated ancestor (auto or manual) is available and is not a
  row. For a dangling reference the ancestor is the raw reference made by m or by one of its ancestors
  (then at that model's depth + 1). ``detail`` says which.

With ``since`` (an earlier snapshot of the same models, ``stale --since OLD``), only rows whose ancestor
changed after it are kept (*changed since*): ``weights_updated`` when a file of a that decides what is
loaded has a ``last_commit_id`` that OLD's ``files`` table does not give that path, ``card_updated`` the
same for its other files (when OLD holds no file listing of a, either: when a's ``last_modified`` differs
from OLD's); ``updated_unknown_part`` when a's ``last_modified`` differs from OLD's; ``new_version`` when
OLD's ``new_version`` of a was another; ``unavailable`` when a was not unavailable in OLD (its access, or
a reference dangling ``not_found`` or ``disabled``). An ancestor OLD does not hold changed.

``depth`` is a's depth from m. Rows are (model ``id``, ``ancestor``, ``reason``, ``lag_days``, ``depth``,
``detail``); ``tables["by_reason"]`` totals rows, models and ancestors per reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from ptmgraph import declaration as d
from ptmgraph.graph import LineageGraph
from ptmgraph.pair_walks import reach_pairs
from ptmgraph.records import UNAVAILABLE, DanglingReason
from ptmgraph.result import AnalysisResult, Summary
from ptmgraph.traverse import walk

UNAVAILABLE_DANGLING = (DanglingReason.NOT_FOUND.value, DanglingReason.DISABLED.value)
"""Dangling-reference reasons that make the base unavailable (a gated base is not: see the module docstring)."""

CRAWL_DANGLING = (*UNAVAILABLE_DANGLING, DanglingReason.GATED.value)
"""Dangling-reference reasons a crawl gives a base it could not read (they are not ``dangling`` findings)."""

UPDATE_REASONS = ("weights_updated", "card_updated", "updated_unknown_part")
REASONS = (*UPDATE_REASONS, "new_version", "unavailable")

_ROW_SCHEMA = {
    "id": pl.String(),
    "ancestor": pl.String(),
    "reason": pl.String(),
    "lag_days": pl.Float64(),
    "depth": pl.Int64(),
    "detail": pl.String(),
}
_PAIR_COLUMNS = ["created_at", "last_modified", "new_version", "access"]
_NAMED_FILES = 3


def _dead_references(lg: LineageGraph) -> pl.DataFrame:
    """The references that dangle as unavailable: ``holder`` (the model making it), ``raw`` and ``detail``."""
    dangling = lg.snapshot.dangling.filter(pl.col("reason").is_in(UNAVAILABLE_DANGLING))
    return dangling.select(pl.col("child").alias("holder"), "raw",
                           pl.format("dangling: {}", pl.col("reason")).alias("detail"))


def _lag(later: pl.Expr, created: pl.Expr) -> pl.Expr:
    """Seconds from ``created`` to ``later`` (made days, rounded, by :func:`_in_days`)."""
    return ((later - created).dt.total_microseconds() / 1e6).alias("lag_days")


def _in_days(rows: pl.DataFrame) -> pl.DataFrame:
    """``lag_days`` from seconds to days, rounded to 0.1 by Python's rounding."""
    days = [None if s is None else round(s / 86400, 1) for s in rows["lag_days"].to_list()]
    return rows.with_columns(pl.Series("lag_days", days, dtype=pl.Float64()))


def _files_after(lg: LineageGraph, pairs: pl.DataFrame) -> pl.DataFrame:
    """Per (id, ancestor) of ``pairs`` whose ancestor has file commits: ``known`` (true), the latest change
    after ``created_at`` of files that decide what is loaded (``content_at``) and of any file (``any_at``),
    and the paths of each kind (``content_paths``, ``other_paths``)."""
    files = lg.snapshot.columns("files", ["model", "path", "part", "last_commit_date"]).filter(
        pl.col("last_commit_date").is_not_null())
    key = pairs.select("id", "ancestor", "created_at").filter(pl.col("ancestor").is_in(files["model"].implode()))
    if key.is_empty():
        return pl.DataFrame(schema={"id": pl.String(), "ancestor": pl.String(), "known": pl.Boolean(),
                                    "content_at": pl.Datetime("us", "UTC"), "any_at": pl.Datetime("us", "UTC"),
                                    "content_paths": pl.List(pl.String()), "other_paths": pl.List(pl.String())})
    joined = key.join(files.rename({"model": "ancestor"}), on="ancestor")
    after = pl.col("last_commit_date") > pl.col("created_at")
    content = after & (pl.col("part") != "other")
    return joined.group_by("id", "ancestor").agg(
        pl.lit(True).alias("known"),
        pl.col("last_commit_date").filter(content).max().alias("content_at"),
        pl.col("last_commit_date").filter(after).max().alias("any_at"),
        pl.col("path").filter(content).sort().alias("content_paths"),
        pl.col("path").filter(after & ~content).sort().alias("other_paths"),
    )


def _named(paths: pl.Expr) -> pl.Expr:
    """The first few paths, and how many more."""
    shown = paths.list.head(_NAMED_FILES).list.join(", ")
    more = paths.list.len().cast(pl.Int64()) - _NAMED_FILES
    return pl.when(more > 0).then(pl.format("{} and {} more", shown, more)).otherwise(shown)


def _pair_rows(lg: LineageGraph, pairs: pl.DataFrame) -> list[pl.DataFrame]:
    """The rows of every reason but dead references, for (``id``, ``created_at``, ``ancestor``,
    ``last_modified``, ``new_version``, ``access``, ``depth``) pairs: the one rule of the module docstring."""
    dated = pairs.filter(pl.col("created_at").is_not_null())
    dated = dated.join(_files_after(lg, dated), on=["id", "ancestor"], how="left")
    known = pl.col("known").fill_null(False)
    updated = [
        dated.filter(known & pl.col("content_at").is_not_null()).select(
            "id", "ancestor", pl.lit("weights_updated").alias("reason"),
            _lag(pl.col("content_at"), pl.col("created_at")), "depth",
            _named(pl.col("content_paths")).alias("detail")),
        dated.filter(known & pl.col("content_at").is_null() & pl.col("any_at").is_not_null()).select(
            "id", "ancestor", pl.lit("card_updated").alias("reason"),
            _lag(pl.col("any_at"), pl.col("created_at")), "depth",
            pl.format("only {}", _named(pl.col("other_paths"))).alias("detail")),
        dated.filter(pl.col("any_at").is_null() & (pl.col("last_modified") > pl.col("created_at"))).select(
            "id", "ancestor", pl.lit("updated_unknown_part").alias("reason"),
            _lag(pl.col("last_modified"), pl.col("created_at")), "depth",
            pl.when(known).then(pl.lit("repo modified after, but no listed file changed since (a file removed?)"))
            .otherwise(pl.lit("only the repo-wide date is known: which files changed is not")).alias("detail")),
    ]
    return [
        *(_in_days(part) for part in updated),
        pairs.filter(pl.col("new_version").is_not_null() & (pl.col("new_version") != "")
                     & (pl.col("new_version") != pl.col("ancestor")))
        .select("id", "ancestor", pl.lit("new_version").alias("reason"), pl.lit(None, pl.Float64()).alias("lag_days"),
                "depth", pl.col("new_version").alias("detail")),
        pairs.filter(pl.col("access").is_in(sorted(UNAVAILABLE)))
        .select("id", "ancestor", pl.lit("unavailable").alias("reason"), pl.lit(None, pl.Float64()).alias("lag_days"),
                "depth", pl.format("access: {}", pl.col("access")).alias("detail")),
    ]


def _node_table(lg: LineageGraph) -> pl.DataFrame:
    """``id`` and the columns the rule reads, for every model in position order (null for edge-only ones)."""
    index = lg.compact
    table = lg.snapshot.columns("models", _PAIR_COLUMNS)
    if index.nodes > table.height:
        table = pl.concat([table, table.clear(index.nodes - table.height)])
    return table.insert_column(0, index.ids.alias("id"))


def _pairs(models: pl.DataFrame, ancestors: pl.DataFrame, depth: Any) -> pl.DataFrame:
    """(model, ancestor) pairs from the node rows of each side (``id`` and :data:`_PAIR_COLUMNS`)."""
    return pl.concat([
        models.select("id", "created_at"),
        ancestors.select(pl.col("id").alias("ancestor"), "last_modified", "new_version", "access"),
    ], how="horizontal").with_columns(pl.Series("depth", depth, dtype=pl.Int64()))


def stale_ancestor_rows(lg: LineageGraph, models: Iterable[str] | None = None) -> list[tuple[Any, ...]]:
    """The rows of :func:`stale_ancestors` for ``models`` (every model when None), unsorted."""
    if models is None:
        return _rows_of_every_model(lg).rows()
    graph = lg.compact
    model_at: list[int] = []
    ancestor_at: list[int] = []
    depths: list[int] = []
    dead: list[tuple[str, str, str, int]] = []
    dead_refs: dict[str, list[tuple[str, str]]] = {}
    for holder, raw, detail in _dead_references(lg).iter_rows():
        dead_refs.setdefault(holder, []).append((raw, detail))
    # Few models: walk up from each.
    for model in dict.fromkeys(models):
        up = walk(graph, [model], direction="ancestors")
        at = graph.position_list([model, *up])
        model_at += [at[0]] * len(up)
        ancestor_at += at[1:]
        depths += [up.depth[a] for a in up]
        for holder in [model, *up]:
            base_depth = 0 if holder == model else up.depth[holder]
            dead += [(model, raw, detail, base_depth + 1) for raw, detail in dead_refs.get(holder, [])]
    pairs = _pairs(lg.nodes_at(model_at, _PAIR_COLUMNS), lg.nodes_at(ancestor_at, _PAIR_COLUMNS), depths)
    rows = [row for part in _pair_rows(lg, pairs) for row in part.cast(_ROW_SCHEMA).rows()]  # type: ignore[arg-type]
    return rows + [(model, raw, "unavailable", None, depth, detail) for model, raw, detail, depth in dead]


def _rows_of_every_model(lg: LineageGraph) -> pl.DataFrame:
    """:func:`stale_ancestor_rows` of every model, as a table, by one walk down from every model with a
    child or a dead reference at once (:func:`ptmgraph.pair_walks.reach_pairs`) and column operations."""
    index = lg.compact
    dead = _dead_references(lg)
    holders = dead.join(pl.DataFrame({"holder": index.ids}).with_row_index("position"), on="holder")
    sources = np.concatenate([np.flatnonzero(np.diff(index.children.indptr) > 0),
                              holders["position"].to_numpy().astype(np.int64)])
    ancestor_at, model_at, depth = reach_pairs(index, sources)
    table = _node_table(lg)
    pairs = _pairs(table[model_at], table[ancestor_at], depth)
    parts = [
        *_pair_rows(lg, pairs),
        # a dead reference: a row for the model making it, and one for each model below that one
        holders.select(pl.col("holder").alias("id"), pl.col("raw").alias("ancestor"),
                       pl.lit("unavailable").alias("reason"), pl.lit(None, pl.Float64()).alias("lag_days"),
                       pl.lit(1, pl.Int64()).alias("depth"), "detail"),
        pl.DataFrame({"holder": table["id"][ancestor_at], "id": pairs["id"], "depth": depth})
        .join(holders.select("holder", "raw", "detail"), on="holder")
        .select("id", pl.col("raw").alias("ancestor"), pl.lit("unavailable").alias("reason"),
                pl.lit(None, pl.Float64()).alias("lag_days"), pl.col("depth") + 1, "detail"),
    ]
    return pl.concat([part.cast(_ROW_SCHEMA) for part in parts])  # type: ignore[arg-type]


def _files_new_since(lg: LineageGraph, since: LineageGraph) -> pl.DataFrame:
    """(``ancestor``, ``content``): the models with a file whose last commit OLD's listing does not give that
    path, and whether that file decides what is loaded (``files.part`` other than ``other``)."""
    columns = ["model", "path", "part", "last_commit_id"]
    now = lg.snapshot.columns("files", columns).filter(pl.col("last_commit_id").is_not_null())
    before = since.snapshot.columns("files", columns).select("model", "path", "last_commit_id")
    listed = before.select("model").unique()
    new = now.join(listed, on="model", how="semi").join(before, on=["model", "path", "last_commit_id"], how="anti")
    return new.select(pl.col("model").alias("ancestor"), (pl.col("part") != "other").alias("content")).unique()


def _changed_since(lg: LineageGraph, since: LineageGraph, rows: pl.DataFrame) -> pl.DataFrame:
    """The ``rows`` whose ancestor changed after ``since`` (the module docstring's *changed since*)."""
    model_columns = ["id", "last_modified", "new_version", "access"]
    now = lg.snapshot.columns("models", model_columns).rename({"id": "ancestor"})
    before = since.snapshot.columns("models", model_columns).rename({"id": "ancestor"})
    compared = now.join(before, on="ancestor", how="left", suffix="_old").with_columns(
        pl.col("ancestor").is_in(before["ancestor"].implode()).alias("held"))
    dead = since.snapshot.columns("dangling", ["raw", "reason"]).filter(pl.col("reason").is_in(UNAVAILABLE_DANGLING))
    listed = since.snapshot.columns("files", ["model"]).unique()["model"]
    files = _files_new_since(lg, since)
    flagged = rows.join(compared, on="ancestor", how="left").with_columns(
        pl.col("held").fill_null(pl.col("ancestor").is_in(dead["raw"].implode())),
        pl.col("ancestor").is_in(listed.implode()).alias("listed"),
        pl.col("ancestor").is_in(files.filter(pl.col("content"))["ancestor"].implode()).alias("new_content"),
        pl.col("ancestor").is_in(files.filter(~pl.col("content"))["ancestor"].implode()).alias("new_other"),
    )
    modified = ~pl.col("last_modified").eq_missing(pl.col("last_modified_old"))
    was_unavailable = pl.col("access_old").is_in(sorted(UNAVAILABLE)) | pl.col("ancestor").is_in(dead["raw"].implode())
    reason = pl.col("reason")
    keep = ~pl.col("held") | pl.when(reason == "weights_updated").then(
        pl.when(pl.col("listed")).then(pl.col("new_content")).otherwise(modified)
    ).when(reason == "card_updated").then(
        pl.when(pl.col("listed")).then(pl.col("new_other")).otherwise(modified)
    ).when(reason == "updated_unknown_part").then(modified).when(reason == "new_version").then(
        ~pl.col("new_version").eq_missing(pl.col("new_version_old"))
    ).when(reason == "unavailable").then(~was_unavailable.fill_null(False)).otherwise(pl.lit(True))
    return flagged.filter(keep.fill_null(True)).select(rows.columns)


@dataclass(frozen=True, kw_only=True)
class StaleSummary(Summary):
    """The summary of ``stale`` (:func:`stale_ancestors`); a ``rows_<reason>`` field per reason of :data:`REASONS`."""

    model: str
    """The model asked about, or ``"all"``."""
    stale_rows: int
    """Stale (model, ancestor, reason) rows (its rows)."""
    models_with_stale_ancestors: int
    """Models with at least one stale ancestor."""
    rows_weights_updated: int
    """Rows with reason ``weights_updated``."""
    rows_card_updated: int
    """Rows with reason ``card_updated``."""
    rows_updated_unknown_part: int
    """Rows with reason ``updated_unknown_part``."""
    rows_new_version: int
    """Rows with reason ``new_version``."""
    rows_unavailable: int
    """Rows with reason ``unavailable``."""
    models_without_created_at: int
    """Models asked about with no creation time (their ancestors' lag cannot be told)."""
    max_lag_days: float | None
    """The largest ``lag_days`` of a row (days from the model's creation to its ancestor's change); None
    without one."""


def stale_ancestors(
    lg: LineageGraph, model: str | None = None, *, since: LineageGraph | None = None
) -> AnalysisResult[StaleSummary]:
    """Every stale ancestor (module docstring) of ``model``, or of every model when None; with ``since``, only
    those that changed after that earlier snapshot."""
    target = lg.resolve(model) if model is not None else None
    rows = (
        (pl.DataFrame(stale_ancestor_rows(lg, [target]), schema=_ROW_SCHEMA, orient="row") if target is not None
         else _rows_of_every_model(lg))
        # a dangling reference reached along two paths: keep its nearest
        .sort(["id", "ancestor", "reason", "depth"])
        .unique(["id", "ancestor", "reason"], keep="first", maintain_order=True)
        .sort(["id", "depth", "ancestor", "reason"])
    )
    if since is not None:
        rows = _changed_since(lg, since, rows)
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
    created = lg.snapshot.columns("models", ["id", "created_at"])
    if target is not None:
        created = created.filter(pl.col("id") == target)
    counts = {reason: int((rows["reason"] == reason).sum()) for reason in REASONS}
    summary = StaleSummary(
        model=target or "all",
        stale_rows=rows.height,
        models_with_stale_ancestors=rows["id"].n_unique(),
        rows_weights_updated=counts["weights_updated"],
        rows_card_updated=counts["card_updated"],
        rows_updated_unknown_part=counts["updated_unknown_part"],
        rows_new_version=counts["new_version"],
        rows_unavailable=counts["unavailable"],
        models_without_created_at=int(created["created_at"].null_count()),
        max_lag_days=rows["lag_days"].max(),  # type: ignore[arg-type]
    )
    title = f"Stale ancestors of {target}" if target else "Stale ancestors"
    return AnalysisResult(title=title, rows=rows, summary=summary, tables={"by_reason": by_reason})


COMMANDS = (
    d.Analysis("stale", "Stale ancestors: bases whose weights (or only card) changed after the model was made, with "
               "a newer version, or unavailable (disabled or not found; gated is not).",
               (d.Option(("MODEL",), "model", "Model id (default: every model).", argument=True),
                d.SNAPSHOT, d.FORMAT, d.LIMIT, d.CSV_RAW,
                d.Option(("--since",), "since", "Only ancestors that changed after this earlier snapshot (what "
                         "changed since I looked).", "snapshot", metavar="OLD_SNAPSHOT", filter=True)),
               summary="StaleSummary", function=stale_ancestors, columns=("id", "ancestor", "reason", "lag_days"),
               adjust_columns=lambda columns, result, values: (
                   ["ancestor", "reason", "lag_days", "depth"] if values["model"] is not None else columns),
               answer=("ancestor", "reason"),
               reads={"models": ["created_at", "last_modified", "new_version", "access"],
                      "dangling": ["child", "raw", "reason"],
                      "files": ["model", "path", "part", "last_commit_date", "last_commit_id"]}),
)
"""The command of this module's analysis (:mod:`ptmgraph.declaration`); of one MODEL it shows ``ancestor,
reason, lag_days, depth``."""
