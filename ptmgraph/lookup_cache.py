"""The look-up cache: where live look-ups are kept (:mod:`ptmgraph.lookup`), its entries and their locks, its
bounds, and its clearing (``ptmgraph cache``).

Definitions (README "The look-up cache"):

- *the cache*: :func:`cache_root` (``$PTMGRAPH_CACHE``, else ``$XDG_CACHE_HOME/ptmgraph``, else
  ``~/.cache/ptmgraph``; never ``HF_HOME`` itself nor huggingface_hub's model cache inside it).
- *an entry*: one look-up, for one endpoint, need and set of models asked about together
  (:func:`entry_dir`): ``lookup/HOST-HASH/NEED/KEY``, a crawl snapshot (atomic generations); beside it
  ``KEY.crawl``, its crawl's state directory while kept, and ``KEY.lock``, its lock (:func:`lock_file`).
  Only folders named and laid out so are entries (:func:`cache_entries`); anything else in the folder is
  not, and is never touched.
- *the bounds*: whenever a look-up writes an entry, the other entries older than ``PTMGRAPH_CACHE_MAX_AGE``
  (default 30 days) are removed, then the oldest until all of them hold at most ``PTMGRAPH_CACHE_MAX_SIZE``
  (default 1 GiB) (:func:`prune`). An entry is removed part by part as its look-up wrote it (the snapshot's
  own files, the crawl state directory holding its marker, the lock), and never while another process uses
  it (its lock held, or a reader holding its snapshot).
- *locks*: a look-up that fetches holds ``KEY.lock`` exclusively from its check of the cache to its answer;
  one that answers from the cache holds it shared; a removal takes it exclusively, without waiting.

Imported by :mod:`ptmgraph.lookup` for the command line's options: the standard library only at the top.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAX_AGE_VARIABLE = "PTMGRAPH_CACHE_MAX_AGE"
DEFAULT_CACHE_MAX_AGE = "30d"
"""Cache entries older than this are removed when a look-up writes one (``PTMGRAPH_CACHE_MAX_AGE``)."""
MAX_SIZE_VARIABLE = "PTMGRAPH_CACHE_MAX_SIZE"
DEFAULT_CACHE_MAX_SIZE = "1G"
"""The oldest cache entries are removed past this size in all when a look-up writes one
(``PTMGRAPH_CACHE_MAX_SIZE``)."""

_AGE = re.compile(r"(?P<number>[0-9]+(?:\.[0-9]+)?)\s*(?P<unit>[smhdw]?)")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_SIZE = re.compile(r"(?P<number>[0-9]+(?:\.[0-9]+)?)\s*(?P<unit>[kmgt]?)(?:i?b)?")
_POWERS = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4}
_PLACE = re.compile(r"[a-z0-9.-]*-[0-9a-f]{8}")
_KEY = re.compile(r"[\w.-]+-[0-9a-f]{8}|[0-9]+-models-[0-9a-f]{16}")
_NEEDS = ("ancestors", "descendants")
STATE, LOCK = ".crawl", ".lock"
"""The suffixes of an entry's crawl state directory and lock file, beside its snapshot."""


class LookupRefused(Exception):
    """A look-up or cache that must not be used as configured (the cache inside ``HF_HOME``, a bound that is not
    an age or a size): bad input, exit 1."""


def parse_age(text: str) -> float:
    """Seconds in an age: a number of seconds (``3600``), or a number with a unit ``s``, ``m``, ``h``, ``d``
    or ``w`` (``12h``, ``7d``, ``1.5h``); ValueError otherwise."""
    match = _AGE.fullmatch(text.strip().lower())
    if match is None:
        raise ValueError(f"not an age (seconds, or a number with s, m, h, d or w: 3600, 12h, 7d): {text!r}")
    return float(match["number"]) * _UNITS[match["unit"]]


def parse_size(text: str) -> int:
    """Bytes in a size: a number of bytes (``500000000``), or a number with a unit ``K``, ``M``, ``G`` or ``T``
    (powers of 1,024; ``500M``, ``1G``, ``1.5GiB``, ``2gb``); ValueError otherwise."""
    match = _SIZE.fullmatch(text.strip().lower())
    if match is None:
        raise ValueError(f"not a size (bytes, or a number with K, M, G or T: 500M, 1G): {text!r}")
    return int(float(match["number"]) * 1024 ** _POWERS[match["unit"]])


