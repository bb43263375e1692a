"""Evidence -> edges: one row per (base, child) pair, its relation decided once per combination of evidence."""

from __future__ import annotations

from typing import Any

import polars as pl

from ptmgraph import file_rules
from ptmgraph.ids import lowercase_ids, unique_map
from ptmgraph.records import (
    DANGLING_SCHEMA,
    EDGES_SCHEMA,
    EVIDENCE_SCHEMA,
    STRONG_KINDS,
    DanglingReason,
    EvidenceKind,
    Relation,
)
from ptmgraph.relations import EdgeEvidence, WeightShape, decide, inferred_relation, parent_source

_STRONG_VALUES = sorted(k.value for k in STRONG_KINDS)
_DECLARING_VALUES = [EvidenceKind.CARD_BASE_MODEL.value, EvidenceKind.EDGE_LIST.value]
_HUB_VALUES = [EvidenceKind.HUB_TAG.value, EvidenceKind.MODEL_TREE.value]
_CARD_TEXT = EvidenceKind.CARD_TEXT.value
_AUTO_MAP = EvidenceKind.CONFIG_AUTO_MAP.value
_QUANTIZED = Relation.QUANTIZED.value
NAME_PARENT_HOPS = 32
"""How many generations below the listed base the ``name_parent`` rule looks for the named model."""


