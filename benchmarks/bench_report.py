"""Report benchmark: ``build_report`` and ``write_report`` on the bundled snapshot and on synthetic graphs.

Usage: python benchmarks/bench_report.py [N ...]   (default: 100000)

The synthetic graphs are bench_scale's Hub-shaped lineage, with licences drawn like the sample's
records (about 40% none, the rest mostly apache-2.0, llama2, mit, openrail variants, gemma, other),
so licence drift, the audit and the data risks have work to do. Prints wall and CPU seconds per
stage and peak RSS (MiB). Results are written down in benchmarks/RESULTS.md by hand.
"""

from __future__ import annotations

import random
import resource
import sys
import tempfile
from pathlib import Path

from bench_scale import synthetic_harvest, timed

from ptmgraph.analyses.report import build_report
from ptmgraph.assemble import assemble
from ptmgraph.formats.markdown import write_report
from ptmgraph.graph import LineageGraph, load_graph

LICENSES = ["apache-2.0"] * 14 + ["llama2"] * 12 + ["creativeml-openrail-m"] * 10 + ["mit"] * 9 + ["other"] * 6 + [
    "gemma", "gemma", "openrail", "cc-by-nc-4.0", "llama3.1"
]


def report_on(lg: LineageGraph) -> None:
    report = timed("build_report (all analyses)", lambda: build_report(lg))
    with tempfile.TemporaryDirectory() as tmp:
        files = timed("write_report (Markdown + figures)", lambda: write_report(report, Path(tmp) / "report"))
    print(f"  {len(files)} files; peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MiB")


def main(sizes: list[int]) -> None:
    print("bundled snapshot")
    report_on(timed("load graph", load_graph))
    for n in sizes:
        print(f"synthetic, {n:,} models")
        harvest = synthetic_harvest(n)
        rng = random.Random(11)
        for record in harvest.records:
            record.license = rng.choice(LICENSES) if rng.random() > 0.4 else None
        lg = timed("assemble + graph", lambda harvest=harvest: LineageGraph(assemble(harvest)))
        report_on(lg)


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100_000])
