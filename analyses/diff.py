"""What changed between two snapshots (``ptmgraph diff OLD NEW``, :func:`diff_snapshots`): the lock-file
diff of model lineage.

Definitions (the README's "Definitions" refers here). A model is matched across the two snapshots by
its id (a row of the ``models`` table: a record, or an id known only as a base), an edge by its
(``base``, ``child``) pair. One row per change, its kind in ``change``:

- ``model_added`` / ``model_removed``: an id in the ``models`` table of NEW only / of OLD only.
- ``edge_added`` / ``edge_removed``: a pair in the ``edges`` of NEW only / of OLD only (``id`` is the
  child, ``base`` the base).
- ``relation_changed``: a pair in both whose resolved ``relation`` differs (``old``, ``new``).
- ``license_changed``, ``access_changed``: a model in both whose ``license`` / ``access`` differs
  (a value that appears or disappears is a change; ``old``, ``new``).
- ``weights_changed``: a model in both whose *weight files* (its files that
  :func:`ptmgraph.file_rules.file_part` calls ``weights``) differ: a weight file added or removed in its
  ``files`` list, or a weight file listed in both snapshots' ``files`` tables whose content differs (its
  LFS ``sha256`` when both listings give one, else its ``blob_id``, else its ``last_commit_id``).
  ``detail`` names the files by how each changed; ``old`` the removed and changed ones, ``new`` the added
  and changed ones. A model whose repo ``sha`` is the same in both is unchanged (the repo's
  commit fixes every file).
- ``descendant_added`` / ``descendant_removed``, for each *watched* model W (``--watch``; in ``watch``):
  a model in W's reach (:mod:`ptmgraph.traverse`: its descendants, every relation) in NEW and not in
  OLD / in OLD and not in NEW, whether the model itself is new or an existing model gained or lost the
  path.

The **watched set** is the watched models and their descendants in either snapshot. A row is
``watched`` when its ``id`` (a model, or the child of an edge) is in the watched set: so a new or
removed descendant, and a changed edge, licence, access or weight files of a watched model or of one
of its descendants. ``watched_changes`` counts these rows; ``ptmgraph diff --watch`` exits 1 when it
is not 0 (the one rule; nothing else decides the exit code).

Everything is joins on the tables: descendants come from one walk of all watched models at once per
snapshot (:func:`ptmgraph.pair_walks.reach_pairs`), and :func:`ptmgraph.file_rules.file_part` runs once per
distinct path of the models whose repo changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from ptmgraph import declaration as d
from ptmgraph.file_rules import file_part
from ptmgraph.graph import LineageGraph, UnknownModelError
from ptmgraph.pair_walks import reach_pairs
from ptmgraph.result import AnalysisResult, Summary

CHANGES = ("descendant_added", "descendant_removed", "model_added", "model_removed", "edge_added", "edge_removed",
           "relation_changed", "license_changed", "access_changed", "weights_changed")
"""Every kind of change, in the order rows are listed."""

ROW_SCHEMA: dict[str, pl.DataType] = {
    "change": pl.String(),
    "id": pl.String(),
    "base": pl.String(),
    "watch": pl.String(),
    "old": pl.String(),
    "new": pl.String(),
    "detail": pl.String(),
    "watched": pl.Boolean(),
}
_MODEL_COLUMNS = ["id", "sha", "license", "access"]
_FILE_COLUMNS = ["model", "path", "part", "sha256", "blob_id", "last_commit_id"]
_CONTENT_IDS = ("sha256", "blob_id", "last_commit_id")


def _rows(frame: pl.DataFrame, change: str, **columns: pl.Expr) -> pl.DataFrame:
    """``frame`` as change rows of kind ``change``: ``columns`` give some of :data:`ROW_SCHEMA`'s, the rest null."""
    exprs = [pl.lit(change).alias("change")]
    for name, dtype in ROW_SCHEMA.items():
        if name in ("change", "watched"):
            continue
        exprs.append((columns[name] if name in columns else pl.lit(None)).cast(dtype).alias(name))
    return frame.select(exprs)


def _watched_models(old: LineageGraph, new: LineageGraph, watch: Sequence[str]) -> list[str]:
    """The watched ids as each snapshot spells them: NEW's, else OLD's; unknown in both raises
    :class:`~ptmgraph.graph.UnknownModelError` (with NEW's closest ids)."""
    found = []
    for model in watch:
        try:
            found.append(new.resolve(model))
        except UnknownModelError:
            try:
                found.append(old.resolve(model))
            except UnknownModelError:
                raise UnknownModelError(model, new.id_lookup.closest(model)) from None
    return list(dict.fromkeys(found))


