"""A model the snapshot has no record of is looked up on the Hub (here the Hub-shaped test server), answered,
and kept in the user's cache; offline, or with the server failing, slow or absent, the answer says what the
snapshot covers and how to crawl the model.

The server serves records written here (none of them is in the bundled snapshot): a base, its chat
finetune, and on the finetune an adapter and a GGUF quantization.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hub_server import HubData, HubServer

from ptmgraph.graph import LineageGraph
from ptmgraph.lookup import cache_root, parse_age

BASE = "acme-labs/base-13b"
CHAT = "acme-labs/chat-13b"
LORA = "tinker/chat-13b-lora"
GGUF = "quant/chat-13b-GGUF"


def _record(model: str, base: str | None = None, relation: str = "finetune",
            files: tuple[str, ...] = ("model.safetensors",)) -> dict[str, Any]:
    card: dict[str, Any] = {"license": "apache-2.0"}
    tags = []
    if base is not None:
        card["base_model"] = base
        tags = [f"base_model:{base}", f"base_model:{relation}:{base}"]
    return {"id": model, "author": model.split("/")[0], "tags": tags, "cardData": card, "downloads": 10,
            "createdAt": "2026-01-02T00:00:00.000Z", "siblings": [{"rfilename": f} for f in files]}


RECORDS = {r["id"]: r for r in [
    _record(BASE),
    _record(CHAT, BASE),
    _record(LORA, CHAT, "adapter", ("adapter_model.safetensors", "adapter_config.json")),
    _record(GGUF, CHAT, "quantized", ("chat-13b.Q4_K_M.gguf",)),
]}


@pytest.fixture
def hub() -> Any:
    with HubServer(HubData(records={k: dict(v) for k, v in RECORDS.items()})) as server:
        yield server


def environment(endpoint: str, cache: Path, **env: str) -> dict[str, str]:
    """A user's environment pointed at ``endpoint``, online, with the look-up cache in ``cache``."""
    environ = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")}
    environ.update({"HF_ENDPOINT": endpoint, "PTMGRAPH_CACHE": str(cache), "HF_HOME": str(cache.parent / "hf-home"),
                    "HF_HUB_DISABLE_TELEMETRY": "1", "COLUMNS": "120", "NO_COLOR": "1", **env})
    return environ


