"""What a repo's files make it do when loaded: pickle weights that run code, GGML files that do not,
and Python code a model runs from its own repo or another one (``auto_map``). Hand-written Hub
records, ingested into a snapshot the way a user would, then checked; and the bundled snapshot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ptmgraph.analyses.check import check
from ptmgraph.analyses.risk import risk
from ptmgraph.cli import app
from ptmgraph.file_rules import weight_formats
from ptmgraph.graph import LineageGraph, load_graph

runner = CliRunner()


def record(model_id: str, files: list[str], **extra: Any) -> dict[str, Any]:
    """A Hub API record as ``GET /api/models/{id}?expand=...`` gives it."""
    return {"id": model_id, "author": model_id.split("/")[0], "siblings": [{"rfilename": f} for f in files],
            "tags": [], "cardData": {"license": "mit"}, **extra}


def ingest(tmp_path: Path, records: list[dict[str, Any]]) -> LineageGraph:
    """The records as ``models.jsonl``, ingested with ``ptmgraph ingest`` (the columnar reader)."""
    source = tmp_path / "hub"
    source.mkdir()
    (source / "models.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    out = tmp_path / "snap"
    result = runner.invoke(app, ["ingest", str(source), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return load_graph(out)


def findings(lg: LineageGraph, model: str, kind: str) -> set[tuple[str, str, str]]:
    rows = check(lg, [model]).rows.filter(finding=kind)
    return {(r["severity"], r["ancestor"], r["detail"]) for r in rows.iter_rows(named=True)}


# ---------------------------------------------------------------- pickle or not


@pytest.mark.parametrize(("files", "formats"), [
    (["pytorch_model.bin"], ["pickle"]),
    (["training_args.bin", "model.safetensors"], ["pickle", "safetensors"]),
    (["llama-2-7b-chat.ggmlv3.q4_0.bin"], ["ggml"]),  # TheBloke's GGML files
    (["ggml-model-f16.bin"], ["ggml"]),
    (["wizard-7b.q5_1.bin", "wizard-7b-q4_K_M.bin"], ["ggml"]),  # a llama.cpp quantization type in the name
    (["MODEL.GGMLV3.Q8_0.BIN"], ["ggml"]),
    (["q4_0.bin"], ["pickle"]),  # no stem before the type: nothing says GGML
    (["model.gguf"], ["gguf"]),
])
def test_a_bin_file_is_pickle_unless_its_name_shows_ggml(files: list[str], formats: list[str]) -> None:
    assert weight_formats(files) == formats


def test_check_flags_pickle_only_weights_but_not_ggml_bins_or_pickles_beside_safetensors(tmp_path: Path) -> None:
    lg = ingest(tmp_path, [
        record("o/torch", ["config.json", "pytorch_model.bin"]),
        record("o/ggml", ["README.md", "llama-2-7b.ggmlv3.q4_0.bin", "llama-2-7b.ggmlv3.q5_K_M.bin"],
               config={"model_type": "llama"}),
        record("o/both", ["pytorch_model.bin", "model.safetensors"]),
    ])
    assert findings(lg, "o/torch", "pickle_only") == {("high", "o/torch", "pickle")}
    assert findings(lg, "o/ggml", "pickle_only") == set()
    assert findings(lg, "o/both", "pickle_only") == set()
    formats = dict(lg.snapshot.models.select("id", "weight_formats").iter_rows())
    assert formats["o/ggml"] == ["ggml"]
    assert dict(lg.snapshot.models.select("id", "quantization").iter_rows())["o/ggml"] == "ggml"


def test_the_bundled_ggml_quantization_of_llama_2_chat_is_not_pickle_only() -> None:
    lg = load_graph()
    model = "TheBloke/Llama-2-7B-Chat-GGML"
    assert lg.node(model)["weight_formats"] == ["ggml"]  # its 14 *.ggmlv3.*.bin files
    assert check(lg, [model]).rows.filter(finding="pickle_only").height == 0
    assert "TheBloke/Llama-2-7B-Chat-GGML" not in {
        s for s, k, _ in risk(lg, data_risks=["pickle_only"]).tables["sources"].select("id", "risk", "detail").rows()}


# ---------------------------------------------------------------- remote code (auto_map)


def code_records() -> list[dict[str, Any]]:
    """o/code ships its modelling code; o/small (a finetune of o/code) and o/small-lora (an adapter of
    o/small) run it. o/other is a finetune of o/base that runs o/code's code (auto_map alone names it).
    o/lora is an adapter of o/code; o/lora2 is one that also names o/code in its auto_map. o/own is a
    finetune of o/code that runs only its own code (auto_map entries without ``--``), and o/small-ft a
    finetune of o/small whose config names no code at all."""
    def finetune(base: str) -> list[str]:
        return [f"base_model:{base}", f"base_model:finetune:{base}"]

    def adapter(base: str) -> list[str]:
        return [f"base_model:{base}", f"base_model:adapter:{base}"]

    loads = {"auto_map": {"AutoConfig": "o/code--configuration_c.CConfig",
                          "AutoModelForCausalLM": "o/code--modeling_c.CForCausalLM",
                          "AutoTokenizer": ["o/code--tokenization_c.CTokenizer", None]}}
    weights, lora = ["config.json", "model.safetensors"], ["adapter_config.json", "adapter_model.safetensors"]
    return [
        record("o/code", [*weights, "configuration_c.py", "modeling_c.py"],
               config={"auto_map": {"AutoModelForCausalLM": "modeling_c.CForCausalLM"}}),
        record("o/base", weights),
        record("o/small", weights, tags=finetune("o/code"), config=loads),
        record("o/small-lora", lora, tags=adapter("o/small")),
        record("o/small-ft", weights, tags=finetune("o/small")),
        record("o/other", weights, tags=finetune("o/base"), config=loads),
        record("o/lora", lora, tags=adapter("o/code")),
        record("o/lora2", lora, tags=adapter("o/code"), config=loads),
        record("o/own", [*weights, "modeling_own.py", "helpers.py", "notes.py"], tags=finetune("o/code"),
               config={"auto_map": {"AutoModel": "modeling_own.OwnModel", "AutoConfig": "helpers.OwnConfig"}}),
    ]


@pytest.fixture(scope="module")
def code_graph(tmp_path_factory: pytest.TempPathFactory) -> LineageGraph:
    return ingest(tmp_path_factory.mktemp("code"), code_records())


def test_risk_reports_models_that_run_a_compromised_repos_code_as_runtime_code(code_graph: LineageGraph) -> None:
    result = risk(code_graph, ["o/code"])
    rows = {r["id"]: (r["depth"], r["relation_path"], r["dependency"])
            for r in result.output_rows().iter_rows(named=True)}
    assert rows == {
        "o/small": (1, "finetune", "runtime_code"),  # its weights are a copy, but it runs o/code's code
        "o/small-lora": (2, "finetune>adapter", "runtime_code"),  # loads o/small, which runs o/code's code
        "o/small-ft": (2, "finetune>finetune", "inherited"),  # a copy of a copy; its config names no code
        "o/other": (1, "unknown", "runtime_code"),  # no lineage edge from o/code, only its auto_map
        "o/lora": (1, "adapter", "runtime"),  # loads o/code's weights
        "o/lora2": (1, "adapter", "runtime_code"),  # ... and its code: the code wins
        "o/own": (1, "finetune", "inherited"),  # runs its own code, not o/code's
    }
    assert (result.summary["runtime_code_rows"], result.summary["runtime_rows"],
            result.summary["inherited_rows"]) == (4, 1, 2)


def test_an_auto_map_naming_another_repo_is_an_edge_and_its_own_entries_are_not(code_graph: LineageGraph) -> None:
    edges = {(b, c): (rel, rule, code) for b, c, rel, rule, code in code_graph.snapshot.edges.select(
        "base", "child", "relation", "relation_rule", "loads_code").iter_rows()}
    assert edges[("o/code", "o/other")] == ("unknown", "code_only", True)
    assert edges[("o/base", "o/other")] == ("finetune", "hub", False)
    assert edges[("o/code", "o/small")] == ("finetune", "hub", True)
    assert edges[("o/code", "o/own")] == ("finetune", "hub", False)
    assert [c for b, c in edges if c == "o/own"] == ["o/own"]  # its own entries name no other repo
    files = dict(code_graph.snapshot.models.select("id", "code_files").iter_rows())
    assert files["o/code"] == ["configuration_c.py", "modeling_c.py"]
    assert files["o/own"] == ["helpers.py", "modeling_own.py"]  # named by its auto_map; notes.py is not
    assert files["o/small"] == []


def test_check_flags_the_repos_whose_python_a_model_runs(code_graph: LineageGraph) -> None:
    assert findings(code_graph, "o/own", "executes_repo_code") == {
        ("medium", "o/own", "ships helpers.py, modeling_own.py")}
    # o/small-lora loads o/small, whose auto_map runs o/code's code
    assert findings(code_graph, "o/small-lora", "executes_repo_code") == {
        ("medium", "o/code", "o/small's config.json auto_map loads its code")}
    # o/lora loads o/code itself, which ships its own code
    assert findings(code_graph, "o/lora", "executes_repo_code") == {
        ("medium", "o/code", "ships configuration_c.py, modeling_c.py")}
    # look-alikes: a copy of o/small's weights runs none of that code; o/base ships none
    assert findings(code_graph, "o/small-ft", "executes_repo_code") == set()
    assert findings(code_graph, "o/base", "executes_repo_code") == set()


def test_check_and_risk_read_one_runtime_rule(code_graph: LineageGraph, tmp_path: Path) -> None:
    # check walks up from each model, risk down from each source: the repos whose code check says a model
    # runs by an auto_map are the sources risk calls it runtime_code for, and the ancestors whose pickle
    # weights check calls high (loaded directly) are the sources risk calls it runtime for
    models = code_graph.compact.ids.to_list()
    dependency = {(r["source"], r["id"]): r["dependency"] for source in models
                  for r in risk(code_graph, [source]).rows.iter_rows(named=True)}
    for model in models:
        by_check = {a for _, a, detail in findings(code_graph, model, "executes_repo_code") if "auto_map" in detail}
        assert by_check == {s for (s, m), kind in dependency.items() if m == model and kind == "runtime_code"}, model
    assert {m for (s, m), kind in dependency.items() if s == "o/code" and kind == "runtime_code"} == {
        "o/small", "o/small-lora", "o/other", "o/lora2"}
    pickled = ingest(tmp_path, [
        record("p/base", ["pytorch_model.bin"]), record("p/lora", ["adapter_config.json", "adapter_model.bin"],
                                                         tags=["base_model:p/base", "base_model:adapter:p/base"]),
        record("p/ft", ["model.safetensors"], tags=["base_model:p/lora", "base_model:finetune:p/lora"])])
    assert findings(pickled, "p/lora", "pickle_only") == {("high", "p/base", "pickle"),
                                                          ("high", "p/lora", "pickle")}
    assert findings(pickled, "p/ft", "pickle_only") == {("medium", "p/base", "pickle"),
                                                        ("medium", "p/lora", "pickle")}
    assert {(r["source"], r["id"], r["dependency"]) for r in risk(pickled, ["p/base"]).rows.iter_rows(named=True)} == {
        ("p/base", "p/lora", "runtime"), ("p/base", "p/ft", "inherited")}


def test_the_ml_bom_of_an_adapter_lists_the_code_its_base_runs(code_graph: LineageGraph) -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    from ptmgraph.analyses.lineage import ancestry
    from ptmgraph.formats.registry import graph_format
    from ptmgraph.formats.subgraph import lineage_subgraph

    result = ancestry(code_graph, "o/small-lora")
    text = graph_format("cyclonedx").render(lineage_subgraph(code_graph, result, direction="ancestry"),
                                            title=result.title).decode()
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    bom = json.loads(text)
    deps = {d["ref"]: d.get("dependsOn", []) for d in bom["dependencies"]}
    assert deps["model:o/small-lora"] == ["model:o/small"] and deps["model:o/small"] == ["model:o/code"]
    # each edge's dependency kind sits on the derived model, one property per base
    everyone = [bom["metadata"]["component"], *bom["components"]]
    how = {(c["bom-ref"], p["name"].removeprefix("ptmgraph:dependency:"), p["value"])
           for c in everyone for p in c.get("properties", []) if p["name"].startswith("ptmgraph:dependency:")}
    assert how == {("model:o/small-lora", "o/small", "runtime"), ("model:o/small", "o/code", "runtime_code")}


def test_the_bundled_models_that_load_deepseek_r1s_code_run_it() -> None:
    lg = load_graph()
    rows = risk(lg, ["deepseek-ai/DeepSeek-R1"]).rows
    code = dict(rows.filter(dependency="runtime_code").select("id", "relation").iter_rows())
    # the sample's two auto_map entries that name another repo: deepseek-ai/DeepSeek-R1--modeling_deepseek...
    assert code == {"silence09/DeepSeek-R1-3layers": "finetune", "silence09/DeepSeek-R1-Small-2layers": "finetune"}
    result = runner.invoke(app, ["risk", "--compromised", "deepseek-ai/DeepSeek-R1", "-f", "json"])
    assert result.exit_code == 1
    printed = {r["id"]: r["dependency"] for r in json.loads(result.stdout)["rows"]}
    assert printed["silence09/DeepSeek-R1-3layers"] == printed["silence09/DeepSeek-R1-Small-2layers"] == "runtime_code"


@pytest.mark.parametrize(("hops", "expected"), [
    ([("finetune", True)], "runtime_code"),  # runs the source's code, whatever its weights
    ([("adapter", True)], "runtime_code"),  # loads its weights and runs its code: the code wins
    ([("unknown", True), ("adapter", False), ("adapter", False)], "runtime_code"),
    ([("adapter", False), ("adapter", False)], "runtime"),
    ([("finetune", True), ("finetune", False)], "inherited"),  # a copy of a model that ran the code
    ([("adapter", False), ("finetune", True)], "inherited"),  # runs the adapter's code, not the source's
    ([("quantized", False)], "inherited"),
])
def test_the_runtime_rule_on_one_path(hops: list[tuple[str, bool]], expected: str) -> None:
    from ptmgraph.relations import dependency

    assert dependency(hops).value == expected


def test_code_sources_read_every_auto_map_shape() -> None:
    from ptmgraph.relations import code_sources, own_code_files

    auto_map = {"AutoConfig": "a/b--configuration_b.BConfig", "AutoTokenizer": [None, "c/d--tok.Fast", "tok.Slow"],
                "AutoModel": "A/B--modeling_b.BModel", "AutoX": 7, "AutoY": "me/it--own.Own"}
    assert code_sources(auto_map, "me/it") == [("a/b", "AutoConfig: a/b--configuration_b.BConfig"),
                                              ("c/d", "AutoTokenizer: c/d--tok.Fast")]
    assert code_sources("a/b--m.C") == [] and code_sources(None) == []
    files = ["tok.py", "own.py", "modeling_b.py", "sub/modeling_x.py", "other.py"]
    assert own_code_files(files, auto_map, "me/it") == ["modeling_b.py", "own.py", "tok.py"]