def _descendants(lg: LineageGraph, watched: list[str]) -> pl.DataFrame:
    """(``watch``, ``id``): every model in the reach of each watched model present in ``lg``."""
    ids = lg.compact.ids
    known = set(ids.filter(ids.is_in(pl.Series(watched, dtype=pl.String()).implode())).to_list())
    present = [m for m in watched if m in known]
    if not present:
        return pl.DataFrame(schema={"watch": pl.String(), "id": pl.String()})
    sources, models, _ = reach_pairs(lg.compact, np.asarray(lg.compact.position_list(present), dtype=np.int64))
    return pl.DataFrame({"watch": ids.gather(sources).cast(pl.String()), "id": ids.gather(models).cast(pl.String())})


def _weight_paths(models: pl.DataFrame) -> pl.DataFrame:
    """(``id``, ``path``) of every weight file in the ``files`` lists of ``models``."""
    paths = models.select("id", pl.col("files").alias("path")).explode("path").drop_nulls("path")
    distinct = paths["path"].unique()
    parts = pl.DataFrame({"path": distinct, "part": [file_part(p) for p in distinct.to_list()]},
                         schema={"path": pl.String(), "part": pl.String()})
    weights = parts.filter(pl.col("part") == "weights").select("path")
    return paths.join(weights, on="path", how="semi")


def _weights_changed(old: LineageGraph, new: LineageGraph, both: pl.DataFrame) -> pl.DataFrame:
    """``weights_changed`` rows (module docstring) of the models in ``both`` (OLD's columns, then NEW's as
    ``*_new``)."""
    changed_repo = both.filter(~pl.col("sha").eq_missing(pl.col("sha_new")) | pl.col("sha").is_null())
    # the file lists of these models only: at Hub scale the lists of every model are most of a snapshot
    before = _weight_paths(old.snapshot.columns_where("models", ["id", "files"], "id", changed_repo["id"]))
    after = _weight_paths(new.snapshot.columns_where("models", ["id", "files"], "id", changed_repo["id"]))
    added = after.join(before, on=["id", "path"], how="anti").with_columns(pl.lit("added").alias("how"))
    removed = before.join(after, on=["id", "path"], how="anti").with_columns(pl.lit("removed").alias("how"))
    old_files = old.snapshot.columns("files", _FILE_COLUMNS).filter(pl.col("part") == "weights")
    new_files = new.snapshot.columns("files", _FILE_COLUMNS).filter(pl.col("part") == "weights")
    listed = old_files.join(new_files, on=["model", "path"], suffix="_new")
    differs = pl.lit(False)
    for column in reversed(_CONTENT_IDS):  # the first content id both listings give decides
        known = pl.col(column).is_not_null() & pl.col(f"{column}_new").is_not_null()
        differs = pl.when(known).then(pl.col(column) != pl.col(f"{column}_new")).otherwise(differs)
    content = (listed.filter(differs)
               .join(changed_repo.select(pl.col("id").alias("model")), on="model", how="semi")
               .select(pl.col("model").alias("id"), "path", pl.lit("content changed").alias("how")))
    files = pl.concat([added, removed, content])
    if files.is_empty():
        return pl.DataFrame(schema=ROW_SCHEMA).drop("watched")
    per_how = (files.sort("path").group_by("id", "how").agg(pl.col("path").str.join(", "))
               .with_columns(pl.format("{}: {}", "how", "path").alias("part")).sort("part"))
    per_model = per_how.group_by("id").agg(
        pl.col("part").str.join("; ").alias("detail"),
        pl.col("path").filter(pl.col("how") != "added").str.join(", ").alias("old"),
        pl.col("path").filter(pl.col("how") != "removed").str.join(", ").alias("new"),
    )
    empty = pl.lit(None, pl.String())
    return _rows(per_model, "weights_changed", id=pl.col("id"), detail=pl.col("detail"),
                 old=pl.when(pl.col("old") != "").then(pl.col("old")).otherwise(empty),
                 new=pl.when(pl.col("new") != "").then(pl.col("new")).otherwise(empty))


@dataclass(frozen=True, kw_only=True)
class DiffSummary(Summary):
    """The summary of ``diff`` (:func:`diff_snapshots`)."""

    old: str
    """The older snapshot's directory as named ("memory" for one never saved)."""
    new: str
    """The newer snapshot's directory as named."""
    old_written_at: str | None
    """When the older snapshot was written (its ``meta.json``, ISO 8601)."""
    new_written_at: str | None
    """When the newer snapshot was written."""
    changes: int
    """Changes found (its rows)."""
    watch: list[str]
    """The watched models, as the snapshots spell them."""
    watched_models: int
    """The watched models and their descendants in either snapshot (0 without ``--watch``)."""
    watched_changes: int
    """Changes to a watched model."""


