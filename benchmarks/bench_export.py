"""Export benchmark: how big the default pictures are, and how long each format takes.

Usage: python benchmarks/bench_export.py

For every root of the bundled snapshot with at least 20 descendants, draws its impact set with the
picture defaults and reports the PNG's size in pixels (Graphviz' 96 dpi, the size a browser shows
the SVG at 100 %), then times every format on the largest impact set at its own default cap (every
model for the data formats).
"""

from __future__ import annotations

import struct
import sys
import time

from ptmgraph import load_graph
from ptmgraph.analyses.lineage import impact
from ptmgraph.formats import GRAPH_FORMATS, graph_format, lineage_subgraph
from ptmgraph.formats.subgraph import with_file_hashes


def png_size(data: bytes) -> tuple[int, int]:
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def main() -> None:
    lg = load_graph()
    png = graph_format("png")
    roots = [n for n in lg.graph if lg.graph.in_degree(n) == 0 and lg.graph.out_degree(n) > 0]
    sizes = []
    for root in roots:
        result = impact(lg, root)
        if result.rows.height < 20:
            continue
        drawn = lineage_subgraph(lg, result, direction="impact", max_nodes=png.default_max_nodes,
                                 max_per_depth=png.max_per_depth)
        width, height = png_size(png.render(drawn, title=result.title))
        sizes.append((root, result.rows.height, drawn.shown, width, height))
    print("| root | descendants | drawn | PNG width x height (px) |\n| --- | ---: | ---: | ---: |")
    for root, total, shown, width, height in sorted(sizes, key=lambda s: -s[1]):
        print(f"| {root} | {total:,} | {shown} | {width:,} x {height:,} |")

    largest = max(sizes, key=lambda s: s[1])[0]
    result = impact(lg, largest)
    print(f"\n| format ({largest}, its default cap) | models | seconds | bytes |\n| --- | ---: | ---: | ---: |")
    for name, fmt in GRAPH_FORMATS.items():
        start = time.perf_counter()
        drawn = lineage_subgraph(lg, result, direction="impact", max_nodes=fmt.default_max_nodes or sys.maxsize,
                                 max_per_depth=fmt.max_per_depth)
        if fmt.file_hashes:
            drawn = with_file_hashes(lg, drawn)
        data = fmt.render(drawn, title=result.title)
        print(f"| {name} | {drawn.shown:,} | {time.perf_counter() - start:.2f} | {len(data):,} |")

if __name__ == "__main__":
    main()
