"""Fan-out and reach: how much of the ecosystem depends on a model, or on an author's models.

Definitions (*reach* and *depth* as in :mod:`ptmgraph.traverse`; after Zimmermann et al., USENIX
Security 2019, and deps.dev's dependent counts):

- ``direct_dependents`` of a model: its children other than itself.
- ``reach``: the number of models in its reach, each counted once however many paths lead there.
- ``reach_downloads``: the sum of the recorded download counts (the Hub's 30-day count) of the models
  in its reach, each once; a model without a count adds 0.
- ``downloads_unknown``: how many models in its reach have no download count (no record, or a record
  without one), each once: ``reach_downloads`` is a lower bound whenever it is above 0.
- ``subtree_height``: the most hops on a chain of derivations below the model, a cycle counting as
  one model (0 for a leaf).
- **maintainer reach** of an author (the id's owner: user or organisation): the reach of the set of
  the author's models, i.e. the union of their reach; ``direct_dependents`` is the union of their
  children other than themselves; ``reach_downloads`` and ``downloads_unknown`` are over that union.
- **distribution** (summary): ``share_with_dependents`` is the share of models with at least one
  direct dependent. ``share_of_reach_top_1pct`` is the share of all derived models (those in some
  model's reach: every model but the roots) that lie in the reach of the top 1% of models by reach
  (at least one model); ``share_of_reach_top_20_authors`` the same for the 20 authors with the greatest
  maintainer reach. Both count each derived model once, so they are shares of models, not of sums.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import polars as pl

from ptmgraph import declaration as d
from ptmgraph.graph import LineageGraph
from ptmgraph.passes import Condensation, condense, group_reach_arrays, reach_arrays, reached_mask
from ptmgraph.result import AnalysisResult, Summary
from ptmgraph.traverse import root_mask

By = Literal["model", "author"]

_MODEL_SCHEMA = {
    "id": pl.String(),
    "author": pl.String(),
    "direct_dependents": pl.Int64(),
    "reach": pl.Int64(),
    "reach_downloads": pl.Int64(),
    "downloads_unknown": pl.Int64(),
    "subtree_height": pl.Int64(),
    "downloads": pl.Int64(),
}
_AUTHOR_SCHEMA = {
    "id": pl.String(),
    "models": pl.Int64(),
    "direct_dependents": pl.Int64(),
    "reach": pl.Int64(),
    "reach_downloads": pl.Int64(),
    "downloads_unknown": pl.Int64(),
}
_RANK = (["reach", "reach_downloads", "id"], [True, True, False])


def _model_columns(lg: LineageGraph) -> pl.DataFrame:
    """``id``, ``author`` (the record's, else the id's owner) and ``downloads`` of every model, in position
    order (edge-only models: no downloads)."""
    index = lg.compact
    table = lg.snapshot.columns("models", ["author", "downloads"])
    if index.nodes > table.height:
        table = pl.concat([table, table.clear(index.nodes - table.height)])
    table = table.insert_column(0, index.ids.alias("id"))
    missing = pl.col("author").is_null() | (pl.col("author") == "")
    if table.select(missing.any()).item():  # splitting every id costs more than the rest of the table
        owner = pl.col("id").str.split("/").list.first()
        table = table.with_columns(pl.when(missing).then(owner).otherwise(pl.col("author")).alias("author"))
    return table


def _ranked(frame: pl.DataFrame, head: int) -> pl.DataFrame:
    """``frame`` ranked by :data:`_RANK`: its first ``head`` rows (every row when 0).

    The rows at or above the ``head``-th by (reach, reach_downloads) are found without comparing ids,
    and only they are sorted with the id as the last key: a full sort compares a million ids.
    """
    columns, descending = _RANK
    if 0 < head < frame.height:
        numbers = frame.select(columns[:2]).top_k(head, by=columns[:2])
        reach, weight = numbers.row(numbers.height - 1)
        frame = frame.filter((pl.col("reach") > reach) | ((pl.col("reach") == reach)
                                                          & (pl.col("reach_downloads") >= weight)))
    return frame.sort(columns, descending=descending).head(head or frame.height)


def _weights(models: pl.DataFrame) -> np.ndarray:
    """Two weights per model, summed over a reach: its download count (0 when unknown), and 1 when unknown."""
    downloads = models["downloads"]
    return np.column_stack([downloads.fill_null(0).to_numpy(), downloads.is_null().to_numpy()]).astype(np.int64)


def _model_table(lg: LineageGraph, condensed: Condensation) -> pl.DataFrame:
    """:func:`model_reach`'s columns, in position order."""
    models = _model_columns(lg)
    counts = reach_arrays(lg.compact, _weights(models), condensed)
    return models.with_columns(
        pl.Series("direct_dependents", counts.direct_dependents),
        pl.Series("reach", counts.reach),
        pl.Series("reach_downloads", counts.reach_weight[:, 0]),
        pl.Series("downloads_unknown", counts.reach_weight[:, 1]),
        pl.Series("subtree_height", counts.subtree_height),
    ).select(list(_MODEL_SCHEMA)).cast(_MODEL_SCHEMA)  # type: ignore[arg-type]