def cache_root() -> Path:
    """Where look-ups are kept: ``$PTMGRAPH_CACHE``, else ``$XDG_CACHE_HOME/ptmgraph``, else
    ``~/.cache/ptmgraph``. :class:`LookupRefused` when that is ``HF_HOME`` itself or lies inside
    huggingface_hub's model cache (``HF_HUB_CACHE``, default ``HF_HOME/hub``): those folders are the library's."""
    given = os.environ.get("PTMGRAPH_CACHE")
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    root = Path(os.path.abspath(os.path.expanduser(given) if given else os.path.join(xdg, "ptmgraph")))
    hf_home = Path(os.path.abspath(os.path.expanduser(os.environ.get("HF_HOME") or os.path.join(xdg, "huggingface"))))
    hub_cache = Path(os.path.abspath(os.path.expanduser(os.environ.get("HF_HUB_CACHE") or hf_home / "hub")))
    if root in (hf_home, hub_cache) or hub_cache in root.parents:
        raise LookupRefused(f"{root}: the look-up cache would be huggingface_hub's folder (HF_HOME or HF_HUB_CACHE); "
                            "set PTMGRAPH_CACHE to another folder")
    return root


def entry_dir(endpoint: str, need: str, models: Sequence[str]) -> Path:
    """``ROOT/lookup/HOST-HASH/NEED/KEY``: one folder per endpoint, need and set of models as typed (a crawl's
    journal is resumed only with the same seeds, letter case included), each name ending in a hash of what it
    stands for, so that names differing only in case stay apart on any file system."""
    host = re.sub(r"[^a-z0-9.-]+", "-", endpoint.split("://", 1)[-1].lower()).strip("-")[:60] or "endpoint"
    place = f"{host}-{_digest(endpoint, 8)}"
    asked = "\n".join(models)
    key = f"{models[0].replace('/', '--')}-{_digest(asked, 8)}" if len(models) == 1 else \
        f"{len(models)}-models-{_digest(asked, 16)}"
    return cache_root() / "lookup" / place / need / key


def _digest(text: str, length: int) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()[:length]


def stored(directory: Path) -> dict[str, Any] | None:
    """The cached snapshot's ``meta.json`` (None: none, or a damaged one, which is fetched again and replaced)."""
    from ptmgraph import snapshot as snapshot_io

    try:
        return snapshot_io.stored_meta(directory)
    except snapshot_io.SnapshotError:
        return None


def written_time(meta: Mapping[str, Any] | None) -> float | None:
    """When a snapshot was written, from its ``meta.json`` ``written_at`` (POSIX seconds; None: unknown)."""
    from datetime import datetime, timezone

    written = meta.get("written_at") if meta else None
    try:
        when = datetime.fromisoformat(str(written))
    except ValueError:
        return None
    return (when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)).timestamp()


def age_text(age: float | None) -> str:
    """An age in seconds for people: ``3 min ago``, ``2 d ago`` (None: ``at an unknown time``)."""
    if age is None:
        return "at an unknown time"
    for unit, seconds in (("d", 86400), ("h", 3600), ("min", 60)):
        if age >= seconds:
            return f"{age / seconds:.0f} {unit} ago"
    return f"{age:.0f} s ago"


class HeldLock:
    """A ``flock`` on a cache entry's lock file, held until :meth:`release` or garbage collection. The file is
    removed on release by whoever can then hold it exclusively (a process waiting on it then finds its lock on
    a file that is gone, and tries again with a new one: :func:`lock_file`), so no lock file outlives its
    users. ``fd`` None: no lock (a reader of a cache it may not write, where no look-up can write either)."""

    def __init__(self, fd: int | None, path: Path) -> None:
        import weakref

        self.release = weakref.finalize(self, _unlock, fd, path)


def _unlock(fd: int | None, path: Path) -> None:
    import contextlib
    import fcntl

    if fd is None:
        return
    try:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a shared holder: only when no one else holds it
            held, now = os.fstat(fd), os.stat(path, follow_symlinks=False)
            if (held.st_dev, held.st_ino) == (now.st_dev, now.st_ino):  # still the file at path: it stays so
                os.unlink(path)
    finally:
        os.close(fd)


