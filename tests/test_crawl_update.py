"""``ptmgraph crawl --update``: a crawl snapshot of the Hub as it was, refreshed after the Hub changed.

The Hub-shaped test server (tests/hub_server.py) serves two states of the test sample (``two_states``):
state 1 holds the models created before 2025-03-01, and its clock says 2025-03-01; state 2 holds every
model, with a relicensed model, one with new weights and one whose card names another base (each with a
later ``lastModified``), and three models removed. A user crawls state 1, the Hub moves on to state 2, and
the user runs ``crawl --update``: the snapshot must be the one a fresh crawl of state 2 gives, for fewer
requests. The expected lists of added models and edges come from the raw records of the two states.
"""

from __future__ import annotations

import json
import shutil
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hub_server import (
    CUTOFF,
    SAMPLE_CHANGES,
    SAMPLE_REMOVED,
    STATE_2_TIME,
    HubData,
    HubServer,
    iso_time,
    point_hf_at,
    two_states,
)
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from ptmgraph import snapshot
from ptmgraph.cli import app

SEEDS = ["deepseek-ai/DeepSeek-R1", "meta-llama/Llama-2-7b"]
CRAWL_TIME_META = {"written_at", "files"}
"""``meta.json`` keys that say when and how a snapshot was written, not what it holds: not compared."""
CRAWL_TIME_CRAWL = {"stats", "hub_time", "update"}
"""``meta.json`` ``crawl`` keys of one run (its counters, its Hub time, the update's own numbers): not compared."""


@pytest.fixture(scope="module")
def states(hub_sample: Path) -> tuple[HubData, HubData]:
    return two_states(HubData.from_directory(hub_sample))


