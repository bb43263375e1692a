"""Format: the main table as CSV (list cells joined with ``;``, times in ISO 8601).

Text cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab or
carriage return) get a leading ``'`` (the OWASP rule for CSV injection); ``raw=True`` leaves every cell
as it is, for pipelines that read the values back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import polars as pl

from ptmgraph.formats.result_interface import DocumentFormat, WriteOptions
from ptmgraph.result import AboutModel, AnalysisResult

FORMULA_START = r"^[=+\-@\t\r]"
"""A cell matching this starts a spreadsheet formula."""


def result_to_csv(result: AnalysisResult, *, raw: bool = False, paths: bool = False) -> str:
    """The main table; the deferred columns (``relation_path``) only with ``paths``."""
    return _csv(result.output_rows(deferred=paths), raw=raw)


def results_to_csv(results: list[AnalysisResult], *, raw: bool = False, paths: bool = False) -> str:
    """Several results' main tables as one CSV, each row led by the ``model`` it answers about."""
    frames = [
        r.output_rows(deferred=paths).select(pl.lit(_about(r)).alias("model"), pl.all()) for r in results
    ]
    return _csv(pl.concat(frames, how="diagonal_relaxed"), raw=raw)


def _about(result: AnalysisResult) -> str:
    """The model ``result`` answers about (its title when it is not about one model)."""
    return result.summary.model if isinstance(result.summary, AboutModel) else result.title


class CsvFormat(DocumentFormat):
    """``--format csv``: one result's main table, or several results' tables as one, each row led by its
    ``model``; the provenance, when given, first, as comment lines ``# key: value`` (the value as JSON, on
    one line)."""

    def document(self, results: list[AnalysisResult], options: WriteOptions) -> list[str]:
        if len(results) == 1:
            table = result_to_csv(results[0], raw=options.raw, paths=options.paths)
        else:
            table = results_to_csv(results, raw=options.raw, paths=options.paths)
        return [provenance_lines(options.provenance) if options.provenance else "", table]


FORMAT = CsvFormat()


def provenance_lines(provenance: Mapping[str, Any]) -> str:
    """``# key: value`` lines, one per member; values as compact JSON, so no line break can occur in one."""
    return "".join(f"# {key}: {json.dumps(value, ensure_ascii=False, separators=(',', ':'))}\n"
                   for key, value in provenance.items())


def _csv(rows: pl.DataFrame, *, raw: bool) -> str:
    frame = rows.with_columns(
        [pl.col(c).cast(pl.List(pl.String())).list.join(";") for c, t in rows.schema.items()
         if isinstance(t, pl.List)]
    )
    if not raw:
        text_columns = [c for c, t in frame.schema.items() if t == pl.String()]
        frame = frame.with_columns(
            [
                pl.when(pl.col(c).str.contains(FORMULA_START))
                .then(pl.lit("'") + pl.col(c))
                .otherwise(pl.col(c))
                .alias(c)
                for c in text_columns
            ]
        )
    return frame.write_csv()
