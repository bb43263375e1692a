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
                        :func:`ptmgraph.analyses.licenses.classify_license_pair` is ``likely_violation``
  ``unsafe_files``      has a file that the Hub's own scan (antivirus, pickle imports, ...) calls
                        ``unsafe``, as the file listing read by ``crawl --file-commits`` or a record
                        with a file listing shows (``files.security_status``); ``suspicious`` or
                        ``caution`` files are not a risk source
  ====================  ==========================================================================

- A model is **affected** by a source when it is in the source's reach. One row per (affected model,
  source, risk), with ``depth``, ``via`` and the ``relation_path`` of one shortest path from the
  source, and ``dependency`` (``runtime_code``, ``runtime`` or ``inherited``): the most direct kind any
  path from the source gives by the runtime rule (:func:`ptmgraph.relations.dependency`); the row shows
  the shortest path of that kind. The sources themselves are not rows (``tables["sources"]`` lists
  them with the count they affect).
- **Filters** narrow the rows (and every total and table with them): ``dependencies`` keeps the rows of
  those dependency kinds; ``created_after`` / ``created_before`` keep the affected models created in
  that window, ``created_after`` <= ``created_at`` < ``created_before`` (a model with no creation date
  is left out by a window). ``sort`` orders the rows: ``downloads`` (most first, the default),
  ``depth`` (nearest first) or ``id``.
- **Totals** count each affected model once: ``affected_models``, ``affected_downloads`` (the sum of
  their recorded 30-day download counts; models with no count add 0 and are counted apart).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import polars as pl

from ptmgraph import declaration as d
from ptmgraph.analyses.licenses import classify_license_pair
from ptmgraph.graph import LineageGraph
from ptmgraph.index import CompactGraph
from ptmgraph.pair_walks import PairWalk, walk_pairs
from ptmgraph.relations import DEPENDENCY_ORDER, DEPENDENCY_PATHS, Dependency
from ptmgraph.result import AnalysisResult, Summary, omitted_when_none
from ptmgraph.traverse import relation_path_text

SAFE_FORMATS = frozenset({"safetensors", "gguf", "ggml", "onnx"})
"""Weight formats that load without running code; a model with any of them is not pickle-only."""

DATA_RISKS = ("pickle_only", "no_license", "license_conflict", "unsafe_files")
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
    "created_at": pl.Datetime("us", "UTC"),
    "has_record": pl.Boolean(),
}

SORTS: dict[str, tuple[list[str], list[bool]]] = {
    "downloads": (["downloads", "id", "depth", "source", "risk"], [True, False, False, False, False]),
    "depth": (["depth", "downloads", "id", "source", "risk"], [False, True, False, False, False]),
    "id": (["id", "depth", "source", "risk"], [False, False, False, False]),
}
"""The orders of the rows (``sort``): the columns sorted by, and which descend (unknown counts last)."""


def is_pickle_only(weight_formats: Iterable[str] | None) -> bool:
    """Whether weights come only in pickle formats (module docstring)."""
    formats = set(weight_formats or ())
    return "pickle" in formats and not formats & SAFE_FORMATS


UNSAFE = "unsafe"
"""The Hub scan verdict (``securityFileStatus.status``) that makes a file a risk."""
_NAMED_FILES = 3


def unsafe_file_rows(lg: LineageGraph, models: Iterable[str] | None = None) -> list[tuple[str, str]]:
    """(model, detail) for each model (of ``models``, or every model) with a file the Hub's scan calls
    ``unsafe``; ``detail`` names the first few such files and the scanners that flagged them. Model order."""
    files = lg.snapshot.columns("files", ["model", "path", "security_status", "security_detail"]).filter(
        pl.col("security_status") == UNSAFE)
    if models is not None:
        files = files.filter(pl.col("model").is_in(list(models)))
    if files.is_empty():
        return []
    named = pl.when(pl.col("security_detail").is_not_null()).then(
        pl.format("{} ({})", "path", "security_detail")).otherwise(pl.col("path"))
    grouped = files.sort("model", "path").group_by("model", maintain_order=True).agg(
        named.head(_NAMED_FILES).str.join("; ").alias("shown"), pl.len().alias("n"))
    detail = pl.when(pl.col("n") > _NAMED_FILES).then(
        pl.format("{}; {} more", "shown", pl.col("n").cast(pl.Int64()) - _NAMED_FILES)).otherwise(pl.col("shown"))
    return grouped.select("model", pl.format("unsafe by the Hub's scan: {}", detail)).rows()


