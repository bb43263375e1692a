"""Format: a :class:`~ptmgraph.result.Report` as one Markdown file plus its figures (PNG and SVG).

Every label and cell is escaped (:func:`escape_markdown`), so a model id or licence name can neither
break a table, inject links, HTML or emphasis, nor carry a raw terminal escape. The report directory is
written to a temporary sibling and renamed into place: a crash never leaves a half-written report under the final name.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from ptmgraph.formats.escaping import printable
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


def _is_report_directory(directory: Path) -> bool:
    """True for a real directory (not a symlink) that is empty or holds only what :func:`write_report` writes."""
    if directory.is_symlink() or not directory.is_dir():
        return False
    names = {p.name for p in directory.iterdir()}
    if not names:
        return True
    figures = directory / FIGURES_DIR
    return names <= {REPORT_FILE, FIGURES_DIR} and REPORT_FILE in names and (
        FIGURES_DIR not in names or (figures.is_dir() and not figures.is_symlink())
    )


@contextmanager
def _staged(directory: Path) -> Iterator[Path]:
    """A temporary sibling of ``directory`` to fill; on success it takes ``directory``'s place, on any
    error it is removed and ``directory`` is left as it was."""
    try:
        if os.path.lexists(directory) and not _is_report_directory(directory):
            raise ReportError(f"{directory}: exists and is not a ptmgraph report; refusing to overwrite it")
        directory.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.tmp-", dir=directory.parent))
    except OSError as err:
        raise ReportError(f"{directory}: cannot write here ({err.strerror})") from None
    try:
        yield staging
        if os.path.lexists(directory):  # a directory cannot be renamed over a non-empty one: swap
            retired = staging.with_name(f".{directory.name}.old-{os.getpid()}")
            directory.rename(retired)
            staging.rename(directory)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            staging.rename(directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def write_report(report: Report, directory: Path) -> list[Path]:
    """Write ``directory/report.md`` and ``directory/figures/*.{png,svg}`` atomically; returns the files.

    An existing report directory is replaced; anything else (a file, a symlink, a directory holding other
    files) raises :class:`ReportError` and is left untouched.
    """
    directory = Path(os.path.abspath(directory))  # not resolve(): a symlink is refused, never followed
    names = [figure.name for section in report.sections for figure in section.figures]
    if len(names) != len(set(names)) or not all(re.fullmatch(r"[a-z0-9_-]+", n) for n in names):
        raise ValueError(f"figure names must be unique file stems: {names}")
    with _staged(directory) as staging:
        (staging / FIGURES_DIR).mkdir()
        for section in report.sections:
            for figure in section.figures:
                for kind in ("png", "svg"):
                    (staging / FIGURES_DIR / f"{figure.name}.{kind}").write_bytes(render_figure(figure, kind))
        (staging / REPORT_FILE).write_text(report_markdown(report), encoding="utf-8")
    return [directory / REPORT_FILE, *sorted((directory / FIGURES_DIR).iterdir())]
