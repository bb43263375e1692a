"""``ptmgraph stale --since OLD``: only the stale ancestors that changed after an earlier snapshot, on two
snapshots ingested from hand-written Hub records (what changed between them is written out below)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ptmgraph.cli import app

MADE = "2024-03-01T00:00:00.000Z"  # every child is made on this day; every base before


def base(model_id: str, *, modified: str = "2024-05-01T00:00:00.000Z", commit: str | None = None,
         **fields: object) -> dict[str, object]:
    siblings: list[dict[str, object]] = [{"rfilename": "README.md"}, {"rfilename": "model.safetensors"}]
    if commit is not None:  # a file listing with last commits: the weights' commit, the card's older one
        siblings = [{"rfilename": "README.md", "lastCommit": {"id": "0" * 40, "date": "2024-01-01T00:00:00Z"}},
                    {"rfilename": "model.safetensors", "lastCommit": {"id": commit * 40, "date": modified}}]
    return {"id": model_id, "author": model_id.split("/")[0], "createdAt": "2023-06-01T00:00:00.000Z",
            "lastModified": modified, "gated": False, "disabled": False, "private": False,
            "siblings": siblings, "cardData": {"license": "mit"}, **fields}


def child(model_id: str, of: str) -> dict[str, object]:
    return {"id": model_id, "author": model_id.split("/")[0], "createdAt": MADE, "lastModified": MADE,
            "tags": [f"base_model:{of}", f"base_model:finetune:{of}"], "siblings": [{"rfilename": "model.safetensors"}],
            "gated": False, "disabled": False, "private": False}


CHILDREN = [child(f"c/of-{name}", f"b/{name}") for name in
            ("touched", "untouched", "new-weights", "same-weights", "new-version", "old-version", "taken-down",
             "was-down")]
OLD = [
    base("b/touched"), base("b/untouched"),
    base("b/new-weights", commit="1"), base("b/same-weights", commit="2"),
    base("b/new-version"), base("b/old-version", cardData={"license": "mit", "new_version": "b/v2"}),
    base("b/taken-down"), base("b/was-down", disabled=True),
    *CHILDREN,
]
NEW = [
    base("b/touched", modified="2024-06-01T00:00:00.000Z"), base("b/untouched"),
    base("b/new-weights", commit="3", modified="2024-06-01T00:00:00.000Z"), base("b/same-weights", commit="2"),
    base("b/new-version", cardData={"license": "mit", "new_version": "b/v2"}),
    base("b/old-version", cardData={"license": "mit", "new_version": "b/v2"}),
    base("b/taken-down", disabled=True), base("b/was-down", disabled=True),
    *CHILDREN,
]


def ingest(folder: Path, rows: list[dict[str, object]]) -> str:
    (folder / "records").mkdir(parents=True)
    (folder / "records" / "models.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    done = CliRunner().invoke(app, ["ingest", str(folder / "records"), "--out", str(folder / "snap")])
    assert done.exit_code == 0, done.output
    return str(folder / "snap")


@pytest.fixture(scope="module")
def snaps(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    return ingest(tmp_path_factory.mktemp("old"), OLD), ingest(tmp_path_factory.mktemp("new"), NEW)


def stale(*args: str) -> set[tuple[str, str]]:
    done = CliRunner().invoke(app, ["stale", *args, "-f", "json"])
    assert done.exit_code == 0, done.output
    return {(r["ancestor"], r["reason"]) for r in json.loads(done.stdout)["rows"]}


def test_without_since_every_stale_ancestor_is_listed(snaps: tuple[str, str]) -> None:
    assert stale("-s", snaps[1]) == {
        ("b/touched", "updated_unknown_part"), ("b/untouched", "updated_unknown_part"),
        ("b/new-weights", "weights_updated"), ("b/same-weights", "weights_updated"),
        ("b/new-version", "updated_unknown_part"), ("b/old-version", "updated_unknown_part"),
        ("b/taken-down", "updated_unknown_part"), ("b/was-down", "updated_unknown_part"),
        ("b/new-version", "new_version"), ("b/old-version", "new_version"),
        ("b/taken-down", "unavailable"), ("b/was-down", "unavailable")}


def test_since_keeps_only_the_ancestors_that_changed_after_the_old_snapshot(snaps: tuple[str, str]) -> None:
    old, new = snaps
    assert stale("-s", new, "--since", old) == {
        ("b/touched", "updated_unknown_part"),  # last modified again since
        ("b/new-weights", "weights_updated"),  # its weights have another last commit
        ("b/new-version", "new_version"),  # declared a new version since
        ("b/taken-down", "unavailable"),  # taken down since
    }


def test_since_of_one_model(snaps: tuple[str, str]) -> None:
    old, new = snaps
    assert stale("c/of-taken-down", "-s", new, "--since", old) == {("b/taken-down", "unavailable")}
    assert stale("c/of-was-down", "-s", new, "--since", old) == set()


def test_since_the_same_snapshot_lists_nothing(snaps: tuple[str, str]) -> None:
    assert stale("-s", snaps[1], "--since", snaps[1]) == set()
