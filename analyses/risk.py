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
from ptmgraph.passes import csr_of, distinct, distinct_rows, edge_offsets, neighbours_of
from ptmgraph.relations import DEPENDENCY_ORDER, DEPENDENCY_PATHS, Dependency
from ptmgraph.result import AnalysisResult, Summary, omitted_when_none
from ptmgraph.traverse import PATH_END_HOPS, relation_path_text

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
    return _unsafe_files(lg, models).rows()


def _unsafe_files(lg: LineageGraph, models: Iterable[str] | None = None) -> pl.DataFrame:
    """:func:`unsafe_file_rows` as a frame: ``model``, ``detail``."""
    files = lg.snapshot.columns("files", ["model", "path", "security_status", "security_detail"]).filter(
        pl.col("security_status") == UNSAFE)
    if models is not None:
        files = files.filter(pl.col("model").is_in(list(models)))
    named = pl.when(pl.col("security_detail").is_not_null()).then(
        pl.format("{} ({})", "path", "security_detail")).otherwise(pl.col("path"))
    grouped = files.sort("model", "path").group_by("model", maintain_order=True).agg(
        named.head(_NAMED_FILES).str.join("; ").alias("shown"), pl.len().alias("n"))
    detail = pl.when(pl.col("n") > _NAMED_FILES).then(
        pl.format("{}; {} more", "shown", pl.col("n").cast(pl.Int64()) - _NAMED_FILES)).otherwise(pl.col("shown"))
    return grouped.select(pl.col("model").cast(pl.String()),
                          pl.format("unsafe by the Hub's scan: {}", detail).cast(pl.String()).alias("detail"))


def data_risk_sources(lg: LineageGraph, risks: Iterable[str] = DATA_RISKS) -> pl.DataFrame:
    """Every model the data shows to carry one of ``risks`` (module docstring), once per risk: ``position``
    (Int64), ``id``, ``risk``, ``detail``, in graph order (each model's risks in :data:`DATA_RISKS` order),
    by column operations on every model."""
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
            "position", pl.lit("pickle_only").alias("risk"), formats.list.sort().list.join(", ").alias("detail")))
    if "no_license" in wanted:
        unlicensed = pl.col("has_record").fill_null(False) & (pl.col("license").is_null() | (pl.col("license") == ""))
        parts.append(table.filter(unlicensed).select(
            "position", pl.lit("no_license").alias("risk"), pl.lit("no licence stated").alias("detail")))
    if "license_conflict" in wanted:
        parts.append(_license_conflicts(lg, table["license"]))
    if "unsafe_files" in wanted:
        unsafe = _unsafe_files(lg)
        if unsafe.height:
            parts.append(table.select("position", "id").join(unsafe, left_on="id", right_on="model").select(
                "position", pl.lit("unsafe_files").alias("risk"), "detail"))
    schema = {"position": pl.Int64(), "risk": pl.String(), "detail": pl.String()}
    found = pl.concat([part.cast(schema) for part in parts]) if parts else pl.DataFrame(schema=schema)  # type: ignore[arg-type]
    order = pl.col("risk").replace_strict({r: i for i, r in enumerate(DATA_RISKS)}, return_dtype=pl.Int8())
    found = found.sort(pl.col("position"), order)
    return found.select("position", lg.compact.ids.gather(found["position"]).alias("id"), "risk", "detail")


def _by_position(lg: LineageGraph, columns: list[str]) -> pl.DataFrame:
    """``id`` and these ``models`` columns of every model in position order (null for edge-only models)."""
    index = lg.compact
    table = lg.snapshot.columns("models", columns)
    if index.nodes > table.height:
        table = pl.concat([table, table.clear(index.nodes - table.height)])
    return table.insert_column(0, index.ids.alias("id"))


