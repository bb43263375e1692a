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
from ptmgraph.traverse import reach_of_every_group, reach_of_every_model, reach_union, roots

By = Literal["model", "author"]

_MODEL_SCHEMA = {
    "id": pl.String(),
    "author": pl.String(),
    "direct_dependents": pl.Int64(),
    "reach": pl.Int64(),
    "reach_downloads": pl.Int64(),
    "subtree_height": pl.Int64(),
    "downloads": pl.Int64(),
}
_AUTHOR_SCHEMA = {
    "id": pl.String(),
    "models": pl.Int64(),
    "direct_dependents": pl.Int64(),
    "reach": pl.Int64(),
    "reach_downloads": pl.Int64(),
}
_RANK = (["reach", "reach_downloads", "id"], [True, True, False])


def model_reach(lg: LineageGraph) -> pl.DataFrame:
    """One row per model: the columns of the module docstring, most reach first."""
    index = lg.compact
    nodes = lg.nodes_at(np.arange(index.nodes, dtype=np.int64), ["author", "downloads"])  # in position order
    downloads = dict(zip(nodes["id"].to_list(), nodes["downloads"].to_list(), strict=True))
    counts = reach_of_every_model(index, downloads)
    authors = nodes["author"].to_list()
    frame = pl.DataFrame(
        {
            "id": counts.models,
            "author": [a or n.split("/")[0] for n, a in zip(counts.models, authors, strict=True)],
            "direct_dependents": counts.direct_dependents,
            "reach": counts.reach,
            "reach_downloads": counts.reach_weight,
            "subtree_height": counts.subtree_height,
            "downloads": nodes["downloads"].to_list(),
        },
        schema=_MODEL_SCHEMA,
    )
    return frame.sort(_RANK[0], descending=_RANK[1])


def author_reach(lg: LineageGraph, models: pl.DataFrame) -> pl.DataFrame:
    """One row per author: maintainer reach (module docstring), most reach first. ``models`` is
    :func:`model_reach`'s table."""
    author_of = dict(zip(models["id"].to_list(), models["author"].to_list(), strict=True))
    downloads = dict(zip(models["id"].to_list(), models["downloads"].to_list(), strict=True))
    counts = reach_of_every_group(lg.compact, author_of, downloads)
    sizes = dict(models.group_by("author").len().iter_rows())
    rows = [(a, sizes[a], c.direct_dependents, c.reach, c.reach_weight) for a, c in counts.items()]
    frame = pl.DataFrame(rows, schema=_AUTHOR_SCHEMA, orient="row")
    return frame.sort(_RANK[0], descending=_RANK[1])


def reach_ranking(lg: LineageGraph, *, by: By = "model", top: int = 20) -> AnalysisResult:
    """The ``top`` models (or authors) by reach (all when 0), and the distribution over the whole graph."""
    if by not in ("model", "author"):
        raise ValueError(f"by must be 'model' or 'author', not {by!r}")
    graph = lg.compact  # the networkx graph is never built
    models = model_reach(lg)
    authors = author_reach(lg, models)
    derived = graph.nodes - len(roots(graph))
    top_models = models.head(max(1, math.ceil(models.height / 100)))["id"].to_list()
    top_authors = set(authors.head(20)["id"].to_list())
    author_models = models.filter(pl.col("author").is_in(top_authors))["id"].to_list()

    def share(part: int, whole: int) -> float:
        return round(part / whole, 4) if whole else 0.0

    with_dependents = int((models["direct_dependents"] > 0).sum())
    summary = {
        "by": by,
        "models": models.height,
        "authors": authors.height,
        "derived_models": derived,
        "models_with_dependents": with_dependents,
        "share_with_dependents": share(with_dependents, models.height),
        "top_1pct_models": len(top_models),
        "share_of_reach_top_1pct": share(len(reach_union(graph, top_models)), derived),
        "share_of_reach_top_20_authors": share(len(reach_union(graph, author_models)), derived),
        "max_reach": int(models["reach"].max() or 0),  # type: ignore[arg-type]
    }
    table = models if by == "model" else authors
    rows = table.head(top) if top > 0 else table
    fan_out = models.group_by("direct_dependents").len("models").sort("direct_dependents")
    return AnalysisResult(
        title=f"Reach by {by}" + (f" (top {top})" if top > 0 else ""),
        rows=rows,
        summary=summary,
        tables={"fan_out": fan_out},
    )
