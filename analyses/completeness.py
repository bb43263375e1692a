"""Missing attributes and relation disagreements: how much metadata a reuser can rely on.

Definitions:

- **Assessed models**: models with a record of their own (``has_record``). Ids seen only as a base or in a
  model-tree listing are not assessed: nothing about them was read, so nothing can be called missing.
- An assessed model **misses** an attribute (:data:`ATTRIBUTES`) when:

  - ``license``: it states no licence (card ``license`` or ``license:`` tag);
  - ``base_model``: it is not a root (:mod:`ptmgraph.traverse`): the graph gives it a parent (from Hub tags,
    model trees or its files), but its card names no ``base_model``, so its author does not declare its
    lineage. Roots are not assessed for this attribute (one pass over the compact index finds them:
    :func:`~ptmgraph.traverse.root_mask`);
  - ``datasets``: neither its card nor its ``dataset:`` tags name a training dataset;
  - ``pipeline_tag``: no task (Hub field or card);
  - ``library``: no library (Hub ``library_name`` or card);
  - ``evaluation``: its card has no ``model-index`` (evaluation results);
  - ``card``: it has no model card (README.md).

- The **missing rate** (``share``) of an attribute is the share of the models assessed for it that miss it;
  ``downloads_share`` is the share of those models' downloads held by the ones that miss it (both 0-1,
  rounded to four decimals).
- Every edge may state its relation three ways: **declared** (the child's card ``base_model_relation``),
  **hub** (the Hub's tag or model-tree heading) and **inferred** (the child's files, config and name). The
  edge's relations **disagree** when two or more are stated and they are not all the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np
import polars as pl

from ptmgraph import declaration as d
from ptmgraph.graph import LineageGraph
from ptmgraph.result import AnalysisResult, Summary
from ptmgraph.traverse import root_mask

ATTRIBUTES: tuple[str, ...] = (
    "license",
    "base_model",
    "datasets",
    "pipeline_tag",
    "library",
    "evaluation",
    "card",
)
"""The attributes checked, in report order (defined in the module docstring)."""

RELATION_SOURCES: tuple[str, ...] = ("declared_relation", "hub_relation", "inferred_relation")

MODEL_COLUMNS = ["id", "author", "downloads", "has_record", "license", "card_fields", "datasets", "pipeline_tag",
                 "library", "has_card"]
"""The ``models`` columns the audit reads (a stored snapshot reads only these)."""

EDGE_COLUMNS = [*RELATION_SOURCES, "relation"]
"""The ``edges`` columns the audit reads."""


def _has_parent(lg: LineageGraph) -> tuple[pl.Series, int]:
    """Whether each row of the ``models`` table is not a root, in table order (one pass over the index), and
    how many models the graph has."""
    index = lg.compact
    not_root = ~root_mask(index)
    ids = lg.snapshot.columns("models", ["id"])["id"]
    distinct = ids.n_unique()
    if distinct == ids.len():
        at = np.arange(index.rows)  # a row's position is its row number
    else:  # an id repeated in the table is one model, at its first row (ptmgraph.index)
        at = ids.to_frame().join(
            ids.to_frame().with_row_index("at").unique("id", keep="first"), on="id", how="left",
            maintain_order="left")["at"].to_numpy()
    edge_only = index.nodes - index.rows  # each once, none with a row (ptmgraph.index)
    return pl.Series("has_parent", not_root[at], dtype=pl.Boolean()), distinct + edge_only


def _missing_lists(flags: pl.DataFrame) -> pl.DataFrame:
    """``flags`` with ``missing`` (the attributes missed, in :data:`ATTRIBUTES` order) and ``n_missing``.

    Each row's flags read as a bit set, joined to the list of every possible set: a million models build
    their lists in one join instead of one list operation per attribute."""
    bits = pl.sum_horizontal(
        pl.col(f"missing_{a}").fill_null(False).cast(pl.UInt8) * (1 << i) for i, a in enumerate(ATTRIBUTES))
    sets = range(1 << len(ATTRIBUTES))
    lists = pl.DataFrame(
        {"_bits": list(sets), "missing": [[a for i, a in enumerate(ATTRIBUTES) if s >> i & 1] for s in sets]},
        schema={"_bits": pl.UInt8(), "missing": pl.List(pl.String())},
    ).with_columns(n_missing=pl.col("missing").list.len().cast(pl.Int64()))
    return (flags.with_columns(_bits=bits.cast(pl.UInt8))
            .join(lists, on="_bits", how="left", maintain_order="left").drop("_bits"))


def _missing_flags(models: pl.DataFrame) -> pl.DataFrame:
    """One boolean column ``missing_<attribute>`` per attribute (null: not assessed for it)."""
    fields = pl.col("card_fields").fill_null([])
    return models.select(
        "id",
        "author",
        "downloads",
        pl.col("license").is_null().alias("missing_license"),
        pl.when(pl.col("has_parent"))
        .then(~fields.list.contains("base_model"))
        .otherwise(None)
        .alias("missing_base_model"),
        (pl.col("datasets").fill_null([]).list.len() == 0).alias("missing_datasets"),
        pl.col("pipeline_tag").is_null().alias("missing_pipeline_tag"),
        pl.col("library").is_null().alias("missing_library"),
        (~fields.list.contains("model-index")).alias("missing_evaluation"),
        pl.col("has_card").fill_null(False).not_().alias("missing_card"),
    )


def _rates(flags: pl.DataFrame) -> pl.DataFrame:
    rows = []
    for attribute in ATTRIBUTES:
        assessed = flags.filter(pl.col(f"missing_{attribute}").is_not_null())
        missing = assessed.filter(pl.col(f"missing_{attribute}"))
        total_downloads = int(assessed["downloads"].sum() or 0)
        missing_downloads = int(missing["downloads"].sum() or 0)
        rows.append(
            {
                "attribute": attribute,
                "missing": missing.height,
                "assessed": assessed.height,
                "share": round(missing.height / assessed.height, 4) if assessed.height else None,
                "downloads_share": round(missing_downloads / total_downloads, 4)
                if total_downloads
                else None,
            }
        )
    schema = {
        "attribute": pl.String(),
        "missing": pl.Int64(),
        "assessed": pl.Int64(),
        "share": pl.Float64(),
        "downloads_share": pl.Float64(),
    }
    return pl.DataFrame(rows, schema=schema)


def _disagreements(edges: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The disagreeing edges grouped by their three stated relations, and one row per pair of sources."""
    # two stated relations differ: the set of stated relations has two or more members
    differ = [(pl.col(left) != pl.col(right)).fill_null(False) for left, right in combinations(RELATION_SOURCES, 2)]
    marked = edges.with_columns(disagree=pl.any_horizontal(differ))
    combos = (
        marked.filter("disagree")
        .group_by(*RELATION_SOURCES, "relation")
        .len("edges")
        .sort(["edges", *RELATION_SOURCES], descending=[True, False, False, False], nulls_last=True)
    )
    pairs: list[dict[str, Any]] = []
    for left, right in combinations(RELATION_SOURCES, 2):
        both = edges.filter(pl.col(left).is_not_null() & pl.col(right).is_not_null())
        pairs.append(
            {
                "sources": f"{left.removesuffix('_relation')} vs {right.removesuffix('_relation')}",
                "edges_both_stated": both.height,
                "edges_disagree": both.filter(pl.col(left) != pl.col(right)).height,
            }
        )
    schema = {"sources": pl.String(), "edges_both_stated": pl.Int64(), "edges_disagree": pl.Int64()}
    return combos, pl.DataFrame(pairs, schema=schema)


