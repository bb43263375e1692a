"""Graphs real metadata produces that a tree walker would choke on: cycles, self-loops, merges."""

from __future__ import annotations

from pathlib import Path

from ptmgraph import snapshot
from ptmgraph.analyses.lineage import ancestry, impact
from ptmgraph.analyses.overview import stats
from ptmgraph.assemble import assemble
from ptmgraph.graph import LineageGraph
from ptmgraph.records import EvidenceKind, Harvest, ModelRecord, Reference


def graph_of(pairs: list[tuple[str, str]]) -> LineageGraph:
    """A graph from (child, base) card references."""
    ids = sorted({x for pair in pairs for x in pair})
    refs = [Reference(c, b, EvidenceKind.CARD_BASE_MODEL, "README.md:base_model", "test") for c, b in pairs]
    return LineageGraph(assemble(Harvest(records=[ModelRecord(id=i) for i in ids], references=refs)))


def test_a_cycle_is_walked_once_and_reported() -> None:
    lg = graph_of([("o/b", "o/a"), ("o/c", "o/b"), ("o/a", "o/c"), ("o/d", "o/c"), ("o/e", "o/e")])
    up = ancestry(lg, "o/d")
    assert set(up.rows["id"]) == {"o/a", "o/b", "o/c"}
    assert up.summary["ancestors_in_cycles"] == ["o/a", "o/b", "o/c"]
    down = impact(lg, "o/a")
    assert set(down.rows["id"]) == {"o/b", "o/c", "o/d"}
    overview = stats(lg).summary
    assert overview["cycles"] == 1 and overview["self_loops"] == 1


def test_a_merge_has_one_path_per_parent_and_both_roots() -> None:
    lg = graph_of([("o/merged", "o/left"), ("o/merged", "o/right"), ("o/left", "o/root")])
    up = ancestry(lg, "o/merged")
    assert up.summary["roots"] == ["o/right", "o/root"]
    assert sorted(p["path"][0] for p in up.tables["paths"].iter_rows(named=True)) == ["o/right", "o/root"]
    assert lg.edge("o/left", "o/merged")["relation"] == "merge"


def test_a_snapshot_survives_a_round_trip_and_replaces_the_old_one(tmp_path: Path) -> None:
    lg = graph_of([("o/b", "o/a")])
    target = tmp_path / "snap"
    snapshot.save(lg.snapshot, target)
    snapshot.save(graph_of([("o/c", "o/a"), ("o/d", "o/c")]).snapshot, target)
    again = snapshot.load(target)
    assert again.edges.height == 2
    assert [p.name for p in tmp_path.iterdir()] == ["snap"]  # no temporary directories left behind


def test_an_ancestry_with_many_paths_is_capped_and_says_so() -> None:
    pairs = []
    for layer in range(6):  # 2**6 paths through a ladder of diamonds
        pairs += [(f"o/l{layer}a", f"o/m{layer}"), (f"o/l{layer}b", f"o/m{layer}"),
                  (f"o/m{layer + 1}", f"o/l{layer}a"), (f"o/m{layer + 1}", f"o/l{layer}b")]
    lg = graph_of(pairs)
    up = ancestry(lg, "o/m6", max_paths=10)
    assert up.summary["paths"] == 10 and up.summary["paths_truncated"] is True
    assert up.summary["roots"] == ["o/m0"]
