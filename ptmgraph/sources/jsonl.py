"""Reading JSON Lines and Parquet row files, with bad rows reported as problems."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl

from ptmgraph.records import Problem
from ptmgraph.sources.interface import SourceError


def read_rows(path: Path, problems: list[Problem]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield ``(location, row)`` for each object in a ``.jsonl``/``.json``/``.parquet`` file.

    A line that is not a JSON object becomes a :class:`Problem`; a file with no readable row at all
    raises :class:`SourceError`.
    """
    if not path.is_file():
        raise SourceError(f"{path}: no such file")
    if path.suffix.lower() == ".parquet":
        try:
            frame = pl.read_parquet(path)
        except Exception as err:  # polars raises several unrelated types for corrupt files
            raise SourceError(f"{path}: not a readable Parquet file ({type(err).__name__})") from None
        for i, named in enumerate(frame.iter_rows(named=True), start=1):
            yield f"{path.name}:{i}", named
        return
    good = bad = 0
    try:
        with path.open(encoding="utf-8-sig") as handle:
            for lineno, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                row: Any = None
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as err:
                    reason = f"not valid JSON ({err.msg})"
                else:
                    reason = "not a JSON object"
                if not isinstance(row, dict):
                    bad += 1
                    problems.append(Problem(f"{path.name}:{lineno}", None, reason))
                    continue
                good += 1
                yield f"{path.name}:{lineno}", row
    except UnicodeDecodeError:
        raise SourceError(f"{path}: not UTF-8 text (expected JSON Lines)") from None
    if good == 0 and bad > 0:
        raise SourceError(f"{path}: no line is a JSON object (expected JSON Lines)")
