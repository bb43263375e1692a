"""The look-up cache over time: bounded when a look-up writes it (``PTMGRAPH_CACHE_MAX_AGE``,
``PTMGRAPH_CACHE_MAX_SIZE``), shown and cleared by ``ptmgraph cache``, never touching a file it did not write,
and shared by look-ups of one model running at once (two real processes against the Hub-shaped server).

The served records are tests/test_lookup.py's: a base, its chat finetune, an adapter and a quantization.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hub_server import HubServer
from test_lookup import BASE, CHAT, LORA, environment, hub, ptmgraph, record_requests

__all__ = ["hub"]  # the fixture


def entries(cache: Path) -> dict[str, Path]:
    """The cache's look-up folders (``lookup/HOST/NEED/KEY``, the README's layout), by KEY's model part."""
    return {p.name.rsplit("-", 1)[0]: p for p in (cache / "lookup").glob("*/*/*")
            if p.is_dir() and not p.name.endswith(".crawl")}


def size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def key(model: str) -> str:
    return model.replace("/", "--")


def test_a_look_up_removes_the_look_ups_older_than_the_cache_max_age(hub: HubServer, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert ptmgraph("ancestry", LORA, endpoint=hub.url, cache=cache).returncode == 0
    assert list(entries(cache)) == [key(LORA)]
    done = ptmgraph("ancestry", CHAT, endpoint=hub.url, cache=cache, PTMGRAPH_CACHE_MAX_AGE="0")
    assert done.returncode == 0, done.stderr
    assert list(entries(cache)) == [key(CHAT)]  # the older one went; the one just written stays
    assert "removed 1 older look-up from the cache (PTMGRAPH_CACHE_MAX_AGE=0, PTMGRAPH_CACHE_MAX_SIZE=1G)" \
        in done.stderr
    again = ptmgraph("ancestry", CHAT, endpoint=hub.url, cache=cache)
    assert again.returncode == 0 and "from the look-up cache" in again.stderr  # a read prunes nothing


def test_past_the_cache_max_size_the_oldest_look_ups_go_first(hub: HubServer, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    for model in (LORA, CHAT):
        assert ptmgraph("ancestry", model, endpoint=hub.url, cache=cache).returncode == 0
    held = {model: size(path) for model, path in entries(cache).items()}
    bound = held[key(LORA)] + held[key(CHAT)]  # what the two hold: a third takes it past
    done = ptmgraph("ancestry", BASE, endpoint=hub.url, cache=cache, PTMGRAPH_CACHE_MAX_SIZE=str(bound))
    assert done.returncode == 0, done.stderr
    now = entries(cache)
    assert size(now[key(BASE)]) <= held[key(LORA)]  # one model against three: removing the oldest is enough
    assert sorted(now) == sorted([key(CHAT), key(BASE)])
    one_byte = ptmgraph("ancestry", "nobody/nothing", endpoint=hub.url, cache=cache, PTMGRAPH_CACHE_MAX_SIZE="1")
    assert one_byte.returncode == 2  # not served: unknown; the Hub's answer (not found) is what was cached
    assert list(entries(cache)) == [key("nobody/nothing")]  # the one just written stays, even past the bound


def test_a_bad_cache_bound_is_refused_before_any_request(hub: HubServer, tmp_path: Path) -> None:
    done = ptmgraph("ancestry", LORA, endpoint=hub.url, cache=tmp_path / "cache", PTMGRAPH_CACHE_MAX_SIZE="lots")
    assert done.returncode == 1
    assert done.stderr.strip() == ("ptmgraph: error: PTMGRAPH_CACHE_MAX_SIZE: not a size (bytes, or a number with "
                                   "K, M, G or T: 500M, 1G): 'lots'")
    assert hub.request_count == 0


def plant(cache: Path) -> list[Path]:
    """Files a user keeps in the folder given as PTMGRAPH_CACHE, some where look-ups are kept, some named
    like them: none is the cache's."""
    place = next((cache / "lookup").glob("*/ancestors"))
    planted = [cache / "notes.txt", cache / "lookup" / "mine.txt", place / "mine.txt",
               place / "my-folder-0123abcd" / "data.bin", place / "other.lock", cache / "lookup" / "x-0123abcd" / "f"]
    for path in planted:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("the user's")
    return planted


def cache_command(*args: str, cache: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return ptmgraph("cache", *args, endpoint="http://127.0.0.1:9", cache=cache, **env)


def test_cache_info_list_and_dir_say_where_the_look_ups_are_and_what_they_hold(hub: HubServer, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert cache_command("list", cache=cache).stdout == f"no look-ups kept in {cache}\n"
    assert ptmgraph("ancestry", LORA, endpoint=hub.url, cache=cache).returncode == 0
    assert ptmgraph("impact", BASE, endpoint=hub.url, cache=cache).returncode == 0
    total = sum(size(p) for p in entries(cache).values())
    plant(cache)
    info = cache_command("info", cache=cache)
    assert info.returncode == 0, info.stderr
    lines = info.stdout.splitlines()
    assert lines[0] == f"look-up cache: {cache}"
    assert lines[1].startswith("look-ups: 2 (") and f"{total / 1024:.1f} KiB" in lines[1]
    assert lines[-1] == "bounds: PTMGRAPH_CACHE_MAX_AGE=30d, PTMGRAPH_CACHE_MAX_SIZE=1G (pruned whenever a " \
                        "look-up is written)"
    listed = cache_command("list", cache=cache).stdout.splitlines()
    assert len(listed) == 2
    assert "ancestors" in listed[0] and LORA in listed[0] and hub.url in listed[0]
    assert "descendants" in listed[1] and BASE in listed[1]
    assert cache_command("dir", cache=cache).stdout == f"{cache}\n"
    bounded = cache_command("info", cache=cache, PTMGRAPH_CACHE_MAX_AGE="7d")
    assert "PTMGRAPH_CACHE_MAX_AGE=7d" in bounded.stdout


def test_cache_clear_removes_the_look_ups_and_nothing_else(hub: HubServer, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    for model in (LORA, CHAT):
        assert ptmgraph("ancestry", model, endpoint=hub.url, cache=cache).returncode == 0
    planted = plant(cache)
    touched = entries(cache)[key(CHAT)] / "added-by-hand.txt"  # a look-up holding a file it did not write
    touched.write_text("the user's")
    young = cache_command("clear", "--older-than", "1h", cache=cache)
    assert young.returncode == 0 and young.stdout.startswith("removed 0 look-ups (0 B) from ")
    done = cache_command("clear", cache=cache)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("removed 1 look-up (") and done.stdout.rstrip().endswith(f"from {cache}")
    assert sorted(entries(cache)) == [key(CHAT), "my-folder"]  # CHAT's kept whole: not only what a look-up wrote
    assert touched.read_text() == "the user's"
    assert all(p.read_text() == "the user's" for p in planted)
    assert cache_command("info", cache=cache).stdout.splitlines()[1].startswith("look-ups: 0 (")


def test_cache_clear_keeps_a_look_up_another_process_is_using(hub: HubServer, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert ptmgraph("ancestry", LORA, endpoint=hub.url, cache=cache).returncode == 0
    (entry,) = entries(cache).values()
    with open(entry.with_name(entry.name + ".lock"), "a+b") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_SH)  # what a look-up answering from it holds
        done = cache_command("clear", cache=cache)
    assert done.returncode == 0, done.stderr
    assert "removed 0 look-ups" in done.stdout and "kept 1 look-up: in use by another ptmgraph process" in done.stdout
    assert list(entries(cache)) == [key(LORA)]


def test_cache_clear_keeps_a_look_up_a_query_is_reading(hub: HubServer, tmp_path: Path) -> None:
    from ptmgraph.snapshot import open_snapshot

    cache = tmp_path / "cache"
    assert ptmgraph("ancestry", LORA, endpoint=hub.url, cache=cache).returncode == 0
    (entry,) = entries(cache).values()
    reading = open_snapshot(entry)  # as `ptmgraph ... --snapshot ENTRY` holds it while it reads
    kept = cache_command("clear", cache=cache)
    assert "kept 1 look-up" in kept.stdout and list(entries(cache)) == [key(LORA)]
    assert reading.models.height == 3  # still readable
    del reading
    done = cache_command("clear", cache=cache)
    assert done.stdout.startswith("removed 1 look-up (") and not entries(cache)


def test_a_cache_clear_with_no_cache_creates_nothing(tmp_path: Path) -> None:
    done = cache_command("clear", cache=tmp_path / "cache")
    assert done.returncode == 0 and done.stdout.startswith("removed 0 look-ups")
    assert not (tmp_path / "cache").exists()


def test_cache_refuses_a_bad_age_and_an_older_than_without_clear(tmp_path: Path) -> None:
    bad = cache_command("clear", "--older-than", "soon", cache=tmp_path / "cache")
    assert bad.returncode == 2 and "--older-than" in bad.stderr and "'soon'" in bad.stderr
    misplaced = cache_command("info", "--older-than", "1d", cache=tmp_path / "cache")
    assert misplaced.returncode == 2 and "--older-than goes with clear" in misplaced.stderr


def _started(*args: str, endpoint: str, cache: Path, stderr: Path) -> subprocess.Popen[str]:
    environ = environment(endpoint, cache, PTMGRAPH_LOOKUP_TIMEOUT="600")  # the held answer takes what it needs
    return subprocess.Popen([sys.executable, "-m", "ptmgraph", *args], stdout=subprocess.PIPE, text=True,
                            stderr=stderr.open("w"), env=environ)


def _until(condition: Callable[[], Any], what: str) -> None:
    """Wait for ``condition`` (a bound, not a timing assertion: it fails only when it never comes)."""
    give_up = time.monotonic() + 120
    while not condition():
        assert time.monotonic() < give_up, what
        time.sleep(0.05)


def test_two_look_ups_of_one_model_at_once_both_answer_and_fetch_it_once(hub: HubServer, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    hub.inject("hold", match=f"/api/models/{LORA}")  # the first look-up stays in its first request
    first = _started("ancestry", LORA, endpoint=hub.url, cache=cache, stderr=tmp_path / "first.err")
    _until(lambda: hub.request_count == 1, "the first look-up's request")
    second = _started("ancestry", LORA, endpoint=hub.url, cache=cache, stderr=tmp_path / "second.err")
    _until(lambda: "waiting for another ptmgraph look-up" in (tmp_path / "second.err").read_text(),
           "the second look-up waiting")
    hub.release()
    first_out, _ = first.communicate(timeout=300)
    second_out, _ = second.communicate(timeout=300)
    first_err, second_err = (tmp_path / "first.err").read_text(), (tmp_path / "second.err").read_text()
    assert first.returncode == 0, first_err
    assert second.returncode == 0, second_err
    assert second_out == first_out and CHAT in first_out and BASE in first_out
    assert record_requests(hub) == [LORA, CHAT, BASE]  # fetched once, by the first
    assert "looked up on" in first_err and "from the look-up cache" in second_err
    assert f"waiting for another ptmgraph look-up of {LORA} (" in second_err
    assert not list(cache.rglob("*.lock"))  # no lock file outlives the look-ups


_ON_A_READ_ONLY_CACHE = """
set -u
cache=$1
shift
mount --bind "$cache" "$cache" && mount -o remount,bind,ro "$cache" || exit 77
touch "$cache/probe" 2> /dev/null && exit 77
"$@"
"""


def test_a_read_only_cache_still_answers_what_it_holds(hub: HubServer, tmp_path: Path) -> None:
    import shutil

    cache = tmp_path / "cache"
    first = ptmgraph("ancestry", LORA, endpoint=hub.url, cache=cache)
    assert first.returncode == 0, first.stderr
    if shutil.which("unshare") is None:
        pytest.skip("no unshare(1) to mount the cache read-only")
    namespace = ["unshare", "--mount"] if os.geteuid() == 0 else ["unshare", "--user", "--map-root-user", "--mount"]
    done = subprocess.run([*namespace, "sh", "-c", _ON_A_READ_ONLY_CACHE, "sh", str(cache), sys.executable, "-m",
                           "ptmgraph", "ancestry", LORA], capture_output=True, text=True,
                          env=environment(hub.url, cache), timeout=120)
    if done.returncode == 77 or "unshare" in done.stderr:
        pytest.skip(f"cannot mount the cache read-only here: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr
    assert done.stdout == first.stdout and "from the look-up cache" in done.stderr
    assert hub.request_count == 3
