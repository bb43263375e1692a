"""Searching a snapshot for models without knowing their exact id.

- **search** for TEXT: models whose id contains TEXT, whose author is TEXT, or that carry a Hub tag
  equal to TEXT, all ignoring letter case; ``matched`` says which (``id``, ``author``, ``tag``, the
  first that applies in that order).
- **list** of an author: the models whose author (the record's ``author``, else the id's ``ORG/``
  part) is ORG, ignoring letter case.

Both sort by downloads (most first, unknown counts last), then id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from ptmgraph import declaration as d
from ptmgraph.graph import LineageGraph
from ptmgraph.result import AnalysisResult, Summary

_COLUMNS = ["id", "downloads", "likes", "pipeline_tag", "license", "author"]


def _models(lg: LineageGraph) -> pl.DataFrame:
    """Every model with its author (the id's ``ORG/`` part when the record names none)."""
    models = lg.snapshot.models
    return models.with_columns(
        pl.coalesce(pl.col("author"), pl.col("id").str.split("/").list.first()).alias("author")
    )


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(["downloads", "id"], descending=[True, False], nulls_last=True)


@dataclass(frozen=True, kw_only=True)
class SearchSummary(Summary):
    """The summary of ``search`` (:func:`search`)."""

    query: str
    """The text searched for, as given."""
    models: int
    """Models that match (its rows)."""


@dataclass(frozen=True, kw_only=True)
class ListSummary(Summary):
    """The summary of ``models`` (:func:`list_models`)."""

    author: str
    """The author asked about, as given."""
    models: int
    """Their models (its rows)."""


def search(lg: LineageGraph, text: str) -> AnalysisResult[SearchSummary]:
    """Models matching ``text`` by id substring, author or tag (module docstring), most downloaded first."""
    needle = text.strip().lower()
    if not needle:
        raise ValueError("give some text to search for")
    models = _models(lg)
    by_id = pl.col("id").str.to_lowercase().str.contains(needle, literal=True)
    by_author = pl.col("author").str.to_lowercase() == needle
    by_tag = pl.col("tags").list.eval(pl.element().str.to_lowercase()).list.contains(needle).fill_null(False)
    matched = (
        pl.when(by_id).then(pl.lit("id")).when(by_author).then(pl.lit("author"))
        .when(by_tag).then(pl.lit("tag")).otherwise(None)
    )
    rows = _sorted(models.with_columns(matched.alias("matched")).filter(pl.col("matched").is_not_null()))
    rows = rows.select([*_COLUMNS, "matched"])
    by_match = rows.group_by("matched").len("models").sort("models", descending=True)
    return AnalysisResult(
        title=f"Models matching {text!r}",
        rows=rows,
        summary=SearchSummary(query=text, models=rows.height),
        tables={"by_match": by_match},
    )


def list_models(lg: LineageGraph, author: str) -> AnalysisResult[ListSummary]:
    """The models of ``author`` (module docstring), most downloaded first."""
    rows = _sorted(_models(lg).filter(pl.col("author").str.to_lowercase() == author.strip().lower()))
    return AnalysisResult(
        title=f"Models of {author}",
        rows=rows.select(_COLUMNS),
        summary=ListSummary(author=author, models=rows.height),
    )


def _some_text(values: Mapping[str, Any]) -> dict[str, Any]:
    """``search``'s QUERY checked: some text to look for."""
    if not values["text"].strip():
        raise d.UsageError("give some text to search for")
    return {}


_TABLE = (d.SNAPSHOT, d.FORMAT, d.LIMIT, d.CSV_RAW, d.PROVENANCE)
COMMANDS = (
    d.Analysis("search", "Models whose id contains QUERY, whose author is QUERY or that carry the tag QUERY, most "
               "downloaded first.",
               (d.Option(("QUERY",), "text", "Part of an id, an author, or a Hub tag.", argument=True, required=True),
                *_TABLE[:2], d.LIMIT.but(default=20), *_TABLE[3:]), summary="SearchSummary", function=search,
               prepare=_some_text,
               columns=("id", "downloads", "matched", "pipeline_tag", "license", "likes"), query=False),
    d.Analysis("list", "The models of one author, most downloaded first.",
               (d.Option(("--author",), "author", "The user or organisation.", metavar="ORG", required=True),
                *_TABLE), summary="ListSummary", function=list_models,
               columns=("id", "downloads", "pipeline_tag", "license", "likes"), query=False),
)
"""The commands of this module's analyses (:mod:`ptmgraph.declaration`)."""
