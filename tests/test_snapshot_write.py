"""A snapshot is written a slice of rows at a time and reads back as the tables that were saved."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from ptmgraph import snapshot
from ptmgraph.records import NAME_LIST, NAME_LIST_COLUMNS


def test_a_snapshot_written_in_many_slices_reads_back_as_its_tables(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    shipped = snapshot.load(snapshot.bundled_path())
    assert shipped.models.height > 5_000 and shipped.edges.height > 5_000
    # As ingest hands them over: lists of names categorical, written as text.
    shipped.models = shipped.models.with_columns(pl.col(c).cast(NAME_LIST) for c in NAME_LIST_COLUMNS)
    monkeypatch.setattr(snapshot, "WRITE_ROWS", 1_000)  # 7 slices of the models table
    snapshot.save(shipped, tmp_path / "copy")
    again, stored = snapshot.load(tmp_path / "copy"), snapshot.load(snapshot.bundled_path())
    for name in ("models", "edges", "evidence", "dangling", "problems", "files"):
        assert_frame_equal(again.table(name), stored.table(name))
    files = snapshot.current_files(tmp_path / "copy")
    assert pl.read_parquet(files / "models.parquet")["files"].dtype == pl.List(pl.String())
