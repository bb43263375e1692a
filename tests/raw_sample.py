"""Readers of the raw Hub sample for tests: expected values computed without any ptmgraph code."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

PLACEHOLDER_LICENSES = {"license", "licence", "none", "null", "n/a", "unknown", "tbd", "todo"}


def raw_records(sample: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (sample / "models.jsonl").open()]


def raw_front_matter(sample: Path) -> dict[str, dict[str, Any]]:
    """Model id -> the YAML front matter of its raw README (only cards whose front matter parses)."""
    found: dict[str, dict[str, Any]] = {}
    for line in (sample / "readmes.jsonl").open():
        row = json.loads(line)
        text = (row.get("readme") or "").lstrip("\ufeff \t\r\n").replace("\r\n", "\n")
        if not text.startswith("---\n"):
            continue
        head, sep, _ = text[4:].partition("\n---")
        try:
            meta = yaml.safe_load(head) if sep else None
        except yaml.YAMLError:
            continue
        if isinstance(meta, dict):
            found[row["id"]] = meta
    return found


def raw_license(row: dict[str, Any]) -> str | None:
    """The licence a raw Hub record states: the card's (``other`` + ``license_name`` -> ``other:<name>``,
    else ``other`` + ``license_link`` -> ``other:<link>``),
    else its ``license:`` tag; placeholders such as ``unknown`` in the card name no licence."""
    card = row.get("cardData") or {}
    values = card.get("license")
    values = values if isinstance(values, list) else [values]
    named = [str(v).strip().lower() for v in values if v is not None and str(v).strip()]
    named = [v for v in named if v not in PLACEHOLDER_LICENSES]
    if named:
        joined = ",".join(named)
        if joined == "other" and card.get("license_name"):
            return f"other:{str(card['license_name']).strip().lower()}"
        if joined == "other" and card.get("license_link"):
            return f"other:{str(card['license_link']).strip().lower()}"
        return joined
    tags = [t for t in row.get("tags") or [] if t.startswith("license:")]
    return tags[0].split(":", 1)[1].lower() if tags else None


ORIGINAL_MODEL_LINK = re.compile(r"original model:\s*\[?[^\]\n]*\]?\(?https://huggingface\.co/([\w.-]+/[\w.-]+)", re.I)


def raw_prose_parents(sample: Path) -> dict[str, str]:
    """Child id -> the model its README's "Original model: <link>" line names (lower case)."""
    found: dict[str, str] = {}
    for line in (sample / "readmes.jsonl").open():
        row = json.loads(line)
        match = ORIGINAL_MODEL_LINK.search(row.get("readme") or "")
        if match:
            found[row["id"].lower()] = match.group(1).lower()
    return found


def raw_edges(sample: Path) -> set[tuple[str, str]]:
    """(base, child) pairs in lower case from card ``base_model``, Hub tags and model-tree lists.

    A quantizer's card copies the base of the model it quantizes: where the README's "Original model"
    line names a model whose own base is the child's declared base, the named model is the parent.
    """
    pairs: set[tuple[str, str]] = set()
    for row in raw_records(sample):
        bases = (row.get("cardData") or {}).get("base_model")
        for base in bases if isinstance(bases, list) else [bases]:
            if isinstance(base, str) and base.strip():
                pairs.add((base.strip().lower(), row["id"].lower()))
        for tag in row.get("tags") or []:
            if tag.startswith("base_model:"):
                pairs.add((tag.rsplit(":", 1)[1].lower(), row["id"].lower()))
    for line in (sample / "model_tree.jsonl").open():
        row = json.loads(line)
        for heading in ("finetunes", "adapters", "quantizations", "merges"):
            pairs.update((row["id"].lower(), child.lower()) for child in row[heading])
    for child, named in raw_prose_parents(sample).items():
        for base in [b for b, c in pairs if c == child and (b, named) in pairs]:
            pairs.discard((base, child))
            pairs.add((named, child))
    recorded = {row["id"].lower() for row in raw_records(sample)}
    for line in (sample / "model_tree.jsonl").open():  # the Hub's adapters hang on the model they load
        recorded.update(child.lower() for child in json.loads(line)["adapters"])
    for child, (base, named) in raw_name_parents(pairs, recorded).items():
        pairs.discard((base, child))
        pairs.add((named, child))
    return pairs


QUANTIZED_COPY = re.compile(r"(?:[-_.](?:gguf|ggml|gptq|awq|exl2|mlx|bnb|\d-?bits?|fp8|int[48]|i1|imatrix|"
                            r"i?q\d(?:_[a-z0-9]+)*|\d(?:\.\d)?bpw|h\d))+$")
MARKER = re.compile(r"gguf|ggml|gptq|awq|exl2|mlx|bnb|bit|fp8|int[48]|q\d|bpw")


def raw_name_parents(pairs: set[tuple[str, str]], skipped: set[str]) -> dict[str, tuple[str, str]]:
    """Child -> (its one listed base, the model its name names) for children not in ``skipped`` named after
    one model below that base (``X-GGUF`` ...; letter case and a trailing ``-hf`` aside), not the base."""
    bases: dict[str, set[str]] = {}
    for base, child in pairs:
        bases.setdefault(child, set()).add(base)

    def key(name: str) -> str:
        return re.sub(r"[-_.]hf$", "", name.split("/")[-1])

    def below(model: str, ancestor: str) -> bool:
        seen, todo = set(), [model]
        while todo:
            for parent in bases.get(todo.pop(), ()):
                if parent == ancestor:
                    return True
                if parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        return False

    by_name: dict[str, set[str]] = {}
    for model in bases:
        by_name.setdefault(key(model), set()).add(model)
    found = {}
    for child, listed in bases.items():
        suffix = QUANTIZED_COPY.search(child.split("/")[-1])
        if child in skipped or len(listed) != 1 or not suffix or not MARKER.search(suffix.group(0)):
            continue
        (base,) = listed
        stem = key(child.split("/")[-1][: suffix.start()])
        named = [m for m in by_name.get(stem, ()) if m not in (child, base) and below(m, base)]
        if stem and stem != key(base) and len(named) == 1:
            found[child] = (base, named[0])
    return found
