"""The compact index (ptmgraph.index) and the walks on it give what networkx gives on the same graph.

Expectations come from networkx: its shortest-path lengths, strongly connected components, and the
networkx walks of ptmgraph.traverse (the implementation every earlier test pinned down).
"""

from __future__ import annotations

import json
import random
import shutil
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from itertools import pairwise
from pathlib import Path

import networkx as nx
import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_snapshot_safety import run_cli
from typer.testing import CliRunner

from ptmgraph import index as compact
from ptmgraph import snapshot
from ptmgraph.analyses.lineage import ancestry, impact
from ptmgraph.cli import app
from ptmgraph.graph import LineageGraph
from ptmgraph.records import DANGLING_SCHEMA, EDGES_SCHEMA, EVIDENCE_SCHEMA, MODELS_SCHEMA, PROBLEMS_SCHEMA
from ptmgraph.snapshot import Snapshot, SnapshotError
from ptmgraph.traverse import is_root, paths_to_roots, roots, walk
from ptmgraph.tree_lines import tree_line_count, tree_lines

RELATIONS = ["finetune", "adapter", "quantized", "merge", "unknown", "distilled"]  # one outside the code table


def tables(edges: list[tuple[str, str, str | None, str | None]], models: list[str]) -> Snapshot:
    """A snapshot with one row per id in ``models`` (others are named only by edges) and these edges."""
    frame = pl.DataFrame({"id": models}, schema={"id": pl.String()}).with_columns(
        [pl.lit(None, dtype=t).alias(c) for c, t in MODELS_SCHEMA.items() if c != "id"]
    ).with_columns(pl.Series("downloads", list(range(len(models))), dtype=pl.Int64())).select(list(MODELS_SCHEMA))
    rows = pl.DataFrame(edges, schema={"base": pl.String(), "child": pl.String(), "relation": pl.String(),
                                       "parent_confidence": pl.String()}, orient="row")
    rows = rows.with_columns(
        [pl.lit(None, dtype=t).alias(c) for c, t in EDGES_SCHEMA.items() if c not in rows.columns]
    ).select(list(EDGES_SCHEMA))
    empty = {name: pl.DataFrame(schema=schema) for name, schema in
             (("evidence", EVIDENCE_SCHEMA), ("dangling", DANGLING_SCHEMA), ("problems", PROBLEMS_SCHEMA))}
    return Snapshot(models=frame, edges=rows, **empty)


def random_snapshot(rng: random.Random) -> Snapshot:
    n = rng.randrange(1, 40)
    names = [f"o/m{rng.randrange(10**6)}" for _ in range(n)]  # random ids: id order is not row order
    names = list(dict.fromkeys(names))
    edges = []
    for _ in range(rng.randrange(0, 3 * len(names) + 1)):
        base, child = rng.choice(names), rng.choice(names)  # self-loops, cycles and repeats included
        edges.append((base, child, rng.choice([*RELATIONS, None]), rng.choice(["low", "medium", "high", None])))
    recorded = [m for m in names if rng.random() < 0.85]  # the rest are edge-only models
    rng.shuffle(recorded)
    return tables(edges, recorded)


def networkx_walk(graph: nx.DiGraph, source: str, direction: str = "descendants",
                  relations: set[str] | None = None, max_depth: int | None = None) -> list[tuple[str, int, str, str]]:
    """What networkx's own breadth-first search finds from ``source`` (neighbours in id order) along the
    followed edges: (model, depth, via, relation of the hop) in the order found."""
    followed = graph if direction == "descendants" else graph.reverse(copy=True)
    followed = followed.edge_subgraph([(a, b) for a, b, r in followed.edges(data="relation")
                                       if relations is None or r in relations]).copy()
    followed.add_node(source)
    depth = {source: 0}
    found = []
    for via, model in nx.bfs_edges(followed, source, depth_limit=max_depth, sort_neighbors=sorted):
        depth[model] = depth[via] + 1
        found.append((model, depth[model], via, followed.edges[via, model].get("relation")))
    return found