@dataclass(frozen=True, kw_only=True)
class CompletenessSummary(Summary):
    """The summary of ``audit`` (:func:`completeness`)."""

    models: int
    """Models in the snapshot."""
    models_assessed: int
    """Models with a record (the ones assessed)."""
    models_missing_any: int
    """Assessed models missing at least one attribute (its rows)."""
    edges: int
    """Edges in the snapshot."""
    edges_relations_disagree: int
    """Edges whose sources state two or more different relations."""


def completeness(lg: LineageGraph) -> AnalysisResult[CompletenessSummary]:
    """Missing attributes per assessed model, their rates, and relation disagreements (module docstring).

    ``rows``: one row per assessed model missing at least one attribute, most missing and most downloaded
    first: ``missing`` lists the attributes, ``missing_<attribute>`` flags each (null when not assessed).
    ``tables``: ``rates`` (one row per attribute), ``disagreements`` (disagreeing edges by their declared,
    hub and inferred relations and the resolved one) and ``disagreement_pairs`` (each pair of sources).
    """
    recorded = pl.col("has_record").fill_null(False)
    has_parent, graph_models = _has_parent(lg)
    models = lg.snapshot.columns("models", MODEL_COLUMNS).with_columns(has_parent).filter(recorded)
    flags = _missing_flags(models)
    flag_columns = [f"missing_{a}" for a in ATTRIBUTES]
    rows = (
        _missing_lists(flags)
        .filter(pl.col("n_missing") > 0)
        .select("id", "author", "downloads", "n_missing", "missing", *flag_columns)
        .sort(["n_missing", "downloads", "id"], descending=[True, True, False], nulls_last=True)
    )
    rates = _rates(flags)
    edges = lg.snapshot.columns("edges", EDGE_COLUMNS)
    combos, pairs = _disagreements(edges)
    return AnalysisResult(
        title="Missing attributes and relation disagreements",
        rows=rows,
        summary=CompletenessSummary(
            models=graph_models,
            models_assessed=models.height,
            models_missing_any=rows.height,
            edges=edges.height,
            edges_relations_disagree=int(combos["edges"].sum()) if combos.height else 0,
        ),
        tables={"rates": rates, "disagreements": combos, "disagreement_pairs": pairs},
    )


COMMANDS = (
    d.Analysis("audit", "Missing attributes (licence, base_model, datasets, task, library, evaluation, card) and "
               "their rates; edges whose declared, Hub and inferred relations disagree.",
               (d.SNAPSHOT, d.FORMAT, d.LIMIT.but(default=20), d.CSV_RAW), summary="CompletenessSummary",
               function=completeness, columns=("n_missing", "id", "missing")),
)
"""The command of this module's analysis (:mod:`ptmgraph.declaration`)."""
