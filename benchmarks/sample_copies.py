"""Real record shapes at scale: renamed copies of ../shared/data/hub-sample/models.jsonl.

Usage: python -m benchmarks sample-copies COPIES DIR, then python -m benchmarks run --input DIR ...

Copy k suffixes ``-ck`` to every record's id and to the ids its card and ``base_model:`` tags name,
so the lineage is COPIES disjoint copies of the real one. Beside the generator, this tells whether
ptmgraph pays more per real record (2.9 KB of JSON on average) than per generated one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchmarks.derive_shape import DEFAULT_SAMPLE


def _renamed(value: Any, suffix: str) -> Any:
    if isinstance(value, str) and "/" in value and " " not in value:
        return value + suffix
    if isinstance(value, list):
        return [_renamed(v, suffix) for v in value]
    return value


def _renamed_tag(tag: str, suffix: str) -> str:
    return tag + suffix if tag.startswith("base_model:") else tag


def write_sample_copies(copies: int, folder: Path, sample: Path = DEFAULT_SAMPLE) -> int:
    """Write ``copies`` renamed copies of the sample's records to ``folder/models.jsonl``; returns the count."""
    source = sample / "models.jsonl"
    if not source.is_file():
        raise FileNotFoundError(f"{source}: the Hub sample is missing (see ../shared/README.md)")
    rows = [json.loads(line) for line in source.open(encoding="utf-8") if line.strip()]
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "models.jsonl"
    temporary = target.with_suffix(".jsonl.tmp")
    count = 0
    with temporary.open("w", encoding="utf-8") as out:
        for copy in range(copies):
            suffix = f"-c{copy}"
            for row in rows:
                renamed = dict(row, id=row["id"] + suffix)
                renamed["tags"] = [_renamed_tag(t, suffix) for t in row.get("tags", [])]
                card = dict(row.get("cardData") or {})
                if "base_model" in card:
                    card["base_model"] = _renamed(card["base_model"], suffix)
                renamed["cardData"] = card
                out.write(json.dumps(renamed) + "\n")
                count += 1
    temporary.replace(target)
    return count
