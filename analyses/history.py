"""How one model changed across the dated snapshots of a history (``ptmgraph history MODEL --history DIR``).

A *history* is a directory of dated snapshots, ``DIR/date=YYYY-MM-DD/``
(:func:`ptmgraph.snapshot_versions.add_to_history`).
One row per date, oldest first: whether the model is in that snapshot (``present``: a row of its ``models``
table), its ``parents`` (bases, in id order), ``license``, ``access``, ``downloads`` (the Hub's 30-day count
that day) and ``reach`` (its transitive dependents, :mod:`ptmgraph.traverse`), and ``changed``: which of
``present``, ``parents``, ``license``, ``access``, ``downloads`` and ``reach`` differ from the row before
(empty for the first row).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from ptmgraph import declaration as d
from ptmgraph.graph import LineageGraph, UnknownModelError
from ptmgraph.result import AnalysisResult, Summary
from ptmgraph.traverse import walk

FIELDS = ("present", "parents", "license", "access", "downloads", "reach")
"""The columns whose change a row's ``changed`` names, in that order."""

ROW_SCHEMA: dict[str, pl.DataType] = {
    "date": pl.String(),
    "present": pl.Boolean(),
    "parents": pl.List(pl.String()),
    "license": pl.String(),
    "access": pl.String(),
    "downloads": pl.Int64(),
    "reach": pl.Int64(),
    "changed": pl.List(pl.String()),
}


@dataclass(frozen=True, kw_only=True)
class HistorySummary(Summary):
    """The summary of ``history`` (:func:`model_history`)."""

    model: str
    """The model asked about, as the latest snapshot that knows it spells it."""
    snapshots: int
    """Dated snapshots read (its rows)."""
    first: str | None
    """The date of the oldest snapshot (None without one)."""
    last: str | None
    """The date of the latest snapshot (None without one)."""
    dates_with_changes: int
    """Dates at which a field of the model changed from the snapshot before."""


def _resolved(snapshots: list[tuple[str, LineageGraph]], model: str) -> str:
    """``model`` as the latest snapshot that knows it spells it; UnknownModelError (the latest's closest ids)."""
    for _, lg in reversed(snapshots):
        try:
            return lg.resolve(model)
        except UnknownModelError:
            continue
    closest = snapshots[-1][1].id_lookup.closest(model) if snapshots else []
    raise UnknownModelError(model, closest)


def model_history(snapshots: list[tuple[str, LineageGraph]], model: str) -> AnalysisResult[HistorySummary]:
    """The row of each dated snapshot for ``model`` (module docstring); ``snapshots`` oldest first."""
    target = _resolved(snapshots, model)
    rows: list[dict[str, Any]] = []
    for day, lg in snapshots:
        ids = lg.compact.ids
        at = ids.filter(ids == target)
        row: dict[str, Any] = {"date": day, "present": bool(at.len()), "parents": [], "license": None,
                               "access": None, "downloads": None, "reach": None}
        if row["present"]:
            node = lg.nodes_of([target])[target]
            row.update(parents=lg.parents(target), license=node["license"], access=node["access"],
                       downloads=node["downloads"], reach=len(walk(lg.compact, [target])))
        previous = rows[-1] if rows else None
        row["changed"] = [f for f in FIELDS if previous is not None and previous[f] != row[f]]
        rows.append(row)
    frame = pl.DataFrame(rows, schema=ROW_SCHEMA)
    summary = HistorySummary(
        model=target,
        snapshots=frame.height,
        first=frame["date"].first(),  # type: ignore[arg-type]
        last=frame["date"].last(),  # type: ignore[arg-type]
        dates_with_changes=int((frame["changed"].list.len() > 0).sum()),
    )
    return AnalysisResult(title=f"History of {target}", rows=frame, summary=summary)


COMMANDS = (
    d.Analysis("history", "How MODEL's parents, licence, access, downloads and reach changed across the dated "
               "snapshots of a history (written by ingest or crawl --history DIR).",
               (d.MODEL, d.Option(("--history",), "snapshots", "The history: dated snapshots DIR/date=YYYY-MM-DD/.",
                                  "history", metavar="DIR", required=True),
                d.FORMAT, d.LIMIT.but(default=0), d.CSV_RAW),
               summary="HistorySummary", rows="changes", function=model_history,
               columns=("date", "parents", "license", "access", "downloads", "reach", "changed", "present")),
)
"""The command of this module's analysis (:mod:`ptmgraph.declaration`)."""
