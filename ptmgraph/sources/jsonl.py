"""Reading JSON Lines and Parquet row files, with bad rows reported as problems."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl

from ptmgraph import reader
from ptmgraph.records import Problem
from ptmgraph.sources.interface import SourceError


def read_rows(path: Path, problems: list[Problem]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield ``(location, row)`` for each object in a ``.jsonl``/``.json``/``.parquet`` file.

    Lines are read by :func:`ptmgraph.reader.json_lines`: a line that is not UTF-8, not a JSON object
    or over a bound becomes a :class:`Problem` and costs only itself; a file with no readable row at
    all raises :class:`SourceError`.
    """
    if not path.is_file():
        raise SourceError(f"{path}: no such file")
    if path.suffix.lower() == ".parquet":
        try:
            frame = pl.read_parquet(path, glob=False)
        except Exception as err:  # polars raises several unrelated types for corrupt files
            raise SourceError(f"{path}: not a readable Parquet file ({type(err).__name__})") from None
        for i, named in enumerate(frame.iter_rows(named=True), start=1):
            yield f"{path.name}:{i}", named
        return
    good = bad = 0
    try:
        with path.open("rb") as handle:
            for where, row in reader.json_lines(handle, path.name):
                if isinstance(row, Problem):
                    bad += 1
                    problems.append(row)
                    continue
                good += 1
                yield where, row
    except OSError as err:
        raise SourceError(f"{path}: cannot be read ({err.strerror or type(err).__name__})") from None
    if good == 0 and bad > 0:
        raise SourceError(f"{path}: no line is a JSON object (expected JSON Lines)")
