"""The benchmark run: generate Hub-shaped data, then measure each step in its own child process.

A **step** is one command a user or script would run (``ptmgraph ingest``, a cold ``ptmgraph impact``
from the shell, ...) or a task of :mod:`benchmarks.tasks`. Where a simple alternative exists, the
step has a **baseline**, measured the same way, and the **ratio** is baseline wall time / step wall
time: above 1 the package is faster than the simple way, below 1 slower. A step whose command the
package does not have yet is listed as not available, with the reason, never left out.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from benchmarks.generate import GeneratedShape
from benchmarks.measure import Measurement, run_measured

PYTHON = sys.executable
NAIVE_REACH_SAMPLE = 100_000
"""Above ``--naive-reach-limit`` models, naive reach walks this many models and is extrapolated."""
CHANGED_EVERY = 100
"""The ``diff`` benchmark changes one generated record in this many (1%)."""
UPDATE_MODELS = 20_000
"""The ``update_1pct`` benchmark crawls at most this many of the generated models (:mod:`benchmarks.bench_update`
says why not all of them)."""


@dataclass
class Step:
    """One measured step; ``baseline`` is the simple way of doing the same, where one exists."""

    name: str
    what: str
    command: list[str]
    ok_exit_codes: tuple[int, ...] = (0,)
    baseline: Step | None = None
    note: str = ""


@dataclass
class StepResult:
    name: str
    what: str
    command: str
    status: str
    """``ok``, ``failed`` (non-zero exit or timeout: see ``error``) or ``not available`` (see ``note``)."""
    note: str = ""
    measured: dict[str, Any] | None = None
    output: dict[str, Any] | None = None
    """The last JSON line a task printed (what it computed), when it printed one."""
    baseline: StepResult | None = None
    ratio: float | None = None
    ratio_cpu: float | None = None
    """Baseline CPU time / step CPU time (not given for an extrapolated baseline)."""
    extrapolated: dict[str, Any] | None = None
    error: str = ""


@dataclass
class Report:
    models: int
    input: str
    """What was ingested: generated records (with their seed) or a named input."""
    started: str
    repeat: int
    """Runs per step (ingest and generate: 1); the median wall time is reported."""
    machine: dict[str, Any]
    generated: dict[str, Any]
    steps: list[StepResult] = field(default_factory=list)


def ptmgraph_command() -> list[str]:
    """The installed console script, as a shell user runs it (falls back to ``python -m ptmgraph``)."""
    script = Path(PYTHON).with_name("ptmgraph")
    return [str(script)] if script.exists() else [PYTHON, "-m", "ptmgraph"]


def task(*args: str) -> list[str]:
    return [PYTHON, "-m", "benchmarks.tasks", *args]


def machine() -> dict[str, Any]:
    """The machine and library versions, and the load average (other users share the CPU)."""
    cpu = ""
    memory_gib = 0.0
    try:
        cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name")), "")
        total_kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                         if line.startswith("MemTotal"))
        memory_gib = round(total_kib / 2**20, 1)
    except (OSError, StopIteration, ValueError):
        pass  # not Linux: the fields stay empty rather than guessed

    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "not installed"

    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": memory_gib,
        "system": platform.platform(),
        "python": platform.python_version(),
        "versions": {name: version(name) for name in ("ptmgraph", "polars", "networkx", "pyarrow", "scipy")},
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def has_command(name: str) -> bool:
    """Whether the installed ptmgraph has the subcommand ``name``."""
    done = subprocess.run([*ptmgraph_command(), name, "--help"], capture_output=True, check=False)
    return done.returncode == 0


def plan(data: Path, snapshot: Path, work: Path, shape: GeneratedShape, naive_reach_limit: int) -> list[Step]:
    """The steps, in order (ingest first: the others read its snapshot)."""
    cli = ptmgraph_command()
    snap = ["--snapshot", str(snapshot), "--format", "json"]
    root, leaf = shape.biggest_root, shape.deep_leaf

    def point(direction: str, model: str, label: str) -> Step:
        command = "impact" if direction == "descendants" else "ancestry"
        return Step(
            f"{command}_{label}", f"cold `ptmgraph {command}` on {model}", [*cli, command, model, *snap],
            baseline=Step("naive_point_query", f"polars + bare networkx graph, then nx.{direction}",
                          task("naive_point_query", str(snapshot), model, direction)),
        )

    if has_command("reach"):
        reach = Step("reach_all", "reach of every model (`ptmgraph reach`)", [*cli, "reach", *snap])
    else:
        reach = Step("reach_all", "reach of every model", task("reach_condensation", str(snapshot)),
                     note="equivalent: analyses.reach is not in the package yet; networkx condensation + "
                          "set unions in reverse topological order (benchmarks/tasks.py)")
    sample = [] if shape.models <= naive_reach_limit else [str(NAIVE_REACH_SAMPLE)]
    reach.baseline = Step("naive_reach", "nx.descendants once per model", task("naive_reach", str(snapshot), *sample))

    steps = [
        Step("import_polars", "cold-start floor", [PYTHON, "-c", "import polars"]),
        Step("import_polars_networkx", "cold-start floor", [PYTHON, "-c", "import polars, networkx"]),
        Step("ingest", f"`ptmgraph ingest` of {shape.models:,} records",
             [*cli, "ingest", str(data / "models.jsonl"), "--out", str(snapshot)]),
        Step("load", "snapshot -> LineageGraph", task("load", str(snapshot)),
             baseline=Step("load_bare", "polars edges -> bare nx.DiGraph", task("load_bare", str(snapshot)))),
        Step("stats", "cold `ptmgraph stats`", [*cli, "stats", *snap]),
        point("descendants", root, "biggest_root"),
        point("descendants", leaf, "deep_leaf"),
        point("ancestors", root, "biggest_root"),
        point("ancestors", leaf, "deep_leaf"),
        reach,
        Step("stale_all", "stale ancestors of every model (`ptmgraph stale`)", [*cli, "stale", *snap]),
        Step("risk_top100", "risk from the 100 most depended-on bases (`ptmgraph risk`)",
             [*cli, "risk", *[a for base in shape.top_bases[:100] for a in ("--compromised", base)], *snap],
             ok_exit_codes=(0, 1)),  # risk exits 1 when anything is affected
        Step("export_capped", "`ptmgraph export --impact` of the biggest root, 150 nodes, SVG",
             [*cli, "export", root, "--impact", "--format", "svg", "--max-nodes", "150",
              "--snapshot", str(snapshot), "--out", str(work / "export.svg")]),
        *analysis_steps(cli, snapshot, work, shape),
    ]
    if shape.seed >= 0:  # generated records: a refresh in which 1% of them changed, and the diff of the two
        changed, changed_snapshot = work / "data-changed", work / "snapshot-changed"
        steps += [
            Step("changed_copy", "copy the records, 1% changed (licence, sha, a weight file)",
                 task("change_records", str(data), str(changed), str(CHANGED_EVERY))),
            Step("ingest_changed", f"`ptmgraph ingest` of the {shape.models:,} records, 1% changed",
                 [*cli, "ingest", str(changed / "models.jsonl"), "--out", str(changed_snapshot)]),
            Step("diff_1pct", "`ptmgraph diff` of the two snapshots, watching the biggest root",
                 [*cli, "diff", str(snapshot), str(changed_snapshot), "--watch", root, "--format", "json"],
                 ok_exit_codes=(0, 1)),  # diff --watch exits 1 when a watched model changed
            Step("update_1pct", f"`crawl`, `crawl --update` and a fresh crawl of {min(shape.models, UPDATE_MODELS):,} "
                 "served models, 1% changed (benchmarks.bench_update)",
                 [PYTHON, "-m", "benchmarks.bench_update", str(data), str(work / "update"),
                  "--models", str(min(shape.models, UPDATE_MODELS)), "--every", str(CHANGED_EVERY)]),
        ]
    for step in steps:
        if step.name in ("stale_all", "risk_top100") and not has_command(step.command[len(cli)]):
            step.note = f"not available: ptmgraph has no `{step.command[len(cli)]}` command yet (issue 6)"
    return steps


def analysis_steps(cli: list[str], snapshot: Path, work: Path, shape: GeneratedShape) -> list[Step]:
    """Every whole-snapshot analysis command, and the other kinds of export, each a cold run of the command a
    user types (JSON output where the command has it): none of them may build the networkx graph (issue 18:
    at 1,000,000 models each within 10 s, ``report`` 20 s, and 3 GiB)."""
    snap = ["--snapshot", str(snapshot), "--format", "json"]
    root, leaf = shape.biggest_root, shape.deep_leaf
    return [
        Step("audit_all", "missing attributes of every model (`ptmgraph audit`)", [*cli, "audit", *snap]),
        Step("licenses_all", "licence drift over every edge (`ptmgraph licenses`)", [*cli, "licenses", *snap]),
        Step("risk_data", "risks the data shows, from every source (`ptmgraph risk --data-risks`)",
             [*cli, "risk", "--data-risks", *snap], ok_exit_codes=(0, 1)),
        Step("check_root", "`ptmgraph check` of the biggest root", [*cli, "check", root, *snap],
             ok_exit_codes=(0, 1)),  # check exits 1 when a finding is at --fail-on or above
        Step("why_leaf", "`ptmgraph why` from the deepest model to the biggest root", [*cli, "why", leaf, root, *snap],
             ok_exit_codes=(0, 1)),  # why exits 1 when there is no path
        Step("export_graphml", "`ptmgraph export --impact` of the biggest root, every model, GraphML",
             [*cli, "export", root, "--impact", "--snapshot", str(snapshot), "--out", str(work / "export.graphml")]),
        Step("export_cyclonedx", "`ptmgraph export --ancestry` of the deepest model, CycloneDX ML-BOM",
             [*cli, "export", leaf, "--ancestry", "--snapshot", str(snapshot), "--out", str(work / "bom.cdx.json")]),
        Step("report", "the ecosystem report (`ptmgraph report`): Markdown, 14 figures",
             [*cli, "report", "--snapshot", str(snapshot), "--out", str(work / "report")]),
    ]


def _last_json(path: Path) -> dict[str, Any] | None:
    with path.open("rb") as lines:
        last = b""
        for line in lines:
            last = line or last
    try:
        value = json.loads(last)
    except ValueError:
        return None
    return value if isinstance(value, dict) and "rows" not in value else None


def measure_step(step: Step, work: Path, timeout_s: float, repeat: int = 1) -> StepResult:
    result = StepResult(step.name, step.what, " ".join(step.command), "ok", step.note)
    if step.note.startswith("not available"):
        result.status = "not available"
        return result
    out = work / f"{step.name}.out"
    # On a shared machine one run can be slowed by others: with repeats, keep the median wall time.
    runs = sorted((run_measured(step.command, out, timeout_s) for _ in range(repeat)), key=lambda m: m.wall_s)
    measured: Measurement = runs[len(runs) // 2]
    result.measured = asdict(measured)
    if repeat > 1:
        result.measured["runs_wall_s"] = [m.wall_s for m in runs]
    if measured.timed_out:
        result.status, result.error = "failed", f"timed out after {timeout_s:.0f} s"
    elif measured.exit_code not in step.ok_exit_codes:
        result.status, result.error = "failed", f"exit {measured.exit_code}: {measured.stderr_tail}"
    result.output = _last_json(out)
    if step.baseline is not None:
        result.baseline = measure_step(step.baseline, work, timeout_s, repeat)
        result.baseline.extrapolated = _extrapolate(result.baseline)
        base_wall = (result.baseline.extrapolated or result.baseline.measured or {}).get("wall_s")
        if result.status == "ok" and result.baseline.status == "ok" and base_wall:
            result.ratio = round(base_wall / measured.wall_s, 2)
            base_cpu = (result.baseline.measured or {}).get("cpu_s")
            if base_cpu and not result.baseline.extrapolated:
                # Wall time on a shared machine includes waiting for the CPU; CPU time does not.
                result.ratio_cpu = round(base_cpu / measured.cpu_s, 2)
    return result


def _extrapolate(result: StepResult) -> dict[str, Any] | None:
    """Naive reach on a sample: its wall time for all models, scaled linearly in models walked."""
    output, measured = result.output, result.measured
    if result.status != "ok" or not output or not measured or "models_walked" not in output:
        return None
    if output["models_walked"] >= output["models"]:
        return None
    scale = output["models"] / output["models_walked"]
    walk = output["walk_seconds"]
    return {"wall_s": round(measured["wall_s"] + walk * (scale - 1), 1),
            "how": f"measured on {output['models_walked']:,} of {output['models']:,} models; "
                   f"walk time x {scale:.1f}, load time as measured"}


GENERATED_BY_SNAPSHOT = {"models", "edges", "roots", "max_depth", "deep_leaf", "biggest_root", "biggest_root_children"}
"""The fields of :class:`GeneratedShape` that :func:`shape_of_snapshot` finds in an ingested snapshot."""


def shape_of_snapshot(snapshot: Path) -> GeneratedShape:
    """The query targets of an ingested snapshot, found the way the generator reports them: the root
    with the most direct children, a model at the greatest depth (fewest hops from a root), and the
    100 models with the most direct children."""
    import networkx as nx
    import polars as pl

    from ptmgraph.snapshot import current_files

    files = current_files(snapshot)
    edges = pl.read_parquet(files / "edges.parquet", columns=["base", "child"])
    models = pl.read_parquet(files / "models.parquet", columns=["id"])
    graph = nx.DiGraph()
    graph.add_nodes_from(models["id"].to_list())
    graph.add_edges_from(zip(edges["base"].to_list(), edges["child"].to_list(), strict=True))
    roots = [m for m in graph if graph.in_degree(m) == 0]
    depth = nx.multi_source_dijkstra_path_length(graph, roots) if roots else {}
    deepest = max(depth, key=depth.__getitem__, default=next(iter(graph)))
    biggest = max(roots or graph, key=graph.out_degree)
    top = sorted(graph, key=graph.out_degree, reverse=True)[:100]
    return GeneratedShape(models=graph.number_of_nodes(), seed=-1, edges=graph.number_of_edges(), roots=len(roots),
                          max_depth=depth.get(deepest, 0), deep_leaf=deepest, biggest_root=biggest,
                          biggest_root_children=graph.out_degree(biggest), top_bases=top)


def run(models: int, seed: int, work: Path, timeout_s: float, naive_reach_limit: int,
        given: Path | None = None, repeat: int = 1, generated: Path | None = None, *,
        ingested: Path | None = None, only: set[str] | None = None) -> Report:
    """Generate ``models`` records into ``work`` (or take the ``given`` input, or the records that
    ``python -m benchmarks generate`` wrote into ``generated``) and measure every step (see the module
    docstring); with ``ingested``, the snapshot already made of ``generated`` (ingest is not measured);
    with ``only``, only the steps so named."""
    work.mkdir(parents=True, exist_ok=True)
    data, snapshot = given or generated or work / "data", ingested or work / "snapshot"
    if ingested is None and snapshot.exists():
        shutil.rmtree(snapshot)
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    what = f"ingest of {given}" if given else f"Hub-shaped records generated with seed {seed}"
    report = Report(models, what, started, repeat, machine(), {})
    if generated is not None:
        shape = GeneratedShape(**json.loads((generated / "shape.json").read_text()))
        report.models, report.input = shape.models, f"Hub-shaped records generated with seed {shape.seed}"
    elif given is None:
        generate = Step("generate", f"write {models:,} Hub-shaped records (benchmarks.generate)",
                        [PYTHON, "-m", "benchmarks", "generate", str(models), str(data), "--seed", str(seed)])
        report.steps.append(measure_step(generate, work, timeout_s))
        if report.steps[-1].status != "ok":
            return report
        shape = GeneratedShape(**json.loads((data / "shape.json").read_text()))
    else:
        # The query targets come from the snapshot, so ingest runs (and is measured) first.
        ingest = Step("ingest", f"`ptmgraph ingest` of {given}",
                      [*ptmgraph_command(), "ingest", str(given), "--out", str(snapshot)])
        report.steps.append(measure_step(ingest, work, timeout_s))
        if report.steps[-1].status != "ok":
            return report
        shape = shape_of_snapshot(snapshot)
        report.models = shape.models
    # Of an ingested input only the query targets are known; the generator's own counts are not.
    known = GENERATED_BY_SNAPSHOT if given is not None else set(asdict(shape)) - {"top_bases"}
    report.generated = {k: v for k, v in asdict(shape).items() if k in known}
    for step in plan(data, snapshot, work, shape, naive_reach_limit):
        if (given is not None or ingested is not None) and step.name == "ingest":
            continue
        if only is not None and step.name not in only:
            continue
        print(f"  {step.name} ...", file=sys.stderr, flush=True)
        # Ingest writes the snapshot the others read: it runs once.
        report.steps.append(measure_step(step, work, timeout_s, 1 if step.name == "ingest" else repeat))
        if step.name == "ingest" and report.steps[-1].status != "ok":
            break  # every later step reads the snapshot
    report.machine["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return report
