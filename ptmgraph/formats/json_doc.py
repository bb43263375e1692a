"""Format: one JSON document: ``{"title", <summary members>, "rows": [...], "tables": {...}, "provenance": {...}}``
(several results: ``{"results": [...], "provenance": {...}}``; ``provenance`` when the command gives it).

Layout: one member of the document a line, and one table row a line (a compact JSON object), so a
document of a hundred thousand rows is written by polars' JSON writer in one pass instead of Python's
indenting encoder, and stays readable and greppable. Values: times as ISO 8601 strings
(``datetime.isoformat``: ``2023-07-18T16:34:00+00:00``, microseconds only when not zero), lists as
arrays, nulls as ``null``. Any JSON parser reads the same values as from the earlier indented layout.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from typing import Any

import polars as pl

from ptmgraph.formats.result_interface import DocumentFormat, WriteOptions
from ptmgraph.result import AnalysisResult

_INDENT = "  "


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


def result_to_json(result: AnalysisResult, *, paths: bool = False) -> str:
    """The whole result as one JSON document (``rows`` is the main table; its deferred columns, such as
    ``relation_path``, only with ``paths``)."""
    return "".join(_document(result, 0, paths))


def results_to_json(results: list[AnalysisResult], *, paths: bool = False) -> str:
    """Several results (one per model asked about) as one document: ``{"results": [...]}``."""
    return "".join(results_document(results, paths=paths))


def result_document(result: AnalysisResult, *, paths: bool = False) -> Iterator[str]:
    """:func:`result_to_json` in pieces, to be written as they come (a table's rows are one piece)."""
    return _document(result, 0, paths)


def results_document(results: list[AnalysisResult], *, paths: bool = False,
                     provenance: Mapping[str, Any] | None = None) -> Iterator[str]:
    """:func:`results_to_json` in pieces, to be written as they come (with a ``provenance`` member when given)."""
    yield "{\n" + _INDENT + '"results": ['
    for number, result in enumerate(results):
        yield (",\n" if number else "\n") + _INDENT * 2
        yield from _document(result, 2, paths)
    yield ("\n" + _INDENT + "]") if results else "]"
    if provenance:
        yield ",\n" + _INDENT + '"provenance": ' + _dumps(provenance)
    yield "\n}"


class JsonFormat(DocumentFormat):
    """``--format json``: one result's document, or several results' ``{"results": [...]}``, then a line
    break; the provenance, when given, is the document's last member (beside ``results`` for several)."""

    def document(self, results: list[AnalysisResult], options: WriteOptions) -> Iterator[str]:
        if len(results) == 1:
            yield from _document(results[0], 0, options.paths, options.provenance)
        else:
            yield from results_document(results, paths=options.paths, provenance=options.provenance)
        yield "\n"


FORMAT = JsonFormat()


def _dumps(value: Any) -> str:
    return json.dumps(_plain(value), ensure_ascii=False, separators=(",", ":"))


def _document(result: AnalysisResult, level: int, paths: bool,
              provenance: Mapping[str, Any] | None = None) -> Iterator[str]:
    """The pieces of one result's document, its opening brace at ``level`` indents (already written), with
    ``provenance`` as its last member when given."""
    inner = _INDENT * (level + 1)
    # A summary field is never named like a member of the document itself (ptmgraph.result.DOCUMENT_MEMBERS).
    members: dict[str, Iterator[str]] = {"title": iter([_dumps(result.title)])}
    members.update((str(key), iter([_dumps(value)])) for key, value in result.summary.as_dict().items())
    members["rows"] = _table(result.output_rows(deferred=paths), level + 1)
    if result.tables:
        members["tables"] = _tables(result.tables, level + 1)
    if provenance:
        members["provenance"] = iter([_dumps(provenance)])
    yield "{"
    for number, (key, pieces) in enumerate(members.items()):
        yield ",\n" if number else "\n"
        yield inner + _dumps(key) + ": "
        yield from pieces
    yield "\n" + _INDENT * level + "}"


def _tables(tables: dict[str, pl.DataFrame], level: int) -> Iterator[str]:
    inner = _INDENT * (level + 1)
    yield "{"
    for number, (name, frame) in enumerate(tables.items()):
        yield ",\n" if number else "\n"
        yield inner + _dumps(str(name)) + ": "
        yield from _table(frame, level + 1)
    yield "\n" + _INDENT * level + "}"


def _table(frame: pl.DataFrame, level: int) -> Iterator[str]:
    """A table as a JSON array, one row object a line, the array's brackets at ``level`` indents."""
    if not frame.height:
        yield "[]"
        return
    inner = _INDENT * (level + 1)
    yield "[\n" + inner
    yield _rows(frame, ",\n" + inner)
    yield "\n" + _INDENT * level + "]"


def row_lines(frame: pl.DataFrame) -> list[str]:
    """One compact JSON object per row of ``frame`` (its columns in order), values as :func:`frame_records`
    gives them."""
    return _rows(frame, "\n").split("\n") if frame.height else []


def _rows(frame: pl.DataFrame, separator: str) -> str:
    """The rows of ``frame`` (at least one) as compact JSON objects joined by ``separator`` (which holds a
    line break): polars writes them when every column's type has one JSON spelling, Python otherwise."""
    if frame.width and all(_writable(dtype) for dtype in frame.dtypes) and _finite(frame):
        text = frame.select(_json_ready(name, dtype) for name, dtype in frame.schema.items()).write_ndjson()
        # one object a line, and a line break inside a value is written escaped: one pass joins the rows
        return text.rstrip("\n").replace("\n", separator)
    return separator.join(_dumps(row) for row in frame_records(frame))


def _writable(dtype: pl.DataType | pl.datatypes.DataTypeClass, *, in_list: bool = False) -> bool:
    """Whether polars writes values of ``dtype`` (after :func:`_json_ready`) as ``json.dumps`` reads them."""
    if isinstance(dtype, pl.List):
        return _writable(dtype.inner, in_list=True)
    if in_list and dtype.is_temporal():
        return False  # _json_ready converts top-level time columns only
    if isinstance(dtype, pl.Datetime):
        return dtype.time_unit in ("us", "ms") and dtype.time_zone in (None, "UTC")
    return dtype in (pl.String, pl.Boolean, pl.Null, pl.Date, pl.Float32, pl.Float64) or dtype.is_integer()


def _finite(frame: pl.DataFrame) -> bool:
    """No NaN or infinity in a float column (Python writes them as ``NaN``, polars as ``null``)."""
    floats = [name for name, dtype in frame.schema.items() if dtype in (pl.Float32, pl.Float64)]
    if not floats:
        return True
    return not frame.select(pl.any_horizontal(~pl.col(floats).is_finite()).any()).item()


def _json_ready(name: str, dtype: pl.DataType) -> pl.Expr:
    """Column ``name`` as polars should write it: times as ``isoformat`` strings, the rest as they are."""
    column = pl.col(name)
    if isinstance(dtype, pl.Datetime):
        text = column.dt.strftime("%Y-%m-%dT%H:%M:%S") + (
            pl.when(column.dt.microsecond() != 0).then(column.dt.strftime("%.6f")).otherwise(pl.lit(""))
        )
        if dtype.time_zone is not None:
            text = text + column.dt.strftime("%:z")
        return text.alias(name)
    if dtype == pl.Date:
        return column.dt.strftime("%Y-%m-%d").alias(name)
    return column