def data_risk_sources(lg: LineageGraph, risks: Iterable[str] = DATA_RISKS) -> list[tuple[str, str, str]]:
    """(model, risk, detail) for every model the data shows to carry one of ``risks`` (module docstring),
    in graph order (each model's risks in :data:`DATA_RISKS` order), by column operations on every model."""
    wanted = set(risks)
    unknown = wanted - set(DATA_RISKS)
    if unknown:
        raise ValueError(f"unknown risk(s) {', '.join(sorted(unknown))}; known: {', '.join(DATA_RISKS)}")
    table = _by_position(lg, ["weight_formats", "has_record", "license"]).with_row_index("position")
    parts = []
    if "pickle_only" in wanted:
        formats = pl.col("weight_formats")
        pickle_only = formats.list.contains("pickle") & ~formats.list.eval(
            pl.element().is_in(list(SAFE_FORMATS))).list.any()
        parts.append(table.filter(pickle_only.fill_null(False)).select(
            "position", "id", pl.lit("pickle_only").alias("risk"),
            formats.list.sort().list.join(", ").alias("detail")))
    if "no_license" in wanted:
        unlicensed = pl.col("has_record").fill_null(False) & (pl.col("license").is_null() | (pl.col("license") == ""))
        parts.append(table.filter(unlicensed).select(
            "position", "id", pl.lit("no_license").alias("risk"), pl.lit("no licence stated").alias("detail")))
    if "license_conflict" in wanted:
        parts.append(_license_conflicts(lg, table))
    if "unsafe_files" in wanted:
        unsafe = pl.DataFrame(unsafe_file_rows(lg), schema={"id": pl.String(), "detail": pl.String()}, orient="row")
        parts.append(table.select("position", "id").join(unsafe, on="id").select(
            "position", "id", pl.lit("unsafe_files").alias("risk"), "detail"))
    if not parts:
        return []
    found = pl.concat(parts).with_columns(
        pl.col("risk").replace_strict({r: i for i, r in enumerate(DATA_RISKS)}, return_dtype=pl.Int64()).alias("order"))
    return found.sort("position", "order").select("id", "risk", "detail").rows()


def _by_position(lg: LineageGraph, columns: list[str]) -> pl.DataFrame:
    """``id`` and these ``models`` columns of every model in position order (null for edge-only models)."""
    index = lg.compact
    table = lg.snapshot.columns("models", columns)
    if index.nodes > table.height:
        table = pl.concat([table, table.clear(index.nodes - table.height)])
    return table.insert_column(0, index.ids.alias("id"))


def _license_conflicts(lg: LineageGraph, table: pl.DataFrame) -> pl.DataFrame:
    """license_conflict rows: each model with a licence, against its first parent (in id order, itself
    left out) whose licence makes the verdict ``likely_violation``."""
    children = lg.compact.children
    base = np.repeat(np.arange(lg.compact.nodes, dtype=np.int64), np.diff(children.indptr))
    child = children.neighbour.astype(np.int64)
    keep = base != child
    licenses = table.select("id", "license")
    edges = pl.concat([
        licenses[base[keep]].rename({"id": "base", "license": "base_license"}),
        licenses[child[keep]].with_columns(pl.Series("position", child[keep], dtype=pl.UInt32())),
    ], how="horizontal").filter(pl.col("license").is_not_null() & (pl.col("license") != ""))
    verdicts = edges.select("base_license", "license").unique()
    verdicts = verdicts.with_columns(pl.Series("verdict", [
        classify_license_pair(b, c) for b, c in verdicts.iter_rows()], dtype=pl.String()))
    conflicts = (
        edges.join(verdicts, on=["base_license", "license"], how="left", nulls_equal=True)
        .filter(pl.col("verdict") == "likely_violation")
        .sort("base").unique("position", keep="first")
    )
    return conflicts.select(
        "position", "id", pl.lit("license_conflict").alias("risk"),
        pl.format("{} ({}) -> {}", "base", pl.col("base_license").fill_null("None"), "license").alias("detail"))


