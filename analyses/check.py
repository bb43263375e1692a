"""The CI gate: a model's lineage findings, each with a severity, like ``pip-audit`` for a dependency.

Definitions (*ancestor*, *depth*, *runtime* as in :mod:`ptmgraph.traverse`; *access* and *unavailable*
as in :mod:`ptmgraph.records`; the stale reasons as in :mod:`ptmgraph.analyses.staleness`). The **lineage** of a
model m is m and its ancestors; a **lineage edge** is an edge into m or into one of its ancestors (it lies
on a path from a root to m). Each row is one finding about one model of the lineage (``ancestor``, at
``depth`` from m; m itself at depth 0):

========================  ========  ===========================================================
A check **fails** at level L when any finding that is not waived has severity L or above
(low < medium < high). Opt-in findings (:data:`OPT_IN`) are reported only when asked for.

**Waivers** (as ``pip-audit --ignore-vuln``). A finding's **identity** is (``finding``, ``id``: the model
checked, ``ancestor``: the model of its lineage the finding is about; for an unavailable reference, the
reference). A finding is **waived** when an ``--ignore FINDING[:MODEL]`` names its kind and, if MODEL is
given, its ``ancestor`` (letter case ignored; a Hub URL is read as its id): ``--ignore
unavailable:google/gemma-7b`` waives every ``unavailable`` finding about ``google/gemma-7b``, in the
lineage of any model checked. It is also waived when its identity is in the baseline (a file of
identities, :mod:`ptmgraph.baseline`). A waived finding stays a row (``waived``: ``ignore`` or
``baseline``; ``ignore`` when both apply), is counted in ``summary.waived`` and ``tables["by_finding"]``,
and never makes the check fail; ``high``, ``medium`` and ``low`` count the findings that are not waived.
Any kind of the table above can be waived; naming another is an :class:`UnknownFinding` error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import polars as pl

from ptmgraph import declaration as d
from ptmgraph.analyses.licenses import classify_license_pair
from ptmgraph.analyses.risk import is_pickle_only, unsafe_file_rows
from ptmgraph.analyses.staleness import CRAWL_DANGLING, stale_ancestor_rows
from ptmgraph.graph import LineageGraph
from ptmgraph.ids import id_key, lowercase_ids, normalize_reference
from ptmgraph.records import DANGLING_ACCESS, Access
from ptmgraph.relations import PATH_OF, Dependency
from ptmgraph.result import AnalysisResult, Summary
from ptmgraph.traverse import walk

Severity = Literal["low", "medium", "high"]
SEVERITY_RANK: dict[str, int] = {"low": 1, "medium": 2, "high": 3}

SEVERITY: dict[str, Severity] = {
    "compromised": "high",
    "license_violation": "high",
    "unsafe_files": "high",
    "license_missing": "medium",
    "pickle_only": "high",  # medium when inherited, see the module docstring
    "executes_repo_code": "medium",
    "unavailable": "medium",
    "no_license": "medium",
    "new_version": "medium",
    "license_unclear": "low",
    "weights_updated": "low",
    "updated_unknown_part": "low",
    "dangling": "low",
    "restricted": "low",
    "card_updated": "low",
}
"""Finding -> severity (the module docstring's table)."""

OPT_IN = ("restricted", "card_updated")
"""Findings reported only when ``include`` names them."""

_ROW_SCHEMA = {
    "id": pl.String(),
    "severity": pl.String(),
    "finding": pl.String(),
    "ancestor": pl.String(),
    "depth": pl.Int64(),
    "detail": pl.String(),
}


def lineage_findings(lg: LineageGraph, model: str, compromised: set[str],
                     include: Iterable[str] = ()) -> list[tuple[Any, ...]]:
    """(id, severity, finding, ancestor, depth, detail) for one resolved model id (module docstring);
    the opt-in findings named in ``include`` too."""
    graph = lg.compact
    # the runtime rule's paths (ptmgraph.relations.DEPENDENCY_PATHS), walked up from the model
    code, runtime, inherited = (PATH_OF[kind] for kind in
                                (Dependency.RUNTIME_CODE, Dependency.RUNTIME, Dependency.INHERITED))
    up = walk(graph, [model], direction="ancestors", relations=inherited.relations)
    loaded = walk(graph, [model], direction="ancestors", relations=runtime.relations)  # whose weights it loads
    code_ends = loaded if code.relations == runtime.relations else walk(
        graph, [model], direction="ancestors", relations=code.relations)  # a code hop into them runs its code
    lineage = {model: 0} | up.depth
    nodes = lg.nodes_of(list(lineage))  # every parent of a lineage model is in the lineage too
    wanted = set(SEVERITY) - set(OPT_IN) | set(include)
    rows: list[tuple[Any, ...]] = []

    def add(finding: str, ancestor: str, depth: int, detail: str | None, severity: Severity | None = None) -> None:
        if finding in wanted:
            rows.append((model, severity or SEVERITY[finding], finding, ancestor, depth, detail))

    runs = [model, *(m for m in lineage if m in code_ends)]  # the models whose code loading m runs, m first
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
        if attrs.get("access") == Access.GATED_MANUAL.value:
            add("restricted", member, depth, "gated: the owner approves each user")
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
    for member, detail in unsafe_file_rows(lg, lineage):
        add("unsafe_files", member, lineage[member], detail)
    for _, ancestor, reason, lag, depth, detail in stale_ancestor_rows(lg, [model]):
        add(reason, ancestor, depth, f"{lag} days; {detail}" if lag is not None else detail)
    dangling = lg.snapshot.dangling.filter(pl.col("child").is_in(list(lineage)))
    for child, raw, reason, field in dangling.select("child", "raw", "reason", "field").iter_rows():
        if reason not in CRAWL_DANGLING:
            add("dangling", child, lineage[child], f"{field}: {raw!r} ({reason})")
        elif DANGLING_ACCESS[reason] == Access.GATED_MANUAL.value:
            add("restricted", raw, lineage[child] + 1, "gated: the crawl was refused its record")
    return rows


Identity = tuple[str, str, str]
"""A finding's identity: (finding, model checked, ancestor) (module docstring)."""


class UnknownFinding(ValueError):
    """An ``--ignore`` that names no kind of :data:`SEVERITY` (the message names the known ones), or an
    empty MODEL."""


@dataclass(frozen=True)
class Ignore:
    """One ``--ignore FINDING[:MODEL]``: waive the findings of kind ``finding`` (about ``model`` only, when
    given) (module docstring)."""

    finding: str
    model: str | None = None

    @classmethod
    def parse(cls, text: str) -> Ignore:
        """``FINDING`` or ``FINDING:MODEL``; :class:`UnknownFinding` when FINDING is not a kind of :data:`SEVERITY`."""
        finding, colon, model = text.strip().partition(":")
        if finding not in SEVERITY:
            raise UnknownFinding(f"--ignore {text!r}: unknown finding {finding!r}; the findings are "
                                 + ", ".join(SEVERITY))
        model = model.strip()
        if colon and not model:
            raise UnknownFinding(f"--ignore {text!r}: give a model after the ':', or no ':'")
        return cls(finding, (normalize_reference(model).id or model) if model else None)

    def __str__(self) -> str:
        return self.finding if self.model is None else f"{self.finding}:{self.model}"

    def matches(self) -> pl.Expr:
        """Whether a row of findings is waived by this ignore, on rows with the key of their ancestor
        (:func:`ptmgraph.ids.id_key`) in ``_ancestor``."""
        same = pl.col("finding") == self.finding
        if self.model is None:
            return same
        return same & (pl.col("_ancestor") == id_key(self.model))


@dataclass(frozen=True, kw_only=True)
class CheckSummary(Summary):
    """The summary of ``check`` (:func:`check`, :func:`waive`)."""

    models: list[str]
    """The models checked, as the snapshot spells them, in the order given."""
    findings: int
    """Findings, waived ones included (its rows)."""
    high: int
    """Findings of severity high that are not waived."""
    medium: int
    """Findings of severity medium that are not waived."""
    low: int
    """Findings of severity low that are not waived."""
    waived: int
    """Findings waived by ``--ignore`` or the baseline."""
    unmatched_ignores: list[str]
    """The ``--ignore`` rules that waived nothing."""
    fail_on: Severity
    """The severity at or above which a finding fails the check (``--fail-on``)."""
    failed: bool
    """Whether a finding that is not waived is at ``fail_on`` or above (exit code 1)."""
    failing_models: list[str]
    """The models with such a finding, sorted."""


def identities(rows: pl.DataFrame) -> list[Identity]:
    """The identities of the findings in ``rows`` (module docstring), each once, sorted."""
    return sorted(set(rows.select("finding", "id", "ancestor").iter_rows()))


def waive(
    result: AnalysisResult[CheckSummary], *, fail_on: Severity = "low", ignore: Iterable[Ignore] = (),
    baseline: Iterable[Identity] = (),
) -> AnalysisResult[CheckSummary]:
    """``result`` (of :func:`check`) with its findings waived by ``ignore`` and ``baseline`` (module docstring),
    and its summary and tables counted again: the waived rows last, ``failed`` from the others."""
    return _waived(result.title, result.rows, result.summary.models, fail_on=fail_on, ignore=ignore,
                   baseline=baseline)


def _waived(
    title: str, rows: pl.DataFrame, targets: list[str], *, fail_on: Severity, ignore: Iterable[Ignore],
    baseline: Iterable[Identity],
) -> AnalysisResult[CheckSummary]:
    """The findings ``rows`` of the models ``targets`` waived and counted (:func:`waive`)."""
    if fail_on not in SEVERITY_RANK:
        raise ValueError(f"fail_on must be low, medium or high, not {fail_on!r}")
    ignores = list(dict.fromkeys(ignore))
    known = pl.DataFrame(list(set(baseline)), schema=dict.fromkeys(["finding", "id", "ancestor"], pl.String()),
                         orient="row")
    known = known.select("finding", _id=lowercase_ids(known["id"]), _ancestor=lowercase_ids(known["ancestor"]),
                         _known=pl.lit(True))
    rows = rows.drop("waived", strict=False)
    ignored = pl.any_horizontal([i.matches() for i in ignores]) if ignores else pl.lit(False)
    frame = (
        rows.with_columns(_id=lowercase_ids(rows["id"]), _ancestor=lowercase_ids(rows["ancestor"]))
        .join(known, on=["finding", "_id", "_ancestor"], how="left", maintain_order="left")
        .with_columns(
            pl.when(ignored).then(pl.lit("ignore")).when(pl.col("_known").fill_null(False))
            .then(pl.lit("baseline")).otherwise(None).cast(pl.String()).alias("waived"),
            pl.col("severity").replace_strict(SEVERITY_RANK, return_dtype=pl.Int64()).alias("_rank"),
        )
        .sort([pl.col("waived").is_not_null(), "_rank", "id", "depth", "finding", "ancestor"],
              descending=[False, True, False, False, False, False])
    )
    matched = {str(i) for i in ignores if frame.select(i.matches().any()).item()}
    frame = frame.select([*_ROW_SCHEMA, "waived"])
    active = frame.filter(pl.col("waived").is_null())
    counts = {level: int((active["severity"] == level).sum()) for level in ("high", "medium", "low")}
    at_or_above = {s for s, r in SEVERITY_RANK.items() if r >= SEVERITY_RANK[fail_on]}
    failing = active.filter(pl.col("severity").is_in(at_or_above))
    waived = pl.col("waived").is_not_null()
    by_model = pl.DataFrame({"id": targets}, schema={"id": pl.String()}).join(
        frame.group_by("id").agg(
            *[((pl.col("severity") == level) & ~waived).sum().alias(level) for level in ("high", "medium", "low")],
            waived.sum().alias("waived"),
        ),
        on="id",
        how="left",
    ).with_columns(pl.col("high", "medium", "low", "waived").fill_null(0).cast(pl.Int64()))
    by_finding = (
        frame.group_by("finding", "severity")
        .agg(pl.len().cast(pl.Int64()).alias("findings"), waived.sum().cast(pl.Int64()).alias("waived"))
        .with_columns(pl.col("severity").replace_strict(SEVERITY_RANK, return_dtype=pl.Int64()).alias("_rank"))
        .sort(["_rank", "finding"], descending=[True, False])
        .drop("_rank")
    )
    return AnalysisResult(
        title=title,
        rows=frame,
        summary=CheckSummary(
            models=targets,
            findings=frame.height,
            high=counts["high"],
            medium=counts["medium"],
            low=counts["low"],
            waived=frame.height - active.height,
            unmatched_ignores=[str(i) for i in ignores if str(i) not in matched],
            fail_on=fail_on,
            failed=failing.height > 0,
            failing_models=sorted(set(failing["id"].to_list())),
        ),
        tables={"by_model": by_model, "by_finding": by_finding},
    )


def check(
    lg: LineageGraph, models: Iterable[str], *, compromised: Iterable[str] = (), fail_on: Severity = "low",
    include: Iterable[str] = (), ignore: Iterable[Ignore] = (), baseline: Iterable[Identity] = (),
) -> AnalysisResult[CheckSummary]:
    """The findings of each model (module docstring), with the opt-in findings named in ``include``
    (:data:`OPT_IN`), most severe first, the waived ones (by ``ignore`` and
    ``baseline``, see :func:`waive`) last; ``summary.failed`` says whether any finding that is not waived
    is at ``fail_on`` or above. ``tables``: ``by_model`` and ``by_finding`` (findings and waived per kind)."""
    if fail_on not in SEVERITY_RANK:
        raise ValueError(f"fail_on must be low, medium or high, not {fail_on!r}")
    include = list(include)
    unknown = sorted(set(include) - set(OPT_IN))
    if unknown:
        raise ValueError(f"unknown opt-in finding(s) {', '.join(unknown)}; known: {', '.join(OPT_IN)}")
    targets = list(dict.fromkeys(lg.resolve(m) for m in models))
    named = {lg.resolve(m) for m in compromised}
    rows = [row for model in targets for row in lineage_findings(lg, model, named, include)]
    frame = (
        pl.DataFrame(rows, schema=_ROW_SCHEMA, orient="row")
        .unique(["id", "finding", "ancestor", "detail"], maintain_order=True)
    )
    return _waived("Lineage check", frame, targets, fail_on=fail_on, ignore=ignore, baseline=baseline)


def ignores(texts: Iterable[str]) -> list[Ignore]:
    """The ``--ignore`` rules ``texts`` (:meth:`Ignore.parse`); a usage error for an unknown finding."""
    try:
        return [Ignore.parse(text) for text in texts]
    except UnknownFinding as e:
        raise d.UsageError(str(e)) from None


def _check_arguments(values: Mapping[str, Any]) -> dict[str, Any]:
    """``check``'s option values as :func:`check` takes them: MODEL as ``models``, the ``--ignore`` rules parsed."""
    return {"models": values["model"], "ignore": ignores(values["ignore"])}


def _check_columns(columns: list[str], result: AnalysisResult[CheckSummary], values: Mapping[str, Any]) -> list[str]:
    """``check``'s table: ``waived`` second when a finding is waived, ``id`` first when several models are."""
    return [*(["id"] if len(result.summary.models) > 1 else []), columns[0],
            *(["waived"] if result.summary.waived else []), *columns[1:]]


COMMANDS = (
    d.Analysis("check", "Lineage findings of each model (stale, risky, unavailable or compromised ancestors, licence "
               "drift, files the Hub's scan calls unsafe, dangling references, pickle-only weights), each with a "
               "severity; exit 1 at --fail-on or above.",
               (d.MODELS.but(least=1),
                d.Option(("--fail-on",), "fail_on", "Exit 1 on a finding at this severity or above.", "choice", "low",
                         metavar="low|medium|high", choices=d.choices("FailOn", SEVERITY_RANK)),
                d.COMPROMISED, d.FROM_FILE, d.SNAPSHOT, d.FORMAT, d.LIMIT, d.CSV_RAW,
                d.Option(("--compromised-from-file",), "compromised_file", "More compromised models, one id a line.",
                         "path", metavar="FILE", extends="compromised"),
                d.Option(("--include",), "include", "Also report this opt-in finding (repeatable): restricted (gated "
                         "with manual approval), card_updated (only an ancestor's card or other files changed).",
                         "choice", metavar="FINDING", choices=d.choices("OptInFinding", OPT_IN), many=True),
                d.IGNORE, d.BASELINE,
                d.Option(("--write-baseline",), "write_baseline", "Write every finding of this run to a baseline "
                         "file (then waived: exit 0).", "path", metavar="FILE"), *d.LOOKUP),
               summary="CheckSummary", rows="findings", function=check, prepare=_check_arguments,
               look_up=d.LookUp("model", "ancestors"), columns=("severity", "finding", "ancestor", "detail"),
               adjust_columns=_check_columns, answer=("severity", "finding", "ancestor"),
               fails=lambda result: bool(result.summary["failed"])),
)
"""The command of this module's analysis (:mod:`ptmgraph.declaration`); ``waived`` comes second when any
finding is waived, and ``id`` first for several models."""
