"""Fan-out and reach: how much of the ecosystem depends on a model, or on an author's models.

Definitions (*reach* and *depth* as in :mod:`ptmgraph.traverse`; after Zimmermann et al., USENIX
Security 2019, and deps.dev's dependent counts):

- ``direct_dependents`` of a model: its children other than itself.
- ``reach``: the number of models in its reach, each counted once however many paths lead there.
- ``reach_downloads``: the sum of the recorded download counts (the Hub's 30-day count) of the models
  in its reach, each once; a model without a count adds 0.
- ``subtree_height``: the most hops on a chain of derivations below the model, a cycle counting as
  one model (0 for a leaf).
- **maintainer reach** of an author (the id's owner: user or organisation): the reach of the set of
  the author's models, i.e. the union of their reach; ``direct_dependents`` is the union of their
  children other than themselves.
- **distribution** (summary): ``share_with_dependents`` is the share of models with at least one
  direct dependent. ``share_of_reach_top_1pct`` is the share of all derived models (those in some
  model's reach: every model but the roots) that lie in the reach of the top 1% of models by reach
  (at least one model); ``share_of_reach_top_20_authors`` the same for the 20 authors with the greatest
  maintainer reach. Both count each derived model once, so they are shares of models, not of sums.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import polars as pl

from ptmgraph.graph import LineageGraph
from ptmgraph.result import AnalysisResult
from ptmgraph.traverse import Condensation, condense, group_reach_arrays, reach_arrays, reached_mask, root_mask

By = Literal["model", "author"]

_MODEL_SCHEMA = {
    "id": pl.String(),
    "author": pl.String(),
    "direct_dependents": pl.Int64(),
    "reach": pl.Int64(),
    "reach_downloads": pl.Int64(),
    "subtree_height": pl.Int64(),
    "downloads": pl.Int64(),
    "position": pl.Int64(),
}
_AUTHOR_SCHEMA = {
    "id": pl.String(),
    "models": pl.Int64(),
    "direct_dependents": pl.Int64(),
    "reach": pl.Int64(),
    "reach_downloads": pl.Int64(),
    "number": pl.Int64(),
}
_RANK = (["reach", "reach_downloads", "id"], [True, True, False])


def _model_columns(lg: LineageGraph) -> pl.DataFrame:
    """``id``, ``author`` (the record's, else the id's owner) and ``downloads`` of every model, in position
    order (edge-only models: no downloads), and ``position``."""
    index = lg.compact
    table = lg.snapshot.models.select("author", "downloads")
    if index.nodes > table.height:
        table = pl.concat([table, table.clear(index.nodes - table.height)])
    owner = pl.col("id").str.split("/").list.first()
    return table.insert_column(0, index.ids.alias("id")).with_columns(
        pl.when(pl.col("author").is_null() | (pl.col("author") == "")).then(owner).otherwise(pl.col("author"))
        .alias("author"),
        pl.Series("position", np.arange(index.nodes, dtype=np.int64)),
    )


def model_reach(lg: LineageGraph, condensed: Condensation | None = None) -> pl.DataFrame:
    """One row per model: the columns of the module docstring, most reach first, and ``position`` (the
    model's position in the compact index)."""
    index = lg.compact
    models = _model_columns(lg)
    counts = reach_arrays(index, models["downloads"].fill_null(0).to_numpy(), condensed)
    frame = models.with_columns(
        pl.Series("direct_dependents", counts.direct_dependents),
        pl.Series("reach", counts.reach),
        pl.Series("reach_downloads", counts.reach_weight),
        pl.Series("subtree_height", counts.subtree_height),
    ).select(list(_MODEL_SCHEMA))
    return frame.cast(_MODEL_SCHEMA).sort(_RANK[0], descending=_RANK[1])  # type: ignore[arg-type]


def author_reach(lg: LineageGraph, models: pl.DataFrame, condensed: Condensation | None = None) -> pl.DataFrame:
    """One row per author: maintainer reach (module docstring), most reach first, and ``number`` (the
    author's group number). ``models`` is :func:`model_reach`'s table."""
    by_position = models.sort("position")
    number = by_position["author"].rank("dense").to_numpy().astype(np.int64) - 1
    authors = by_position["author"].unique().sort()
    counts = group_reach_arrays(lg.compact, number, authors.len(),
                                by_position["downloads"].fill_null(0).to_numpy(), condensed)
    frame = pl.DataFrame({
        "id": authors,
        "models": np.bincount(number, minlength=authors.len()),
        "direct_dependents": counts.direct_dependents,
        "reach": counts.reach,
        "reach_downloads": counts.reach_weight,
        "number": np.arange(authors.len(), dtype=np.int64),
    })
    return frame.cast(_AUTHOR_SCHEMA).sort(_RANK[0], descending=_RANK[1])  # type: ignore[arg-type]


def reach_ranking(lg: LineageGraph, *, by: By = "model", top: int = 20) -> AnalysisResult:
    """The ``top`` models (or authors) by reach (all when 0), and the distribution over the whole graph."""
    if by not in ("model", "author"):
        raise ValueError(f"by must be 'model' or 'author', not {by!r}")
    graph = lg.compact  # the networkx graph is never built
    condensed = condense(graph)
    models = model_reach(lg, condensed)
    authors = author_reach(lg, models, condensed)
    derived = graph.nodes - int(root_mask(graph).sum())
    top_models = models["position"].head(max(1, math.ceil(models.height / 100))).to_numpy()
    top_authors = authors["id"].head(20)
    author_models = models.filter(pl.col("author").is_in(top_authors.implode()))["position"].to_numpy()

    def share(part: int, whole: int) -> float:
        return round(part / whole, 4) if whole else 0.0

    def union(positions: np.ndarray) -> int:
        return int(reached_mask(graph, positions, condensed).sum())

    with_dependents = int((models["direct_dependents"] > 0).sum())
    summary = {
        "by": by,
        "models": models.height,
        "authors": authors.height,
        "derived_models": derived,
        "models_with_dependents": with_dependents,
        "share_with_dependents": share(with_dependents, models.height),
        "top_1pct_models": len(top_models),
        "share_of_reach_top_1pct": share(union(top_models), derived),
        "share_of_reach_top_20_authors": share(union(author_models), derived),
        "max_reach": int(models["reach"].max() or 0),  # type: ignore[arg-type]
    }
    table = models.drop("position") if by == "model" else authors.drop("number")
    rows = table.head(top) if top > 0 else table
    fan_out = models.group_by("direct_dependents").len("models").sort("direct_dependents")
    return AnalysisResult(
        title=f"Reach by {by}" + (f" (top {top})" if top > 0 else ""),
        rows=rows,
        summary=summary,
        tables={"fan_out": fan_out},
    )
