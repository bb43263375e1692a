"""The whole-graph array passes (reach of every model and group, reach of a set, depths, the condensation)
give networkx's answers: on seeded random graphs with cycles, self-loops, diamonds, merges of merges and
isolated models, on any small graph Hypothesis draws, on long chains, and on the bundled snapshot."""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from itertools import pairwise
from pathlib import Path

import networkx as nx
import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_index import random_snapshot
from test_snapshot_safety import MALFORMED, _copy_bundled, run_cli

from ptmgraph import snapshot
from ptmgraph.graph import LineageGraph, load_graph, load_graph_columns
from ptmgraph.index import CompactGraph
from ptmgraph.pair_walks import reach_pairs, walk_pairs
from ptmgraph.passes import (
    condense,
    depth_array,
    group_reach_arrays,
    reach_arrays,
    reached_mask,
    weak_components,
)
from ptmgraph.traverse import compact, walk


def expected_reach(graph: nx.DiGraph, weight: dict[str, int]) -> dict[str, tuple[int, int, int]]:
    """(reach, reach weight, direct dependents) of every model, one networkx walk each."""
    answer = {}
    for node in graph:
        found = nx.descendants(graph, node) - {node}
        answer[node] = (len(found), sum(weight[m] for m in found), len(set(graph.succ[node]) - {node}))
    return answer


def expected_heights(graph: nx.DiGraph) -> dict[str, int]:
    """Each model's subtree height: the longest chain below its component in networkx's condensation."""
    condensed = nx.condensation(graph)
    height: dict[int, int] = {}
    for c in reversed(list(nx.topological_sort(condensed))):
        height[c] = max((height[d] + 1 for d in condensed.succ[c]), default=0)
    mapping = condensed.graph["mapping"]
    return {n: height[mapping[n]] for n in graph}


def check_against_networkx(graph: nx.DiGraph, rng: random.Random) -> None:
    index = compact(graph)
    names = index.ids.to_list()
    weight = {n: rng.randrange(-5, 1000) for n in names}
    condensed = condense(index)
    # components: two models share a representative exactly when networkx puts them in one component
    by_component: dict[int, set[str]] = {}
    for name, c in zip(names, condensed.component.tolist(), strict=True):
        by_component.setdefault(c, set()).add(name)
    assert sorted(map(sorted, by_component.values())) == sorted(map(sorted, nx.strongly_connected_components(graph)))
    counts = reach_arrays(index, np.array([weight[n] for n in names]), condensed)
    expected = expected_reach(graph, weight)
    heights = expected_heights(graph)
    for i, name in enumerate(names):
        got = (int(counts.reach[i]), int(counts.reach_weight[i]), int(counts.direct_dependents[i]))
        assert got == expected[name], name
        assert counts.subtree_height[i] == heights[name], name
    # groups: the union of the members' reach, each model once
    group_names = [f"g{rng.randrange(4)}" for _ in names]
    number = {g: i for i, g in enumerate(sorted(set(group_names)))}
    group = np.array([number[g] for g in group_names], dtype=np.int64)
    by_group = group_reach_arrays(index, group, len(number), np.array([weight[n] for n in names]), condensed)
    for g, k in number.items():
        members = [n for n, h in zip(names, group_names, strict=True) if h == g]
        union = {u for m in members for u in nx.descendants(graph, m) if u != m}
        children = {c for m in members for c in graph.succ[m] if c != m}
        assert by_group.reach[k] == len(union), g
        assert by_group.reach_weight[k] == sum(weight[u] for u in union), g
        assert by_group.direct_dependents[k] == len(children), g
        mask = reached_mask(index, index.positions_of(members), condensed)
        assert set(index.names(np.flatnonzero(mask))) == union, g
    # depths from the roots: networkx's shortest paths from the nearest root
    roots = [n for n in graph if set(graph.pred[n]) <= {n}]
    nearest = nx.multi_source_dijkstra_path_length(graph, roots) if roots else {}
    depth = depth_array(index)
    assert {n: int(d) for n, d in zip(names, depth.tolist(), strict=True) if d >= 0} == nearest
    # weakly connected components, each named by its smallest position
    label = weak_components(index)
    for members in nx.weakly_connected_components(graph):
        at = sorted(names.index(m) for m in members)
        assert set(label[at].tolist()) == {at[0]}, members


