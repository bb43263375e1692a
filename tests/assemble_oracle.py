"""The test oracle for :func:`ptmgraph.assemble.assemble_tables`: the former per-record assembly, in dicts.

This is the implementation ``ptmgraph.assemble`` had before it worked on tables, kept so the columnar one
can be checked against it on any harvest, and extended with each later rule (the two confidences, the
``name_parent`` rule, ``auto_map`` code sources, case collisions) in the same one-at-a-time style.

What it checks independently (written here, one record and one reference at a time, without polars
joins): merging the records of one id from several sources, resolving each reference to a known id
(legacy and case-insensitive ids, the canonical spelling), which references become edges and which
dangle and why (local path, other site, empty, not a string, invalid id, outweighed config and card-text
parents), which base a quantizer's card text replaces (``replaced_base``), the evidence each edge gathers
and the columns and order of every table. A bug in the columnar assembly's joins, grouping, de-duplication
or per-distinct-value shortcuts shows as a difference from it.

What it shares with the code under test, and so cannot catch a bug in:
- the relation rule itself: :func:`ptmgraph.relations.decide` (relation, rule, both confidences),
  :func:`ptmgraph.relations.parent_source` and :func:`ptmgraph.relations.inferred_relation`; the rule
  table is checked on its own, against hand-written evidence, in ``tests/test_relations.py``;
- the per-value readings of ``ptmgraph.extract``: ``weight_shape`` (what a file list shows),
  ``quantization_from_name`` and ``has_merge_signs`` (checked on hand-written names and repos in
  ``tests/test_relations.py``);
- the id rules of ``ptmgraph.ids``: ``IdLookup``, ``current_id``, ``normalize_reference``,
  ``looks_like_local_path`` (checked on hand-written ids in ``tests/test_ids_and_cards.py``);
- the table schemas of ``ptmgraph.records`` and the harvest it is given (the sources' reading of the
  files is checked against the raw files elsewhere, e.g. ``tests/raw_sample.py``'s oracles).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, fields

import polars as pl

from ptmgraph import file_rules
from ptmgraph.ids import IdLookup, current_id, looks_like_local_path, normalize_reference
from ptmgraph.records import (
    DANGLING_SCHEMA,
    EDGES_SCHEMA,
    EVIDENCE_SCHEMA,
    MODELS_SCHEMA,
    PROBLEMS_SCHEMA,
    STRONG_KINDS,
    DanglingReason,
    EvidenceKind,
    Harvest,
    ModelRecord,
    Reference,
    Relation,
)
from ptmgraph.relations import EdgeEvidence, WeightShape, decide, inferred_relation, parent_source
from ptmgraph.snapshot import Snapshot

NAME_PARENT_HOPS = 32
_LIST_FIELDS = {"files", "weight_formats", "card_fields", "datasets", "tags", "code_files"}
_AUTO_MAP = EvidenceKind.CONFIG_AUTO_MAP.value
_DECLARING = {EvidenceKind.CARD_BASE_MODEL, EvidenceKind.EDGE_LIST}
_HUB = (EvidenceKind.HUB_TAG, EvidenceKind.MODEL_TREE)
_STRONG_VALUES = frozenset(k.value for k in STRONG_KINDS)
_DECLARING_VALUES = frozenset(k.value for k in _DECLARING)
_HUB_VALUES = frozenset(k.value for k in _HUB)
_DECLARING_ORDER = (EvidenceKind.CARD_BASE_MODEL.value, EvidenceKind.EDGE_LIST.value)
_HUB_ORDER = tuple(k.value for k in _HUB)


def merge_records(records: list[ModelRecord], index: IdLookup) -> dict[str, ModelRecord]:
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
    index = IdLookup(current_id(r.id) for r in harvest.records)
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
                             "source": ref.source, "relation": key[4], "raw": _raw_text(ref.raw),
                             "quote": ref.quote}
        elif ref.source not in str(row["source"]).split(";"):
            row["source"] = f"{row['source']};{ref.source}"
    for ref, reason in harvest.dangling:
        dangle(ref, index.canonical(ref.child) or ref.child, reason)

    edges, outweighed = _edges(list(evidence.values()), records)
    dangling += outweighed
    kept = {(str(e["base"]), str(e["child"])) for e in edges}
    kept |= {(str(e["replaced_base"]), str(e["child"])) for e in edges if e["replaced_base"]}
    evidence = {k: v for k, v in evidence.items() if (k[0], k[1]) in kept}
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
        problems=pl.DataFrame([p.__dict__ for p in harvest.problems] + _case_problems(harvest, index),
                              schema=PROBLEMS_SCHEMA),
        meta={"sources": list(harvest.sources)},
    )


def _case_problems(harvest: Harvest, index: IdLookup) -> list[dict[str, object]]:
    """One problem per model whose records spell its id in several letter cases: each spelling with the
    source of its first record, in reading order."""
    spellings: dict[str, dict[str, str]] = defaultdict(dict)  # model -> spelling -> first source
    for record in harvest.records:
        model_id = current_id(record.id)
        spellings[index.canonical(model_id) or model_id].setdefault(model_id, record.source)
    problems: list[dict[str, object]] = []
    for model, spelled in spellings.items():
        if len(spelled) > 1:
            named = ", ".join(f"{i!r} ({s})" for i, s in spelled.items())
            problems.append({
                "source": ";".join(s for s in spelled.values() if s), "model": model,
                "message": f"ids differ only in letter case: {named}; one model (the Hub treats them alike), "
                           f"merged under {model!r}, the first read; the first record's values win"})
    return problems


_WEAK_DANGLING_COLUMNS = ("kind", "field", "source", "raw")


def _edges(
    evidence: list[dict[str, object]], records: dict[str, ModelRecord]
) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """The edges, and the dangling rows of weak evidence that strong evidence outweighs."""
    by_pair: dict[tuple[str, str], list[dict[str, object]]] = defaultdict(list)
    strong_bases: dict[str, set[str]] = defaultdict(set)
    declared_bases: dict[str, set[str]] = defaultdict(set)
    hub_labels: dict[str, set[str]] = defaultdict(set)
    kinds_of: dict[str, set[str]] = defaultdict(set)  # every kind of evidence about the child, outweighed too
    for row in evidence:
        base, child, kind = str(row["base"]), str(row["child"]), row["kind"]
        by_pair[(base, child)].append(row)
        kinds_of[child].add(str(kind))
        if kind in _STRONG_VALUES:
            strong_bases[child].add(base)
        if kind in _DECLARING_VALUES:
            declared_bases[child].add(base)
        if kind in _HUB_VALUES and row["relation"]:
            hub_labels[child].add(str(row["relation"]))
    replaced: dict[tuple[str, str], str] = {}  # prose-named pair -> the declared base it stands in for
    outweighed: list[dict[str, object]] = []
    for (base, child), rows in list(by_pair.items()):
        if not strong_bases[child] or any(r["kind"] in _STRONG_VALUES or r["kind"] == _AUTO_MAP for r in rows):
            continue  # an auto_map pair stays: the child runs that base's code
        grandparent = _replaced_base(base, child, rows, strong_bases, records, hub_labels)
        if grandparent is not None:
            replaced[(base, child)] = grandparent
            continue
        del by_pair[(base, child)]
        outweighed += [{"child": child, **{c: r[c] for c in _WEAK_DANGLING_COLUMNS},
                        "reason": DanglingReason.OUTWEIGHED.value} for r in rows]
    own_kinds = {pair: {str(r["kind"]) for r in rows} for pair, rows in by_pair.items()}
    named = _name_parents(by_pair, strong_bases, records, kinds_of, hub_labels)
    for (base, child), grandparent in replaced.items():
        by_pair[(base, child)] += by_pair.pop((grandparent, child), [])
    # a name-named model takes the listed pair's place and evidence
    by_pair = defaultdict(list, {((named[p], p[1]) if p in named else p): rows for p, rows in by_pair.items()})
    name_pairs = {(model, child) for (_, child), model in named.items()}
    for (listed, child), model in named.items():
        replaced[(model, child)] = listed
        own_kinds[(model, child)] = set()

    children = {child: _ChildFacts.of(child, records.get(child)) for _, child in by_pair}
    edges = []
    for (base, child), rows in by_pair.items():
        edges.append(_edge(base, rows, children[child], records.get(base), declared_bases[child], hub_labels[child],
                           replaced.get((base, child)), own_kinds[(base, child)], (base, child) in name_pairs))
    return edges, outweighed


def _name_parents(by_pair: dict[tuple[str, str], list[dict[str, object]]], strong_bases: dict[str, set[str]],
                  records: dict[str, ModelRecord], kinds_of: dict[str, set[str]],
                  hub_labels: dict[str, set[str]]) -> dict[tuple[str, str], str]:
    """(listed base, child) -> the model its name names, for the children the name_parent rule moves."""
    parents: dict[str, set[str]] = defaultdict(set)
    for base, child in by_pair:
        parents[child].add(base)

    def descends(model: str, ancestor: str) -> bool:
        frontier, seen = {model}, {model}
        for _ in range(NAME_PARENT_HOPS):
            frontier = {p for node in frontier for p in parents.get(node, ())}
            if ancestor in frontier:
                return True
            frontier -= seen
            seen |= frontier
        return False

    def key(name: str) -> str:
        return re.sub(file_rules.NAME_KEY_DROP, "", name.lower())

    by_name: dict[str, set[str]] = defaultdict(set)
    for _, child in by_pair:
        by_name[key(child.split("/")[-1])].add(child)
    named: dict[tuple[str, str], str] = {}
    for base, child in by_pair:
        if child in records or strong_bases.get(child) != {base} or kinds_of[child] != {EvidenceKind.MODEL_TREE.value}:
            continue
        if Relation.ADAPTER.value in hub_labels[child]:
            continue
        stem = file_rules.name_parent_stem(child)
        if stem is None or key(stem) == key(base.split("/")[-1]):
            continue
        found = [m for m in sorted(by_name.get(key(stem), ())) if m not in (child, base) and descends(m, base)]
        if len(found) == 1:
            named[(base, child)] = found[0]
    return named


@dataclass(frozen=True)
class _ChildFacts:
    """What the child's own repo shows, the same for each of its edges."""

    id: str
    record: ModelRecord | None
    name_quantization: str | None
    merge_signs: bool
    seen: bool
    shape_quantized: WeightShape  # its weight shape, taking its quantization as one
    shape_unquantized: WeightShape  # ... and when its base shares that quantization

    @classmethod
    def of(cls, child: str, record: ModelRecord | None) -> _ChildFacts:
        if record is None:
            return cls(child, None, file_rules.quantization_from_name(child), False, False,
                       WeightShape.UNKNOWN, WeightShape.UNKNOWN)
        quantized = file_rules.weight_shape(record.files, record.quantization)
        return cls(
            child, record, file_rules.quantization_from_name(child),
            file_rules.has_merge_signs(record.files, record.tags), bool(record.files or record.has_card),
            quantized, quantized if record.quantization is None else file_rules.weight_shape(record.files, None),
        )

    def weights(self, base: ModelRecord | None) -> WeightShape:
        """Its weight shape as a child of ``base``: a quantization the base shares (DeepSeek's native
        FP8) is no quantization of that base."""
        shared = self.record is not None and base is not None and base.quantization == self.record.quantization
        return self.shape_unquantized if shared else self.shape_quantized


