"""Risk propagation: which models a risky model puts at risk, along which path, and how.

Definitions (*reach*, *depth*, *runtime* and *inherited* as in :mod:`ptmgraph.traverse`):

- A **risk source** is a model with one of these risks:

  ====================  ==========================================================================
  risk                  the source model
  ====================  ==========================================================================
  ``compromised``       was named by the user (``--compromised``, ``--from-file``)
  ``pickle_only``       ships weights only in pickle formats (``.bin``, ``.pt``, ``.ckpt`` ...; see
                        ``records.WEIGHT_FORMATS``), which run code when loaded: its
                        ``weight_formats`` include ``pickle`` and none of :data:`SAFE_FORMATS`
  ``no_license``        has a record, and that record states no licence
  ``license_conflict``  states a licence that conflicts with a parent's: the verdict of
                        :func:`analyses.licenses.classify_license_pair` is ``likely_violation``
  ====================  ==========================================================================

- A model is **affected** by a source when it is in the source's reach. One row per (affected model,
  source, risk), with ``depth``, ``via`` and the ``relation_path`` of one shortest path from the
  source, and ``dependency``: ``runtime`` when some path from the source has only adapter hops (the
  row then shows the shortest such path), else ``inherited``. The sources themselves are not rows
  (``tables["sources"]`` lists them with the count they affect).
- **Totals** count each affected model once: ``affected_models``, ``affected_downloads`` (the sum of
  their recorded 30-day download counts; models with no count add 0 and are counted apart).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import polars as pl

from analyses.licenses import classify_license_pair
from ptmgraph.graph import LineageGraph
from ptmgraph.result import AnalysisResult
from ptmgraph.traverse import RUNTIME_RELATIONS, Reach, reach

SAFE_FORMATS = frozenset({"safetensors", "gguf", "ggml", "onnx"})
"""Weight formats that load without running code; a model with any of them is not pickle-only."""

DATA_RISKS = ("pickle_only", "no_license", "license_conflict")
"""The risks the data itself shows (all but ``compromised``)."""

_ROW_SCHEMA = {
    "id": pl.String(),
    "source": pl.String(),
    "risk": pl.String(),
    "depth": pl.Int64(),
    "via": pl.String(),
    "relation": pl.String(),
    "dependency": pl.String(),
    "downloads": pl.Int64(),
    "license": pl.String(),
    "has_record": pl.Boolean(),
}


def is_pickle_only(weight_formats: Iterable[str] | None) -> bool:
    """Whether weights come only in pickle formats (module docstring)."""
    formats = set(weight_formats or ())
    return "pickle" in formats and not formats & SAFE_FORMATS


def data_risk_sources(lg: LineageGraph, risks: Iterable[str] = DATA_RISKS) -> list[tuple[str, str, str]]:
    """(model, risk, detail) for every model the data shows to carry one of ``risks`` (module docstring)."""
    wanted = set(risks)
    unknown = wanted - set(DATA_RISKS)
    if unknown:
        raise ValueError(f"unknown risk(s) {', '.join(sorted(unknown))}; known: {', '.join(DATA_RISKS)}")
    graph = lg.graph
    found: list[tuple[str, str, str]] = []
    for model, attrs in graph.nodes(data=True):
        if "pickle_only" in wanted and is_pickle_only(attrs.get("weight_formats")):
            found.append((model, "pickle_only", ", ".join(sorted(attrs.get("weight_formats") or ()))))
        if "no_license" in wanted and attrs.get("has_record") and not attrs.get("license"):
            found.append((model, "no_license", "no licence stated"))
        if "license_conflict" in wanted and attrs.get("license"):
            for base in sorted(graph.pred[model]):
                base_license = graph.nodes[base].get("license")
                if base != model and classify_license_pair(base_license, attrs["license"]) == "likely_violation":
                    found.append((model, "license_conflict", f"{base} ({base_license}) -> {attrs['license']}"))
                    break
    return found


def _walks(graph: Any, source: str) -> tuple[Reach, Reach]:
    """Everything the source reaches, and what it reaches along adapter hops only."""
    return reach(graph, [source]), reach(graph, [source], relations=RUNTIME_RELATIONS)


def risk(
    lg: LineageGraph,
    compromised: Iterable[str] = (),
    *,
    data_risks: Iterable[str] = (),
) -> AnalysisResult:
    """Every model affected by the ``compromised`` models and by the sources of ``data_risks`` (a subset
    of :data:`DATA_RISKS`), most downloaded first, with totals by risk and by source."""
    graph, nodes = lg.graph, lg.graph.nodes
    sources: list[tuple[str, str, str]] = [(lg.resolve(m), "compromised", "named by the user") for m in compromised]
    sources += data_risk_sources(lg, data_risks) if data_risks else []
    sources = list(dict.fromkeys(sources))
    rows: list[tuple[Any, ...]] = []
    walks: dict[tuple[str, str], Reach] = {}  # (source, dependency) -> the walk that found the rows
    source_rows = []
    for source, kind, detail in sources:
        every, runtime = _walks(graph, source)
        walks[(source, "runtime")], walks[(source, "inherited")] = runtime, every
        for model in every:
            walk, dependency = (runtime, "runtime") if model in runtime else (every, "inherited")
            attrs = nodes[model]
            rows.append((model, source, kind, walk.depth[model], walk.via[model], walk.relation[model], dependency,
                         attrs.get("downloads"), attrs.get("license"), attrs.get("has_record")))
        source_rows.append((source, kind, detail, len(every), nodes[source].get("downloads")))
    frame = pl.DataFrame(rows, schema=_ROW_SCHEMA, orient="row").sort(
        ["downloads", "id", "depth", "source", "risk"], descending=[True, False, False, False, False], nulls_last=True
    )
    affected = frame.unique("id")
    source_table = pl.DataFrame(
        source_rows,
        schema={"id": pl.String(), "risk": pl.String(), "detail": pl.String(), "affected_models": pl.Int64(),
                "downloads": pl.Int64()},
        orient="row",
    ).sort(["affected_models", "id"], descending=[True, False])
    by_risk = (
        source_table.group_by("risk").agg(pl.col("id").n_unique().alias("sources"))
        .join(
            frame.group_by("risk").agg(
                pl.col("id").n_unique().alias("affected_models"),
                pl.col("downloads").filter(pl.col("id").is_first_distinct()).sum().alias("affected_downloads"),
            ),
            on="risk",
            how="left",
        )
        .with_columns(pl.col("affected_models", "affected_downloads").fill_null(0))
        .sort(["affected_models", "risk"], descending=[True, False])
    )
    summary = {
        "sources": len({s for s, _, _ in sources}),
        "risks": sorted({k for _, k, _ in sources}),
        "affected_models": affected.height,
        "affected_downloads": int(affected["downloads"].sum() or 0),
        "models_without_download_count": int(affected["downloads"].null_count()),
        "runtime_rows": int((frame["dependency"] == "runtime").sum()),
        "inherited_rows": int((frame["dependency"] == "inherited").sum()),
    }
    return AnalysisResult(
        title="Risk propagation",
        rows=frame,
        summary=summary,
        tables={"by_risk": by_risk, "sources": source_table},
        deferred=_with_relation_path(walks),
    )


def _with_relation_path(walks: dict[tuple[str, str], Reach]) -> Callable[[pl.DataFrame], pl.DataFrame]:
    """Deferred column ``relation_path`` (the relations from the source to the row's model, joined by ``>``)."""

    def expand(rows: pl.DataFrame) -> pl.DataFrame:
        paths = [
            ">".join(walks[(source, dependency)].relation_path(model))
            for model, source, dependency in rows.select("id", "source", "dependency").iter_rows()
        ]
        return rows.insert_column(rows.columns.index("relation") + 1, pl.Series("relation_path", paths, pl.String()))

    return expand
