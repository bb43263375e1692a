"""Ingest benchmark: `ptmgraph ingest` on a Hub-records file N times the size of the real sample.

Usage: python benchmarks/bench_ingest.py [COPIES]   (default 100: about 160,000 real-shaped records)

Each copy of ../shared/data/hub-sample/models.jsonl gets its ids (and the ids its cards and tags
name) suffixed with the copy number, so the lineage is N disjoint copies of the real one. Reports
wall time and peak RSS of the ingest command (a child process), and the snapshot's size on disk.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "data" / "hub-sample" / "models.jsonl"


def rename(value: object, suffix: str) -> object:
    if isinstance(value, str) and "/" in value and " " not in value:
        return value + suffix
    if isinstance(value, list):
        return [rename(v, suffix) for v in value]
    return value


def write_copies(target: Path, copies: int) -> int:
    rows = [json.loads(line) for line in SAMPLE.open()]
    count = 0
    with target.open("w") as out:
        for copy in range(copies):
            suffix = f"-c{copy}"
            for row in rows:
                row = dict(row)
                row["id"] = row["id"] + suffix
                row["tags"] = [
                    t.rsplit(":", 1)[0] + ":" + t.rsplit(":", 1)[1] + suffix if t.startswith("base_model:") else t
                    for t in row.get("tags", [])
                ]
                card = dict(row.get("cardData") or {})
                if "base_model" in card:
                    card["base_model"] = rename(card["base_model"], suffix)
                row["cardData"] = card
                out.write(json.dumps(row) + "\n")
                count += 1
    return count


def main() -> None:
    copies = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    with tempfile.TemporaryDirectory() as tmp:
        models = Path(tmp) / "models.jsonl"
        n = write_copies(models, copies)
        print(f"{n:,} records, {models.stat().st_size / 2**20:,.0f} MiB of JSON Lines")
        start = time.perf_counter()
        cli = [sys.executable, "-m", "ptmgraph", "ingest", str(models), "--out", str(Path(tmp) / "snap")]
        subprocess.run(cli, check=True)
        seconds = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        size = sum(p.stat().st_size for p in (Path(tmp) / "snap").iterdir()) / 2**20
        print(f"ingest: {seconds:,.1f} s, peak RSS {peak:,.0f} MiB, snapshot {size:,.1f} MiB")
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "ptmgraph", "stats", "-s", str(Path(tmp) / "snap"), "-f", "json"],
                       check=True, stdout=subprocess.DEVNULL)
        print(f"stats on it: {time.perf_counter() - start:,.1f} s")


if __name__ == "__main__":
    main()
