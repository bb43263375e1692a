"""``ptmgraph diff OLD NEW``: two snapshots ingested from hand-written Hub records whose differences are
written out below, and ``--watch`` as a scheduled job uses it (exit 1 only when something watched changed)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ptmgraph.cli import app

GEMMA = "google/gemma-7b"


def record(model_id: str, *, base: str | None = None, files: tuple[object, ...] = ("README.md", "model.safetensors"),
           license: str = "mit", sha: str | None = None, **fields: object) -> dict[str, object]:
    """A Hub API record (public, made in 2024) naming ``base`` by the Hub's finetune tag."""
    row: dict[str, object] = {
        "id": model_id, "author": model_id.split("/")[0], "sha": sha or hashlib.sha1(model_id.encode()).hexdigest(),
        "createdAt": "2024-03-01T00:00:00.000Z", "lastModified": "2024-03-01T00:00:00.000Z",
        "gated": False, "disabled": False, "private": False,
        "tags": [f"base_model:{base}", f"base_model:finetune:{base}"] if base else [],
        "siblings": [f if isinstance(f, dict) else {"rfilename": f} for f in files], "cardData": {"license": license},
    }
    return {**row, **fields}


def lfs(path: str, digest: str) -> dict[str, object]:
    """A ``siblings`` entry read with ``blobs=true``: the file's LFS sha256."""
    return {"rfilename": path, "lfs": {"sha256": digest * 64, "size": 10}}


UNCHANGED = [
    record(GEMMA, license="gemma", files=("README.md", "model-00001-of-00002.safetensors",
                                          "model-00002-of-00002.safetensors")),
    record("a/ft", base=GEMMA, license="gemma"),
    record("a/lora", base="a/ft", files=("adapter_config.json", "adapter_model.safetensors")),
]
OLD = [
    *UNCHANGED,
    record("o/base", license="apache-2.0", files=(lfs("model.safetensors", "a"), lfs("README.md", "b"))),
    record("o/child", base="o/base", files=("README.md", "pytorch_model.bin")),
    record("o/gone", base="o/base"),
    record("o/quant", base="o/base"),
    record("o/later-gated"),
    record("a/moved", base="o/base"),
]
NEW = [
    *UNCHANGED,
    # the weights' content changed (sha256), the card's too (not a weight file)
    record("o/base", license="apache-2.0", sha="1" * 40, files=(lfs("model.safetensors", "c"), lfs("README.md", "d"))),
    # relicensed, and pickle weights replaced by safetensors
    record("o/child", base="o/base", license="apache-2.0", sha="2" * 40, files=("README.md", "model.safetensors")),
    # o/gone was deleted; o/quant now ships GGUF only (a quantization, no longer a finetune)
    record("o/quant", base="o/base", sha="3" * 40, files=("README.md", "model.Q4_K_M.gguf")),
    record("o/later-gated", gated="manual"),
    record("a/moved", base=GEMMA),  # re-based onto gemma: a new descendant that is not a new model
    record("n/new-ft", base=GEMMA),  # a new model under gemma
]
QUIET = [*OLD[:-2], record("o/later-gated", license="apache-2.0", sha="4" * 40), OLD[-1],
         record("o/unrelated")]  # nothing under gemma changed


