"""Command-line start-up: what ``--help`` imports, and how long cold commands take.

Usage: python benchmarks/bench_cli_start.py [RUNS]

1. ``python -X importtime -m ptmgraph --help``: the slowest imports (cumulative microseconds), and
   whether any heavy dependency (polars, networkx, huggingface_hub, matplotlib, graphviz, cyclonedx,
   rich) was loaded at all.
2. Cold wall-clock times, each command a fresh process, median of RUNS (default 5): the interpreter
   alone, ``import polars, networkx`` (the floor of any command that reads a snapshot), ``--help``,
   ``--version``, ``ancestry`` of a depth-3 model and ``impact`` of a base at ``--depth 1``, both on
   the bundled snapshot with output to a pipe.
Prints Markdown tables for ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

HEAVY = ("polars", "networkx", "huggingface_hub", "matplotlib", "graphviz", "cyclonedx", "rich")
PY = sys.executable
COMMANDS = {
    "python -c pass": [PY, "-c", "pass"],
    "python -c 'import polars, networkx' (floor)": [PY, "-c", "import polars, networkx"],
    "ptmgraph --help": [PY, "-m", "ptmgraph", "--help"],
    "ptmgraph --version": [PY, "-m", "ptmgraph", "--version"],
    "ptmgraph ancestry AmberYifan/Gemma-7B-sft-SPIN-Gemma-2-27B": [
        PY, "-m", "ptmgraph", "ancestry", "AmberYifan/Gemma-7B-sft-SPIN-Gemma-2-27B"],
    "ptmgraph impact meta-llama/Llama-2-7b-chat-hf --depth 1": [
        PY, "-m", "ptmgraph", "impact", "meta-llama/Llama-2-7b-chat-hf", "--depth", "1"],
}


def import_times(argv: list[str]) -> dict[str, int]:
    """Module -> cumulative import microseconds, from ``-X importtime``."""
    done = subprocess.run([PY, "-X", "importtime", *argv[1:]], capture_output=True, text=True, check=True)
    times: dict[str, int] = {}
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = (part.strip() for part in line.removeprefix("import time:").split("|"))
        times[name] = int(cumulative)
    return times


def cold_seconds(argv: list[str], runs: int) -> float:
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True,
                       env={**os.environ, "COLUMNS": "80"})
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    for label in ("ptmgraph --help", "ptmgraph ancestry AmberYifan/Gemma-7B-sft-SPIN-Gemma-2-27B"):
        times = import_times(COMMANDS[label])
        loaded = [h for h in HEAVY if h in times]
        print(f"\n`{label}` under `-X importtime`: heavy modules loaded: {', '.join(loaded) or 'none'}\n")
        print("| module (top level) | cumulative ms |\n| --- | ---: |")
        top = sorted(((t, n) for n, t in times.items() if "." not in n), reverse=True)[:8]
        for cumulative, name in top:
            print(f"| {name} | {cumulative / 1000:.1f} |")
    print(f"\n| command (cold process, median of {runs}) | seconds |\n| --- | ---: |")
    for label, argv in COMMANDS.items():
        print(f"| `{label}` | {cold_seconds(argv, runs):.2f} |")


if __name__ == "__main__":
    main()
