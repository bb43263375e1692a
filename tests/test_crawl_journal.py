"""The crawl journal keeps every completed step in the file at once and syncs it in groups."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ptmgraph.sources import crawl_journal
from ptmgraph.sources.crawl_journal import JOURNAL_NAME, Journal


def test_every_appended_line_is_in_the_file_before_the_journal_syncs_or_closes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(crawl_journal.os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd))[1])
    journal = Journal(tmp_path / "state")
    journal.open({"--root": ["org/a"]})
    at_open = len(synced)
    for n in range(200):
        journal.append({"kind": "children", "parent": f"org/m{n}", "ids": [], "complete": True})
        # What a crawl killed right now leaves: the file as another process reads it.
        lines = (tmp_path / "state" / JOURNAL_NAME).read_text().splitlines()
        assert json.loads(lines[-1])["parent"] == f"org/m{n}" and len(lines) == n + 2  # the header first
    during = len(synced) - at_open
    journal.close()
    assert during < 200 / 10, f"{during} fsyncs for 200 lines: one per line"
    assert len(synced) > at_open + during, "closing syncs what was written"


def test_a_group_is_synced_once_it_holds_the_most_lines_that_may_wait(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[int] = []
    monkeypatch.setattr(crawl_journal.os, "fsync", lambda fd: synced.append(fd))
    monkeypatch.setattr(crawl_journal, "SYNC_SECONDS", 3600.0)
    monkeypatch.setattr(crawl_journal, "SYNC_LINES", 5)
    journal = Journal(tmp_path / "state")
    journal.open({})
    before = len(synced)
    for n in range(4):
        journal.append({"kind": "base", "id": f"org/b{n}"})
    assert len(synced) == before, "four lines wait"
    journal.append({"kind": "base", "id": "org/b4"})
    assert len(synced) == before + 1, "the fifth line syncs the group"
    journal.close()
    assert len(synced) == before + 1, "nothing left to sync at close"
