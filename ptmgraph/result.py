"""The shape every analysis returns.

It lives in ``ptmgraph`` rather than ``analyses`` so that formats render results without importing analyses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import polars as pl


@dataclass
class AnalysisResult:
    """One analysis' answer.

    ``rows`` is the main table (one row per model, the model under ``id``); ``summary`` holds scalar
    facts and small lists; ``tables`` holds secondary tables (e.g. the summary by depth).
    ``deferred`` adds to given rows the columns built only when printed: a path per row held for
    every row would make memory quadratic in depth (see :mod:`ptmgraph.traverse`).
    """

    title: str
    rows: pl.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, pl.DataFrame] = field(default_factory=dict)
    deferred: Callable[[pl.DataFrame], pl.DataFrame] | None = None

    def output_rows(self, limit: int = 0) -> pl.DataFrame:
        """The first ``limit`` rows (all when 0) with the deferred columns added: what formats print."""
        rows = self.rows.head(limit) if limit > 0 else self.rows
        return self.deferred(rows) if self.deferred is not None else rows