@pytest.fixture
def hub(states: tuple[HubData, HubData], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[HubServer]:
    """The Hub in state 1 (its clock at the cut-off), 50 models a page, with HF_ENDPOINT pointing at it."""
    with HubServer(states[0], page_size=50) as server:
        server.clock = iso_time(CUTOFF)
        point_hf_at(monkeypatch, tmp_path, server.url)
        yield server
    assert not any(r.authorized for r in server.log), "a token was sent although none is configured"


def ptmgraph(*argv: str) -> Any:
    return CliRunner().invoke(app, list(argv))


def crawl(out: Path, *more: str) -> Any:
    seeds = [arg for seed in SEEDS for arg in ("--seed", seed)]
    result = ptmgraph("crawl", *seeds, "--out", str(out), "--no-progress", *more)
    assert result.exit_code == 0, result.output
    return result


def later(hub: HubServer, states: tuple[HubData, HubData]) -> None:
    """The Hub moves on to state 2."""
    hub.switch(states[1], iso_time(STATE_2_TIME))


def assert_same_snapshot(got: Path, want: Path) -> None:
    """Every table row for row, and the metadata but for what one run of a crawl writes (documented above)."""
    a, b = snapshot.load(got), snapshot.load(want)
    for name in snapshot.TABLES:
        assert_frame_equal(a.table(name), b.table(name), check_row_order=False)
    for meta in (a.meta, b.meta):
        for key in CRAWL_TIME_META:
            meta.pop(key, None)
        for key in CRAWL_TIME_CRAWL:
            meta["crawl"].pop(key, None)
    assert a.meta == b.meta


def reach(records: dict[str, dict[str, Any]], seeds: list[str]) -> set[str]:
    """The seeds and their descendants by the records' ``base_model:`` tags (what the Hub's children listing
    answers): computed from the raw records, without ptmgraph."""
    children: dict[str, list[str]] = {}
    for model_id, record in records.items():
        for tag in record.get("tags") or []:
            if tag.startswith("base_model:") and tag.count(":") == 1:
                children.setdefault(tag.removeprefix("base_model:"), []).append(model_id)
    seen = {s for s in seeds if s in records}
    todo = deque(seen)
    while todo:
        for child in children.get(todo.popleft(), []):
            if child not in seen:
                seen.add(child)
                todo.append(child)
    return seen


def tag_edges(records: dict[str, dict[str, Any]], models: set[str]) -> set[tuple[str, str]]:
    """(base, child) for each ``base_model:`` tag of the records of ``models``."""
    return {(tag.removeprefix("base_model:"), model_id) for model_id in models
            for tag in records[model_id].get("tags") or [] if tag.startswith("base_model:") and tag.count(":") == 1}


# ---------------------------------------------------------------------------------------------------------------


def test_an_update_gives_the_fresh_crawl_of_the_changed_hub_for_fewer_requests(
        hub: HubServer, states: tuple[HubData, HubData], tmp_path: Path) -> None:
    crawl(tmp_path / "snap")
    assert_update_is_fresh_crawl(hub, states, tmp_path)


def test_with_file_listings_and_checked_bases_too(hub: HubServer, states: tuple[HubData, HubData],
                                                  tmp_path: Path) -> None:
    """The file listings of unchanged commits and the records of bases are kept or read again as a fresh
    crawl of the changed Hub has them."""
    crawl(tmp_path / "snap", "--file-commits", "--check-bases")
    fresh_requests = assert_update_is_fresh_crawl(hub, states, tmp_path, "--file-commits", "--check-bases")
    assert snapshot.load(tmp_path / "snap").files.height > 0
    assert fresh_requests > 0


def assert_update_is_fresh_crawl(hub: HubServer, states: tuple[HubData, HubData], tmp_path: Path,
                                 *options: str) -> int:
    """Update the state-1 crawl in ``tmp_path / "snap"`` after the Hub moved to state 2, crawl state 2 afresh
    with ``options``, and check that the two snapshots are the same for fewer requests; returns the fresh
    crawl's requests."""
    later(hub, states)
    before = hub.request_count
    updated = ptmgraph("crawl", "--update", str(tmp_path / "snap"), "--no-progress")
    assert updated.exit_code == 0, updated.output
    update_requests = hub.request_count - before
    before = hub.request_count
    crawl(tmp_path / "fresh", *options)
    fresh_requests = hub.request_count - before

    assert_same_snapshot(tmp_path / "snap", tmp_path / "fresh")
    assert update_requests < fresh_requests
    ratio = update_requests / fresh_requests
    print(f"\n{' '.join(options) or 'crawl'}: update to state 2: {update_requests} requests; fresh crawl of "
          f"state 2: {fresh_requests}; update / fresh = {ratio:.3f}")
    assert f"{update_requests} requests, where a full crawl would send about {fresh_requests:,}" in updated.stderr
    done = json.loads((snapshot.current_files(tmp_path / "snap") / "meta.json").read_text())["crawl"]
    assert done["update"]["of"] == "2025-03-01T00:00:00+00:00" and done["hub_time"] == "2025-04-30T00:00:00+00:00"
    assert done["update"]["requests"] == update_requests
    return fresh_requests


def test_the_update_sees_the_changes_and_removals_the_hub_made(
        hub: HubServer, states: tuple[HubData, HubData], tmp_path: Path) -> None:
    crawl(tmp_path / "snap")
    later(hub, states)
    assert ptmgraph("crawl", "--update", str(tmp_path / "snap"), "--out", str(tmp_path / "new"),
                    "--no-progress").exit_code == 0
    models = snapshot.load(tmp_path / "new").models
    with_record = set(models.filter(pl.col("has_record"))["id"])
    assert not with_record & set(SAMPLE_REMOVED)
    assert models.filter(pl.col("id") == "perplexity-ai/r1-1776")["license"].to_list() == ["apache-2.0"]
    edges = snapshot.load(tmp_path / "new").edges.filter(pl.col("child") == "silence09/DeepSeek-R1-Small-2layers")
    # The new base its card names; its config still loads code from DeepSeek-R1 (a runtime-code edge).
    assert sorted(edges["base"]) == ["deepseek-ai/DeepSeek-R1",
                                     SAMPLE_CHANGES["silence09/DeepSeek-R1-Small-2layers"]["base_model"]]
    # The snapshot given stays as it was: the update wrote to --out.
    old = snapshot.load(tmp_path / "snap").models
    assert old.filter(pl.col("id") == "perplexity-ai/r1-1776")["license"].to_list() == ["mit"]


def test_diff_of_the_update_lists_every_added_model_and_edge_of_the_raw_records(
        hub: HubServer, states: tuple[HubData, HubData], tmp_path: Path) -> None:
    crawl(tmp_path / "old")
    later(hub, states)
    assert ptmgraph("crawl", "--update", str(tmp_path / "old"), "--out", str(tmp_path / "new"),
                    "--no-progress").exit_code == 0
    result = ptmgraph("diff", str(tmp_path / "old"), str(tmp_path / "new"), "-f", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["rows"]

    one, two = (state.records for state in states)
    reached_1, reached_2 = reach(one, SEEDS), reach(two, SEEDS)
    added = {r["id"] for r in rows if r["change"] == "model_added"}
    # Every model the Hub's listings now reach and did not before is added; the other added ids are bases
    # the new records name that have no record in the crawl (a model row without a record).
    assert reached_2 - reached_1 <= added
    assert not (added - (reached_2 - reached_1)) & reached_2
    removed = {r["id"] for r in rows if r["change"] == "model_removed"}
    assert reached_1 - reached_2 <= removed and set(SAMPLE_REMOVED) <= reached_1 - reached_2
    edges_added = {(r["base"], r["id"]) for r in rows if r["change"] == "edge_added"}
    new_tag_edges = tag_edges(two, reached_2) - tag_edges(one, reached_1)
    assert new_tag_edges <= edges_added
    assert ("silence09/DeepSeek-R1-3layers", "silence09/DeepSeek-R1-Small-2layers") in edges_added
    assert [r["new"] for r in rows if r["change"] == "license_changed"] == ["apache-2.0"]
    assert [r["id"] for r in rows if r["change"] == "weights_changed"] == ["RecurvAI/Recurv-Medical-Deepseek-R1"]


def test_diff_watch_exits_1_for_a_new_descendant_and_0_when_nothing_watched_changed(
        hub: HubServer, states: tuple[HubData, HubData], tmp_path: Path) -> None:
    crawl(tmp_path / "old")
    later(hub, states)
    assert ptmgraph("crawl", "--update", str(tmp_path / "old"), "--out", str(tmp_path / "new"),
                    "--no-progress").exit_code == 0
    watched = ptmgraph("diff", str(tmp_path / "old"), str(tmp_path / "new"), "--watch", SEEDS[0])
    assert watched.exit_code == 1
    assert "descendant_added" in watched.stdout
    quiet = ptmgraph("diff", str(tmp_path / "old"), str(tmp_path / "new"), "--watch", SEEDS[1])
    assert quiet.exit_code == 0, quiet.output


def test_an_update_with_nothing_changed_reads_no_record_and_keeps_the_tables(hub: HubServer, tmp_path: Path) -> None:
    crawl(tmp_path / "snap")
    shutil.copytree(tmp_path / "snap", tmp_path / "before", symlinks=True)
    before = hub.request_count
    result = ptmgraph("crawl", "--update", str(tmp_path / "snap"), "--no-progress")
    assert result.exit_code == 0, result.output
    assert "update: 0 records changed since the snapshot" in result.stderr
    assert not hub.requests(contains="/resolve/", since=before), "no file fetched again"
    # Records are read only by the listing of changes (one page: none) and for the seeds, as a crawl reads them.
    expanded = [r.path.split("?")[0] for r in hub.requests(contains="expand=cardData", since=before)]
    assert sorted(expanded) == ["/api/models", *(f"/api/models/{seed}" for seed in sorted(SEEDS))]
    assert_same_snapshot(tmp_path / "snap", tmp_path / "before")


def test_an_update_keeps_its_dated_copy_in_the_history(hub: HubServer, states: tuple[HubData, HubData],
                                                       tmp_path: Path) -> None:
    crawl(tmp_path / "snap", "--history", str(tmp_path / "history"), "--history-date", "2025-03-01")
    later(hub, states)
    result = ptmgraph("crawl", "--update", str(tmp_path / "snap"), "--no-progress", "--history",
                      str(tmp_path / "history"), "--history-date", "2025-04-30")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "history").iterdir()) == ["date=2025-03-01", "date=2025-04-30"]
    shown = ptmgraph("history", "perplexity-ai/r1-1776", "--history", str(tmp_path / "history"), "-f", "json")
    assert shown.exit_code == 0, shown.output
    assert [row["license"] for row in json.loads(shown.stdout)["rows"]] == ["mit", "apache-2.0"]


