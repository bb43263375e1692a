"""Index benchmark: what a cold point query costs on a snapshot, step by step, with the compact index.

Usage: python benchmarks/bench_index.py SNAPSHOT_DIR [MODEL]

Prints seconds per step: reading the tables, building the index in memory (what a snapshot without
``index.npz`` costs), reading the stored ``index.npz``, the same arrays stored as one Parquet file
instead (the format not chosen), one ``reach`` from MODEL (default: the first root) on the index, and
building the networkx graph that a query no longer needs. Results are written down in
benchmarks/RESULTS.md by hand.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

from ptmgraph import index as compact
from ptmgraph import snapshot
from ptmgraph.graph import LineageGraph
from ptmgraph.traverse import root_mask, walk


def timed(label: str, step):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    value = step()
    print(f"{label:<44} {time.perf_counter() - start:8.3f} s", flush=True)
    return value


def main() -> None:
    directory = snapshot.current_files(Path(sys.argv[1]))
    snap = timed("load tables + stored index", lambda: snapshot.load(Path(sys.argv[1])))
    built = timed("build the index in memory", lambda: compact.build(snap.models, snap.edges))
    manifest = compact.Manifest.from_meta(snap.meta.get("index"))
    if manifest is not None:
        timed("read index.npz (checked against the manifest and tables)",
              lambda: compact.read(directory / compact.INDEX_FILE, snap.models["id"], snap.edges.height, manifest))
    with tempfile.TemporaryDirectory() as tmp:
        arrays = {f"{side}_{f}": getattr(built.side(side), f)  # type: ignore[arg-type]
                  for side in ("children", "parents") for f in ("neighbour", "relation", "confidence")}
        pl.DataFrame({k: pl.Series(v) for k, v in arrays.items()}).write_parquet(Path(tmp) / "edges.parquet")
        pl.DataFrame({f"{s}_indptr": built.side(s).indptr for s in ("children", "parents")}).write_parquet(  # type: ignore[arg-type]
            Path(tmp) / "nodes.parquet")
        timed("same arrays as Parquet (not chosen)", lambda: (
            {k: v.to_numpy() for k, v in pl.read_parquet(Path(tmp) / "edges.parquet").to_dict().items()},
            pl.read_parquet(Path(tmp) / "nodes.parquet")))
        compact.write(built, Path(tmp) / "index.npz")
        timed("same arrays as npz, unchecked", lambda: dict(np.load(Path(tmp) / "index.npz", allow_pickle=False)))
    timed("digest of the tables (at save time only)", lambda: compact.fingerprint(snap.models, snap.edges))
    lg = LineageGraph(snap)
    model = sys.argv[2] if len(sys.argv) > 2 else lg.compact.name(int(np.flatnonzero(root_mask(lg.compact))[0]))
    found = timed(f"reach on the index ({model})", lambda: walk(lg.compact, [model]))
    print(f"  reached {len(found):,} models")
    timed("networkx graph (no longer built by queries)", lambda: lg.graph)


if __name__ == "__main__":
    main()
