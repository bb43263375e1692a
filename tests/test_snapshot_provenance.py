"""Everyday use of snapshots (issue 19): a snapshot is never replaced by accident, sources can be added,
flat local folders get the id the README states, and every answer says where it comes from."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from ptmgraph import __version__, snapshot
from ptmgraph.cli import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def repo(folder: Path, card_base: str | None = None, config: dict[str, str] | None = None) -> Path:
    """A local model repo with full weights: a card naming ``card_base`` (or a bare card), and a
    ``config.json`` when given."""
    folder.mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(b"")
    front = f"base_model: {card_base}\n" if card_base else "license: mit\n"
    (folder / "README.md").write_text(f"---\n{front}---\n")
    if config is not None:
        (folder / "config.json").write_text(json.dumps(config))
    return folder


def ingest(*args: object) -> object:
    return run("ingest", *(str(a) for a in args))


def tables(directory: Path) -> dict[str, pl.DataFrame]:
    loaded = snapshot.load(directory)
    return {name: loaded.table(name) for name in snapshot.TABLES}


# --- snapshots are not replaced by accident ----------------------------------------------------------


def test_ingest_refuses_to_replace_a_snapshot_of_other_sources_naming_both(tmp_path: Path) -> None:
    models = tmp_path / "models"
    repo(models / "acme" / "base")
    repo(models / "acme" / "tuned", card_base="acme/base")
    edges = tmp_path / "lineage.csv"
    edges.write_text("child,base\nsomeone/merge,acme/base\n")
    out = tmp_path / "snap"
    assert ingest(models, "--out", out).exit_code == 0

    refused = ingest(edges, "--out", out)

    assert refused.exit_code == 1
    assert str(models) in refused.stderr and str(edges) in refused.stderr and "--replace" in refused.stderr
    assert set(tables(out)["models"]["id"]) == {"acme/base", "acme/tuned"}  # untouched
    assert ingest(models, "--out", out).exit_code == 0  # the same sources again: a refresh
    assert ingest(edges, "--out", out, "--replace").exit_code == 0
    assert set(tables(out)["models"]["id"]) == {"someone/merge", "acme/base"}


def test_ingest_add_gives_the_tables_of_one_ingest_of_everything(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # paths as a user types them: relative
    repo(tmp_path / "models" / "acme" / "base")
    repo(tmp_path / "models" / "acme" / "tuned", card_base="acme/base")
    (tmp_path / "lineage.csv").write_text("child,base,relation\nsomeone/q,acme/tuned,quantized\n")
    assert ingest("models", "--out", "added").exit_code == 0

    added = ingest("--add", "added", "lineage.csv")
    assert ingest("models", "lineage.csv", "--out", "once").exit_code == 0

    assert added.exit_code == 0, added.stderr
    assert "3 models, 2 edges" in added.stderr
    once, both = tables(tmp_path / "once"), tables(tmp_path / "added")
    for name in snapshot.TABLES:
        assert both[name].equals(once[name]), name


def test_ingest_add_refuses_a_snapshot_whose_sources_cannot_be_read_again(tmp_path: Path) -> None:
    edges = tmp_path / "lineage.csv"
    edges.write_text("child,base\nsomeone/merge,acme/base\n")
    more = tmp_path / "more.csv"
    more.write_text("child,base\nsomeone/other,acme/base\n")
    assert ingest(edges, "--out", tmp_path / "snap").exit_code == 0
    edges.unlink()

    gone = ingest("--add", tmp_path / "snap", more)
    bundled = ingest("--add", snapshot.bundled_path(), more)  # made by a build script: no inputs recorded
    not_one = ingest("--add", tmp_path / "nothing-here", more)

    assert gone.exit_code == 1 and f"{edges} (edge-list) no longer exists" in gone.stderr
    assert bundled.exit_code == 1 and "records no inputs that can be read again" in bundled.stderr
    assert not_one.exit_code == 1 and "not a ptmgraph snapshot" in not_one.stderr
    assert run("ingest", str(more)).exit_code == 2  # neither --out nor --add


# --- local ids --------------------------------------------------------------------------------------


def flat_folder_case(tmp_path: Path) -> Path:
    """The issue's case: a flat folder ``acme-base-ft/`` that two other cards name ``acme/acme-base-ft``."""
    models = tmp_path / "my-models"
    repo(models / "acme-base-ft", config={"model_type": "llama"})
    repo(models / "acme" / "chat", card_base="acme/acme-base-ft")
    repo(models / "acme" / "code", card_base="acme/acme-base-ft")
    return models


