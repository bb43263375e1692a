"""`risk` worked out on whole columns gives what a user reads off the graph by hand: a licence conflict is
named against the first conflicting parent by id, whatever the order the bases were named in; rows and
sources tie-break by id, not by the models' order in the snapshot; a model both named and risky is a source
once per risk."""

from __future__ import annotations

import numpy as np
import polars as pl

from ptmgraph import index
from ptmgraph.analyses.risk import DATA_RISKS, risk
from ptmgraph.assemble import assemble
from ptmgraph.graph import LineageGraph
from ptmgraph.passes import edge_offsets
from ptmgraph.records import EvidenceKind, Harvest, ModelRecord, Reference, Relation


def lineage(records: list[ModelRecord], edges: list[tuple[str, str, Relation]]) -> LineageGraph:
    """A graph of these records (in this order) and (base, child, relation) Hub tags."""
    refs = [Reference(c, b, EvidenceKind.HUB_TAG, f"tags:base_model:{rel.value}", "test", rel) for b, c, rel in edges]
    return LineageGraph(assemble(Harvest(records=records, references=refs)))


def licence_graph() -> LineageGraph:
    """c/child (apache-2.0) has three bases, named in this order: m/llama and a/llama (llama2, whose
    terms an apache-2.0 derivative breaks) and b/mit (mit: anything may derive from it). d/blank states
    the empty licence under a/llama; f/child (apache-2.0) derives from e/none, which states none.
    c/child -> g/lora (an adapter) carries c/child's risks on."""
    records = [ModelRecord(id="c/child", license="apache-2.0", downloads=10),
               ModelRecord(id="m/llama", license="llama2"), ModelRecord(id="b/mit", license="mit"),
               ModelRecord(id="a/llama", license="llama2"), ModelRecord(id="d/blank", license=""),
               ModelRecord(id="f/child", license="apache-2.0"), ModelRecord(id="e/none"),
               ModelRecord(id="g/lora", license="apache-2.0", downloads=10)]
    edges = [("m/llama", "c/child", Relation.FINETUNE), ("a/llama", "c/child", Relation.FINETUNE),
             ("b/mit", "c/child", Relation.FINETUNE), ("a/llama", "d/blank", Relation.FINETUNE),
             ("e/none", "f/child", Relation.FINETUNE), ("c/child", "g/lora", Relation.ADAPTER)]
    return lineage(records, edges)


def test_a_licence_conflict_names_the_first_conflicting_parent_by_id() -> None:
    sources = risk(licence_graph(), data_risks=["license_conflict"]).tables["sources"]
    # g/lora is apache-2.0 under the apache-2.0 c/child: the same licence; f/child's base states none
    assert sources.select("id", "risk", "detail", "affected_models").rows() == [
        ("c/child", "license_conflict", "a/llama (llama2) -> apache-2.0", 1)]


def test_an_empty_licence_is_no_licence_stated_and_no_conflict() -> None:
    sources = risk(licence_graph(), data_risks=DATA_RISKS).tables["sources"]
    assert set(sources.select("id", "risk").rows()) == {
        ("c/child", "license_conflict"), ("d/blank", "no_license"), ("e/none", "no_license")}


def test_a_model_both_named_and_risky_is_a_source_once_per_risk() -> None:
    result = risk(licence_graph(), ["c/child", "c/child"], data_risks=["license_conflict"])
    assert result.rows.select("id", "source", "risk", "dependency").rows() == [
        ("g/lora", "c/child", "compromised", "runtime"), ("g/lora", "c/child", "license_conflict", "runtime")]
    assert result.summary.sources == 1 and result.summary.affected_models == 1
    assert result.summary.risks == ["compromised", "license_conflict"]
    assert result.tables["by_risk"].select("risk", "sources", "affected_models", "affected_downloads").rows() == [
        ("compromised", 1, 1, 10), ("license_conflict", 1, 1, 10)]


def test_rows_and_sources_with_equal_counts_come_in_id_order_not_snapshot_order() -> None:
    # z/base has two derivatives: k/ft (7 downloads) and m/ft (no count); b/base has two, a/q and c/q, with
    # no record. A snapshot lists the models with a record first: m/ft comes before a/q and c/q in it.
    records = [ModelRecord(id="z/base", downloads=1), ModelRecord(id="k/ft", downloads=7), ModelRecord(id="m/ft")]
    lg = lineage(records, [("z/base", "k/ft", Relation.FINETUNE), ("z/base", "m/ft", Relation.FINETUNE),
                           ("b/base", "a/q", Relation.QUANTIZED), ("b/base", "c/q", Relation.QUANTIZED)])
    ids = lg.compact.ids.to_list()
    assert ids.index("m/ft") < ids.index("a/q") and ids.index("z/base") < ids.index("b/base")
    result = risk(lg, ["z/base", "b/base"])
    assert result.rows["id"].to_list() == ["k/ft", "a/q", "c/q", "m/ft"]  # unknown counts last, by id
    assert result.tables["sources"].select("id", "affected_models").rows() == [("b/base", 2), ("z/base", 2)]
    assert risk(lg, ["z/base", "b/base"], sort="id").rows["id"].to_list() == ["a/q", "c/q", "k/ft", "m/ft"]


def test_edge_offsets_find_each_edge_in_the_id_ordered_lists_and_minus_one_for_none() -> None:
    models = pl.DataFrame({"id": ["a", "c", "b", "d"]})
    edges = pl.DataFrame({"base": ["a", "a", "b"], "child": ["c", "b", "d"], "relation": ["finetune"] * 3,
                          "parent_confidence": ["high"] * 3})
    graph = index.build(models, edges)
    # positions a 0, c 1, b 2, d 3; a's children in id order: b (offset 0), c (1); b's: d (2)
    offsets = edge_offsets(graph.children, np.array([0, 0, 2, 2, 3]), np.array([1, 2, 3, 0, 0]))
    assert offsets.tolist() == [1, 0, 2, -1, -1]


def test_relation_paths_over_32_hops_show_their_ends_around_a_marker() -> None:
    # o/m0 -> o/m1 a finetune, then adapters down to o/m38, and o/m38 -> o/m39 a quantization: 39 hops
    relation = {1: Relation.FINETUNE, 39: Relation.QUANTIZED}
    edges = [(f"o/m{i - 1}", f"o/m{i}", relation.get(i, Relation.ADAPTER)) for i in range(1, 40)]
    result = risk(lineage([ModelRecord(id="o/m0")], edges), ["o/m0"])
    paths = dict(result.output_rows().select("id", "relation_path").rows())
    assert paths["o/m2"] == "finetune>adapter"
    assert paths["o/m32"] == ">".join(["finetune"] + ["adapter"] * 31)
    assert paths["o/m33"] == ">".join(["finetune"] + ["adapter"] * 15 + ["…(1 more)…"] + ["adapter"] * 16)
    assert paths["o/m39"] == ">".join(["finetune"] + ["adapter"] * 15 + ["…(7 more)…"] + ["adapter"] * 15
                                      + ["quantized"])
