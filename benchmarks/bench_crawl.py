"""Crawl benchmark: requests per model and wall time of `ptmgraph crawl` against the local Hub-shaped server.

Usage: python benchmarks/bench_crawl.py [ROOT] [REPEATS]
       (defaults: meta-llama/Llama-2-7b-chat-hf, 1,683 models; 3 repeats)

The server (tests/hub_server.py) serves ../shared/data/hub-sample with 1,000 models a page, as the Hub
does, from a process of its own (so that it does not share this one's interpreter lock), started afresh
for every crawl. Each row is a crawl of ROOT's descendants through the real client, repeated REPEATS
times with the rows interleaved (so a busy machine slows all of them alike); times are medians:

- fault-free, 8 workers (the default) and 1 worker;
- `--fetch-files all` (one extra request per listed adapter_config.json);
- 20 % of answers failing: 429 with `Retry-After: 0` and `RateLimit` saying none is left, 429 with no
  header, 500 / 502 / 503, at most 3 times running for one URL (seeded);
- the same share with the issue's mix: 429 with `Retry-After: 1`, and 5xx;
- a bulk listing of every model the server holds (`--limit` past the end), 1,000 a page.

Requests per model counts every HTTP request (retries included) over the models recorded; the issue's
budget is 1.05 + 1/1,000 per model for a descendants crawl, 1.1 per 1,000 models for a bulk listing.
Each faulty crawl's snapshot is compared with the fault-free one (every table, rows in canonical order).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from ptmgraph import snapshot  # noqa: E402
from ptmgraph.sources.hub_api import Limits  # noqa: E402
from ptmgraph.sources.hub_crawl import crawl  # noqa: E402

SAMPLE = HERE.parents[1] / "shared" / "data" / "hub-sample"
SERVE = """
import sys, time
sys.path.insert(0, {tests!r})
from pathlib import Path
from hub_server import HubData, HubServer
server = HubServer(HubData.from_directory(Path({sample!r})), page_size=1000).start()
faults = {faults!r}
if faults:
    server.random_faults(0.2, tuple(faults), seed={seed})
print(server.url, flush=True)
sys.stdin.read()
"""


class Server:
    """The Hub-shaped test server in a child process, 20 % of its answers failing with ``faults``."""

    def __init__(self, faults: tuple[Any, ...] | None, seed: int) -> None:
        code = SERVE.format(tests=str(HERE.parent / "tests"), sample=str(SAMPLE), faults=list(faults or ()),
                            seed=seed)
        self.proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.kill()
        self.proc.wait()


def rows(path: Path, endpoint: str) -> dict[str, list[str]]:
    """Every table, rows in canonical order, the server's URL (a new port each run) written as ENDPOINT."""
    snap = snapshot.load(path)
    return {name: sorted(repr(row).replace(endpoint, "ENDPOINT") for row in getattr(snap, name).iter_rows())
            for name in ("models", "edges", "evidence", "dangling", "problems")}


RUNS: list[tuple[str, dict[str, Any], tuple[Any, ...] | None, Limits]] = [
    ("fault-free, 8 workers (the default)", {}, None, Limits()),
    ("fault-free, 1 worker", {}, None, Limits(workers=1)),
    ("fault-free, --fetch-files all", {"fetch_files": "all"}, None, Limits()),
    ("20 % faults: 429 (Retry-After 0 / none), 5xx", {}, (429, "429-bare", 500, 502, 503), Limits()),
    ("20 % faults: 429 Retry-After 1, 5xx", {}, ("429-after-1", 500, 502, 503), Limits()),
    ("20 % faults: as above, 4 workers", {}, ("429-after-1", 500, 502, 503), Limits(workers=4)),
]


def main() -> None:
    root = sys.argv[1] if len(sys.argv) > 1 else "meta-llama/Llama-2-7b-chat-hf"
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    out = Path(tempfile.mkdtemp(prefix="bench-crawl-"))
    seconds: dict[int, list[float]] = {n: [] for n in range(len(RUNS))}
    last: dict[int, dict[str, Any]] = {}
    same: dict[int, bool] = {}
    reference: dict[str, list[str]] | None = None
    for repeat in range(repeats):
        for number, (_, options, faults, limits) in enumerate(RUNS):
            with Server(faults, seed=100 * repeat + number) as server:
                result = crawl([root], out / f"run{number}-{repeat}", endpoint=server.url, progress=False,
                               limits=limits, **options)
            got = rows(result.snapshot, server.url)
            reference = reference or got
            same[number] = same.get(number, True) and got == reference
            seconds[number].append(float(result.stats["seconds"]))
            last[number] = result.stats
    base = statistics.median(seconds[0])
    print(f"| crawl of {root} | models | requests | requests / model | seconds (median of {repeats}) | "
          "x fault-free | same snapshot |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for number, (label, options, _, _) in enumerate(RUNS):
        stats, median = last[number], statistics.median(seconds[number])
        print(f"| {label} | {stats['models']:,} | {stats['requests']:,} | {stats['requests'] / stats['models']:.3f} | "
              f"{median:.2f} | {median / base:.1f} | {'n/a' if options else 'yes' if same[number] else 'NO'} |")
    with Server(None, seed=0) as server:
        started = time.monotonic()
        bulk = crawl([], out / "bulk", endpoint=server.url, progress=False, limit=100_000, max_depth=0)
        took = time.monotonic() - started
    per_thousand = bulk.stats["requests"] / bulk.stats["models"] * 1000
    print(f"| bulk listing (limit past the end, max depth 0) | {bulk.stats['models']:,} | "
          f"{bulk.stats['requests']:,} | {per_thousand:.2f} per 1,000 | {took:.2f} | | |")
    print(json.dumps({label: seconds[n] for n, (label, *_) in enumerate(RUNS)}))


if __name__ == "__main__":
    main()
