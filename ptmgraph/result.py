"""The shape every analysis returns.

It lives in ``ptmgraph`` rather than ``analyses`` so that formats render results without importing analyses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl


@dataclass
class AnalysisResult:
    """One analysis' answer.

    ``rows`` is the main table (one row per model, the model under ``id``); ``summary`` holds scalar
    facts and small lists; ``tables`` holds secondary tables (e.g. the summary by depth).
    """

    title: str
    rows: pl.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, pl.DataFrame] = field(default_factory=dict)
