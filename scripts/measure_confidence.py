"""Measure, on the real Hub sample, how often each confidence level is right, and what card prose recovers.

Usage: python scripts/measure_confidence.py [SAMPLE_DIR]
(default SAMPLE_DIR: ../shared/data/hub-sample relative to the repository root). A one-off measurement
for README's Definitions, not a test: it reads the sample's records, cards and model trees, hides part
of what a repo shows, runs the same ingest again and compares with what the hidden part says. Nothing
of the cards is printed or stored, only counts.

1. Relation confidence: the records' file lists are hidden, so every relation is decided from labels
   or names alone (medium or low); each edge whose child's files show its weights (adapter, quantized,
   full) is then checked against them. High edges are those whose files show the relation (by their
   definition they match).
2. Parent confidence: every record and card is hidden, so every child is known from the Hub's model
   trees only; the parent each edge then gets (medium from the tree, low from the name) is checked
   against the parents the child's own card or tags declare.
3. Prose: for each child whose card declares exactly one base and has a body, the card's prose is read
   without its ``base_model``; a reference naming the declared base is a recovery, one naming another
   model a miss. Runs with any ptmgraph version that has ``references_from_card_text``.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import polars as pl

from ptmgraph import extract, file_rules
from ptmgraph.ids import normalize_reference

REPO = Path(__file__).resolve().parents[1]
SHOWN = {"adapter_only": {"adapter"}, "quantized": {"quantized"}, "full": {"finetune", "merge"},
         "merged_adapter": {"finetune", "merge"}}


def rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def edges_of(sample: Path, models: list[dict[str, Any]] | None, readmes: bool) -> pl.DataFrame:
    """The edges of an ingest of ``sample`` with other model records (None: none) and with or without READMEs."""
    from ptmgraph.assemble import assemble_tables
    from ptmgraph.sources.hub_records import HubRecordsSource
    from ptmgraph.sources.interface import harvest_tables

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "model_tree.jsonl").write_bytes((sample / "model_tree.jsonl").read_bytes())
        if models is not None:
            (folder / "models.jsonl").write_text("".join(json.dumps(r) + "\n" for r in models))
        if readmes:
            (folder / "readmes.jsonl").write_bytes((sample / "readmes.jsonl").read_bytes())
        return assemble_tables(harvest_tables(HubRecordsSource.from_directory(folder))).edges


def relation_precision(sample: Path) -> None:
    models = rows(sample / "models.jsonl")
    full = edges_of(sample, models, readmes=True)
    print("edges by parent confidence:", dict(Counter(full["parent_confidence"].to_list())))
    print("edges by relation confidence:", dict(Counter(full["relation_confidence"].to_list())))
    judged = full.filter(pl.col("weights").is_in(list(SHOWN)))
    high = full.filter(pl.col("relation_confidence") == "high")
    print(f"relation high: {high.height} edges, the files show the relation in all by definition")
    hidden = edges_of(sample, [{k: v for k, v in r.items() if k != "siblings"} for r in models], readmes=True)
    both = hidden.join(judged.select("base", "child", shown="weights"), on=["base", "child"], how="inner")
    for level in ("high", "medium", "low"):
        part = both.filter(pl.col("relation_confidence") == level)
        right = sum(rel in SHOWN[w] for rel, w in part.select("relation", "shown").iter_rows())
        print(f"relation {level} with the files hidden: {right} of {part.height} match the files")


def parent_precision(sample: Path) -> None:
    full = edges_of(sample, rows(sample / "models.jsonl"), readmes=True)
    declared = full.filter(pl.col("evidence_kinds").list.set_intersection(
        ["card_base_model", "hub_tag"]).list.len() > 0)
    truth: dict[str, set[str]] = {}
    for base, child in declared.select("base", "child").iter_rows():
        truth.setdefault(child.lower(), set()).add(base.lower())
    tree_only = edges_of(sample, None, readmes=False)
    for level in ("medium", "low"):
        part = tree_only.filter(pl.col("parent_confidence") == level)
        checked = [(b, c) for b, c in part.select("base", "child").iter_rows() if c.lower() in truth]
        right = sum(b.lower() in truth[c.lower()] for b, c in checked)
        rules = Counter(part.filter(pl.col("child").str.to_lowercase().is_in(list(truth)))["relation_rule"].to_list())
        print(f"parent {level} with records and cards hidden: {right} of {len(checked)} edges name a parent the "
              f"child's card or tags declare (rules {dict(rules)}; {part.height} edges in all)")
    names = full.filter(pl.col("relation_rule") == "name_parent")
    quantish = full.filter(pl.col("evidence_kinds").list.join(",") == "model_tree")
    quantish = quantish.filter(pl.col("child").map_elements(lambda c: file_rules.name_parent_stem(c) is not None,
                                                          return_dtype=pl.Boolean()))
    print(f"name_parent on the sample: {names.height} of {quantish.height + names.height} tree-only children "
          f"named as quantized copies")


def prose_recovery(sample: Path) -> None:
    readmes = {r["id"]: r.get("readme") for r in rows(sample / "readmes.jsonl")}
    total = named_in_body = recovered = wrong = 0
    fields: Counter[str] = Counter()
    for record in rows(sample / "models.jsonl"):
        card = record.get("cardData") or {}
        bases = card.get("base_model")
        bases = bases if isinstance(bases, list) else [bases] if bases else []
        readme = readmes.get(record["id"])
        if len(bases) != 1 or not isinstance(bases[0], str) or not isinstance(readme, str):
            continue
        base = normalize_reference(bases[0]).id
        if base is None:
            continue
        total += 1
        body = readme.split("\n---", 2)[-1] if readme.lstrip().startswith("---") else readme
        named_in_body += base.lower() in body.lower()
        without = {k: v for k, v in card.items() if k not in ("base_model", "base_model_relation")}
        refs = extract.references_from_card_text(record["id"], readme, without, "m")
        named = {(normalize_reference(r.raw).id or "").lower(): r for r in refs}
        if base.lower() in named:
            recovered += 1
            fields[named[base.lower()].field] += 1
        elif named:
            wrong += 1
    print(f"prose: {total} children declare one base and have a card body; {named_in_body} name it in the body; "
          f"{recovered} recovered from prose ({dict(fields)}), {wrong} name another model instead")


def main() -> None:
    sample = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO.parent / "shared" / "data" / "hub-sample"
    prose_recovery(sample)
    if hasattr(extract, "name_parent_stem"):
        relation_precision(sample)
        parent_precision(sample)


if __name__ == "__main__":
    main()