def random_graph(rng: random.Random) -> nx.DiGraph:
    """Up to 60 models: a random forest of derivations, then merges (some of merges), back edges
    (cycles), self-loops and isolated models."""
    n = rng.randrange(1, 60)
    graph = nx.DiGraph()
    graph.add_nodes_from(f"m{i}" for i in range(n))
    for i in range(1, n):
        if rng.random() < 0.8:
            graph.add_edge(f"m{rng.randrange(i)}", f"m{i}")
    for _ in range(rng.randrange(0, n)):  # merges: a second (third ...) earlier base
        i = rng.randrange(n)
        if i:
            graph.add_edge(f"m{rng.randrange(i)}", f"m{i}")
    for _ in range(rng.randrange(0, 4)):  # cycles
        a, b = rng.randrange(n), rng.randrange(n)
        graph.add_edge(f"m{max(a, b)}", f"m{min(a, b)}")
    for _ in range(rng.randrange(0, 3)):
        i = rng.randrange(n)
        graph.add_edge(f"m{i}", f"m{i}")
    names = list(graph)
    rng.shuffle(names)  # positions in no particular order
    shuffled = nx.DiGraph()
    shuffled.add_nodes_from(names)
    shuffled.add_edges_from(graph.edges())
    return shuffled


@pytest.mark.slow
def test_whole_graph_passes_equal_networkx_on_seeded_random_graphs() -> None:
    rng = random.Random(20)
    for _ in range(300):
        check_against_networkx(random_graph(rng), rng)


def test_whole_graph_passes_on_dense_random_graphs_with_many_cycles() -> None:
    rng = random.Random(21)
    for _ in range(60):
        graph = nx.gnp_random_graph(rng.randrange(1, 30), rng.choice([0.05, 0.1, 0.2]), seed=rng.randrange(10**6),
                                    directed=True)
        graph = nx.relabel_nodes(graph, {n: f"m{n}" for n in graph})
        graph.add_edges_from((n, n) for n in list(graph) if rng.random() < 0.1)
        check_against_networkx(graph, rng)


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 25).flatmap(lambda n: st.tuples(
    st.just(n), st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=3 * n))))
def test_whole_graph_passes_equal_networkx_on_any_small_graph(drawn: tuple[int, list[tuple[int, int]]]) -> None:
    n, edges = drawn
    graph = nx.DiGraph()
    graph.add_nodes_from(f"m{i}" for i in range(n))
    graph.add_edges_from((f"m{a}", f"m{b}") for a, b in edges)
    check_against_networkx(graph, random.Random(n))


def test_a_long_chain_above_merges_and_a_long_cycle() -> None:
    # a 3,000-long chain whose last model feeds a diamond, and a 2,000-model cycle hanging below it
    chain = [f"c{i}" for i in range(3000)]
    loop = [f"l{i}" for i in range(2000)]
    graph = nx.DiGraph(list(pairwise(chain)) + list(pairwise(loop)) + [(loop[-1], loop[0])])
    graph.add_edges_from([(chain[-1], "x"), (chain[-1], "y"), ("x", "z"), ("y", "z"), ("z", loop[0])])
    index = compact(graph)
    counts = reach_arrays(index)
    reach = dict(zip(index.ids.to_list(), counts.reach.tolist(), strict=True))
    height = dict(zip(index.ids.to_list(), counts.subtree_height.tolist(), strict=True))
    assert reach["c0"] == 2999 + 3 + 2000  # the chain, x, y, z and every cycle member, each once
    assert reach["z"] == 2000 and reach["l5"] == 1999
    assert height["c0"] == 2999 + 3  # c0 .. c2999, x, z, the cycle (one model)
    assert depth_array(index).max() == 3000 + 2 + 1999