def ingest(folder: Path, rows: list[dict[str, object]]) -> str:
    records = folder / "records"
    records.mkdir(parents=True)
    (records / "models.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    run = CliRunner().invoke(app, ["ingest", str(records), "--out", str(folder / "snap")])
    assert run.exit_code == 0, run.output
    return str(folder / "snap")


@pytest.fixture(scope="module")
def snaps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return {name: ingest(tmp_path_factory.mktemp(name), rows)
            for name, rows in (("old", OLD), ("new", NEW), ("quiet", QUIET))}


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout


def changes(snaps: dict[str, str], *watch: str, new: str = "new") -> tuple[int, dict]:
    code, out = run("diff", snaps["old"], snaps[new], "-f", "json", *(a for m in watch for a in ("--watch", m)))
    return code, json.loads(out)


def of(document: dict, change: str, *columns: str) -> list[tuple]:
    return sorted(tuple(r[c] for c in columns) for r in document["rows"] if r["change"] == change)


def test_diff_lists_every_added_and_removed_model_and_edge(snaps: dict[str, str]) -> None:
    code, doc = changes(snaps)
    assert code == 0  # nothing watched: a report, not an alert
    assert of(doc, "model_added", "id") == [("n/new-ft",)]
    assert of(doc, "model_removed", "id") == [("o/gone",)]
    assert of(doc, "edge_added", "base", "id", "new") == [(GEMMA, "a/moved", "finetune"),
                                                          (GEMMA, "n/new-ft", "finetune")]
    assert of(doc, "edge_removed", "base", "id", "old") == [("o/base", "a/moved", "finetune"),
                                                            ("o/base", "o/gone", "finetune")]


def test_diff_lists_relation_licence_access_and_weight_changes_per_model(snaps: dict[str, str]) -> None:
    _, doc = changes(snaps)
    assert of(doc, "relation_changed", "base", "id", "old", "new") == [("o/base", "o/quant", "finetune", "quantized")]
    assert of(doc, "license_changed", "id", "old", "new") == [("o/child", "mit", "apache-2.0")]
    assert of(doc, "access_changed", "id", "old", "new") == [("o/later-gated", "public", "gated_manual")]
    assert of(doc, "weights_changed", "id", "detail") == [
        ("o/base", "content changed: model.safetensors"),  # README.md's content changed too: not a weight file
        ("o/child", "added: model.safetensors; removed: pytorch_model.bin"),
        ("o/quant", "added: model.Q4_K_M.gguf; removed: model.safetensors"),
    ]
    assert of(doc, "weights_changed", "id", "old", "new") == [
        ("o/base", "model.safetensors", "model.safetensors"), ("o/child", "pytorch_model.bin", "model.safetensors"),
        ("o/quant", "model.safetensors", "model.Q4_K_M.gguf")]
    assert doc["changes"] == len(doc["rows"]) == 12 and doc["watched_changes"] == 0
    assert {r["change"]: r["rows"] for r in doc["tables"]["by_change"]}["edge_added"] == 2


def test_diff_of_a_snapshot_with_itself_is_empty(snaps: dict[str, str]) -> None:
    code, out = run("diff", snaps["old"], snaps["old"], "--watch", GEMMA, "-f", "json")
    assert code == 0 and json.loads(out)["rows"] == []


def test_watch_exits_1_when_a_new_descendant_appears(snaps: dict[str, str]) -> None:
    code, doc = changes(snaps, GEMMA)
    assert code == 1
    assert of(doc, "descendant_added", "watch", "id") == [(GEMMA, "a/moved"), (GEMMA, "n/new-ft")]
    assert of(doc, "descendant_removed", "id") == []
    watched = sorted((r["change"], r["id"]) for r in doc["rows"] if r["watched"])
    assert watched == [("descendant_added", "a/moved"), ("descendant_added", "n/new-ft"), ("edge_added", "a/moved"),
                       ("edge_added", "n/new-ft"), ("edge_removed", "a/moved"), ("model_added", "n/new-ft")]
    assert doc["watched_changes"] == 6 and doc["watch"] == [GEMMA]


def test_watch_exits_0_when_nothing_watched_changed(snaps: dict[str, str]) -> None:
    code, doc = changes(snaps, GEMMA, new="quiet")
    assert code == 0 and doc["watched_changes"] == 0
    assert of(doc, "model_added", "id") == [("o/unrelated",)]  # changes elsewhere are listed, unflagged
    assert of(doc, "license_changed", "id", "old", "new") == [("o/later-gated", "mit", "apache-2.0")]


def test_a_watched_models_own_licence_change_and_a_lost_descendant_are_watched(snaps: dict[str, str]) -> None:
    code, doc = changes(snaps, "o/base")  # o/gone and a/moved left its reach; o/child was relicensed
    assert code == 1
    assert of(doc, "descendant_removed", "watch", "id") == [("o/base", "a/moved"), ("o/base", "o/gone")]
    flagged = {(r["change"], r["id"]) for r in doc["rows"] if r["watched"]}
    assert {("license_changed", "o/child"), ("weights_changed", "o/base"), ("relation_changed", "o/quant"),
            ("model_removed", "o/gone")} <= flagged
    assert ("access_changed", "o/later-gated") not in flagged  # not below o/base


def test_watch_from_file_reads_a_model_list(snaps: dict[str, str], tmp_path: Path) -> None:
    listing = tmp_path / "watch.txt"
    listing.write_text(f"# what we build on\n{GEMMA}@main\n")
    code, _ = run("diff", snaps["old"], snaps["new"], "--watch-from-file", str(listing))
    assert code == 1


def test_watching_an_unknown_model_is_a_usage_error(snaps: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["diff", snaps["old"], snaps["new"], "--watch", "google/gemma-8b"])
    assert result.exit_code == 2 and "google/gemma-7b" in result.stderr


def test_diff_as_markdown_and_csv(snaps: dict[str, str]) -> None:
    code, text = run("diff", snaps["old"], snaps["new"], "-f", "markdown", "--watch", GEMMA)
    assert code == 1
    assert "| change | id | base | watch | old | new | detail | watched |" in text
    assert "| descendant\\_added | n/new-ft | – | google/gemma-7b |" in text
    code, csv = run("diff", snaps["old"], snaps["new"], "-f", "csv")
    assert csv.splitlines()[0] == "change,id,base,watch,old,new,detail,watched"
    assert "license_changed,o/child,,,mit,apache-2.0,,false" in csv.splitlines()


@pytest.mark.parametrize("columns", [80, 200])
def test_the_table_fits_the_terminal_and_shows_every_change(snaps: dict[str, str], columns: int) -> None:
    result = CliRunner().invoke(app, ["--no-pager", "diff", snaps["old"], snaps["new"], "--watch", GEMMA],
                                env={"COLUMNS": str(columns), "NO_COLOR": "1"})
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert all(len(line) <= columns for line in lines), [line for line in lines if len(line) > columns][:2]
    ids = {token for line in lines for token in line.split()}
    assert {"n/new-ft", "a/moved", "o/gone", "o/quant", "o/child", "o/later-gated", "o/base"} <= ids