@pytest.mark.parametrize("setup, message", [
    ("missing", "no such snapshot directory"),
    ("files", "not a ptmgraph snapshot"),
    ("ingested", "not made by 'ptmgraph crawl'"),
    ("old-crawl", "holds no crawl journal"),
    ("damaged", "not a readable crawl journal"),
])
def test_an_update_of_what_is_not_a_crawl_snapshot_is_refused_in_one_line(hub: HubServer, tmp_path: Path,
                                                                         setup: str, message: str) -> None:
    target = tmp_path / "target"
    if setup == "files":
        target.mkdir()
        (target / "notes.txt").write_text("mine\n")
    elif setup == "ingested":
        snapshot.save(snapshot.load(snapshot.bundled_path()), target)
    elif setup == "old-crawl":  # a crawl snapshot written before crawl --update: no journal kept
        crawl(tmp_path / "crawled")
        snapshot.save(snapshot.load(tmp_path / "crawled"), target)
    elif setup == "damaged":  # the kept journal cut short
        crawl(target)
        kept = snapshot.current_files(target) / "crawl-journal.jsonl.gz"
        kept.write_bytes(kept.read_bytes()[:1000])
    before = hub.request_count
    result = ptmgraph("crawl", "--update", str(target), "--no-progress")
    assert result.exit_code == 1
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert hub.request_count == before


