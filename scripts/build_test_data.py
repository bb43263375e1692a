"""Rebuild the test suite's copy of the Hub sample (tests/data/hub-sample/) from the real one beside the project.

Usage: python scripts/build_test_data.py [SAMPLE_DIR]
(default SAMPLE_DIR: ../shared/data/hub-sample relative to the repository root; like
build_bundled_snapshot.py, this is a build script: the tests read only what it writes.)

Written, gzip-compressed with a fixed timestamp so that a rebuild of the same input is byte-identical:
- ``models.jsonl.gz`` and ``model_tree.jsonl.gz``: the API records and model-tree lists, verbatim (facts).
- ``cards.jsonl.gz``: one card *written here* per README of the sample, ``{"id", "readme"}`` in the same
  order (so ``readmes.jsonl:N`` sources keep their line numbers). No prose of the real cards is copied:
  each card holds the real front matter's keys, with the values of the keys that state facts (ids, licences,
  tags, datasets, names) and ``null`` for the rest (widgets, prompts, evaluation tables), then the one-line
  quotes the bundled snapshot already keeps as ``card_text`` evidence (an "Original model: <link>" line, at
  most 200 characters; the ``- model:`` lines of a quoted mergekit configuration, in a fenced block),
  which are metadata.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from ptmgraph import snapshot

REPO = Path(__file__).resolve().parents[1]
QUOTE_CHARS = 200  # extract._PHRASE_CHARS: what a card_text quote keeps of its line
TARGET = REPO / "tests" / "data" / "hub-sample"
FACT_KEYS = {
    "base_model", "base_model_relation", "tags", "tag", "license", "licence", "license_name", "license_link",
    "datasets", "library_name", "language", "pipeline_tag", "model_name", "model_type", "metrics", "new_version",
    "inference", "quantized_by", "model_creator", "model_link", "original_model", "arxiv", "pinned",
    "merge-model", "programming_language", "task_categories", "size",
}


def front_matter(text: str) -> dict[str, Any] | None:
    text = text.lstrip("\ufeff \t\r\n").replace("\r\n", "\n")
    if not text.startswith("---\n"):
        return None
    head, sep, _ = text[4:].partition("\n---")
    meta = yaml.safe_load(head) if sep else None
    return meta if isinstance(meta, dict) else None


def written_card(model_id: str, readme: str, quotes: dict[str, list[str]], merges: dict[str, list[str]]) -> str:
    meta = front_matter(readme)
    parts = []
    if meta is not None:
        kept = {str(k): (v if str(k) in FACT_KEYS else None) for k, v in meta.items()}
        parts.append("---\n" + yaml.safe_dump(kept, sort_keys=False, allow_unicode=True) + "---\n")
    parts.append(f"# {model_id}\n\nA card written for ptmgraph's tests from the facts of this model's card.\n")
    parts.extend(f"\n{quote}\n" for quote in quotes.get(model_id.lower(), []))
    if model_id.lower() in merges:  # the lines of a quoted mergekit configuration, in a block of their own
        lines = "".join(f"  {line}\n" for line in merges[model_id.lower()])
        parts.append(f"\n```yaml\nmodels:\n{lines}merge_method: slerp\n```\n")
    return "".join(parts)


def write_gzip(path: Path, data: bytes) -> None:
    path.write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
    print(f"{path.relative_to(REPO)}: {path.stat().st_size:,} bytes")


def main() -> None:
    sample = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO.parent / "shared" / "data" / "hub-sample"
    TARGET.mkdir(parents=True, exist_ok=True)
    for name in ("models.jsonl", "model_tree.jsonl"):
        write_gzip(TARGET / f"{name}.gz", (sample / name).read_bytes())
    bundled = snapshot.current_files(REPO / "ptmgraph" / "data" / "hub-sample")
    from_text = (pl.col("kind") == "card_text") & (pl.col("field") == "README.md:text")
    evidence = pl.read_parquet(bundled / "evidence.parquet").filter(from_text).select("child", "raw", "quote")
    dangling = pl.read_parquet(bundled / "dangling.parquet").filter(from_text).select("child", "raw")
    quotes: dict[str, list[str]] = {}
    for child, raw, quote in pl.concat([evidence, dangling], how="diagonal").sort("child", "raw").iter_rows():
        # A quote is the matched line cut to 200 characters; "..." keeps a cut one from losing its last space.
        # A dangling reference keeps no quote: its line is written in one of the phrasings the cards use.
        line = f"Quantized version of {raw}" if quote is None or raw not in quote else quote
        quotes.setdefault(child.lower(), []).append(line + (" ..." if len(line) >= QUOTE_CHARS else ""))
    merges: dict[str, list[str]] = {}
    from_merge = (pl.col("kind") == "card_text") & (pl.col("field") == "README.md:mergekit")
    for child, quote in pl.read_parquet(bundled / "evidence.parquet").filter(from_merge).select(
            "child", "quote").sort("child", "quote").iter_rows():
        merges.setdefault(child.lower(), []).append(quote)
    for child, raw in pl.read_parquet(bundled / "dangling.parquet").filter(from_merge).select(
            "child", "raw").sort("child", "raw").iter_rows():  # outweighed: no quote is kept, the line is rewritten
        merges.setdefault(child.lower(), []).append(f"- model: {raw}")
    rows = []
    with (sample / "readmes.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            text = row.get("readme")
            card = written_card(row["id"], text, quotes, merges) if isinstance(text, str) else text
            rows.append(json.dumps({"id": row["id"], "readme": card}, ensure_ascii=False) + "\n")
    write_gzip(TARGET / "cards.jsonl.gz", "".join(rows).encode("utf-8"))


if __name__ == "__main__":
    main()
