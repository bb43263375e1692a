"""Format: the main table as CSV (list cells joined with ``;``, times in ISO 8601)."""

from __future__ import annotations

import polars as pl

from ptmgraph.result import AnalysisResult


def result_to_csv(result: AnalysisResult) -> str:
    rows = result.output_rows()
    frame = rows.with_columns(
        [pl.col(c).cast(pl.List(pl.String())).list.join(";") for c, t in rows.schema.items()
         if isinstance(t, pl.List)]
    )
    return frame.write_csv()