def test_reach_of_every_model_on_the_bundled_snapshot_equals_networkx() -> None:
    lg = LineageGraph(snapshot.load(snapshot.bundled_path()))
    index: CompactGraph = lg.compact
    downloads = lg.snapshot.models["downloads"].fill_null(0).to_numpy()
    weight = np.concatenate([downloads, np.zeros(index.nodes - index.rows, dtype=np.int64)])
    counts = reach_arrays(index, weight)
    graph = lg.graph
    position = {n: i for i, n in enumerate(index.ids.to_list())}
    for node in graph:
        found = nx.descendants(graph, node) - {node}
        assert counts.reach[position[node]] == len(found), node
        assert counts.reach_weight[position[node]] == sum(int(weight[position[m]]) for m in found), node


# --- the reach command reads a few columns, and says the same as the whole read ----------------------


def test_reach_on_a_few_columns_equals_reach_on_the_whole_snapshot(tmp_path: Path) -> None:
    from ptmgraph.analyses.reach import reach_ranking

    whole = load_graph(snapshot.bundled_path())
    few = load_graph_columns(None, {"models": ["author", "downloads"]})
    assert few.snapshot.models.columns == ["id", "author", "downloads"] and few.snapshot.evidence.height == 0
    for by in ("model", "author"):
        expected, got = reach_ranking(whole, by=by, top=0), reach_ranking(few, by=by, top=0)  # type: ignore[arg-type]
        assert got.rows.equals(expected.rows) and got.summary == expected.summary
        assert got.tables["fan_out"].equals(expected.tables["fan_out"])
    # without its index file the snapshot is read whole, and the answer is the same
    copy = _copy_bundled(tmp_path)
    (snapshot.current_files(copy) / "index.npz").unlink()
    assert reach_ranking(load_graph_columns(copy, {"models": ["author", "downloads"]}), top=0).rows.equals(
        reach_ranking(whole, top=0).rows)


WHOLE_GRAPH_COMMANDS = [["reach"], ["reach", "--by", "author"], ["stats"], ["stats", "--min-confidence", "high"],
                        ["stale"], ["risk", "--data-risks"], ["risk", "-c", "meta-llama/Llama-2-7b-chat-hf"]]


@pytest.mark.parametrize("command", WHOLE_GRAPH_COMMANDS, ids=" ".join)
def test_whole_graph_commands_reading_a_few_columns_say_what_they_said_reading_everything(
        command: list[str], tmp_path: Path) -> None:
    copy = _copy_bundled(tmp_path)
    (snapshot.current_files(copy) / "index.npz").unlink()  # no index: read whole (the answer load_graph gives)
    code, output = run_cli(*command, "--format", "json", "--limit", "0")
    whole_code, whole_output = run_cli(*command, "--snapshot", str(copy), "--format", "json", "--limit", "0")
    assert (code, _without_origin(output)) == (whole_code, _without_origin(whole_output))


def _without_origin(output: str) -> str:
    """A JSON answer without where its snapshot lies and when it was written (the copy is another file)."""
    document = json.loads(output)
    for key in ("snapshot", "written_at"):
        document["provenance"].pop(key)
    return json.dumps(document)