def assert_same_walk(lg: LineageGraph, source: str, **options: object) -> None:
    """The walk on the index, and on the networkx graph (converted to the index), are networkx's own
    breadth-first search: the same models in the same order, depths, vias and hop relations."""
    expected = networkx_walk(lg.graph, source, **options)  # type: ignore[arg-type]
    for graph in (lg.compact, lg.graph):
        found = walk(graph, [source], **options)  # type: ignore[arg-type]
        assert [(m, found.depth[m], found.via[m], found.relation[m]) for m in found] == expected
        assert lg.compact.names(found.positions) == list(found)


SIZES = ["small", "large"]
"""Whether the index is read, checked and walked as a small graph (without numpy) or a large one (with
numpy): the tests that say ``size`` run both ways, on the same graphs."""


@contextmanager
def graphs_taken_as(size: str) -> Iterator[None]:
    """Every index taken as a small graph, or every one as a large graph (see ptmgraph.index)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(compact, "SMALL_GRAPH_NODES", 10**12 if size == "small" else -1)
        yield


@pytest.mark.parametrize("size", SIZES)
def test_index_walks_equal_networkx_walks_on_random_graphs(size: str) -> None:
    with graphs_taken_as(size):
        index_walks_equal_networkx_walks_on_random_graphs()


def index_walks_equal_networkx_walks_on_random_graphs() -> None:
    rng = random.Random(10)
    for _ in range(150):
        lg = LineageGraph(random_snapshot(rng))
        models = list(lg.graph)
        assert lg.compact.ids.to_list() == models  # positions follow networkx's node order
        assert roots(lg.compact) == roots(lg.graph)
        for source in rng.sample(models, min(4, len(models))):
            assert is_root(lg.compact, source) == is_root(lg.graph, source)
            for direction in ("descendants", "ancestors"):
                relations = rng.choice([None, set(rng.sample(RELATIONS, 2))])
                depth = rng.choice([None, 1, 2])
                assert_same_walk(lg, source, direction=direction, relations=relations, max_depth=depth)
                found = walk(lg.compact, [source], direction=direction, relations=relations, max_depth=depth)
                lines = list(tree_lines(lg.compact, found))
                assert list(tree_lines(lg.graph, walk(lg.graph, [source], direction=direction, relations=relations,
                                                      max_depth=depth))) == lines
                assert tree_line_count(lg.compact, found) == len(lines)  # counted without making the lines
            assert paths_to_roots(lg.compact, source, 5) == paths_to_roots(lg.graph, source, 5)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 9), st.integers(0, 9), st.sampled_from(RELATIONS)), max_size=30),
       st.integers(0, 9))
def test_index_walk_equals_networkx_walk_for_any_small_graph(pairs: list[tuple[int, int, str]], start: int) -> None:
    edges = [(f"m{a}", f"m{b}", r, "high") for a, b, r in pairs]
    for size in SIZES:
        with graphs_taken_as(size):
            lg = LineageGraph(tables(edges, [f"m{i}" for i in range(10)]))
            assert_same_walk(lg, f"m{start}")
            assert_same_walk(lg, f"m{start}", direction="ancestors")
            assert_same_walk(lg, f"m{start}", relations={"adapter", "merge"}, max_depth=2)


NAMES = ["o/zeta", "o/alpha", "O/beta", "o/Alpha", "p/m10", "p/m2", "p/m1", "q", "a_b", "a-b"]
"""Node ids added in this order, which is not id order, so that the walk's id order shows."""


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 9), st.integers(0, 9), st.sampled_from([*RELATIONS, None])), max_size=30),
       st.integers(0, 9), st.sampled_from(["descendants", "ancestors"]),
       st.sampled_from([None, {"adapter"}, {"finetune", "merge", "distilled"}]), st.sampled_from([None, 1, 2, 3]))
def test_the_walk_of_a_networkx_graph_is_networkxs_breadth_first_search(
        pairs: list[tuple[int, int, str | None]], start: int, direction: str, relations: set[str] | None,
        max_depth: int | None) -> None:
    graph = nx.DiGraph()
    graph.add_nodes_from(NAMES)
    for a, b, relation in pairs:
        graph.add_edge(NAMES[a], NAMES[b], relation=relation)
    found = walk(graph, [NAMES[start]], direction=direction, relations=relations, max_depth=max_depth)  # type: ignore[arg-type]
    assert [(m, found.depth[m], found.via[m], found.relation[m]) for m in found] == networkx_walk(
        graph, NAMES[start], direction, relations, max_depth)


