"""The per-record reader of Hub model records, shared by both readers of ``models.jsonl``.

:func:`read_model_rows` reads a file of ``GET /api/models/{id}`` records one row at a time
(:func:`ptmgraph.reader.json_object`, :func:`ptmgraph.extract.record_from_api`): the reader of
:class:`~ptmgraph.sources.hub_records.HubRecordsSource`, and the one the columnar reader
(:mod:`ptmgraph.sources.hub_columnar`) must equal and hands Parquet files to. :class:`Duplicates` reports
a row whose id an earlier row of the same file had with other data, for every file of Hub rows.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from ptmgraph import extract
from ptmgraph.records import Harvest, Problem
from ptmgraph.sources.jsonl import read_rows


class Duplicates:
    """Reports a row whose id an earlier row of the same file had, with different data.

    Such rows are still read: records of one id are merged downstream (the first row's values win),
    so the report is what tells the user two rows disagreed.
    """

    def __init__(self) -> None:
        self.first: dict[str, tuple[str, str]] = {}  # id -> (location, digest of the row)

    def check(self, model_id: str, where: str, row: dict[str, Any], problems: list[Problem]) -> None:
        digest = hashlib.sha256(json.dumps(row, sort_keys=True, default=str).encode()).hexdigest()
        seen = self.first.setdefault(model_id, (where, digest))
        if seen[1] != digest:
            message = f"same id as {seen[0]} with different data; merged, the first row's values win"
            problems.append(Problem(where, model_id, message))


def read_model_rows(path: Path, out: Harvest) -> None:
    """Add the records, references, file listings and problems of the models file ``path`` to ``out``."""
    duplicates = Duplicates()
    for where, row in read_rows(path, out.problems):
        try:
            record, refs = extract.record_from_api(row, where, out.problems)
        except ValueError as err:
            out.problems.append(Problem(where, None, str(err)))
            continue
        duplicates.check(record.id, where, row, out.problems)
        out.records.append(record)
        out.references.extend(refs)
        out.files.extend(extract.files_from_api(row, record.id, where))
        out.known_ids.add(record.id)