def lock_file(path: Path, *, exclusive: bool, wait: float,
              waiting: Callable[[], None] | None = None) -> HeldLock | None:
    """The lock on ``path`` (created if need be), exclusive or shared, waiting at most ``wait`` seconds (calling
    ``waiting`` once if it must wait); None when it is not had in time. A shared lock in a folder this process
    may not write (a read-only cache) is taken on the file opened for reading, or is no lock when there is no
    file: nothing can write that folder's entries then."""
    import errno
    import fcntl
    import time

    give_up = time.monotonic() + wait
    told = False
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        except OSError as err:
            if exclusive or err.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
                raise
            try:
                fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
            except FileNotFoundError:
                return HeldLock(None, path)
        try:
            while True:
                try:
                    fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= give_up:
                        os.close(fd)
                        return None
                    if waiting is not None and not told:
                        waiting()
                        told = True
                    time.sleep(0.05)
            held = os.fstat(fd)
            try:
                now = os.stat(path, follow_symlinks=False)
                same = (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino)
            except FileNotFoundError:
                same = False
        except BaseException:
            os.close(fd)
            raise
        if same:
            return HeldLock(fd, path)
        os.close(fd)


@dataclass(frozen=True)
class CacheBounds:
    """How much the look-up cache keeps (module docstring, *the cache's bounds*): entries younger than
    ``max_age`` seconds, at most ``max_size`` bytes in all; ``texts``: each as the user gave it, by variable."""

    max_age: float
    max_size: int
    texts: tuple[tuple[str, str], ...]

    def said(self) -> str:
        return ", ".join(f"{name}={text}" for name, text in self.texts)


def cache_bounds() -> CacheBounds:
    """The cache's bounds from ``PTMGRAPH_CACHE_MAX_AGE`` and ``PTMGRAPH_CACHE_MAX_SIZE`` (or their defaults);
    :class:`LookupRefused` for a value that is not an age or a size."""
    age_text = os.environ.get(MAX_AGE_VARIABLE) or DEFAULT_CACHE_MAX_AGE
    size_text = os.environ.get(MAX_SIZE_VARIABLE) or DEFAULT_CACHE_MAX_SIZE
    try:
        max_age = parse_age(age_text)
    except ValueError as err:
        raise LookupRefused(f"{MAX_AGE_VARIABLE}: {err}") from None
    try:
        max_size = parse_size(size_text)
    except ValueError as err:
        raise LookupRefused(f"{MAX_SIZE_VARIABLE}: {err}") from None
    return CacheBounds(max_age, max_size, ((MAX_AGE_VARIABLE, age_text), (MAX_SIZE_VARIABLE, size_text)))


@dataclass(frozen=True)
class CacheEntry:
    """One look-up kept in the cache: ``path``, its snapshot directory (``KEY``; it may be absent while only
    the journal of a failed look-up is kept, ``KEY.crawl``); ``need``; ``models`` and ``endpoint`` as its
    snapshot records them (empty when it has none); ``written``: when its newest part was written (POSIX
    seconds; its snapshot's ``written_at``, to the second); ``modified``: its files' newest modification time;
    ``size``: the bytes of its files."""

    path: Path
    need: str
    models: tuple[str, ...]
    endpoint: str
    written: float
    modified: float
    size: int


def cache_entries(root: Path | None = None) -> list[CacheEntry]:
    """The look-ups kept under ``root`` (default :func:`cache_root`), oldest first: only what is named and
    laid out as :func:`entry_dir` makes it; anything else in the folder is no entry, and never touched."""
    base = (cache_root() if root is None else root) / "lookup"
    found = []
    for place in _subdirectories(base, _PLACE):
        for need in _subdirectories(place, None):
            if need.name not in _NEEDS:
                continue
            try:
                names = os.listdir(need)
            except OSError:
                continue
            keys = {name.removesuffix(STATE).removesuffix(LOCK) for name in names}
            for key in sorted(k for k in keys if _KEY.fullmatch(k)):
                entry = _entry(need / key, need.name)
                if entry is not None:
                    found.append(entry)
    return sorted(found, key=lambda e: (e.written, e.modified, str(e.path)))


def _subdirectories(folder: Path, pattern: re.Pattern[str] | None) -> list[Path]:
    try:
        with os.scandir(folder) as listing:
            return sorted(Path(e.path) for e in listing if e.is_dir(follow_symlinks=False)
                          and (pattern is None or pattern.fullmatch(e.name)))
    except OSError:
        return []