@pytest.mark.slow
@pytest.mark.parametrize("size", SIZES)
def test_impact_and_ancestry_on_the_bundled_snapshot_equal_the_networkx_walks(size: str) -> None:
    with graphs_taken_as(size):
        impact_and_ancestry_on_the_bundled_snapshot_equal_the_networkx_walks()


def impact_and_ancestry_on_the_bundled_snapshot_equal_the_networkx_walks() -> None:
    lg = LineageGraph(snapshot.load(snapshot.bundled_path()))
    assert lg.snapshot.index is not None  # the shipped snapshot carries its index
    rng = random.Random(4)
    for source in [*roots(lg.graph)[:20], *rng.sample(list(lg.graph), 40)]:
        assert_same_walk(lg, source)
        assert_same_walk(lg, source, direction="ancestors")
        assert paths_to_roots(lg.compact, source, 50) == paths_to_roots(lg.graph, source, 50)
    blast = impact(lg, "meta-llama/Llama-2-7b-chat-hf")
    expected = nx.descendants(lg.graph, "meta-llama/Llama-2-7b-chat-hf")
    assert set(blast.rows["id"]) == expected
    nodes = lg.graph.nodes
    for row in blast.rows.head(50).iter_rows(named=True):  # node columns come from the table's rows
        assert row["downloads"] == nodes[row["id"]]["downloads"] and row["license"] == nodes[row["id"]]["license"]
    up = ancestry(lg, "AmberYifan/Gemma-7B-sft-SPIN-Gemma-2-27B")
    assert set(up.rows["id"]) == nx.ancestors(lg.graph, "AmberYifan/Gemma-7B-sft-SPIN-Gemma-2-27B")
    for row in up.tables["paths"].iter_rows(named=True):
        path = row["path"]
        assert row["relations"] == [lg.graph.edges[a, b]["relation"] for a, b in pairwise(path)]
    assert up.rows.filter(pl.col("is_root"))["id"].to_list() == [
        m for m in up.rows["id"] if not set(lg.graph.pred[m]) - {m}]


def test_queries_do_not_build_the_networkx_graph() -> None:
    lg = LineageGraph(snapshot.load(snapshot.bundled_path()))
    impact(lg, "meta-llama/Llama-2-7b-chat-hf")
    ancestry(lg, "AmberYifan/Gemma-7B-sft-SPIN-Gemma-2-27B")
    assert "graph" not in lg.__dict__  # the cached property was never computed


@pytest.mark.parametrize("size", SIZES)
def test_a_stored_index_round_trips_and_is_ignored_when_the_tables_changed(tmp_path: Path, size: str) -> None:
    snap = random_snapshot(random.Random(5))
    built = compact.build(snap.models, snap.edges)
    manifest = compact.write(built, tmp_path / "index.npz")
    with graphs_taken_as(size):
        read = compact.read(tmp_path / "index.npz", snap.models["id"], pairs(snap), manifest)
    assert read is not None and read.ids.to_list() == built.ids.to_list()
    for side in ("children", "parents"):
        for field in ("indptr", "neighbour", "relation", "confidence"):
            assert np.array_equal(getattr(read.side(side), field), getattr(built.side(side), field))  # type: ignore[arg-type]
    changed = snap.edges.with_columns(pl.lit("adapter").alias("relation"))
    other = compact.write(compact.build(snap.models, changed), tmp_path / "other.npz")
    assert compact.read(tmp_path / "index.npz", snap.models["id"], pairs(snap), other) is None  # other tables
    assert compact.read(tmp_path / "index.npz", snap.models["id"].head(-1), pairs(snap), manifest) is None
    assert compact.read(tmp_path / "index.npz", snap.models["id"], pairs(snap) + 1, manifest) is None


def test_the_index_file_reads_as_numpy_reads_it(tmp_path: Path) -> None:
    rng = random.Random(6)
    paths = [snapshot.current_files(snapshot.bundled_path()) / "index.npz"]
    for number in range(20):
        snap = random_snapshot(rng)
        snap.edges = snap.edges.with_columns(pl.Series("relation", [  # ids and relations outside ASCII too
            rng.choice(["finetune", "dérivé", "微调", None]) for _ in range(snap.edges.height)], dtype=pl.String()))
        compact.write(compact.build(snap.models, snap.edges), tmp_path / f"{number}.npz")
        paths.append(tmp_path / f"{number}.npz")
    for path in paths:
        with np.load(path, allow_pickle=False) as stored:
            expected = {name: stored[name].tolist() for name in stored.files}
        read = compact.stored_arrays(path)
        assert {name: array if isinstance(array, list) else array.tolist() for name, array in read.items()} == expected


