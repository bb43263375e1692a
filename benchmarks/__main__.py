"""``python -m benchmarks``: generate Hub-shaped data, measure ptmgraph on it, print and save the results.

    python -m benchmarks run --models 100000 --json benchmarks/results/100k.json
    python -m benchmarks generate 3000000 /tmp/hub3m
    python -m benchmarks sample-copies 62 /tmp/real100k && python -m benchmarks run --input /tmp/real100k ...
    python -m benchmarks table benchmarks/results/*.json        # the Markdown table of RESULTS.md
    python -m benchmarks.derive_shape                          # the generator's parameters, from the sample
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

from benchmarks.generate import generate
from benchmarks.run import run
from benchmarks.sample_copies import write_sample_copies
from benchmarks.table import markdown_table, terminal_table


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(temporary, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    run_cmd = commands.add_parser("run", help="generate data and measure every step")
    run_cmd.add_argument("--models", type=int, default=100_000, help="models to generate (default 100,000)")
    run_cmd.add_argument("--seed", type=int, default=7)
    run_cmd.add_argument("--input", type=Path,
                         help="ingest this instead of generated records (e.g. ../shared/data/hub-sample)")
    run_cmd.add_argument("--generated", type=Path,
                         help="measure records that `generate` already wrote to this folder (skips generating)")
    run_cmd.add_argument("--json", type=Path, required=True, help="file to write the results to")
    run_cmd.add_argument("--work", type=Path, help="folder for data, snapshot and outputs (default: a temp dir)")
    run_cmd.add_argument("--snapshot", type=Path,
                         help="measure this snapshot, which `ptmgraph ingest` made of --generated (skips ingest)")
    run_cmd.add_argument("--only", metavar="STEP,...", help="measure only these steps (names as in the table)")
    run_cmd.add_argument("--timeout", type=float, default=1800, help="seconds before a step is killed")
    run_cmd.add_argument("--repeat", type=int, default=1, help="runs per step; the median wall time is kept")
    run_cmd.add_argument("--naive-reach-limit", type=int, default=1_000_000,
                         help="above this many models, naive reach is sampled and extrapolated")

    gen_cmd = commands.add_parser("generate", help="write Hub-shaped records")
    gen_cmd.add_argument("models", type=int)
    gen_cmd.add_argument("folder", type=Path)
    gen_cmd.add_argument("--seed", type=int, default=7)

    copies_cmd = commands.add_parser("sample-copies", help="write renamed copies of the real sample's records")
    copies_cmd.add_argument("copies", type=int)
    copies_cmd.add_argument("folder", type=Path)

    table_cmd = commands.add_parser("table", help="print the Markdown table of result files")
    table_cmd.add_argument("results", type=Path, nargs="+")

    args = parser.parse_args(argv)
    if args.command == "generate":
        shape = generate(args.models, args.folder, args.seed)
        print(f"wrote {shape.models:,} models, {shape.edges:,} base references to {args.folder}")
        return 0
    if args.command == "sample-copies":
        count = write_sample_copies(args.copies, args.folder)
        print(f"wrote {count:,} records to {args.folder / 'models.jsonl'}")
        return 0
    if args.command == "table":
        try:
            reports = [json.loads(path.read_text()) for path in args.results]
        except (OSError, ValueError) as error:
            print(f"error: cannot read results: {error}", file=sys.stderr)
            return 1
        print(markdown_table(sorted(reports, key=lambda r: r["models"])))
        return 0

    if args.input is not None and not args.input.exists():
        print(f"error: {args.input}: no such file or directory", file=sys.stderr)
        return 1
    if args.generated is not None and not (args.generated / "shape.json").is_file():
        print(f"error: {args.generated}: no shape.json (not written by `python -m benchmarks generate`)",
              file=sys.stderr)
        return 1
    if args.models < 10:
        parser.error("--models must be at least 10")
    if args.snapshot is not None and args.generated is None:
        parser.error("--snapshot needs --generated, the records it was ingested from")
    with tempfile.TemporaryDirectory(prefix="ptmgraph-bench-") as scratch:
        work = args.work or Path(scratch)
        report = run(args.models, args.seed, work, args.timeout, args.naive_reach_limit, args.input,
                     max(1, args.repeat), args.generated, ingested=args.snapshot,
                     only=set(args.only.split(",")) if args.only else None)
    document = asdict(report)
    _write_atomically(args.json, json.dumps(document, indent=1) + "\n")
    print(terminal_table(document))
    print(f"wrote {args.json}")
    failed = [s.name for s in report.steps if s.status == "failed"]
    if failed:
        print(f"failed steps: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
