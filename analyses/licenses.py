"""Licence drift: edges whose derived model states a different licence than its base, or none under a
base whose licence must be passed on.

Definitions:

- A model's **licence** is the Hub licence id its card (or ``license:`` tag) states, lower-case; a
  comma-joined value (``apache-2.0,mit``) offers a choice of licences. A card's ``license: other`` with
  a ``license_name`` reads ``other:<name>``, with only a ``license_link`` ``other:<link>``. No licence
  stated is ``None``.
- A **drift edge** is an edge base -> derived where both models state a licence and the two differ, or
  where the derived model has a record stating none while the base's licence **passes its terms on**
  (every class but ``permissive``: :data:`PASSES_TERMS_ON`). Other edges where one side states no
  licence are counted (``edges_license_unstated``), not listed.
- Every Hub licence id we know belongs to one **licence class** (:data:`LICENSE_CLASSES`, with the
  spellings of :data:`ALIASES`); the classes are ranked by how much they forbid a derived work
  (:data:`CLASS_STRICTNESS`, 0 = least). ``other:<name>`` takes the class of ``<name>`` when it is a
  listed id or alias (``other:llama4``, ``other:gemma-terms-of-use``), ``other:<link>`` the class of the
  licence a known link names (:data:`LINKS`: Google's Gemma terms, Meta's Llama licences, Mistral's
  licences, choosealicense.com, opensource.org, creativecommons.org). Ids not in the table (``other``,
  an unknown name or link, anything new) have no class. A choice of licences takes the least strict
  class among its members.
- The **verdict** on a pair (base licence, derived licence) is :func:`classify_license_pair`, first
  match wins:

  ===============================================================  ====================
  base licence -> derived licence                                  verdict
  ===============================================================  ====================
  identical                                                        ``same``
  base permissive (any derived licence, or none)                   ``allowed``
  derived states none, base passes its terms on                    ``missing``
  either missing, or either without a class                        ``unclear``
  derived class less strict than the base's                        ``likely_violation``
  derived class stricter, base not copyleft                        ``allowed``
  derived class stricter, base copyleft (share-alike forbids it)   ``unclear``
  same class, use_restricted (RAIL)                                ``allowed``
  same class, any other (different terms of equal weight)          ``unclear``
  ===============================================================  ====================

  So a ``llama2`` or ``gemma`` base with an ``apache-2.0`` or ``mit`` child is a likely violation, a
  ``gemma`` base with a child that states no licence is ``missing``, and an ``apache-2.0`` or ``mit``
  base allows any child licence (a permissive licence asks for attribution at most: the row's
  ``detail`` says so). Each RAIL licence carries the use restrictions a RAIL base requires to be passed
  on, hence RAIL -> other RAIL is allowed. The verdict is a triage hint from licence ids, not legal
  advice: the licence texts decide.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import polars as pl

from ptmgraph import declaration as d
from ptmgraph.graph import LineageGraph
from ptmgraph.result import AnalysisResult, Summary

LicenseClass = Literal["permissive", "copyleft", "use_restricted", "custom", "noncommercial", "no_derivatives"]
Verdict = Literal["same", "allowed", "missing", "likely_violation", "unclear"]

CLASS_STRICTNESS: dict[LicenseClass, int] = {
    "permissive": 0,  # attribution at most
    "copyleft": 1,  # derivatives must keep the same terms (share-alike)
    "use_restricted": 2,  # RAIL / OpenRAIL: behavioural use restrictions passed on to derivatives
    "custom": 3,  # a vendor's model licence: use policy, user caps, naming and redistribution terms
    "noncommercial": 3,  # no commercial use
    "no_derivatives": 4,  # no derivative works at all
}
"""Licence class -> strictness rank (0 = least strict). Custom and non-commercial licences forbid
different things, so neither is stricter than the other."""

PASSES_TERMS_ON: frozenset[LicenseClass] = frozenset(c for c in CLASS_STRICTNESS if c != "permissive")
"""Classes whose licence a derived work must carry on (share-alike, use restrictions, a vendor's terms,
non-commercial, no derivatives): a child that states no licence under them is ``missing``."""

_IDS_BY_CLASS: dict[LicenseClass, tuple[str, ...]] = {
    "permissive": (
        "apache-2.0", "mit", "bsd", "bsd-2-clause", "bsd-3-clause", "bsd-3-clause-clear", "bsl-1.0", "isc",
        "zlib", "unlicense", "wtfpl", "cc0-1.0", "cc-by-2.0", "cc-by-2.5", "cc-by-3.0", "cc-by-4.0", "pddl",
        "odc-by", "afl-3.0", "artistic-2.0", "ecl-2.0", "postgresql", "ncsa", "ofl-1.1", "etalab-2.0",
        "cdla-permissive-1.0", "cdla-permissive-2.0", "openmdw-1.0", "lppl-1.3c",
    ),
    "copyleft": (
        "gpl", "gpl-2.0", "gpl-3.0", "agpl-3.0", "lgpl", "lgpl-2.1", "lgpl-3.0", "lgpl-lr", "mpl-2.0",
        "epl-1.0", "epl-2.0", "eupl-1.1", "eupl-1.2", "osl-3.0", "ms-pl", "gfdl", "cc-by-sa-2.0", "cc-by-sa-3.0",
        "cc-by-sa-4.0", "odbl", "cdla-sharing-1.0",
    ),
    "use_restricted": (
        "openrail", "openrail++", "openrail-m", "creativeml-openrail-m", "bigscience-openrail-m",
        "bigcode-openrail-m", "bigscience-bloom-rail-1.0", "open-rail-m", "rail", "rail-m",
    ),
    "custom": (
        "llama2", "llama3", "llama3.1", "llama3.2", "llama3.3", "llama4", "gemma", "deepfloyd-if-license",
        "apple-ascl", "apple-amlr", "intel-research", "h-research", "c-uda", "grok2-community",
        # vendor licences as cards name them in `license_name` (`license: other`)
        "gemma-terms-of-use", "exaone", "stabilityai-ai-community", "stable-video-diffusion-community",
        "nvidia-open-model-license", "nvidia-oneway-noncommercial-license", "qwen", "tongyi-qianwen", "deepseek",
        "deepseek-license", "falcon-llm-license", "tii-falcon-llm-license", "falcon-mamba-7b-license",
        "yi-license", "baichuan", "internlm", "cogvideox-license", "glm-4", "jamba-open-model-license",
        "mnpl",  # Mistral AI Non-Production License
        "health-ai-developer-foundations", "sam-license", "flux-1-dev-non-commercial-license",
    ),
    "noncommercial": (
        "cc-by-nc-2.0", "cc-by-nc-3.0", "cc-by-nc-4.0", "cc-by-nc-sa-2.0", "cc-by-nc-sa-3.0", "cc-by-nc-sa-4.0",
        "fair-noncommercial-research-license", "mrl",  # Mistral AI Research License: research only
        "qwen-research", "intel-research-use-license", "cc-by-nc", "cc-by-nc-sa",
    ),
    "no_derivatives": ("cc-by-nd-4.0", "cc-by-nc-nd-3.0", "cc-by-nc-nd-4.0", "cc-by-nd", "cc-by-nc-nd"),
}

LICENSE_CLASSES: dict[str, LicenseClass] = {i: cls for cls, ids in _IDS_BY_CLASS.items() for i in ids}
"""Hub licence id (as the Hub's licence picker and ``license:`` tags spell it, or a vendor licence's name
as cards write it in ``license_name``) -> licence class."""

ALIASES: dict[str, str] = {
    "llama-2": "llama2", "llama-3": "llama3", "llama-3.1": "llama3.1", "llama-3.2": "llama3.2",
    "llama-3.3": "llama3.3", "llama-4": "llama4", "llama2-community-license": "llama2",
    "llama3-community-license": "llama3", "llama3_1": "llama3.1", "llama3_2": "llama3.2", "llama3_3": "llama3.3",
    "gemma-license": "gemma", "gemma-terms": "gemma", "mistral-research-license": "mrl",
    "mistral-ai-research-license": "mrl", "mistral-ai-non-production-license": "mnpl",
    "qwen-license": "qwen", "tongyi-qianwen-license-agreement": "tongyi-qianwen",
    "deepseek-model-license": "deepseek", "falcon-license": "falcon-llm-license",
    "creativeml-openrail-m++": "openrail++", "stability-ai-community": "stabilityai-ai-community",
}
"""Other spellings of listed ids (cards write licence names freely)."""

LINKS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"ai\.google\.dev/gemma/terms"), "gemma"),
    (re.compile(r"(?:llama\.meta\.com|llama\.com|ai\.meta\.com)/(?:resources/models-and-libraries/)?llama-?2"),
     "llama2"),
    (re.compile(r"(?:llama\.meta\.com|llama\.com)/llama3_([123])"), r"llama3.\1"),
    (re.compile(r"(?:llama\.meta\.com|llama\.com)/llama3\b"), "llama3"),
    (re.compile(r"(?:llama\.meta\.com|llama\.com)/llama4"), "llama4"),
    (re.compile(r"mistral\.ai/licenses?/mrl"), "mrl"),
    (re.compile(r"mistral\.ai/licenses?/mnpl"), "mnpl"),
    (re.compile(r"choosealicense\.com/licenses/([\w.+-]+)"), r"\1"),
    (re.compile(r"opensource\.org/licenses?/([\w.+-]+)"), r"\1"),
    (re.compile(r"creativecommons\.org/licenses/([a-z-]+)/(\d\.\d)"), r"cc-\1-\2"),
    (re.compile(r"creativecommons\.org/publicdomain/zero/1\.0"), "cc0-1.0"),
)
"""Licence links (``license_link`` of a card with ``license: other``) whose address names the licence:
pattern -> licence id (a replacement template)."""

VERDICT_ORDER: tuple[Verdict, ...] = ("likely_violation", "missing", "unclear", "allowed", "same")


def _listed(name: str) -> LicenseClass | None:
    name = name.strip().lower()
    return LICENSE_CLASSES.get(ALIASES.get(name, name))


def _class_of_one(license_id: str) -> LicenseClass | None:
    found = _listed(license_id)
    if found is not None or not license_id.startswith("other:"):
        return found
    named = license_id.removeprefix("other:")  # `other` + license_name (llama4) or license_link
    if "/" not in named:
        return _listed(named)
    for pattern, template in LINKS:
        match = pattern.search(named)
        if match is not None:
            return _listed(match.expand(template))
    return None


def license_class(license_id: str | None) -> LicenseClass | None:
    """The class of a licence id (see the module docstring); None when missing or not in the table."""
    if not license_id:
        return None
    classes = [_class_of_one(part.strip().lower()) for part in license_id.split(",")]
    known = [c for c in classes if c is not None]
    if not known or len(known) < len(classes):
        return None  # a choice that includes an unknown licence may be anything
    return min(known, key=CLASS_STRICTNESS.__getitem__)


def classify_license_pair(base_license: str | None, license: str | None) -> Verdict:
    """The verdict on a base licence and its derived model's licence (the module docstring's table);
    ``license`` None: the derived model states none."""
    if base_license is not None and license is not None and base_license.lower() == license.lower():
        return "same"
    base_class, child_class = license_class(base_license), license_class(license)
    if base_class == "permissive":
        return "allowed"
    if not license and base_class in PASSES_TERMS_ON:
        return "missing"
    if base_class is None or child_class is None:
        return "unclear"
    base_rank, child_rank = CLASS_STRICTNESS[base_class], CLASS_STRICTNESS[child_class]
    if child_rank < base_rank:
        return "likely_violation"
    if child_rank > base_rank:
        return "unclear" if base_class == "copyleft" else "allowed"
    if base_class == child_class and base_class == "use_restricted":
        return "allowed"
    return "unclear"


def verdict_detail(base_license: str | None, license: str | None, verdict: Verdict) -> str | None:
    """What the verdict asks of the derived model, in a few words (None when nothing)."""
    if verdict == "allowed" and license_class(base_license) == "permissive":
        return f"keep {base_license}'s copyright and licence notice (attribution)"
    if verdict == "missing":
        return f"{base_license} must be passed on; the derived model states no licence"
    if verdict == "likely_violation":
        return f"{license} is less strict than {base_license}"
    return None


_ROW_SCHEMA = {
    "id": pl.String(),
    "base": pl.String(),
    "relation": pl.String(),
    "base_license": pl.String(),
    "license": pl.String(),
    "verdict": pl.String(),
    "base_license_class": pl.String(),
    "license_class": pl.String(),
    "detail": pl.String(),
    "downloads": pl.Int64(),
}


@dataclass(frozen=True, kw_only=True)
class LicenseDriftSummary(Summary):
    """The summary of ``licenses`` (:func:`license_drift`), edges counted by verdict."""

    edges: int
    """Edges in the snapshot."""
    edges_both_licensed: int
    """Edges whose base and child both state a licence."""
    edges_license_unstated: int
    """Edges where exactly one of the two states a licence."""
    drift_edges: int
    """Drift edges (its rows)."""
    likely_violations: int
    """Drift edges with verdict ``likely_violation``."""
    missing: int
    """Drift edges with verdict ``missing``."""
    unclear: int
    """Drift edges with verdict ``unclear``."""
    allowed: int
    """Drift edges with verdict ``allowed``."""


def license_drift(lg: LineageGraph) -> AnalysisResult[LicenseDriftSummary]:
    """Every drift edge (see the module docstring) with its verdict, the most severe and downloaded first.

    One row per edge: the derived model under ``id``, its ``base``, the edge's ``relation``, both licences,
    the ``verdict``, both licence classes and a ``detail`` (:func:`verdict_detail`). ``tables["by_pair"]``
    counts edges per (base licence, licence, verdict); ``tables["by_verdict"]`` per verdict.
    """
    models = lg.snapshot.columns("models", ["id", "license", "downloads", "has_record"])
    edges = (
        lg.snapshot.columns("edges", ["base", "child", "relation"])
        .join(models.select("id", pl.col("license").alias("base_license")), left_on="base", right_on="id", how="left")
        .join(models, left_on="child", right_on="id", how="left")
    )
    both = edges.filter(pl.col("base_license").is_not_null() & pl.col("license").is_not_null())
    unstated = edges.filter(pl.col("base_license").is_not_null() & pl.col("license").is_null()
                            & pl.col("has_record").fill_null(False) & (pl.col("base") != pl.col("child")))
    candidates = pl.concat([both.filter(pl.col("base_license") != pl.col("license")), unstated])
    pairs = candidates.select("base_license", "license").unique()
    verdicts = pairs.with_columns(
        pl.Series("verdict", [classify_license_pair(b, c) for b, c in pairs.iter_rows()], dtype=pl.String()))
    verdicts = verdicts.with_columns(
        pl.Series("base_license_class", [license_class(b) for b in verdicts["base_license"]], dtype=pl.String()),
        pl.Series("license_class", [license_class(c) for c in verdicts["license"]], dtype=pl.String()),
        pl.Series("detail", [verdict_detail(b, c, v) for b, c, v in verdicts.select(  # type: ignore[arg-type]
            "base_license", "license", "verdict").iter_rows()], dtype=pl.String()),
    )
    drift = candidates.join(verdicts, on=["base_license", "license"], how="left", nulls_equal=True)
    drift = drift.filter(pl.col("license").is_not_null() | (pl.col("verdict") == "missing"))
    rows = drift.rename({"child": "id"}).select(list(_ROW_SCHEMA)).cast(_ROW_SCHEMA)  # type: ignore[arg-type]
    rank = {v: i for i, v in enumerate(VERDICT_ORDER)}
    rows = rows.sort(
        [pl.col("verdict").replace_strict(rank, return_dtype=pl.Int64()), "downloads", "id", "base"],
        descending=[False, True, False, False],
        nulls_last=True,
    )
    by_pair = (
        rows.group_by("base_license", "license", "verdict")
        .len("edges")
        .sort(["edges", "base_license", "license"], descending=[True, False, False], nulls_last=True)
    )
    by_verdict = pl.DataFrame(
        {"verdict": [v for v in VERDICT_ORDER if v != "same"]}, schema={"verdict": pl.String()}
    ).join(rows.group_by("verdict").len("edges"), on="verdict", how="left").fill_null(0)
    counts = dict(by_verdict.iter_rows())
    stated = edges.select(pl.col("base_license").is_not_null().cast(pl.Int64) + pl.col("license").is_not_null())
    return AnalysisResult(
        title="Licence drift",
        rows=rows,
        summary=LicenseDriftSummary(
            edges=edges.height,
            edges_both_licensed=both.height,
            edges_license_unstated=int((stated.to_series() == 1).sum()),
            drift_edges=rows.height,
            likely_violations=int(counts.get("likely_violation", 0)),
            missing=int(counts.get("missing", 0)),
            unclear=int(counts.get("unclear", 0)),
            allowed=int(counts.get("allowed", 0)),
        ),
        tables={"by_pair": by_pair, "by_verdict": by_verdict},
    )


COMMANDS = (
    d.Analysis("licenses", "Licence drift: edges whose derived model states another licence than its base, or none "
               "under a base whose licence must be passed on, with a verdict.",
               (d.SNAPSHOT, d.FORMAT, d.LIMIT, d.CSV_RAW), summary="LicenseDriftSummary", function=license_drift,
               columns=("id", "base", "base_license", "license", "verdict"),
               answer=("verdict", "base_license", "license")),
)
"""The command of this module's analysis (:mod:`ptmgraph.declaration`)."""
