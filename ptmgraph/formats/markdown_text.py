"""Markdown text without matplotlib: escaping (:func:`escape_markdown`), tables, and the ``markdown`` result
format (:class:`MarkdownFormat`: a result's title, summary and tables as a Markdown document).

Every label and cell is escaped, so a model id or licence name can neither break a table nor inject
links, HTML or emphasis.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import polars as pl

from ptmgraph.formats.escaping import printable
from ptmgraph.formats.result_interface import DocumentFormat, WriteOptions
from ptmgraph.result import AnalysisResult

# Punctuation that starts markup anywhere in a line (CommonMark / GFM). With "[" and "]" escaped, "(", ")"
# and "!" can no longer form a link or an image.
_INLINE_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def escape_markdown(value: Any) -> str:
    """``value`` as inert Markdown text on one line, the Markdown family's escaping: control characters,
    line breaks and bidi controls first shown as the terminal shows them (:func:`printable`: ``\\x1b``), so
    ``cat report.md`` prints no raw escape; runs of other white space as one space; markup characters
    backslash-escaped, ``&`` ``<`` ``>`` as HTML entities."""
    text = " ".join(printable(str(value)).split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _INLINE_SPECIAL.sub(r"\\\1", text)
    text = text.replace("://", "\\://").replace("www.", "www\\.")  # no GFM autolinks from labels
    # A line-leading "#", "-", "+", "=", "1." or "1)" would start a heading or a list.
    text = re.sub(r"^(\d+)([.)])", r"\1\\\2", text)
    return re.sub(r"^([-+=#])", r"\\\1", text)


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime | date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".") if value % 1 else f"{value:,.0f}"
    if isinstance(value, list):
        return escape_markdown(", ".join(str(v) for v in value)) if value else "–"
    return escape_markdown(value)


def markdown_table(frame: pl.DataFrame) -> str:
    """A GitHub-flavoured Markdown table; numbers right-aligned."""
    if frame.width == 0:
        return ""
    numeric = [dtype.is_numeric() for dtype in frame.dtypes]
    header = "| " + " | ".join(escape_markdown(c) for c in frame.columns) + " |"
    rule = "|" + "|".join("---:" if n else "---" for n in numeric) + "|"
    body = ["| " + " | ".join(_cell(v) for v in row) + " |" for row in frame.iter_rows()]
    return "\n".join([header, rule, *body])


def _summary_value(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(escape_markdown(v) for v in value) if value else "–"
    return _cell(value)


def _result(result: AnalysisResult, level: int, paths: bool) -> list[str]:
    parts = [f"{'#' * level} {escape_markdown(result.title)}", ""]
    parts += [f"- {escape_markdown(key)}: {_summary_value(value)}" for key, value in result.summary.as_dict().items()]
    rows = result.output_rows(deferred=paths)
    parts += ["", markdown_table(rows) if rows.height else "(no rows)", ""]
    for name, frame in result.tables.items():
        parts += [f"{'#' * (level + 1)} {escape_markdown(name.replace('_', ' '))}", ""]
        parts += [markdown_table(frame) if frame.height else "(no rows)", ""]
    return parts


class MarkdownFormat(DocumentFormat):
    """``--format markdown``: each result as a heading, its summary as a list, its main table and its
    secondary tables, then the provenance as a list, every text escaped."""

    def document(self, results: list[AnalysisResult], options: WriteOptions) -> Iterable[str]:
        parts: list[str] = []
        for result in results:
            parts += _result(result, 1 if len(results) == 1 else 2, options.paths)
        if options.provenance:
            parts += ["## provenance", ""]
            parts += [f"- {escape_markdown(key)}: {_summary_value(value)}" for key, value in options.provenance.items()]
        yield "\n".join(parts).rstrip() + "\n"


FORMAT = MarkdownFormat()
