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

from ptmgraph import snapshot
from ptmgraph.analyses.lineage import ancestry, impact
from ptmgraph.cli import app
from ptmgraph.graph import LineageGraph, UnknownModelError, load_graph
from ptmgraph.ids import normalize_reference
from ptmgraph.snapshot import INDEX_COLUMNS, TABLES, SnapshotError, open_snapshot

LLAMA_CHAT = "meta-llama/Llama-2-7b-chat-hf"
DEPTH3 = "AmberYifan/Gemma-7B-sft-SPIN-Gemma-2-27B"


def copy_bundled(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the bundled snapshot, and the directory of its current version's files."""
    target = tmp_path / "snap"
    shutil.copytree(snapshot.bundled_path(), target)
    return target, snapshot.current_files(target)


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
    assert opened._columns["edges"] == {}  # the stored index is trusted without reading the edges
    assert opened.edges.equals(eager.edges)
    # the index needs no other columns than INDEX_COLUMNS: built from them alone it is the same
    from ptmgraph import index as compact

    built = compact.build(*(eager.table(t).select(c) for t, c in INDEX_COLUMNS.items()))
    assert built.fingerprint == stored.fingerprint
    assert (built.children.neighbour == stored.children.neighbour).all()


def test_a_point_query_never_reads_the_evidence_table(tmp_path: Path) -> None:
    snap, files = copy_bundled(tmp_path)
    data = bytearray((files / "evidence.parquet").read_bytes())
    data[len(data) // 3 : len(data) // 3 + 64] = bytes(64)  # a damaged page; the footer still reads
    (files / "evidence.parquet").write_bytes(bytes(data))
    with pytest.raises(SnapshotError, match=r"evidence\.parquet: not a readable Parquet file"):
        snapshot.load(snap)
    expected = impact(load_graph(), LLAMA_CHAT).output_rows()
    assert impact(load_graph(snap), LLAMA_CHAT).output_rows().equals(expected)
    done = CliRunner().invoke(app, ["ancestry", DEPTH3, "-s", str(snap), "-f", "json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["ancestors"] == ancestry(load_graph(), DEPTH3).summary["ancestors"]


def test_what_is_checked_when_opened(tmp_path: Path) -> None:
    snap, files = copy_bundled(tmp_path)
    (files / "evidence.parquet").write_bytes(b"PAR1 junk")
    with pytest.raises(SnapshotError, match=r"evidence\.parquet: not a readable Parquet file"):
        open_snapshot(snap)
    shutil.copy(snapshot.current_files(snapshot.bundled_path()) / "evidence.parquet", files / "evidence.parquet")
    pl.read_parquet(files / "dangling.parquet").drop("reason").write_parquet(files / "dangling.parquet")
    with pytest.raises(SnapshotError, match=r"dangling\.parquet: missing columns reason"):
        open_snapshot(snap)
    (files / "dangling.parquet").unlink()
    with pytest.raises(SnapshotError, match=r"dangling\.parquet: missing from the snapshot"):
        open_snapshot(snap)


def test_what_is_checked_when_read_names_the_file(tmp_path: Path) -> None:
    snap, files = copy_bundled(tmp_path)
    models = pl.read_parquet(files / "models.parquet")
    models.with_columns(pl.col("downloads").cast(pl.String) + "x").write_parquet(files / "models.parquet")
    # a column stored with another type is checked on opening, used or not: every command fails alike
    with pytest.raises(SnapshotError, match=r"models\.parquet: column 'downloads' is String, expected Int64"):
        open_snapshot(snap)
    done = CliRunner().invoke(app, ["impact", LLAMA_CHAT, "-s", str(snap)])
    assert done.exit_code == 1 and "column 'downloads' is String, expected Int64" in done.output
    models.with_columns(pl.when(pl.int_range(pl.len()) == 3).then(None).otherwise(pl.col("id")).alias("id")) \
        .write_parquet(files / "models.parquet")
    with pytest.raises(SnapshotError, match=r"models\.parquet: column 'id' has empty values"):
        LineageGraph(open_snapshot(snap))


def test_fewer_edges_by_confidence_give_the_answers_of_the_fully_read_snapshot() -> None:
    lazy = load_graph(min_confidence="high")
    eager_snap = snapshot.load(snapshot.bundled_path())
    kept = eager_snap.edges.filter(pl.col("parent_confidence") == "high")
    eager = LineageGraph(snapshot.Snapshot(eager_snap.models, kept, eager_snap.evidence, eager_snap.dangling,
                                           eager_snap.problems, eager_snap.meta))
    assert lazy.snapshot.edges.equals(kept)
    assert impact(lazy, LLAMA_CHAT).output_rows().equals(impact(eager, LLAMA_CHAT).output_rows())


def _years_in_range_by_hand(column: pl.Series) -> bool:
    """The check as it was: the year of every row."""
    return all(1 <= year <= 9999 for year in column.dt.year().drop_nulls().to_list())


@pytest.mark.parametrize("unit", ["us", "ms"])
@pytest.mark.parametrize("zone", [None, "UTC"])
def test_times_outside_the_years_python_holds_are_found_without_a_year_per_row(unit: str, zone: str | None) -> None:
    per_year = {"us": 365_2425 * 24 * 3600 * 10**6 // 10_000, "ms": 365_2425 * 24 * 3600 * 10**3 // 10_000}[unit]
    first = pl.Series([0], dtype=pl.Datetime(unit)).dt.offset_by("-1969y").to_physical()[0]  # 0001-01-01
    last = pl.Series([0], dtype=pl.Datetime(unit)).dt.offset_by("8030y").to_physical()[0]  # 10000-01-01
    cases = ([first, None, 0], [first - 1, 0], [last - 1], [last], [None, None], [0, last + per_year])
    assert [_years_in_range_by_hand(pl.Series(c, dtype=pl.Int64).cast(pl.Datetime(unit))) for c in cases] == [
        True, False, True, False, True, False]
    for stored in cases:
        column = pl.Series(stored, dtype=pl.Int64).cast(pl.Datetime(unit, zone))
        assert snapshot._python_times(column) == _years_in_range_by_hand(column), stored


def test_a_model_named_in_another_letter_case_resolves_to_its_first_spelling() -> None:
    from ptmgraph.records import MODELS_SCHEMA

    base = snapshot.load(snapshot.bundled_path())
    ids = ["Org/Model", "org/model", "org/İdea", "org/i\u0307dea-x", "org/\u212aelvin", "ORG/KELVIN", "a/b", "A/bb"]
    models = pl.DataFrame({"id": ids}, schema={"id": pl.String()}).with_columns(
        [pl.lit(None, dtype=t).alias(c) for c, t in MODELS_SCHEMA.items() if c != "id"]).select(list(MODELS_SCHEMA))
    lg = LineageGraph(snapshot.Snapshot(models, base.edges.head(0), base.evidence.head(0), base.dangling.head(0),
                                        base.problems.head(0)))

    def as_it_was(query: str) -> str:  # by hand: an id as stored, then every id lowercased, then the fuzzy index
        if query in ids:
            return query
        norm = normalize_reference(query)
        for wanted in (norm.id, query.strip()):  # the Hub id named, then the text as typed (a local id)
            same = (pl.Series(ids).str.to_lowercase() == wanted.lower()).arg_true() if wanted else []
            if len(same):
                return ids[same[0]]
        found = lg.id_lookup.canonical(norm.id) if norm.id else None
        if found is None:
            raise UnknownModelError(query, [])
        return found

    for query in ["org/MODEL", "Org/Model", "org/i\u0307dea", "org/İDEA", "org/kelvin", "ORG/\u212aELVIN", "A/B",
                  "a/BB", "org/idea", "https://huggingface.co/ORG/model/", "nothing/here"]:
        try:
            expected = as_it_was(query)
        except UnknownModelError:
            with pytest.raises(UnknownModelError):
                lg.resolve(query)
        else:
            assert lg.resolve(query) == expected, query
    assert lg.resolve("org/kelvin") == "org/\u212aelvin" and lg.resolve("org/MODEL") == "Org/Model"


def test_node_rows_found_by_one_scan_are_those_the_index_lookup_finds(bundled: LineageGraph) -> None:
    no_record = bundled.snapshot.models.filter(~pl.col("has_record"))["id"][0]  # a name in a Hub listing
    models = [LLAMA_CHAT, DEPTH3, no_record, LLAMA_CHAT, "google/gemma-7b"]
    expected = {row["id"]: row for row in bundled.nodes_at(bundled.compact.positions_of(models)).to_dicts()}
    assert bundled.nodes_of(models) == expected
    assert expected[no_record]["has_record"] is False and expected[LLAMA_CHAT]["downloads"] is not None
    assert bundled.nodes_of([]) == {}
    with pytest.raises(KeyError):
        bundled.nodes_of([LLAMA_CHAT, "no/such-model"])


@pytest.mark.parametrize(("direction", "model"), [("descendants", LLAMA_CHAT), ("ancestors", DEPTH3),
                                                  ("descendants", "google/gemma-7b")])
def test_a_tree_reading_its_columns_only_prints_what_the_full_rows_print(
    direction: str, model: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from rich.console import Console

    from ptmgraph.formats import views
    from ptmgraph.formats.tree import TREE_COLUMNS

    def tree(lg: LineageGraph) -> str:
        console = Console(file=io.StringIO(), width=240, color_system=None)
        query = impact if direction == "descendants" else ancestry
        views.print_lineage_tree(console, lg, query(lg, model, max_depth=2), columns=list(TREE_COLUMNS), limit=0)
        return console.file.getvalue()  # type: ignore[attr-defined]

    shown = tree(load_graph())
    monkeypatch.setattr(LineageGraph, "with_node_columns", lambda self, columns: self)  # every attribute
    assert shown == tree(load_graph())
    assert shown.count("\n") >= 4 and "columns: relation" in shown