def diff_snapshots(old: LineageGraph, new: LineageGraph, watch: Sequence[str] = ()) -> AnalysisResult[DiffSummary]:
    """Every change from ``old`` to ``new`` (module docstring), with the watched ones flagged."""
    watched = _watched_models(old, new, watch)
    om = old.snapshot.columns("models", _MODEL_COLUMNS)
    nm = new.snapshot.columns("models", _MODEL_COLUMNS)
    oe = old.snapshot.columns("edges", ["base", "child", "relation"])
    ne = new.snapshot.columns("edges", ["base", "child", "relation"])
    both = om.join(nm, on="id", suffix="_new")
    pair = ["base", "child"]
    edges_both = oe.join(ne, on=pair, suffix="_new")
    before, after = _descendants(old, watched), _descendants(new, watched)
    parts = [
        _rows(after.join(before, on=["watch", "id"], how="anti"), "descendant_added",
              id=pl.col("id"), watch=pl.col("watch")),
        _rows(before.join(after, on=["watch", "id"], how="anti"), "descendant_removed",
              id=pl.col("id"), watch=pl.col("watch")),
        _rows(nm.join(om, on="id", how="anti"), "model_added", id=pl.col("id")),
        _rows(om.join(nm, on="id", how="anti"), "model_removed", id=pl.col("id")),
        _rows(ne.join(oe, on=pair, how="anti"), "edge_added", id=pl.col("child"), base=pl.col("base"),
              new=pl.col("relation")),
        _rows(oe.join(ne, on=pair, how="anti"), "edge_removed", id=pl.col("child"), base=pl.col("base"),
              old=pl.col("relation")),
        _rows(edges_both.filter(~pl.col("relation").eq_missing(pl.col("relation_new"))), "relation_changed",
              id=pl.col("child"), base=pl.col("base"), old=pl.col("relation"), new=pl.col("relation_new")),
        *(_rows(both.filter(~pl.col(c).eq_missing(pl.col(f"{c}_new"))), f"{c}_changed",
                id=pl.col("id"), old=pl.col(c), new=pl.col(f"{c}_new")) for c in ("license", "access")),
        _weights_changed(old, new, both),
    ]
    watched_set = pl.concat([pl.Series("id", watched, dtype=pl.String()), before["id"], after["id"]]).unique()
    order = pl.DataFrame({"change": list(CHANGES), "order": list(range(len(CHANGES)))})
    rows = (pl.concat(parts)
            .with_columns(pl.col("id").is_in(watched_set.implode()).alias("watched"))
            .join(order, on="change")
            .sort(["watched", "order", "id", "base", "watch"], descending=[True, False, False, False, False],
                  nulls_last=True)
            .drop("order"))
    counts = rows.group_by("change").agg(pl.len().alias("rows"), pl.col("watched").sum().alias("watched"))
    by_change = (order.join(counts, on="change", how="left").sort("order")
                 .select("change", pl.col("rows").fill_null(0), pl.col("watched").fill_null(0).cast(pl.Int64())))
    watched_changes = int(rows["watched"].sum())
    summary = DiffSummary(
        old=_where(old), new=_where(new),
        old_written_at=old.snapshot.meta.get("written_at"), new_written_at=new.snapshot.meta.get("written_at"),
        changes=rows.height,
        watch=watched,
        watched_models=watched_set.len() if watched else 0,
        watched_changes=watched_changes,
    )
    title = f"Changes from {summary.old} to {summary.new}"
    return AnalysisResult(title=title, rows=rows, summary=summary, tables={"by_change": by_change})


def _where(lg: LineageGraph) -> str:
    """The snapshot directory of ``lg`` as the user named it (the generation's parent), for titles."""
    directory = lg.snapshot.directory
    if directory is None:
        return "memory"
    return str(directory.parent if directory.name.startswith("gen-") else directory)


COMMANDS = (
    d.Analysis("diff", "What changed from OLD to NEW: models and edges added and removed, relation, licence, access "
               "and weight-file changes, new and removed descendants of --watch models; exit 1 when a watched one "
               "changed.",
               (d.Option(("OLD",), "old", "The earlier snapshot directory.", "snapshot", argument=True, required=True),
                d.Option(("NEW",), "new", "The later snapshot directory.", "snapshot", argument=True, required=True),
                d.Option(("--watch", "-w"), "watch", "Flag changes to this model and its descendants; exit 1 if any "
                         "(repeatable).", metavar="MODEL", many=True),
                d.Option(("--watch-from-file",), "watch_from_file", "More models to watch, one id a line (# comments, "
                         "ORG/NAME@REVISION accepted).", "path", metavar="FILE", extends="watch"),
                d.FORMAT, d.LIMIT, d.CSV_RAW),
               summary="DiffSummary", rows="changes", function=diff_snapshots,
               columns=("change", "id", "old", "new", "base", "watch", "detail"),
               adjust_columns=lambda columns, result, values: (
                   [*columns[:2], "watched", *columns[2:]] if values["watch"] else columns),
               fails=lambda result: bool(result.summary["watched_changes"])),
)
"""The command of this module's analysis (:mod:`ptmgraph.declaration`); with watched models ``watched``
comes third."""