@dataclass(frozen=True, kw_only=True)
class RiskSummary(Summary):
    """The summary of ``risk`` (:func:`risk`): every count is of what the filters left."""

    filters: str | None = omitted_when_none()
    """The filters given, in words (``dependency runtime; created before 2024-01-01``): said first, and only
    when a filter is given."""
    sources: int
    """Risk sources (models compromised or with a data risk)."""
    risks: list[str]
    """The kinds of risk found, sorted."""
    affected_models: int
    """Models in a source's reach (each once)."""
    affected_downloads: int
    """Their recorded download counts summed (the Hub's 30-day count)."""
    models_without_download_count: int
    """Affected models with no download count (left out of ``affected_downloads``)."""
    runtime_code_rows: int
    """Rows whose dependency is ``runtime_code``."""
    runtime_rows: int
    """Rows whose dependency is ``runtime``."""
    inherited_rows: int
    """Rows whose dependency is ``inherited``."""


def risk(
    lg: LineageGraph,
    compromised: Iterable[str] = (),
    *,
    data_risks: Iterable[str] = (),
    dependencies: Iterable[str] = (),
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    sort: str = "downloads",
) -> AnalysisResult[RiskSummary]:
    """Every model affected by the ``compromised`` models and by the sources of ``data_risks`` (a subset
    of :data:`DATA_RISKS`), with totals by risk and by source; narrowed by the filters and in the
    ``sort`` order of the module docstring."""
    kinds = [str(k) for k in dependencies]
    unknown = sorted(set(kinds) - {d.value for d in DEPENDENCY_ORDER}) + ([sort] if sort not in SORTS else [])
    if unknown:
        raise ValueError(f"unknown dependency kind or sort {unknown[0]!r}")
    graph = lg.compact
    attributes = _by_position(lg, ["downloads", "license", "created_at", "has_record"])
    sources: list[tuple[str, str, str]] = [(lg.resolve(m), "compromised", "named by the user") for m in compromised]
    sources += data_risk_sources(lg, data_risks) if data_risks else []
    sources = list(dict.fromkeys(sources))
    # every source's walks at once, one for the paths of each kind of the runtime rule (DEPENDENCY_PATHS);
    # a row takes the path of the most direct walk that reaches it (DEPENDENCY_ORDER)
    named = pl.DataFrame(sources, schema={"id": pl.String(), "risk": pl.String(), "detail": pl.String()},
                         orient="row")
    at = graph.positions_of(named["id"].to_list())
    code_hops = _code_hops(lg)
    walks = {path.kind: walk_pairs(graph, at, path.relations, first_hops=code_hops if path.code_hop else None)
             for path in DEPENDENCY_PATHS}
    every = walks[Dependency.INHERITED]
    depth, via, relation = every.depth.copy(), every.via.copy(), every.relation.copy()
    dependency = np.full(len(every.source), Dependency.INHERITED.value, dtype=object)
    decided = np.zeros(len(every.source), dtype=bool)
    for kind in DEPENDENCY_ORDER[:-1]:
        entry = walks[kind].find(every.source, every.model)
        take = (entry >= 0) & ~decided
        for mine, theirs in ((depth, walks[kind].depth), (via, walks[kind].via), (relation, walks[kind].relation)):
            mine[take] = theirs[entry[take]]
        dependency[take] = kind.value
        decided |= take

    relation_names = np.array([*graph.relation_names, None], dtype=object)  # code -1 picks None
    pairs = pl.concat([
        pl.DataFrame({"position": every.source}),
        attributes[every.model],
        pl.DataFrame({
            "depth": depth,
            "via": graph.ids.gather(via),
            "relation": pl.Series(relation_names[relation].tolist(), dtype=pl.String()),
            "dependency": pl.Series(dependency.tolist(), dtype=pl.String()),
        }),
    ], how="horizontal")
    by_source = named.with_columns(pl.Series("position", at), graph.ids.gather(at).alias("source"))
    frame = pairs.join(by_source.select("position", "source", "risk"), on="position").select(list(_ROW_SCHEMA)).cast(
        _ROW_SCHEMA)  # type: ignore[arg-type]
    filters: list[str] = []
    if kinds:
        frame = frame.filter(pl.col("dependency").is_in(kinds))
        filters.append("dependency " + " or ".join(kinds))
    if created_after is not None:
        frame = frame.filter(pl.col("created_at") >= created_after)
        filters.append(f"created on or after {_day(created_after)}")
    if created_before is not None:
        frame = frame.filter(pl.col("created_at") < created_before)
        filters.append(f"created before {_day(created_before)}")
    order, descending = SORTS[sort]
    frame = frame.sort(order, descending=descending, nulls_last=True)
    if filters:  # what the filters left of each source's reach
        counts = dict(frame.group_by("source").agg(pl.col("id").n_unique()).rows())
        reached = np.array([counts.get(s, 0) for s in graph.ids.gather(at).to_list()], dtype=np.int64)
    else:
        reached = np.bincount(every.source, minlength=graph.nodes)[at] if len(at) else np.zeros(0, dtype=np.int64)
    source_rows = list(zip(named["id"].to_list(), named["risk"].to_list(), named["detail"].to_list(),
                           reached.tolist(), attributes["downloads"].gather(at).to_list(), strict=True))
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
    summary = RiskSummary(
        filters="; ".join(filters) if filters else None,
        sources=len({s for s, _, _ in sources}),
        risks=sorted({k for _, k, _ in sources}),
        affected_models=affected.height,
        affected_downloads=int(affected["downloads"].sum() or 0),
        models_without_download_count=int(affected["downloads"].null_count()),
        runtime_code_rows=int((frame["dependency"] == Dependency.RUNTIME_CODE.value).sum()),
        runtime_rows=int((frame["dependency"] == Dependency.RUNTIME.value).sum()),
        inherited_rows=int((frame["dependency"] == Dependency.INHERITED.value).sum()),
    )
    return AnalysisResult(
        title="Risk propagation",
        rows=frame,
        summary=summary,
        tables={"by_risk": by_risk, "sources": source_table},
        deferred=_with_relation_path(graph, {kind.value: walk for kind, walk in walks.items()}),
    )


