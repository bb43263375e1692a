"""Format: human-readable terminal output (rich tables and trees).

Every id and string is shown through :func:`printable`: control characters (ESC, CR, backspace, ...)
and the bidirectional-text overrides are shown as escapes, so a hostile id can neither clear the
screen, move the cursor nor reorder what is printed around it.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import polars as pl
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from ptmgraph.graph import LineageGraph
from ptmgraph.result import AnalysisResult
from ptmgraph.traverse import is_root

# C0 and C1 controls, DEL, and the bidirectional embeddings, overrides and isolates.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_UNPRINTABLE_BUT_NEWLINE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with control and bidi-override characters written as ``\\x1b`` / ``\\u202e`` escapes."""
    return (_UNPRINTABLE_BUT_NEWLINE if keep_newlines else _UNPRINTABLE).sub(_escaped, text)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, list):
        shown = ", ".join(printable(str(v)) for v in value[:8])
        return shown + (f" (+{len(value) - 8} more)" if len(value) > 8 else "")
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    # Multi-line cells (an edge's evidence, one piece a line) keep their line breaks.
    return printable(str(value), keep_newlines=True)


def frame_table(frame: pl.DataFrame, *, title: str | None = None, limit: int = 0, total: int | None = None) -> Table:
    """A rich table of ``frame`` (the first ``limit`` rows when limit > 0); ``total`` rows exist when
    ``frame`` was already cut to its head."""
    table = Table(title=escape(title) if title else None, show_lines=False, header_style="bold")
    for column in frame.columns:
        table.add_column(escape(column), overflow="fold", no_wrap=column in {"id", "via", "base", "child"})
    shown = frame.head(limit) if limit > 0 else frame
    for row in shown.iter_rows():
        table.add_row(*(escape(_cell(v)) for v in row))
    total = frame.height if total is None else total
    if limit > 0 and total > limit:
        table.caption = f"{limit} of {total} rows shown; --limit 0 shows all, --format csv exports them"
    return table


def print_summary(console: Console, result: AnalysisResult) -> None:
    console.print(f"[bold]{escape(printable(result.title))}[/bold]")
    for key, value in result.summary.items():
        if key == "record" and isinstance(value, dict):
            for k, v in value.items():
                console.print(f"  {escape(printable(k))}: {escape(_cell(v))}")
            continue
        console.print(f"  {escape(key.replace('_', ' '))}: {escape(_cell(value))}")


def print_result(
    console: Console, result: AnalysisResult, *, limit: int = 50, columns: list[str] | None = None
) -> None:
    """Summary lines, the main table (only ``columns`` when given), then the secondary tables."""
    print_summary(console, result)
    if result.rows.height:
        rows = result.output_rows(limit)
        console.print(frame_table(rows.select(columns) if columns else rows, limit=limit, total=result.rows.height))
    for name, frame in result.tables.items():
        if frame.height:
            console.print(frame_table(frame, title=name.replace("_", " "), limit=limit))


def ancestry_tree(lg: LineageGraph, model: str, *, max_lines: int = 500) -> Tree:
    """The ancestry of ``model`` as a tree growing upwards: each child lists its parents.

    A model reached a second time is shown once more, marked "(see above)", without its parents.
    """
    root = Tree(f"[bold]{escape(printable(model))}[/bold]")
    seen: set[str] = {model}
    lines = 1
    stack: list[tuple[Tree, str]] = [(root, model)]
    while stack:
        branch, node = stack.pop()
        for parent in lg.parents(node):
            if lines >= max_lines:
                branch.add(f"[dim]… more ancestors not shown (over {max_lines} lines)[/dim]")
                return root
            relation = escape(printable(str(lg.edge(parent, node)["relation"])))
            lines += 1
            if parent in seen:
                branch.add(f"{escape(printable(parent))} [dim]({relation}; see above)[/dim]")
                continue
            seen.add(parent)
            mark = " [green]root[/green]" if is_root(lg.graph, parent) else ""
            stack.append((branch.add(f"{escape(printable(parent))} [cyan]{relation}[/cyan]{mark}"), parent))
    return root
