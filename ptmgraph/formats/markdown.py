"""Format: a :class:`~ptmgraph.result.Report` as one Markdown file plus its figures (PNG and SVG).

Every label and cell is escaped (:func:`escape_markdown`), so a model id or licence name can neither
break a table nor inject links, HTML or emphasis. The report directory is written to a temporary
sibling and renamed into place: a crash never leaves a half-written report under the final name.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from ptmgraph.formats.figures import render_figure
from ptmgraph.result import Report

REPORT_FILE = "report.md"
FIGURES_DIR = "figures"

# Punctuation that starts markup anywhere in a line (CommonMark / GFM). With "[" and "]" escaped, "(", ")"
# and "!" can no longer form a link or an image.
_INLINE_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


class ReportError(Exception):
    """A report directory that cannot be written; the message names it."""


def escape_markdown(value: Any) -> str:
    """``value`` as inert Markdown text on one line: markup characters backslash-escaped, ``&`` ``<`` ``>``
    as HTML entities, line breaks as spaces."""
    text = " ".join(str(value).split())
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
        return escape_markdown(", ".join(str(v) for v in value))
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


def report_markdown(report: Report) -> str:
    """The report's Markdown text; figures are referenced as ``figures/<name>.png`` with an SVG link."""
    parts = [f"# {escape_markdown(report.title)}", ""]
    for number, section in enumerate(report.sections, start=1):
        parts += [f"## {number}. {escape_markdown(section.title)}", ""]
        for line in section.lines:
            parts += [escape_markdown(line), ""]
        for caption, frame in section.tables:
            if caption:
                parts += [f"**{escape_markdown(caption)}**", ""]
            parts += [markdown_table(frame) if frame.height else "(none)", ""]
        for figure in section.figures:
            stem = f"{FIGURES_DIR}/{figure.name}"
            parts += [
                f"![{escape_markdown(figure.title)}]({stem}.png)",
                "",
                f"[SVG]({stem}.svg)",
                "",
            ]
    return "\n".join(parts).rstrip() + "\n"


def write_report(report: Report, directory: Path) -> list[Path]:
    """Write ``directory/report.md`` and ``directory/figures/*.{png,svg}`` atomically; returns the files.

    An existing report directory is replaced; any other non-empty directory is refused.
    """
    directory = Path(directory)
    names = [figure.name for section in report.sections for figure in section.figures]
    if len(names) != len(set(names)) or not all(re.fullmatch(r"[a-z0-9_-]+", n) for n in names):
        raise ValueError(f"figure names must be unique file stems: {names}")
    try:
        parent = directory.resolve().parent
        parent.mkdir(parents=True, exist_ok=True)
        if directory.is_file() or (
            directory.is_dir() and any(directory.iterdir()) and not (directory / REPORT_FILE).is_file()
        ):
            raise ReportError(f"{directory}: exists and is not a ptmgraph report; refusing to overwrite it")
        tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=parent))
    except OSError as err:
        raise ReportError(f"{directory}: cannot write here ({err.strerror})") from None
    try:
        (tmp / FIGURES_DIR).mkdir()
        for section in report.sections:
            for figure in section.figures:
                for kind in ("png", "svg"):
                    (tmp / FIGURES_DIR / f"{figure.name}.{kind}").write_bytes(render_figure(figure, kind))
        (tmp / REPORT_FILE).write_text(report_markdown(report), encoding="utf-8")
        old = None
        if directory.exists():
            old = parent / f".{directory.name}.old-{os.getpid()}"
            directory.rename(old)
        tmp.rename(directory)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    files = [directory / REPORT_FILE]
    files += sorted((directory / FIGURES_DIR).iterdir())
    return files