def _license_conflicts(lg: LineageGraph, licenses: pl.Series) -> pl.DataFrame:
    """license_conflict rows (``position``, ``risk``, ``detail``) from every model's licence (by position):
    each model with a licence, against its first parent (in id order, itself left out) whose licence makes
    the verdict ``likely_violation``.

    On arrays: each distinct licence is a code (null the last), each distinct (parent, child) pair of codes
    gets one verdict, and the parents' adjacency lists each model's parents in id order."""
    graph = lg.compact
    stated = licenses.drop_nulls().unique().sort()
    names: list[str | None] = [*stated.to_list(), None]
    code = licenses.cast(pl.Enum(stated.to_list())).to_physical().fill_null(len(stated)).to_numpy().astype(np.int64)
    parents = graph.parents
    child = np.repeat(np.arange(graph.nodes, dtype=np.int64), np.diff(parents.indptr))
    base = parents.neighbour.astype(np.int64)
    licensed = np.array([bool(name) for name in names])  # a child stating a licence ("" states none)
    keep = (base != child) & licensed[code[child]]
    child, base = child[keep], base[keep]
    pair = code[base] * len(names) + code[child]
    pairs = np.unique(pair)
    violation = np.array([classify_license_pair(names[p // len(names)], names[p % len(names)]) == "likely_violation"
                          for p in pairs.tolist()], dtype=bool)
    hit = violation[np.searchsorted(pairs, pair)] if len(pairs) else np.zeros(0, dtype=bool)
    child, base = child[hit], base[hit]
    first = np.ones(len(child), dtype=bool)  # each child's first such parent: its parents come in id order
    first[1:] = child[1:] != child[:-1]
    child, base = child[first], base[first]
    shown = pl.Series([name if name is not None else "None" for name in names], dtype=pl.String())
    return pl.DataFrame({
        "position": child,
        "base": graph.ids.gather(base),
        "base_license": shown.gather(code[base]),
        "license": shown.gather(code[child]),
    }).select("position", pl.lit("license_conflict").alias("risk"),
              pl.format("{} ({}) -> {}", "base", "base_license", "license").alias("detail"))


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
    ``sort`` order of the module docstring.

    Columns all the way: the sources are a frame (:func:`data_risk_sources`), every source is walked at
    once (:func:`ptmgraph.pair_walks.walk_pairs`), and the rows, totals and tables are array and frame
    operations on positions; nothing is done per source or per row in Python."""
    kinds = [str(k) for k in dependencies]
    unknown = sorted(set(kinds) - {d.value for d in DEPENDENCY_ORDER}) + ([sort] if sort not in SORTS else [])
    if unknown:
        raise ValueError(f"unknown dependency kind or sort {unknown[0]!r}")
    graph = lg.compact
    attributes = _by_position(lg, ["downloads", "license", "created_at", "has_record"])
    named = _sources(lg, compromised, data_risks)
    at = named["position"].to_numpy()
    # every source's walks at once, one for the paths of each kind of the runtime rule (DEPENDENCY_PATHS);
    # a row takes the path of the most direct walk that reaches it (DEPENDENCY_ORDER)
    code_hops = _code_hops(lg)
    walks = {path.kind: walk_pairs(graph, at, path.relations, first_hops=code_hops if path.code_hop else None)
             for path in DEPENDENCY_PATHS}
    every = walks[Dependency.INHERITED]
    depth, via, relation = every.depth.copy(), every.via.copy(), every.relation.astype(np.int64)
    dependency = np.full(len(every.source), DEPENDENCY_ORDER.index(Dependency.INHERITED), dtype=np.int64)
    decided = np.zeros(len(every.source), dtype=bool)
    for code, kind in enumerate(DEPENDENCY_ORDER[:-1]):
        entry = walks[kind].find(every.source, every.model)
        take = (entry >= 0) & ~decided
        for mine, theirs in ((depth, walks[kind].depth), (via, walks[kind].via), (relation, walks[kind].relation)):
            mine[take] = theirs[entry[take]]
        dependency[take] = code
        decided |= take

    # one row per (pair, risk of its source): each pair once for each source row at its source's position;
    # the filters and the order work on arrays of positions and codes, then the frame is built once
    pair, source_row = neighbours_of(csr_of(at, np.arange(len(at), dtype=np.int64), graph.nodes), every.source)
    filters: list[str] = []
    keep = np.ones(len(pair), dtype=bool)
    if kinds:
        keep &= np.isin(dependency[pair], [DEPENDENCY_ORDER.index(Dependency(k)) for k in kinds])
        filters.append("dependency " + " or ".join(kinds))
    created = attributes["created_at"].cast(_ROW_SCHEMA["created_at"])
    if created_after is not None:
        keep &= (created >= created_after).fill_null(False).to_numpy()[every.model[pair]]
        filters.append(f"created on or after {_day(created_after)}")
    if created_before is not None:
        keep &= (created < created_before).fill_null(False).to_numpy()[every.model[pair]]
        filters.append(f"created before {_day(created_before)}")
    pair, source_row = pair[keep], source_row[keep]
    model, source = every.model[pair], every.source[pair]
    used = distinct(np.concatenate([model, source]))  # compared by id: by the rank of each id among these
    id_rank = graph.ids.gather(used).rank("dense").to_numpy()
    risk_names = sorted(named["risk"].unique().to_list())
    order = _row_order(sort, {
        "downloads": attributes["downloads"].gather(model), "id": id_rank[np.searchsorted(used, model)],
        "depth": depth[pair], "source": id_rank[np.searchsorted(used, source)],
        "risk": named["risk"].cast(pl.Enum(risk_names)).to_physical().to_numpy()[source_row]})
    pair, source_row, model, source = pair[order], source_row[order], model[order], source[order]
    relation_names = pl.Series([*graph.relation_names, None], dtype=pl.String())  # code -1 picks None
    frame = pl.concat([
        attributes[model],
        pl.DataFrame({
            "source": graph.ids.gather(source),
            "risk": named["risk"].gather(source_row),
            "depth": depth[pair],
            "via": graph.ids.gather(via[pair]),
            "relation": relation_names.gather(np.where(relation[pair] < 0, len(graph.relation_names), relation[pair])),
            "dependency": pl.Series([k.value for k in DEPENDENCY_ORDER], dtype=pl.String()).gather(dependency[pair]),
        }),
    ], how="horizontal").select(list(_ROW_SCHEMA)).cast(_ROW_SCHEMA)  # type: ignore[arg-type]
    if filters:  # what the filters left of each source's reach
        reached = np.bincount(distinct(source * graph.nodes + model) // max(graph.nodes, 1),
                              minlength=graph.nodes)[at]
    else:
        reached = np.bincount(every.source, minlength=graph.nodes)[at]
    source_table = named.select(
        "id", "risk", "detail", pl.Series("affected_models", reached, dtype=pl.Int64()),
        attributes["downloads"].gather(at).cast(pl.Int64()),
    ).sort(["affected_models", "id"], descending=[True, False])
    by_risk = (
        named.group_by("risk").agg(pl.col("position").n_unique().alias("sources"))
        .join(
            frame.select("risk", "downloads", pl.Series("model", model)).group_by("risk").agg(
                pl.col("model").n_unique().alias("affected_models"),
                pl.col("downloads").filter(pl.col("model").is_first_distinct()).sum().alias("affected_downloads"),
            ),
            on="risk",
            how="left",
        )
        .with_columns(pl.col("affected_models", "affected_downloads").fill_null(0))
        .sort(["affected_models", "risk"], descending=[True, False])
    )
    hit = np.zeros(graph.nodes, dtype=bool)
    hit[model] = True
    affected = attributes["downloads"].filter(pl.Series(hit))
    dependency_rows = frame["dependency"].value_counts()
    rows_of = dict(zip(dependency_rows["dependency"].to_list(), dependency_rows["count"].to_list(), strict=True))
    summary = RiskSummary(
        filters="; ".join(filters) if filters else None,
        sources=named["position"].n_unique(),
        risks=sorted(named["risk"].unique().to_list()),
        affected_models=affected.len(),
        affected_downloads=int(affected.sum() or 0),
        models_without_download_count=affected.null_count(),
        runtime_code_rows=int(rows_of.get(Dependency.RUNTIME_CODE.value, 0)),
        runtime_rows=int(rows_of.get(Dependency.RUNTIME.value, 0)),
        inherited_rows=int(rows_of.get(Dependency.INHERITED.value, 0)),
    )
    return AnalysisResult(
        title="Risk propagation",
        rows=frame,
        summary=summary,
        tables={"by_risk": by_risk, "sources": source_table},
        deferred=_with_relation_path(graph, {kind.value: walk for kind, walk in walks.items()}),
    )


def _sources(lg: LineageGraph, compromised: Iterable[str], data_risks: Iterable[str]) -> pl.DataFrame:
    """The risk sources, each (model, risk) once: ``position``, ``id``, ``risk``, ``detail``; the
    ``compromised`` models first (in the order given), then those of :func:`data_risk_sources`."""
    given = list(compromised)
    named: list[str] = []
    if given:  # one pass over the ids finds those typed as stored; lg.resolve reads the others
        stored = pl.Series(given, dtype=pl.String()).is_in(lg.compact.ids.implode()).to_list()
        named = list(dict.fromkeys(m if found else lg.resolve(m) for m, found in zip(given, stored, strict=True)))
    frame = pl.DataFrame({
        "position": lg.compact.positions_of(named) if named else np.zeros(0, dtype=np.int64),
        "id": pl.Series(named, dtype=pl.String()),
        "risk": pl.Series(["compromised"] * len(named), dtype=pl.String()),
        "detail": pl.Series(["named by the user"] * len(named), dtype=pl.String())})
    data_risks = list(data_risks)
    return pl.concat([frame, data_risk_sources(lg, data_risks)]) if data_risks else frame


def _row_order(sort: str, keys: dict[str, pl.Series | np.ndarray]) -> np.ndarray:
    """The order of the rows by the columns of :data:`SORTS` ``sort``, given as numbers that sort as the
    column does (ids as their rank), each with its direction; unknown (null) values last."""
    columns, descending = SORTS[sort]
    last = np.iinfo(np.int64).max
    arrays = []
    for column, down in zip(columns, descending, strict=True):
        values = pl.Series(keys[column]).cast(pl.Int64())
        key = values.fill_null(0).to_numpy()
        arrays.append(np.where(values.is_null().to_numpy(), last, -key if down else key))
    return np.lexsort(arrays[::-1])


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
    offsets = edge_offsets(graph.children, graph.positions_of(code["base"].to_list()),
                           graph.positions_of(code["child"].to_list()))
    return offsets[offsets >= 0]


def _with_relation_path(graph: CompactGraph, walks: dict[str, PairWalk]) -> Callable[[pl.DataFrame], pl.DataFrame]:
    """Deferred column ``relation_path`` (the relations from the source to the row's model, joined by ``>``),
    from the walk that found the row (by its ``dependency``)."""

    def expand(rows: pl.DataFrame) -> pl.DataFrame:
        found: list[tuple[np.ndarray, ...]] = []  # (row, hops from the row's model, relation code) of every hop
        for dependency, walk in walks.items():
            mine = np.flatnonzero((rows["dependency"] == dependency).to_numpy())
            if len(mine):
                entries = walk.find(graph.positions_of(rows["source"].gather(mine).to_list()),
                                    graph.positions_of(rows["id"].gather(mine).to_list()))
                which, hop, code = walk.relation_code_steps(entries)
                found.append((mine[which], hop, code.astype(np.int64)))
        row, hop, code = (np.concatenate([f[k] for f in found]) if found else np.zeros(0, dtype=np.int64)
                          for k in range(3))
        # one line of codes per row, source end first: the whole path, or over the cap its two ends and its
        # length (what relation_path_text needs); each distinct line is written once
        cap = 2 * PATH_END_HOPS
        length = np.bincount(row, minlength=rows.height)
        step, tail = length[row] - 1 - hop, hop + 1  # hops from the source; from the end, 1 for the last
        column = np.where((length[row] <= cap) | (step < PATH_END_HOPS), step,
                          np.where(tail <= PATH_END_HOPS, cap - tail, -1))
        width = int(min(cap, length.max(initial=0)))
        lines = np.full((rows.height, width + 1), -2, dtype=np.int32)  # -2: no hop; the last column: the length
        kept = column >= 0
        lines[row[kept], column[kept]] = code[kept]
        lines[:, width] = length
        distinct, which = distinct_rows(lines)
        texts = [relation_path_text([str(graph.relation_of(c)) for c in line[:width].tolist() if c != -2],
                                    int(line[width])) if line[width] else "" for line in distinct]
        paths = pl.Series("relation_path", texts, dtype=pl.String()).gather(which)
        return rows.insert_column(rows.columns.index("relation") + 1, paths)

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
