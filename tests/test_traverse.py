"""The traversal layer: each definition on small graphs worked out by hand, and a 200,000-long chain."""

from __future__ import annotations

import random
import tracemalloc
from itertools import pairwise

import networkx as nx
import polars as pl
import pytest
from test_index import random_snapshot

from ptmgraph import snapshot
from ptmgraph.analyses.lineage import ancestry, impact
from ptmgraph.analyses.overview import stats
from ptmgraph.analyses.reach import reach_ranking
from ptmgraph.graph import LineageGraph
from ptmgraph.passes import depths_from_roots, reach_of_every_group, reach_of_every_model, reach_union
from ptmgraph.records import DANGLING_SCHEMA, EDGES_SCHEMA, EVIDENCE_SCHEMA, MODELS_SCHEMA, PROBLEMS_SCHEMA
from ptmgraph.relations import dependency
from ptmgraph.snapshot import Snapshot
from ptmgraph.traverse import is_root, paths_to_roots, roots, walk


def digraph(edges: list[tuple[str, str, str]], isolated: tuple[str, ...] = ()) -> nx.DiGraph:
    """A graph from (base, child, relation) triples."""
    graph = nx.DiGraph()
    graph.add_nodes_from(isolated)
    for base, child, relation in edges:
        graph.add_edge(base, child, relation=relation)
    return graph


# a -> b -> d, a -> c -> d (a merge diamond), d -> e (adapter), x isolated, s a self-loop, p <-> q a cycle below a
DIAMOND = digraph(
    [("a", "b", "finetune"), ("a", "c", "quantized"), ("b", "d", "merge"), ("c", "d", "merge"),
     ("d", "e", "adapter"), ("s", "s", "finetune"), ("s", "t", "adapter"), ("a", "p", "finetune"),
     ("p", "q", "finetune"), ("q", "p", "finetune")],
    isolated=("x",),
)


def test_roots_are_models_with_no_parent_other_than_themselves() -> None:
    assert roots(DIAMOND) == ["a", "s", "x"]  # x isolated, s only names itself; p and q have parents
    assert not is_root(DIAMOND, "p")


def test_reach_gives_depth_via_and_relation_path_per_model() -> None:
    down = walk(DIAMOND, ["a"])
    assert dict(down.depth) == {"b": 1, "c": 1, "p": 1, "d": 2, "q": 2, "e": 3}
    assert down.via["d"] == "b"  # both b and c are one hop nearer; b comes first in id order
    assert down.path("e") == ["a", "b", "d", "e"]
    assert down.relation_path("e") == ["finetune", "merge", "adapter"]
    assert down.source("e") == "a"
    up = walk(DIAMOND, ["e"], direction="ancestors")
    assert dict(up.depth) == {"d": 1, "b": 2, "c": 2, "a": 3}
    assert up.path("a") == ["a", "b", "d", "e"] and up.relation_path("a") == ["finetune", "merge", "adapter"]


def test_reach_follows_only_the_given_relations_and_depth() -> None:
    assert set(walk(DIAMOND, ["a"], relations=["finetune", "merge"])) == {"b", "p", "q", "d"}
    assert set(walk(DIAMOND, ["a"], max_depth=1)) == {"b", "c", "p"}
    # a source is never its own descendant, through a self-loop or a cycle
    assert set(walk(DIAMOND, ["s"])) == {"t"}
    assert set(walk(DIAMOND, ["p"])) == {"q"}


def test_runtime_only_when_every_hop_is_an_adapter() -> None:
    graph = digraph([("base", "lora", "adapter"), ("lora", "lora2", "adapter"), ("base", "ft", "finetune"),
                     ("ft", "ftlora", "adapter")])
    down = walk(graph, ["base"])
    kinds = {m: dependency([(r, False) for r in down.relation_path(m)]).value for m in down}
    assert kinds == {"lora": "runtime", "lora2": "runtime", "ft": "inherited", "ftlora": "inherited"}


def test_reach_from_several_sources_takes_the_nearest() -> None:
    down = walk(DIAMOND, ["b", "c"])
    assert dict(down.depth) == {"d": 1, "e": 2}
    assert down.source("e") == "b"


def test_depths_from_roots_leave_out_what_only_a_cycle_reaches() -> None:
    graph = digraph([("r", "m", "finetune"), ("u", "v", "finetune"), ("v", "u", "finetune")], isolated=("x",))
    assert depths_from_roots(graph) == {"r": 0, "x": 0, "m": 1}


def test_reach_of_every_model_counts_each_descendant_once() -> None:
    counts = reach_of_every_model(DIAMOND, {"b": 10, "c": 20, "d": 5, "e": 1, "p": 100, "q": None})
    # a reaches b, c, d, e, p, q: six models, once each although d and e lie on two paths
    assert counts["a"].reach == 6 and counts["a"].reach_weight == 10 + 20 + 5 + 1 + 100
    assert counts["a"].direct_dependents == 3
    assert counts["b"].reach == 2 and counts["b"].reach_weight == 6
    assert counts["d"].reach == 1 and counts["e"].reach == 0
    assert counts["s"].reach == 1 and counts["s"].direct_dependents == 1  # the self-loop is no dependent
    assert counts["p"].reach == 1 and counts["q"].reach == 1  # each other, not themselves
    assert counts["x"] == (0, 0, 0, 0)
    # heights: a -> b -> d -> e is three derivations; the p/q cycle counts as one model
    assert counts["a"].subtree_height == 3 and counts["p"].subtree_height == 0


