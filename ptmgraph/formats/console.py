"""Format: human-readable terminal output (rich tables and trees).

Every id and string is shown through :func:`printable` (:mod:`ptmgraph.formats.lines`), so a hostile
id can neither clear the screen, move the cursor nor reorder what is printed around it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import polars as pl
from rich.cells import cell_len
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from ptmgraph.formats.escaping import table_cell
from ptmgraph.formats.lines import StyledLine, printable
from ptmgraph.result import AnalysisResult, ModelInfoSummary
from ptmgraph.words import plural


def _cell(value: Any, *, lines: bool = False) -> str:
    """A value as table text (:func:`table_cell`: no line break of its own); a list in a column of
    ``lines`` shows one item a line (an edge's evidence), other lists the first 8 items."""
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, list):
        if lines:
            return "\n".join(table_cell(str(v)) for v in value) or "-"
        shown = ", ".join(table_cell(str(v)) for v in value[:8])
        return shown + (f" (+{len(value) - 8} more)" if len(value) > 8 else "")
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return table_cell(str(value))


ID_COLUMNS = frozenset({"id", "via", "base", "child", "ancestor", "source", "root", "model", "parent"})
"""Columns holding model ids: never cut, never wrapped."""

_GAP = 2
_MIN_WRAPPED = 16


