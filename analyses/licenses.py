"""Licence drift: edges whose derived model states a different licence than its base.

Definitions:

- A model's **licence** is the Hub licence id its card (or ``license:`` tag) states, lower-case; a
  comma-joined value (``apache-2.0,mit``) offers a choice of licences. No licence stated is ``None``.
- A **drift edge** is an edge base -> derived where both models state a licence and the two differ.
  Edges where exactly one side states a licence are counted (``edges_license_unstated``), not listed.
- Every Hub licence id we know belongs to one **licence class** (:data:`LICENSE_CLASSES`); the classes
  are ranked by how much they forbid a derived work (:data:`CLASS_STRICTNESS`, 0 = least). Ids not in
  the table (``other``, an unlisted ``other:<name>``, anything new) have no class; ``other:<name>`` where
  ``<name>`` is a listed id (``other:llama4``) takes that id's class. A choice of licences takes the
  least strict class among its members.
- The **verdict** on a pair (base licence, derived licence) is :func:`classify_license_pair`:

  ===============================================================  ====================
  base licence -> derived licence                                  verdict
  ===============================================================  ====================
  identical                                                        ``same``
  either missing, or either without a class                        ``unclear``
  derived class less strict than the base's                        ``likely_violation``
  derived class stricter, base not copyleft                        ``allowed``
  derived class stricter, base copyleft (share-alike forbids it)   ``unclear``
  same class, permissive or use_restricted (RAIL)                  ``allowed``
  same class, any other (different terms of equal weight)          ``unclear``
  ===============================================================  ====================

  So a ``llama2`` or ``gemma`` base with an ``apache-2.0`` or ``mit`` child is a likely violation, and an
  ``apache-2.0`` base with a ``llama2`` child is allowed. Each RAIL licence carries the use restrictions a
  RAIL base requires to be passed on, hence RAIL -> other RAIL is allowed. The verdict is a triage hint
  from licence ids, not legal advice: the licence texts decide.
"""

from __future__ import annotations

from typing import Literal

import polars as pl

from ptmgraph.graph import LineageGraph
from ptmgraph.result import AnalysisResult

LicenseClass = Literal["permissive", "copyleft", "use_restricted", "custom", "noncommercial", "no_derivatives"]
Verdict = Literal["same", "allowed", "likely_violation", "unclear"]

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

_IDS_BY_CLASS: dict[LicenseClass, tuple[str, ...]] = {
    "permissive": (
        "apache-2.0", "mit", "bsd", "bsd-2-clause", "bsd-3-clause", "bsd-3-clause-clear", "bsl-1.0", "isc",
        "zlib", "unlicense", "wtfpl", "cc0-1.0", "cc-by-2.0", "cc-by-2.5", "cc-by-3.0", "cc-by-4.0", "pddl",
        "odc-by", "afl-3.0", "artistic-2.0", "ecl-2.0", "postgresql", "ncsa", "ofl-1.1", "etalab-2.0",
        "cdla-permissive-1.0", "cdla-permissive-2.0", "openmdw-1.0", "lppl-1.3c",
    ),
    "copyleft": (
        "gpl", "gpl-2.0", "gpl-3.0", "agpl-3.0", "lgpl", "lgpl-2.1", "lgpl-3.0", "lgpl-lr", "mpl-2.0",
        "epl-1.0", "epl-2.0", "eupl-1.1", "eupl-1.2", "osl-3.0", "ms-pl", "gfdl", "cc-by-sa-3.0",
        "cc-by-sa-4.0", "odbl", "cdla-sharing-1.0",
    ),
    "use_restricted": (
        "openrail", "openrail++", "creativeml-openrail-m", "bigscience-openrail-m", "bigcode-openrail-m",
        "bigscience-bloom-rail-1.0",
    ),
    "custom": (
        "llama2", "llama3", "llama3.1", "llama3.2", "llama3.3", "llama4", "gemma", "deepfloyd-if-license",
        "apple-ascl", "apple-amlr", "intel-research", "h-research", "c-uda", "grok2-community",
        # `license: other` with a `license_name` naming a vendor licence, as the sample's cards write them
        "other:gemma-terms-of-use", "other:exaone", "other:stabilityai-ai-community",
        "other:stable-video-diffusion-community", "other:nvidia-open-model-license",
    ),
    "noncommercial": (
        "cc-by-nc-2.0", "cc-by-nc-3.0", "cc-by-nc-4.0", "cc-by-nc-sa-2.0", "cc-by-nc-sa-3.0", "cc-by-nc-sa-4.0",
        "fair-noncommercial-research-license",
    ),
    "no_derivatives": ("cc-by-nd-4.0", "cc-by-nc-nd-3.0", "cc-by-nc-nd-4.0"),
}