@pytest.mark.parametrize("command", WHOLE_GRAPH_COMMANDS, ids=" ".join)
@pytest.mark.parametrize(("case", "damage", "file", "message"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_whole_graph_commands_on_a_malformed_snapshot_exit_1_naming_the_file(
    tmp_path: Path, command: list[str], case: str, damage: Callable[[Path], None], file: str, message: str
) -> None:
    snap = _copy_bundled(tmp_path)
    damage(snapshot.current_files(snap))
    code, output = run_cli(*command, "--snapshot", str(snap))
    assert code == 1, (case, output)
    assert file in output and message in output, output


def networkx_stats(graph: nx.DiGraph, top: int) -> tuple[dict[str, int], list[tuple[str, str, int]]]:
    """The graph part of ``stats``, by networkx (the implementation ``stats`` had before the index)."""
    roots = [n for n in graph if set(graph.pred[n]) <= {n}]
    generation = nx.multi_source_dijkstra_path_length(graph, roots) if roots else {}
    components = sorted(nx.weakly_connected_components(graph), key=len, reverse=True)
    summary = {
        "models": graph.number_of_nodes(), "edges": graph.number_of_edges(), "roots": len(roots),
        "isolated_models": sum(1 for n in graph if graph.degree(n) == 0),
        "max_generation": max(generation.values(), default=0),
        "components": sum(1 for c in components if len(c) > 1), "self_loops": nx.number_of_selfloops(graph),
        "cycles": sum(1 for c in nx.strongly_connected_components(graph) if len(c) > 1),
        "models_with_several_parents": sum(1 for n in graph if graph.in_degree(n) > 1),
    }
    rows = [("models_by_generation", str(g), n) for g, n in sorted(Counter(generation.values()).items())]
    rows += [("largest_components", max(sorted(c), key=graph.out_degree), len(c)) for c in components[:top]
             if len(c) > 1]
    reach = {r: len(nx.descendants(graph, r)) for r in roots if graph.out_degree(r)}
    rows += [("top_roots_by_descendants", r, reach[r]) for r in sorted(reach, key=lambda r: (-reach[r], r))[:top]]
    return summary, rows


def test_stats_equal_networkx_on_random_snapshots() -> None:
    from ptmgraph.analyses.overview import stats

    rng = random.Random(30)
    for _ in range(80):
        lg = LineageGraph(random_snapshot(rng))  # self-loops, cycles, merges, repeated edges, edge-only models
        top = rng.choice([1, 3, 10])
        result = stats(lg, top=top)
        summary, rows = networkx_stats(lg.graph, top)
        assert {k: result.summary[k] for k in summary} == summary
        graph_sections = ("models_by_generation", "largest_components", "top_roots_by_descendants")
        assert [r for r in result.rows.iter_rows() if r[0] in graph_sections] == rows


def test_stats_and_info_do_not_build_the_networkx_graph() -> None:
    from ptmgraph.analyses.overview import model_info, stats

    lg = LineageGraph(snapshot.load(snapshot.bundled_path()))
    stats(lg)
    model_info(lg, "google/gemma-7b")
    assert "graph" not in lg.__dict__


def stale_snapshot(rng: random.Random) -> LineageGraph:
    """A random snapshot (cycles, self-loops, merges, edge-only models) whose models carry random dates,
    access classes and newer versions, file listings with dated files, and make references that dangle."""
    from datetime import datetime, timedelta, timezone

    snap = random_snapshot(rng)
    n = snap.models.height
    start = datetime(2023, 1, 1, tzinfo=timezone.utc)

    def some_days() -> list[datetime | None]:
        return [rng.choice([None, start + timedelta(days=rng.randrange(400), seconds=rng.randrange(86400))])
                for _ in range(n)]

    ids = snap.models["id"].to_list()
    models = snap.models.with_columns(
        pl.Series("created_at", some_days(), dtype=pl.Datetime("us", "UTC")),
        pl.Series("last_modified", some_days(), dtype=pl.Datetime("us", "UTC")),
        pl.Series("gated", [rng.choice([None, "false", "auto", "manual"]) for _ in range(n)], dtype=pl.String()),
        pl.Series("disabled", [rng.choice([None, False, True]) for _ in range(n)], dtype=pl.Boolean()),
        pl.Series("new_version", [rng.choice([None, "", "o/newer", *ids[:1]]) for _ in range(n)], dtype=pl.String()),
        pl.Series("access", [rng.choice([None, "public", "gated_auto", "gated_manual", "disabled", "not_found"])
                             for _ in range(n)], dtype=pl.String()),
    )
    # file listings of some models: files of each part, some undated
    files = pl.DataFrame([(m, f"f{i}", rng.choice(["weights", "config", "tokenizer", "code", "other"]),
                           rng.choice([None, *some_days()[:3]]))
                          for m in rng.sample(ids, rng.randrange(len(ids) + 1)) for i in range(rng.randrange(4))],
                         schema={"model": pl.String(), "path": pl.String(), "part": pl.String(),
                                 "last_commit_date": pl.Datetime("us", "UTC")}, orient="row")
    everyone = sorted(set(ids) | set(snap.edges["base"]) | set(snap.edges["child"]))
    # one reason per reference, so two models naming it at one depth give one row (no tie to break)
    reasons = [rng.choice(["not_found", "gated", "disabled", "local_path"]) for _ in range(rng.randrange(4))]
    dangling = pl.DataFrame([(rng.choice(everyone), f"gone/{r}", "base_model", "base_model", "card", r)
                             for r in reasons], schema=snap.dangling.schema, orient="row")
    return LineageGraph(replace(snap, models=models, dangling=dangling,
                                files=pl.concat([snap.files.head(0), files], how="diagonal_relaxed")))


@pytest.mark.slow
def test_stale_ancestors_of_every_model_are_the_rows_of_each_model_on_random_snapshots() -> None:
    from ptmgraph.analyses.staleness import stale_ancestors

    rng = random.Random(40)
    for _ in range(60):
        lg = stale_snapshot(rng)
        whole = stale_ancestors(lg).rows
        for model in lg.compact.ids.to_list():
            one = stale_ancestors(lg, model).rows  # walks up from the one model
            key = ["ancestor", "reason", "depth", "detail"]
            assert whole.filter(pl.col("id") == model).sort(key).equals(one.sort(key)), model


def test_walks_from_many_sources_at_once_equal_each_source_alone_on_random_snapshots() -> None:
    rng = random.Random(50)
    for _ in range(100):
        lg = LineageGraph(random_snapshot(rng))
        index = lg.compact
        relations = rng.choice([None, ["adapter"], ["finetune", "merge"]])
        sources = np.array(rng.sample(range(index.nodes), rng.randrange(1, index.nodes + 1)))
        pairs = walk_pairs(index, sources, relations)
        for source in sorted(set(sources.tolist())):
            alone = walk(lg.graph, [index.name(source)], relations=relations)  # networkx, one source
            mine = np.flatnonzero(pairs.source == source)
            assert index.names(pairs.model[mine]) == list(alone)
            assert pairs.depth[mine].tolist() == [alone.depth[m] for m in alone]
            assert index.names(pairs.via[mine]) == [alone.via[m] for m in alone]
            assert [index.relation_of(c) for c in pairs.relation[mine].tolist()] == [alone.relation[m] for m in alone]
            paths = pairs.relation_codes(mine)
            assert [[index.relation_of(c) for c in p] for p in paths] == [alone.relation_path(m) for m in alone]
        assert pairs.find(np.array([sources[0]]), np.array([sources[0]])).tolist() == [-1]


def test_reach_from_many_sources_at_once_is_networkx_reach_of_each_source_on_random_snapshots() -> None:
    rng = random.Random(51)
    for _ in range(100):
        lg = LineageGraph(random_snapshot(rng))
        index, graph = lg.compact, lg.graph
        sources = np.array(rng.sample(range(index.nodes), rng.randrange(1, index.nodes + 1)))
        source, model, depth = reach_pairs(index, sources)
        found = Counter(zip(index.names(source), index.names(model), depth.tolist(), strict=True))
        expected = Counter((index.name(s), m, d) for s in set(sources.tolist())
                           for m, d in nx.single_source_shortest_path_length(graph, index.name(s)).items()
                           if m != index.name(s))  # a model is never in its own reach, even on a cycle
        assert found == expected


def test_walks_whose_first_hop_is_given_are_networkx_walks_after_that_hop_on_random_snapshots() -> None:
    rng = random.Random(52)
    for _ in range(100):
        lg = LineageGraph(random_snapshot(rng))
        index, graph = lg.compact, lg.graph
        edges = [(b, c) for b, c in graph.edges if b != c]
        firsts = rng.sample(edges, rng.randrange(0, len(edges) + 1))
        sources = np.array(rng.sample(range(index.nodes), rng.randrange(1, index.nodes + 1)))
        offsets = np.array([index.edge_offset(index.position(b), index.position(c)) for b, c in firsts], dtype=np.int64)
        pairs = walk_pairs(index, sources, ["adapter"], first_hops=offsets)
        adapters = graph.edge_subgraph([(b, c) for b, c, r in graph.edges(data="relation") if r == "adapter"])
        for at in set(sources.tolist()):
            source = index.name(at)
            depth: dict[str, int] = {}
            for _, child in sorted(e for e in firsts if e[0] == source):
                depth.setdefault(child, 1)
            after = adapters.subgraph(set(adapters) - {source})  # a walk never passes its source again
            for child in list(depth):
                if child in after:
                    for model, hops in nx.single_source_shortest_path_length(after, child).items():
                        depth[model] = min(depth.get(model, hops + 1), hops + 1)
            mine = np.flatnonzero(pairs.source == at)
            assert dict(zip(index.names(pairs.model[mine]), pairs.depth[mine].tolist(), strict=True)) == depth


def test_stale_risk_and_check_do_not_build_the_networkx_graph() -> None:
    from ptmgraph.analyses.check import check
    from ptmgraph.analyses.risk import risk
    from ptmgraph.analyses.staleness import stale_ancestors

    lg = LineageGraph(snapshot.load(snapshot.bundled_path()))
    stale_ancestors(lg)
    stale_ancestors(lg, "TheBloke/Llama-2-7B-Chat-GGML")
    risk(lg, ["meta-llama/Llama-2-7b-chat-hf"], data_risks=["pickle_only", "no_license", "license_conflict"])
    check(lg, ["TheBloke/Llama-2-7B-Chat-GGML"], compromised=["meta-llama/Llama-2-7b-chat-hf"])
    assert "graph" not in lg.__dict__


def networkx_risk_rows(lg: LineageGraph) -> set[tuple[object, ...]]:
    """risk's rows with every data risk, by the per-source networkx walks risk made before the index."""
    from ptmgraph.analyses.licenses import classify_license_pair
    from ptmgraph.analyses.risk import is_pickle_only

    graph = lg.graph
    sources = []
    for model, attrs in graph.nodes(data=True):
        if is_pickle_only(attrs.get("weight_formats")):
            sources.append((model, "pickle_only"))
        if attrs.get("has_record") and not attrs.get("license"):
            sources.append((model, "no_license"))
        if attrs.get("license") and any(
                base != model and classify_license_pair(graph.nodes[base].get("license"), attrs["license"])
                == "likely_violation" for base in graph.pred[model]):
            sources.append((model, "license_conflict"))
    rows = set()
    for source, kind in sources:
        every = walk(graph, [source])
        runtime = walk(graph, [source], relations=["adapter"])
        for model in every:
            found, dependency = (runtime, "runtime") if model in runtime else (every, "inherited")
            rows.add((model, source, kind, found.depth[model], found.via[model], found.relation[model], dependency,
                      ">".join(str(r) for r in found.relation_path(model))))
    return rows


def test_risk_of_every_data_risk_equals_networkx_walks_on_random_snapshots() -> None:
    from ptmgraph.analyses.risk import risk

    rng = random.Random(60)
    licenses = [None, "", "mit", "apache-2.0", "cc-by-nc-4.0", "llama2", "gpl-3.0", "other"]
    formats = [None, [], ["pickle"], ["pickle", "safetensors"], ["gguf"], ["pickle", "pickle"]]
    for _ in range(40):
        snap = random_snapshot(rng)
        n = snap.models.height
        models = snap.models.with_columns(
            pl.Series("license", [rng.choice(licenses) for _ in range(n)], dtype=pl.String()),
            pl.Series("weight_formats", [rng.choice(formats) for _ in range(n)], dtype=pl.List(pl.String())),
            pl.Series("has_record", [rng.random() < 0.8 for _ in range(n)], dtype=pl.Boolean()),
        )
        lg = LineageGraph(replace(snap, models=models))
        result = risk(lg, data_risks=["pickle_only", "no_license", "license_conflict"])
        shown = result.output_rows(0)
        got = {tuple(r) for r in shown.select("id", "source", "risk", "depth", "via", "relation", "dependency",
                                              "relation_path").iter_rows()}
        assert got == networkx_risk_rows(lg)


def test_drawing_a_models_lineage_does_not_build_the_networkx_graph() -> None:
    from ptmgraph.analyses.lineage import ancestry, impact
    from ptmgraph.formats.subgraph import combine, lineage_subgraph

    lg = LineageGraph(snapshot.load(snapshot.bundled_path()))
    model = "TheBloke/Llama-2-7B-Chat-GGML"
    up = lineage_subgraph(lg, ancestry(lg, model), direction="ancestry", max_nodes=5)
    down = lineage_subgraph(lg, impact(lg, "meta-llama/Llama-2-7b-chat-hf"), direction="impact", max_nodes=5)
    assert up.nodes and down.nodes and "graph" not in lg.__dict__
    # and the drawn edges and attributes are networkx's
    graph = lg.graph
    for drawn in (up, down):
        models = {n.id for n in drawn.nodes if n.kind != "more"}
        assert {(e.tail, e.head) for e in drawn.edges if e.relation is not None} == set(graph.subgraph(models).edges)
        for edge in drawn.edges:
            if edge.relation is not None:
                assert edge.attributes == graph.edges[edge.tail, edge.head]
        for node in drawn.nodes:
            if node.kind != "more":
                assert node.attributes == graph.nodes[node.id]
    assert combine(lineage_subgraph(lg, ancestry(lg, model), direction="ancestry"),
                   lineage_subgraph(lg, impact(lg, model), direction="impact")).focus == model


def networkx_snapshot_order(lg: LineageGraph, wanted: set[str] | None) -> tuple[list[str], list[tuple[str, str]]]:
    """The whole-snapshot drawing's model order and its edges in order, as the networkx graph gave them."""
    graph = lg.graph
    followed = [(b, c) for b, c, d in graph.edges(data=True) if wanted is None or d.get("relation") in wanted]
    candidates = set(graph.nodes) if wanted is None else {m for e in followed for m in e}

    def key(ids: tuple[str, ...]) -> tuple[bool, int, tuple[str, ...]]:
        known = [graph.nodes[m].get("downloads") for m in ids if graph.nodes[m].get("downloads") is not None]
        return (not known, -max(known, default=0), ids)

    order: list[str] = []
    for edge in sorted(followed, key=key):
        order += [m for m in dict.fromkeys(edge) if m not in order]
    order += sorted(candidates - set(order), key=lambda m: key((m,)))
    return order, followed


def test_the_whole_snapshot_drawing_equals_networkx_on_random_snapshots() -> None:
    from ptmgraph.formats.subgraph import snapshot_subgraph

    rng = random.Random(70)
    for _ in range(60):
        snap = random_snapshot(rng)
        downloads = [rng.choice([None, 0, 5, 50, 500]) for _ in range(snap.models.height)]
        lg = LineageGraph(replace(snap, models=snap.models.with_columns(pl.Series("downloads", downloads,
                                                                                   dtype=pl.Int64()))))
        wanted = rng.choice([None, {"adapter"}, {"finetune", "merge"}])
        cap = rng.choice([0, 3, 10, 1000])
        drawn = snapshot_subgraph(lg, max_nodes=cap, relations=wanted)
        order, followed = networkx_snapshot_order(lg, wanted)
        kept = order[:cap]
        assert [n.id for n in drawn.nodes if n.kind == "model"] == kept
        assert [(e.tail, e.head) for e in drawn.edges] == [(b, c) for b, c in followed if b in kept and c in kept]
        for edge in drawn.edges:
            assert edge.attributes == lg.graph.edges[edge.tail, edge.head]
        hidden = [n for n in drawn.nodes if n.kind == "more"]
        assert [h.hidden_ids for h in hidden] == ([tuple(order[cap:])] if order[cap:] else [])
