"""A snapshot opened for a query (``open_snapshot``): the same tables and errors as ``load``, read as used.

The oracle is :func:`ptmgraph.snapshot.load`, which reads and checks every table at once.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from analyses import ancestry, impact
from ptmgraph import snapshot
from ptmgraph.cli import app
from ptmgraph.graph import LineageGraph, load_graph
from ptmgraph.snapshot import INDEX_COLUMNS, TABLES, SnapshotError, open_snapshot

LLAMA_CHAT = "meta-llama/Llama-2-7b-chat-hf"
DEPTH3 = "AmberYifan/Gemma-7B-sft-SPIN-Gemma-2-27B"


def copy_bundled(tmp_path: Path) -> Path:
    target = tmp_path / "snap"
    shutil.copytree(snapshot.bundled_path(), target)
    return target


def test_every_table_and_column_reads_as_load_reads_it() -> None:
    eager = snapshot.load(snapshot.bundled_path())
    opened = open_snapshot(snapshot.bundled_path())
    assert opened.meta == eager.meta
    assert opened.columns("models", ["downloads", "id"]).equals(eager.models.select("downloads", "id"))
    for name in TABLES:
        assert opened.table(name).equals(eager.table(name)), name


def test_the_stored_index_is_used_and_matches_one_built_from_the_tables() -> None:
    opened = open_snapshot(snapshot.bundled_path())
    stored = opened.index
    assert stored is not None
    eager = snapshot.load(snapshot.bundled_path())
    assert eager.index is not None and stored.fingerprint == eager.index.fingerprint
    assert stored.ids.equals(eager.index.ids)
    # the index needs no other columns than INDEX_COLUMNS: built from them alone it is the same
    from ptmgraph import index as compact

    built = compact.build(*(eager.table(t).select(c) for t, c in INDEX_COLUMNS.items()))
    assert built.fingerprint == stored.fingerprint
    assert (built.children.neighbour == stored.children.neighbour).all()


def test_a_point_query_never_reads_the_evidence_table(tmp_path: Path) -> None:
    snap = copy_bundled(tmp_path)
    data = bytearray((snap / "evidence.parquet").read_bytes())
    data[len(data) // 3 : len(data) // 3 + 64] = bytes(64)  # a damaged page; the footer still reads
    (snap / "evidence.parquet").write_bytes(bytes(data))
    with pytest.raises(SnapshotError, match=r"evidence\.parquet: not a readable Parquet file"):
        snapshot.load(snap)
    expected = impact(load_graph(), LLAMA_CHAT).output_rows()
    assert impact(load_graph(snap), LLAMA_CHAT).output_rows().equals(expected)
    done = CliRunner().invoke(app, ["ancestry", DEPTH3, "-s", str(snap), "-f", "json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["ancestors"] == ancestry(load_graph(), DEPTH3).summary["ancestors"]


def test_what_is_checked_when_opened(tmp_path: Path) -> None:
    snap = copy_bundled(tmp_path)
    (snap / "evidence.parquet").write_bytes(b"PAR1 junk")
    with pytest.raises(SnapshotError, match=r"evidence\.parquet: not a readable Parquet file"):
        open_snapshot(snap)
    shutil.copy(snapshot.bundled_path() / "evidence.parquet", snap / "evidence.parquet")
    pl.read_parquet(snap / "dangling.parquet").drop("reason").write_parquet(snap / "dangling.parquet")
    with pytest.raises(SnapshotError, match=r"dangling\.parquet: missing columns reason"):
        open_snapshot(snap)
    (snap / "dangling.parquet").unlink()
    with pytest.raises(SnapshotError, match=r"dangling\.parquet: missing from the snapshot"):
        open_snapshot(snap)


def test_what_is_checked_when_read_names_the_file(tmp_path: Path) -> None:
    snap = copy_bundled(tmp_path)
    models = pl.read_parquet(snap / "models.parquet")
    models.with_columns(pl.col("downloads").cast(pl.String) + "x").write_parquet(snap / "models.parquet")
    opened = open_snapshot(snap)
    assert opened.columns("models", ["id"]).height == models.height  # other columns still read
    with pytest.raises(SnapshotError, match=r"models\.parquet: column 'downloads' is String, expected Int64"):
        impact(LineageGraph(opened), LLAMA_CHAT)
    done = CliRunner().invoke(app, ["impact", LLAMA_CHAT, "-s", str(snap)])
    assert done.exit_code == 1 and "column 'downloads' is String, expected Int64" in done.output
    models.with_columns(pl.when(pl.int_range(pl.len()) == 3).then(None).otherwise(pl.col("id")).alias("id")) \
        .write_parquet(snap / "models.parquet")
    with pytest.raises(SnapshotError, match=r"models\.parquet: column 'id' has empty values"):
        LineageGraph(open_snapshot(snap))


def test_fewer_edges_by_confidence_give_the_answers_of_the_fully_read_snapshot() -> None:
    lazy = load_graph(min_confidence="high")
    eager_snap = snapshot.load(snapshot.bundled_path())
    kept = eager_snap.edges.filter(pl.col("confidence") == "high")
    eager = LineageGraph(snapshot.Snapshot(eager_snap.models, kept, eager_snap.evidence, eager_snap.dangling,
                                           eager_snap.problems, eager_snap.meta))
    assert lazy.snapshot.edges.equals(kept)
    assert impact(lazy, LLAMA_CHAT).output_rows().equals(impact(eager, LLAMA_CHAT).output_rows())
