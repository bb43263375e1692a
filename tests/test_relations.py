"""The relation rule, case by case: one row per real repo shape, and the rule table itself.

Each case is built the way the Hub or a disk shows such a repo (file names, card fields, Hub tags,
card prose); the expected parent, relation, rule and the two confidences (parent, relation) are worked
out by hand from the rule as README states it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from ptmgraph import snapshot
from ptmgraph.assemble import assemble
from ptmgraph.cli import app
from ptmgraph.extract import record_from_api, references_from_card_text
from ptmgraph.file_rules import name_parent_stem, quantization_from_name
from ptmgraph.records import Harvest
from ptmgraph.relations import RULE_TABLE, Confidence, EdgeEvidence, RelationRule, WeightShape, decide
from ptmgraph.sources.local import LocalReposSource

README = Path(__file__).resolve().parents[1] / "README.md"
LOCAL_REPOS = Path(__file__).resolve().parent / "data" / "local-repos"

# The rule as README states it, top to bottom (first match wins): rule -> relation it gives.
RULES = [
    ("code_only", "unknown"),
    ("prose_parent", "quantized"),
    ("name_parent", "quantized"),
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
#  (parent, relation, rule, parent confidence, relation confidence))
CASES: list[tuple[str, list[dict[str, Any]], list[tuple[str, str, str, str, str]]]] = [
    (
        "merged LoRA: three full shards beside adapter_config.json",
        [{"id": "someone/phi-2-sft-merged", "cardData": {"base_model": "microsoft/phi-2"},
          "tags": tags("finetune:microsoft/phi-2"), "siblings": siblings(*SHARDS, "adapter_config.json")}],
        [("microsoft/phi-2", "finetune", "merged_adapter", "high", "high")],
    ),
    (
        "adapter only, that the Hub files as a finetune",
        [{"id": "someone/phi-2-lora", "cardData": {"base_model": "microsoft/phi-2"},
          "tags": tags("finetune:microsoft/phi-2"),
          "siblings": siblings("adapter_config.json", "adapter_model.safetensors")}],
        [("microsoft/phi-2", "adapter", "adapter_weights", "high", "high")],
    ),
    (
        "GGUF only, with the original card's base_model_relation: finetune copied",
        [{"id": "someone/gemma-7b-it-GGUF",
          "cardData": {"base_model": "google/gemma-7b-it", "base_model_relation": "finetune"},
          "tags": tags("finetune:google/gemma-7b-it"),
          "siblings": siblings("gemma-7b-it.Q4_K_M.gguf", "gemma-7b-it.Q8_0.gguf")}],
        [("google/gemma-7b-it", "quantized", "quantized_files", "high", "high")],
    ),
    (
        "bitsandbytes 4-bit: one model.safetensors and a quantization_config",
        [{"id": "someone/llama-3-8b-bnb-4bit", "cardData": {"base_model": "meta-llama/Meta-Llama-3-8B"},
          "config": {"model_type": "llama", "quantization_config": {
              "quant_method": "bitsandbytes", "load_in_4bit": True, "bnb_4bit_quant_type": "nf4"}},
          "tags": tags("finetune:meta-llama/Meta-Llama-3-8B"),
          "siblings": siblings("model.safetensors", "config.json")}],
        [("meta-llama/Meta-Llama-3-8B", "quantized", "quantized_files", "high", "high")],
    ),
    (
        "a 16bit name: precision, not quantization; no Hub tags",
        [{"id": "someone/phi2-16bit", "cardData": {"base_model": "microsoft/phi-2"},
          "siblings": siblings("model.safetensors", "config.json")}],
        [("microsoft/phi-2", "finetune", "default_finetune", "high", "high")],
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
        # the parent rests on prose (low); measurement.json shows the quantization (high)
        [("abideen/gemma-7b-openhermes", "quantized", "prose_parent", "low", "high")],
    ),
    (
        "two bases on the card, the Hub tags one of them finetune",
        [{"id": "someone/Fugen",
          "cardData": {"base_model": ["deepseek-ai/DeepSeek-R1", "deepseek-ai/DeepSeek-R1-Distill-Llama-70B"]},
          "tags": tags("finetune:deepseek-ai/DeepSeek-R1"), "siblings": siblings()}],
        # no weight files: the labels alone decide the relation (medium)
        [("deepseek-ai/DeepSeek-R1", "finetune", "hub", "high", "medium"),
         ("deepseek-ai/DeepSeek-R1-Distill-Llama-70B", "finetune", "default_finetune", "high", "medium")],
    ),
    (
        "two bases on the card, merged with mergekit, that the Hub tags finetune from one",
        [{"id": "someone/MistralGemma-7B-Merged",
          "cardData": {"base_model": ["mistralai/Mistral-7B-v0.1", "google/gemma-7b"], "tags": ["mergekit"]},
          "tags": ["mergekit", *tags("finetune:google/gemma-7b")], "siblings": siblings(*SHARDS)}],
        [("mistralai/Mistral-7B-v0.1", "merge", "merge_evidence", "high", "high"),
         ("google/gemma-7b", "merge", "merge_evidence", "high", "high")],
    ),
    (
        "a Trainer card that names its base only in prose",
        [{"id": "someone/llama-sft", "cardData": {"license": "llama2"},
          "card": "---\nlicense: llama2\n---\n# llama-sft\n\nThis model is a fine-tuned version of "
                  "[meta-llama/Llama-2-7b-hf](https://huggingface.co/meta-llama/Llama-2-7b-hf) on the None dataset.\n",
          "siblings": siblings("model.safetensors")}],
        # named in prose only (low); model.safetensors shows a full copy (high)
        [("meta-llama/Llama-2-7b-hf", "finetune", "prose", "low", "high")],
    ),
    (
        "a GPTQ name, a Hub model-tree 'finetune' label, no files known",
        [{"id": "TheBloke/Llama-2-7B-Chat-GPTQ", "tags": tags("finetune:meta-llama/Llama-2-7b-chat-hf")}],
        [("meta-llama/Llama-2-7b-chat-hf", "quantized", "name", "high", "low")],
    ),
    (
        "a llamafile repo (no weight file ptmgraph reads) that the Hub labels finetune",
        [{"id": "someone/phi-2-llamafile", "cardData": {"base_model": "microsoft/phi-2"},
          "tags": tags("finetune:microsoft/phi-2"), "siblings": siblings("phi-2.Q4_K_M.llamafile")}],
        [("microsoft/phi-2", "finetune", "hub", "high", "medium")],
    ),
    (
        "an empty repo (card and .gitattributes only) that the Hub labels finetune",
        [{"id": "someone/phi-2-placeholder", "cardData": {"base_model": "microsoft/phi-2"},
          "tags": tags("finetune:microsoft/phi-2"), "siblings": siblings()}],
        [("microsoft/phi-2", "finetune", "hub", "high", "medium")],
    ),
    (
        "the Hub labels quantized what ships full weights: the files contradict the label",
        [{"id": "someone/phi-2-repack", "cardData": {"base_model": "microsoft/phi-2"},
          "tags": tags("quantized:microsoft/phi-2"), "siblings": siblings("model.safetensors")}],
        [("microsoft/phi-2", "quantized", "hub", "high", "low")],
    ),
    (
        "a mergekit card whose front matter lost its base_model: the quoted configuration names the parents",
        [{"id": "someone/phi-merge", "cardData": {"license": "mit"},
          "card": "---\nlicense: mit\n---\n# phi-merge\n\n```yaml\nmodels:\n  - model: org/phi-a\n"
                  "  - model: org/phi-b\nmerge_method: ties\nbase_model: microsoft/phi-2\n```\n",
          "siblings": siblings(*SHARDS)}],
        [("microsoft/phi-2", "merge", "prose", "low", "high"), ("org/phi-a", "merge", "prose", "low", "high"),
         ("org/phi-b", "merge", "prose", "low", "high")],
    ),
]


def edges_into(child: str, harvest: Harvest) -> list[tuple[str, str, str, str, str]]:
    edges = assemble(harvest).edges.filter(pl.col("child") == child)
    return sorted(edges.select("base", "relation", "relation_rule", "parent_confidence", "relation_confidence").rows())


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
    # A parent from config.json alone: medium. Its weights were left out of the copy, so the default
    # finetune rests on no weights: medium.
    got = edges_into("sentence-transformers/all-MiniLM-L6-v2", LocalReposSource(repo).harvest())
    assert got == [("nreimers/MiniLM-L6-H384-uncased", "finetune", "default_finetune", "medium", "medium")]


def test_a_config_parent_of_a_child_that_declares_another_base_dangles_as_outweighed(tmp_path: Path) -> None:
    repo = tmp_path / "me" / "tuned"
    repo.mkdir(parents=True)
    (repo / "README.md").write_text("---\nbase_model: org/declared\n---\n")
    (repo / "config.json").write_text('{"_name_or_path": "org/other"}')
    (repo / "model.safetensors").write_bytes(b"")
    snap = assemble(LocalReposSource(tmp_path).harvest())
    assert snap.edges.select("base", "child", "relation").rows() == [("org/declared", "me/tuned", "finetune")]
    assert snap.dangling.select("raw", "kind", "reason").rows() == [("org/other", "config", "outweighed")]


def test_a_local_repo_whose_auto_map_loads_another_repos_code_depends_on_it_beside_its_declared_base(
    tmp_path: Path,
) -> None:
    repo = tmp_path / "me" / "small"
    repo.mkdir(parents=True)
    (repo / "README.md").write_text("---\nbase_model: org/declared\n---\n")
    (repo / "config.json").write_text(json.dumps({"auto_map": {
        "AutoConfig": "org/declared--configuration_x.XConfig",
        "AutoModelForCausalLM": "org/code--modeling_x.XForCausalLM",
        "AutoTokenizer": ["tokenization_x.XTokenizer", None],
    }}))
    for name in ("model.safetensors", "tokenization_x.py", "notes.py"):
        (repo / name).write_bytes(b"")
    snap = assemble(LocalReposSource(tmp_path).harvest())
    # The declared base's edge keeps its relation and loads code; org/code is named by auto_map alone:
    # an edge with the code_only rule, whose relation nothing tells (unknown).
    assert sorted(snap.edges.select("base", "relation", "relation_rule", "loads_code").rows()) == [
        ("org/code", "unknown", "code_only", True), ("org/declared", "finetune", "default_finetune", True)]
    assert snap.dangling.height == 0
    quotes = set(snap.evidence.filter(kind="config_auto_map").select("base", "field", "quote").rows())
    assert quotes == {("org/code", "config.json:auto_map", "AutoModelForCausalLM: org/code--modeling_x.XForCausalLM"),
                      ("org/declared", "config.json:auto_map", "AutoConfig: org/declared--configuration_x.XConfig")}
    # its own code: the module its own auto_map entry names (notes.py is named by nothing)
    assert snap.models.filter(id="me/small")["code_files"].to_list() == [["tokenization_x.py"]]


def test_precision_words_are_not_quantization_markers() -> None:
    for name in ("x/phi2-16bit", "x/m-fp16", "x/m-bf16", "x/m-fp32", "x/m-float16", "x/m-32bit"):
        assert quantization_from_name(name) is None, name
    for name, method in (("x/m-4bit", "4bit"), ("x/m-GPTQ", "gptq"), ("x/m-4.0bpw-h6-exl2", "exl2"),
                         ("x/m-mlx-8Bit", "mlx"), ("x/m-GGUF", "gguf")):
        assert quantization_from_name(name) == method, name


def test_unknown_only_when_nothing_is_known() -> None:
    assert decide(EdgeEvidence()).relation.value == "unknown"
    seen = decide(EdgeEvidence(seen=True, weights=WeightShape.FULL))
    assert (seen.relation.value, seen.rule, seen.relation_confidence) == ("finetune", RelationRule.DEFAULT_FINETUNE,
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
    # The parent comes from adapter_config.json alone: medium; the weights show the relation: high.
    snap = assemble(LocalReposSource(tmp_path).harvest())
    columns = ["base", "relation", "relation_rule", "parent_confidence", "relation_confidence"]
    assert snap.edges.select(columns).rows() == [("microsoft/phi-2", "finetune", "merged_adapter", "medium", "high")]
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


# --- tree-only quantizations named after another model (rule name_parent) --------------------------------

BASE = "org/base-7b"


def ingest_hub_files(tmp_path: Path, records: list[dict[str, Any]], trees: list[dict[str, Any]]) -> Path:
    """``ptmgraph ingest`` of a Hub-shaped folder written here: models.jsonl and model_tree.jsonl."""
    folder = tmp_path / "hub"
    folder.mkdir()
    (folder / "models.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (folder / "model_tree.jsonl").write_text("".join(json.dumps(t) + "\n" for t in trees))
    result = CliRunner().invoke(app, ["ingest", str(folder), "--out", str(tmp_path / "snap")])
    assert result.exit_code == 0, result.output
    return tmp_path / "snap"


def finetune_of(model: str, base: str) -> dict[str, Any]:
    return {"id": model, "cardData": {"base_model": base}, "tags": tags(f"finetune:{base}"),
            "siblings": siblings("model.safetensors")}


def parents_of(snap: Path, child: str) -> list[tuple[str, str, str, str, str, str | None]]:
    edges = pl.read_parquet(snapshot.current_files(snap) / "edges.parquet").filter(pl.col("child") == child)
    return sorted(edges.select("base", "relation", "relation_rule", "parent_confidence", "relation_confidence",
                               "replaced_base").rows())


def test_a_gguf_named_after_a_finetune_of_its_listed_base_hangs_under_that_finetune(tmp_path: Path) -> None:
    # The Hub lists the GGUF under the base (the quantizer copied the card's base_model); its name names
    # alice's finetune, which the graph has under the same base. No record: no files, no card.
    snap = ingest_hub_files(tmp_path, [finetune_of("alice/Chat-7B", BASE)],
                            [{"id": BASE, "finetunes": ["alice/Chat-7B"], "quantizations": ["bob/chat-7b-i1-GGUF"]}])
    # parent from the name: low; relation from the Hub's "quantizations" heading, no files seen: medium
    assert parents_of(snap, "bob/chat-7b-i1-GGUF") == [
        ("alice/Chat-7B", "quantized", "name_parent", "low", "medium", BASE)]
    evidence = pl.read_parquet(snapshot.current_files(snap) / "evidence.parquet").filter(
        pl.col("child") == "bob/chat-7b-i1-GGUF")
    assert evidence.select("base", "kind", "field").rows() == [(BASE, "model_tree", "model_tree:quantizations")]
    # `info` shows the edge with the evidence it rests on: the tree listing of the base it replaces
    shown = CliRunner().invoke(app, ["info", "bob/chat-7b-i1-GGUF", "--snapshot", str(snap), "-f", "json"])
    (parent,) = [r for r in json.loads(shown.stdout)["rows"] if r["direction"] == "parent"]
    assert (parent["id"], parent["relation_rule"]) == ("alice/Chat-7B", "name_parent")
    assert parent["evidence"] == [f"model_tree model_tree:quantizations (model_tree.jsonl:1), of {BASE}"]


def test_a_finetune_two_generations_down_is_found_too(tmp_path: Path) -> None:
    snap = ingest_hub_files(
        tmp_path, [finetune_of("alice/Chat-7B", BASE), finetune_of("carol/Chat-7B-DPO", "alice/Chat-7B")],
        [{"id": BASE, "finetunes": ["alice/Chat-7B"], "quantizations": ["bob/Chat-7B-DPO-AWQ"]}])
    assert parents_of(snap, "bob/Chat-7B-DPO-AWQ") == [
        ("carol/Chat-7B-DPO", "quantized", "name_parent", "low", "medium", BASE)]


def test_a_gguf_whose_name_no_model_in_the_graph_bears_stays_under_its_listed_base(tmp_path: Path) -> None:
    snap = ingest_hub_files(tmp_path, [finetune_of("alice/Chat-7B", BASE)],
                            [{"id": BASE, "finetunes": ["alice/Chat-7B"], "quantizations": ["bob/Story-7B-GGUF"]}])
    # the Hub's tree alone names the parent (medium) and labels the relation (medium)
    assert parents_of(snap, "bob/Story-7B-GGUF") == [(BASE, "quantized", "hub", "medium", "medium", None)]


def test_a_name_two_models_bear_leaves_the_child_under_its_listed_base(tmp_path: Path) -> None:
    # alice/Chat-7B and carol/chat-7b both descend from the base: the name does not say which was copied.
    snap = ingest_hub_files(
        tmp_path, [finetune_of("alice/Chat-7B", BASE), finetune_of("carol/chat-7b", BASE)],
        [{"id": BASE, "finetunes": ["alice/Chat-7B", "carol/chat-7b"], "quantizations": ["bob/Chat-7B-GPTQ"]}])
    assert parents_of(snap, "bob/Chat-7B-GPTQ") == [(BASE, "quantized", "hub", "medium", "medium", None)]


def test_a_name_that_is_the_listed_base_own_name_stays_under_it(tmp_path: Path) -> None:
    # carol re-uploaded the base under its own name; bob's GGUF names the base (-hf dropped), not the copy.
    base = "org/Base-7b-chat-hf"
    tree = {"id": base, "finetunes": ["carol/base-7b-chat"], "quantizations": ["bob/Base-7B-Chat-GGUF"]}
    snap = ingest_hub_files(tmp_path, [finetune_of("carol/base-7b-chat", base)], [tree])
    assert parents_of(snap, "bob/Base-7B-Chat-GGUF") == [(base, "quantized", "hub", "medium", "medium", None)]


def test_a_model_of_that_name_outside_the_listed_base_tree_is_not_taken(tmp_path: Path) -> None:
    snap = ingest_hub_files(tmp_path, [finetune_of("alice/Chat-7B", "other/base")],
                            [{"id": BASE, "quantizations": ["bob/Chat-7B-exl2"]}])
    assert parents_of(snap, "bob/Chat-7B-exl2") == [(BASE, "quantized", "hub", "medium", "medium", None)]


@pytest.mark.parametrize(("child", "stem"), [
    ("mradermacher/Foo-7B-i1-GGUF", "Foo-7B"), ("x/Foo-GPTQ", "Foo"), ("x/Foo-AWQ", "Foo"), ("x/Foo-exl2", "Foo"),
    ("x/Foo-MLX", "Foo"), ("x/Foo-bnb-4bit", "Foo"), ("x/Foo-fp8", "Foo"), ("x/Foo-4.0bpw-h6-exl2", "Foo"),
    ("x/Foo-Q4_K_M-GGUF", "Foo"), ("x/foo-gguf", "foo"), ("x/Foo-mlx-4bit", "Foo"),
    ("x/Foo-7B", None), ("x/Foo-v2", None), ("x/Foo-i1", None), ("x/Foo-fp16", None), ("x/GGUF", None),
])
def test_the_name_a_quantized_copy_names(child: str, stem: str | None) -> None:
    assert name_parent_stem(child) == stem


# --- card prose: the phrasings a parent is taken from ----------------------------------------------------

HUB_BASE = "https://huggingface.co/org/base-7b"


@pytest.mark.parametrize(
    ("line", "named", "relation"),
    [
        ("- **Finetuned from model [optional]:** org/base-7b", "org/base-7b", "finetune"),
        ("This model was merged using the [TIES](https://arxiv.org/abs/2306.01708) merge method using "
         f"[org/base-7b]({HUB_BASE}) as a base.", HUB_BASE, "merge"),
        ("The Model [me/child](https://huggingface.co/me/child) was converted to MLX format from "
         f"[org/base-7b]({HUB_BASE}) using mlx-lm version **0.12.0**.", HUB_BASE, "quantized"),
        ("This model was converted to MLX format from [`org/base-7b`]() using mlx-lm version **0.4.0**.",
         "org/base-7b", "quantized"),
        (f"This model was converted to the OpenVINO IR format from [Base 7B]({HUB_BASE}).", HUB_BASE, "quantized"),
        (f"This model is a full fine-tuned version of [org/base-7b]({HUB_BASE}) on our data.", HUB_BASE, "finetune"),
        (f"Original repo: [here]({HUB_BASE})", HUB_BASE, None),
    ],
)
def test_card_prose_in_the_newer_phrasings_names_the_parent(line: str, named: str, relation: str | None) -> None:
    refs = references_from_card_text("me/child", PROSE.format(line=line), {"license": "mit"}, "t")
    assert [(r.raw, r.field, r.relation.value if r.relation else None, r.quote) for r in refs] == [
        (named, "README.md:text", relation, line)]


@pytest.mark.parametrize(
    "line",
    [
        "- **Finetuned from model [optional]:** [More Information Needed]",  # the template left empty
        "Original model: [the data](https://huggingface.co/datasets/org/data)",  # a dataset
        "A full fine-tuned version of [our data](https://huggingface.co/datasets/org/data)",  # a dataset
        "Original repo: https://github.com/org/base-7b",  # not on the Hub
        "Original repo: org/base-7b",  # a bare ORG/NAME after 'original repo' is as often a GitHub repo
        "This model was merged using the SLERP merge method.",  # names no base
        "This model is a full fine-tuned version of org/base-7b",  # a link only, as for the Trainer's line
        # an axolotl training configuration, not a mergekit one
        "```yaml\nbase_model: org/base-7b\nmodel_type: LlamaForCausalLM\nlearning_rate: 0.0002\n```",
        "```yaml\nmodels:\n  - model: org/a-7b\n```",  # no merge_method: not a mergekit configuration
    ],
)
def test_card_prose_look_alikes_name_no_parent(line: str) -> None:
    assert references_from_card_text("me/child", PROSE.format(line=line), {}, "t") == []


def test_a_mergekit_configuration_quoted_in_the_card_names_every_model_it_merges() -> None:
    block = ("```yaml\nslices:\n  - sources:\n      - model: org/a-7b\n        layer_range: [0, 32]\n"
             "      - model: \"org/b-7b\"\n        layer_range: [0, 32]\nmerge_method: slerp\n"
             "base_model: org/base-7b  # the first\ndtype: bfloat16\n```")
    refs = references_from_card_text("me/child", PROSE.format(line=block), {}, "t")
    assert [(r.raw, r.field, r.relation.value if r.relation else None, r.quote) for r in refs] == [
        ("org/a-7b", "README.md:mergekit", "merge", "- model: org/a-7b"),
        ("org/b-7b", "README.md:mergekit", "merge", '- model: "org/b-7b"'),
        ("org/base-7b", "README.md:mergekit", "merge", "base_model: org/base-7b  # the first"),
    ]


def test_prose_parents_count_only_for_a_child_that_declares_none() -> None:
    card = "---\nbase_model: org/declared\n---\n- **Finetuned from model [optional]:** org/other\n"
    record, refs = record_from_api({"id": "me/child", "card": card, "siblings": siblings("model.safetensors")}, "t")
    snap = assemble(Harvest(records=[record], references=refs))
    assert snap.edges.select("base", "relation_rule").rows() == [("org/declared", "default_finetune")]
    assert snap.dangling.select("raw", "kind", "reason").rows() == [("org/other", "card_text", "outweighed")]
