"""The relation rule, case by case: one row per real repo shape, and the rule table itself.

Each case is built the way the Hub or a disk shows such a repo (file names, card fields, Hub tags,
card prose); the expected parent, relation, rule and confidence are worked out by hand from the rule
as README states it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from ptmgraph.assemble import assemble
from ptmgraph.extract import quantization_from_name, record_from_api, references_from_card_text
from ptmgraph.records import Harvest
from ptmgraph.relations import RULE_TABLE, Confidence, EdgeEvidence, RelationRule, WeightShape, decide
from ptmgraph.sources.local import LocalReposSource

README = Path(__file__).resolve().parents[1] / "README.md"
LOCAL_REPOS = Path(__file__).resolve().parent / "data" / "local-repos"

# The rule as README states it, top to bottom (first match wins): rule -> relation it gives.
RULES = [
    ("prose_parent", "quantized"),
    ("adapter_weights", "adapter"),
    ("quantized_files", "quantized"),
    ("declared", "as stated"),
    ("merged_adapter", "finetune"),
    ("merge_evidence", "merge"),
    ("name", "quantized"),
    ("declared_finetune", "finetune"),
    ("hub", "as labelled"),
    ("prose", "as worded"),
    ("base_count", "merge"),
    ("default_finetune", "finetune"),
    ("none", "unknown"),
]


def siblings(*names: str) -> list[dict[str, str]]:
    return [{"rfilename": n} for n in ("README.md", ".gitattributes", *names)]


def tags(*pairs: str) -> list[str]:
    """Hub tags as the Hub writes them: ``base_model:<id>`` and ``base_model:<relation>:<id>``."""
    out = []
    for pair in pairs:
        relation, base = pair.split(":", 1)
        out += [f"base_model:{base}", f"base_model:{relation}:{base}"]
    return out


SHARDS = [f"model-0000{i}-of-00003.safetensors" for i in (1, 2, 3)] + ["model.safetensors.index.json", "config.json"]

# (case, API records of the child and of any model it names, expected edges into the child:
#  (parent, relation, rule, confidence))
CASES: list[tuple[str, list[dict[str, Any]], list[tuple[str, str, str, str]]]] = [
    (
        "merged LoRA: three full shards beside adapter_config.json",
        [{"id": "someone/phi-2-sft-merged", "cardData": {"base_model": "microsoft/phi-2"},
          "tags": tags("finetune:microsoft/phi-2"), "siblings": siblings(*SHARDS, "adapter_config.json")}],
        [("microsoft/phi-2", "finetune", "merged_adapter", "high")],
    ),
    (
        "adapter only, that the Hub files as a finetune",
        [{"id": "someone/phi-2-lora", "cardData": {"base_model": "microsoft/phi-2"},
          "tags": tags("finetune:microsoft/phi-2"),
          "siblings": siblings("adapter_config.json", "adapter_model.safetensors")}],
        [("microsoft/phi-2", "adapter", "adapter_weights", "high")],
    ),
    (
        "GGUF only, with the original card's base_model_relation: finetune copied",
        [{"id": "someone/gemma-7b-it-GGUF",
          "cardData": {"base_model": "google/gemma-7b-it", "base_model_relation": "finetune"},
          "tags": tags("finetune:google/gemma-7b-it"),
          "siblings": siblings("gemma-7b-it.Q4_K_M.gguf", "gemma-7b-it.Q8_0.gguf")}],
        [("google/gemma-7b-it", "quantized", "quantized_files", "high")],
    ),
    (
        "bitsandbytes 4-bit: one model.safetensors and a quantization_config",
        [{"id": "someone/llama-3-8b-bnb-4bit", "cardData": {"base_model": "meta-llama/Meta-Llama-3-8B"},
          "config": {"model_type": "llama", "quantization_config": {
              "quant_method": "bitsandbytes", "load_in_4bit": True, "bnb_4bit_quant_type": "nf4"}},
          "tags": tags("finetune:meta-llama/Meta-Llama-3-8B"),
          "siblings": siblings("model.safetensors", "config.json")}],
        [("meta-llama/Meta-Llama-3-8B", "quantized", "quantized_files", "high")],
    ),
    (
        "a 16bit name: precision, not quantization; no Hub tags",
        [{"id": "someone/phi2-16bit", "cardData": {"base_model": "microsoft/phi-2"},
          "siblings": siblings("model.safetensors", "config.json")}],
        [("microsoft/phi-2", "finetune", "default_finetune", "high")],
    ),
    (
        "copied quantizer card: base_model is the base of the model its 'Original model:' line names",
        [
            {"id": "bartowski/gemma-7b-openhermes-exl2",
             "cardData": {"base_model": "google/gemma-7b-it", "quantized_by": "bartowski"},
             "card": "---\nbase_model: google/gemma-7b-it\nquantized_by: bartowski\n---\n"
                     "## Exllama v2 Quantizations of gemma-7b-openhermes\n\n"
                     "Original model: https://huggingface.co/abideen/gemma-7b-openhermes\n",
             "tags": tags("finetune:google/gemma-7b-it"), "siblings": siblings("measurement.json")},
            {"id": "abideen/gemma-7b-openhermes", "cardData": {"base_model": "google/gemma-7b-it"},
             "tags": tags("finetune:google/gemma-7b-it"), "siblings": siblings("model.safetensors")},
        ],
        [("abideen/gemma-7b-openhermes", "quantized", "prose_parent", "medium")],
    ),
    (
        "two bases on the card, the Hub tags one of them finetune",
        [{"id": "someone/Fugen",
          "cardData": {"base_model": ["deepseek-ai/DeepSeek-R1", "deepseek-ai/DeepSeek-R1-Distill-Llama-70B"]},
          "tags": tags("finetune:deepseek-ai/DeepSeek-R1"), "siblings": siblings()}],
        [("deepseek-ai/DeepSeek-R1", "finetune", "hub", "high"),
         ("deepseek-ai/DeepSeek-R1-Distill-Llama-70B", "finetune", "default_finetune", "medium")],
    ),
    (
        "two bases on the card, merged with mergekit, that the Hub tags finetune from one",
        [{"id": "someone/MistralGemma-7B-Merged",
          "cardData": {"base_model": ["mistralai/Mistral-7B-v0.1", "google/gemma-7b"], "tags": ["mergekit"]},
          "tags": ["mergekit", *tags("finetune:google/gemma-7b")], "siblings": siblings(*SHARDS)}],
        [("mistralai/Mistral-7B-v0.1", "merge", "merge_evidence", "high"),
         ("google/gemma-7b", "merge", "merge_evidence", "high")],
    ),
    (
        "a Trainer card that names its base only in prose",
        [{"id": "someone/llama-sft", "cardData": {"license": "llama2"},
          "card": "---\nlicense: llama2\n---\n# llama-sft\n\nThis model is a fine-tuned version of "
                  "[meta-llama/Llama-2-7b-hf](https://huggingface.co/meta-llama/Llama-2-7b-hf) on the None dataset.\n",
          "siblings": siblings("model.safetensors")}],
        [("meta-llama/Llama-2-7b-hf", "finetune", "prose", "medium")],
    ),
    (
        "a GPTQ name, a Hub model-tree 'finetune' label, no files known",
        [{"id": "TheBloke/Llama-2-7B-Chat-GPTQ", "tags": tags("finetune:meta-llama/Llama-2-7b-chat-hf")}],
        [("meta-llama/Llama-2-7b-chat-hf", "quantized", "name", "low")],
    ),
]


def edges_into(child: str, harvest: Harvest) -> list[tuple[str, str, str, str]]:
    edges = assemble(harvest).edges.filter(pl.col("child") == child)
    return sorted(edges.select("base", "relation", "relation_rule", "confidence").rows())


@pytest.mark.parametrize(("case", "rows", "expected"), CASES, ids=[c[0] for c in CASES])
def test_each_repo_shape_gets_its_parent_relation_rule_and_confidence(case, rows, expected) -> None:
    harvest = Harvest()
    for row in rows:
        record, refs = record_from_api(row, "test")
        harvest.records.append(record)
        harvest.references.extend(refs)
    assert edges_into(rows[0]["id"], harvest) == sorted(expected), case


def test_the_copied_quantizer_card_keeps_both_pieces_of_evidence() -> None:
    rows = next(r for c, r, _ in CASES if c.startswith("copied quantizer card"))
    harvest = Harvest()
    for row in rows:
        record, refs = record_from_api(row, "test")
        harvest.records.append(record)
        harvest.references.extend(refs)
    snap = assemble(harvest)
    child = "bartowski/gemma-7b-openhermes-exl2"
    edge = snap.edges.filter(pl.col("child") == child).row(0, named=True)
    assert edge["replaced_base"] == "google/gemma-7b-it"
    evidence = snap.evidence.filter(pl.col("child") == child)
    by_base = {(b, k) for b, k in evidence.select("base", "kind").rows()}
    assert ("google/gemma-7b-it", "card_base_model") in by_base
    assert ("abideen/gemma-7b-openhermes", "card_text") in by_base
    quote = evidence.filter(pl.col("kind") == "card_text", pl.col("field") == "README.md:text")["quote"].to_list()
    assert quote == ["Original model: https://huggingface.co/abideen/gemma-7b-openhermes"]


def test_a_config_only_parent_from_a_local_repo() -> None:
    repo = LOCAL_REPOS / "sentence-transformers" / "all-MiniLM-L6-v2"
    # Its card declares no base; config.json's _name_or_path names the model it was trained from.
    # Its weights were left out of the copy, so the default finetune rests on no weights: medium.
    got = edges_into("sentence-transformers/all-MiniLM-L6-v2", LocalReposSource(repo).harvest())
    assert got == [("nreimers/MiniLM-L6-H384-uncased", "finetune", "default_finetune", "medium")]


def test_a_config_parent_of_a_child_that_declares_another_base_dangles_as_outweighed(tmp_path: Path) -> None:
    repo = tmp_path / "me" / "tuned"
    repo.mkdir(parents=True)
    (repo / "README.md").write_text("---\nbase_model: org/declared\n---\n")
    (repo / "config.json").write_text('{"_name_or_path": "org/other"}')
    (repo / "model.safetensors").write_bytes(b"")
    snap = assemble(LocalReposSource(tmp_path).harvest())
    assert snap.edges.select("base", "child", "relation").rows() == [("org/declared", "me/tuned", "finetune")]
    assert snap.dangling.select("raw", "kind", "reason").rows() == [("org/other", "config", "outweighed")]


def test_precision_words_are_not_quantization_markers() -> None:
    for name in ("x/phi2-16bit", "x/m-fp16", "x/m-bf16", "x/m-fp32", "x/m-float16", "x/m-32bit"):
        assert quantization_from_name(name) is None, name
    for name, method in (("x/m-4bit", "4bit"), ("x/m-GPTQ", "gptq"), ("x/m-4.0bpw-h6-exl2", "exl2"),
                         ("x/m-mlx-8Bit", "mlx"), ("x/m-GGUF", "gguf")):
        assert quantization_from_name(name) == method, name


def test_unknown_only_when_nothing_is_known() -> None:
    assert decide(EdgeEvidence()).relation.value == "unknown"
    seen = decide(EdgeEvidence(seen=True, weights=WeightShape.FULL))
    assert (seen.relation.value, seen.rule, seen.confidence) == ("finetune", RelationRule.DEFAULT_FINETUNE,
                                                                 Confidence.HIGH)


def test_the_rule_table_is_the_one_readme_states() -> None:
    assert [(rule.value, relation) for rule, _, relation in RULE_TABLE] == RULES
    assert [r.value for r in RelationRule] == [rule for rule, _ in RULES]
    text = README.read_text()
    rows = re.findall(r"^\| \d+ \| `(\w+)` \| .* \| (.+?) \|$", text, re.MULTILINE)
    assert rows == RULES


def test_a_merged_lora_on_disk_that_names_its_base_only_in_adapter_config(tmp_path: Path) -> None:
    repo = tmp_path / "me" / "phi-2-merged"
    repo.mkdir(parents=True)
    (repo / "adapter_config.json").write_text('{"base_model_name_or_path": "microsoft/phi-2", "peft_type": "LORA"}')
    for name in SHARDS[:3]:
        (repo / name).write_bytes(b"")
    # Full weights beside the adapter config: the LoRA was merged, nothing loads phi-2 at run time.
    # The parent comes from adapter_config.json alone: medium.
    snap = assemble(LocalReposSource(tmp_path).harvest())
    assert snap.edges.select("base", "relation", "relation_rule", "confidence").rows() == [
        ("microsoft/phi-2", "finetune", "merged_adapter", "medium")
    ]
    assert snap.problems.height == 0
    assert snap.evidence.select("kind", "relation").rows() == [("adapter_config", "adapter")]


PROSE = "---\nlicense: mit\n---\n# Title\n\n{line}\n"


@pytest.mark.parametrize(
    ("line", "named", "relation"),
    [
        ("Original model: https://huggingface.co/org/base-7b", "https://huggingface.co/org/base-7b", None),
        ("- Original model: [Base 7B](https://huggingface.co/org/base-7b)", "https://huggingface.co/org/base-7b",
         None),
        ("Original model: org/base-7b", "org/base-7b", None),
        ("This repo contains GGUF format model files for [Org's Base 7B](https://huggingface.co/org/base-7b).",
         "https://huggingface.co/org/base-7b", "quantized"),
        ("static quants of https://huggingface.co/org/base-7b", "https://huggingface.co/org/base-7b", "quantized"),
        ("A 4bit quantized version of the [Base](https://huggingface.co/org/base-7b) model.",
         "https://huggingface.co/org/base-7b", "quantized"),
        ("This model is a fine-tuned version of [org/base-7b](https://huggingface.co/org/base-7b) on the None dataset.",
         "https://huggingface.co/org/base-7b", "finetune"),
    ],
)
def test_card_prose_that_names_the_original(line: str, named: str, relation: str | None) -> None:
    refs = references_from_card_text("me/child", PROSE.format(line=line), {"license": "mit"}, "t")
    assert [(r.raw, r.relation.value if r.relation else None, r.quote) for r in refs] == [(named, relation, line)]


@pytest.mark.parametrize(
    "line",
    [
        "* [GPTQ models for GPU inference](https://huggingface.co/TheBloke/base-7b-GPTQ)",  # a sibling repo
        "Original model: [Base](https://github.com/org/base)",  # not on the Hub
        "Original model: https://huggingface.co/me/child",  # itself
        "This model is a fine-tuned version of org/base-7b on the None dataset.",  # the template always links
    ],
)
def test_card_prose_that_names_no_original(line: str) -> None:
    assert references_from_card_text("me/child", PROSE.format(line=line), {}, "t") == []


def test_quantized_by_makes_the_declared_base_a_quantized_parent() -> None:
    card = {"base_model": "org/base-7b", "quantized_by": "someone"}
    refs = references_from_card_text("me/child-exl2", "---\nquantized_by: someone\n---\n# Quants\n", card, "t")
    assert [(r.raw, r.field, r.relation.value if r.relation else None) for r in refs] == [
        ("org/base-7b", "README.md:quantized_by", "quantized")
    ]
