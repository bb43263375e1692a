"""Missing attributes and relation disagreements: small graphs by hand, the bundled snapshot vs the raw files."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import polars as pl
from raw_sample import raw_edges, raw_front_matter, raw_license, raw_records
from test_index import random_snapshot, tables

from ptmgraph.analyses.completeness import completeness
from ptmgraph.assemble import assemble
from ptmgraph.graph import LineageGraph
from ptmgraph.records import EvidenceKind, Harvest, ModelRecord, Reference, Relation
from ptmgraph.snapshot import Snapshot


def full(model_id: str, **changes: object) -> ModelRecord:
    """A record with every attribute present, then ``changes`` applied."""
    record = ModelRecord(
        id=model_id, license="mit", datasets=["d/x"], pipeline_tag="text-generation", library="transformers",
        has_card=True, card_fields=["base_model", "license", "model-index"], downloads=1,
    )
    for key, value in changes.items():
        setattr(record, key, value)
    return record


def test_missing_attributes_by_hand() -> None:
    records = [
        full("o/root", card_fields=["license", "model-index"]),  # no base_model, but no parent: not assessed
        full("o/bare", license=None, datasets=[], pipeline_tag=None, library=None, has_card=None, card_fields=[]),
        full("o/child", card_fields=["license"], downloads=3),  # a parent (Hub tag) but no base_model; no eval
        full("o/loop", card_fields=["license", "model-index"]),  # a self-loop is no parent
        full("o/fine"),
        full("o/c1", card_fields=["model-index"]),  # c1 <-> c2, a cycle declared only by Hub tags: each has a
        full("o/c2", card_fields=["model-index"]),  # parent, neither card names it
        full("o/alone", card_fields=["model-index"]),  # isolated: a root, not assessed for base_model
    ]
    refs = [
        Reference("o/child", "o/root", EvidenceKind.HUB_TAG, "tags:base_model", "t"),
        Reference("o/fine", "o/root", EvidenceKind.CARD_BASE_MODEL, "README.md:base_model", "t"),
        Reference("o/loop", "o/loop", EvidenceKind.CARD_BASE_MODEL, "README.md:base_model", "t"),
        Reference("o/seen-only", "o/root", EvidenceKind.MODEL_TREE, "finetunes", "t"),  # no record: not assessed
        Reference("o/c1", "o/c2", EvidenceKind.HUB_TAG, "tags:base_model", "t"),
        Reference("o/c2", "o/c1", EvidenceKind.HUB_TAG, "tags:base_model", "t"),
        Reference("o/root", "./output", EvidenceKind.CONFIG, "config.json:_name_or_path", "t"),  # dangling: no parent
    ]
    lg = LineageGraph(assemble(Harvest(records=records, references=refs)))
    result = completeness(lg)
    missing = {r["id"]: r["missing"] for r in result.rows.iter_rows(named=True)}
    assert missing == {
        "o/bare": ["license", "datasets", "pipeline_tag", "library", "evaluation", "card"],
        "o/child": ["base_model", "evaluation"],
        "o/c1": ["base_model"],
        "o/c2": ["base_model"],
    }
    assert result.rows["id"].to_list() == ["o/bare", "o/child", "o/c1", "o/c2"]
    assert result.summary["models_assessed"] == 8 and result.summary["models_missing_any"] == 4
    rates = {r["attribute"]: (r["missing"], r["assessed"]) for r in result.tables["rates"].iter_rows(named=True)}
    assert rates == {
        "license": (1, 8), "base_model": (3, 4), "datasets": (1, 8), "pipeline_tag": (1, 8),
        "library": (1, 8), "evaluation": (2, 8), "card": (1, 8),
    }
    evaluation = result.tables["rates"].row(5, named=True)
    assert evaluation["downloads_share"] == round(4 / 10, 4)  # o/bare (1) and o/child (3) of 1+1+3+1+1+1+1+1


def test_relation_disagreements_by_hand() -> None:
    records = [
        ModelRecord(id="o/base"),
        ModelRecord(id="o/lora", files=["adapter_config.json"]),  # inferred adapter, Hub says finetune
        ModelRecord(id="o/ft"),  # card and Hub agree: finetune
        ModelRecord(id="o/q"),  # card says quantized, Hub says finetune
    ]
    refs = [
        Reference("o/lora", "o/base", EvidenceKind.HUB_TAG, "tags:base_model:finetune", "t", Relation.FINETUNE),
        Reference("o/ft", "o/base", EvidenceKind.CARD_BASE_MODEL, "README.md:base_model", "t", Relation.FINETUNE),
        Reference("o/ft", "o/base", EvidenceKind.HUB_TAG, "tags:base_model:finetune", "t", Relation.FINETUNE),
        Reference("o/q", "o/base", EvidenceKind.CARD_BASE_MODEL, "README.md:base_model", "t", Relation.QUANTIZED),
        Reference("o/q", "o/base", EvidenceKind.HUB_TAG, "tags:base_model:finetune", "t", Relation.FINETUNE),
    ]
    result = completeness(LineageGraph(assemble(Harvest(records=records, references=refs))))
    assert result.summary["edges_relations_disagree"] == 2
    combos = {
        (r["declared_relation"], r["hub_relation"], r["inferred_relation"]): r["edges"]
        for r in result.tables["disagreements"].iter_rows(named=True)
    }
    assert combos == {(None, "finetune", "adapter"): 1, ("quantized", "finetune", None): 1}
    pairs = {r["sources"]: (r["edges_both_stated"], r["edges_disagree"])
             for r in result.tables["disagreement_pairs"].iter_rows(named=True)}
    assert pairs == {"declared vs hub": (2, 1), "declared vs inferred": (0, 0), "hub vs inferred": (1, 1)}


def tree_headings(sample: Path, heading: str) -> list[tuple[str, list[str]]]:
    """(base, the children the Hub listed under ``heading`` of its model tree)."""
    return [(row["id"], row[heading]) for row in map(json.loads, (sample / "model_tree.jsonl").open())]


# PEFT and diffusers adapter weights, or a single-file LoRA, anywhere in the repo.
ADAPTER_WEIGHTS = re.compile(
    r"(^|/)((adapter_model|pytorch_lora_weights)\.(safetensors|bin)|[^/]*lora[^/]*\.safetensors)$"
)
# Whole-model weights at the root, or in a diffusers pipeline component folder (unet/, transformer/ ...);
# a trainer's checkpoint-N/ folder is training state, not the repo's weights.
FULL_WEIGHTS = re.compile(
    r"^(?!checkpoint-)([^/]+/)?(model|pytorch_model|diffusion_pytorch_model)(-\d+-of-\d+)?\.(safetensors|bin)$"
)


def ships_only_adapter_weights(row: dict) -> bool:
    """Adapter weights and no full weights: the README's definition of an adapter repo."""
    files = [s["rfilename"] for s in row.get("siblings") or []]
    return any(ADAPTER_WEIGHTS.search(n) for n in files) and not any(FULL_WEIGHTS.match(n) for n in files)


