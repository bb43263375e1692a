"""The crawl's journal: what a crawl has done, kept line by line, so that a killed crawl resumes.

*journal*: ``<state_dir>/journal.jsonl``, append-only JSON Lines: a header (version, crawl arguments), then one
line per completed step: a seed fetch (``seed``), the bulk listing (``bulk``), a parent's listing
(``children``), a base check (``base``) or a model's file listing (``file_commits``); the crawl itself also
keeps the Hub's clock of each run (``clock``) and an update's listing of changes (``changes``), lines
:class:`CrawlState` passes over (``ptmgraph.sources.hub_api``). A line holds the ids
its step returned, the raw Hub records (the
dict shape of ``GET /api/models/{id}``, as in ``models.jsonl``) of the models that were new to the crawl,
each with the results of the files fetched for it, and the problems the step met (``[source, model,
message]``: a bad reply, a record of the wrong shape, hostile paging). A line is written whole (one
``write`` to the file, steps that complete together sharing one) only once its step is done, so a crash
leaves at most a torn last line, which the next run drops. A line is in the file once its ``write``
returns: a crawl that is killed (SIGKILL) or fails keeps every step it completed. Lines are *synced*
(fsync: on disk even if the machine goes down) in groups, at most :data:`SYNC_SECONDS` or
:data:`SYNC_LINES` after they were written, and when the journal closes; a machine that crashes loses at
most the last group's steps, which the next run does again (an fsync per line cost about half of a
crawl's own time). Replaying the lines
through :meth:`CrawlState.apply` rebuilds what the crawl knew; records are keyed by id, so a replayed
record is never duplicated, and a bad record is a problem in its line, never an error on replay.

*state directory*: the directory that holds the journal and the marker file :data:`MARKER_NAME`, which
says the directory is a crawl's. The crawl creates it (or takes an existing **empty** one) and writes the
marker first; an existing directory without the marker that holds anything is refused, untouched. It is
removed (:meth:`StateDirectory.remove`) only while it holds the marker and the journal and nothing else:
the files are unlinked one by one and the directory is removed only if the crawl created it, so nothing
the crawl did not write is ever deleted.

The header records the *crawl arguments* (every argument that shapes what the crawl lists and keeps:
endpoint, roots, bulk listing, depth, fetch policy, ...). Resuming with any other value is refused, naming
the argument, so that one journal never mixes two crawls.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

from ptmgraph.ids import id_key
from ptmgraph.sources.interface import SourceError

try:  # POSIX: keep two crawls from appending to one journal
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

JOURNAL_NAME = "journal.jsonl"
JOURNAL_VERSION = 2
MARKER_NAME = ".ptmgraph-crawl-state"
"""The marker file of a state directory (see the module docstring)."""
_MARKER_TEXT = "ptmgraph crawl state directory"
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
SYNC_SECONDS = 1.0
"""How long a line written to the journal waits for its fsync, at most (see the module docstring)."""
SYNC_LINES = 1000
"""How many lines written to the journal wait for their fsync, at most."""


class JournalFull(SourceError):
    """Appending would take the journal past its byte bound; the crawl stops, resumable with a larger bound."""


class StateDirectory:
    """A crawl's state directory (see the module docstring): :meth:`claim` before use, :meth:`remove` after."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def claim(self) -> None:
        """Create the directory with its marker, take an empty one, or check that an existing one is a
        crawl's; anything else raises :class:`SourceError` and changes nothing."""
        path = self.path
        if path.is_symlink():
            raise SourceError(f"{path}: the state directory is a symlink; give a real directory with --state-dir")
        try:
            path.mkdir(parents=True)
            created = True
        except FileExistsError:
            if not path.is_dir():
                raise SourceError(f"{path}: the state directory exists and is not a directory") from None
            if self._marked():
                return
            try:
                occupied = next(os.scandir(path), None) is not None
            except OSError as err:
                raise SourceError(f"{path}: cannot read the state directory ({err.strerror})") from None
            if occupied:
                raise SourceError(
                    f"{path}: not a crawl state directory (it holds files and no {MARKER_NAME} marker); refused, "
                    "nothing was changed; give a new or empty directory with --state-dir") from None
            created = False
        except OSError as err:
            raise SourceError(f"{path}: cannot create the state directory ({err.strerror})") from None
        text = json.dumps({"marker": _MARKER_TEXT, "created": created}) + "\n"
        try:
            fd = os.open(path / MARKER_NAME, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o644)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as err:
            raise SourceError(f"{path}: cannot use this state directory ({err.strerror})") from None
        fsync_directory(path)

    def _marker(self) -> dict[str, Any] | None:
        marker = self.path / MARKER_NAME
        try:
            if not marker.is_file() or marker.is_symlink() or marker.stat().st_size > 4096:
                return None
            data = json.loads(marker.read_bytes())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) and data.get("marker") == _MARKER_TEXT else None

    def _marked(self) -> bool:
        return self._marker() is not None

    def remove(self) -> bool:
        """Remove what the crawl wrote, if the directory holds nothing else; True when nothing is left of it.

        The journal and the marker are unlinked, then the directory itself only if the crawl created it. A
        directory without the marker, with any other entry, or whose journal another crawl holds (locked), is
        left exactly as it is (False)."""
        marker = self._marker()
        if marker is None:
            return False
        journal = self.path / JOURNAL_NAME
        try:
            if set(os.listdir(self.path)) - {MARKER_NAME, JOURNAL_NAME}:
                return False
            fd = os.open(journal, os.O_RDONLY | _NOFOLLOW)  # fails on a symlink: kept
        except FileNotFoundError:
            fd = None
        except OSError:
            return False
        try:
            if fd is not None:
                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    return False
                if fcntl is not None:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # another crawl resumed it: OSError, kept
                journal.unlink()
            (self.path / MARKER_NAME).unlink()
            if marker.get("created") is True:
                self.path.rmdir()  # fails, keeping it, if anything appeared meanwhile
        except OSError:
            return False
        finally:
            if fd is not None:
                os.close(fd)
        return True


