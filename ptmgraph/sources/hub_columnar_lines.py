"""Reading ``models.jsonl`` in batches of whole lines, for the columnar reader (:mod:`ptmgraph.sources.hub_columnar`,
whose docstring defines *line* and *batch*): lines numbered and bounded as :func:`ptmgraph.reader.json_lines` does."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

import numpy as np
import polars as pl

from ptmgraph import reader
from ptmgraph.records import Problem

MiB = 1024 * 1024
LIMITS = reader.DEFAULT_LIMITS
"""The reader's bounds (:data:`ptmgraph.reader.DEFAULT_LIMITS`): the columnar reader keeps the same ones."""
_BOM = b"\xef\xbb\xbf"


# --- reading lines --------------------------------------------------------------------------------


@dataclass
class Batch:
    """Whole lines of the file: ``block`` starts at file offset ``offset``; per kept (non-blank,
    bounded) line, its position among the block's lines, its start and end in ``block`` (without the
    ``\\n``, after a BOM on line 1) and its number."""

    block: bytes = b""
    offset: int = 0
    index: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    starts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    ends: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    linenos: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    bom: bool = False
    problems: list[tuple[int, Problem]] = field(default_factory=list)  # the line reader's own

    def line(self, i: int) -> bytes:
        """Line ``i`` as :func:`reader.json_lines` hands it on (with its ``\\n``, if it has one)."""
        end = int(self.ends[i])
        return self.block[int(self.starts[i]) : end + 1 if end < len(self.block) else end]


def read_batches(handle: IO[bytes], name: str, batch_bytes: int) -> Iterator[Batch]:
    """The file in batches of whole lines, numbered and bounded as :func:`reader.json_lines` does.

    A batch ends at the last line end of what was read; the file is sought back to the start of the
    line cut short, which the next batch reads again (so no block is copied to join two reads).
    """
    limit = LIMITS.document_bytes
    lineno = 1  # the number of the next line to start
    offset = 0  # the file offset of the next read
    while True:
        try:
            chunk = handle.read(batch_bytes)
            at_end = len(chunk) < batch_bytes
            cut = len(chunk) if at_end else chunk.rfind(b"\n") + 1
            if cut == 0 and chunk:  # one line longer than a batch: read it whole if it is within the bound
                chunk += handle.readline(max(limit + 1 - len(chunk), 0))
                at_end = not chunk.endswith(b"\n")
                cut = len(chunk)
                if cut > limit and at_end:
                    cut += _skip_rest_of_line(handle)
                    at_end = False
                    problem = Problem(f"{name}:{lineno}", None, f"line is over the {limit:,}-byte limit; not read")
                    yield Batch(offset=offset, problems=[(lineno, problem)])
                    lineno += 1
                    offset += cut
                    continue
            elif cut < len(chunk):
                handle.seek(offset + cut)
        except OSError as err:
            where = f"{name}:{lineno}"
            yield Batch(problems=[(lineno, Problem(where, None, f"cannot be read ({err.strerror or err})"))])
            return
        if cut:
            batch, lines = _split(chunk[:cut] if cut < len(chunk) else chunk, offset, lineno, name)
            lineno += lines
            offset += cut
            yield batch
        if at_end:
            return


def _split(block: bytes, offset: int, first: int, name: str) -> tuple[Batch, int]:
    """The lines of ``block`` (which ends at a line end or the end of the file), numbered from ``first``."""
    limit = LIMITS.document_bytes
    newlines = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == 10)
    starts = np.concatenate(([0], newlines + 1)).astype(np.int64)
    ends = np.concatenate((newlines, [len(block)])).astype(np.int64)
    if block.endswith(b"\n"):
        starts, ends = starts[:-1], ends[:-1]
    count = len(starts)
    linenos = np.arange(first, first + count, dtype=np.int64)
    over = (ends - starts) > limit  # what readline(limit + 1) cuts short, as json_lines reads it
    bom = first == 1 and block.startswith(_BOM)
    if bom:
        starts[0] += len(_BOM)
    whitespace = np.array([32, 9, 13, 11, 12], dtype=np.uint8)
    empty = ends <= starts
    first_bytes = np.frombuffer(block, dtype=np.uint8)[np.minimum(starts, max(len(block) - 1, 0))] if count else starts
    maybe_blank = np.flatnonzero(~empty & np.isin(first_bytes, whitespace))
    blank = empty.copy()
    for i in maybe_blank.tolist():
        blank[i] = not block[starts[i] : ends[i]].strip()
    problems = [
        (int(n), Problem(f"{name}:{n}", None, f"line is over the {limit:,}-byte limit; not read"))
        for n in linenos[over].tolist()
    ]
    keep = np.flatnonzero(~blank & ~over)
    batch = Batch(block, offset, keep, starts[keep], ends[keep], linenos[keep], bom and 0 in keep[:1], problems)
    return batch, count


def _skip_rest_of_line(handle: IO[bytes]) -> int:
    skipped = 0
    while True:
        chunk = handle.readline(MiB)
        skipped += len(chunk)
        if not chunk or chunk.endswith(b"\n"):
            return skipped


def lines_bytes(batch: Batch, rows: np.ndarray) -> bytes:
    """Lines ``rows`` (sorted) as JSON Lines bytes: runs of adjacent lines are sliced, not copied line by line."""
    if len(rows) == 0:
        return b""
    linenos = batch.linenos[rows]
    breaks = np.flatnonzero(np.diff(linenos) != 1)
    firsts = np.concatenate(([0], breaks + 1))
    lasts = np.concatenate((breaks, [len(rows) - 1]))
    starts, ends = batch.starts[rows[firsts]], batch.ends[rows[lasts]]
    if len(starts) == 1 and starts[0] == 0 and ends[0] == len(batch.block) - 1:
        return batch.block  # the whole batch, which ends with a line end
    return b"\n".join(batch.block[a:b] for a, b in zip(starts.tolist(), ends.tolist(), strict=True)) + b"\n"


def line_texts(batch: Batch) -> pl.Series:
    """The kept lines as text (without the ``\\n``); null for a line that is not UTF-8."""
    try:
        text = batch.block.decode("utf-8")
    except UnicodeDecodeError:
        texts: list[str | None] = []
        for a, b in zip(batch.starts.tolist(), batch.ends.tolist(), strict=True):
            try:
                texts.append(batch.block[a:b].decode("utf-8"))
            except UnicodeDecodeError:
                texts.append(None)
        return pl.Series("line", texts, dtype=pl.String())
    lines = pl.Series("line", [text]).str.split("\n").explode().gather(batch.index)
    if batch.bom:
        lines = lines.scatter(0, lines[0].removeprefix("\ufeff"))
    return lines
