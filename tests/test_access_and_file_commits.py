"""Access as data (gated is not unavailable), staleness by content (weights or card), and the Hub's own
file scans as a risk: hand-written Hub records, ingested or crawled from the Hub-shaped test server."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from hub_server import HubData, HubServer, point_hf_at
from typer.testing import CliRunner

from ptmgraph.analyses.check import check
from ptmgraph.analyses.risk import risk
from ptmgraph.analyses.staleness import stale_ancestors
from ptmgraph.cli import app
from ptmgraph.graph import LineageGraph, load_graph
from ptmgraph.sources.hub_crawl import crawl

CREATED = "2024-03-01T00:00:00.000Z"  # every child is made on this day
BEFORE, AFTER = "2024-01-15T00:00:00.000Z", "2024-04-10T00:00:00.000Z"  # AFTER: 40 days later


def record(model_id: str, *, base: str | None = None, created: str = "2023-06-01T00:00:00.000Z",
           modified: str = "2023-06-01T00:00:00.000Z", files: tuple[str, ...] = ("README.md", "model.safetensors"),
           **fields: object) -> dict[str, object]:
    """A Hub API record as ``GET /api/models/{id}?expand=...`` gives it (public unless ``fields`` say not)."""
    row: dict[str, object] = {
        "id": model_id, "author": model_id.split("/")[0], "sha": hashlib.sha1(model_id.encode()).hexdigest(),
        "createdAt": created, "lastModified": modified, "gated": False, "disabled": False, "private": False,
        "tags": [f"base_model:{base}", f"base_model:finetune:{base}"] if base else [],
        "siblings": [{"rfilename": f} for f in files], "cardData": {"license": "mit"},
    }
    return {**row, **fields}


def entry(path: str, date: str, *, status: str = "safe", lfs: str | None = None) -> dict[str, object]:
    """One file of the Hub's expanded tree listing."""
    scan: dict[str, object] = {"status": status, "avScan": {"status": "safe", "virusNames": None},
                               "pickleImportScan": {"status": "safe", "imports": []}}
    if status == "unsafe":
        scan["pickleImportScan"] = {"status": "dangerous", "imports": [
            {"module": "os", "name": "system", "safety": "dangerous"},
            {"module": "torch", "name": "FloatStorage", "safety": "innocuous"}]}
    out: dict[str, object] = {"type": "file", "path": path, "oid": hashlib.sha1(path.encode()).hexdigest(),
                              "size": 10, "lastCommit": {"id": "c" * 40, "title": "Upload", "date": date},
                              "securityFileStatus": scan}
    if lfs:
        out["lfs"] = {"oid": lfs, "size": 10, "pointerSize": 134}
    return out


