"""The shape every analysis returns.

It lives in ``ptmgraph`` rather than ``analyses`` so that formats render results without importing analyses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import polars as pl

if TYPE_CHECKING:
    from ptmgraph.tree_lines import LineageTree


@dataclass
class AnalysisResult:
    """One analysis' answer.

    ``rows`` is the main table (one row per model, the model under ``id``); ``summary`` holds scalar
    facts and small lists; ``tables`` holds secondary tables (e.g. the summary by depth).
    ``deferred`` adds to given rows the columns built only when printed: a path per row held for
    every row would make memory quadratic in depth (see :mod:`ptmgraph.traverse`). ``tree`` is the walk
    the rows come from, ready to draw, when one does (ancestry, impact): a view draws it (the lineage tree)
    and never walks again.
    """

    title: str
    rows: pl.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, pl.DataFrame] = field(default_factory=dict)
    deferred: Callable[[pl.DataFrame], pl.DataFrame] | None = None
    tree: LineageTree | None = field(default=None, compare=False, repr=False)

    def output_rows(self, limit: int = 0, *, deferred: bool = True) -> pl.DataFrame:
        """The first ``limit`` rows (all when 0), with the deferred columns added unless ``deferred`` is
        false: what formats print. Tables printed for reading add them; JSON and CSV only when asked
        (``--paths``), so that a document's size stays linear in its rows by default."""
        rows = self.rows.head(limit) if limit > 0 else self.rows
        return self.deferred(rows) if self.deferred is not None and deferred else rows


@dataclass
class Figure:
    """A chart to draw, as data: ``kind`` ``bar`` (a value per category), ``loglog`` (points on log-log axes)
    or ``hist`` (a histogram of the values in ``x``; ``y`` unused). ``name`` is the file stem."""

    name: str
    title: str
    kind: str
    x: list[Any]
    y: list[float] = field(default_factory=list)
    xlabel: str = ""
    ylabel: str = ""


@dataclass
class ReportSection:
    """One section of a report: prose lines (plain text, escaped by the writer), tables and figures."""

    title: str
    lines: list[str] = field(default_factory=list)
    tables: list[tuple[str, pl.DataFrame]] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)


@dataclass
class Report:
    """A document of sections, every number taken from an analysis' result."""

    title: str
    sections: list[ReportSection] = field(default_factory=list)