def ptmgraph(*args: str, endpoint: str, cache: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The command line as a user runs it, pointed at ``endpoint``, online, with its cache in ``cache``."""
    return subprocess.run([sys.executable, "-m", "ptmgraph", *args], capture_output=True, text=True,
                          env=environment(endpoint, cache, **env), timeout=120, check=False)


def record_requests(hub: HubServer, since: int = 0) -> list[str]:
    """The models whose record was asked for (``GET /api/models/ID``), in order."""
    return [e.path.split("?")[0].removeprefix("/api/models/") for e in hub.requests(method="GET", since=since)
            if e.path.startswith("/api/models/")]


def test_none_of_the_served_models_is_in_the_bundled_snapshot(bundled: LineageGraph) -> None:
    assert not [m for m in RECORDS if m in bundled]


def test_ancestry_of_a_model_absent_from_the_snapshot_is_fetched_hop_by_hop(hub: HubServer, tmp_path: Path) -> None:
    done = ptmgraph("ancestry", LORA, "-f", "json", endpoint=hub.url, cache=tmp_path / "cache")
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert [(r["id"], r["relation"], r["depth"]) for r in answer["rows"]] == [(CHAT, "adapter", 1),
                                                                               (BASE, "finetune", 2)]
    assert answer["roots"] == [BASE]
    assert record_requests(hub) == [LORA, CHAT, BASE]  # one record per hop, nothing else
    assert hub.request_count == 3
    assert f"looked up on {hub.url} just now (3 HTTP requests)" in done.stderr
    assert answer["provenance"]["snapshot"].startswith(str(tmp_path / "cache"))
    assert answer["provenance"]["crawl"]["seeds"] == [LORA]


def test_a_second_question_is_answered_from_the_cache_without_a_request(hub: HubServer, tmp_path: Path) -> None:
    first = ptmgraph("ancestry", LORA, endpoint=hub.url, cache=tmp_path / "cache")
    assert first.returncode == 0, first.stderr
    asked = hub.request_count
    again = ptmgraph("ancestry", LORA, endpoint=hub.url, cache=tmp_path / "cache")
    info = ptmgraph("info", LORA, "-f", "json", endpoint=hub.url, cache=tmp_path / "cache")
    assert again.returncode == info.returncode == 0, again.stderr + info.stderr
    assert hub.request_count == asked
    assert again.stdout == first.stdout
    assert not list((tmp_path / "cache").rglob("*.lock"))  # the readers' lock went with them
    assert "from the look-up cache" in again.stderr and " s ago" in again.stderr
    assert [(r["id"], r["direction"]) for r in json.loads(info.stdout)["rows"]] == [(CHAT, "parent")]


def test_max_age_zero_fetches_again_and_a_longer_one_reuses(hub: HubServer, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert ptmgraph("ancestry", LORA, endpoint=hub.url, cache=cache).returncode == 0
    assert ptmgraph("ancestry", LORA, "--max-age", "12h", endpoint=hub.url, cache=cache).returncode == 0
    assert hub.request_count == 3
    refetched = ptmgraph("ancestry", LORA, "--max-age", "0", endpoint=hub.url, cache=cache)
    assert refetched.returncode == 0, refetched.stderr
    assert record_requests(hub, since=3) == [LORA, CHAT, BASE]
    assert "just now" in refetched.stderr


def test_a_bad_max_age_is_a_usage_error(tmp_path: Path) -> None:
    done = ptmgraph("ancestry", LORA, "--max-age", "soon", endpoint="http://127.0.0.1:9", cache=tmp_path / "c")
    assert done.returncode == 2
    assert "--max-age" in done.stderr and "'soon'" in done.stderr


@pytest.mark.parametrize("offline", [["--offline"], []], ids=["--offline", "HF_HUB_OFFLINE=1"])
def test_offline_makes_no_request_and_says_what_the_snapshot_covers(hub: HubServer, tmp_path: Path,
                                                                     offline: list[str]) -> None:
    env = {} if offline else {"HF_HUB_OFFLINE": "1"}
    done = ptmgraph("ancestry", LORA, *offline, endpoint=hub.url, cache=tmp_path / "cache", **env)
    assert done.returncode == 2  # an unknown model (README, exit codes)
    assert hub.request_count == 0
    message = done.stderr
    assert f"unknown model '{LORA}'" in message
    assert f"offline ({'--offline' if offline else 'HF_HUB_OFFLINE=1'})" in message
    # what the bundled snapshot covers, as its meta.json says: sources, date, and seeds (an ingest has none)
    assert "covers Hugging Face Hub sample, 2025" in message and "(written 20" in message
    assert "seeds: none" in message
    assert f"ptmgraph crawl --seed {LORA} --ancestors --max-depth 0 --out DIR" in message
    assert not (tmp_path / "cache").exists()


def test_offline_answers_from_the_cache_whatever_its_age(hub: HubServer, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert ptmgraph("ancestry", LORA, endpoint=hub.url, cache=cache).returncode == 0
    done = ptmgraph("ancestry", LORA, "--offline", "--max-age", "0", "-f", "csv", endpoint=hub.url, cache=cache)
    assert done.returncode == 0, done.stderr
    assert hub.request_count == 3
    assert [line.split(",")[0] for line in done.stdout.splitlines()[1:]] == [CHAT, BASE]
    assert "older than --max-age 0" in done.stderr and "offline: --offline" in done.stderr


def test_when_a_fetch_fails_the_older_cached_answer_is_given(hub: HubServer, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = ptmgraph("ancestry", LORA, endpoint=hub.url, cache=cache)
    assert first.returncode == 0, first.stderr
    hub.die_after(0, status=503)
    done = ptmgraph("ancestry", LORA, "--max-age", "0", endpoint=hub.url, cache=cache, PTMGRAPH_LOOKUP_TIMEOUT="1")
    assert done.returncode == 0, done.stderr
    assert done.stdout == first.stdout
    assert "older than --max-age 0" in done.stderr and f"the look-up on {hub.url} failed: " in done.stderr


def _closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


@pytest.mark.parametrize("fault", ["503", "slow", "absent"])
def test_a_failing_slow_or_absent_server_gives_the_coverage_message(hub: HubServer, tmp_path: Path,
                                                                    fault: str) -> None:
    endpoint = hub.url
    if fault == "503":
        hub.die_after(0, status=503)
    elif fault == "slow":
        hub.inject(*["slow"] * 20)
    else:
        endpoint = _closed_port()
    # the bound a look-up waits for one request is PTMGRAPH_LOOKUP_TIMEOUT (15 s by default): 1 s here
    done = ptmgraph("ancestry", LORA, endpoint=endpoint, cache=tmp_path / "cache", PTMGRAPH_LOOKUP_TIMEOUT="1")
    assert done.returncode == 2, done.stderr
    assert f"the look-up on {endpoint} failed: " in done.stderr
    said = {"503": "503", "slow": "request deadline (PTMGRAPH_LOOKUP_TIMEOUT)", "absent": "onnect"}[fault]
    assert said in done.stderr
    assert "--request-deadline" not in done.stderr  # a crawl option: the look-up commands have none
    assert "covers Hugging Face Hub sample, 2025" in done.stderr
    assert f"ptmgraph crawl --seed {LORA} --ancestors --max-depth 0 --out DIR" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    if fault != "absent":
        assert 1 <= hub.request_count <= 4  # at most 4 tries


def test_a_model_the_hub_does_not_serve_is_unknown_and_says_so(hub: HubServer, tmp_path: Path) -> None:
    done = ptmgraph("ancestry", "nobody/nothing", endpoint=hub.url, cache=tmp_path / "cache")
    assert done.returncode == 2
    assert f"{hub.url} does not serve it either (nobody/nothing: not_found" in done.stderr
    assert "ptmgraph crawl" not in done.stderr  # nothing to crawl


def test_a_typo_keeps_the_closest_ids_of_the_snapshot(hub: HubServer, tmp_path: Path) -> None:
    done = ptmgraph("ancestry", "google/gemma-7c", endpoint=hub.url, cache=tmp_path / "cache")
    assert done.returncode == 2
    assert "did you mean google/gemma-7b" in done.stderr


def test_impact_fetches_the_descendants_and_says_when_max_models_cuts_them(hub: HubServer, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cut = ptmgraph("impact", BASE, "--max-models", "2", "-f", "json", endpoint=hub.url, cache=cache)
    assert cut.returncode == 0, cut.stderr
    assert [r["id"] for r in json.loads(cut.stdout)["rows"]] == [CHAT]
    assert "cut at --max-models 2: there are more descendants" in cut.stderr
    whole = ptmgraph("impact", BASE, "-f", "json", endpoint=hub.url, cache=cache)
    assert whole.returncode == 0, whole.stderr
    rows = json.loads(whole.stdout)["rows"]
    assert sorted((r["id"], r["relation"]) for r in rows) == [(CHAT, "finetune"), (GGUF, "quantized"),
                                                              (LORA, "adapter")]
    assert "cut" not in whole.stderr
    assert record_requests(hub) == [BASE]  # the larger bound resumed the kept journal: the seed was not read again


def test_a_stale_cut_answer_is_fetched_anew_not_resumed(hub: HubServer, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert ptmgraph("impact", BASE, "--max-models", "2", endpoint=hub.url, cache=cache).returncode == 0
    again = ptmgraph("impact", BASE, "--max-age", "0", "-f", "json", endpoint=hub.url, cache=cache)
    assert again.returncode == 0, again.stderr
    assert len(json.loads(again.stdout)["rows"]) == 3
    assert record_requests(hub) == [BASE, BASE]  # too old to go on from: a new crawl reads the seed again


def test_risk_of_a_model_absent_from_the_snapshot_looks_up_its_descendants(hub: HubServer, tmp_path: Path) -> None:
    done = ptmgraph("risk", "--compromised", CHAT, "-f", "json", endpoint=hub.url, cache=tmp_path / "cache")
    assert done.returncode == 1, done.stderr  # something is affected
    assert {(r["id"], r["dependency"]) for r in json.loads(done.stdout)["rows"]} == {(LORA, "runtime"),
                                                                                   (GGUF, "inherited")}


def test_check_of_a_model_absent_from_the_snapshot_looks_up_its_ancestry(hub: HubServer, tmp_path: Path) -> None:
    done = ptmgraph("check", LORA, "--compromised", BASE, "-f", "json", endpoint=hub.url, cache=tmp_path / "cache")
    assert done.returncode == 1, done.stderr
    assert [(r["finding"], r["ancestor"]) for r in json.loads(done.stdout)["rows"]
            if r["finding"] == "compromised"] == [("compromised", BASE)]
    assert record_requests(hub) == [LORA, CHAT, BASE]


def test_a_model_in_the_snapshot_is_never_looked_up(hub: HubServer, tmp_path: Path) -> None:
    done = ptmgraph("ancestry", "AmberYifan/Gemma-7B-sft-SPIN-Gemma-2-27B", endpoint=hub.url,
                    cache=tmp_path / "cache")
    assert done.returncode == 0
    assert hub.request_count == 0 and done.stderr == ""


def test_a_model_known_only_from_references_is_answered_by_the_snapshot_offline(tmp_path: Path) -> None:
    done = ptmgraph("ancestry", "mradermacher/Humpback_Myx-GGUF", "--offline", endpoint="http://127.0.0.1:9",
                    cache=tmp_path / "cache")
    assert done.returncode == 0, done.stderr
    assert "Tim419/Humpback_Myx" in done.stdout
    assert "the snapshot has no record, only references; not looked up: offline (--offline)" in done.stderr


def test_the_token_goes_to_the_endpoint_and_nowhere_else(hub: HubServer, tmp_path: Path) -> None:
    token = "hf_lookupSECRET123"
    cache = tmp_path / "cache"
    done = ptmgraph("ancestry", LORA, "-f", "json", endpoint=hub.url, cache=cache, HF_TOKEN=token)
    assert done.returncode == 0, done.stderr
    assert all(e.authorization == f"Bearer {token}" for e in hub.requests())
    assert token not in done.stdout + done.stderr
    written = [p for p in cache.rglob("*") if p.is_file()]
    assert written and not [p for p in written if token.encode() in p.read_bytes()]


def test_the_stored_login_token_is_not_sent_to_another_endpoint(hub: HubServer, tmp_path: Path) -> None:
    hf_home = tmp_path / "hf-home"
    hf_home.mkdir()
    (hf_home / "token").write_text("hf_storedLOGIN456")  # where `hf auth login` keeps it
    done = ptmgraph("ancestry", LORA, endpoint=hub.url, cache=tmp_path / "cache", HF_HOME=str(hf_home))
    assert done.returncode == 0, done.stderr
    assert hub.request_count == 3 and not [e for e in hub.requests() if e.authorized]


def test_the_cache_is_ptmgraph_cache_then_xdg_cache_home_then_the_home_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("PTMGRAPH_CACHE")
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.delenv("HF_HOME", raising=False)
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    assert cache_root() == tmp_path / "home" / ".cache" / "ptmgraph"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root() == tmp_path / "xdg" / "ptmgraph"
    monkeypatch.setenv("PTMGRAPH_CACHE", str(tmp_path / "mine"))
    assert cache_root() == tmp_path / "mine"


def test_the_cache_is_never_written_into_hf_home(hub: HubServer, tmp_path: Path) -> None:
    hf_home = tmp_path / "cache"  # what ptmgraph() gives as PTMGRAPH_CACHE
    done = ptmgraph("ancestry", LORA, endpoint=hub.url, cache=hf_home, HF_HOME=str(hf_home))
    assert done.returncode == 1
    assert "huggingface_hub's folder" in done.stderr and "PTMGRAPH_CACHE" in done.stderr
    assert hub.request_count == 0 and not hf_home.exists()


@pytest.mark.parametrize(("text", "seconds"), [("3600", 3600), ("12h", 43200), ("7d", 604800), ("0", 0),
                                               ("90s", 90), ("30m", 1800), ("1w", 604800)])
def test_ages_are_seconds_or_a_number_with_a_unit(text: str, seconds: float) -> None:
    assert parse_age(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "-1", "12y", "1e3", "h"])
def test_other_ages_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not an age"):
        parse_age(text)


def test_a_server_asking_to_wait_too_long_names_what_the_user_can_change(hub: HubServer, tmp_path: Path) -> None:
    hub.inject("429-after-100")
    done = ptmgraph("ancestry", LORA, endpoint=hub.url, cache=tmp_path / "cache")
    assert done.returncode == 2
    assert "asks to wait 100 s, over the 30 s limit (a look-up's own bound; `ptmgraph crawl` takes --max-wait)" \
        in done.stderr
    assert f"ptmgraph crawl --seed {LORA} --ancestors --max-depth 0 --out DIR" in done.stderr
    assert hub.request_count == 1


def test_why_looks_up_a_model_absent_from_the_snapshot(hub: HubServer, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    done = ptmgraph("why", LORA, BASE, "-f", "json", endpoint=hub.url, cache=cache)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert [(r["child"], r["base"], r["relation"]) for r in answer["rows"]] == [(LORA, CHAT, "adapter"),
                                                                                (CHAT, BASE, "finetune")]
    assert record_requests(hub) == [LORA, CHAT, BASE]
    assert f"looked up on {hub.url} just now (3 HTTP requests)" in done.stderr
    again = ptmgraph("why", LORA, CHAT, endpoint=hub.url, cache=cache)  # the same ancestry, from the cache
    assert again.returncode == 0, again.stderr
    assert hub.request_count == 3 and "from the look-up cache" in again.stderr


def test_why_of_a_looked_up_model_and_a_model_outside_its_ancestry_is_no_path(hub: HubServer, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    unrelated = ptmgraph("why", LORA, "google/gemma-7b", endpoint=hub.url, cache=cache)  # in the bundled snapshot
    assert unrelated.returncode == 1  # no path (README, exit codes)
    assert f"{LORA} does not derive from google/gemma-7b" in unrelated.stderr
    typo = ptmgraph("why", LORA, "google/gemma-7c", endpoint=hub.url, cache=cache)
    assert typo.returncode == 2 and "did you mean google/gemma-7b" in typo.stderr
    assert record_requests(hub) == [LORA, CHAT, BASE]


def test_why_offline_makes_no_request(hub: HubServer, tmp_path: Path) -> None:
    done = ptmgraph("why", LORA, BASE, "--offline", endpoint=hub.url, cache=tmp_path / "cache")
    assert done.returncode == 2
    assert "not looked up: offline (--offline)" in done.stderr
    assert hub.request_count == 0


@pytest.mark.parametrize("value", ["1", "true", "YES", "on"])
def test_crawl_refuses_when_hf_hub_offline_is_set(hub: HubServer, tmp_path: Path, value: str) -> None:
    done = ptmgraph("crawl", "--seed", BASE, "--out", str(tmp_path / "snap"), endpoint=hub.url,
                    cache=tmp_path / "cache", HF_HUB_OFFLINE=value)
    assert done.returncode == 1
    assert done.stderr == (f"ptmgraph: error: HF_HUB_OFFLINE={value} forbids any request to the Hub, and a crawl "
                           "makes them; unset HF_HUB_OFFLINE to crawl\n")
    assert hub.request_count == 0 and not (tmp_path / "snap").exists()
    update = ptmgraph("crawl", "--update", str(tmp_path / "snap"), endpoint=hub.url, cache=tmp_path / "cache",
                      HF_HUB_OFFLINE=value)
    assert update.returncode == 1 and "HF_HUB_OFFLINE" in update.stderr and hub.request_count == 0


def test_crawl_runs_when_hf_hub_offline_is_off(hub: HubServer, tmp_path: Path) -> None:
    done = ptmgraph("crawl", "--seed", BASE, "--max-depth", "0", "--no-progress", "--out", str(tmp_path / "snap"),
                    endpoint=hub.url, cache=tmp_path / "cache", HF_HUB_OFFLINE="0")
    assert done.returncode == 0, done.stderr
    assert record_requests(hub) == [BASE]
