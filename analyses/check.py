"""The CI gate: a model's lineage findings, each with a severity, like ``pip-audit`` for a dependency.

Definitions (*ancestor*, *depth*, *runtime* as in :mod:`ptmgraph.traverse`). The **lineage** of a model
m is m and its ancestors; a **lineage edge** is an edge into m or into one of its ancestors (it lies on
a path from a root to m). Each row is one finding about one model of the lineage (``ancestor``, at
``depth`` from m; m itself at depth 0):

======================  ========  ====================================================================
finding                 severity  when
======================  ========  ====================================================================
``compromised``         high      a model of the lineage was named compromised (``--compromised``)
``license_violation``   high      a lineage edge's licence verdict is ``likely_violation``
                                  (:func:`analyses.licenses.classify_license_pair`)
``license_missing``     medium    a lineage edge's verdict is ``missing``: the model states no licence
                                  under a base whose licence must be passed on (vendor, copyleft, RAIL,
                                  non-commercial)
``pickle_only``         high      m itself, or an ancestor m loads at run time (adapter hops only), has
                                  pickle-only weights (:func:`analyses.risk.is_pickle_only`)
``pickle_only``         medium    an ancestor whose weights m inherited has pickle-only weights
``executes_repo_code``  medium    loading m with ``trust_remote_code=True`` runs a repo's own Python: m's,
                                  or that of an ancestor m loads at run time (``code_files``,
                                  :func:`ptmgraph.relations.own_code_files`), or of a repo whose code
                                  their ``auto_map`` names (``loads_code`` edge). Medium: code runs only
                                  when the user opts in, and it can be read and pinned first; a
                                  compromised source of that code is ``compromised`` (high)
``unavailable``         medium    an ancestor is gated, disabled or missing (:mod:`analyses.staleness`)
``no_license``          medium    a model of the lineage has a record that states no licence (and no
                                  ``license_missing`` finding says more about it)
``new_version``         medium    an ancestor's card declares a newer release
``license_unclear``     low       a lineage edge whose two stated licences differ with verdict ``unclear``
                                  (never under a permissive base, which allows any licence)
``base_updated``        low       an ancestor was modified after m was created (``detail``: the lag)
``dangling``            low       a model of the lineage makes a reference that could not become an edge
                                  (local path, other site ...; missing Hub models are ``unavailable``)
======================  ========  ====================================================================

A check **fails** at level L when any finding has severity L or above (low < medium < high).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

import polars as pl

from analyses.licenses import classify_license_pair
from analyses.risk import is_pickle_only
from analyses.staleness import UNAVAILABLE_DANGLING, stale_ancestor_rows
from ptmgraph.graph import LineageGraph
from ptmgraph.relations import RUNTIME_RELATIONS
from ptmgraph.result import AnalysisResult
from ptmgraph.traverse import reach

Severity = Literal["low", "medium", "high"]
SEVERITY_RANK: dict[str, int] = {"low": 1, "medium": 2, "high": 3}

SEVERITY: dict[str, Severity] = {
    "compromised": "high",
    "license_violation": "high",
    "license_missing": "medium",
    "pickle_only": "high",  # medium when inherited, see the module docstring
    "executes_repo_code": "medium",
    "unavailable": "medium",
    "no_license": "medium",
    "new_version": "medium",
    "license_unclear": "low",
    "base_updated": "low",
    "dangling": "low",
}
"""Finding -> severity (the module docstring's table)."""

_ROW_SCHEMA = {
    "id": pl.String(),
    "severity": pl.String(),
    "finding": pl.String(),
    "ancestor": pl.String(),
    "depth": pl.Int64(),
    "detail": pl.String(),
}


def lineage_findings(lg: LineageGraph, model: str, compromised: set[str]) -> list[tuple[Any, ...]]:
    """(id, severity, finding, ancestor, depth, detail) for one resolved model id (module docstring)."""
    graph = lg.compact
    up = reach(graph, [model], direction="ancestors")
    loaded = reach(graph, [model], direction="ancestors", relations=RUNTIME_RELATIONS)
    lineage = {model: 0} | up.depth
    nodes = lg.nodes_of(list(lineage))  # every parent of a lineage model is in the lineage too
    rows: list[tuple[Any, ...]] = []

    def add(finding: str, ancestor: str, depth: int, detail: str | None, severity: Severity | None = None) -> None:
        rows.append((model, severity or SEVERITY[finding], finding, ancestor, depth, detail))

    runs = [model, *(m for m in lineage if m in loaded)]  # the models loading m loads, m first
    for member in runs:
        if nodes[member].get("code_files"):
            add("executes_repo_code", member, lineage[member], "ships " + ", ".join(nodes[member]["code_files"]))
    code_edges = lg.snapshot.edges.filter(pl.col("loads_code").fill_null(False) & pl.col("child").is_in(runs)
                                          & (pl.col("base") != pl.col("child")))
    for base, child in code_edges.select("base", "child").sort("child", "base").iter_rows():
        add("executes_repo_code", base, lineage[base], f"{child}'s config.json auto_map loads its code")
    for member, depth in lineage.items():
        attrs = nodes[member]
        if member in compromised:
            add("compromised", member, depth, "named compromised")
        if is_pickle_only(attrs.get("weight_formats")):
            direct = member == model or member in loaded
            add("pickle_only", member, depth, ", ".join(sorted(attrs.get("weight_formats") or ())),
                None if direct else "medium")
        unlicensed = bool(attrs.get("has_record")) and not attrs.get("license")
        for base in lg.parents(member):  # in id order
            base_license, license = nodes[base].get("license"), attrs.get("license") or None
            if base == member or not base_license or not (license or unlicensed):
                continue
            verdict = classify_license_pair(base_license, license)
            detail = f"{base} ({base_license}) -> {member} ({license or 'no licence'})"
            if verdict == "likely_violation":
                add("license_violation", member, depth, detail)
            elif verdict == "missing":
                add("license_missing", member, depth, detail)
                unlicensed = False  # said
            elif verdict == "unclear" and license:
                add("license_unclear", member, depth, detail)
        if unlicensed:
            add("no_license", member, depth, "no licence stated")
    for _, ancestor, reason, lag, depth, detail in stale_ancestor_rows(lg, [model]):
        add(reason, ancestor, depth, f"{lag} days" if reason == "base_updated" else detail)
    dangling = lg.snapshot.dangling.filter(
        pl.col("child").is_in(list(lineage)) & ~pl.col("reason").is_in(UNAVAILABLE_DANGLING)
    )
    for child, raw, reason, field in dangling.select("child", "raw", "reason", "field").iter_rows():
        add("dangling", child, lineage[child], f"{field}: {raw!r} ({reason})")
    return rows


def check(
    lg: LineageGraph, models: Iterable[str], *, compromised: Iterable[str] = (), fail_on: Severity = "low"
) -> AnalysisResult:
    """The findings of each model (module docstring), most severe first; ``summary["failed"]`` says
    whether any finding is at ``fail_on`` or above."""
    if fail_on not in SEVERITY_RANK:
        raise ValueError(f"fail_on must be low, medium or high, not {fail_on!r}")
    targets = list(dict.fromkeys(lg.resolve(m) for m in models))
    named = {lg.resolve(m) for m in compromised}
    rows = [row for model in targets for row in lineage_findings(lg, model, named)]
    frame = (
        pl.DataFrame(rows, schema=_ROW_SCHEMA, orient="row")
        .unique(["id", "finding", "ancestor", "detail"], maintain_order=True)
        .with_columns(pl.col("severity").replace_strict(SEVERITY_RANK, return_dtype=pl.Int64()).alias("_rank"))
        .sort(["_rank", "id", "depth", "finding", "ancestor"], descending=[True, False, False, False, False])
        .drop("_rank")
    )
    counts = {level: int((frame["severity"] == level).sum()) for level in ("high", "medium", "low")}
    at_or_above = {s for s, r in SEVERITY_RANK.items() if r >= SEVERITY_RANK[fail_on]}
    failing = frame.filter(pl.col("severity").is_in(at_or_above))
    by_model = pl.DataFrame({"id": targets}).join(
        frame.group_by("id").agg(
            *[(pl.col("severity") == level).sum().alias(level) for level in ("high", "medium", "low")]
        ),
        on="id",
        how="left",
    ).with_columns(pl.col("high", "medium", "low").fill_null(0))
    return AnalysisResult(
        title="Lineage check",
        rows=frame,
        summary={
            "models": targets,
            "findings": frame.height,
            **counts,
            "fail_on": fail_on,
            "failed": failing.height > 0,
            "failing_models": sorted(set(failing["id"].to_list())),
        },
        tables={"by_model": by_model},
    )