class Journal:
    """The append-only journal of one state directory (see the module docstring)."""

    def __init__(self, directory: Path, max_bytes: int | None = None, knob: str = "--max-journal-bytes") -> None:
        self.directory = StateDirectory(directory)
        self.path = directory / JOURNAL_NAME
        self.max_bytes = max_bytes
        self.knob = knob  # what changes max_bytes, as the message says it
        self._handle: IO[bytes] | None = None
        self._size = 0
        self._unsynced = 0  # lines written since the last fsync
        self._synced_at = time.monotonic()

    def open(self, arguments: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Claim the state directory, lock the journal, read its completed lines (dropping a torn last line),
        check that they are a crawl with these ``arguments`` (the crawl arguments; JSON values) and get ready
        to append."""
        self.directory.claim()
        try:
            existed = self.path.exists()
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND | _NOFOLLOW, 0o644)
            handle = os.fdopen(fd, "a+b")
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
        self._size = good_end
        arguments = json.loads(json.dumps(dict(arguments)))  # as the journal gives them back
        if not lines:
            self.append({"kind": "header", "v": JOURNAL_VERSION, "arguments": arguments,
                         "created": datetime.now(timezone.utc).isoformat(timespec="seconds")})
            self.sync()
            if not existed:
                fsync_directory(self.path.parent)
            return []
        header = lines[0]
        if header.get("kind") != "header" or header.get("v") != JOURNAL_VERSION:
            self.close()
            raise SourceError(f"{self.path}: not a version-{JOURNAL_VERSION} crawl journal")
        before = header_arguments(header.get("arguments"))
        for name, value in arguments.items():
            if before.get(name) != value:
                self.close()
                raise SourceError(
                    f"{self.directory.path}: this state directory holds a crawl with other arguments: {name} was "
                    f"{_shown(before.get(name))}, now {_shown(value)}; run the same crawl to resume it, or give "
                    "another --state-dir")
        return lines[1:]

    def append(self, *entries: dict[str, Any]) -> None:
        """Write these lines to the file with one ``write`` before returning (kept if the process is killed
        next); they are synced with their group (see the module docstring)."""
        assert self._handle is not None, "journal is not open"
        text = "".join(json.dumps(entry, default=str, separators=(",", ":")) + "\n" for entry in entries)
        data = text.encode("utf-8")
        if self.max_bytes is not None and self._size + len(data) > self.max_bytes:
            raise JournalFull(f"the journal reached its {self.max_bytes:,}-byte bound ({self.knob})")
        self._handle.write(data)
        self._size += len(data)
        self._handle.flush()
        self._unsynced += len(entries)
        if self._unsynced >= SYNC_LINES or time.monotonic() - self._synced_at >= SYNC_SECONDS:
            self.sync()

    def sync(self) -> None:
        """fsync the lines written since the last sync, if any."""
        if self._handle is not None and self._unsynced:
            os.fsync(self._handle.fileno())
        self._unsynced = 0
        self._synced_at = time.monotonic()

    def close(self) -> None:
        """Sync what was written and close the journal, which releases its lock."""
        if self._handle is not None:
            try:
                self.sync()
            finally:
                self._handle.close()
                self._handle = None


def header_arguments(stored: object) -> dict[str, Any]:
    """A journal header's crawl arguments, in today's names: ``--root`` (the name of ``--seed`` before
    it was renamed) is read as ``--seed``; anything but an object is no arguments."""
    arguments = dict(stored) if isinstance(stored, dict) else {}
    if "--root" in arguments:
        arguments.setdefault("--seed", arguments.pop("--root"))
    return arguments


def _shown(value: object) -> str:
    if value is None:
        return "not given"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "none"
    return str(value)


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
    completed; ``seeds``: root -> dangling reason (None when found); ``bases``: the id's key
    (:func:`ptmgraph.ids.id_key`) -> dangling reason (None when found) for checked bases; ``problems``:
    (source, model, message) of every line, once;
    ``failed``: the listings (``listing:<parent>``, ``listing:bulk``) and records (``record:<id>``) that could
    not be read, or were ended early by a problem (lines marked ``failed``);
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
    failed: dict[str, None] = field(default_factory=dict)
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
            self.bases[id_key(line["id"])] = line.get("missing")
        elif kind == "file_commits":
            self.file_commits.setdefault(line["id"], (str(line.get("revision")), list(line.get("entries") or [])))
        if line.get("failed"):
            what = {"seed": f"record:{line.get('root')}", "base": f"record:{line.get('id')}",
                    "bulk": "listing:bulk", "children": f"listing:{line.get('parent')}"}.get(str(kind))
            if what is not None:
                self.failed.setdefault(what)
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
