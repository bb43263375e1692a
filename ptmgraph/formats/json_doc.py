"""Format: one JSON document: ``{"title", "rows": [...], <summary members>, "tables": {...}}``."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import polars as pl

from ptmgraph.result import AnalysisResult


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    return value


def frame_records(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """A table as a list of JSON-ready objects, one per row."""
    return [_plain(row) for row in frame.iter_rows(named=True)]


def result_to_json(result: AnalysisResult) -> str:
    """The whole result as one JSON document (``rows`` is the main table)."""
    doc: dict[str, Any] = {"title": result.title}
    doc.update(_plain(result.summary))
    doc["rows"] = frame_records(result.output_rows())
    if result.tables:
        doc["tables"] = {name: frame_records(frame) for name, frame in result.tables.items()}
    return json.dumps(doc, indent=2, ensure_ascii=False)