def test_rates_on_the_bundled_snapshot_match_the_raw_files(bundled: LineageGraph, hub_sample: Path) -> None:
    front = raw_front_matter(hub_sample)
    parents: dict[str, set[str]] = {}
    for base, child in raw_edges(hub_sample):
        parents.setdefault(child, set()).add(base)
    expected = dict.fromkeys(("license", "base_model", "datasets", "pipeline_tag", "library", "evaluation", "card"), 0)
    with_parent = 0
    rows = raw_records(hub_sample)
    for row in rows:
        # The card is the Hub's parsed cardData, else the README's own front matter.
        card = row.get("cardData") or front.get(row["id"]) or {}
        keys = set(card) | set(front.get(row["id"], {}))
        files = [s["rfilename"] for s in row.get("siblings") or []]
        datasets = card.get("datasets")
        expected["license"] += (raw_license(row) or raw_license({"cardData": front.get(row["id"])})) is None
        expected["datasets"] += not datasets and not any(t.startswith("dataset:") for t in row.get("tags") or [])
        expected["pipeline_tag"] += not (row.get("pipeline_tag") or card.get("pipeline_tag"))
        expected["library"] += not (row.get("library_name") or card.get("library_name"))
        expected["evaluation"] += "model-index" not in keys
        expected["card"] += "README.md" not in files and not card and row["id"] not in front
        if parents.get(row["id"].lower(), set()) - {row["id"].lower()}:
            with_parent += 1
            expected["base_model"] += "base_model" not in keys
    result = completeness(bundled)
    rates = {r["attribute"]: (r["missing"], r["assessed"]) for r in result.tables["rates"].iter_rows(named=True)}
    assert rates == {a: (n, with_parent if a == "base_model" else len(rows)) for a, n in expected.items()}
    assert result.summary["models_assessed"] == len(rows)

    # Hub says finetune, the child ships only adapter weights: the data README's known misfiling.
    adapter_children = {row["id"].lower(): row for row in rows if ships_only_adapter_weights(row)}
    finetune_listed = {
        (line_base.lower(), child.lower())
        for line_base, children in tree_headings(hub_sample, "finetunes")
        for child in children
    }
    misfiled = 0
    for base, child in raw_edges(hub_sample):
        row = adapter_children.get(child)
        if row is None:
            continue
        tagged = any(t.lower() == f"base_model:finetune:{base}" for t in row.get("tags") or [])
        misfiled += tagged or (base, child) in finetune_listed
    combos = result.tables["disagreements"].filter(
        (result.tables["disagreements"]["hub_relation"] == "finetune")
        & (result.tables["disagreements"]["inferred_relation"] == "adapter")
    )
    assert int(combos["edges"].sum()) == misfiled > 500



