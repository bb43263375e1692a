"""The crawl finds the parent a quantizer's card prose names (real huggingface_hub against tests/hub_server.py)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from hub_server import HubData, HubServer, point_hf_at

from ptmgraph import snapshot
from ptmgraph.sources.hub_crawl import crawl

BASE = "mistralai/Mistral-Small-24B-Instruct-2501"
TUNED = "arcee-ai/Arcee-Blitz"
QUANT = "bartowski/Arcee-Blitz-exl2"


def row(model_id: str, base: str, card: dict[str, object], files: tuple[str, ...]) -> dict[str, object]:
    return {"id": model_id, "_id": model_id, "author": model_id.split("/")[0], "sha": "0" * 40,
            "tags": [f"base_model:{base}", f"base_model:finetune:{base}"], "cardData": card,
            "siblings": [{"rfilename": f} for f in files]}


def test_a_crawled_exl2_quantization_hangs_under_the_model_its_card_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The quantizer copied the original card, base_model included: the Hub lists it as a finetune of BASE.
    rows = [
        {"id": BASE, "_id": BASE, "author": "mistralai", "sha": "1" * 40, "tags": [], "cardData": {},
         "siblings": [{"rfilename": "model.safetensors"}]},
        row(TUNED, BASE, {"base_model": BASE}, ("README.md", "model.safetensors")),
        row(QUANT, BASE, {"base_model": BASE, "quantized_by": "bartowski"}, ("README.md", "measurement.json")),
    ]
    readme = (f"---\nbase_model: {BASE}\nquantized_by: bartowski\n---\n## Exllama v2 Quantizations of Arcee-Blitz\n\n"
              f"Original model: https://huggingface.co/{TUNED}\n").encode()
    with HubServer(HubData(records={r["id"]: r for r in rows}), files={(QUANT, "README.md"): readme}) as hub:
        point_hf_at(monkeypatch, tmp_path, hub.url)
        snap = snapshot.load(crawl([BASE], tmp_path / "snap", progress=False).snapshot)
    parents = snap.edges.filter(pl.col("child") == QUANT)
    assert parents.select("base", "relation", "relation_rule", "parent_confidence", "relation_confidence",
                          "replaced_base").rows() == [(TUNED, "quantized", "prose_parent", "low", "high", BASE)]
    assert snap.edges.filter(pl.col("child") == TUNED)["base"].to_list() == [BASE]