def pairs(snap: Snapshot) -> int:
    """The distinct base -> child pairs of the snapshot's edges."""
    return len({(row["base"], row["child"]) for row in snap.edges.iter_rows(named=True)})


def vouching(manifest: compact.Manifest, path: Path) -> compact.Manifest:
    """``manifest`` with the size and CRC-32 of the file at ``path``: a ``meta.json`` edited to vouch for it."""
    data = path.read_bytes()
    return replace(manifest, size=len(data), crc32=zlib.crc32(data))


def npy(header: str, data: bytes) -> bytes:
    """A version 1 ``.npy`` file with this header (padded as numpy pads it) and data."""
    text = header.encode("latin-1")
    text += b" " * (-(len(text) + 11) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text + data


@pytest.mark.parametrize(
    ("member", "compression"),
    [
        (npy("{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }", b"\x01" + b"\0" * 7), zipfile.ZIP_DEFLATED),
        (npy("{'descr': '<i8', 'fortran_order': True, 'shape': (1,), }", b"\x01" + b"\0" * 7), zipfile.ZIP_STORED),
        (npy("{'descr': '>i8', 'fortran_order': False, 'shape': (1,), }", b"\0" * 7 + b"\x01"), zipfile.ZIP_STORED),
        (npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", b"\0" * 8), zipfile.ZIP_STORED),
        (npy("{'descr': '<i8', 'fortran_order': False, 'shape': (1, 1), }", b"\0" * 8), zipfile.ZIP_STORED),
        (npy("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", b"\0" * 8), zipfile.ZIP_STORED),
        (npy("{'descr': '<i8', 'fortran_order': False, 'shape': (-1,), }", b""), zipfile.ZIP_STORED),
        (npy("{'descr': '<i8', 'fortran_order': False, 'shape': (__import__('os').getpid(),), }", b""),
         zipfile.ZIP_STORED),
        (npy("((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((("
             "((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((("
             "(((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((", b""),
         zipfile.ZIP_STORED),
        (b"\x93NUMPY\x09\x00" + b"\0" * 8, zipfile.ZIP_STORED),
        (b"not an array", zipfile.ZIP_STORED),
    ],
)
def test_an_index_file_with_a_member_not_as_written_is_refused(tmp_path: Path, member: bytes, compression: int) -> None:
    snap = random_snapshot(random.Random(7))
    good = tmp_path / "good.npz"
    manifest = compact.write(compact.build(snap.models, snap.edges), good)
    bad = tmp_path / "bad.npz"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(bad, "w") as target:
        for info in source.infolist():
            if info.filename == "version.npy":
                target.writestr("version.npy", member, compress_type=compression)
            else:
                target.writestr(info, source.read(info))
    with pytest.raises(compact.IndexFileError, match="not a readable index"):
        compact.read(bad, snap.models["id"], pairs(snap), vouching(manifest, bad))
    for cut in (0, 10, good.stat().st_size // 2):  # a truncated file
        (tmp_path / "cut.npz").write_bytes(good.read_bytes()[:cut])
        with pytest.raises(compact.IndexFileError, match="not a readable index"):
            compact.read(tmp_path / "cut.npz", snap.models["id"], pairs(snap), vouching(manifest, tmp_path / "cut.npz"))


def test_a_snapshot_without_an_index_or_with_a_damaged_one_answers_from_its_tables(tmp_path: Path) -> None:
    copy = tmp_path / "snap"
    shutil.copytree(snapshot.bundled_path(), copy)
    index_file = snapshot.current_files(copy) / "index.npz"
    index_file.unlink()
    lg = LineageGraph(snapshot.load(copy))
    assert lg.snapshot.index is None
    assert impact(lg, "meta-llama/Llama-2-7b-chat-hf").rows.height == len(
        nx.descendants(lg.graph, "meta-llama/Llama-2-7b-chat-hf"))
    for damage in (b"PK\x03\x04 not a zip", b""):
        index_file.write_bytes(damage)
        lg = LineageGraph(snapshot.load(copy))
        assert lg.snapshot.index is None  # not trusted: the graph builds its index from the tables
        assert impact(lg, "meta-llama/Llama-2-7b-chat-hf").rows.height == 1683


# --- a stored index is checked against the tables before any query trusts it ---------------------------

LINEAGE = "child,base,relation\no/ft,o/base,finetune\no/ft-gguf,o/ft,quantized\no/lora,o/base,adapter\n"
"""Three models derived from o/base: a finetune, its quantization and an adapter."""


def ingested(tmp_path: Path, text: str = LINEAGE, name: str = "snap") -> Path:
    source = tmp_path / f"{name}.csv"
    source.write_text(text)
    code, output = run_cli("ingest", str(source), "--out", str(tmp_path / name))
    assert code == 0, output
    return tmp_path / name


def rewrite_index(files: Path, change: Callable[[dict[str, np.ndarray]], None]) -> None:
    """Apply ``change`` to the arrays of the index in ``files`` and store them again as numpy would."""
    with np.load(files / "index.npz", allow_pickle=False) as stored:
        arrays = {name: stored[name] for name in stored.files}
    change(arrays)
    with open(files / "index.npz", "wb") as handle:
        np.savez(handle, allow_pickle=False, **arrays)  # type: ignore[arg-type]


def vouch(files: Path) -> None:
    """Edit ``meta.json`` so that it vouches for the index file as it now is (size, CRC-32, counts)."""
    meta = json.loads((files / "meta.json").read_text())
    data = (files / "index.npz").read_bytes()
    with np.load(files / "index.npz", allow_pickle=False) as stored:
        meta["index"].update(size=len(data), crc32=zlib.crc32(data), edges=len(stored["children_neighbour"]),
                             nodes=len(stored["children_indptr"]) - 1)
    meta["files"]["index.npz"] = len(data)
    (files / "meta.json").write_text(json.dumps(meta))


def _set(name: str, value: Callable[[np.ndarray], np.ndarray]) -> Callable[[dict[str, np.ndarray]], None]:
    def change(arrays: dict[str, np.ndarray]) -> None:
        for side in ("children", "parents"):
            if f"{side}_{name}" in arrays:
                arrays[f"{side}_{name}"] = value(arrays[f"{side}_{name}"])
        if name in arrays:
            arrays[name] = value(arrays[name])
    return change


CRAFTED: dict[str, Callable[[dict[str, np.ndarray]], None]] = {
    "relation codes out of range": _set("relation", lambda a: np.full_like(a, 100)),
    "negative relation codes": _set("relation", lambda a: np.full_like(a, -7)),
    "confidence codes out of range": _set("confidence", lambda a: np.full_like(a, 3)),
    "empty relation names": _set("relation_names", lambda a: a[:0]),
    "relation names of another table": _set("relation_names", lambda a: a[::-1]),
    "neighbours outside the models": _set("neighbour", lambda a: a + 1000),
    "negative neighbours": _set("neighbour", lambda a: a - 1000),
    "offsets decreasing": _set("indptr", lambda a: np.concatenate([a[:1], a[1:][::-1]])),
    "offsets past the edges": _set("indptr", lambda a: a * 2),
    "rows of another models table": _set("rows", lambda a: a + 1),
}


def answers(snap: Path) -> tuple[int, int, int]:
    """What a user sees: impact's model count, and the exit codes of check and risk with o/base compromised."""
    # o/base is known only as a reference: a note on stderr says so, the answer is on stdout.
    result = CliRunner().invoke(app, ["impact", "o/base", "-s", str(snap), "-f", "json"])
    assert result.exit_code == 0, result.output
    output = result.stdout
    check, _ = run_cli("check", "o/ft-gguf", "-c", "o/base", "--fail-on", "high", "-s", str(snap))
    risk, _ = run_cli("risk", "-c", "o/base", "-s", str(snap), "-f", "json")
    return json.loads(output)["affected_models"], check, risk


@pytest.mark.parametrize("vouched", [False, True], ids=["index only", "index and meta.json"])
@pytest.mark.parametrize("craft", list(CRAFTED), ids=list(CRAFTED))
def test_a_crafted_index_never_changes_an_answer(tmp_path: Path, craft: str, vouched: bool) -> None:
    snap = ingested(tmp_path)
    assert answers(snap) == (3, 1, 1)  # o/ft, o/ft-gguf and o/lora; a finding; something at risk
    files = snapshot.current_files(snap)
    rewrite_index(files, CRAFTED[craft])
    if vouched:
        vouch(files)
    assert snapshot.load(snap).index is None
    assert answers(snap) == (3, 1, 1)


@pytest.mark.parametrize("vouched", [False, True], ids=["index only", "index and meta.json"])
def test_an_index_with_edges_removed_and_the_digest_kept_is_not_trusted(tmp_path: Path, vouched: bool) -> None:
    snap = ingested(tmp_path)
    files = snapshot.current_files(snap)
    digest = json.loads((files / "meta.json").read_text())["index"]["digest"]

    def without_o_base(arrays: dict[str, np.ndarray]) -> None:
        # the index of the same models without o/base's two edges, claiming the digest of the tables
        models = pl.read_parquet(files / "models.parquet")
        edges = pl.read_parquet(files / "edges.parquet").filter(pl.col("base") != "o/base")
        compact.write(replace(compact.build(models, edges), fingerprint=digest), tmp_path / "fewer.npz")
        with np.load(tmp_path / "fewer.npz", allow_pickle=False) as stored:
            arrays.update({name: stored[name] for name in stored.files})

    rewrite_index(files, without_o_base)
    if vouched:
        vouch(files)
    assert answers(snap) == (3, 1, 1)  # not 0 models and exit 0, as the crafted index would say


def test_an_index_from_another_snapshot_is_not_used(tmp_path: Path) -> None:
    snap = ingested(tmp_path)
    other = ingested(tmp_path, "child,base\no/lora,o/base\n", "other")
    shutil.copy(snapshot.current_files(other) / "index.npz", snapshot.current_files(snap) / "index.npz")
    assert snapshot.load(snap).index is None
    assert answers(snap) == (3, 1, 1)


def test_edges_with_more_relations_than_the_index_holds_exit_1_naming_the_file(tmp_path: Path) -> None:
    snap = ingested(tmp_path)
    path = snapshot.current_files(snap) / "edges.parquet"
    edges = pl.read_parquet(path)
    many = pl.concat([edges] * 67).with_columns(
        pl.format("relation-{}", pl.int_range(pl.len())).alias("relation"),
        pl.format("o/m{}", pl.int_range(pl.len())).alias("child"))  # 201 edges, 201 relation names
    many.write_parquet(path)
    for command in (["impact", "o/base"], ["stats"], ["reach"]):
        code, output = run_cli(*command, "-s", str(snap))
        assert code == 1, (command, output)
        assert f"{path}: 206 distinct relations, more than the 127 the index holds" in output
        assert "internal error" not in output


def test_saving_edges_with_more_relations_than_the_index_holds_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    many = tables([("o/base", f"o/m{i}", f"relation-{i}", "high") for i in range(130)], ["o/base"])
    with pytest.raises(SnapshotError, match=r"cannot write the snapshot \(135 distinct relations, more than the 127"):
        snapshot.save(many, tmp_path / "snap")
    assert list(tmp_path.iterdir()) == []


def test_a_format_1_snapshot_is_read_and_its_index_never_trusted(tmp_path: Path) -> None:
    snap = ingested(tmp_path)
    old = tmp_path / "old"
    shutil.copytree(snapshot.current_files(snap), old)  # every file directly in the directory, as format 1 was
    meta = json.loads((old / "meta.json").read_text())
    for key in ("index", "files"):
        del meta[key]
    (old / "meta.json").write_text(json.dumps({**meta, "format_version": 1}))
    assert snapshot.load(old).index is None
    assert answers(old) == (3, 1, 1)
    rewrite_index(old, CRAFTED["relation codes out of range"])  # its digest still matches: not trusted either
    assert answers(old) == (3, 1, 1)
    code, output = run_cli("ingest", str(tmp_path / "snap.csv"), "--out", str(old))  # replaced by format 2
    assert code == 0, output
    assert sorted(p.name for p in old.iterdir()) == ["CURRENT", "gen-1"]
    assert snapshot.load(old).index is not None and answers(old) == (3, 1, 1)