def networkx_base_model_audit(lg: LineageGraph) -> tuple[int, list[str]]:
    """How many recorded models networkx gives a parent other than themselves (assessed for base_model), and
    which of them state no base_model (sorted): the audit as it was computed before the index (on ``lg.graph``)."""
    graph = lg.graph
    models = lg.snapshot.models.filter(pl.col("has_record").fill_null(False))
    assessed, missing = 0, []
    for model, fields in zip(models["id"], models["card_fields"].to_list(), strict=True):
        if set(graph.pred[model]) - {model}:
            assessed += 1
            if "base_model" not in (fields or []):
                missing.append(model)
    return assessed, sorted(missing)


def base_model_audit(lg: LineageGraph) -> tuple[int, list[str]]:
    """The same, as ``audit`` computes it."""
    result = completeness(lg)
    rate = result.tables["rates"].filter(pl.col("attribute") == "base_model").row(0, named=True)
    missing = sorted(result.rows.filter(pl.col("missing_base_model"))["id"])
    assert rate["missing"] == len(missing)
    assert "graph" not in lg.__dict__  # the audit never builds the networkx graph
    return rate["assessed"], missing


def recorded(snap: Snapshot, without_base_model: set[str] = frozenset()) -> Snapshot:  # type: ignore[assignment]
    """``snap`` with every models row a record of its own; the models in ``without_base_model`` state none."""
    fields = pl.when(pl.col("id").is_in(list(without_base_model))).then(pl.lit([], dtype=pl.List(pl.String)))
    models = snap.models.with_columns(
        has_record=pl.lit(True), card_fields=fields.otherwise(pl.lit(["base_model"], dtype=pl.List(pl.String))))
    return Snapshot(models=models, edges=snap.edges, evidence=snap.evidence, dangling=snap.dangling,
                    problems=snap.problems)


def test_the_base_model_audit_equals_networkx_on_the_bundled_snapshot(bundled: LineageGraph) -> None:
    columnar = base_model_audit(LineageGraph(bundled.snapshot))
    assert columnar == networkx_base_model_audit(bundled)
    assert 0 < columnar[0] < bundled.snapshot.models["has_record"].sum()  # roots and models with a parent


def test_the_base_model_audit_equals_networkx_on_edge_cases() -> None:
    edges = [
        ("o/a", "o/b", "finetune", "high"),
        ("o/loop", "o/loop", "finetune", "high"),  # a self-loop only: a root
        ("o/c1", "o/c2", None, "low"), ("o/c2", "o/c1", None, "low"),  # a cycle: both have a parent
        ("o/edge-only", "o/d", "adapter", None),  # a base with no record of its own
        ("o/b", "o/b", "merge", "medium"),  # a self-loop on a model that has another parent
        ("o/a", "o/b", "quantized", "low"),  # the same pair named twice
    ]
    models = ["o/b", "o/a", "o/loop", "o/c1", "o/c2", "o/d", "o/alone", "o/b"]  # o/b has two rows: one model
    lg = LineageGraph(recorded(tables(edges, models), without_base_model={"o/b", "o/c1", "o/d", "o/loop"}))
    # assessed: o/b (both rows), o/c1, o/c2, o/d; not o/a, o/loop (itself only), o/alone or o/edge-only (no record)
    assert base_model_audit(lg) == (5, ["o/b", "o/b", "o/c1", "o/d"])
    assert base_model_audit(lg) == networkx_base_model_audit(lg)


def test_the_base_model_audit_equals_networkx_on_random_graphs() -> None:
    rng = random.Random(18)
    for _ in range(60):
        snap = random_snapshot(rng)  # self-loops, cycles, merges, repeated edges, edge-only models
        lg = LineageGraph(recorded(snap, {m for m in snap.models["id"] if rng.random() < 0.5}))
        assert base_model_audit(lg) == networkx_base_model_audit(lg)
