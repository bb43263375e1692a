"""The live-Hub crawl (ptmgraph.sources.hub_api), run through real huggingface_hub calls against a local
Hub-shaped server (tests/hub_server.py) that serves the test copy of the Hub sample (tests/data/hub-sample)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import multiprocessing
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import polars as pl
import pytest
from hub_server import HubData, HubServer, point_hf_at
from huggingface_hub.utils import _http as hf_http
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ptmgraph import snapshot
from ptmgraph.assemble import assemble
from ptmgraph.snapshot import Snapshot
from ptmgraph.sources.hub_api import JOURNAL_NAME, CrawlInterrupted, HubCrawl, Limits
from ptmgraph.sources.hub_crawl import crawl
from ptmgraph.sources.hub_records import HubRecordsSource
from ptmgraph.sources.interface import SourceError

BIG_ROOT = "meta-llama/Llama-2-7b-chat-hf"  # 1,682 descendants, 3 levels; the root listing spans 33 pages
SMALL_ROOT = "meta-llama/Llama-2-7b"  # 173 descendants, 4 levels
EDGE_COLUMNS = ["base", "child", "relation", "relation_rule", "declared_relation", "hub_relation",
                "inferred_relation", "relations_disagree"]


# ---------------------------------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def hub_data(hub_sample: Path) -> HubData:
    return HubData.from_directory(hub_sample)


@pytest.fixture(scope="session")
def file_ingest(hub_sample: Path) -> Snapshot:
    """The same sample read from files: the reference the crawl is compared with."""
    return assemble(HubRecordsSource.from_directory(hub_sample).harvest())


@pytest.fixture
def hub(hub_data: HubData, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[HubServer]:
    """The sample Hub, 50 models a page, with HF_ENDPOINT pointing at it."""
    with HubServer(hub_data, page_size=50) as server:
        point_hf_at(monkeypatch, tmp_path, server.url)
        yield server
    assert not any(r.authorized for r in server.log), "a token was sent although none is configured"


# ---------------------------------------------------------------------------------------------------------------
# What the file ingest says the crawl must find
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class Lineage:
    descendants: set[str]
    edges: set[tuple[object, ...]]  # EDGE_COLUMNS of every edge into the root or a descendant
    dangling: set[tuple[object, ...]]  # (child, raw, kind, reason) of those models


def expected_lineage(files: Snapshot, root: str) -> Lineage:
    """The root's descendants and their lineage according to the file ingest.

    Descendants are followed over Hub-listed evidence only (Hub tags and model-tree lists): that is what
    ``list_models(filter="base_model:<id>")`` answers. A card can name a base the Hub never tagged (the
    Hub tags some multi-base cards with their first base only); such a child is out of reach of a Hub
    crawl and of this set, see ``test_card_only_children_are_out_of_a_crawls_reach``.
    The edges compared are all edges *into* the root and its descendants, including those from bases
    outside the subtree (a merge's other parent, a card base): they come from the child's own record,
    which the crawl reads too.
    """
    listed = files.evidence.filter(pl.col("kind").is_in(["hub_tag", "model_tree"]))
    return _lineage(files, root, listed.select("base", "child").iter_rows())


def crawled_lineage(snap: Snapshot, root: str) -> Lineage:
    """The same view of a crawl's snapshot; descendants are the models it holds a record of (root aside)."""
    lineage = _lineage(snap, root, snap.edges.select("base", "child").iter_rows())
    recorded = set(snap.models.filter(pl.col("has_record"))["id"]) - {root}
    assert lineage.descendants == recorded, "every crawled model must be reachable from the root and vice versa"
    return lineage


def _lineage(snap: Snapshot, root: str, pairs: Iterator[tuple[str, str]]) -> Lineage:
    children: dict[str, set[str]] = defaultdict(set)
    for base, child in pairs:
        children[base].add(child)
    seen, todo = {root}, [root]
    while todo:
        for child in children[todo.pop()] - seen:
            seen.add(child)
            todo.append(child)
    nodes = list(seen)
    edges = set(snap.edges.filter(pl.col("child").is_in(nodes)).select(EDGE_COLUMNS).iter_rows())
    dangling = set(snap.dangling.filter(pl.col("child").is_in(nodes)).select("child", "raw", "kind", "reason")
                   .iter_rows())
    return Lineage(seen - {root}, edges, dangling)


def without_edges_into(lineage: Lineage, children: Collection[str]) -> Lineage:
    return Lineage(lineage.descendants, {e for e in lineage.edges if e[1] not in children}, lineage.dangling)


def assert_crawl_finds_the_file_lineage(crawl: Snapshot, files: Snapshot, root: str) -> None:
    """The crawl's lineage of ``root`` is the file ingest's.

    One difference is by design: a quantization the tree files list with no record of its own hangs under
    the model its name names (rule name_parent); the crawl reads that child's own record, whose Hub tags
    declare the listed base, so there it stays under that base. Those edges are compared on their own.
    """
    expected, crawled = expected_lineage(files, root), crawled_lineage(crawl, root)
    renamed = dict(files.edges.filter(pl.col("relation_rule") == "name_parent")
                   .select("child", "replaced_base").iter_rows())
    assert {(b, c) for b, c, *_ in crawled.edges if c in renamed} == {
        (renamed[c], c) for _, c, *_ in expected.edges if c in renamed}
    assert_same_lineage(without_edges_into(crawled, renamed), without_edges_into(expected, renamed))


def assert_same_lineage(crawled: Lineage, expected: Lineage) -> None:
    assert crawled.descendants == expected.descendants, (
        f"missing {sorted(expected.descendants - crawled.descendants)[:5]}, "
        f"extra {sorted(crawled.descendants - expected.descendants)[:5]}")
    assert crawled.edges == expected.edges, (
        f"missing {sorted(expected.edges - crawled.edges, key=str)[:3]}, "
        f"extra {sorted(crawled.edges - expected.edges, key=str)[:3]}")
    assert crawled.dangling == expected.dangling


# ---------------------------------------------------------------------------------------------------------------
# (a) + (d): a crawl finds what the file ingest finds, and counts its requests
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("root", [BIG_ROOT, SMALL_ROOT])
def test_crawl_matches_file_ingest(hub: HubServer, file_ingest: Snapshot, tmp_path: Path, root: str) -> None:
    factory_before = hf_http._GLOBAL_CLIENT_FACTORY
    result = crawl([root], tmp_path / "snap", progress=False)  # endpoint from HF_ENDPOINT
    print(f"\ncrawl of {root}: {result.stats}")

    snap = snapshot.load(result.snapshot)
    expected = expected_lineage(file_ingest, root)
    assert len(expected.descendants) > 100
    assert_crawl_finds_the_file_lineage(snap, file_ingest, root)

    # Same edges, but not the same evidence: the crawl never reads a model-tree file, it sees the Hub's
    # tags (the test server derives them from the tree lists, as the Hub derives them from cards).
    kinds = set(snap.evidence["kind"])
    assert "model_tree" not in kinds and "hub_tag" in kinds

    # (d) every request is counted: the client's count is the server's.
    stats = result.stats
    assert stats["requests"] == hub.request_count
    assert stats["retries_429"] == stats["retries_5xx"] == 0
    assert stats["models"] == len(expected.descendants) + 1
    # One listing per model, none twice.
    listed = hub.listed_parents()
    assert len(listed) == len(set(listed)) == stats["parents_listed"] == len(expected.descendants) + 1
    assert hf_http._GLOBAL_CLIENT_FACTORY is factory_before, "the request-counting client factory must be removed"
    assert not result.state_dir.exists(), "the state directory goes once the snapshot is saved"
    assert snap.meta["crawl"]["stats"]["requests"] == stats["requests"]


def test_card_only_children_are_out_of_a_crawls_reach(file_ingest: Snapshot) -> None:
    """Why the comparison follows Hub-listed evidence: the only extra descendant of BIG_ROOT over *any*
    edge is reached through a card base the Hub did not tag, which no base_model listing returns."""
    everything = _lineage(file_ingest, BIG_ROOT, file_ingest.edges.select("base", "child").iter_rows())
    extra = everything.descendants - expected_lineage(file_ingest, BIG_ROOT).descendants
    assert extra == {"sherooz/ahmed"}
    into = file_ingest.evidence.filter(pl.col("child").is_in(list(extra)) & (pl.col("base") == BIG_ROOT))
    assert set(into["kind"]) == {"card_base_model"}


# ---------------------------------------------------------------------------------------------------------------
# (b): rate limits, server errors, a crash mid-crawl and a resumed run
# ---------------------------------------------------------------------------------------------------------------


def test_faults_kill_and_resume(hub: HubServer, file_ingest: Snapshot, tmp_path: Path) -> None:
    out, state = tmp_path / "snap", tmp_path / "state"
    hub.inject(503, match=f"/api/models/{BIG_ROOT}")  # the root's record
    hub.inject(429, match="/api/models?")  # the first listing page
    hub.inject(500, match="cursor=")  # a later page of the root's listing
    hub.inject(429, match="/resolve/")  # the root's config.json
    hub.die_after(700)  # then every request fails with 403, which is not retried

    with pytest.raises(CrawlInterrupted) as stopped:
        crawl([BIG_ROOT], out, state_dir=state, progress=False)
    first = stopped.value.stats
    print(f"\ninterrupted run: {first}\n{stopped.value}")
    assert "run the same crawl again to resume" in str(stopped.value)
    assert first["retries_429"] == len(hub.requests(status=429)) == 2
    assert first["retries_5xx"] == len(hub.requests(status=500) + hub.requests(status=503)) == 2
    assert first["requests"] == hub.request_count
    assert not out.exists(), "an interrupted crawl writes no snapshot"

    journal = state / JOURNAL_NAME
    lines = [json.loads(line) for line in journal.read_text().splitlines()]
    done_before = {line["parent"] for line in lines if line["kind"] == "children" and line["complete"]}
    assert 100 < len(done_before) < 1683, "the kill should fall in the middle of the crawl"
    assert first["parents_listed"] == len(done_before)
    with journal.open("a") as handle:  # a crash in the middle of a write leaves a torn last line
        handle.write('{"kind": "children", "parent": "torn/li')

    hub.revive()
    log_start = hub.request_count
    result = crawl([BIG_ROOT], out, state_dir=state, progress=False, keep_state=True)
    second = result.stats
    print(f"resumed run: {second}")

    # The resumed run lists exactly the parents the first run had not finished, and nothing else.
    listed_now = hub.listed_parents(since=log_start)
    assert not set(listed_now) & done_before
    assert len(listed_now) == len(set(listed_now)) == second["parents_listed"] == 1683 - len(done_before)
    assert second["parents_resumed"] == len(done_before)
    assert second["requests"] == hub.request_count - log_start
    # Listing requests are all it made: records and files of the first run came from the journal.
    assert second["requests"] == len(hub.requests(contains="/api/models?", since=log_start))
    assert not hub.requests(contains=f"/api/models/{BIG_ROOT}", since=log_start), "the root comes from the journal"

    # Nothing is duplicated: every model is journaled once, every parent listed once.
    lines = [json.loads(line) for line in journal.read_text().splitlines()]
    ids = Counter(entry["row"]["id"] for line in lines for entry in line.get("records", []))
    assert max(ids.values()) == 1 and len(ids) == 1683
    parents = Counter(line["parent"] for line in lines if line["kind"] == "children")
    assert max(parents.values()) == 1

    snap = snapshot.load(result.snapshot)
    assert snap.models["id"].is_unique().all()
    assert_crawl_finds_the_file_lineage(snap, file_ingest, BIG_ROOT)


@pytest.mark.parametrize("die_with", [403, None], ids=["error-status", "dropped-connection"])
def test_kill_during_file_downloads_then_resume(small: HubServer, tmp_path: Path, die_with: int | None) -> None:
    one_at_a_time = Limits(workers=1, max_tries=2, backoff=0.01)  # a known order of requests; fails fast
    clean = HubCrawl([ROOT], fetch_files="all", limits=one_at_a_time, progress=False).harvest()
    small.log.clear()
    # The root's record, its config.json, the three pages of its listing, then a file request fails.
    small.die_after(5, status=die_with)
    state = tmp_path / "state"
    with pytest.raises(CrawlInterrupted, match="listing the children of org/base-model"):
        HubCrawl([ROOT], fetch_files="all", state_dir=state, limits=one_at_a_time, progress=False).harvest()
    assert small.requests(status=die_with or 0)[0].path.endswith("/adapter_config.json")
    small.revive()
    resumed = HubCrawl([ROOT], fetch_files="all", state_dir=state, limits=one_at_a_time, progress=False)
    harvest = resumed.harvest()
    assert resumed.stats["parents_resumed"] == 0 and resumed.stats["models"] == len(clean.records)
    assert sorted(map(repr, harvest.references)) == sorted(map(repr, clean.references))
    assert sorted(map(repr, harvest.problems)) == sorted(map(repr, clean.problems))


# ---------------------------------------------------------------------------------------------------------------
# (c): roots that are not there
# ---------------------------------------------------------------------------------------------------------------


def test_missing_and_disabled_roots_dangle(hub_data: HubData, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with HubServer(hub_data, page_size=50, disabled={"EleutherAI/gpt-neox-20b"}) as server:
        point_hf_at(monkeypatch, tmp_path, server.url)
        result = crawl(["nobody/does-not-exist", "EleutherAI/gpt-neox-20b", "bigscience/bloom"], tmp_path / "snap",
                       progress=False)
    snap = snapshot.load(result.snapshot)
    reasons = dict(snap.dangling.filter(pl.col("field") == "crawl:seed").select("raw", "reason").iter_rows())
    assert reasons == {"nobody/does-not-exist": "not_found", "EleutherAI/gpt-neox-20b": "disabled"}
    recorded = set(snap.models.filter(pl.col("has_record"))["id"])
    assert "nobody/does-not-exist" not in set(snap.models["id"])
    # The crawl carried on: bloom and its children, and the children of the disabled root, which outlive it.
    for root, n_children in (("bigscience/bloom", 6), ("EleutherAI/gpt-neox-20b", 8)):
        children = set(snap.edges.filter(pl.col("base") == root)["child"])
        assert len(children) == n_children and children <= recorded


def test_invalid_root_is_refused_before_any_request(hub: HubServer) -> None:
    with pytest.raises(SourceError, match="not a Hub model id"):
        HubCrawl(["./checkpoints/run-1"], progress=False)
    assert hub.request_count == 0


# ---------------------------------------------------------------------------------------------------------------
# Fetched files, limits, bulk listing and progress, on a small hand-made Hub
# ---------------------------------------------------------------------------------------------------------------

ROOT = "org/base-model"


def _record(model_id: str, *, bases: tuple[str, ...] = (), relation: str = "finetune", files: tuple[str, ...] = (),
            card: dict[str, object] | None = None) -> dict[str, object]:
    tags = [t for b in bases for t in (f"base_model:{b}", f"base_model:{relation}:{b}")]
    row: dict[str, object] = {"id": model_id, "_id": model_id, "author": model_id.split("/")[0], "tags": tags,
                              "siblings": [{"rfilename": f} for f in files],
                              "sha": hashlib.sha1(model_id.encode()).hexdigest()}
    if card is not None:
        row["cardData"] = card
    return row


def small_hub() -> tuple[HubData, dict[tuple[str, str], bytes]]:
    rows = [
        _record(ROOT, files=("config.json", "README.md", "model.safetensors"), card={"license": "apache-2.0"}),
        _record("u/adapter-a", bases=(ROOT,), relation="adapter", card={"base_model": ROOT},
                files=("adapter_config.json", "adapter_model.safetensors", "README.md")),
        _record("u/no-card", bases=(ROOT,), files=("README.md", "model.safetensors")),
        _record("u/huge", bases=(ROOT,), files=("README.md",)),
        _record("u/evil", bases=(ROOT,), files=("README.md", "adapter_config.json")),
        _record("u/gated", bases=(ROOT,), files=("adapter_config.json",), card={"base_model": ROOT}),
        _record("u/missing-file", bases=(ROOT,), files=("adapter_config.json",), card={"base_model": ROOT}),
        _record("v/grandchild", bases=("u/adapter-a",), card={"base_model": "u/adapter-a"}),
        _record("org/present", card={"license": "mit"}),
    ]
    files = {
        (ROOT, "config.json"): json.dumps({"_name_or_path": "org/ancestor", "model_type": "llama"}).encode(),
        ("u/adapter-a", "adapter_config.json"): json.dumps({"base_model_name_or_path": ROOT}).encode(),
        ("u/no-card", "README.md"): f"---\nbase_model:\n- {ROOT}\n- org/present\nbase_model_relation: merge\n---\n"
                                    "# A merge\n".encode(),
        ("u/huge", "README.md"): b"---\nbase_model: org/elsewhere\n---\n" + b"x" * 1_100_000,
        ("u/evil", "README.md"): b"---\nx: !!python/object/apply:os.system ['echo pwned']\n---\n",
        ("u/evil", "adapter_config.json"): b"{not json",
        ("u/gated", "adapter_config.json"): b"{}",
    }
    return HubData(records={r["id"]: r for r in rows}), files  # type: ignore[misc]


@pytest.fixture
def small(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[HubServer]:
    data, files = small_hub()
    with HubServer(data, page_size=2, files=files, gated={"u/gated"}) as server:
        point_hf_at(monkeypatch, tmp_path, server.url)
        yield server


def test_lineage_files_are_fetched_when_needed(small: HubServer, tmp_path: Path) -> None:
    result = crawl([ROOT], tmp_path / "snap", progress=False, check_bases=True, fetch_files="all")
    snap = snapshot.load(result.snapshot)
    edges = {(b, c): r for b, c, r in snap.edges.select("base", "child", "relation").iter_rows()}
    kinds = {(b, c): set(k) for b, c, k in snap.evidence.group_by("base", "child").agg(pl.col("kind"))
             .iter_rows()}
    problems = dict(snap.problems.select("model", "message").iter_rows())

    assert kinds[(ROOT, "u/adapter-a")] == {"card_base_model", "hub_tag", "adapter_config"}
    # README read because the listing carried no cardData: two bases, declared a merge.
    assert edges[(ROOT, "u/no-card")] == edges[("org/present", "u/no-card")] == "merge"
    assert edges[("u/adapter-a", "v/grandchild")] == "finetune"
    # Files asked for: adapter configs where listed, config.json only for the root (the one model whose card
    # and tags name no base), READMEs only where the listing had no cardData.
    assert _resolved(small) == {
        (ROOT, "config.json"), ("u/adapter-a", "adapter_config.json"), ("u/no-card", "README.md"),
        ("u/huge", "README.md"), ("u/evil", "README.md"), ("u/evil", "adapter_config.json"),
        ("u/gated", "adapter_config.json"), ("u/missing-file", "adapter_config.json")}
    # The base the root's config names does not exist: with check_bases its reference dangles, no edge.
    assert set(snap.dangling.select("child", "raw", "kind", "reason").iter_rows()) == {
        (ROOT, "org/ancestor", "config", "not_found")}
    assert ROOT not in set(snap.edges["child"])
    # check_bases also read the record of a base outside the crawl.
    assert snap.models.filter(pl.col("id") == "org/present")["has_record"].item() is True
    assert snap.models.filter(pl.col("id") == ROOT)["model_type"].item() == "llama"

    assert "over the 1000000-byte limit" in problems["u/huge"]
    assert ("u/huge", "org/elsewhere") not in edges
    evil = set(snap.problems.filter(pl.col("model") == "u/evil")["message"])
    assert any("not valid YAML" in m for m in evil) and any("not valid JSON" in m for m in evil)
    assert "gated" in problems["u/gated"]
    assert "404" in problems["u/missing-file"]
    # One request a file, never a HEAD first.
    assert len(small.requests(contains="/resolve/")) == len(_resolved(small)) == 8
    assert not small.requests(method="HEAD")


def test_auto_fetches_files_only_where_nothing_else_names_a_base(small: HubServer, tmp_path: Path) -> None:
    result = crawl([ROOT], tmp_path / "snap", progress=False)  # fetch_files="auto"
    # The root names no base: its config.json is the only lineage evidence. Every listed model names one.
    assert _resolved(small) == {(ROOT, "config.json")}
    snap = snapshot.load(result.snapshot)
    assert set(snap.evidence.filter(pl.col("kind") == "config").select("base", "child").iter_rows()) == {
        ("org/ancestor", ROOT)}
    listings = small.requests(contains="/api/models?")
    assert result.stats["requests"] == small.request_count == 2 + len(listings)  # record, file, then listings


def _resolved(server: HubServer) -> set[tuple[str, str]]:
    """(repo, file) of every file request the server saw."""
    out = set()
    for entry in server.requests(contains="/resolve/"):
        repo, _, rest = entry.path.lstrip("/").partition("/resolve/")
        out.add((repo, rest.split("/", 1)[1]))
    return out


def test_fetch_files_never_and_depth_and_model_limits(small: HubServer, tmp_path: Path) -> None:
    harvest = HubCrawl([ROOT], fetch_files="never", max_depth=1, progress=False).harvest()
    assert not small.requests(contains="/resolve/")
    assert {r.id for r in harvest.records} == set(small.data.records) - {"v/grandchild", "org/present"}
    assert small.listed_parents() == [ROOT], "max_depth=1 lists the root's children and stops"
    assert not any(ref.kind.value == "card_base_model" and ref.child == "u/no-card" for ref in harvest.references)

    limited = HubCrawl([ROOT], fetch_files="never", max_models=3, progress=False)
    harvest = limited.harvest()
    assert len(harvest.records) == 3 and limited.stats["truncated"] == 1


def test_resume_with_a_larger_model_limit_finishes_the_cut_listing(small: HubServer, tmp_path: Path) -> None:
    state = tmp_path / "state"
    HubCrawl([ROOT], fetch_files="never", max_models=3, state_dir=state, progress=False).harvest()
    again = HubCrawl([ROOT], fetch_files="never", state_dir=state, progress=False)
    harvest = again.harvest()
    assert sorted(r.id for r in harvest.records) == sorted(set(small.data.records) - {"org/present"})
    assert again.stats["parents_resumed"] == 0, "a listing cut short by max_models is not complete"


def test_bulk_listing(small: HubServer) -> None:
    source = HubCrawl(author="u", sort="downloads", max_depth=0, progress=False)
    harvest = source.harvest()
    assert {r.id for r in harvest.records} == {i for i in small.data.records if i.startswith("u/")}
    assert source.stats["parents_listed"] == 0
    with pytest.raises(SourceError):
        HubCrawl(sort="downloads")


def test_progress_goes_to_stderr(small: HubServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = crawl([ROOT], tmp_path / "snap", fetch_files="never", progress=True)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"{result.stats['requests']} requests" in captured.err


def test_the_test_server_answers_like_the_hub(hub: HubServer) -> None:
    """The parts of the server the crawl does not exercise: search, sort, limit, revisions, errors."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import RepositoryNotFoundError

    api = HfApi(endpoint=hub.url)
    top = list(api.list_models(search="llama-2-7b-chat", sort="likes", limit=60, expand=["likes"]))
    likes = [m.likes for m in top if m.likes is not None]  # models known only from tree lists have none: last
    assert len(top) == 60 and likes == sorted(likes, reverse=True)
    assert all(m.likes is None for m in top[len(likes):])
    assert all("llama-2-7b-chat" in m.id.lower() for m in top)
    assert len(hub.requests(contains="cursor=")) == 1, "limit 60 at 50 a page: a second page, then stop"
    sha = hub.data.records[BIG_ROOT]["sha"]
    info = api.model_info(BIG_ROOT, revision=sha, expand=["tags"])
    assert hub.log[-1].path.startswith(f"/api/models/{BIG_ROOT}/revision/{sha}")
    assert info.id == BIG_ROOT and info.tags and info.author is None, "expand returns only what was asked"
    assert api.model_info(BIG_ROOT.upper()).id == BIG_ROOT, "ids are looked up case-insensitively"
    with pytest.raises(RepositoryNotFoundError):
        api.model_info("nobody/nothing")
    with pytest.raises(Exception, match="expand"):
        list(api.list_models(expand=["baseModels"], limit=1))  # type: ignore[list-item]


def test_crawl_command_writes_a_snapshot_and_reports_its_requests(hub: HubServer, tmp_path: Path) -> None:
    env = {**os.environ, "HF_ENDPOINT": hub.url, "HF_HOME": str(tmp_path / "hf"), "HF_HUB_DISABLE_TELEMETRY": "1"}
    env.pop("HF_TOKEN", None)
    out = tmp_path / "crawled"
    before = hub.request_count
    proc = subprocess.run(
        [sys.executable, "-m", "ptmgraph", "crawl", "--seed", SMALL_ROOT, "--out", str(out), "--no-progress"],
        capture_output=True, text=True, env=env, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert f"{hub.request_count - before} HTTP requests" in proc.stderr
    stats = subprocess.run(
        [sys.executable, "-m", "ptmgraph", "impact", SMALL_ROOT, "--snapshot", str(out), "-f", "json"],
        capture_output=True, text=True, env=env, check=True,
    )
    assert json.loads(stats.stdout)["affected_models"] > 100


def test_crawl_command_bulk_listing_by_search(hub: HubServer, tmp_path: Path) -> None:
    env = {**os.environ, "HF_ENDPOINT": hub.url, "HF_HOME": str(tmp_path / "hf"), "HF_HUB_DISABLE_TELEMETRY": "1"}
    out = tmp_path / "bulk"
    proc = subprocess.run(
        [sys.executable, "-m", "ptmgraph", "crawl", "--search", "Llama-2-7b-chat", "--limit", "5", "--max-depth", "0",
         "--out", str(out), "--no-progress", "--fetch-files", "never"],
        capture_output=True, text=True, env=env, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "wrote snapshot" in proc.stderr and " 5 models" in proc.stderr
    models = snapshot.load(out).models.filter(pl.col("has_record"))
    assert models.height == 5 and all("llama-2-7b-chat" in m.lower() for m in models["id"])


def test_crawl_command_without_roots_or_listing_is_a_usage_error(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "ptmgraph", "crawl", "--out", str(tmp_path / "x")],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 2 and "--seed" in proc.stderr


def test_an_ancestors_crawl_answers_where_a_model_comes_from(hub: HubServer, file_ingest: Snapshot,
                                                              tmp_path: Path) -> None:
    from ptmgraph.analyses.lineage import ancestry
    from ptmgraph.graph import LineageGraph

    model = "AmberYifan/Gemma-7B-sft-SPIN-Gemma-2-27B"  # depth 3 below google/gemma-7b
    result = crawl([model], tmp_path / "up", max_depth=0, ancestors=True, fetch_files="never", progress=False)
    crawled = ancestry(LineageGraph(snapshot.load(result.snapshot)), model)
    expected = ancestry(LineageGraph(file_ingest), model)
    assert crawled.rows.select("id", "depth", "relation").equals(expected.rows.select("id", "depth", "relation"))
    assert crawled.summary["roots"] == expected.summary["roots"] == ["google/gemma-7b"]
    # One model_info for the seed and one for each ancestor; no listing at all.
    assert hub.requests(contains="/api/models?") == []
    assert result.stats["requests"] == 1 + expected.rows.height


# ---------------------------------------------------------------------------------------------------------------
# A failing Hub: transient faults, hostile paging, waits and timeouts, bad replies, kills
# ---------------------------------------------------------------------------------------------------------------

FAULT_KINDS: tuple[int | str, ...] = (429, "429-bare", 500, 502, 503, "close", "cut", "truncated", "slow")
# Short waits keep the faulty runs quick; the logic is the one real crawls use. The read timeout is the one
# time that decides what happens: every answer but a "slow" fault (which never comes) must arrive within it,
# on a loaded 2-core machine too, or a retry that no fault caused would change the counts.
QUICK = Limits(read_timeout=3.0, backoff=0.02)


def snapshot_rows(path: Path) -> dict[str, list[str]]:
    """Every table of a snapshot, rows in a canonical order: what 'the same snapshot' compares."""
    snap = snapshot.load(path)
    return {name: sorted(map(repr, getattr(snap, name).iter_rows()))
            for name in ("models", "edges", "evidence", "dangling", "problems")}


def test_a_hub_failing_30_percent_of_the_time_gives_the_fault_free_snapshot(hub: HubServer, tmp_path: Path) -> None:
    clean = crawl([SMALL_ROOT], tmp_path / "clean", progress=False)  # the default 60 s read timeout: no retry
    hub.random_faults(0.3, FAULT_KINDS, seed=7)
    before = hub.request_count
    faulty = crawl([SMALL_ROOT], tmp_path / "faulty", limits=QUICK, progress=False)
    log = hub.log[before:]

    assert snapshot_rows(faulty.snapshot) == snapshot_rows(clean.snapshot)
    faults = Counter(str(e.fault) for e in log if e.fault)
    print(f"\n{len(log)} requests, faults {dict(faults)}; clean {clean.stats}\nfaulty {faulty.stats}")
    assert set(faults) == {str(kind) for kind in FAULT_KINDS}, "every kind of fault was met"
    assert 0.2 < sum(faults.values()) / len(log) < 0.4
    stats = faulty.stats
    assert stats["requests"] == len(log)
    assert stats["retries_429"] == faults["429"] + faults["429-bare"]
    assert stats["retries_5xx"] == faults["500"] + faults["502"] + faults["503"]
    assert stats["retries_other"] == faults["close"] + faults["cut"] + faults["truncated"] + faults["slow"]
    assert clean.stats["retries_429"] == clean.stats["retries_5xx"] == clean.stats["retries_other"] == 0
    assert stats["requests"] == clean.stats["requests"] + sum(faults.values()), "nothing but the faults was retried"


@pytest.mark.parametrize("hostility", ["link_to_self", "repeat_pages"])
def test_paging_that_goes_round_in_circles_ends_with_a_problem(hub: HubServer, tmp_path: Path,
                                                               hostility: str) -> None:
    hub.page_size = 10
    clean = crawl([SMALL_ROOT], tmp_path / "clean", fetch_files="never", progress=False)
    paged = {parse_qs(urlsplit(e.path).query)["filter"][0] for e in hub.requests(contains="cursor=")}
    setattr(hub, hostility, True)
    before = hub.request_count
    result = crawl([SMALL_ROOT], tmp_path / "hostile", fetch_files="never", progress=False)
    requests = hub.request_count - before
    got, want = snapshot_rows(result.snapshot), snapshot_rows(clean.snapshot)
    problems = snapshot.load(result.snapshot).problems
    if hostility == "link_to_self":
        # Every listing's last page links to itself: seen to repeat before it is asked again, and ended.
        assert requests == clean.stats["requests"]
        assert problems.height == clean.stats["parents_listed"]
        assert set(problems["message"].str.contains("next page is a page already read")) == {True}
        assert {k: v for k, v in got.items() if k != "problems"} == {k: v for k, v in want.items() if k != "problems"}
    else:
        # Every later page repeats the first: each listing of more than one page stops at its second page
        # (the root's among them, which hides the models of its later pages and their own listings).
        stopped = {parse_qs(urlsplit(source).query)["filter"][0] for source in problems["source"]}
        assert f"base_model:{SMALL_ROOT}" in stopped and stopped <= paged
        assert set(problems["message"].str.contains("a page of ids all listed before")) == {True}
        assert set(got["models"]) < set(want["models"])
        assert requests < clean.stats["requests"]


def test_a_listing_stops_at_max_pages_with_a_problem(hub: HubServer, tmp_path: Path) -> None:
    hub.page_size = 10
    result = crawl([SMALL_ROOT], tmp_path / "snap", fetch_files="never", limits=Limits(max_pages=2),
                   progress=False)
    requests = hub.requests(contains="/api/models?")
    pages: Counter[str] = Counter(parse_qs(urlsplit(e.path).query)["filter"][0] for e in requests)
    assert max(pages.values()) == 2, "no listing reads a third page"
    problems = snapshot.load(result.snapshot).problems
    stopped = {parse_qs(urlsplit(source).query)["filter"][0] for source in problems["source"]}
    assert f"base_model:{SMALL_ROOT}" in stopped
    assert set(problems["message"].str.contains("listing stopped after 2 pages")) == {True}
    assert stopped == {f for f, n in pages.items() if n == 2 and len(hub.data.select([f], None, None)) > 20}


def test_a_next_page_on_another_host_is_not_followed_and_gets_no_token(
        hub_data: HubData, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with HubServer(hub_data, page_size=50) as main, HubServer(hub_data, page_size=50) as elsewhere:
        point_hf_at(monkeypatch, tmp_path, main.url)
        monkeypatch.setenv("HF_TOKEN", "hf_not_a_real_token_0123456789")
        other = urlsplit(elsewhere.url).netloc
        main.next_page_host = other  # first pages link to the other server
        result = crawl([SMALL_ROOT], tmp_path / "snap", fetch_files="never", progress=False)
        assert main.log and all(e.authorized for e in main.log), "the endpoint does get the token"
        assert not any(e.authorized for e in elsewhere.log)
        assert elsewhere.log == [], "the other host is not asked at all"
    problems = snapshot.load(result.snapshot).problems
    assert problems.height == 1 and "next page on another origin" in problems["message"][0]
    assert f"http://{other}" in problems["message"][0]
    assert "hf_not_a_real_token" not in json.dumps(snapshot.load(result.snapshot).meta)


def test_redirects_are_followed_on_the_endpoint_only(hub_data: HubData, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    with HubServer(hub_data, page_size=50) as main, HubServer(hub_data, page_size=50) as elsewhere:
        point_hf_at(monkeypatch, tmp_path, main.url)
        monkeypatch.setenv("HF_TOKEN", "hf_not_a_real_token_0123456789")
        # A renamed repo: the old name's record redirects to the new one, on the same server.
        main.redirects[f"/api/models/{SMALL_ROOT.lower()}?"] = f"/api/models/{SMALL_ROOT}?expand=tags&expand=author"
        # The record of another root redirects to another host.
        other = urlsplit(elsewhere.url).netloc
        main.redirects["/api/models/bigscience/bloom?"] = f"http://{other}/api/models/bigscience/bloom"
        result = crawl([SMALL_ROOT.lower(), "bigscience/bloom"], tmp_path / "snap", fetch_files="never",
                       max_depth=0, progress=False)
        assert elsewhere.log == [], "the other host is not asked, so it sees no token"
        assert main.requests(contains=f"/api/models/{SMALL_ROOT}?", status=200)
    snap = snapshot.load(result.snapshot)
    assert set(snap.models.filter(pl.col("has_record"))["id"]) == {SMALL_ROOT}
    problem = snap.problems.filter(pl.col("model") == "bigscience/bloom")["message"].item()
    assert f"redirected to another origin (http://{other}); not followed" in problem


def test_a_wait_over_max_wait_stops_at_once_and_resumes(small: HubServer, tmp_path: Path) -> None:
    out, state = tmp_path / "snap", tmp_path / "state"
    small.inject("429-after-100000", match="/api/models?")  # Retry-After: 100000 on the first listing page
    started = time.monotonic()
    with pytest.raises(CrawlInterrupted, match=r"asks to wait 100000 s, over the 60 s limit \(--max-wait\)") as e:
        crawl([ROOT], out, state_dir=state, limits=Limits(max_wait=60), progress=False)
    assert time.monotonic() - started < 30, "stopped at once instead of waiting up to --max-wait (60 s)"
    assert "run the same crawl again to resume" in str(e.value)
    resumed = crawl([ROOT], out, state_dir=state, limits=Limits(max_wait=60), progress=False)
    listings = small.requests(contains="/api/models?")
    assert resumed.stats["requests"] == len(listings) - 1, "only listings: the root came from the journal"
    assert snapshot_rows(resumed.snapshot) == snapshot_rows(crawl([ROOT], tmp_path / "again", progress=False).snapshot)


def test_a_server_that_does_not_answer_times_out_naming_the_url(small: HubServer) -> None:
    small.inject("slow", "slow", match="/api/models/")  # no answer for 60 s
    started = time.monotonic()
    with pytest.raises(CrawlInterrupted) as stopped:
        HubCrawl([ROOT], limits=Limits(read_timeout=0.2, max_tries=2, backoff=0.01), progress=False).harvest()
    assert time.monotonic() - started < small.slow_seconds / 2, "the client gave up; the server never answered"
    message = str(stopped.value)
    assert f"GET {small.url}/api/models/{ROOT}: no data for 0.2 s; 2 tries" in message


def test_a_server_that_does_not_accept_connections_times_out_naming_the_url() -> None:
    # A listening socket whose backlog is full: the kernel drops further connection attempts.
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        port = server.getsockname()[1]
        fillers = [socket.socket() for _ in range(3)]
        for filler in fillers:
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(("127.0.0.1", port))
        started = time.monotonic()
        with pytest.raises(CrawlInterrupted) as stopped:
            HubCrawl([ROOT], endpoint=f"http://127.0.0.1:{port}", token=False, progress=False,
                     limits=Limits(connect_timeout=0.3, max_tries=2, backoff=0.01)).harvest()
        for filler in fillers:
            filler.close()
    assert time.monotonic() - started < Limits().connect_timeout, "the 0.3 s limit, not the default 10 s"
    assert f"GET http://127.0.0.1:{port}/api/models/{ROOT}: no connection within 0.3 s; 2 tries" in str(stopped.value)


def test_rate_limit_headers_pace_the_crawl_so_it_is_not_told_with_429s(small: HubServer, tmp_path: Path) -> None:
    unpaced = HubCrawl([ROOT], fetch_files="never", progress=False)
    unpaced.harvest()
    small.log.clear()
    small.rate_limit(quota=5, window=1.0)  # fewer than the crawl needs: it must spread over two windows
    paced = HubCrawl([ROOT], fetch_files="never", progress=False)
    started = time.monotonic()
    paced.harvest()
    assert paced.stats["requests"] == unpaced.stats["requests"] > 5
    assert small.requests(status=429) == [] and paced.stats["retries_429"] == 0
    assert time.monotonic() - started >= 1.0


def hostile_hub() -> tuple[HubData, dict[tuple[str, str], bytes]]:
    rows = [
        _record(ROOT, files=("README.md",), card={"license": "mit"}),
        _record("u/deep-card", bases=(ROOT,), files=("README.md",)),
        _record("u/big-int", bases=(ROOT,), files=("adapter_config.json",), card={"base_model": ROOT}),
        {**_record("u/odd-shapes", bases=(ROOT,)), "siblings": "not a list", "createdAt": {"not": "a date"},
         "downloads": "many", "cardData": ["not", "a", "mapping"]},
        _record("v/child-of-unreadable", bases=("u/deep-card",)),
    ]
    files = {
        ("u/deep-card", "README.md"): b"---\nbase_model: " + b"[" * 50_000 + b"]" * 50_000 + b"\n---\n",
        ("u/big-int", "adapter_config.json"): b'{"base_model_name_or_path": ' + b"9" * 5000 + b"}",
    }
    return HubData(records={str(r["id"]): r for r in rows}), files


def test_bad_replies_and_hostile_files_cost_only_their_record_and_replay_cleanly(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data, files = hostile_hub()
    with HubServer(data, page_size=2, files=files) as server:
        point_hf_at(monkeypatch, tmp_path, server.url)
        server.inject(*["truncated"] * 8, match=f"/api/models/{ROOT}?")  # the root's record never parses
        state = tmp_path / "state"
        first = HubCrawl([ROOT], fetch_files="all", state_dir=state, limits=Limits(backoff=0.01), progress=False)
        harvest = first.harvest()
        requests_after_first = server.request_count
        replayed = HubCrawl([ROOT], fetch_files="all", state_dir=state, progress=False)
        again = replayed.harvest()
    problems = {(p.model, p.message.split(":")[0]) for p in harvest.problems}
    messages = " | ".join(p.message for p in harvest.problems)
    assert (ROOT, "record not read") in problems and "not JSON (cut short?); 8 tries" in messages
    assert any(p.model == "u/deep-card" and p.message.startswith("model card") for p in harvest.problems)
    assert any(p.model == "u/big-int" and "5,000 digits" in p.message for p in harvest.problems)
    # The unreadable root is still listed, and so are the children of the model with the hostile card.
    assert {r.id for r in harvest.records} == {"u/deep-card", "u/big-int", "u/odd-shapes", "v/child-of-unreadable"}
    # The journal replays the same harvest without asking the Hub anything and without failing.
    assert server.request_count == requests_after_first and replayed.stats["requests"] == 0
    assert sorted(map(repr, again.problems)) == sorted(map(repr, harvest.problems))
    assert sorted(map(repr, again.records)) == sorted(map(repr, harvest.records))


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(["id", "tags", "siblings", "cardData", "x"]), inner, max_size=4),
    max_leaves=12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(page=JSON_VALUES | st.binary(max_size=40))
def test_any_listing_reply_costs_at_most_that_listing(small: HubServer, page: object) -> None:
    """Whatever a child listing answers (any JSON value, or bytes that are not JSON), the crawl finishes:
    the listing's usable records are kept, anything else is a problem row."""
    body = page if isinstance(page, bytes) else json.dumps(page).encode()
    small.bodies = {"filter=base_model%3Au%2Fadapter-a": body}
    harvest = HubCrawl([ROOT], fetch_files="never", limits=Limits(max_tries=2, backoff=0.001), progress=False).harvest()
    listed = [i["id"] for i in page if isinstance(i, dict) and isinstance(i.get("id"), str) and i["id"]] \
        if isinstance(page, list) else []
    usable = isinstance(page, list) and len(listed) == len(page)
    others = {ROOT, "u/adapter-a", "u/no-card", "u/huge", "u/evil", "u/gated", "u/missing-file"}
    assert others <= {r.id for r in harvest.records} <= others | set(listed), "the other listings are untouched"
    assert usable or any(p.source.startswith(f"{small.url}/api/models?filter=base_model:u/adapter-a")
                         for p in harvest.problems)


def _crawl_in_this_process(root: str, out: Path, state: Path, endpoint: str) -> None:
    crawl([root], out, endpoint=endpoint, token=False, state_dir=state, keep_state=True, progress=False)


@pytest.mark.slow
def test_sigkill_at_20_random_moments_then_resume_gives_the_fault_free_snapshot(hub: HubServer,
                                                                                tmp_path: Path) -> None:
    clean = crawl([SMALL_ROOT], tmp_path / "clean", progress=False)
    out, state = tmp_path / "killed", tmp_path / "killed.state"
    # Crawls forked from a server process that has imported ptmgraph already: no start-up cost per kill.
    processes = multiprocessing.get_context("forkserver")
    processes.set_forkserver_preload(["ptmgraph.sources.hub_api"])
    rng = random.Random(20)
    for moment in range(20):
        proc = processes.Process(target=_crawl_in_this_process, args=(SMALL_ROOT, out, state, hub.url))
        proc.start()
        # At most 8 requests into the run: with about 176 in all, every one of the 20 kills lands mid-crawl.
        hub.kill_at(rng.randint(1, 8), proc.pid)
        proc.join(timeout=120)
        assert proc.exitcode == -signal.SIGKILL, f"kill {moment} missed (exit code {proc.exitcode})"
    assert not out.exists()
    hub.revive()
    # The last run is the command line's, resuming from what the 20 killed runs journaled.
    env = {**os.environ, "HF_ENDPOINT": hub.url, "HF_HUB_DISABLE_TELEMETRY": "1"}
    env.pop("HF_TOKEN", None)
    command = [sys.executable, "-m", "ptmgraph", "crawl", "--seed", SMALL_ROOT, "--out", str(out),
               "--state-dir", str(state), "--keep-state", "--no-progress"]
    finished = subprocess.run(command, env=env, capture_output=True, text=True, check=False, timeout=120)
    assert finished.returncode == 0, finished.stderr

    assert snapshot_rows(out) == snapshot_rows(clean.snapshot)
    lines = [json.loads(line) for line in (state / JOURNAL_NAME).read_text().splitlines()]
    ids = Counter(entry["row"]["id"] for line in lines for entry in line.get("records", []))
    assert len(ids) == clean.stats["models"] and max(ids.values()) == 1, "no record lost, none journaled twice"
    listed = Counter(line["parent"] for line in lines if line["kind"] == "children" and line["complete"])
    assert len(listed) == clean.stats["parents_listed"] and max(listed.values()) == 1
