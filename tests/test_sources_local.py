"""Reading model repos from disk, as a user points ptmgraph at a folder or at the Hugging Face cache."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import polars as pl
import pytest

from ptmgraph.assemble import assemble
from ptmgraph.sources import HubRecordsSource, LocalReposSource, SourceError, open_source
from ptmgraph.sources import local as local_module

MINILM_ID = "sentence-transformers/all-MiniLM-L6-v2"
MINILM_BASE = "nreimers/MiniLM-L6-H384-uncased"
REV = "c9745ed1d9f207416be6d2e6f8de32d1f16199bf"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def make_cache(cache: Path, repo_src: Path, model_id: str = MINILM_ID, rev: str = REV) -> Path:
    """An HF cache entry laid out as huggingface_hub writes it: blobs, refs/main, snapshot symlinks."""
    folder = cache / ("models--" + model_id.replace("/", "--"))
    snapshot = folder / "snapshots" / rev
    for n, src in enumerate(sorted(p for p in repo_src.rglob("*") if p.is_file())):
        blob = folder / "blobs" / f"{n:040x}"
        blob.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, blob)
        link = snapshot / src.relative_to(repo_src)
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))
    write(folder / "refs" / "main", rev)
    return folder


def edges_of(path: Path, **kwargs: object) -> pl.DataFrame:
    return assemble(LocalReposSource(path, **kwargs).harvest()).edges  # type: ignore[arg-type]


# --- the local repo of tests/data -------------------------------------------------------------------------------


def test_ingesting_a_folder_of_repos_gives_the_record_and_its_config_edge(local_repos: Path) -> None:
    harvest = open_source(local_repos).harvest()
    snap = assemble(harvest)

    assert harvest.problems == []
    (record,) = harvest.records
    assert record.id == MINILM_ID
    assert record.license == "apache-2.0"
    assert record.model_type == "bert"
    assert record.has_card is True
    assert record.library == "sentence-transformers"
    assert "ms_marco" in record.datasets
    assert {"README.md", "config.json", "1_Pooling/config.json"} <= set(record.files)
    assert record.weight_formats == []  # the weights were left out of the copy
    (edge,) = snap.edges.to_dicts()
    assert (edge["base"], edge["child"]) == (MINILM_BASE, MINILM_ID)
    (evidence,) = snap.evidence.to_dicts()
    assert evidence["kind"] == "config"
    assert evidence["field"] == "config.json:_name_or_path"
    assert evidence["source"].endswith("all-MiniLM-L6-v2/config.json")
    # the base is a node too, known only as a base
    models = {r["id"]: r for r in snap.models.to_dicts()}
    assert models[MINILM_ID]["has_record"] and not models[MINILM_BASE]["has_record"]


def test_pointing_at_the_repo_itself_names_it_from_parent_and_folder(local_repos: Path) -> None:
    source = open_source(local_repos / MINILM_ID)
    assert isinstance(source, LocalReposSource)
    (record,) = source.harvest().records
    assert record.id == MINILM_ID


def test_an_explicit_model_id_overrides_the_folder_names(local_repos: Path) -> None:
    harvest = LocalReposSource(local_repos, model_id="me/minilm-copy").harvest()
    assert [r.id for r in harvest.records] == ["me/minilm-copy"]
    with pytest.raises(SourceError, match="not a Hub model id"):
        LocalReposSource(local_repos, model_id="not a/valid/id")
    # white space around the id is dropped; a URL, a revision or a legacy name is not an id as written
    assert LocalReposSource(local_repos, model_id=" me/minilm-copy\n").model_id == "me/minilm-copy"
    for other in ("https://huggingface.co/me/minilm-copy", "me/minilm-copy@main", "gpt2"):
        with pytest.raises(SourceError, match=f"'{other}': not a Hub model id"):
            LocalReposSource(local_repos, model_id=f" {other}")


# --- the Hugging Face cache ------------------------------------------------------------------------


def test_a_hf_cache_gives_the_same_record_and_edge(local_repos: Path, tmp_path: Path) -> None:
    cache = tmp_path / "hub"
    folder = make_cache(cache, local_repos / MINILM_ID)
    write(cache / "datasets--someone--data" / "snapshots" / "abc" / "README.md", "---\nlicense: mit\n---\n")

    for path in (cache, folder, folder / "snapshots" / REV, tmp_path):  # HF_HUB_CACHE, one entry, one snapshot
        source = open_source(path)
        assert isinstance(source, LocalReposSource), path
        harvest = source.harvest()
        assert harvest.problems == [], path
        (record,) = harvest.records
        assert record.id == MINILM_ID
        assert record.sha == REV
        assert record.license == "apache-2.0"
        assert "1_Pooling/config.json" in record.files
        edges = assemble(harvest).edges
        assert edges.select("base", "child").rows() == [(MINILM_BASE, MINILM_ID)]


def test_the_cache_snapshot_read_is_the_one_refs_main_names(tmp_path: Path) -> None:
    folder = tmp_path / "models--me--model"
    write(folder / "snapshots" / "aaa" / "config.json", json.dumps({"_name_or_path": "org/current-base"}))
    write(folder / "snapshots" / "bbb" / "config.json", json.dumps({"_name_or_path": "org/newer-on-disk"}))
    os.utime(folder / "snapshots" / "aaa", (1_000_000, 1_000_000))
    write(folder / "refs" / "main", "aaa\n")
    assert edges_of(folder).select("base", "child").rows() == [("org/current-base", "me/model")]

    (folder / "refs" / "main").unlink()  # without refs/main: the latest snapshot on disk
    assert edges_of(folder).select("base", "child").rows() == [("org/newer-on-disk", "me/model")]


# --- what repos say --------------------------------------------------------------------------------


def test_an_adapter_repo_gives_an_adapter_edge(tmp_path: Path) -> None:
    repo = tmp_path / "me" / "llama-lora"
    write(repo / "adapter_config.json", json.dumps({"base_model_name_or_path": "meta-llama/Llama-2-7b-hf", "r": 8}))
    (repo / "adapter_model.safetensors").write_bytes(b"")

    snap = assemble(open_source(tmp_path).harvest())

    (edge,) = snap.edges.to_dicts()
    assert (edge["base"], edge["child"], edge["relation"]) == ("meta-llama/Llama-2-7b-hf", "me/llama-lora", "adapter")
    assert edge["evidence_kinds"] == ["adapter_config"]
    (record,) = snap.models.filter(pl.col("has_record")).to_dicts()
    assert record["weight_formats"] == ["safetensors"]


@pytest.mark.parametrize("raw", ["./output", "/content/drive/x", "outputs/checkpoint-500"])
def test_a_config_naming_a_training_directory_dangles_as_a_local_path(tmp_path: Path, raw: str) -> None:
    write(tmp_path / "me" / "trained" / "config.json", json.dumps({"_name_or_path": raw, "model_type": "llama"}))

    snap = assemble(LocalReposSource(tmp_path).harvest())

    assert snap.edges.height == 0
    (dangling,) = snap.dangling.to_dicts()
    assert dangling["child"] == "me/trained"
    assert dangling["raw"] == raw
    assert dangling["reason"] == "local_path"
    assert dangling["field"] == "config.json:_name_or_path"


def test_card_base_model_and_quantization_config_are_read(tmp_path: Path) -> None:
    repo = tmp_path / "me" / "model-awq"
    write(repo / "README.md", "---\nbase_model: org/base\nlicense: mit\n---\n# hi\n")
    write(repo / "config.json", json.dumps({"quantization_config": {"quant_method": "awq"}, "model_type": "mistral"}))

    harvest = LocalReposSource(tmp_path).harvest()
    (record,) = harvest.records
    assert (record.quantization, record.license, record.model_type) == ("awq", "mit", "mistral")
    (edge,) = assemble(harvest).edges.to_dicts()
    assert (edge["base"], edge["relation"]) == ("org/base", "quantized")
    assert edge["evidence_kinds"] == ["card_base_model"]


def test_repo_ids_come_from_org_name_paths_else_the_folder_name(tmp_path: Path) -> None:
    write(tmp_path / "org" / "name" / "config.json", "{}")
    write(tmp_path / "loose-model" / "README.md", "# no metadata\n")
    write(tmp_path / "a" / "b" / "deep-model" / "config.json", "{}")
    write(tmp_path / "org" / "name" / "checkpoint-5" / "config.json", "{}")  # inside a repo: part of it

    records = {r.id: r for r in LocalReposSource(tmp_path).harvest().records}

    assert set(records) == {"org/name", "loose-model", "deep-model"}
    assert "checkpoint-5/config.json" in records["org/name"].files
    assert records["loose-model"].has_card is True and records["loose-model"].card_fields == []
    assert records["org/name"].has_card is False


# --- broken input becomes data, not a crash --------------------------------------------------------


def test_broken_json_and_broken_card_yaml_become_problem_rows(tmp_path: Path) -> None:
    bad = tmp_path / "me" / "broken"
    write(bad / "config.json", '{"_name_or_path": "org/base",')
    write(bad / "README.md", "---\nlicense: [mit\n---\n")
    write(bad / "adapter_config.json", "[1, 2]")
    write(tmp_path / "me" / "fine" / "config.json", json.dumps({"_name_or_path": "org/base"}))

    harvest = LocalReposSource(tmp_path).harvest()
    snap = assemble(harvest)

    problems = snap.problems.to_dicts()
    by_file = {Path(p["source"]).name: p for p in problems}
    assert set(by_file) == {"config.json", "README.md", "adapter_config.json"}
    assert all(p["model"] == "me/broken" for p in problems)
    assert "not valid JSON" in by_file["config.json"]["message"]
    assert "README.md" in by_file["README.md"]["message"]
    assert "not an object" in by_file["adapter_config.json"]["message"]
    assert {r.id for r in harvest.records} == {"me/broken", "me/fine"}  # still listed, with what could be read
    assert snap.edges.select("base", "child").rows() == [("org/base", "me/fine")]


def test_metadata_symlinked_out_of_the_tree_or_too_large_is_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = write(tmp_path / "outside" / "config.json", json.dumps({"_name_or_path": "org/leaked"}))
    root = tmp_path / "repos"
    (root / "me" / "linked").mkdir(parents=True)
    (root / "me" / "linked" / "config.json").symlink_to(outside)
    write(root / "me" / "big" / "README.md", "---\nbase_model: org/base\n---\n" + "x" * 2000)
    (root / "elsewhere").symlink_to(tmp_path / "outside", target_is_directory=True)  # never followed
    monkeypatch.setattr(local_module, "MAX_METADATA_BYTES", 1000)

    harvest = LocalReposSource(root).harvest()

    assert harvest.references == []
    messages = sorted(p.message for p in harvest.problems)
    assert messages[0].startswith("README.md: is 2,") and messages[0].endswith("over the 1,000-byte limit; not read")
    assert messages[1] == "config.json: is a symlink out of the repo tree; not read"
    assert {r.id for r in harvest.records} == {"me/linked", "me/big"}


def test_unusable_paths_raise_one_line_errors_naming_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(SourceError, match="no such directory") as err:
        LocalReposSource(missing).harvest()
    assert str(missing) in str(err.value)

    a_file = write(tmp_path / "file.txt", "hello")
    with pytest.raises(SourceError, match="not a directory"):
        LocalReposSource(a_file).harvest()

    empty = tmp_path / "empty"
    (empty / "sub").mkdir(parents=True)
    with pytest.raises(SourceError, match="no model repo found") as err:
        LocalReposSource(empty).harvest()
    assert str(empty) in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(SourceError, match="cannot tell what kind of input"):
        open_source(empty)


# --- open_source on directories and Hub-record files ----------------------------------------------


def test_open_source_recognises_hub_record_folders_and_files(tmp_path: Path, hub_sample: Path) -> None:
    source = open_source(hub_sample)
    assert isinstance(source, HubRecordsSource)
    assert (source.models, source.readmes, source.tree) == (
        hub_sample / "models.jsonl", hub_sample / "readmes.jsonl", hub_sample / "model_tree.jsonl"
    )
    only_tree = open_source(hub_sample / "model_tree.jsonl")
    assert isinstance(only_tree, HubRecordsSource) and only_tree.tree is not None and only_tree.models is None

    # API records under another name: told apart by their keys
    with (hub_sample / "models.jsonl").open(encoding="utf-8") as handle:
        first = handle.readline()
    renamed = write(tmp_path / "crawl-2025.jsonl", first)
    source = open_source(renamed)
    assert isinstance(source, HubRecordsSource) and source.models == renamed
    assert len(source.harvest().records) == 1
    trees = write(tmp_path / "trees.jsonl", json.dumps({"id": "a/b", "finetunes": ["c/d"]}) + "\n")
    assert open_source(trees).tree == trees  # type: ignore[attr-defined]

    # the kind can be forced
    assert isinstance(open_source(tmp_path / "trees.jsonl", kind="hub-records"), HubRecordsSource)
    assert isinstance(open_source(hub_sample, kind="local"), LocalReposSource)
    with pytest.raises(SourceError, match="unknown input kind"):
        open_source(tmp_path, kind="spreadsheet")
    with pytest.raises(SourceError, match="cannot tell what kind of input this is; use --kind"):
        open_source(write(tmp_path / "notes.txt", "hello"))
    with pytest.raises(SourceError, match="no such file or directory"):
        open_source(tmp_path / "missing.csv")