def test_update_takes_the_seeds_from_the_snapshot(hub: HubServer, tmp_path: Path) -> None:
    result = ptmgraph("crawl", "--update", str(tmp_path / "snap"), "--seed", "a/b")
    assert result.exit_code == 2 and "--seed cannot be given" in result.stderr


def test_root_is_still_read_as_seed(hub: HubServer, tmp_path: Path) -> None:
    result = ptmgraph("crawl", "--root", SEEDS[1], "--max-depth", "0", "--out", str(tmp_path / "snap"), "--no-progress")
    assert result.exit_code == 0, result.output
    assert json.loads((snapshot.current_files(tmp_path / "snap") / "meta.json").read_text())["crawl"]["seeds"] == [
        SEEDS[1]]
    assert "--root" not in ptmgraph("crawl", "--help").stdout


def test_an_interrupted_update_resumes_and_gives_the_same_snapshot(
        hub: HubServer, states: tuple[HubData, HubData], tmp_path: Path) -> None:
    crawl(tmp_path / "snap")
    later(hub, states)
    hub.die_after(40)  # every request after the next 40 is refused: the update stops part-way
    stopped = ptmgraph("crawl", "--update", str(tmp_path / "snap"), "--out", str(tmp_path / "new"), "--no-progress")
    assert stopped.exit_code == 1 and "crawl interrupted" in stopped.stderr
    assert not (tmp_path / "new").exists() and (tmp_path / "new.crawl" / "journal.jsonl").is_file()
    hub.revive()
    before = hub.request_count
    resumed = ptmgraph("crawl", "--update", str(tmp_path / "snap"), "--out", str(tmp_path / "new"), "--no-progress")
    assert resumed.exit_code == 0, resumed.output
    assert not hub.requests(contains="sort=lastModified", since=before), "the changes were listed once, then kept"
    crawl(tmp_path / "fresh")
    assert_same_snapshot(tmp_path / "new", tmp_path / "fresh")


def test_the_test_hub_lists_by_last_modified_both_ways_and_ids_only_without_expand(
        hub: HubServer, states: tuple[HubData, HubData]) -> None:
    """What the update relies on, as the Hub answers it: ``sort=lastModified`` newest first (``direction=1``:
    oldest first), and a listing without ``expand`` gives the default fields, no card or files."""
    from urllib.request import urlopen

    def listed(query: str) -> list[dict[str, Any]]:
        with urlopen(f"{hub.url}/api/models?{query}") as answer:
            return json.loads(answer.read())

    dates = sorted(r["lastModified"] for r in states[0].records.values() if r.get("lastModified"))
    newest = listed("sort=lastModified&expand=lastModified&limit=3")
    oldest = listed("sort=lastModified&direction=1&expand=lastModified&limit=3")
    assert [r["lastModified"] for r in newest] == dates[::-1][:3]
    assert [r["lastModified"] for r in oldest] == dates[:3]
    bare = listed("filter=base_model:deepseek-ai/DeepSeek-R1&limit=3")
    assert bare and all("cardData" not in r and "siblings" not in r and r["id"] for r in bare)


def test_an_updated_snapshot_can_be_updated_again(hub: HubServer, states: tuple[HubData, HubData],
                                                   tmp_path: Path) -> None:
    crawl(tmp_path / "snap")
    later(hub, states)
    assert ptmgraph("crawl", "--update", str(tmp_path / "snap"), "--no-progress").exit_code == 0
    shutil.copytree(tmp_path / "snap", tmp_path / "once", symlinks=True)
    again = ptmgraph("crawl", "--update", str(tmp_path / "snap"), "--no-progress")
    assert again.exit_code == 0, again.output
    assert "update: 0 records changed since the snapshot" in again.stderr
    assert_same_snapshot(tmp_path / "snap", tmp_path / "once")