def test_reach_of_every_model_matches_descendants_on_random_graphs() -> None:
    rng = random.Random(3)
    for _ in range(30):
        graph = nx.gnp_random_graph(40, rng.choice([0.03, 0.06, 0.1]), seed=rng.randrange(10**6), directed=True)
        graph = nx.relabel_nodes(graph, {n: f"m{n}" for n in graph})
        weights = {n: rng.randrange(100) for n in graph}
        counts = reach_of_every_model(graph, weights)
        for node, reached, weight in zip(counts.models, counts.reach, counts.reach_weight, strict=True):
            expected = nx.descendants(graph, node) - {node}
            assert reached == len(expected), node
            assert weight == sum(weights[m] for m in expected), node


def test_reach_union_counts_a_member_only_when_another_member_reaches_it() -> None:
    graph = digraph([("a", "b", "finetune"), ("b", "c", "finetune"), ("p", "q", "finetune"),
                     ("q", "p", "finetune"), ("z", "z", "finetune")])
    assert reach_union(graph, ["a", "b"]) == {"b", "c"}
    assert reach_union(graph, ["p"]) == {"q"}  # p reaches itself only through the cycle
    assert reach_union(graph, ["z"]) == set()
    assert reach_union(graph, ["p", "q"]) == {"p", "q"}


def test_reach_of_every_group_is_the_union_of_its_members_reach_on_random_graphs() -> None:
    rng = random.Random(5)
    for _ in range(30):
        graph = nx.gnp_random_graph(30, rng.choice([0.04, 0.08, 0.12]), seed=rng.randrange(10**6), directed=True)
        graph = nx.relabel_nodes(graph, {n: f"m{n}" for n in graph})
        graph.add_edges_from((n, n) for n in list(graph) if rng.random() < 0.1)  # a few self-loops
        group_of = {n: f"g{rng.randrange(6)}" for n in graph}
        weights = {n: rng.randrange(50) for n in graph}
        counts = reach_of_every_group(graph, group_of, weights)
        for g in set(group_of.values()):
            members = [n for n in graph if group_of[n] == g]
            # by hand: a model is in the union when a member other than itself reaches it
            expected = {u for m in members for u in nx.descendants(graph, m) if u != m}
            children = {c for m in members for c in graph.succ[m] if c != m}
            assert (counts[g].reach, counts[g].reach_weight) == (len(expected), sum(weights[u] for u in expected)), g
            assert counts[g].direct_dependents == len(children), g
            assert reach_union(graph, members) == expected, g


def test_paths_to_roots_in_a_diamond_and_a_cycle() -> None:
    paths, cut = paths_to_roots(DIAMOND, "e", 10)
    assert paths == [["a", "b", "d", "e"], ["a", "c", "d", "e"]] and not cut
    paths, cut = paths_to_roots(DIAMOND, "q", 10)
    assert paths == [["a", "p", "q"]] and not cut
    assert paths_to_roots(DIAMOND, "e", 1) == ([["a", "b", "d", "e"]], True)


def test_stats_and_ancestry_agree_that_an_isolated_model_is_a_root() -> None:
    graph = digraph([("r", "m", "finetune")], isolated=("x", "y"))
    lg = lineage_graph(graph)
    assert stats(lg).summary["roots"] == 3  # r, x and y
    assert ancestry(lg, "x").summary["roots"] == ["x"]


def lineage_graph(graph: nx.DiGraph) -> LineageGraph:
    """A LineageGraph over a plain graph: one model row per node, one edge row per edge."""
    models = pl.DataFrame({"id": list(graph)}, schema={"id": pl.String()})
    models = models.with_columns(
        [pl.lit(None, dtype=t).alias(c) for c, t in MODELS_SCHEMA.items() if c != "id"]
    ).select(list(MODELS_SCHEMA))
    triples = list(graph.edges(data="relation"))
    edges = pl.DataFrame(triples, schema={"base": pl.String(), "child": pl.String(), "relation": pl.String()},
                         orient="row")
    edges = edges.with_columns(
        [pl.lit(None, dtype=t).alias(c) for c, t in EDGES_SCHEMA.items() if c not in edges.columns]
    ).select(list(EDGES_SCHEMA))
    empty = {name: pl.DataFrame(schema=schema) for name, schema in
             (("evidence", EVIDENCE_SCHEMA), ("dangling", DANGLING_SCHEMA), ("problems", PROBLEMS_SCHEMA))}
    return LineageGraph(Snapshot(models=models, edges=edges, **empty))