def test_a_flat_folder_named_under_another_namespace_is_one_model_not_two(tmp_path: Path) -> None:
    assert ingest(flat_folder_case(tmp_path), "--out", tmp_path / "snap").exit_code == 0

    impact = json.loads(run("impact", "acme-base-ft", "-s", str(tmp_path / "snap"), "-f", "json").stdout)
    evidence = tables(tmp_path / "snap")["evidence"]

    assert sorted(r["id"] for r in impact["rows"]) == ["acme/chat", "acme/code"]
    assert set(tables(tmp_path / "snap")["models"]["id"]) == {"acme-base-ft", "acme/chat", "acme/code"}
    assert set(evidence["raw"]) == {"acme/acme-base-ft"} and set(evidence["base"]) == {"acme-base-ft"}


def test_a_flat_folder_takes_the_namespace_given_or_its_configs_hub_id(tmp_path: Path) -> None:
    models = flat_folder_case(tmp_path)
    assert ingest(models, "--out", tmp_path / "ns", "--namespace", "acme").exit_code == 0
    (models / "acme-base-ft" / "config.json").write_text(json.dumps({"_name_or_path": "acme/ACME-base-ft"}))
    assert ingest(models, "--out", tmp_path / "config").exit_code == 0

    for snap in ("ns", "config"):
        impact = json.loads(run("impact", "acme/acme-base-ft", "-s", str(tmp_path / snap), "-f", "json").stdout)
        assert sorted(r["id"] for r in impact["rows"]) == ["acme/chat", "acme/code"], snap
    assert "acme/ACME-base-ft" in set(tables(tmp_path / "config")["models"]["id"])


def test_a_flat_folder_of_another_namespace_is_a_dangling_reference_naming_the_folder(tmp_path: Path) -> None:
    models = flat_folder_case(tmp_path)
    assert ingest(models, "--out", tmp_path / "snap", "--namespace", "other").exit_code == 0

    dangling = json.loads(run("dangling", "-s", str(tmp_path / "snap"), "-f", "json",
                              "--reason", "namespace_mismatch").stdout)
    problems = tables(tmp_path / "snap")["problems"]

    assert sorted((r["id"], r["raw"]) for r in dangling["rows"]) == [
        ("acme/chat", "acme/acme-base-ft"), ("acme/code", "acme/acme-base-ft")]
    assert set(problems["source"]) == {str(models / "acme-base-ft")}
    assert all("other/acme-base-ft" in m and "--namespace acme" in m for m in problems["message"])
    assert "acme/acme-base-ft" not in set(tables(tmp_path / "snap")["models"]["id"])  # no second node


# --- provenance -------------------------------------------------------------------------------------


def confidence_case(tmp_path: Path) -> Path:
    """acme/base <- acme/declared (card, full weights: high); acme/base <- acme/configured (config only:
    medium) <- acme/deep."""
    models = tmp_path / "models"
    repo(models / "acme" / "base")
    repo(models / "acme" / "declared", card_base="acme/base")
    repo(models / "acme" / "configured", config={"_name_or_path": "acme/base"})
    repo(models / "acme" / "deep", card_base="acme/configured")
    out = tmp_path / "snap"
    assert ingest(models, "--out", out).exit_code == 0
    return out


