"""Update benchmark: ``ptmgraph crawl --update`` of a crawl in which 1% of the models changed, beside the
crawl it refreshes and a fresh crawl of the changed Hub.

    python -m benchmarks.bench_update DATA WORK [--models N] [--every 100]

DATA is a folder of generated records (``python -m benchmarks generate``); their first N (default 20,000)
are the Hub of state 1. Generated records come parents first, so those N are closed under their bases; the
seeds are their roots (records that name no base), so a descendants crawl of the seeds reaches every one
of them. State 2 is the same records with one in ``--every`` changed as a refresh sees a commit
(:func:`benchmarks.tasks.changed_record`: new ``sha``, licence and weight file, a later ``lastModified``).
The tests' Hub-shaped server (``tests/hub_server.py``, 1,000 models a page, as the Hub) serves them on
127.0.0.1 from this process, its clock (``Date``) after every record's date in state 1 and a day later in
state 2; each crawl runs as its own process, measured as ``benchmarks.measure`` measures a step (wall,
CPU, peak RSS of that process alone), with ``--fetch-files never`` (the generated records have no files
to fetch). Printed (one JSON object): each run's measurement and requests, the ratios of the update to the
fresh crawl, and whether the update's tables equal the fresh crawl's, row for row.

Why not at 3M: a crawl holds its records in memory and is bounded by ``--max-models`` (100,000 by
default), and a descendants crawl sends about one request per model; serving 3M models through a Python
test server takes hours. The update's cost is what it sends (the listing of changes, the ids-only listings
of the models that have children, a request per seed) and what it rebuilds locally (the snapshot from the
kept journal): both are measured here at N, and ``diff_1pct`` measures the diff at full size.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from hub_server import HubData, HubServer  # noqa: E402

from benchmarks.measure import run_measured  # noqa: E402
from benchmarks.tasks import changed_record, is_changed  # noqa: E402

PTMGRAPH = [sys.executable, "-m", "ptmgraph"]


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _states(data: Path, models: int, every: int) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]],
                                                          datetime, list[str]]:
    first: dict[str, dict[str, Any]] = {}
    with open(data / "models.jsonl", encoding="utf-8") as source:
        for line in source:
            record = json.loads(line)
            first[record["id"]] = record
            if len(first) >= models:
                break
    latest = max(_time(r["lastModified"]) for r in first.values() if r.get("lastModified"))
    clock = latest + timedelta(days=1)
    modified = _stamp(clock + timedelta(hours=12))
    second = {model_id: changed_record(record, modified) if is_changed(number, every) else record
              for number, (model_id, record) in enumerate(first.items(), 1)}
    seeds = [model_id for model_id, record in first.items()
             if not any(str(tag).startswith("base_model:") for tag in record.get("tags") or [])]
    return first, second, clock, seeds


def _measured(name: str, command: list[str], work: Path, server: HubServer) -> dict[str, Any]:
    before = server.request_count
    measurement = run_measured(command, work / f"{name}.out", timeout_s=6 * 3600)
    if measurement.exit_code != 0:
        raise SystemExit(f"{name}: exit {measurement.exit_code}: {measurement.stderr_tail}")
    return {"wall_s": round(measurement.wall_s, 3), "cpu_s": round(measurement.cpu_s, 3),
            "peak_rss_mib": round(measurement.peak_rss_mib, 1), "requests": server.request_count - before}


def _same_tables(got: Path, want: Path) -> bool:
    from polars.testing import assert_frame_equal

    from ptmgraph import snapshot

    a, b = snapshot.load(got), snapshot.load(want)
    try:
        for name in snapshot.TABLES:
            assert_frame_equal(a.table(name), b.table(name), check_row_order=False)
    except AssertionError:
        return False
    return True


def bench(data: Path, work: Path, models: int, every: int) -> dict[str, Any]:
    first, second, clock, seeds = _states(data, models, every)
    work.mkdir(parents=True, exist_ok=True)
    seeds_file = work / "seeds.txt"
    seeds_file.write_text("".join(f"{seed}\n" for seed in seeds))
    crawl = [*PTMGRAPH, "crawl", "--no-progress", "--fetch-files", "never", "--max-models", str(2 * models)]
    seed_args = [arg for seed in seeds for arg in ("--seed", seed)]
    with HubServer(HubData(first), page_size=1000) as server:
        server.clock = clock
        os.environ.update(HF_ENDPOINT=server.url, HF_HUB_DISABLE_TELEMETRY="1", HF_HUB_DISABLE_IMPLICIT_TOKEN="1")
        os.environ.pop("HF_TOKEN", None)
        os.environ.pop("HF_HUB_OFFLINE", None)  # the server is the network here: a crawl refuses to run offline
        out: dict[str, Any] = {"models": len(first), "seeds": len(seeds),
                               "changed": sum(1 for m in first if first[m] is not second[m])}
        out["crawl"] = _measured("crawl", [*crawl, *seed_args, "--out", str(work / "crawl")], work, server)
        server.switch(HubData(second), clock + timedelta(days=1))
        out["update"] = _measured("update", [*PTMGRAPH, "crawl", "--no-progress", "--update", str(work / "crawl"),
                                             "--out", str(work / "updated")], work, server)
        out["fresh"] = _measured("fresh", [*crawl, *seed_args, "--out", str(work / "fresh")], work, server)
    out["update_share"] = {key: round(out["update"][key] / out["fresh"][key], 3) if out["fresh"][key] else None
                           for key in ("wall_s", "cpu_s", "peak_rss_mib", "requests")}
    out["equal_to_fresh"] = _same_tables(work / "updated", work / "fresh")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_update", description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("work", type=Path)
    parser.add_argument("--models", type=int, default=20_000)
    parser.add_argument("--every", type=int, default=100)
    args = parser.parse_args(argv)
    sys.stdout.write(json.dumps(bench(args.data, args.work, args.models, args.every)) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
