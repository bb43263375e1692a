"""The crawl's journal: what a crawl has done, durable line by line, so that a killed crawl resumes.

*journal*: ``<state_dir>/journal.jsonl``, append-only JSON Lines: a header (version, endpoint), then one
line per completed step: a seed fetch (``seed``), the bulk listing (``bulk``), a parent's listing
(``children``), a base check (``base``) or a model's file listing (``file_commits``). A line holds the ids
its step returned, the raw Hub records (the
dict shape of ``GET /api/models/{id}``, as in ``models.jsonl``) of the models that were new to the crawl,
each with the results of the files fetched for it, and the problems the step met (``[source, model,
message]``: a bad reply, a record of the wrong shape, hostile paging). A line is written whole (one
``write``, flushed and fsynced; steps that complete together share one write and one fsync) only once its
step is done, so a crash leaves at most a torn last line, which the next run drops. Replaying the lines
through :meth:`CrawlState.apply` rebuilds what the crawl knew; records are keyed by id, so a replayed
record is never duplicated, and a bad record is a problem in its line, never an error on replay.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

from ptmgraph.sources.interface import SourceError

try:  # POSIX: keep two crawls from appending to one journal
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

JOURNAL_NAME = "journal.jsonl"
JOURNAL_VERSION = 1


class Journal:
    """The append-only journal of one state directory (see the module docstring)."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / JOURNAL_NAME
        self._handle: IO[bytes] | None = None

    def open(self, endpoint: str) -> list[dict[str, Any]]:
        """Lock the journal, read its completed lines (dropping a torn last line) and get ready to append."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            existed = self.path.exists()
            handle = self.path.open("a+b")
        except OSError as err:
            raise SourceError(f"{self.path}: cannot use this state directory ({err.strerror})") from None
        if fcntl is not None:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                raise SourceError(f"{self.path}: another crawl is using this state directory") from None
        handle.seek(0)
        chunks = handle.read().split(b"\n")
        lines: list[dict[str, Any]] = []
        good_end = 0
        # Every line is written whole, newline last, so only the last line can be torn (no newline, or
        # garbage a crash left behind); a bad line anywhere else means the file is not ours to fix.
        for number, chunk in enumerate(chunks[:-1], start=1):
            try:
                entry = json.loads(chunk)
            except (ValueError, RecursionError):  # torn or garbled: JSON and UTF-8 errors are ValueErrors
                entry = None
            if not isinstance(entry, dict):
                if number == len(chunks) - 1 and not chunks[-1]:
                    break
                handle.close()
                raise SourceError(f"{self.path}:{number}: not a journal line; remove the state directory to start over")
            lines.append(entry)
            good_end += len(chunk) + 1
        handle.truncate(good_end)
        self._handle = handle
        if not lines:
            self.append({"kind": "header", "v": JOURNAL_VERSION, "endpoint": endpoint,
                         "created": datetime.now(timezone.utc).isoformat(timespec="seconds")})
            if not existed:
                fsync_directory(self.path.parent)
            return []
        header = lines[0]
        if header.get("kind") != "header" or header.get("v") != JOURNAL_VERSION:
            self.close()
            raise SourceError(f"{self.path}: not a version-{JOURNAL_VERSION} crawl journal")
        if header.get("endpoint") != endpoint:
            self.close()
            raise SourceError(f"{self.path}: this crawl ran against {header.get('endpoint')}, not {endpoint}; "
                              "use another state directory")
        return lines[1:]

    def append(self, *entries: dict[str, Any]) -> None:
        """Write these lines with one ``write`` and make them durable (one fsync) before returning."""
        assert self._handle is not None, "journal is not open"
        text = "".join(json.dumps(entry, default=str, separators=(",", ":")) + "\n" for entry in entries)
        self._handle.write(text.encode("utf-8"))
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()  # closing releases the lock
            self._handle = None


def fsync_directory(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@dataclass
class CrawlState:
    """What the crawl knows, rebuilt from journal lines by :meth:`apply` (live lines go through it too).

    ``entries``: id -> {"row": Hub record dict, "files": {name: fetch result}}, first one seen wins (a
    listing line holds the entries of its new models only, and ``ids``, every model it returned);
    ``depth``: id -> depth, for seeds and children (checked bases have none, they are not descended);
    ``order``: ids in the order they were discovered (breadth-first); ``listed``: parents whose listing
    completed; ``seeds``: root -> dangling reason (None when found); ``bases``: lower-case id -> dangling
    reason (None when found) for checked bases; ``problems``: (source, model, message) of every line, once;
``file_commits``: id -> (revision, the entries of its file listing), for models whose listing was read.
    """

    entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    depth: dict[str, int] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    listed: set[str] = field(default_factory=set)
    seeds: dict[str, str | None] = field(default_factory=dict)
    bulk_done: bool = False
    bases: dict[str, str | None] = field(default_factory=dict)
    problems: dict[tuple[str, str | None, str], None] = field(default_factory=dict)
    file_commits: dict[str, tuple[str, list[Any]]] = field(default_factory=dict)

    def apply(self, line: Mapping[str, Any]) -> list[str]:
        """Take in one journal line; returns the ids it gave a depth to for the first time."""
        kind = line.get("kind")
        depth: int | None = None
        fresh: list[str] = []
        if kind == "seed":
            self.seeds[line["root"]] = line.get("missing")
            depth = 0
            if line.get("missing"):  # a missing root is still listed: its children may outlive it
                fresh += self._place(line["root"], 0)
        elif kind == "bulk":
            self.bulk_done = True
            depth = 0
        elif kind == "children":
            if line.get("complete"):
                self.listed.add(line["parent"])
            depth = self.depth.get(line["parent"], 0) + 1
        elif kind == "base":
            self.bases[line["id"].lower()] = line.get("missing")
        elif kind == "file_commits":
            self.file_commits.setdefault(line["id"], (str(line.get("revision")), list(line.get("entries") or [])))
        for entry in line.get("records", []):
            self.entries.setdefault(entry["row"]["id"], entry)
        for source, model, message in line.get("problems", []):
            self.problems.setdefault((source, model, message))
        if depth is not None:
            # Every model the listing returned, also those already recorded (a checked base, say).
            for model_id in line.get("ids", [e["row"]["id"] for e in line.get("records", [])]):
                fresh += self._place(model_id, depth)
        return fresh

    def _place(self, model_id: str, depth: int) -> list[str]:
        if model_id in self.depth:
            self.depth[model_id] = min(self.depth[model_id], depth)
            return []
        self.depth[model_id] = depth
        self.order.append(model_id)
        return [model_id]
