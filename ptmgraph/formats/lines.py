"""Format: terminal lines as plain data, written without rich's console when nothing is styled.

- **styled line** (:class:`StyledLine`): pieces of text, each with a rich style name ("" for none),
  and whether the line *wraps*. A wrapping line is prose: it folds at the width between words, as rich
  folds a :class:`rich.text.Text`. A line that does not wrap was fitted to the width by its maker (a
  tree line) and is printed whole, never folded or cropped (see
  :func:`ptmgraph.formats.console.print_lines`).
- **plain output**: standard output that shows no styles, i.e. not a terminal and no colour
  (:attr:`ptmgraph.terminal.Screen.plain`). There :func:`plain_text` writes the characters rich's
  console would print, without importing it (a tenth of a cold query's time);
  ``tests/test_plain_lines.py`` checks the two against each other.

Every id and string is shown through :func:`printable` (the terminal's escaping, from
:mod:`ptmgraph.formats.escaping`): control characters (ESC, CR, backspace, ...) and the bidirectional-text
overrides are shown as escapes, so a hostile id can neither clear the
screen, move the cursor nor reorder what is printed around it.
"""

from __future__ import annotations

import re
from itertools import pairwise
from typing import NamedTuple

# rich's own word division and cell widths (small modules, without the console), so that the folds
# and widths are the ones rich's console uses.
from rich._wrap import divide_line
from rich.cells import cell_len, set_cell_size

from ptmgraph.formats.escaping import printable

__all__ = ["StyledLine", "folded", "plain_text", "printable", "prose"]


class StyledLine(NamedTuple):
    """A line of terminal output (see the module docstring); its texts are already :func:`printable`."""

    pieces: tuple[tuple[str, str], ...]
    wraps: bool

    @property
    def plain(self) -> str:
        return "".join(text for text, _ in self.pieces)


def prose(text: str, style: str = "") -> StyledLine:
    """A wrapping line of one piece."""
    return StyledLine(((text, style),), wraps=True)


_TRAILING_SPACE = re.compile(r"\s+$")


def folded(text: str, width: int) -> list[str]:
    """``text`` (one line, no control characters) folded at ``width`` cells as rich's console prints a
    :class:`rich.text.Text` without styles: broken between words, a word wider than the line cut into
    pieces, the white space ending a line kept unless it goes past the width, and every line at most
    ``width`` cells."""
    offsets = divide_line(text, width, fold=True)
    lines = []
    for start, end in pairwise([0, *offsets, len(text)]):
        line = text[start:end]
        spaces = _TRAILING_SPACE.search(line)
        if len(line) > width and spaces:
            line = line[: len(line) - min(len(spaces.group()), len(line) - width)]
        if cell_len(line) > width:
            line = set_cell_size(line, width)
        lines.append(line)
    return lines


def plain_text(lines: list[StyledLine], width: int) -> str:
    """``lines`` as plain output shows them (see the module docstring), each ending in a line break."""
    out: list[str] = []
    for line in lines:
        out.extend(folded(line.plain, width) if line.wraps else [line.plain])
    return "".join(f"{text}\n" for text in out)
