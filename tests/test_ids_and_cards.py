"""What authors write as a base model, and how ptmgraph reads it."""

from __future__ import annotations

import pytest

from ptmgraph.assemble import assemble
from ptmgraph.extract import CardError, card_metadata, record_from_api
from ptmgraph.ids import IdLookup, normalize_reference
from ptmgraph.records import DanglingReason, EvidenceKind, Harvest, ModelRecord, Reference, Relation


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("meta-llama/Llama-2-7b-hf", "meta-llama/Llama-2-7b-hf"),
        ("  meta-llama/Llama-2-7b-hf/ ", "meta-llama/Llama-2-7b-hf"),
        ("https://huggingface.co/meta-llama/Llama-2-7b-hf", "meta-llama/Llama-2-7b-hf"),
        ("https://huggingface.co/meta-llama/Llama-2-7b-hf/tree/main", "meta-llama/Llama-2-7b-hf"),
        ("hf.co/google/gemma-7b", "google/gemma-7b"),
        ("google/gemma-7b@a1b2c3", "google/gemma-7b"),
        ("gpt2", "openai-community/gpt2"),
        ("my-own-model", "my-own-model"),
    ],
)
def test_hub_ids_are_recognised_in_their_usual_spellings(raw: str, expected: str) -> None:
    assert normalize_reference(raw).id == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("./output", DanglingReason.LOCAL_PATH),
        ("/content/drive/MyDrive/ckpt", DanglingReason.LOCAL_PATH),
        ("C:\\models\\llama", DanglingReason.LOCAL_PATH),
        ("~/models/x", DanglingReason.LOCAL_PATH),
        ("https://github.com/org/repo", DanglingReason.OTHER_SITE),
        ("", DanglingReason.EMPTY),
        ("   ", DanglingReason.EMPTY),
        (None, DanglingReason.NOT_A_STRING),
        (7, DanglingReason.NOT_A_STRING),
        ({"name": "x"}, DanglingReason.NOT_A_STRING),
        ("not an id!", DanglingReason.INVALID_ID),
        ("a/b/c/d", DanglingReason.INVALID_ID),
    ],
)
def test_references_that_are_not_hub_ids_dangle_with_a_reason(raw: object, reason: DanglingReason) -> None:
    got = normalize_reference(raw)
    assert got.id is None and got.reason is reason


def test_ids_differing_only_in_case_resolve_to_the_known_spelling() -> None:
    index = IdLookup(["meta-llama/Llama-2-7b-hf"])
    assert index.canonical("META-LLAMA/llama-2-7B-HF") == "meta-llama/Llama-2-7b-hf"
    assert index.canonical("meta-llama/other") is None


def test_a_card_with_bom_blank_lines_and_crlf_is_read() -> None:
    card = card_metadata("\ufeff\n\n---\r\nbase_model: google/gemma-7b\r\nlicense: mit\r\n---\r\n# Title\r\n")
    assert card == {"base_model": "google/gemma-7b", "license": "mit"}


def test_a_card_without_front_matter_has_no_metadata() -> None:
    assert card_metadata("# Just a title\n\nSome prose.") is None


@pytest.mark.parametrize("text", ["---\nbase_model: [unclosed\n---\n", "---\n- a list\n---\n", "---\nkey: v\n"])
def test_a_broken_card_raises_a_clear_error(text: str) -> None:
    with pytest.raises(CardError):
        card_metadata(text)


def test_yaml_tags_that_would_run_code_are_refused() -> None:
    with pytest.raises(CardError):
        card_metadata("---\nbase_model: !!python/object/apply:os.system ['echo hi']\n---\n")


def test_an_api_record_gives_card_tag_and_relation_evidence() -> None:
    record, refs = record_from_api(
        {
            "id": "someone/llama-lora",
            "cardData": {"base_model": "meta-llama/Llama-2-7b-hf", "licence": "MIT"},
            "tags": ["base_model:meta-llama/Llama-2-7b-hf", "base_model:finetune:meta-llama/Llama-2-7b-hf"],
            "siblings": [{"rfilename": "README.md"}, {"rfilename": "adapter_config.json"},
                         {"rfilename": "adapter_model.bin"}],
        },
        "test",
    )
    assert record.license == "mit" and record.has_card and record.weight_formats == ["pickle"]
    kinds = {(r.kind, r.relation) for r in refs}
    assert kinds == {(EvidenceKind.CARD_BASE_MODEL, None), (EvidenceKind.HUB_TAG, Relation.FINETUNE)}
    snap = assemble(Harvest(records=[record], references=refs))
    edge = snap.edges.row(0, named=True)
    # The Hub says finetune, the files say adapter: the files win, and the disagreement is kept.
    assert (edge["relation"], edge["relation_rule"], edge["hub_relation"]) == ("adapter", "adapter_weights", "finetune")
    assert edge["relations_disagree"] and edge["n_evidence"] == 2


