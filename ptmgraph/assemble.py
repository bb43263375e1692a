"""Harvest -> snapshot tables: resolve references into edges, decide each edge's relation.

An *edge* is one (base, child) pair; it aggregates every piece of *evidence* for that pair.
Its ``relation`` is decided by the first rule that gives one:

1. ``declared``: the child's card states ``base_model_relation`` adapter, quantized or merge (or an
   edge list states a relation);
2. ``files``: the child's own files say so: adapter files or ``adapter_config.json`` -> adapter;
   GGUF weights or a ``quantization_config`` -> quantized;
3. ``name``: a quantization marker in the child's name (GPTQ, AWQ, 4bit, ...) that the base's name
   lacks -> quantized, where card and Hub say finetune or nothing;
4. ``declared`` finetune: quantization tools (gguf-my-repo, mlx) copy the original card, and with it a
   ``base_model_relation: finetune`` that was true of the original, so a declared finetune yields to
   the files and the name;
5. ``hub``: the Hub's tag ``base_model:<relation>:<base>`` or its model-tree heading (the Hub files
   non-GGUF quantizations and repos with adapter files as finetunes: rules 2 and 3 correct that);
6. ``base_count``: the card lists two or more bases -> merge;
7. ``none``: unknown.

``declared_relation``, ``hub_relation`` and ``inferred_relation`` are all kept, so disagreements can
be reported (``relations_disagree``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import fields

import polars as pl

from ptmgraph import extract
from ptmgraph.ids import IdIndex, current_id, looks_like_local_path, normalize_reference
from ptmgraph.records import (
    DANGLING_SCHEMA,
    EDGES_SCHEMA,
    EVIDENCE_SCHEMA,
    MODELS_SCHEMA,
    PROBLEMS_SCHEMA,
    DanglingReason,
    EvidenceKind,
    Harvest,
    ModelRecord,
    Reference,
    Relation,
)
from ptmgraph.snapshot import Snapshot

_LIST_FIELDS = {"files", "weight_formats", "card_fields", "datasets", "tags"}
_DECLARING = {EvidenceKind.CARD_BASE_MODEL, EvidenceKind.EDGE_LIST}
_HUB = (EvidenceKind.HUB_TAG, EvidenceKind.MODEL_TREE)


def merge_records(records: list[ModelRecord], index: IdIndex) -> dict[str, ModelRecord]:
    """One record per canonical id: scalar fields from the first source that knows them, lists united."""
    merged: dict[str, ModelRecord] = {}
    for record in records:
        model_id = index.canonical(current_id(record.id)) or current_id(record.id)
        have = merged.get(model_id)
        if have is None:
            merged[model_id] = ModelRecord(**{**record.__dict__, "id": model_id})
            continue
        for f in fields(ModelRecord):
            mine, theirs = getattr(have, f.name), getattr(record, f.name)
            if f.name in _LIST_FIELDS:
                setattr(have, f.name, sorted(set(mine) | set(theirs)) if theirs else mine)
            elif f.name == "source":
                have.source = mine if theirs in mine.split(";") else f"{mine};{theirs}"
            elif f.name == "has_card":
                have.has_card = True if (mine or theirs) else (mine if mine is not None else theirs)
            elif mine is None and theirs is not None:
                setattr(have, f.name, theirs)
    return merged


def _raw_text(raw: object) -> str:
    return raw if isinstance(raw, str) else repr(raw)


def assemble(harvest: Harvest) -> Snapshot:
    """Build the snapshot tables from everything the sources read."""
    index = IdIndex(current_id(r.id) for r in harvest.records)
    for model_id in sorted(harvest.known_ids):
        index.add(current_id(model_id))
    records = merge_records(harvest.records, index)

    evidence: dict[tuple[str, str, str, str, str | None], dict[str, object]] = {}
    dangling: list[dict[str, object]] = []

    def dangle(ref: Reference, child: str, reason: DanglingReason) -> None:
        dangling.append(
            {"child": child, "raw": _raw_text(ref.raw), "kind": ref.kind.value, "field": ref.field,
             "source": ref.source, "reason": reason.value}
        )

    for ref in harvest.references:
        child_norm = normalize_reference(ref.child)
        child = index.canonical(child_norm.id) if child_norm.id else None
        child = child or child_norm.id or str(ref.child)
        norm = normalize_reference(ref.raw)
        if norm.id is None:
            dangle(ref, child, norm.reason or DanglingReason.INVALID_ID)
            continue
        base = index.canonical(norm.id)
        if base is None:
            if looks_like_local_path(norm.id):
                dangle(ref, child, DanglingReason.LOCAL_PATH)
                continue
            base = norm.id
            index.add(base)
        key = (base, child, ref.kind.value, ref.field, ref.relation.value if ref.relation else None)
        row = evidence.get(key)
        if row is None:
            evidence[key] = {"base": base, "child": child, "kind": ref.kind.value, "field": ref.field,
                             "source": ref.source, "relation": key[4], "raw": _raw_text(ref.raw)}
        elif ref.source not in str(row["source"]).split(";"):
            row["source"] = f"{row['source']};{ref.source}"
    for ref, reason in harvest.dangling:
        dangle(ref, index.canonical(ref.child) or ref.child, reason)

    edges = _edges(list(evidence.values()), records)
    node_ids: set[str] = set(records) | {str(e["base"]) for e in edges} | {str(e["child"]) for e in edges}
    node_ids |= {index.canonical(current_id(k)) or current_id(k) for k in harvest.known_ids}
    model_rows = [{**records[i].__dict__, "has_record": True} for i in sorted(records)]
    model_rows += [
        {"id": i, "author": i.split("/", 1)[0] if "/" in i else None, "has_record": False}
        for i in sorted(node_ids - set(records))
    ]
    return Snapshot(
        models=pl.DataFrame(model_rows, schema=MODELS_SCHEMA),
        edges=pl.DataFrame(edges, schema=EDGES_SCHEMA),
        evidence=pl.DataFrame(list(evidence.values()), schema=EVIDENCE_SCHEMA),
        dangling=pl.DataFrame(dangling, schema=DANGLING_SCHEMA),
        problems=pl.DataFrame([p.__dict__ for p in harvest.problems], schema=PROBLEMS_SCHEMA),
        meta={"sources": list(harvest.sources)},
    )


def _edges(evidence: list[dict[str, object]], records: dict[str, ModelRecord]) -> list[dict[str, object]]:
    by_pair: dict[tuple[str, str], list[dict[str, object]]] = defaultdict(list)
    card_bases: dict[str, set[str]] = defaultdict(set)
    for row in evidence:
        by_pair[(str(row["base"]), str(row["child"]))].append(row)
        if row["kind"] in _DECLARING:
            card_bases[str(row["child"])].add(str(row["base"]))
    edges = []
    for (base, child), rows in by_pair.items():
        declared = next((r["relation"] for r in rows if r["kind"] in _DECLARING and r["relation"]), None)
        hub = next((r["relation"] for kind in _HUB for r in rows if r["kind"] == kind and r["relation"]), None)
        inferred, basis = extract.inferred_relation(child, records.get(child), base, len(card_bases[child]))
        if any(r["kind"] == EvidenceKind.ADAPTER_CONFIG for r in rows) and basis != "files":
            inferred, basis = Relation.ADAPTER, "files"
        weakly_said = {declared, hub} <= {None, Relation.FINETUNE.value}
        if declared and declared != Relation.FINETUNE.value:
            relation, rule = declared, "declared"
        elif inferred is not None and (basis == "files" or (basis == "name" and weakly_said)):
            relation, rule = inferred.value, str(basis)
        elif declared:
            relation, rule = declared, "declared"
        elif hub:
            relation, rule = hub, "hub"
        elif inferred is not None:
            relation, rule = inferred.value, str(basis)
        else:
            relation, rule = Relation.UNKNOWN.value, "none"
        stated = {x for x in (declared, hub, inferred.value if inferred else None) if x}
        edges.append(
            {
                "base": base,
                "child": child,
                "relation": relation,
                "relation_rule": rule,
                "declared_relation": declared,
                "hub_relation": hub,
                "inferred_relation": inferred.value if inferred else None,
                "relations_disagree": len(stated) > 1,
                "evidence_kinds": sorted({str(r["kind"]) for r in rows}),
                "n_evidence": len(rows),
                "self_loop": base == child,
            }
        )
    return edges