def ingest(tmp_path: Path, rows: list[dict[str, object]]) -> LineageGraph:
    """``ptmgraph ingest`` of a models.jsonl holding ``rows``."""
    folder = tmp_path / "records"
    folder.mkdir()
    (folder / "models.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    run = CliRunner().invoke(app, ["ingest", str(folder), "--out", str(tmp_path / "snap")])
    assert run.exit_code == 0, run.output
    return load_graph(tmp_path / "snap")


def findings(lg: LineageGraph, model: str, include: tuple[str, ...] = ()) -> set[tuple[str, str, str]]:
    return {(r["severity"], r["finding"], r["ancestor"]) for r in check(lg, [model], include=include).rows.iter_rows(
        named=True)}


def stale(lg: LineageGraph) -> dict[tuple[str, str], tuple[str, float | None, str]]:
    return {(r["id"], r["ancestor"]): (r["reason"], r["lag_days"], r["detail"])
            for r in stale_ancestors(lg).rows.iter_rows(named=True)}


# ---------------------------------------------------------------- access


ACCESS_RECORDS = [
    record("o/public"), record("o/auto", gated="auto"), record("o/manual", gated="manual"),
    record("o/old-gate", gated=True), record("o/disabled", disabled=True), record("o/private", private=True),
    record("o/unknown", gated=None, disabled=None, private=None),
] + [record(f"k/{name}-child", base=f"o/{name}", created=CREATED)
     for name in ("public", "auto", "manual", "old-gate", "disabled", "private", "unknown")]


@pytest.fixture(scope="module")
def access_graph(tmp_path_factory: pytest.TempPathFactory) -> LineageGraph:
    return ingest(tmp_path_factory.mktemp("access"), ACCESS_RECORDS)


def test_each_record_gets_its_access_class_from_gated_disabled_and_private(access_graph: LineageGraph) -> None:
    models = access_graph.snapshot.models.select("id", "access").rows()
    assert {m: a for m, a in models if m.startswith("o/")} == {
        "o/public": "public", "o/auto": "gated_auto", "o/manual": "gated_manual",
        "o/old-gate": "gated_manual",  # gated: true, mode unknown: the stricter
        "o/disabled": "disabled", "o/private": "not_found", "o/unknown": None}


def test_the_per_record_and_columnar_readers_give_the_same_access(tmp_path: Path) -> None:
    from ptmgraph.sources.hub_columnar import read_models_table
    from ptmgraph.sources.hub_records import HubRecordsSource

    path = tmp_path / "models.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in ACCESS_RECORDS))
    per_record = {r.id: r.access for r in HubRecordsSource(models=path).harvest().records}
    columnar = dict(read_models_table(path).records.select("id", "access").rows())
    assert per_record == columnar and per_record["o/auto"] == "gated_auto"


def test_only_disabled_and_not_found_ancestors_are_unavailable(access_graph: LineageGraph) -> None:
    unavailable = {k: v for k, v in stale(access_graph).items() if v[0] == "unavailable"}
    assert unavailable == {("k/disabled-child", "o/disabled"): ("unavailable", None, "access: disabled"),
                           ("k/private-child", "o/private"): ("unavailable", None, "access: not_found")}
    assert findings(access_graph, "k/disabled-child") == {("medium", "unavailable", "o/disabled")}
    assert findings(access_graph, "k/private-child") == {("medium", "unavailable", "o/private")}


@pytest.mark.parametrize("name", ["public", "auto", "manual", "unknown"])
def test_a_gated_or_public_base_is_no_finding_by_default(access_graph: LineageGraph, name: str) -> None:
    assert findings(access_graph, f"k/{name}-child") == set()


def test_manual_approval_is_the_opt_in_restricted_finding_and_auto_is_not(access_graph: LineageGraph) -> None:
    assert findings(access_graph, "k/manual-child", ("restricted",)) == {("low", "restricted", "o/manual")}
    assert findings(access_graph, "k/auto-child", ("restricted",)) == set()
    run = CliRunner().invoke(app, ["check", "k/manual-child", "--include", "restricted", "-f", "json",
                                   "--snapshot", str(access_graph.snapshot.directory)])  # type: ignore[attr-defined]
    assert run.exit_code == 1 and [r["finding"] for r in json.loads(run.stdout)["rows"]] == ["restricted"]


def test_on_the_bundled_snapshot_gated_bases_are_not_unavailable() -> None:
    run = CliRunner().invoke(app, ["check", "google/gemma-7b-it", "-f", "json"])
    assert "unavailable" not in {r["finding"] for r in json.loads(run.stdout)["rows"]}
    lg = load_graph()
    gated = {m for m, a in lg.snapshot.models.select("id", "access").rows() if a in ("gated_auto", "gated_manual")}
    assert "google/gemma-7b" in gated
    run = CliRunner().invoke(app, ["stale", "-f", "json"])
    rows = json.loads(run.stdout)["rows"]
    assert rows and not [r for r in rows if r["reason"] == "unavailable" and r["ancestor"] in gated]


# ---------------------------------------------------------------- staleness by content, from records with a tree


def base_tree(readme: str, weights: str, *, status: str = "safe", other: str = "safe") -> list[dict[str, object]]:
    return [entry("README.md", readme), entry("model.safetensors", weights, status=status, lfs="a" * 64),
            entry(".gitattributes", BEFORE, status=other)]


FILE_RECORDS = [
    record("b/card-edit", modified=AFTER, tree=base_tree(readme=AFTER, weights=BEFORE, other="suspicious")),
    record("b/new-weights", modified=AFTER, tree=base_tree(readme=BEFORE, weights=AFTER, status="unsafe")),
    record("b/no-listing", modified=AFTER),
    record("c/of-card-edit", base="b/card-edit", created=CREATED),
    record("c/of-new-weights", base="b/new-weights", created=CREATED),
    record("c/of-no-listing", base="b/no-listing", created=CREATED),
]


def expected_split() -> dict[tuple[str, str], tuple[str, float | None, str]]:
    return {
        ("c/of-card-edit", "b/card-edit"): ("card_updated", 40.0, "only README.md"),
        ("c/of-new-weights", "b/new-weights"): ("weights_updated", 40.0, "model.safetensors"),
        ("c/of-no-listing", "b/no-listing"): (
            "updated_unknown_part", 40.0, "only the repo-wide date is known: which files changed is not"),
    }


def test_records_with_a_file_listing_split_weight_from_card_updates(tmp_path: Path) -> None:
    lg = ingest(tmp_path, FILE_RECORDS)
    assert stale(lg) == expected_split()
    files = lg.snapshot.files.filter(lg.snapshot.files["model"] == "b/new-weights")
    assert dict(files.select("path", "part").rows()) == {
        "README.md": "other", "model.safetensors": "weights", ".gitattributes": "other"}
    assert files.filter(files["path"] == "model.safetensors")["sha256"].to_list() == ["a" * 64]


def test_only_weights_updated_is_a_check_finding_by_default(tmp_path: Path) -> None:
    lg = ingest(tmp_path, FILE_RECORDS)
    assert findings(lg, "c/of-card-edit") == set()
    assert findings(lg, "c/of-card-edit", ("card_updated",)) == {("low", "card_updated", "b/card-edit")}
    assert ("low", "weights_updated", "b/new-weights") in findings(lg, "c/of-new-weights")
    assert findings(lg, "c/of-no-listing") == {("low", "updated_unknown_part", "b/no-listing")}


def test_a_file_the_hubs_scan_calls_unsafe_is_a_high_finding_and_a_risk_source(tmp_path: Path) -> None:
    lg = ingest(tmp_path, FILE_RECORDS)
    rows = check(lg, ["c/of-new-weights"]).rows.filter(pl.col("finding") == "unsafe_files")
    assert rows.select("severity", "ancestor").rows() == [("high", "b/new-weights")]
    assert "os.system" in rows["detail"][0] and "torch" not in rows["detail"][0]
    # a base whose files the scan calls safe or only suspicious: no finding
    assert not check(lg, ["c/of-card-edit"]).rows.filter(pl.col("finding") == "unsafe_files").height
    result = risk(lg, data_risks=["unsafe_files"])
    assert result.rows.select("id", "source", "risk").rows() == [("c/of-new-weights", "b/new-weights",
                                                                  "unsafe_files")]


# ---------------------------------------------------------------- the crawl reads the same data


@pytest.fixture
def file_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[HubServer]:
    rows = {r["id"]: {k: v for k, v in r.items() if k != "tree"} for r in FILE_RECORDS}
    rows["r/root"] = record("r/root")
    for base in ("b/card-edit", "b/new-weights", "b/no-listing"):
        rows[base]["tags"] = ["base_model:r/root", "base_model:finetune:r/root"]  # type: ignore[index]
    trees = {str(r["id"]): r["tree"] for r in FILE_RECORDS if "tree" in r}  # type: ignore[misc]
    with HubServer(HubData(records=rows), trees=trees) as server:  # type: ignore[arg-type]
        point_hf_at(monkeypatch, tmp_path, server.url)
        yield server


def test_the_crawl_reads_file_commits_once_per_model_with_children(file_hub: HubServer, tmp_path: Path) -> None:
    result = crawl(["r/root"], tmp_path / "out", file_commits=True, progress=False)
    asked = sorted(r.path.split("/paths-info/")[0][len("/api/models/"):]
                   for r in file_hub.log if "/paths-info/" in r.path)
    # r/root and the three bases have children; the three leaves are never asked
    assert asked == ["b/card-edit", "b/new-weights", "b/no-listing", "r/root"]
    assert result.stats["file_listings"] == 4
    lg = load_graph(tmp_path / "out")
    split = stale(lg)
    assert {k: v for k, v in split.items() if k[1] != "r/root"} == {
        **expected_split(),
        # given no tree, the test server dates every file of b/no-listing by its lastModified (AFTER)
        ("c/of-no-listing", "b/no-listing"): ("weights_updated", 40.0, "model.safetensors"),
    }
    assert ("high", "unsafe_files", "b/new-weights") in findings(lg, "c/of-new-weights")


def test_without_the_option_the_crawl_reads_no_file_listing(file_hub: HubServer, tmp_path: Path) -> None:
    crawl(["r/root"], tmp_path / "out", progress=False)
    assert not [r for r in file_hub.log if "/paths-info/" in r.path or "/tree/" in r.path]
    assert load_graph(tmp_path / "out").snapshot.files.height == 0


# ---------------------------------------------------------------- snapshots of the format before


def test_a_version_1_snapshot_is_still_read_with_access_from_its_gated_column(
        access_graph: LineageGraph, tmp_path: Path) -> None:
    from ptmgraph import snapshot

    new, old = tmp_path / "new", tmp_path / "old"
    snapshot.save(snapshot.load(access_graph.snapshot.directory), new)  # type: ignore[attr-defined]
    shutil.copytree(snapshot.current_files(new), old)  # format 1: every file directly in the directory
    for name in ("files.parquet", "index.npz"):
        (old / name).unlink()
    pl.read_parquet(old / "models.parquet").drop("access", "code_files").write_parquet(old / "models.parquet")
    edges = pl.read_parquet(old / "edges.parquet")
    confidences = edges.select("base", "child", "parent_confidence", "relation_confidence").sort("base", "child")
    (edges.drop("loads_code", "parent_confidence", "relation_confidence")  # format 1 had one mixed confidence
     .with_columns(pl.lit("high").alias("confidence")).write_parquet(old / "edges.parquet"))
    meta = {k: v for k, v in json.loads((old / "meta.json").read_text()).items() if k not in ("files", "index")}
    (old / "meta.json").write_text(json.dumps({**meta, "format_version": 1}))
    for graph in (LineageGraph(snapshot.load(old)), load_graph(old)):
        access = dict(graph.snapshot.models.select("id", "access").rows())
        assert (access["o/auto"], access["o/disabled"], access["o/unknown"]) == ("gated_auto", "disabled", None)
        assert graph.snapshot.files.height == 0
        # both confidences come back from what a format-1 edge stores (rule, kinds, weights, relations)
        assert graph.snapshot.edges.select(
            "base", "child", "parent_confidence", "relation_confidence").sort("base", "child").equals(confidences)
    run = CliRunner().invoke(app, ["stale", "--snapshot", str(old), "-f", "json"])
    assert run.exit_code == 0, run.output
    assert {(r["id"], r["reason"]) for r in json.loads(run.stdout)["rows"] if r["reason"] == "unavailable"} == {
        ("k/disabled-child", "unavailable"), ("k/private-child", "unavailable")}
    (old / "meta.json").write_text(json.dumps({**meta, "format_version": 0}))
    with pytest.raises(snapshot.SnapshotError, match=r"format 0 is not one this version reads \(1 or 2\)"):
        snapshot.load(old)


def test_a_parent_without_siblings_is_read_from_the_paged_tree_listing(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    shards = [entry(f"model-{i:05d}-of-00120.safetensors", BEFORE, lfs=f"{i:064x}") for i in range(120)]
    no_siblings = {k: v for k, v in record("r/big", modified=AFTER).items() if k != "siblings"}
    rows = {"r/big": no_siblings, "c/small": record("c/small", base="r/big", created=CREATED)}
    with HubServer(HubData(records=rows), trees={"r/big": [*shards, entry("README.md", AFTER)]}) as server:
        point_hf_at(monkeypatch, tmp_path, server.url)
        result = crawl(["r/big"], tmp_path / "out", file_commits=True, progress=False, keep_state=True)
        pages = [r for r in server.log if "/tree/" in r.path]
        assert len(pages) == 3 and result.stats["file_listings"] == 1  # 121 entries, 50 a page
        lg = load_graph(tmp_path / "out")
        assert lg.snapshot.files.filter(pl.col("model") == "r/big").height == 121
        assert stale(lg) == {("c/small", "r/big"): ("card_updated", 40.0, "only README.md")}
        # the journal keeps the listing: running the crawl again asks for no file listing
        before = len(server.log)
        crawl(["r/big"], tmp_path / "out", file_commits=True, progress=False)
        assert not [r for r in server.log[before:] if "/tree/" in r.path or "/paths-info/" in r.path]
        assert load_graph(tmp_path / "out").snapshot.files.height == 121


@pytest.mark.parametrize(("reason", "default", "opted_in"), [
    ("not_found", {("medium", "unavailable", "o/base")}, {("medium", "unavailable", "o/base")}),
    ("disabled", {("medium", "unavailable", "o/base")}, {("medium", "unavailable", "o/base")}),
    ("gated", set(), {("low", "restricted", "o/base")}),  # the Hub refused the record: gated, not gone
    ("local_path", {("low", "dangling", "k/child")}, {("low", "dangling", "k/child")}),
])
def test_a_base_the_crawl_could_not_read_is_unavailable_only_when_missing_or_disabled(
        reason: str, default: set[tuple[str, str, str]], opted_in: set[tuple[str, str, str]]) -> None:
    from ptmgraph.assemble import assemble
    from ptmgraph.records import DanglingReason, EvidenceKind, Harvest, ModelRecord, Reference

    ref = Reference("k/child", "o/base", EvidenceKind.HUB_TAG, "tags:base_model", "crawl")
    lg = LineageGraph(assemble(Harvest(records=[ModelRecord(id="k/child", license="mit")],
                                       dangling=[(ref, DanglingReason(reason))])))
    assert findings(lg, "k/child") == default
    assert findings(lg, "k/child", ("restricted",)) == opted_in


def test_both_readers_take_file_listings_from_a_tree_field_or_from_detailed_siblings(tmp_path: Path) -> None:
    from ptmgraph.records import HarvestTables
    from ptmgraph.sources.hub_columnar import read_models_table
    from ptmgraph.sources.hub_records import HubRecordsSource

    blobs = record("b/blobs", siblings=[  # model_info(files_metadata=True): blobs=true
        {"rfilename": "config.json", "size": 600, "blobId": "b" * 40},
        {"rfilename": "model.safetensors", "size": 10**9, "blobId": "d" * 40,
         "lfs": {"sha256": "e" * 64, "size": 10**9, "pointerSize": 135},
         "lastCommit": {"id": "f" * 40, "title": "weights", "date": AFTER}}])
    path = tmp_path / "models.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in [*FILE_RECORDS, blobs]))
    per_record = HarvestTables.of(HubRecordsSource(models=path).harvest()).files
    columnar = read_models_table(path).files
    assert per_record.equals(columnar)
    rows = {r["path"]: r for r in per_record.filter(pl.col("model") == "b/blobs").iter_rows(named=True)}
    assert (rows["config.json"]["part"], rows["config.json"]["size"], rows["config.json"]["last_commit_date"]) == (
        "config", 600, None)
    weights = rows["model.safetensors"]
    assert (weights["sha256"], weights["blob_id"], weights["last_commit_id"]) == ("e" * 64, "d" * 40, "f" * 40)
    # plain siblings (names only) make no file listing
    assert per_record.filter(pl.col("model") == "c/of-card-edit").height == 0


def test_the_file_listing_is_read_even_when_max_models_cut_the_crawl(file_hub: HubServer, tmp_path: Path) -> None:
    result = crawl(["r/root"], tmp_path / "out", file_commits=True, progress=False, max_models=2)
    assert result.stats["truncated"] == 1
    assert [r.path for r in file_hub.log if "/paths-info/" in r.path] == [
        f"/api/models/r/root/paths-info/{hashlib.sha1(b'r/root').hexdigest()}"]


@pytest.mark.parametrize(("path", "part"), [
    ("model-00001-of-00002.safetensors", "weights"), ("model.safetensors.index.json", "weights"),
    ("unet/diffusion_pytorch_model.safetensors", "weights"), ("llama-2-7b-chat.ggmlv3.q4_0.bin", "weights"),
    ("model-Q4_K_M.gguf", "weights"), ("config.json", "config"), ("generation_config.json", "config"),
    ("mergekit_config.yml", "config"), ("tokenizer.model", "tokenizer"), ("tokenizer_config.json", "tokenizer"),
    ("merges.txt", "tokenizer"), ("modeling_custom.py", "code"),
    # what a user loads does not change when these do
    ("README.md", "other"), (".gitattributes", "other"), ("assets/banner.png", "other"), ("LICENSE", "other"),
    ("training_args.bin", "other"), ("optimizer.pt", "other"), ("checkpoint-500/model.safetensors", "other"),
])
def test_each_file_is_weights_config_tokenizer_code_or_other(path: str, part: str) -> None:
    from ptmgraph.file_rules import file_part

    assert file_part(path) == part