def test_self_loops_cycles_and_dangling_references_are_data() -> None:
    refs = [
        Reference("org/a", "org/a", EvidenceKind.CARD_BASE_MODEL, "README.md:base_model", "t"),
        Reference("org/b", "org/c", EvidenceKind.CARD_BASE_MODEL, "README.md:base_model", "t"),
        Reference("org/c", "org/b", EvidenceKind.CARD_BASE_MODEL, "README.md:base_model", "t"),
        Reference("org/d", "./output", EvidenceKind.CONFIG, "config.json:_name_or_path", "t"),
        Reference("org/d", "outputs/checkpoint-500", EvidenceKind.CONFIG, "config.json:_name_or_path", "t"),
    ]
    snap = assemble(Harvest(records=[ModelRecord(id=x) for x in ("org/a", "org/b", "org/c", "org/d")],
                            references=refs))
    assert snap.edges["self_loop"].sum() == 1
    assert snap.edges.height == 3
    assert sorted(snap.dangling["reason"]) == ["local_path", "local_path"]


def test_a_research_dump_with_snake_case_keys_and_raw_cards_is_read(tmp_path) -> None:
    import polars as pl

    from ptmgraph.sources import open_source

    dump = tmp_path / "models.parquet"
    pl.DataFrame(
        {
            "modelId": ["someone/tuned", "someone/broken"],
            "author": ["someone", "someone"],
            "last_modified": ["2024-05-01T10:00:00Z", "2024-05-02T10:00:00Z"],
            "downloads": [10, 3],
            "tags": [["text-generation"], []],
            "card": ["---\nbase_model: google/gemma-7b\nlicense: gemma\n---\n# prose", "---\nbase_model: [x\n---\n"],
        }
    ).write_parquet(dump)
    snap = assemble(open_source(dump).harvest())
    assert snap.edges.select("base", "child").rows() == [("google/gemma-7b", "someone/tuned")]
    tuned = snap.models.filter(pl.col("id") == "someone/tuned").row(0, named=True)
    assert tuned["license"] == "gemma" and tuned["last_modified"].year == 2024
    assert snap.problems["model"].to_list() == ["someone/broken"]


def test_namespace_less_legacy_ids_are_read_as_the_ids_the_hub_moved_them_to() -> None:
    assert normalize_reference("bert-base-uncased").id == "google-bert/bert-base-uncased"
    assert normalize_reference("https://huggingface.co/gpt2").id == "openai-community/gpt2"
    refs = [
        Reference("me/bert-ft", "bert-base-uncased", EvidenceKind.CONFIG, "config.json:_name_or_path", "t"),
        Reference("me/bert-ft", "google-bert/bert-base-uncased", EvidenceKind.HUB_TAG, "tags:base_model", "t"),
    ]
    snap = assemble(Harvest(records=[ModelRecord(id="bert-base-uncased"), ModelRecord(id="me/bert-ft")],
                            references=refs))
    # One base, one edge, two pieces of evidence: the old spelling does not split the model in two.
    edges = snap.edges.select("base", "child", "n_evidence").rows()
    assert edges == [("google-bert/bert-base-uncased", "me/bert-ft", 2)]
    assert "bert-base-uncased" not in snap.models["id"].to_list()


def test_a_gguf_repo_whose_copied_card_says_finetune_is_a_quantization() -> None:
    record, refs = record_from_api(
        {
            "id": "someone/gemma-7b-it-GGUF",
            "cardData": {"base_model": "google/gemma-7b-it", "base_model_relation": "finetune"},
            "tags": ["base_model:finetune:google/gemma-7b-it"],
            "siblings": [{"rfilename": "README.md"}, {"rfilename": "gemma-7b-it-q4_k_m.gguf"}],
        },
        "test",
    )
    edge = assemble(Harvest(records=[record], references=refs)).edges.row(0, named=True)
    expected = ("quantized", "quantized_files", "finetune")
    assert (edge["relation"], edge["relation_rule"], edge["declared_relation"]) == expected


def test_a_declared_adapter_relation_is_taken_at_its_word() -> None:
    record, refs = record_from_api(
        {"id": "someone/x-GPTQ", "cardData": {"base_model": "org/x", "base_model_relation": "adapter"}}, "test"
    )
    edge = assemble(Harvest(records=[record], references=refs)).edges.row(0, named=True)
    assert (edge["relation"], edge["relation_rule"]) == ("adapter", "declared")


def test_bases_written_as_one_comma_separated_string_are_each_a_base() -> None:
    record, refs = record_from_api({"id": "me/mix", "cardData": {"base_model": "org/a, org/b"}}, "test")
    snap = assemble(Harvest(records=[record], references=refs))
    assert sorted(snap.edges.select("base", "relation").rows()) == [("org/a", "merge"), ("org/b", "merge")]