def _first_relation(rows: list[dict[str, object]], kinds: tuple[str, ...]) -> Relation | None:
    """The relation the first row of the first of ``kinds`` (evidence kind values) states."""
    for kind in kinds:
        for row in rows:
            if row["kind"] == kind and row["relation"]:
                return Relation(row["relation"])
    return None


def _is_quantization(child: str, rows: list[dict[str, object]], records: dict[str, ModelRecord],
                     hub_labels: set[str]) -> bool:
    record = records.get(child)
    return (
        (record is not None and record.quantization is not None)
        or file_rules.quantization_from_name(child) is not None
        or Relation.QUANTIZED.value in hub_labels
        or any(r["relation"] == Relation.QUANTIZED.value for r in rows)
    )


def _replaced_base(
    named: str, child: str, rows: list[dict[str, object]], strong_bases: dict[str, set[str]],
    records: dict[str, ModelRecord], hub_labels: dict[str, set[str]],
) -> str | None:
    """The declared base that card text's ``named`` model stands in for (rule ``prose_parent``), or None.

    Only for a quantization with one declared base that is ``named``'s own base.
    """
    if not any(r["kind"] == EvidenceKind.CARD_TEXT.value for r in rows) or len(strong_bases[child]) != 1:
        return None
    (declared,) = strong_bases[child]
    if declared not in strong_bases.get(named, set()):
        return None
    return declared if _is_quantization(child, rows, records, hub_labels[child]) else None


