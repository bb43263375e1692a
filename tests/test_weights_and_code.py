"""What a repo's files make it do when loaded: pickle weights that run code, GGML files that do not,
and Python code a model runs from its own repo or another one (``auto_map``). Hand-written Hub
records, ingested into a snapshot the way a user would, then checked; and the bundled snapshot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from analyses import check, risk
from ptmgraph.cli import app
from ptmgraph.extract import weight_formats
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