@pytest.mark.slow
def test_a_200000_long_chain_answers_ancestry_and_impact_in_linear_memory() -> None:
    n = 200_000
    ids = [f"o/m{i}" for i in range(n)]
    graph = nx.DiGraph()
    graph.add_edges_from(((a, b, {"relation": "finetune"}) for a, b in pairwise(ids)))
    lg = lineage_graph(graph)
    del graph
    tracemalloc.start()
    try:
        up = ancestry(lg, ids[-1], max_paths=1)
        shown_up = up.output_rows(50)
        down = impact(lg, ids[0])
        shown_down = down.output_rows(50)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert up.rows.height == n - 1 and up.summary["roots"] == [ids[0]] and up.summary["max_depth"] == n - 1
    assert down.rows.height == n - 1 and down.summary["max_depth"] == n - 1
    # the 50 printed rows are the nearest; their paths have 1..50 hops, written capped at 32
    assert shown_down["relation_path"].to_list()[31] == ">".join(["finetune"] * 32)
    capped = ">".join(["finetune"] * 16 + ["…(18 more)…"] + ["finetune"] * 16)
    assert shown_down["relation_path"].to_list()[49] == capped
    assert shown_up["id"].to_list()[0] == ids[-2]
    # One relation_path string per row would take sum(9 * depth) = 9 * n**2 / 2 = 180 GB; linear memory
    # (rows, parent pointers, the cycle check's subgraph) is about 1.3 KB per model measured.
    assert peak < 2_000 * n, f"peak {peak / 2**20:.0f} MiB for a chain of {n}"


def test_whole_graph_passes_on_the_index_equal_descendants_on_random_graphs() -> None:
    rng = random.Random(11)
    for _ in range(60):
        snap = random_snapshot(rng)  # self-loops, cycles, merges, repeated edges, edge-only models
        lg = LineageGraph(snap)
        graph = lg.graph
        models = list(graph)
        weights = {n: rng.choice([None, rng.randrange(100)]) for n in models}
        group_of = {n: f"g{rng.randrange(4)}" for n in models}
        counts = reach_of_every_model(lg.compact, weights)
        assert counts == reach_of_every_model(graph, weights)
        for node, reached, weight in zip(counts.models, counts.reach, counts.reach_weight, strict=True):
            expected = nx.descendants(graph, node) - {node}
            assert reached == len(expected), node
            assert weight == sum(weights[m] or 0 for m in expected), node
        assert counts.direct_dependents == [len(set(graph.succ[n]) - {n}) for n in counts.models]
        assert reach_of_every_group(lg.compact, group_of, weights) == reach_of_every_group(graph, group_of, weights)
        assert depths_from_roots(lg.compact) == depths_from_roots(graph)
        for members in (rng.sample(models, min(3, len(models))), [m for m in models if group_of[m] == "g0"]):
            expected_union = {u for m in members for u in nx.descendants(graph, m) if u != m}
            assert reach_union(lg.compact, members) == reach_union(graph, members) == expected_union


def test_whole_graph_passes_on_the_bundled_index_equal_networkx() -> None:
    lg = LineageGraph(snapshot.load(snapshot.bundled_path()))
    counts = reach_of_every_model(lg.compact)
    assert counts == reach_of_every_model(lg.graph)
    graph = lg.graph
    for node in random.Random(2).sample(counts.models, 200):
        assert counts[node].reach == len(nx.descendants(graph, node) - {node}), node
    group_of = {n: n.split("/")[0] for n in counts.models}
    assert reach_of_every_group(lg.compact, group_of) == reach_of_every_group(graph, group_of)
    assert depths_from_roots(lg.compact) == depths_from_roots(graph)


def test_reach_ranking_does_not_build_the_networkx_graph() -> None:
    lg = LineageGraph(snapshot.load(snapshot.bundled_path()))
    reach_ranking(lg, by="author")
    assert "graph" not in lg.__dict__


def test_relation_paths_follow_each_rows_via_chain_and_output_rows_can_be_asked_twice() -> None:
    """The printed ``relation_path`` of every impact and ancestry row is the relation of each hop of the
    row's via chain, base first, read from the rows themselves (the chain's models are rows too)."""
    from ptmgraph.analyses.lineage import ancestry, impact
    from ptmgraph.graph import load_graph

    lg = load_graph()
    for result, base_first in ((impact(lg, "google/gemma-7b"), True),
                               (ancestry(lg, "AmberYifan/Gemma-7B-sft-SPIN-Gemma-2-27B"), False)):
        rows = result.output_rows()
        assert rows.equals(result.output_rows())  # asking again gives the same, the result unchanged
        hop = {r["id"]: (r["via"], r["relation"]) for r in rows.iter_rows(named=True)}
        for row in rows.iter_rows(named=True):
            chain, at = [], row["id"]
            while at in hop:
                chain.append(hop[at][1])
                at = hop[at][0]
            assert row["relation_path"] == ">".join(chain[::-1] if base_first else chain)