def _entry(path: Path, need: str) -> CacheEntry | None:
    """The entry ``path`` names, when one of its parts is what a look-up writes there."""
    from ptmgraph.snapshot_versions import is_snapshot_directory

    parts = []
    meta: Mapping[str, Any] | None = None
    if not path.is_symlink() and is_snapshot_directory(path):
        meta = stored(path)
        if meta is not None and isinstance(meta.get("crawl"), Mapping):
            parts.append(path)
        else:
            meta = None
    state = path.with_name(path.name + STATE)
    if state.is_dir() and not state.is_symlink():
        parts.append(state)
    if not parts:
        return None  # a lone lock file is no entry: its holder is writing one
    size, newest = 0, 0.0
    for part in parts:
        for folder, _, files in os.walk(part):
            for name in files:
                try:
                    info = os.lstat(os.path.join(folder, name))
                except OSError:
                    continue
                size += info.st_size
                newest = max(newest, info.st_mtime)
    crawl = meta.get("crawl") if meta is not None else None
    written = written_time(meta) if meta is not None else None
    if written is None:
        written = newest
    models = tuple(str(m) for m in (crawl.get("seeds") or [])) if isinstance(crawl, Mapping) else ()
    endpoint = str(crawl.get("endpoint") or "") if isinstance(crawl, Mapping) else ""
    return CacheEntry(path, need, models, endpoint, written, newest, size)


def remove_entry(entry: CacheEntry) -> bool:
    """Remove ``entry``, part by part as its look-up wrote it, unless another process is using it (its lock is
    held, or a reader holds its snapshot); True when nothing of it is left. Empty folders of the cache's own
    layout (``HOST-HASH/NEED``) go with their last entry."""
    from ptmgraph.snapshot_versions import remove_snapshot
    from ptmgraph.sources.crawl_journal import StateDirectory

    held = lock_file(entry.path.with_name(entry.path.name + LOCK), exclusive=True, wait=0)
    if held is None:
        return False
    try:
        state = entry.path.with_name(entry.path.name + STATE)
        gone = not os.path.lexists(entry.path) or remove_snapshot(entry.path)
        if gone and os.path.lexists(state):
            gone = StateDirectory(state).remove()
    finally:
        held.release()
    for folder in (entry.path.parent, entry.path.parent.parent):
        try:
            folder.rmdir()  # only when empty
        except OSError:
            break
    return gone


def prune(bounds: CacheBounds, keep: Path | None = None, root: Path | None = None) -> list[CacheEntry]:
    """Apply ``bounds`` to the cache (module docstring): remove the entries older than ``bounds.max_age``, then
    the oldest until the rest hold at most ``bounds.max_size`` bytes; never ``keep`` (the entry just written)
    nor one in use. The entries removed."""
    import time

    entries = cache_entries(root)
    now = time.time()
    removed = []
    kept = []
    for entry in entries:
        if entry.path != keep and now - entry.written > bounds.max_age and remove_entry(entry):
            removed.append(entry)
        else:
            kept.append(entry)
    total = sum(e.size for e in kept)
    for entry in kept:  # oldest first
        if total <= bounds.max_size:
            break
        if entry.path != keep and remove_entry(entry):
            removed.append(entry)
            total -= entry.size
    return removed


def clear(older_than: float | None = None, root: Path | None = None) -> tuple[list[CacheEntry], list[CacheEntry]]:
    """Remove every cache entry (``older_than``: only those older than this many seconds): the entries
    removed, and those kept (another process is using them, or a part holds files a look-up did not write)."""
    import time

    now = time.time()
    removed: list[CacheEntry] = []
    busy: list[CacheEntry] = []
    for entry in cache_entries(root):
        if older_than is not None and now - entry.written <= older_than:
            continue
        (removed if remove_entry(entry) else busy).append(entry)
    return removed, busy


def size_text(size: float) -> str:
    """A size for people: ``512 B``, ``1.5 KiB``, ``2.0 MiB``."""
    if size < 1024:
        return f"{size:.0f} B"
    for unit in ("KiB", "MiB", "GiB"):
        size /= 1024
        if size < 1024 or unit == "GiB":
            break
    return f"{size:.1f} {unit}"


def ago(when: float) -> str:
    """How long ago POSIX time ``when`` was, in the look-up's words (``3 min ago``)."""
    import time

    return age_text(max(0.0, time.time() - when))