def _author_table(lg: LineageGraph, models: pl.DataFrame, condensed: Condensation) -> tuple[pl.DataFrame, np.ndarray]:
    """:func:`author_reach`'s columns in author order, and each model's row number in it."""
    author = models["author"]
    order = author.arg_sort()
    ranked = author.gather(order)
    first = (ranked != ranked.shift(1)).fill_null(True).to_numpy()  # the first model of each author
    number = np.empty(models.height, dtype=np.int64)
    number[order.to_numpy()] = np.cumsum(first) - 1
    names = ranked.filter(pl.Series(first))
    counts = group_reach_arrays(lg.compact, number, names.len(), _weights(models), condensed)
    frame = pl.DataFrame({
        "id": names,
        "models": np.bincount(number, minlength=names.len()),
        "direct_dependents": counts.direct_dependents,
        "reach": counts.reach,
        "reach_downloads": counts.reach_weight[:, 0],
        "downloads_unknown": counts.reach_weight[:, 1],
    })
    return frame.cast(_AUTHOR_SCHEMA), number  # type: ignore[arg-type]


def model_reach(lg: LineageGraph) -> pl.DataFrame:
    """One row per model: the columns of the module docstring, most reach first."""
    return _ranked(_model_table(lg, condense(lg.compact)), 0)


def author_reach(lg: LineageGraph) -> pl.DataFrame:
    """One row per author: maintainer reach (module docstring), most reach first."""
    condensed = condense(lg.compact)
    return _ranked(_author_table(lg, _model_table(lg, condensed), condensed)[0], 0)


@dataclass(frozen=True, kw_only=True)
class ReachSummary(Summary):
    """The summary of ``reach`` (:func:`reach_ranking`): the distribution of reach over the whole graph."""

    by: By
    """What the rows rank: models or authors."""
    models: int
    """Models in the snapshot."""
    authors: int
    """Authors (the part of an id before ``/``)."""
    derived_models: int
    """Models that are not roots."""
    models_with_dependents: int
    """Models with at least one dependent."""
    share_with_dependents: float
    """``models_with_dependents`` over ``models`` (0 to 1, 4 decimals)."""
    top_1pct_models: int
    """The number of models in the top 1% by reach (at least 1)."""
    share_of_reach_top_1pct: float
    """The share of derived models in the reach of the top 1% of models (0 to 1, 4 decimals)."""
    share_of_reach_top_20_authors: float
    """The share of derived models in the reach of the top 20 authors' models (0 to 1, 4 decimals)."""
    max_reach: int
    """The largest reach of a model."""


def reach_ranking(lg: LineageGraph, *, by: By = "model", top: int = 20) -> AnalysisResult[ReachSummary]:
    """The ``top`` models (or authors) by reach (all when 0), and the distribution over the whole graph."""
    if by not in ("model", "author"):
        raise ValueError(f"by must be 'model' or 'author', not {by!r}")
    graph = lg.compact  # the networkx graph is never built
    condensed = condense(graph)
    models = _model_table(lg, condensed)  # in position order
    authors, author_number = _author_table(lg, models, condensed)
    derived = graph.nodes - int(root_mask(graph).sum())
    top_count = max(1, math.ceil(models.height / 100))
    top_models = _ranked(models.with_row_index("position"), top_count)["position"].to_numpy().astype(np.int64)
    top_authors = _ranked(authors.with_row_index("number"), 20)["number"].to_numpy()
    author_models = np.flatnonzero(np.isin(author_number, top_authors))

    def share(part: int, whole: int) -> float:
        return round(part / whole, 4) if whole else 0.0

    def union(positions: np.ndarray) -> int:
        return int(reached_mask(graph, positions, condensed).sum())

    with_dependents = int((models["direct_dependents"] > 0).sum())
    summary = ReachSummary(
        by=by,
        models=models.height,
        authors=authors.height,
        derived_models=derived,
        models_with_dependents=with_dependents,
        share_with_dependents=share(with_dependents, models.height),
        top_1pct_models=len(top_models),
        share_of_reach_top_1pct=share(union(top_models), derived),
        share_of_reach_top_20_authors=share(union(author_models), derived),
        max_reach=int(models["reach"].max() or 0),  # type: ignore[arg-type]
    )
    rows = _ranked(models if by == "model" else authors, top)
    fan_out = models.group_by("direct_dependents").len("models").sort("direct_dependents")
    return AnalysisResult(
        title=f"Reach by {by}" + (f" (top {top})" if top > 0 else ""),
        rows=rows,
        summary=summary,
        tables={"fan_out": fan_out},
    )


COMMANDS = (
    d.Analysis("reach", "Fan-out and reach: direct and transitive dependents (each once), downloads-weighted, and "
               "their spread.",
               (d.Option(("--by",), "by", "Rank models, or authors by the union of their models' reach.", "choice",
                         "model", metavar="model|author", choices=d.choices("By", By)),
                d.Option(("--top",), "top", "Rank the top N (0: all).", "int", 20, metavar="N", least=0),
                d.SNAPSHOT, d.FORMAT, d.LIMIT, d.CSV_RAW),
               summary="ReachSummary", function=reach_ranking,
               columns=("id", "direct_dependents", "reach", "reach_downloads", "downloads_unknown"), answer=("reach",),
               adjust_columns=lambda columns, result, values: (
                   [columns[0], "models", *columns[2:]] if values["by"] == "author" else columns),
               # a million models: read the two columns the ranking shows, not the whole models table
               reads={"models": ["author", "downloads"]}),
)
"""The command of this module's analysis (:mod:`ptmgraph.declaration`); ``--by author`` shows ``models``
instead of ``direct_dependents``."""