def _edge(
    base: str, rows: list[dict[str, object]], child: _ChildFacts, base_record: ModelRecord | None,
    declared_bases: set[str], hub_labels: set[str], replaced_base: str | None, own_kinds: set[str],
    name_parent: bool,
) -> dict[str, object]:
    weights = child.weights(base_record)
    ev = EdgeEvidence(
        declared=_first_relation(rows, _DECLARING_ORDER),
        hub=_first_relation(rows, _HUB_ORDER),
        prose=_first_relation(rows, (EvidenceKind.CARD_TEXT.value,)),
        weights=weights,
        name_quantized=child.name_quantization is not None
        and child.name_quantization != file_rules.quantization_from_name(base),
        merge_signs=child.merge_signs,
        declared_bases=len(declared_bases),
        hub_labels_other=bool(hub_labels - {Relation.MERGE.value}),
        parent=parent_source(own_kinds, prose_parent=replaced_base is not None and not name_parent,
                             name_parent=name_parent),
        prose_parent=replaced_base is not None and not name_parent,
        name_parent=name_parent,
        seen=child.seen or any(r["kind"] == EvidenceKind.CARD_BASE_MODEL.value for r in rows),
        code_only=all(r["kind"] == _AUTO_MAP for r in rows),
    )
    decision = decide(ev)
    inferred = inferred_relation(ev)
    stated = {x for x in (ev.declared, ev.hub, inferred) if x}
    return {
        "base": base,
        "child": child.id,
        "relation": decision.relation.value,
        "relation_rule": decision.rule.value,
        "parent_confidence": decision.parent_confidence.value,
        "relation_confidence": decision.relation_confidence.value,
        "declared_relation": ev.declared.value if ev.declared else None,
        "hub_relation": ev.hub.value if ev.hub else None,
        "inferred_relation": inferred.value if inferred else None,
        "prose_relation": ev.prose.value if ev.prose else None,
        "weights": weights.value,
        "replaced_base": replaced_base,
        "relations_disagree": len(stated) > 1,
        "loads_code": any(r["kind"] == _AUTO_MAP for r in rows),
        "evidence_kinds": sorted({str(r["kind"]) for r in rows}),
        "n_evidence": len(rows),
        "self_loop": base == child.id,
    }


