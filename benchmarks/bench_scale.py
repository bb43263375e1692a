"""Scale benchmark: a synthetic Hub-shaped lineage of N models through the whole pipeline.

Usage: python benchmarks/bench_scale.py [N ...]   (default: 10000 100000)

Then reach for every model on a deep 10,000-model graph, against nx.descendants per model.

The synthetic graph mimics the Hub's shape: a few hundred roots with heavy-tailed fan-out (most
models have no children, a few have thousands), each child with one card reference and one Hub tag,
2% merges with two bases, 1% dangling local paths. Prints seconds (wall and CPU) per stage and peak
RSS (MiB).
Results are written down in benchmarks/RESULTS.md by hand.
"""

from __future__ import annotations

import random
import resource
import sys
import tempfile
import time
from pathlib import Path

import networkx as nx

from ptmgraph import snapshot
from ptmgraph.analyses.lineage import ancestry, impact
from ptmgraph.analyses.overview import stats
from ptmgraph.analyses.reach import reach_ranking
from ptmgraph.assemble import assemble
from ptmgraph.graph import LineageGraph
from ptmgraph.passes import reach_of_every_model
from ptmgraph.records import EvidenceKind, Harvest, ModelRecord, Reference, Relation

RELATIONS = [Relation.FINETUNE, Relation.ADAPTER, Relation.QUANTIZED]
NAIVE_LIMIT = 100_000
"""Largest size at which the naive per-model ``nx.descendants`` baseline is run."""


def synthetic_harvest(n: int, seed: int = 7) -> Harvest:
    rng = random.Random(seed)
    ids = [f"org{i % 5000}/model-{i}" for i in range(n)]
    harvest = Harvest(sources=["synthetic"])
    roots = max(10, n // 500)
    for i, model_id in enumerate(ids):
        harvest.records.append(ModelRecord(id=model_id, downloads=rng.randint(0, 10_000), files=["model.safetensors"]))
        if i < roots:
            continue
        # Preferential attachment to earlier models: heavy-tailed fan-out, depth grows slowly.
        base = ids[int(i * rng.random() ** 3)]
        relation = rng.choice(RELATIONS)
        harvest.references.append(
            Reference(model_id, base, EvidenceKind.CARD_BASE_MODEL, "README.md:base_model", "synthetic")
        )
        harvest.references.append(
            Reference(model_id, base, EvidenceKind.HUB_TAG, f"tags:base_model:{relation}", "synthetic", relation)
        )
        if rng.random() < 0.02:
            other = ids[rng.randrange(i)]
            harvest.references.append(
                Reference(model_id, other, EvidenceKind.CARD_BASE_MODEL, "README.md:base_model[]", "synthetic")
            )
        if rng.random() < 0.01:
            harvest.references.append(
                Reference(model_id, "./output", EvidenceKind.CONFIG, "config.json:_name_or_path", "synthetic")
            )
    return harvest


def deep_graph(n: int, seed: int = 7) -> nx.DiGraph:
    """A deep lineage: each model derives from one of the three before it (depth about n / 2), 2% merges."""
    rng = random.Random(seed)
    graph = nx.DiGraph()
    graph.add_node("m0")
    for i in range(1, n):
        graph.add_edge(f"m{max(0, i - 1 - rng.randrange(3))}", f"m{i}", relation="finetune")
        if rng.random() < 0.02:
            graph.add_edge(f"m{rng.randrange(i)}", f"m{i}", relation="merge")
    return graph


def reach_versus_naive(n: int) -> None:
    """Reach of every model on :func:`deep_graph`: one condensation pass against nx.descendants per model."""
    graph = deep_graph(n)
    print(f"deep graph, N = {n:,} models")
    counts = timed("reach of every model", lambda: reach_of_every_model(graph))
    naive = timed("naive: nx.descendants per model", lambda: {m: len(nx.descendants(graph, m)) for m in graph})
    assert dict(zip(counts.models, counts.reach, strict=True)) == naive, "reach disagrees with nx.descendants"


def timed(label: str, fn):  # type: ignore[no-untyped-def]
    start, cpu = time.perf_counter(), time.process_time()
    value = fn()
    # CPU time too: on a shared machine the wall time says more about the neighbours than the code
    print(f"  {label:<34} {time.perf_counter() - start:8.2f} s  (CPU {time.process_time() - cpu:.2f} s)")
    return value


def run(n: int) -> None:
    print(f"N = {n:,} models")
    harvest = timed("synthesise harvest", lambda: synthetic_harvest(n))
    snap = timed("assemble (resolve, edges)", lambda: assemble(harvest))
    with tempfile.TemporaryDirectory() as tmp:
        timed("save snapshot (Parquet)", lambda: snapshot.save(snap, Path(tmp) / "snap"))
        loaded = timed("load snapshot", lambda: snapshot.load(Path(tmp) / "snap"))
    lg = timed("LineageGraph (compact index)", lambda: LineageGraph(loaded))
    timed("build the networkx graph (the Python API's lg.graph; no command builds it)", lambda: lg.graph)
    top = max(lg.graph, key=lg.graph.out_degree)
    leaf = max(lg.graph, key=lambda m: lg.graph.in_degree(m) + len(m) * 0)  # any model with parents
    result = timed("impact of the largest hub", lambda: impact(lg, top))
    timed("ancestry of a merged model", lambda: ancestry(lg, leaf))
    timed("stats", lambda: stats(lg))
    counts = timed("reach of every model", lambda: reach_of_every_model(lg.graph))
    timed("reach analysis (models+authors)", lambda: reach_ranking(lg))
    if n <= NAIVE_LIMIT:
        graph = lg.graph
        naive = timed("naive: nx.descendants per model", lambda: {m: len(nx.descendants(graph, m)) for m in graph})
        assert dict(zip(counts.models, counts.reach, strict=True)) == naive, "reach disagrees with nx.descendants"
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  edges {snap.edges.height:,}; blast radius of {top}: {result.summary.affected_models:,}")
    print(f"  peak RSS {peak:,.0f} MiB")


if __name__ == "__main__":
    for size in [int(a) for a in sys.argv[1:]] or [10_000, 100_000]:
        run(size)
    reach_versus_naive(10_000)
