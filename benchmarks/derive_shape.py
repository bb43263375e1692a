"""Derive the generator's shape parameters from the real Hub sample.

Usage: python -m benchmarks.derive_shape [SAMPLE_DIR]   (default: ../shared/data/hub-sample)

Prints every parameter that :mod:`benchmarks.hub_shape` holds, computed from ``models.jsonl`` and
``model_tree.jsonl``. ``tests/test_benchmarks.py`` checks that the committed constants equal this
output, so a parameter cannot drift from its source unnoticed.

The sample is a crawl of the model trees of about twenty famous bases (see ../shared/data/README.md):
its *crawl roots* (tree depth 0) were picked for their fame, so their fan-out is not a random draw.
Parameters about fan-out therefore come from the tree members below the roots, whose child lists the
Hub gave in full.
"""

from __future__ import annotations

import json
import math
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

DEFAULT_SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "data" / "hub-sample"

TREE_HEADINGS = {"finetunes": "finetune", "adapters": "adapter", "quantizations": "quantized", "merges": "merge"}
"""The model tree's headings and the relation each one states."""

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".gguf", ".onnx", ".h5", ".msgpack")
"""File endings that hold weights, as the sample's ``siblings`` show them."""


def _rows(path: Path) -> Iterator[dict[str, Any]]:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: the Hub sample is missing (see ../shared/README.md)")
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)


def _days(stamp: str) -> float:
    """Days since 1970-01-01 of an API timestamp such as ``2025-01-29T08:29:22.000Z``."""
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() / 86_400


def _quantiles(values: list[float], count: int) -> list[float]:
    """``count`` + 1 evenly spaced quantiles (nearest rank), minimum and maximum included."""
    ordered = sorted(values)
    return [round(ordered[round(k * (len(ordered) - 1) / count)], 3) for k in range(count + 1)]


def _shares(counter: Counter[Any], top: int) -> list[list[Any]]:
    """The ``top`` most common values with their share of all counted, rounded to 4 places."""
    total = sum(counter.values())
    return [[value, round(n / total, 4)] for value, n in counter.most_common(top)]


def _fractions(counter: Counter[Any]) -> dict[str, float]:
    """Every counted value (as a string, in sorted order) with its share, rounded to 4 places."""
    return {str(value): round(n / counter.total(), 4) for value, n in sorted(counter.items())}


def _lognormal(values: list[int]) -> dict[str, float]:
    """Share of zeros, and the mean and standard deviation of ln(x) over the positive values."""
    positive = [math.log(v) for v in values if v > 0]
    mu = sum(positive) / len(positive)
    sigma = math.sqrt(sum((x - mu) ** 2 for x in positive) / len(positive))
    return {"zero_share": round(1 - len(positive) / len(values), 4), "mu": round(mu, 3), "sigma": round(sigma, 3)}


def _card_bases(card: dict[str, Any]) -> list[Any]:
    base = card.get("base_model")
    if isinstance(base, list):
        return base
    return [base] if base else []


def derive(sample: Path = DEFAULT_SAMPLE) -> dict[str, Any]:
    """Every shape parameter, computed from the sample in ``sample`` (see the module docstring)."""
    records = [r for r in _rows(sample / "models.jsonl") if "createdAt" in r]
    trees = list(_rows(sample / "model_tree.jsonl"))
    tree_depth = {t["id"]: t["depth"] for t in trees}

    # Tree edges: parent depth and relation. A parent's depth is its distance from the crawl root.
    parent_depth: Counter[int] = Counter()
    relation_below_root: Counter[str] = Counter()
    relation_deeper: Counter[str] = Counter()
    fan_out: Counter[str] = Counter()
    for tree in trees:
        for heading, relation in TREE_HEADINGS.items():
            for _child in tree[heading]:
                depth = tree["depth"]
                parent_depth[min(depth, 3)] += 1
                (relation_below_root if depth == 0 else relation_deeper)[relation] += 1
                fan_out[tree["id"]] += 1
    non_root_fans = [n for model, n in fan_out.items() if tree_depth[model] > 0]
    # Continuous power-law MLE with the discrete correction x_min - 1/2 (Clauset et al. 2009, eq. 3.7).
    fan_alpha = 1 + len(non_root_fans) / sum(math.log(n / 0.5) for n in non_root_fans)
    non_roots = sum(1 for t in trees if t["depth"] > 0)

    cards = [r.get("cardData") or {} for r in records]
    base_counts = Counter(len(_card_bases(c)) for c in cards)
    multi = {k: n for k, n in base_counts.items() if k >= 2}
    with_new_version = [c for c in cards if c.get("new_version")]

    formats: Counter[str] = Counter()
    other_files: Counter[str] = Counter()
    other_counts: list[float] = []
    for record in records:
        names = [s["rfilename"] for s in record.get("siblings", [])]
        found = sorted({suffix for name in names for suffix in WEIGHT_SUFFIXES if name.endswith(suffix)})
        formats[" ".join(found)] += 1
        others = [n for n in names if not n.endswith(WEIGHT_SUFFIXES) and n not in (".gitattributes", "README.md")]
        other_files.update(others)
        other_counts.append(len(others))

    created = [_days(r["createdAt"]) for r in records]
    modified_lag = [_days(r["lastModified"]) - _days(r["createdAt"]) for r in records]
    authors = Counter(r["author"] for r in records)

    return {
        "parent_depth_shares": _fractions(parent_depth),
        "relation_shares_below_root": _fractions(relation_below_root),
        "relation_shares_deeper": _fractions(relation_deeper),
        "fan_out_alpha": round(fan_alpha, 3),
        "non_root_parent_share": round(len(non_root_fans) / non_roots, 4),
        "multi_base_share": round(sum(multi.values()) / len(cards), 4),
        "multi_base_counts": {str(k): round(n / sum(multi.values()), 4) for k, n in sorted(multi.items())},
        "new_version_share": round(len(with_new_version) / len(cards), 4),
        "new_version_is_base_share": round(
            sum(1 for c in with_new_version if c["new_version"] in _card_bases(c)) / len(with_new_version), 4
        ),
        "datasets_share": round(sum(1 for c in cards if c.get("datasets")) / len(cards), 4),
        "license_shares": _shares(Counter(c.get("license") for c in cards), 12),
        "library_pipeline_shares": _shares(
            Counter(f"{r.get('library_name')}|{r.get('pipeline_tag')}" for r in records), 10
        ),
        "weight_suffix_shares": _shares(formats, 8),
        "other_file_count_quantiles": _quantiles(other_counts, 20),
        "common_other_files": [name for name, _ in other_files.most_common(16)],
        "gated_shares": _shares(Counter(str(r.get("gated")) for r in records), 3),
        "downloads": _lognormal([r.get("downloads", 0) for r in records]),
        "likes": _lognormal([r.get("likes", 0) for r in records]),
        "created_day_quantiles": _quantiles(created, 20),
        "modified_lag_day_quantiles": _quantiles(modified_lag, 20),
        "models_per_author": round(len(records) / len(authors), 3),
        "sample_record_bytes": round(sum(len(json.dumps(r)) for r in records) / len(records)),
    }


def main() -> None:
    sample = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SAMPLE
    json.dump(derive(sample), sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
