"""Scale benchmark: a synthetic Hub-shaped lineage of N models through the whole pipeline.

Usage: python benchmarks/bench_scale.py [N ...]   (default: 10000 100000)

The synthetic graph mimics the Hub's shape: a few hundred roots with heavy-tailed fan-out (most
models have no children, a few have thousands), each child with one card reference and one Hub tag,
2% merges with two bases, 1% dangling local paths. Prints seconds per stage and peak RSS (MiB).
Results are written down in benchmarks/RESULTS.md by hand.
"""

from __future__ import annotations

import random
import resource
import sys
import tempfile
import time
from pathlib import Path

from analyses import ancestry, impact, stats
from ptmgraph import snapshot
from ptmgraph.assemble import assemble
from ptmgraph.graph import LineageGraph
from ptmgraph.records import EvidenceKind, Harvest, ModelRecord, Reference, Relation

RELATIONS = [Relation.FINETUNE, Relation.ADAPTER, Relation.QUANTIZED]


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


def timed(label: str, fn):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    value = fn()
    print(f"  {label:<28} {time.perf_counter() - start:8.2f} s")
    return value


def run(n: int) -> None:
    print(f"N = {n:,} models")
    harvest = timed("synthesise harvest", lambda: synthetic_harvest(n))
    snap = timed("assemble (resolve, edges)", lambda: assemble(harvest))
    with tempfile.TemporaryDirectory() as tmp:
        timed("save snapshot (Parquet)", lambda: snapshot.save(snap, Path(tmp) / "snap"))
        loaded = timed("load snapshot", lambda: snapshot.load(Path(tmp) / "snap"))
    lg = timed("build networkx graph", lambda: LineageGraph(loaded))
    top = max(lg.graph, key=lg.graph.out_degree)
    leaf = max(lg.graph, key=lambda m: lg.graph.in_degree(m) + len(m) * 0)  # any model with parents
    result = timed("impact of the largest hub", lambda: impact(lg, top))
    timed("ancestry of a merged model", lambda: ancestry(lg, leaf))
    timed("stats", lambda: stats(lg))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  edges {snap.edges.height:,}; blast radius of {top}: {result.summary['affected_models']:,}")
    print(f"  peak RSS {peak:,.0f} MiB")


if __name__ == "__main__":
    for size in [int(a) for a in sys.argv[1:]] or [10_000, 100_000]:
        run(size)
