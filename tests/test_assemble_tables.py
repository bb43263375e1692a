"""Columnar assembly gives the snapshot the per-record assembly gave, whatever the harvest.

The oracle is the former dict-based assembly (tests/assemble_oracle.py); every table is compared whole,
rows in order. Harvests: the real Hub sample, generated Hub-shaped records, hand-made edge cases, and
random harvests drawn from small pools of clashing spellings, files and evidence.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import assemble_oracle
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.generate import generate
from ptmgraph import file_rules
from ptmgraph.assemble import assemble_tables
from ptmgraph.assemble_edges import _may_name_quantization
from ptmgraph.ids import current_id, current_ids, lowercase_ids, normalize_reference, normalized_references
from ptmgraph.records import (
    REFERENCES_SCHEMA,
    DanglingReason,
    EvidenceKind,
    Harvest,
    HarvestTables,
    ModelRecord,
    Problem,
    Reference,
    Relation,
)
from ptmgraph.snapshot import Snapshot
from ptmgraph.sources.hub_records import HubRecordsSource

TABLES = ("models", "edges", "evidence", "dangling", "problems")


def assert_same_snapshot(harvest: Harvest) -> Snapshot:
    expected = assemble_oracle.assemble(harvest)
    got = assemble_tables(HarvestTables.of(harvest))
    for name in TABLES:
        want, have = expected.table(name), got.table(name)
        assert have.schema == want.schema, name
        assert have.to_dicts() == want.to_dicts(), name
    assert got.meta == expected.meta
    return got


def test_the_hub_sample_assembles_as_before(hub_sample: Path) -> None:
    snap = assert_same_snapshot(HubRecordsSource.from_directory(hub_sample).harvest())
    assert snap.edges.height > 1000 and snap.evidence.height > snap.edges.height


def test_generated_hub_shaped_records_assemble_as_before(tmp_path: Path) -> None:
    generate(3000, tmp_path)
    snap = assert_same_snapshot(HubRecordsSource(models=tmp_path / "models.jsonl").harvest())
    assert snap.edges.height > 2500


def test_several_harvests_as_tables_assemble_like_one_harvest(hub_sample: Path, tmp_path: Path) -> None:
    generate(300, tmp_path)
    parts = [HubRecordsSource.from_directory(hub_sample).harvest(),
             HubRecordsSource(models=tmp_path / "models.jsonl").harvest()]
    together = Harvest()
    for part in parts:
        together.extend(part)
    expected = assemble_oracle.assemble(together)
    got = assemble_tables(HarvestTables.concat([HarvestTables.of(p) for p in parts]))
    for name in TABLES:
        assert got.table(name).to_dicts() == expected.table(name).to_dicts(), name


def ref(child: str, raw: object, kind: EvidenceKind = EvidenceKind.CARD_BASE_MODEL, relation: Relation | None = None,
        source: str = "s") -> Reference:
    return Reference(child=child, raw=raw, kind=kind, field="f", source=source, relation=relation)


def test_edge_cases_assemble_as_before() -> None:
    gguf = ["model.Q4_K_M.gguf"]
    records = [
        ModelRecord(id="Org/Base", files=["model.safetensors"], source="a"),
        ModelRecord(id="org/base", license="mit", files=["b.txt"], tags=["Merge"], source="b;c"),
        ModelRecord(id="org/Base", has_card=True, source="b"),
        ModelRecord(id="org/ft", files=["model.safetensors"], source="a"),
        ModelRecord(id="q/ft-GGUF", files=gguf, quantization="gguf"),
        ModelRecord(id="q/two-GGUF", files=gguf, quantization="gguf"),
        ModelRecord(id="bert-base-uncased", files=["pytorch_model.bin"]),
        ModelRecord(id="me/loop"),
        ModelRecord(id="me/a", files=["adapter_model.safetensors", "adapter_config.json"]),
        ModelRecord(id="me/b", quantization="fp8", files=["model.safetensors"]),
        ModelRecord(id="İo/Σς"),
    ]
    refs = [
        ref("ORG/FT", "org/BASE"),
        ref("org/ft", "https://huggingface.co/org/base/tree/main", EvidenceKind.HUB_TAG, Relation.FINETUNE),
        ref("q/ft-GGUF", "org/base", relation=Relation.QUANTIZED),
        ref("q/ft-GGUF", "org/ft", EvidenceKind.CARD_TEXT, Relation.QUANTIZED),  # prose_parent
        ref("q/two-GGUF", "org/base"),
        ref("q/two-GGUF", "org/ft", EvidenceKind.CARD_TEXT),
        ref("q/two-GGUF", "org/other-ft", EvidenceKind.CARD_TEXT),
        ref("org/other-ft", "Org/Base"),
        ref("q/two-GGUF", "./outputs", EvidenceKind.CONFIG),
        ref("q/two-GGUF", "new/Base", EvidenceKind.CONFIG),  # outweighed
        ref("me/ft2", "bert-base-uncased", EvidenceKind.CONFIG),
        ref("me/ft3", "google-bert/BERT-base-uncased"),
        ref("me/loop", "me/loop"),
        ref("me/cycle1", "me/cycle2"), ref("me/cycle2", "me/cycle1"),
        ref("NEW/base", "me/x"),  # a child spelled before its base is first named ...
        ref("me/y", "new/BASE"),  # ... here
        ref("new/base", "me/z"),  # ... and after
        ref("me/a", "outputs/checkpoint-500", EvidenceKind.ADAPTER_CONFIG),
        ref("me/a", "output/model", EvidenceKind.ADAPTER_CONFIG),
        ref("me/a", "https://github.com/x/y"), ref("me/a", 5), ref("me/a", None), ref("me/a", ["org/base"]),
        ref("me/a", ""), ref("me/a", "  'org/base@v1/'  ", source="t"), ref("me/a", "org/base", source="s;t"),
        ref("me/b", "org/base", EvidenceKind.EDGE_LIST, Relation.MERGE), ref("me/b", "me/a", EvidenceKind.EDGE_LIST),
        ref("İo/σς", "org/base", EvidenceKind.MODEL_TREE, Relation.ADAPTER),
        ref("https://hf.co/me/url-child", "hf://org/base"),
        ref("me/ft3", "me/code", EvidenceKind.CONFIG_AUTO_MAP),  # a code source beside a declared base: stays
        ref("org/ft", "org/base", EvidenceKind.CONFIG_AUTO_MAP),  # the declared base's code
        # name_parent: tree-only quantizations named after a model below their listed base
        ref("org/ft", "org/base", EvidenceKind.MODEL_TREE, Relation.FINETUNE),
        ref("tq/FT-i1-GGUF", "org/base", EvidenceKind.MODEL_TREE, Relation.QUANTIZED),  # -> org/ft
        ref("tq/deep-AWQ", "org/base", EvidenceKind.MODEL_TREE, Relation.QUANTIZED),  # -> x/deep, two down
        ref("x/deep", "org/other-ft", EvidenceKind.HUB_TAG),
        ref("tq/twice-GGUF", "org/base", EvidenceKind.MODEL_TREE),  # two models named twice: stays
        ref("a/twice", "org/base"), ref("b/twice", "org/ft"),
        ref("tq/base-GGUF", "org/base", EvidenceKind.MODEL_TREE),  # the listed base's own name: stays
        ref("c/base", "org/base"),
        ref("tq/nobody-GGUF", "org/base", EvidenceKind.MODEL_TREE),  # no model of that name: stays
        # a child that more than the tree speaks of (here its config, outweighed) stays too
        ref("tq/ft-GGUF", "org/base", EvidenceKind.MODEL_TREE), ref("tq/ft-GGUF", "x/y", EvidenceKind.CONFIG),
    ]
    harvest = Harvest(
        records=records, references=refs, known_ids={"ORG/LISTED", "org/listed", "gpt2", "ORG/FT"},
        dangling=[(ref("ORG/ft", "gone/x"), DanglingReason.NOT_FOUND), (ref("nobody/x", "y/z"), DanglingReason.GATED)],
        problems=[Problem("file:1", "org/ft", "broken card")], sources=["one", "two"],
    )
    snap = assert_same_snapshot(harvest)
    assert "prose_parent" in snap.edges["relation_rule"].to_list()
    named = snap.edges.filter(pl.col("relation_rule") == "name_parent")
    assert sorted(named.select("base", "child", "replaced_base").rows()) == [
        ("org/ft", "tq/FT-i1-GGUF", "Org/Base"), ("x/deep", "tq/deep-AWQ", "Org/Base")]  # the first spelling
    assert "outweighed" in snap.dangling["reason"].to_list()
    code = {(b, c): (rule, loads) for b, c, rule, loads in snap.edges.select(
        "base", "child", "relation_rule", "loads_code").iter_rows() if loads}
    assert code == {("me/code", "me/ft3"): ("code_only", True), ("Org/Base", "org/ft"): ("hub", True)}


# Random harvests: small pools, so spellings clash, ids repeat and every evidence rule meets every other.
IDS = ["org/a", "Org/A", "ORG/a", "org/b", "org/b-GGUF", "Org/B-gguf", "x/c", "x/c-4bit", "gpt2", "GPT2",
       "openai-community/gpt2", "outputs/checkpoint-5", "output/m", "İ/ı", "k/Kelvin-q4_K", "me/m"]
RAWS = [*IDS, "https://huggingface.co/org/A/tree/main", "hf.co/org/b", "./local", "C:\\m", "https://github.com/x/y",
        "", "  org/b  ", "org/b@rev", "org/b/", "a--b/c", "huggingface.co/x/c", 7, None, ["org/a"], {"x": 1}]
FILES = ["model.safetensors", "adapter_model.safetensors", "adapter_config.json", "m.Q4_K_M.gguf",
         "mergekit_config.yml", "quantize_config.json", "checkpoint-1/model.safetensors", "README.md",
         "unet/x_lora.bin"]
records = st.builds(
    ModelRecord,
    id=st.sampled_from(IDS),
    license=st.sampled_from([None, "mit", "apache-2.0"]),
    downloads=st.sampled_from([None, 0, 10]),
    created_at=st.sampled_from([None, datetime(2024, 1, 1, tzinfo=timezone.utc)]),
    quantization=st.sampled_from([None, None, "gguf", "fp8"]),
    has_card=st.sampled_from([None, True, False]),
    files=st.lists(st.sampled_from(FILES), max_size=3),
    tags=st.lists(st.sampled_from(["merge", "Mergekit", "gguf", "x"]), max_size=2),
    source=st.sampled_from(["a", "b", "a;b", ""]),
)
references = st.builds(
    Reference,
    child=st.sampled_from([*IDS, "https://huggingface.co/org/a", "not an id"]),
    raw=st.sampled_from(RAWS),
    kind=st.sampled_from(list(EvidenceKind)),
    field=st.sampled_from(["f", "g"]),
    source=st.sampled_from(["s", "t", "s;t"]),
    relation=st.sampled_from([None, *Relation]),
    quote=st.sampled_from([None, "q"]),
)
harvests = st.builds(
    Harvest,
    records=st.lists(records, max_size=8),
    references=st.lists(references, max_size=14),
    known_ids=st.sets(st.sampled_from(IDS), max_size=4),
    dangling=st.lists(st.tuples(references, st.sampled_from(list(DanglingReason))), max_size=2),
)


@pytest.mark.slow
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(harvests)
def test_any_harvest_assembles_as_before(harvest: Harvest) -> None:
    assert_same_snapshot(harvest)


def test_an_empty_harvest_gives_empty_tables() -> None:
    snap = assert_same_snapshot(Harvest())
    assert all(snap.table(name).height == 0 for name in TABLES)


TRICKY = [*(r for r in RAWS if isinstance(r, str)), "org/name\n", "Org/Name.", "a/b.", "-a/b", "a/-b", "a/b_",
          "hf.co/models/org/x", "www.huggingface.co/org/x", "HuggingFace.co/org/x", "a/b/c", "~/x", "a" * 97 + "/b",
          "x/" + "a" * 96, "ȺȾ/b", "org/İstanbul", "bert-base-cased", "ΣΑΣ/x"]


@pytest.mark.parametrize("values", [TRICKY, [v.upper() for v in TRICKY], [v.lower() for v in TRICKY]])
def test_column_helpers_answer_as_the_per_value_functions(values: list[str]) -> None:
    column = pl.Series("v", [*values, None, *values])
    got = normalized_references(column).rows()
    want = [(None, None) if v is None else (normalize_reference(v).id, _reason(v)) for v in column.to_list()]
    assert got == want
    assert lowercase_ids(column).to_list() == [None if v is None else v.lower() for v in column.to_list()]
    assert current_ids(column).to_list() == [None if v is None else current_id(v) for v in column.to_list()]


def _reason(value: str) -> str | None:
    reason = normalize_reference(value).reason
    return reason.value if reason else None


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(max_size=30), st.from_regex(r"[a-zA-Z0-9._/-]{0,20}(gguf|q[2-8]_k|\d\.\dbpw|4bit|int8)?",
                                                       fullmatch=True)))
def test_names_the_quantization_check_skips_name_no_quantization(name: str) -> None:
    skipped = not _may_name_quantization(pl.Series([name]))[0]
    assert not skipped or file_rules.quantization_from_name(name) is None


def test_consuming_the_tables_gives_the_same_snapshot_and_empties_them(hub_sample: Path) -> None:
    harvest = HubRecordsSource.from_directory(hub_sample).harvest()
    kept = assemble_tables(HarvestTables.of(harvest))
    tables = HarvestTables.of(harvest)
    consumed = assemble_tables(tables, consume=True)
    for name in TABLES:
        assert consumed.table(name).equals(kept.table(name)), name
    assert tables.records.height == 0 and tables.references.height == 0
    assert tables.references.columns == list(REFERENCES_SCHEMA)


def test_an_ingest_that_keeps_lists_of_names_categorical_saves_the_same_snapshot(hub_sample: Path,
                                                                                    tmp_path: Path) -> None:
    """``ptmgraph ingest`` assembles with ``text_lists=False`` (categorical lists of names, a fraction of
    the memory); the saved snapshot must read back exactly as the text-list assembly."""
    from ptmgraph import snapshot
    from ptmgraph.records import MODELS_SCHEMA, NAME_LIST, NAME_LIST_COLUMNS

    tables = HubRecordsSource.from_directory(hub_sample).harvest_tables()
    expected = assemble_oracle.assemble(HubRecordsSource.from_directory(hub_sample).harvest())
    compact = assemble_tables(tables, consume=True, text_lists=False)
    assert all(compact.models.schema[c] == NAME_LIST for c in NAME_LIST_COLUMNS)
    saved = snapshot.load(snapshot.save(compact, tmp_path / "snap"))
    assert saved.models.schema == pl.Schema(MODELS_SCHEMA)
    for name in TABLES:
        assert saved.table(name).to_dicts() == expected.table(name).to_dicts(), name
    files = saved.models.filter(pl.col("id") == "google/gemma-7b")["files"].item().to_list()
    assert "config.json" in files and all(isinstance(f, str) for f in files)