def test_a_json_answer_carries_its_snapshot_version_and_filters(tmp_path: Path) -> None:
    out = confidence_case(tmp_path)
    meta = json.loads((snapshot.current_files(out) / "meta.json").read_text())

    doc = json.loads(run("impact", "acme/base", "-s", str(out), "-f", "json", "--min-confidence", "high").stdout)
    several = json.loads(run("ancestry", "acme/deep", "acme/declared", "-s", str(out), "-f", "json").stdout)
    stats = json.loads(run("stats", "-s", str(out), "-f", "json").stdout)

    assert [r["id"] for r in doc["rows"]] == ["acme/declared"]
    assert doc["filtered_out"] == 2  # acme/configured and acme/deep hang on a medium edge
    assert doc["provenance"] == {
        "snapshot": str(out), "written_at": meta["written_at"], "sources": [f"local repos: {tmp_path / 'models'}"],
        "crawl": None, "ptmgraph": __version__, "filters": {"--min-confidence": "high"}}
    assert several["provenance"]["filters"] == {} and "provenance" not in several["results"][0]
    assert stats["provenance"]["snapshot"] == str(out)


def test_a_text_answer_states_its_filters_and_what_they_removed(tmp_path: Path) -> None:
    out = confidence_case(tmp_path)

    text = run("impact", "acme/base", "-s", str(out), "--min-confidence", "high", "--depth", "1").stdout
    plain = run("impact", "acme/base", "-s", str(out)).stdout

    assert text.splitlines()[0].startswith(
        "Impact of acme/base (filters: --max-depth 1, --min-confidence high removed 2 models): 1 model")
    assert "filter" not in plain


def test_a_csv_answer_carries_its_provenance_when_asked(tmp_path: Path) -> None:
    out = confidence_case(tmp_path)

    plain = run("impact", "acme/base", "-s", str(out), "-f", "csv").stdout
    marked = run("impact", "acme/base", "-s", str(out), "-f", "csv", "--provenance", "-r", "finetune").stdout

    assert plain.startswith("id,")
    comments = [line for line in marked.splitlines() if line.startswith("# ")]
    assert comments[0] == f"# snapshot: {json.dumps(str(out))}"
    assert '# filters: {"--relation":["finetune"]}' in comments
    assert marked.splitlines()[len(comments)].startswith("id,")


def test_a_model_known_only_from_references_says_so_and_how_to_fetch_it(tmp_path: Path) -> None:
    repo(tmp_path / "models" / "acme" / "tuned", card_base="upstream/base")
    assert ingest(tmp_path / "models", "--out", tmp_path / "snap").exit_code == 0
    fetch = "ptmgraph crawl --seed upstream/base --ancestors --max-depth 0 --out DIR"

    ancestry = run("ancestry", "upstream/base", "-s", str(tmp_path / "snap")).stdout
    info = run("info", "upstream/base", "-s", str(tmp_path / "snap")).stdout
    doc = json.loads(run("ancestry", "upstream/base", "-s", str(tmp_path / "snap"), "-f", "json").stdout)
    recorded = run("ancestry", "acme/tuned", "-s", str(tmp_path / "snap")).stdout

    assert "no record of upstream/base" in ancestry.split("\n\n")[0] and fetch in " ".join(ancestry.split())
    assert info.startswith("upstream/base: the snapshot has no record") and fetch in " ".join(info.split())
    assert doc["has_record"] is False
    assert "no record" not in recorded.splitlines()[0]


def test_a_model_known_only_as_a_dangling_reference_says_so_and_how_to_fetch_it(tmp_path: Path) -> None:
    assert ingest(flat_folder_case(tmp_path), "--out", tmp_path / "snap", "--namespace", "other").exit_code == 0

    asked = run("ancestry", "acme/acme-base-ft", "-s", str(tmp_path / "snap"))
    never = run("ancestry", "nobody/nothing", "-s", str(tmp_path / "snap"))

    assert asked.exit_code == 2
    message = " ".join(asked.stderr.split())
    assert "the snapshot knows it only as a dangling reference (namespace_mismatch 2)" in message
    assert "ptmgraph crawl --seed acme/acme-base-ft --ancestors --max-depth 0 --out DIR" in message
    assert never.exit_code == 2 and "dangling" not in never.stderr
