"""A crawl that never deletes what it did not make, never mixes two crawls, keeps its credentials to their
origin, ends every wait and every growth, and says when its snapshot is partial (issue 17, cases 1, 4-7, 9
and 18). Every test runs against the Hub-shaped server of tests/hub_server.py, on records written here."""

from __future__ import annotations

import base64
import fcntl
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hub_server import HubData, HubServer, point_hf_at

from ptmgraph.snapshot import current_files
from ptmgraph.sources.crawl_journal import MARKER_NAME, StateDirectory
from ptmgraph.sources.hub_api import JOURNAL_NAME, CrawlInterrupted, HubCrawl, Limits
from ptmgraph.sources.hub_crawl import crawl
from ptmgraph.sources.hub_http import resolve_token
from ptmgraph.sources.interface import SourceError

ROOT = "org/root"
SECRET = "S3CRET-pw-7f1c"
STORED_TOKEN = "hf_stored_login_token_5a9e"


def _record(model_id: str, base: str | None = None, files: tuple[str, ...] = ()) -> dict[str, object]:
    return {"id": model_id, "_id": model_id, "author": model_id.split("/")[0],
            "tags": [f"base_model:{base}", f"base_model:finetune:{base}"] if base else [],
            "siblings": [{"rfilename": f} for f in files], "sha": "0" * 40}


def tiny_hub() -> HubData:
    """A root with two children and a grandchild; the root lists a config.json the server does not have."""
    rows = [_record(ROOT, files=("config.json",)), _record("u/a", ROOT), _record("u/b", ROOT),
            _record("v/c", "u/a")]
    return HubData(records={str(r["id"]): r for r in rows})


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[HubServer]:
    with HubServer(tiny_hub(), page_size=2) as server:
        point_hf_at(monkeypatch, tmp_path, server.url)
        yield server


def run_cli(*args: str, env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ptmgraph", "crawl", *args, "--no-progress"], capture_output=True,
                          text=True, env=env, cwd=cwd, check=False, timeout=120)


def cli_env(server: HubServer, tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "HF_ENDPOINT": server.url, "HF_HOME": str(tmp_path / "hf-home"),
           "HF_HUB_DISABLE_TELEMETRY": "1"}
    env.pop("HF_TOKEN", None)
    env.pop("HUGGING_FACE_HUB_TOKEN", None)
    return env


def last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


# ---------------------------------------------------------------------------------------------------------------
# Case 1: state directories
# ---------------------------------------------------------------------------------------------------------------


