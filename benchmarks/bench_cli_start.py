"""Command-line start-up: what commands import, and how long cold point queries take.

Usage: python benchmarks/bench_cli_start.py [RUNS] [SNAPSHOT ...]

1. ``python -X importtime``: the slowest top-level imports of ``--help`` and of a cold
   ``impact --format json``, and which heavy dependencies (polars, numpy, networkx, typer, pydantic,
   rich ...) each loaded at all.
2. Cold commands, each a fresh process with output to a pipe, median of RUNS (default 5) of wall and
   CPU (user + system) seconds and the largest resident set: the interpreter alone, the floor
   ``import polars`` (issue 10's target: a point query within 1.5x of it), ``--help``, ``--version``,
   and ``impact`` (JSON and tree) and ``ancestry`` on the bundled snapshot; then, for each SNAPSHOT
   given, ``impact --format json`` of its biggest root (the model with the most children, found with
   polars) and ``ancestry`` of one of that root's children.

The processes run as an installed package runs: with its bytecode cached (a source tree under
``PYTHONDONTWRITEBYTECODE`` would compile every module on every start, some 70 ms here), so each
command runs once untimed first. Prints Markdown tables for ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HEAVY = ("polars", "numpy", "networkx", "typer", "pydantic", "rich", "yaml", "huggingface_hub", "matplotlib",
         "graphviz", "cyclonedx")
PY = sys.executable
LLAMA_CHAT = "meta-llama/Llama-2-7b-chat-hf"
DEPTH3 = "AmberYifan/Gemma-7B-sft-SPIN-Gemma-2-27B"
ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"} | {"COLUMNS": "80"}


def ptmgraph(*args: str) -> list[str]:
    return [PY, "-m", "ptmgraph", *args]


BUNDLED = {
    "python -c pass": [PY, "-c", "pass"],
    "python -c 'import polars' (floor)": [PY, "-c", "import polars"],
    "ptmgraph --help": ptmgraph("--help"),
    "ptmgraph --version": ptmgraph("--version"),
    f"ptmgraph impact {LLAMA_CHAT} --format json": ptmgraph("impact", LLAMA_CHAT, "--format", "json"),
    f"ptmgraph impact {LLAMA_CHAT}": ptmgraph("impact", LLAMA_CHAT),
    f"ptmgraph ancestry {DEPTH3}": ptmgraph("ancestry", DEPTH3),
}


def import_times(argv: list[str]) -> dict[str, int]:
    """Module -> cumulative import microseconds, from ``-X importtime``."""
    done = subprocess.run([PY, "-X", "importtime", *argv[1:]], capture_output=True, text=True, check=True, env=ENV)
    times: dict[str, int] = {}
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = (part.strip() for part in line.removeprefix("import time:").split("|"))
        times[name] = int(cumulative)
    return times


def cold(argv: list[str], runs: int) -> tuple[float, float, float]:
    """Median wall and CPU seconds and the largest peak RSS (MiB) of ``runs`` fresh processes."""
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=ENV)  # bytecode
    walls, cpus, peaks = [], [], []
    for _ in range(runs):
        start = time.perf_counter()
        child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
        _, status, usage = os.wait4(child.pid, 0)
        walls.append(time.perf_counter() - start)
        if status:
            raise SystemExit(f"{' '.join(argv)}: exit status {status}")
        cpus.append(usage.ru_utime + usage.ru_stime)
        peaks.append(usage.ru_maxrss / 1024)
    return statistics.median(walls), statistics.median(cpus), max(peaks)


_BIGGEST_ROOT = """
import sys
import polars as pl
from ptmgraph.snapshot import current_files
edges = pl.read_parquet(current_files(sys.argv[1]) / "edges.parquet", columns=["base", "child"])
base = edges.group_by("base").len().sort(["len", "base"], descending=[True, False])["base"][0]
print(base)
print(edges.filter(pl.col("base") == base)["child"].min())
"""


def biggest_root(snapshot: Path) -> tuple[str, str]:
    """The model with the most children in ``snapshot`` and its first child (by id). Found in a child
    process: a peak RSS measured by ``wait4`` includes the resident set of the process that forked."""
    done = subprocess.run([PY, "-c", _BIGGEST_ROOT, str(snapshot)], capture_output=True, text=True, check=True)
    base, child = done.stdout.split()
    return base, child


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    snapshots = [Path(p) for p in sys.argv[2:]]
    for label in ("ptmgraph --help", f"ptmgraph impact {LLAMA_CHAT} --format json"):
        times = import_times(BUNDLED[label])
        loaded = [h for h in HEAVY if h in times]
        print(f"\n`{label}` under `-X importtime`: heavy modules loaded: {', '.join(loaded) or 'none'}\n")
        print("| module (top level) | cumulative ms |\n| --- | ---: |")
        top = sorted(((t, n) for n, t in times.items() if "." not in n), reverse=True)[:8]
        for cumulative, name in top:
            print(f"| {name} | {cumulative / 1000:.1f} |")
    commands = dict(BUNDLED)
    for snapshot in snapshots:
        root, child = biggest_root(snapshot)
        commands[f"{snapshot.name}: impact {root} --format json"] = ptmgraph(
            "impact", root, "--snapshot", str(snapshot), "--format", "json")
        commands[f"{snapshot.name}: ancestry {child}"] = ptmgraph("ancestry", child, "--snapshot", str(snapshot))
    print(f"\n| command (cold process, median of {runs}) | wall s | CPU s | x floor (wall) | peak MiB |")
    print("| --- | ---: | ---: | ---: | ---: |")
    floor = None
    for label, argv in commands.items():
        wall, cpu, peak = cold(argv, runs)
        floor = wall if "(floor)" in label else floor
        ratio = f"{wall / floor:.2f}" if floor else ""
        print(f"| `{label}` | {wall:.3f} | {cpu:.3f} | {ratio} | {peak:.0f} |", flush=True)


if __name__ == "__main__":
    main()