def _day(when: datetime) -> str:
    """``when`` as a filter names it: the day alone for midnight UTC."""
    midnight = when.utcoffset() is not None and not when.utcoffset() and when.time() == datetime.min.time()
    return when.date().isoformat() if midnight else when.isoformat()


def _code_hops(lg: LineageGraph) -> np.ndarray:
    """Offsets into ``lg.compact.children`` of the edges whose child runs its base's code (``loads_code``)."""
    graph = lg.compact
    edges = lg.snapshot.edges
    if "loads_code" not in edges.columns:
        return np.zeros(0, dtype=np.int64)
    code = edges.filter(pl.col("loads_code").fill_null(False) & (pl.col("base") != pl.col("child")))
    if code.is_empty():
        return np.zeros(0, dtype=np.int64)
    bases = graph.position_list(code["base"].to_list())
    children = graph.position_list(code["child"].to_list())
    offsets = [graph.edge_offset(b, c) for b, c in zip(bases, children, strict=True)]
    return np.array([o for o in offsets if o is not None], dtype=np.int64)


def _with_relation_path(graph: CompactGraph, walks: dict[str, PairWalk]) -> Callable[[pl.DataFrame], pl.DataFrame]:
    """Deferred column ``relation_path`` (the relations from the source to the row's model, joined by ``>``),
    from the walk that found the row (by its ``dependency``)."""

    def expand(rows: pl.DataFrame) -> pl.DataFrame:
        paths: list[str] = [""] * rows.height
        for dependency, walk in walks.items():
            mine = np.flatnonzero((rows["dependency"] == dependency).to_numpy())
            if not len(mine):
                continue
            picked = rows[mine]
            entries = walk.find(graph.positions_of(picked["source"].to_list()),
                                graph.positions_of(picked["id"].to_list()))
            for i, codes in zip(mine.tolist(), walk.relation_codes(entries), strict=True):
                paths[i] = relation_path_text([str(graph.relation_of(c)) for c in codes])
        return rows.insert_column(rows.columns.index("relation") + 1, pl.Series("relation_path", paths, pl.String()))

    return expand