def build_edges(evidence: pl.DataFrame, records: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The edges, the evidence kept (rows of the edges and of the bases they replace), and the dangling
    rows of weak evidence that strong evidence outweighs."""
    kind = pl.col("kind")
    evidence = evidence.with_columns(strong=kind.is_in(_STRONG_VALUES))
    per_child = evidence.group_by("child").agg(
        n_strong=pl.col("base").filter("strong").n_unique(),
        declared_base=pl.col("base").filter("strong").first(),
        declared_bases=pl.col("base").filter(kind.is_in(_DECLARING_VALUES)).n_unique().cast(pl.Int64()),
        hub_quantized=(kind.is_in(_HUB_VALUES) & (pl.col("relation") == _QUANTIZED)).any(),
        hub_labels_other=(kind.is_in(_HUB_VALUES) & (pl.col("relation") != Relation.MERGE.value)).any(),
        tree_only=(kind == EvidenceKind.MODEL_TREE.value).all(),
        hub_adapter=(kind.is_in(_HUB_VALUES) & (pl.col("relation") == Relation.ADAPTER.value)).any(),
    )
    pairs = evidence.group_by("base", "child", maintain_order=True).agg(
        pl.col("e").first().alias("pair_at"),
        pl.col("strong").any().alias("has_strong"),
        (kind == _CARD_TEXT).any().alias("has_card_text"),
        (kind == _AUTO_MAP).any().alias("has_code"),
        (pl.col("relation") == _QUANTIZED).any().fill_null(False).alias("says_quantized"),
    ).join(per_child, on="child", how="left", maintain_order="left")

    # Weak-only pairs of children that strong evidence gives a base: prose_parent, or outweighed (never a
    # pair an auto_map names: the child runs that base's code whatever its parents).
    weak = pairs.filter(~pl.col("has_strong") & ~pl.col("has_code") & (pl.col("n_strong") > 0))
    strong_pairs = evidence.filter("strong").select(
        pl.col("child").alias("base"), pl.col("base").alias("declared_base"), named_has_declared=pl.lit(True),
    ).unique(["base", "declared_base"])
    weak = weak.join(strong_pairs, on=["base", "declared_base"], how="left", maintain_order="left")
    weak = _with_child_quantization(weak, records)
    replaces = (pl.col("has_card_text") & (pl.col("n_strong") == 1) & pl.col("named_has_declared").fill_null(False)
                & (pl.col("child_quantization").is_not_null() | pl.col("name_quantization").is_not_null()
                   | pl.col("hub_quantized") | pl.col("says_quantized")))
    weak = weak.with_columns(replaced_base=pl.when(replaces).then("declared_base"))
    replaced = weak.filter(pl.col("replaced_base").is_not_null()).sort("pair_at")
    gone = weak.filter(pl.col("replaced_base").is_null()).select("base", "child", "pair_at", outweighed=pl.lit(True))
    named = _name_parents(pairs, gone, records)
    # The first prose-named pair of a (child, declared base) takes over the declared base's evidence; so
    # does the model a name names.
    absorbing = pl.concat([
        replaced.unique(["child", "replaced_base"], keep="first", maintain_order=True).select(
            pl.col("replaced_base").alias("base"), "child", pl.col("base").alias("into_base")),
        named.select(pl.col("replaced_base").alias("base"), "child", pl.col("base").alias("into_base")),
    ])

    if gone.height or absorbing.height:
        evidence = (evidence.join(gone.select("base", "child", "outweighed"), on=["base", "child"], how="left",
                                  maintain_order="left")
                    .join(absorbing, on=["base", "child"], how="left", maintain_order="left"))
    else:  # the common case: no join, which would copy every evidence row
        evidence = evidence.with_columns(outweighed=pl.lit(None, pl.Boolean()), into_base=pl.lit(None, pl.String()))
    kept = evidence.filter(pl.col("outweighed").is_null()) if gone.height else evidence
    outweighed = (evidence.filter(pl.col("outweighed").is_not_null())
                  .join(gone.select("base", "child", "pair_at"), on=["base", "child"], how="left")
                  .sort("pair_at", "e")
                  .select("child", "raw", "kind", "field", "source", reason=pl.lit(DanglingReason.OUTWEIGHED.value)))

    # Each kept evidence row counts for one edge: its own pair's, or the prose-named pair that replaced it.
    rows = kept.select(
        "e", "kind", "relation",
        edge_base=pl.coalesce("into_base", "base"), child="child", part=pl.col("into_base").is_not_null(),
    )
    if rows["part"].any() or not rows["e"].is_sorted():
        rows = rows.sort("part", "e")
    # The kinds of an edge's evidence, and those naming its own base (not a replaced one), as bit sets:
    # one any() per kind is a fraction of the time and memory of a per-group unique and sort.
    of_kind = {k: kind == k for k in _KIND_VALUES}
    edges = rows.group_by("edge_base", "child").agg(
        *(_first_relation(kinds).alias(name) for name, kinds in _STATED_BY.items()),
        *(is_kind.any().alias(f"_any_{i}") for i, is_kind in enumerate(of_kind.values())),
        *((is_kind & ~pl.col("part")).any().alias(f"_own_{i}") for i, is_kind in enumerate(of_kind.values())),
        n_evidence=pl.len().cast(pl.Int64()),
    ).rename({"edge_base": "base"})
    flags = [f"{side}_{i}" for side in ("_any", "_own") for i in range(len(_KIND_VALUES))]
    edges = edges.with_columns(evidence_bits=_bits("_any"), parent_kinds=_bits("_own")).drop(flags)
    edges = edges.join(_KIND_LISTS, on="evidence_bits", how="left", maintain_order="left").with_columns(
        card_named=_has_bit("evidence_bits", EvidenceKind.CARD_BASE_MODEL.value),
        loads_code=_has_bit("evidence_bits", _AUTO_MAP),
        code_only=pl.col("evidence_bits") == _KIND_BIT[_AUTO_MAP],
    ).drop("evidence_bits")
    pair_facts = ["base", "child", "pair_at", "declared_bases", "hub_labels_other"]
    replacements = pl.concat([replaced.select("base", "child", "replaced_base", name_parent=pl.lit(False)),
                              named.select("base", "child", "replaced_base", name_parent=pl.lit(True))])
    edges = (edges.join(pl.concat([pairs.select(pair_facts), named.select(pair_facts)]), on=["base", "child"],
                        how="left")
             .join(replacements, on=["base", "child"], how="left")
             .sort("pair_at"))
    edges = _decided(_with_edge_facts(edges, records))
    return (edges.select([pl.col(c).cast(t) for c, t in EDGES_SCHEMA.items()]),
            (kept if kept["e"].is_sorted() else kept.sort("e")).select(
                [pl.col(c).cast(t) for c, t in EVIDENCE_SCHEMA.items()]),
            outweighed.cast(DANGLING_SCHEMA))  # type: ignore[arg-type]


_KIND_VALUES = sorted(k.value for k in EvidenceKind)
"""The evidence kinds in the order an edge lists them (``evidence_kinds``: sorted)."""
_KIND_BIT = {k: 1 << i for i, k in enumerate(_KIND_VALUES)}


def _kinds_of(bits: int) -> list[str]:
    """The kinds in a set of bits (:data:`_KIND_BIT`), sorted."""
    return [k for k in _KIND_VALUES if bits & _KIND_BIT[k]]


_KIND_LISTS = pl.DataFrame({
    "evidence_bits": pl.Series(range(1 << len(_KIND_VALUES)), dtype=pl.UInt32()),
    "evidence_kinds": pl.Series([_kinds_of(bits) for bits in range(1 << len(_KIND_VALUES))],
                                dtype=pl.List(pl.String())),
})
"""Each set of evidence kinds (as bits) -> its sorted list."""


def _bits(prefix: str) -> pl.Expr:
    """The set of kinds whose ``{prefix}_{i}`` flag is true, as bits (:data:`_KIND_BIT`)."""
    return pl.sum_horizontal([pl.col(f"{prefix}_{i}").cast(pl.UInt32()) * (1 << i)
                              for i in range(len(_KIND_VALUES))]).cast(pl.UInt32())


def _has_bit(column: str, kind: str) -> pl.Expr:
    return (pl.col(column) & _KIND_BIT[kind]) != 0


_STATED_BY = {
    "declared": _DECLARING_VALUES,
    "hub": _HUB_VALUES,
    "prose": [_CARD_TEXT],
}
"""EdgeEvidence field -> the evidence kinds whose stated relation it takes, first kind first."""


def _first_relation(kinds: list[str]) -> pl.Expr:
    """The relation the first row (in row order) of the first of ``kinds`` states."""
    stated = pl.col("relation").is_not_null()
    return pl.coalesce([pl.col("relation").filter(stated & (pl.col("kind") == k)).first() for k in kinds])


def _name_parents(pairs: pl.DataFrame, gone: pl.DataFrame, records: pl.DataFrame) -> pl.DataFrame:
    """The ``name_parent`` edges (module docstring): the named model as ``base``, the ``child``, the listed
    base as ``replaced_base``, and the listed pair's ``pair_at``, ``declared_bases``, ``hub_labels_other``.

    Columnar: the names are cut once per distinct child id, and the named model's descent from the listed
    base is a walk up the pairs, one join per generation, for the few candidates only."""
    columns = ["base", "child", "replaced_base", "pair_at", "declared_bases", "hub_labels_other"]
    empty = pl.DataFrame(schema={c: pairs.schema[c] for c in columns if c != "replaced_base"}
                         | {"replaced_base": pl.String()}).select(columns)
    listed = pairs.filter(pl.col("has_strong") & (pl.col("n_strong") == 1) & pl.col("tree_only")
                          & ~pl.col("hub_adapter"))
    listed = listed.filter(~pl.col("child").is_in(records["id"].implode()))
    if not listed.height:
        return empty
    stems = unique_map(listed["child"], file_rules.name_parent_stem, pl.String(), candidates=_may_name_quantization)
    listed = listed.with_columns(stem=_name_keys(stems), base_key=_name_keys(listed["base"].str.split("/").list.last()))
    listed = listed.filter(pl.col("stem").is_not_null() & (pl.col("stem") != pl.col("base_key")))
    if not listed.height:
        return empty
    live = pairs.select("base", "child").join(gone.select("base", "child"), on=["base", "child"], how="anti")
    models = live.select(pl.col("child").alias("x")).unique()
    models = models.with_columns(stem=_name_keys(models["x"].str.split("/").list.last()))
    candidates = (listed.select(pl.col("base").alias("replaced_base"), "child", "stem", "pair_at", "declared_bases",
                                "hub_labels_other")
                  .join(models, on="stem", how="inner")
                  .filter((pl.col("x") != pl.col("child")) & (pl.col("x") != pl.col("replaced_base")))
                  .with_row_index("k"))
    descends = _descendants_of_listed(candidates.select("k", node="x", target="replaced_base"),
                                      live.select(node="child", parent="base"))
    found = candidates.filter(pl.col("k").is_in(descends.implode()))
    found = found.filter(pl.len().over("child") == 1).sort("pair_at")  # two or more: the name is ambiguous
    return found.select(pl.col("x").alias("base"), *columns[1:])


def _name_keys(names: pl.Series) -> pl.Series:
    """The key two model names are compared by in rule ``name_parent`` (see the module docstring)."""
    return lowercase_ids(names).str.replace(file_rules.NAME_KEY_DROP, "")


def _descendants_of_listed(frontier: pl.DataFrame, up: pl.DataFrame) -> pl.Series:
    """The ``k`` of the rows of ``frontier`` (``k``, ``node``, ``target``) whose ``node`` descends from
    ``target`` within :data:`NAME_PARENT_HOPS` generations along ``up`` (``node`` -> ``parent``)."""
    hits: list[pl.Series] = []
    seen = frontier.select("k", "node")
    for _ in range(NAME_PARENT_HOPS):
        if not frontier.height:
            break
        step = frontier.join(up, on="node", how="inner").select("k", pl.col("parent").alias("node"), "target")
        hit = step.filter(pl.col("node") == pl.col("target"))["k"]
        hits.append(hit)
        step = (step.filter(~pl.col("k").is_in(hit.implode())).unique(["k", "node"])
                .join(seen, on=["k", "node"], how="anti"))
        seen = pl.concat([seen, step.select("k", "node")])
        frontier = step
    return pl.concat(hits).unique() if hits else pl.Series("k", [], dtype=pl.UInt32())


def _with_child_quantization(pairs: pl.DataFrame, records: pl.DataFrame) -> pl.DataFrame:
    """``pairs`` with ``child_quantization`` (its record's) and ``name_quantization`` (its name's)."""
    pairs = pairs.join(records.select(pl.col("id").alias("child"), pl.col("quantization").alias("child_quantization")),
                       on="child", how="left", maintain_order="left")
    return pairs.with_columns(name_quantization=unique_map(pairs["child"], file_rules.quantization_from_name,
                                                          pl.String(), candidates=_may_name_quantization))


def _may_name_quantization(ids: pl.Series) -> pl.Series:
    """False only for ids :func:`file_rules.quantization_from_name` surely finds nothing in.

    Every alternative of its pattern holds one of these letter groups (case aside), and on ASCII text
    only ASCII letters match them; other ids are always checked.
    """
    ascii_text = ids.str.len_bytes() == ids.str.len_chars()
    markers = ["q", "gg", "exl", "bnb", "mlx", "bit", "int", "nf4", "fp", "bpw", "w4a16", "w8a8"]
    return ~ascii_text | ids.str.to_lowercase().str.contains_any(markers)


def _distinct_items(lists: pl.Series, rows_at_once: int = 200_000) -> pl.Series:
    """The distinct non-null items of a list column, as text (exploded a slice at a time: names repeat a lot)."""
    parts = [lists.slice(start, rows_at_once).explode().drop_nulls().unique().cast(pl.String())
             for start in range(0, lists.len(), rows_at_once)]
    return pl.concat(parts).unique() if parts else pl.Series(lists.name, [], dtype=pl.String())


def _model_facts(records: pl.DataFrame) -> pl.DataFrame:
    """Per model with a record: what its own repo shows, the same for each of its edges.

    ``shape_quantized``: its weight shape taking its quantization as one; ``shape_unquantized``: when its
    base shares that quantization; ``merge_signs``; ``seen``: its files or card were read.
    """
    names = _distinct_items(records["files"])
    full = names.filter(unique_map(names, lambda n: file_rules.has_full_weights([n]), pl.Boolean()))
    adapter = names.filter(unique_map(names, lambda n: file_rules.has_adapter_files([n]), pl.Boolean()))
    mergekit = names.filter(unique_map(names, lambda n: file_rules.has_merge_signs([n], []), pl.Boolean()))
    tags = _distinct_items(records["tags"])
    merge_tags = tags.filter(unique_map(tags, lambda t: file_rules.has_merge_signs([], [t]), pl.Boolean()))

    def any_in(column: str, values: pl.Series) -> pl.Expr:
        return pl.col(column).list.eval(pl.element().is_in(values.implode())).list.any().fill_null(False)

    facts = records.select(
        "id", "quantization",
        has_files=pl.col("files").list.len().fill_null(0) > 0,
        full=any_in("files", full), adapter=any_in("files", adapter),
        merge_signs=any_in("files", mergekit) | any_in("tags", merge_tags),
        seen=(pl.col("files").list.len().fill_null(0) > 0) | pl.col("has_card").fill_null(False),
        row=pl.int_range(pl.len(), dtype=pl.UInt32()),
    )
    # file_rules.weight_shape reads only whether there are files, whether any is full / adapter weights, and
    # the quantization: call it once per combination, on the files of a model that has it.
    combos = facts.group_by("has_files", "full", "adapter", "quantization").agg(pl.col("row").first())
    samples = records["files"].gather(combos["row"]).to_list()
    shapes = combos.with_columns(
        shape_quantized=pl.Series([file_rules.weight_shape(f or [], q).value
                                   for f, q in zip(samples, combos["quantization"], strict=True)], dtype=pl.String()),
        shape_unquantized=pl.Series([file_rules.weight_shape(f or [], None).value for f in samples], dtype=pl.String()),
    ).drop("row")
    return facts.join(shapes, on=["has_files", "full", "adapter", "quantization"], how="left", nulls_equal=True,
                      maintain_order="left").select("id", "quantization", "shape_quantized", "shape_unquantized",
                                                    "merge_signs", "seen")


def _with_edge_facts(edges: pl.DataFrame, records: pl.DataFrame) -> pl.DataFrame:
    """``edges`` with the EdgeEvidence fields the aggregated evidence does not give."""
    facts = _model_facts(records)
    child_facts = facts.rename(lambda c: f"child_{c}")
    base_facts = records.select(base=pl.col("id"), base_quantization=pl.col("quantization"), base_known=pl.lit(True))
    edges = (edges.join(child_facts, left_on="child", right_on="child_id", how="left", maintain_order="left")
             .join(base_facts, on="base", how="left", maintain_order="left"))
    name_quantization = {
        end: unique_map(edges[end], file_rules.quantization_from_name, pl.String(), candidates=_may_name_quantization)
        for end in ("child", "base")
    }
    has_record = pl.col("child_shape_quantized").is_not_null()
    shared = has_record & pl.col("base_known").fill_null(False) & pl.col("base_quantization").eq_missing(
        pl.col("child_quantization"))
    return edges.with_columns(
        weights=pl.when(~has_record).then(pl.lit(WeightShape.UNKNOWN.value))
        .when(shared).then("child_shape_unquantized").otherwise("child_shape_quantized"),
        name_quantized=name_quantization["child"].is_not_null()
        & name_quantization["child"].ne_missing(name_quantization["base"]),
        merge_signs=pl.col("child_merge_signs").fill_null(False),
        name_parent=pl.col("name_parent").fill_null(False),
        prose_parent=pl.col("replaced_base").is_not_null() & ~pl.col("name_parent").fill_null(False),
        seen=pl.col("child_seen").fill_null(False) | pl.col("card_named"),
        self_loop=pl.col("base") == pl.col("child"),
    )


_EVIDENCE_FIELDS = ["declared", "hub", "prose", "weights", "name_quantized", "merge_signs", "declared_bases",
                    "hub_labels_other", "parent_kinds", "prose_parent", "name_parent", "seen", "code_only"]


def _decided(edges: pl.DataFrame) -> pl.DataFrame:
    """``edges`` with the relation rule's outcome, computed once per distinct EdgeEvidence."""
    combos = edges.select(_EVIDENCE_FIELDS).unique()
    outcomes = [_outcome(dict(zip(_EVIDENCE_FIELDS, row, strict=True))) for row in combos.iter_rows()]
    decided = combos.with_columns(
        pl.Series(name, [o[name] for o in outcomes], dtype=dtype) for name, dtype in _OUTCOME.items()
    )
    edges = edges.join(decided, on=_EVIDENCE_FIELDS, how="left", nulls_equal=True, maintain_order="left")
    return edges.rename({"declared": "declared_relation", "hub": "hub_relation", "prose": "prose_relation"})


_OUTCOME: dict[str, pl.DataType] = {
    "relation": pl.String(), "relation_rule": pl.String(), "parent_confidence": pl.String(),
    "relation_confidence": pl.String(),
    "inferred_relation": pl.String(), "relations_disagree": pl.Boolean(),
}


def _outcome(fields: dict[str, Any]) -> dict[str, object]:
    ev = EdgeEvidence(
        declared=_relation(fields["declared"]), hub=_relation(fields["hub"]), prose=_relation(fields["prose"]),
        weights=WeightShape(fields["weights"]), name_quantized=fields["name_quantized"],
        merge_signs=fields["merge_signs"], declared_bases=fields["declared_bases"],
        hub_labels_other=fields["hub_labels_other"],
        parent=parent_source(_kinds_of(fields["parent_kinds"]), prose_parent=fields["prose_parent"],
                             name_parent=fields["name_parent"]),
        prose_parent=fields["prose_parent"], name_parent=fields["name_parent"], seen=fields["seen"],
        code_only=fields["code_only"],
    )
    decision = decide(ev)
    inferred = inferred_relation(ev)
    stated = {x for x in (ev.declared, ev.hub, inferred) if x}
    return {"relation": decision.relation.value, "relation_rule": decision.rule.value,
            "parent_confidence": decision.parent_confidence.value,
            "relation_confidence": decision.relation_confidence.value,
            "inferred_relation": inferred.value if inferred else None,
            "relations_disagree": len(stated) > 1}


def _relation(value: str | None) -> Relation | None:
    return Relation(value) if value is not None else None
