"""Step bodies that run inside one measured child process: ``python -m benchmarks.tasks TASK SNAPSHOT ...``.

Each task prints one JSON object on standard output (what it computed, so a run can be checked, plus
its own timings where the runner needs them for an extrapolation).

- ``load``: what every ptmgraph point query does first: read the snapshot and its compact index into a
  :class:`LineageGraph` (no command builds the networkx graph: only the Python API's ``lg.graph`` does).
- ``load_bare``: the simple alternative: read the two edge columns with polars, build a bare DiGraph.
- ``naive_point_query MODEL descendants|ancestors``: load the whole graph bare, then one networkx
  traversal, and print the ids, as a short script a user might write.
- ``reach_condensation``: the number of transitive dependents ("reach", each counted once) of every
  model, over the condensation (strongly connected components) in reverse topological order. Used
  when the package has no ``reach`` analysis yet, and marked so.
- ``naive_reach [SAMPLE]``: reach by ``networkx.descendants`` once per model; with SAMPLE, only on
  that many randomly chosen models, reporting seconds per model for an extrapolation.
- ``change_records DATA OUT EVERY``: a copy of ``DATA/models.jsonl`` in ``OUT`` in which one record in
  EVERY (100: 1%) changed as a refresh would see it: a new repo ``sha``, another licence (card and tag)
  and one more weight file; the input of the ``diff`` benchmark.
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

import networkx as nx
import polars as pl


def _bare_graph(snapshot: Path) -> nx.DiGraph:
    # the files of the version CURRENT names, found as a user's script would (without importing ptmgraph)
    files = snapshot / (snapshot / "CURRENT").read_text().strip() if (snapshot / "CURRENT").is_file() else snapshot
    edges = pl.read_parquet(files / "edges.parquet", columns=["base", "child"])
    models = pl.read_parquet(files / "models.parquet", columns=["id"])
    graph = nx.DiGraph()
    graph.add_nodes_from(models["id"].to_list())
    graph.add_edges_from(zip(edges["base"].to_list(), edges["child"].to_list(), strict=True))
    return graph


def load(snapshot: Path) -> dict[str, Any]:
    from ptmgraph.graph import load_graph

    lg = load_graph(snapshot)
    return {"models": lg.compact.nodes, "edges": len(lg.compact.children.neighbour)}


def load_bare(snapshot: Path) -> dict[str, Any]:
    graph = _bare_graph(snapshot)
    return {"models": graph.number_of_nodes(), "edges": graph.number_of_edges()}


def naive_point_query(snapshot: Path, model: str, direction: str) -> dict[str, Any]:
    graph = _bare_graph(snapshot)
    walk = nx.descendants if direction == "descendants" else nx.ancestors
    found = sorted(walk(graph, model))
    sys.stdout.write(json.dumps({"rows": [{"id": m} for m in found]}) + "\n")
    return {"model": model, "direction": direction, "found": len(found)}


def reach_condensation(snapshot: Path) -> dict[str, Any]:
    graph = _bare_graph(snapshot)
    started = time.perf_counter()
    condensed = nx.condensation(graph)
    members = nx.get_node_attributes(condensed, "members")
    below: dict[int, set[int]] = {}
    reach_of_component: dict[int, int] = {}
    for component in reversed(list(nx.topological_sort(condensed))):
        found: set[int] = set()
        for child in condensed.successors(component):
            found.add(child)
            found |= below.get(child, set())
        if found:
            below[component] = found
        # A cycle's members reach each other: the others in the cycle, plus everything below it.
        reach_of_component[component] = sum(len(members[c]) for c in found) + len(members[component]) - 1
    total = sum(reach_of_component[condensed.graph["mapping"][m]] for m in graph)
    return {"models": graph.number_of_nodes(), "total_reach": total,
            "reach_seconds": round(time.perf_counter() - started, 3)}


def naive_reach(snapshot: Path, sample: int | None) -> dict[str, Any]:
    started = time.perf_counter()
    graph = _bare_graph(snapshot)
    loaded = time.perf_counter()
    nodes = list(graph)
    chosen = random.Random(1).sample(nodes, sample) if sample and sample < len(nodes) else nodes
    total = sum(len(nx.descendants(graph, node)) for node in chosen)
    walked = time.perf_counter() - loaded
    return {"models": len(nodes), "models_walked": len(chosen), "total_reach_walked": total,
            "load_seconds": round(loaded - started, 3), "walk_seconds": round(walked, 3)}


def changed_record(record: dict[str, Any], modified: str | None = None) -> dict[str, Any]:
    """``record`` as a refresh sees it after a commit: a new repo ``sha``, another licence (card and tag), one
    more weight file, and ``lastModified`` set to ``modified`` when given."""
    record = dict(record)
    record["sha"] = hashlib.sha1(f"{record.get('sha')}:changed".encode()).hexdigest()
    given = record.get("cardData")
    card: dict[str, Any] = given if isinstance(given, dict) else {}
    licence = "mit" if card.get("license") == "apache-2.0" else "apache-2.0"
    record["cardData"] = {**card, "license": licence}
    tags = [t for t in record.get("tags") or [] if not str(t).startswith("license:")]
    record["tags"] = [*tags, f"license:{licence}"]
    record["siblings"] = [*(record.get("siblings") or []), {"rfilename": "model-v2.safetensors"}]
    if modified is not None:
        record["lastModified"] = modified
    return record


def is_changed(number: int, every: int) -> bool:
    """Whether the ``number``-th record (from 1) is one of the one in ``every`` that a refresh changes."""
    return number % every == every // 2


def change_records(data: Path, out: Path, every: int) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    records = changed = 0
    with open(data / "models.jsonl", encoding="utf-8") as source, open(out / "models.jsonl", "w") as target:
        for records, line in enumerate(source, 1):
            if is_changed(records, every):
                line = json.dumps(changed_record(json.loads(line))) + "\n"
                changed += 1
            target.write(line)
    return {"records": records, "changed": changed}


def main(argv: list[str]) -> None:
    task, snapshot, rest = argv[0], Path(argv[1]), argv[2:]
    if task == "load":
        result = load(snapshot)
    elif task == "load_bare":
        result = load_bare(snapshot)
    elif task == "naive_point_query":
        result = naive_point_query(snapshot, rest[0], rest[1])
    elif task == "reach_condensation":
        result = reach_condensation(snapshot)
    elif task == "change_records":
        result = change_records(snapshot, Path(rest[0]), int(rest[1]))
    elif task == "naive_reach":
        result = naive_reach(snapshot, int(rest[0]) if rest else None)
    else:
        raise SystemExit(f"unknown task {task!r}")
    # The last line is the task's summary; the runner reads it (point queries print rows before it).
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1:])