def _wrap(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` cells, broken at spaces where possible (it is not an id)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            while cell_len(word) > width:
                room = width - cell_len(line) - (1 if line else 0)
                if room <= 0:
                    lines.append(line)
                    line = ""
                    continue
                line = f"{line} {word[:room]}" if line else word[:room]
                word = word[room:]
                lines.append(line)
                line = ""
            if line and cell_len(line) + 1 + cell_len(word) > width:
                lines.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        lines.append(line)
    return lines


def drop_order(columns: list[str], answer: tuple[str, ...] = ()) -> list[str]:
    """``columns`` (in the order shown) by priority, most important first: the first column, then the
    ``answer`` columns in the order given, then the others as shown. A table too wide drops from the end."""
    first = columns[:1]
    kept = [c for c in answer if c in columns and c not in first]
    return [*first, *kept, *(c for c in columns if c not in first and c not in kept)]


def frame_table(
    frame: pl.DataFrame, *, title: str | None = None, limit: int = 0, total: int | None = None, width: int = 80,
    answer: tuple[str, ...] = (),
    line_lists: frozenset[str] = frozenset(),
) -> list[Text]:
    """The first ``limit`` rows of ``frame`` (all when 0) as plain columns that fit ``width`` cells.

    Columns are shown in ``frame``'s order and dropped by priority (:func:`drop_order`): while the table
    is too wide, the least important column drops: never the first nor, before the others, the ``answer``
    columns (the ones that answer the command's question); by default the rightmost first.
    Id columns (:data:`ID_COLUMNS`) are never cut; a long text column (over 16 cells) wraps
    between words instead of dropping, down to 16 cells or its longest word. ``total`` rows exist when
    ``frame`` was already cut to its head. Every cell is one line of :func:`table_cell` text, except the
    lists of the ``line_lists`` columns: one item a line.
    """
    shown = frame.head(limit) if limit > 0 else frame
    columns = list(shown.columns)
    cells = {c: [_cell(v, lines=c in line_lists) for v in shown[c].to_list()] for c in columns}
    natural = {
        c: max([cell_len(c), *(cell_len(part) for v in cells[c] for part in v.split("\n"))]) for c in columns
    }
    wrappable = {c for c in columns if c not in ID_COLUMNS and natural[c] > _MIN_WRAPPED}
    # A wrapped cell breaks only between words, so that an id inside a sentence stays whole.
    longest_word = {c: max([0, *(cell_len(w) for v in cells[c] for w in v.split())]) for c in wrappable}
    lengths = {c: sorted(cell_len(v) for v in cells[c]) for c in columns if c in ID_COLUMNS and shown.height}

    def least(c: str) -> int:
        return max(_MIN_WRAPPED, longest_word[c]) if c in wrappable else natural[c]

    # A few very long ids would push every other column off the screen: when the table does not fit with
    # every column, an id column is laid out at the 9th decile of its ids' widths (the median, if that
    # still leaves one column alone), and a longer id gets a line of its own, at its column if it fits
    # there (a first-column id above the rest of its row, another below).
    for decile in (10, 9, 5):
        for c, ordered in lengths.items():
            natural[c] = max(cell_len(c), ordered[(len(ordered) - 1) * decile // 10])
        kept = drop_order(columns, answer)
        while len(kept) > 1 and sum(least(c) for c in kept) + _GAP * (len(kept) - 1) > width:
            kept.pop()
        if len(kept) == len(columns) or (decile < 10 and len(kept) > 1):
            break
    columns = [c for c in columns if c in kept]
    widths = {c: least(c) for c in columns}
    spare = width - sum(widths.values()) - _GAP * (len(columns) - 1)
    for c in columns:
        if c in wrappable and spare > 0:
            extra = min(spare, natural[c] - widths[c])
            widths[c] += extra
            spare -= extra
    lines: list[Text] = []
    if title:
        lines.append(Text(printable(title), style="bold"))  # prose: may wrap
    header = Text(no_wrap=True, overflow="ignore")
    for i, c in enumerate(columns):
        header.append(c.ljust(widths[c]) if i < len(columns) - 1 else c, style="bold underline")
        if i < len(columns) - 1:
            header.append(" " * _GAP)
    lines.append(header)
    for r in range(shown.height):
        parts = {c: (_wrap(cells[c][r], widths[c]) if c in wrappable else cells[c][r].split("\n")) for c in columns}
        offset = 0
        after: list[Text] = []
        for i, c in enumerate(columns):
            if len(columns) > 1 and c in ID_COLUMNS and cell_len(parts[c][0]) > widths[c]:
                indent = offset if offset + cell_len(parts[c][0]) <= width else 0
                (after if i else lines).append(Text(" " * indent + parts[c][0], no_wrap=True, overflow="ignore"))
                parts[c] = [""]
            offset += widths[c] + _GAP
        for k in range(max(len(p) for p in parts.values())):
            row = [(parts[c][k] if k < len(parts[c]) else "") for c in columns]
            padded = [v + " " * max(0, widths[c] - cell_len(v)) for v, c in zip(row[:-1], columns[:-1], strict=True)]
            lines.append(Text((" " * _GAP).join([*padded, row[-1]]).rstrip(), no_wrap=True, overflow="ignore"))
        lines.extend(after)
    total = frame.height if total is None else total
    dropped = [c for c in frame.columns if c not in columns]
    if limit > 0 and total > limit:
        lines.append(Text(f"{limit:,} of {plural(total, 'row')} shown; --limit 0 shows all, --format csv exports them",
                          style="dim"))
    if dropped:
        lines.append(Text(f"not shown at this width: {', '.join(dropped)} (see --format csv or a wider terminal)",
                          style="dim"))
    return lines


def print_lines(console: Console, lines: list[Text]) -> None:
    """Print ``lines``: those marked ``no_wrap`` were fitted to the width and print as they are (never
    folded or cropped, so an id longer than the terminal stays whole); the others are prose and wrap."""
    for line in lines:
        console.print(line, crop=False, soft_wrap=bool(line.no_wrap))


def styled_text(line: StyledLine) -> Text:
    """``line`` as rich text: its first piece's style is the text's own, the others are spans."""
    (first, style), *rest = line.pieces
    text = Text(first, style=style) if line.wraps else Text(first, style=style, no_wrap=True, overflow="ignore")
    for piece, piece_style in rest:
        text.append(piece, style=piece_style)
    return text


def print_styled(console: Console, lines: list[StyledLine]) -> None:
    """Print styled lines (see :mod:`ptmgraph.formats.lines`) as :func:`print_lines` prints rich text."""
    print_lines(console, [styled_text(line) for line in lines])


def print_summary(console: Console, result: AnalysisResult) -> None:
    console.print(f"[bold]{escape(printable(result.title))}[/bold]")
    summary = result.summary
    for key, value in summary.as_dict().items():
        if isinstance(summary, ModelInfoSummary) and key == "record":
            for k, v in summary.record.items():
                if k == "id" and v == summary.model:
                    continue  # already said on the line above
                console.print(f"  {escape(printable(k))}: {escape(_cell(v))}")
            continue
        console.print(f"  {escape(key.replace('_', ' '))}: {escape(_cell(value))}")


def print_result(
    console: Console, result: AnalysisResult, *, limit: int = 50, columns: list[str] | None = None,
    answer: tuple[str, ...] = (),
) -> None:
    """Summary lines, the main table (only ``columns`` when given; the ``answer`` columns dropped last
    when narrow, see :func:`frame_table`), then the secondary tables."""
    print_summary(console, result)
    if result.rows.height:
        rows = result.output_rows(limit)
        frame = rows.select(columns) if columns else rows
        print_lines(console, frame_table(frame, limit=limit, total=result.rows.height, width=console.width,
                                         answer=answer))
    for name, table in result.tables.items():
        if table.height:
            print_lines(console, frame_table(table, title=name.replace("_", " "), limit=limit, width=console.width))