LICENSE_CLASSES: dict[str, LicenseClass] = {i: cls for cls, ids in _IDS_BY_CLASS.items() for i in ids}
"""Hub licence id (as the Hub's licence picker and ``license:`` tags spell it) -> licence class."""

VERDICT_ORDER: tuple[Verdict, ...] = ("likely_violation", "unclear", "allowed", "same")


def _class_of_one(license_id: str) -> LicenseClass | None:
    found = LICENSE_CLASSES.get(license_id)
    if found is None and license_id.startswith("other:"):
        found = LICENSE_CLASSES.get(license_id.removeprefix("other:"))  # `other` + license_name: llama4
    return found


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
    """The verdict on a base licence and its derived model's licence (the module docstring's table)."""
    if base_license is not None and license is not None and base_license.lower() == license.lower():
        return "same"
    base_class, child_class = license_class(base_license), license_class(license)
    if base_class is None or child_class is None:
        return "unclear"
    base_rank, child_rank = CLASS_STRICTNESS[base_class], CLASS_STRICTNESS[child_class]
    if child_rank < base_rank:
        return "likely_violation"
    if child_rank > base_rank:
        return "unclear" if base_class == "copyleft" else "allowed"
    if base_class == child_class and base_class in ("permissive", "use_restricted"):
        return "allowed"
    return "unclear"


_ROW_SCHEMA = {
    "id": pl.String(),
    "base": pl.String(),
    "relation": pl.String(),
    "base_license": pl.String(),
    "license": pl.String(),
    "verdict": pl.String(),
    "base_license_class": pl.String(),
    "license_class": pl.String(),
    "downloads": pl.Int64(),
}


def license_drift(lg: LineageGraph) -> AnalysisResult:
    """Every drift edge (see the module docstring) with its verdict, the most severe and downloaded first.

    One row per edge: the derived model under ``id``, its ``base``, the edge's ``relation``, both licences,
    the ``verdict`` and both licence classes. ``tables["by_pair"]`` counts edges per (base licence,
    licence, verdict); ``tables["by_verdict"]`` per verdict.
    """
    models = lg.snapshot.models.select("id", "license", "downloads")
    edges = (
        lg.snapshot.edges.select("base", "child", "relation")
        .join(models.select("id", pl.col("license").alias("base_license")), left_on="base", right_on="id", how="left")
        .join(models, left_on="child", right_on="id", how="left")
    )
    both = edges.filter(pl.col("base_license").is_not_null() & pl.col("license").is_not_null())
    drift = both.filter(pl.col("base_license") != pl.col("license"))
    rows = pl.DataFrame(
        [
            {
                "id": child,
                "base": base,
                "relation": relation,
                "base_license": base_license,
                "license": license,
                "verdict": classify_license_pair(base_license, license),
                "base_license_class": license_class(base_license),
                "license_class": license_class(license),
                "downloads": downloads,
            }
            for base, child, relation, base_license, license, downloads in drift.iter_rows()
        ],
        schema=_ROW_SCHEMA,
    )
    rank = {v: i for i, v in enumerate(VERDICT_ORDER)}
    rows = rows.sort(
        [pl.col("verdict").replace_strict(rank, return_dtype=pl.Int64()), "downloads", "id", "base"],
        descending=[False, True, False, False],
        nulls_last=True,
    )
    by_pair = (
        rows.group_by("base_license", "license", "verdict")
        .len("edges")
        .sort(["edges", "base_license", "license"], descending=[True, False, False])
    )
    by_verdict = pl.DataFrame(
        {"verdict": [v for v in VERDICT_ORDER if v != "same"]}, schema={"verdict": pl.String()}
    ).join(rows.group_by("verdict").len("edges"), on="verdict", how="left").fill_null(0)
    counts = dict(by_verdict.iter_rows())
    stated = edges.select(pl.col("base_license").is_not_null().cast(pl.Int64) + pl.col("license").is_not_null())
    return AnalysisResult(
        title="Licence drift",
        rows=rows,
        summary={
            "edges": edges.height,
            "edges_both_licensed": both.height,
            "edges_license_unstated": int((stated.to_series() == 1).sum()),
            "drift_edges": rows.height,
            "likely_violations": int(counts.get("likely_violation", 0)),
            "unclear": int(counts.get("unclear", 0)),
            "allowed": int(counts.get("allowed", 0)),
        },
        tables={"by_pair": by_pair, "by_verdict": by_verdict},
    )