def test_state_dir_dot_in_a_project_folder_is_refused_and_nothing_is_deleted(hub: HubServer, tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    (project / "src" / "main.py").write_text("print('mine')\n")
    (project / "notes.txt").write_text("my notes\n")
    proc = run_cli("--seed", ROOT, "--out", "snap", "--state-dir", ".", env=cli_env(hub, tmp_path), cwd=project)
    assert proc.returncode == 1, proc.stderr
    assert "state directory" in proc.stderr and "--state-dir" in proc.stderr
    assert sorted(p.relative_to(project).as_posix() for p in project.rglob("*")) == ["notes.txt", "src", "src/main.py"]
    assert (project / "src" / "main.py").read_text() == "print('mine')\n"
    assert hub.request_count == 0


def test_a_project_folder_as_state_dir_is_refused_untouched(hub: HubServer, tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "train.py").write_text("x = 1\n")
    proc = run_cli("--seed", ROOT, "--out", str(tmp_path / "snap"), "--state-dir", str(project),
                   env=cli_env(hub, tmp_path))
    assert proc.returncode == 1
    assert f"{project}: not a crawl state directory" in proc.stderr and MARKER_NAME in proc.stderr
    assert [p.name for p in project.iterdir()] == ["train.py"]
    assert not (tmp_path / "snap").exists() and hub.request_count == 0


def test_a_new_state_dir_is_made_marked_and_removed(hub: HubServer, tmp_path: Path) -> None:
    state = tmp_path / "deep" / "state"
    result = crawl([ROOT], tmp_path / "snap", state_dir=state, keep_state=True, progress=False)
    assert sorted(p.name for p in state.iterdir()) == sorted([MARKER_NAME, JOURNAL_NAME])
    assert result.state_kept
    again = crawl([ROOT], tmp_path / "snap", state_dir=state, progress=False)
    assert again.stats["requests"] == 0, "resumed from the journal"
    assert not state.exists() and not again.state_kept
    assert (tmp_path / "deep").is_dir(), "only the directory the crawl made is removed"


def test_an_empty_state_dir_is_used_and_left_as_it_was(hub: HubServer, tmp_path: Path) -> None:
    state = tmp_path / "empty"
    state.mkdir()
    crawl([ROOT], tmp_path / "snap", state_dir=state, progress=False)
    assert state.is_dir() and list(state.iterdir()) == [], "the crawl's files go, the user's directory stays"


def test_a_state_dir_holding_anything_else_is_never_removed(hub: HubServer, tmp_path: Path) -> None:
    state = tmp_path / "state"
    crawl([ROOT], tmp_path / "snap", state_dir=state, keep_state=True, progress=False)
    (state / "mine.txt").write_text("keep me\n")
    result = crawl([ROOT], tmp_path / "snap", state_dir=state, progress=False)
    assert result.state_kept and (state / "mine.txt").read_text() == "keep me\n"
    assert (state / JOURNAL_NAME).is_file() and (state / MARKER_NAME).is_file()


def test_a_state_dir_whose_journal_another_crawl_holds_is_not_removed(hub: HubServer, tmp_path: Path) -> None:
    state = tmp_path / "state"
    crawl([ROOT], tmp_path / "snap", state_dir=state, keep_state=True, progress=False)
    with (state / JOURNAL_NAME).open("rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)  # as a crawl resuming it holds it
        assert StateDirectory(state).remove() is False
    assert sorted(p.name for p in state.iterdir()) == sorted([MARKER_NAME, JOURNAL_NAME])
    assert StateDirectory(state).remove() is True and not state.exists()


@pytest.mark.parametrize("where", ["same", "inside", "holding"])
def test_a_state_dir_overlapping_the_snapshot_is_refused(hub: HubServer, tmp_path: Path, where: str) -> None:
    out = tmp_path / "snap"
    state = {"same": out, "inside": out / "state", "holding": tmp_path}[where]
    with pytest.raises(SourceError, match="apart from the snapshot directory"):
        crawl([ROOT], out, state_dir=state, progress=False)
    assert not out.exists() and hub.request_count == 0


def test_a_file_or_a_symlink_as_state_dir_is_refused(hub: HubServer, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("data\n")
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    for given, problem in (("a-file", "not a directory"), ("link", "symlink")):
        with pytest.raises(SourceError, match=problem):
            crawl([ROOT], tmp_path / "snap", state_dir=tmp_path / given, progress=False)
    assert (tmp_path / "a-file").read_text() == "data\n" and list((tmp_path / "real").iterdir()) == []


# ---------------------------------------------------------------------------------------------------------------
# Case 9: resuming with other arguments
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("change", "flag"), [
    ({"seeds": ["u/b"]}, "--seed"),
    ({"max_depth": 1}, "--max-depth"),
    ({"fetch_files": "never"}, "--fetch-files"),
    ({"check_bases": True}, "--check-bases"),
    ({"ancestors": True}, "--ancestors"),
    ({"author": "u"}, "--author"),
    ({"endpoint": "http://127.0.0.1:9"}, "--endpoint"),
    ({"limits": Limits(max_pages=3)}, "--max-pages"),
    ({"file_commits": True}, "--file-commits"),
])
def test_resuming_with_other_arguments_is_refused_naming_the_argument(hub: HubServer, tmp_path: Path,
                                                                      change: dict[str, object], flag: str) -> None:
    state = tmp_path / "state"
    crawl([ROOT], tmp_path / "first", state_dir=state, keep_state=True, progress=False)
    journal = (state / JOURNAL_NAME).read_bytes()
    before = hub.request_count
    arguments: dict[str, object] = {"seeds": [ROOT], **change}
    seeds = arguments.pop("seeds")
    with pytest.raises(SourceError, match=f"holds a crawl with other arguments: {flag} was "):
        crawl(seeds, tmp_path / "second", state_dir=state, progress=False, **arguments)  # type: ignore[arg-type]
    assert hub.request_count == before, "refused before any request"
    assert (state / JOURNAL_NAME).read_bytes() == journal and not (tmp_path / "second").exists()


def test_resuming_with_other_budgets_goes_on(hub: HubServer, tmp_path: Path) -> None:
    state = tmp_path / "state"
    first = crawl([ROOT], tmp_path / "snap", state_dir=state, max_models=2, progress=False)
    assert not first.complete and first.state_kept
    second = crawl([ROOT], tmp_path / "snap", state_dir=state, max_models=10,
                   limits=Limits(deadline=60, max_requests=50), progress=False)
    assert second.complete and second.stats["models"] == 4 and not state.exists()


# ---------------------------------------------------------------------------------------------------------------
# Cases 4 and 5: credentials
# ---------------------------------------------------------------------------------------------------------------


def files_text(*folders: Path) -> str:
    return "".join(p.read_bytes().decode("latin-1") for folder in folders for p in folder.rglob("*") if p.is_file())


def test_credentials_in_the_endpoint_go_to_its_origin_only_and_are_stored_nowhere(hub: HubServer,
                                                                                  tmp_path: Path) -> None:
    host = hub.url.removeprefix("http://")
    endpoint = f"http://alice:{SECRET}@{host}"
    out, state = tmp_path / "snap", tmp_path / "state"
    proc = run_cli("--seed", ROOT, "--out", str(out), "--state-dir", str(state), "--keep-state",
                   "--endpoint", endpoint, env=cli_env(hub, tmp_path))
    # The root's config.json is listed but missing: a problem row whose source is a URL of the endpoint.
    assert proc.returncode == 0, proc.stderr
    basic = "Basic " + base64.b64encode(f"alice:{SECRET}".encode()).decode()
    assert hub.log and {e.authorization for e in hub.log} == {basic}
    stored = files_text(out, state)
    assert f"{hub.url}/api/models/{ROOT}" in stored, "the endpoint is stored, without its credentials"
    assert SECRET not in stored and "alice" not in stored
    assert SECRET not in proc.stdout + proc.stderr


def test_credentials_are_not_in_error_messages(hub: HubServer, tmp_path: Path) -> None:
    hub.die_after(0, status=403)
    endpoint = f"http://alice:{SECRET}@{hub.url.removeprefix('http://')}"
    proc = run_cli("--seed", ROOT, "--out", str(tmp_path / "snap"), "--endpoint", endpoint, env=cli_env(hub, tmp_path))
    assert proc.returncode == 1
    assert f"GET {hub.url}/api/models/{ROOT}" in proc.stderr and "403" in proc.stderr
    assert SECRET not in proc.stderr and "alice" not in proc.stderr
    assert SECRET not in files_text(tmp_path / "snap.crawl")


def test_credentials_in_hf_endpoint_are_kept_out_of_the_snapshot_too(hub: HubServer, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", f"http://alice:{SECRET}@{hub.url.removeprefix('http://')}/")
    result = crawl([ROOT], tmp_path / "snap", state_dir=tmp_path / "state", keep_state=True, progress=False)
    basic = "Basic " + base64.b64encode(f"alice:{SECRET}".encode()).decode()
    assert {e.authorization for e in hub.log} == {basic}
    assert json.loads((current_files(result.snapshot) / "meta.json").read_text())["crawl"]["endpoint"] == hub.url
    assert SECRET not in files_text(tmp_path / "snap", tmp_path / "state")


@pytest.mark.parametrize("endpoint", [f"alice:{SECRET}@127.0.0.1:9", f"ftp://alice:{SECRET}@127.0.0.1:9",
                                      f"http://alice:{SECRET}@127.0.0.1:port"])
def test_an_unusable_endpoint_with_credentials_is_named_without_them(endpoint: str, tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="is not an http") as refused:
        HubCrawl([ROOT], endpoint=endpoint, state_dir=tmp_path / "state", progress=False).harvest()
    assert SECRET not in str(refused.value) and "alice" not in str(refused.value)
    assert SECRET not in files_text(tmp_path)


def test_credentials_do_not_follow_a_next_page_to_another_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with HubServer(tiny_hub(), page_size=1) as main, HubServer(tiny_hub(), page_size=1) as elsewhere:
        point_hf_at(monkeypatch, tmp_path, main.url)
        main.next_page_host = elsewhere.url.removeprefix("http://")
        endpoint = f"http://alice:{SECRET}@{main.url.removeprefix('http://')}"
        result = crawl([ROOT], tmp_path / "snap", endpoint=endpoint, progress=False)
        assert elsewhere.log == [] and all(e.authorization for e in main.log)
    assert result.stats["listings_failed"] > 0 and not result.complete


def test_a_stored_login_token_goes_only_where_the_user_says(hub: HubServer, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "hf-home").mkdir(exist_ok=True)
    (tmp_path / "hf-home" / "token").write_text(STORED_TOKEN)
    crawl([ROOT], tmp_path / "plain", progress=False)
    assert hub.log and not any(e.authorized for e in hub.log), "a stored token is not sent to another host"

    hub.log.clear()
    crawl([ROOT], tmp_path / "asked", token_for_endpoint=True, progress=False)
    assert {e.authorization for e in hub.log} == {f"Bearer {STORED_TOKEN}"}

    hub.log.clear()
    monkeypatch.setenv("HF_TOKEN", "hf_from_the_environment")
    crawl([ROOT], tmp_path / "env", progress=False)
    assert {e.authorization for e in hub.log} == {"Bearer hf_from_the_environment"}
    hub.log.clear()  # the fixture checks that no token was sent: these were asked for


def test_which_hosts_get_the_stored_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    point_hf_at(monkeypatch, tmp_path, "http://127.0.0.1:9")
    (tmp_path / "hf-home").mkdir()
    (tmp_path / "hf-home" / "token").write_text(STORED_TOKEN)
    sent = {url: resolve_token(url, None) for url in (
        "https://huggingface.co", "https://hf.co/", "http://huggingface.co", "https://huggingface.co.evil.example",
        "https://evil.example/huggingface.co", "https://huggingface.co:8443", "http://127.0.0.1:9")}
    assert sent == {"https://huggingface.co": STORED_TOKEN, "https://hf.co/": STORED_TOKEN,
                    "http://huggingface.co": None, "https://huggingface.co.evil.example": None,
                    "https://evil.example/huggingface.co": None, "https://huggingface.co:8443": None,
                    "http://127.0.0.1:9": None}
    assert resolve_token("http://127.0.0.1:9", False, token_for_endpoint=True) is None


# ---------------------------------------------------------------------------------------------------------------
# Case 6: deadlines and pacing headers
# ---------------------------------------------------------------------------------------------------------------


def test_a_server_trickling_a_byte_at_a_time_is_cut_off_by_the_request_deadline(hub: HubServer,
                                                                                tmp_path: Path) -> None:
    hub.inject(*["trickle"] * 20)
    state = tmp_path / "state"
    # Each byte comes well within the read timeout: only a deadline on the whole request ends it.
    limits = Limits(read_timeout=0.5, request_deadline=0.6, max_tries=8, backoff=0.01)
    with pytest.raises(CrawlInterrupted) as stopped:
        HubCrawl([ROOT], state_dir=state, limits=limits, progress=False).harvest()
    message = str(stopped.value)
    assert f"GET {hub.url}/api/models/{ROOT}: no complete answer within the 0.6 s request deadline " \
           "(--request-deadline), 1 try" in message
    assert "run the same crawl again to resume" in message
    hub.revive()
    assert HubCrawl([ROOT], state_dir=state, progress=False).harvest().records, "resumable"


def test_a_server_that_never_answers_is_given_up_at_the_request_deadline_not_after_every_try(
        hub: HubServer, tmp_path: Path) -> None:
    hub.slow_seconds = 3.0
    hub.inject(*["slow"] * 8)
    limits = Limits(read_timeout=0.3, request_deadline=0.5, max_tries=8, backoff=0.01)
    with pytest.raises(CrawlInterrupted, match=rf"GET {hub.url}/api/models/{ROOT}: no data for 0.3 s; no complete "
                                               r"answer within the 0.5 s request deadline \(--request-deadline\), "
                                               "2 tries"):
        HubCrawl([ROOT], state_dir=tmp_path / "state", limits=limits, progress=False).harvest()


def test_the_crawl_deadline_stops_a_crawl_in_a_resumable_state(hub: HubServer, tmp_path: Path) -> None:
    hub.inject(*["trickle"] * 20)
    # 2 s: enough for the first request to start on a loaded machine, far less than the trickle's answer
    with pytest.raises(CrawlInterrupted, match=r"the crawl's 2 s deadline \(--deadline\) passed; last request: "
                                               rf"GET {hub.url}/api/models/{ROOT}.*run the same crawl again"):
        HubCrawl([ROOT], state_dir=tmp_path / "state", limits=Limits(deadline=2, read_timeout=5),
                 progress=False).harvest()
    assert len(hub.log) == 1, "one attempt, cut off by the crawl's deadline"


@pytest.mark.parametrize(("header", "stops", "sent"), [
    ('"api";r=0;t=100000000', "asks to wait 100000000 s", 1),
    ('"api";r=0;t=' + "9" * 400, "asks to wait inf s", 1),
    ('"api";r=1;t=100000000', "asks to wait 50000000 s", 2),  # one request left: sent, then the window's rest
    ('"api";r=0;t=1e20', None, 0),
    ('"api";r=0;t=-5', None, 0),
    ('"api";r=x;t=', None, 0),
    ("garbage;;==;", None, 0),
    ('"api";r=0;t=1e20' * 200, None, 0),
])
def test_pacing_headers_are_clamped_by_max_wait_and_parsed_defensively(hub: HubServer, tmp_path: Path, header: str,
                                                                       stops: str | None, sent: int) -> None:
    hub.extra_headers = {"RateLimit": header}
    crawler = HubCrawl([ROOT], state_dir=tmp_path / "state", limits=Limits(max_wait=30), progress=False)
    if stops is None:
        assert len(crawler.harvest().records) == 4, "a header that is not two integers is ignored"
        return
    with pytest.raises(CrawlInterrupted, match=rf"{stops}, over the 30 s limit \(--max-wait\).*resume"):
        crawler.harvest()
    assert len(hub.log) == sent, "the request that would wait is not sent"


def test_the_waits_a_server_asks_of_one_request_add_up_to_max_wait(hub: HubServer, tmp_path: Path) -> None:
    hub.inject(*["429-after-1"] * 8)
    with pytest.raises(CrawlInterrupted, match=r"the server asks to wait 1 s more, after 1 s, over the 1.5 s limit "
                                               r"\(--max-wait\)"):
        HubCrawl([ROOT], state_dir=tmp_path / "state", limits=Limits(max_wait=1.5), progress=False).harvest()
    assert len(hub.log) == 2


@pytest.mark.parametrize("option", [["--deadline", "inf"], ["--max-wait", "1e300"], ["--request-deadline", "1e12"],
                                    ["--timeout", "1e20"]])
def test_times_beyond_any_clock_are_a_usage_error(option: list[str], tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from ptmgraph.cli import app

    result = CliRunner().invoke(app, ["crawl", "--seed", ROOT, "--out", str(tmp_path / "snap"), *option])
    assert result.exit_code == 2
    assert f"{option[0]} must be a number of seconds up to 2,592,000" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_retry_after_beyond_any_clock_stops_cleanly(hub: HubServer, tmp_path: Path) -> None:
    hub.inject("429-after-" + "9" * 40)
    with pytest.raises(CrawlInterrupted, match=r"asks to wait inf s, over the 300 s limit \(--max-wait\)"):
        HubCrawl([ROOT], state_dir=tmp_path / "state", progress=False).harvest()


# ---------------------------------------------------------------------------------------------------------------
# Case 7: budgets, against a server that invents new children on every listing
# ---------------------------------------------------------------------------------------------------------------


@pytest.fixture
def endless(hub: HubServer) -> HubServer:
    hub.invent_children = 3
    return hub


def test_max_models_stops_an_endless_crawl_with_a_partial_snapshot(endless: HubServer, tmp_path: Path) -> None:
    out, state = tmp_path / "snap", tmp_path / "state"
    proc = run_cli("--seed", ROOT, "--out", str(out), "--state-dir", str(state), "--max-models", "40",
                   env=cli_env(endless, tmp_path))
    assert proc.returncode == 3, proc.stderr
    assert "wrote a partial snapshot" in proc.stderr and " 40 models" in proc.stderr
    assert last_line(proc.stderr).startswith("ptmgraph: partial crawl: stopped at --max-models 40; the state "
                                             f"directory {state} is kept")
    assert (state / JOURNAL_NAME).is_file()


def test_max_requests_stops_an_endless_crawl_resumably(endless: HubServer, tmp_path: Path) -> None:
    state = tmp_path / "state"
    with pytest.raises(CrawlInterrupted, match=r"the crawl sent 25 requests, its bound \(--max-requests\).*resume"):
        HubCrawl([ROOT], state_dir=state, limits=Limits(max_requests=25), progress=False).harvest()
    assert endless.request_count == 25
    again = HubCrawl([ROOT], state_dir=state, max_models=60, limits=Limits(max_requests=1000), progress=False)
    assert len(again.harvest().records) == 60 and again.stats["parents_resumed"] > 0


def test_the_journal_bound_stops_an_endless_crawl_resumably(endless: HubServer, tmp_path: Path) -> None:
    state = tmp_path / "state"
    with pytest.raises(CrawlInterrupted, match=r"journal reached its 20,000-byte bound \(--max-journal-bytes\).*"
                                               "a larger --max-journal-bytes to resume"):
        HubCrawl([ROOT], state_dir=state, limits=Limits(max_journal_bytes=20_000), progress=False).harvest()
    size = (state / JOURNAL_NAME).stat().st_size
    assert 10_000 < size <= 20_000
    again = HubCrawl([ROOT], state_dir=state, max_models=200, limits=Limits(max_journal_bytes=10**6), progress=False)
    assert len(again.harvest().records) == 200


# ---------------------------------------------------------------------------------------------------------------
# Case 18: a partial result has an exit code of its own
# ---------------------------------------------------------------------------------------------------------------


def test_a_complete_crawl_exits_0(hub: HubServer, tmp_path: Path) -> None:
    proc = run_cli("--seed", ROOT, "--out", str(tmp_path / "snap"), env=cli_env(hub, tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert last_line(proc.stderr).startswith(f"wrote snapshot {tmp_path / 'snap'}: 4 models from 4 listings")
    assert json.loads((current_files(tmp_path / "snap") / "meta.json").read_text())["crawl"]["complete"] is True


@pytest.mark.parametrize(("body_for", "listings", "records"), [
    ("filter=base_model%3Au%2Fa", 1, 0),  # a child listing that is not a list
    (f"/api/models/{ROOT}?", 0, 1),  # the root's record that is not a record
])
def test_a_crawl_with_failed_listings_or_records_exits_3_and_says_so_last(hub: HubServer, tmp_path: Path,
                                                                          body_for: str, listings: int,
                                                                          records: int) -> None:
    hub.bodies = {body_for: b'{"error": "not what you asked for"}'}
    out = tmp_path / "snap"
    proc = run_cli("--seed", ROOT, "--out", str(out), env=cli_env(hub, tmp_path))
    assert proc.returncode == 3, proc.stderr
    assert "wrote a partial snapshot" in proc.stderr
    said = (f"{listings} listing{'' if listings == 1 else 's'} and {records} record{'' if records == 1 else 's'}")
    assert last_line(proc.stderr) == (f"ptmgraph: partial crawl: {said} could not be read in full "
                                      f"(`ptmgraph problems --snapshot {out}` says why)")
    assert json.loads((current_files(out) / "meta.json").read_text())["crawl"]["complete"] is False