def _risk_arguments(values: Mapping[str, Any]) -> dict[str, Any]:
    """``risk``'s option values as :func:`risk` takes them: the window's days checked and as times, the data risks
    and dependency kinds named; a usage error for a bad day, an empty window, or no source at all."""
    after = d.iso_date("--created-after", values["created_after"])
    before = d.iso_date("--created-before", values["created_before"])
    if after is not None and before is not None and after >= before:
        raise d.UsageError(f"--created-after {values['created_after']} is not before --created-before "
                           f"{values['created_before']}")
    if not values["compromised"] and not values["data_risks"]:
        raise d.UsageError("give --compromised ID, --from-file FILE or --data-risks")
    return {"data_risks": DATA_RISKS if values["data_risks"] else (), "dependencies": values["dependency"],
            "created_after": after, "created_before": before}


def _risk_columns(columns: list[str], result: AnalysisResult[RiskSummary], values: Mapping[str, Any]) -> list[str]:
    """``risk``'s table: ``source, risk`` second with several sources (one is named in the summary), and
    ``created_at`` last with a window (its answer: when each was made)."""
    shown = [columns[0], "source", "risk", *columns[1:]] if result.summary.sources > 1 else list(columns)
    window = values["created_after"] is not None or values["created_before"] is not None
    return [*shown, "created_at"] if window else shown


COMMANDS = (
    d.Analysis("risk", "Everything a risky model puts at risk, most downloaded first; exit 1 if anything is affected.",
               (d.COMPROMISED, d.FROM_FILE.but(help="More compromised models, one id a line (# comments, "
                                               "ORG/NAME@REVISION accepted).", extends="compromised"),
                d.Option(("--data-risks",), "data_risks", "Also spread pickle-only weights, missing and conflicting "
                         "licences, files the Hub's scan calls unsafe.", "flag", False, filter=True),
                d.Option(("--dependency",), "dependency", "Only affected models of this dependency kind: "
                         + ", ".join(k.value for k in DEPENDENCY_ORDER) + " (repeatable).", "choice", metavar="KIND",
                         choices=d.choices("DependencyChoice", [k.value for k in DEPENDENCY_ORDER]), many=True,
                         filter=True),
                d.Option(("--created-after",), "created_after", "Only affected models created on or after this day "
                         "(ISO, YYYY-MM-DD).", metavar="DATE", filter=True),
                d.Option(("--created-before",), "created_before", "Only affected models created before this day (ISO, "
                         "YYYY-MM-DD).", metavar="DATE", filter=True),
                d.Option(("--sort",), "sort", "Row order: most downloaded, nearest, or by id.", "choice", "downloads",
                         metavar="|".join(SORTS), choices=d.choices("RiskSort", SORTS)),
                d.SNAPSHOT, d.FORMAT, d.LIMIT, d.CSV_RAW, d.PATHS, *d.LOOKUP, d.LOOKUP_MAX_MODELS),
               summary="RiskSummary", function=risk, prepare=_risk_arguments,
               look_up=d.LookUp("compromised", "descendants"),
               columns=("id", "depth", "relation_path", "dependency", "downloads"), adjust_columns=_risk_columns,
               answer=("dependency", "risk"), fails=lambda result: result.rows.height > 0,
               reads={"models": ["downloads", "license", "created_at", "has_record", "weight_formats"],
                      "edges": ["loads_code"], "files": ["model", "path", "security_status", "security_detail"]}),
)
"""The command of this module's analysis (:mod:`ptmgraph.declaration`); with a date window it adds
``created_at``, and with several sources ``source, risk`` after the id."""
