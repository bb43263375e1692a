"""A snapshot's versions on disk: its files, generations and ``CURRENT``, the save lock, the reader's pin, history."""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import stat
import tempfile
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

import polars as pl

from ptmgraph import index as compact
from ptmgraph import reader
from ptmgraph.records import (
    DANGLING_SCHEMA,
    EDGES_SCHEMA,
    EVIDENCE_SCHEMA,
    FILES_SCHEMA,
    MODELS_SCHEMA,
    PROBLEMS_SCHEMA,
    Problem,
)
from ptmgraph.umask import as_made_by_user

POINTER = "CURRENT"
"""The file naming a snapshot's current generation."""
GENERATION_NAME = re.compile(r"gen-([0-9]{1,12})")
"""The name of a generation's folder, ``gen-N`` (N its number, the next save's one more than the highest)."""
_POINTER_TMP = f".{POINTER}.tmp-"
TABLES: dict[str, dict[str, pl.DataType]] = {
    "models": MODELS_SCHEMA,
    "edges": EDGES_SCHEMA,
    "evidence": EVIDENCE_SCHEMA,
    "dangling": DANGLING_SCHEMA,
    "problems": PROBLEMS_SCHEMA,
    "files": FILES_SCHEMA,
}


class SnapshotError(Exception):
    """A snapshot directory that cannot be read or written; the message names it."""


ATTACHMENTS = frozenset({"crawl-journal.jsonl.gz"})
"""Files a generation may hold besides the tables (``save(attachments=...)``): the journal of the crawl that
made it, which ``crawl --update`` starts from (:mod:`ptmgraph.sources.hub_api`)."""
SNAPSHOT_FILES = frozenset({"meta.json", compact.INDEX_FILE, *(f"{name}.parquet" for name in TABLES), *ATTACHMENTS})
"""The files of a snapshot directory; a directory holding anything else is not one (and is never replaced)."""


def add_generation(written: Path, directory: Path) -> None:
    """Move the generation ``written`` into the snapshot ``directory`` and make it current."""
    numbers = [int(m.group(1)) for name in os.listdir(directory) if (m := GENERATION_NAME.fullmatch(name))]
    generation = directory / f"gen-{max(numbers, default=0) + 1}"
    written.rename(generation)
    try:
        point_current(directory, generation.name)
    except BaseException:
        if _pointed(directory / POINTER) != generation.name:  # never current: no reader can hold it
            shutil.rmtree(generation, ignore_errors=True)
        raise


def point_current(directory: Path, name: str) -> None:
    """Make ``CURRENT`` in ``directory`` name the generation ``name``: a new file renamed over it."""
    fd, tmp = tempfile.mkstemp(prefix=_POINTER_TMP, dir=directory)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(name + "\n")
        as_made_by_user(Path(tmp))  # readable by whoever may read the snapshot, not mkstemp's 0600
        os.replace(tmp, directory / POINTER)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise


def swap_in(tmp: Path, directory: Path) -> None:
    """Rename the complete snapshot ``tmp`` to ``directory``, replacing an empty or format 1 one."""
    old = None
    if os.path.lexists(directory):
        old = directory.parent / f".{directory.name}.old-{os.getpid()}"
        directory.rename(old)
    try:
        tmp.rename(directory)
    except BaseException:
        if old is not None:
            old.rename(directory)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def remove_unused_generations(directory: Path) -> None:
    """Remove the generations of ``directory`` that ``CURRENT`` does not name and no reader holds.

    A generation is renamed out of the snapshot (to a ``.NAME.old-*`` sibling) while this process holds
    an exclusive ``flock`` on it, so a reader that opened it before cannot take its shared lock on it
    until it is gone from its path, which the reader checks (:func:`pin_current`).
    """
    current = _pointed(directory / POINTER)
    for name in os.listdir(directory):
        if name != current and GENERATION_NAME.fullmatch(name):
            gone = directory.parent / f".{directory.name}.old-{os.getpid()}-{name}"
            if _moved_if_unused(directory / name, gone):
                shutil.rmtree(gone, ignore_errors=True)


def _moved_if_unused(generation: Path, gone: Path) -> bool:
    """Rename ``generation`` to ``gone`` unless a reader holds it; whether it was moved."""
    try:
        fd = os.open(generation, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return False  # a reader holds it: a later save removes it
    except OSError:
        pass  # no locks on this file system: a reader of it fails cleanly, never mixes versions
    try:
        generation.rename(gone)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


@contextmanager
def save_lock(path: Path, directory: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (created if need be) while saving to ``directory``, and
    remove the file when done.

    The file is removed while still locked, so a process that was waiting finds its lock on a file that
    is gone; it then tries again with the current file. The check makes removal safe.
    """
    while True:
        try:
            handle = open(path, "a+b")  # noqa: SIM115 - closed below, or held until the save is done
        except OSError as err:
            raise SnapshotError(f"{directory}: cannot write here ({err.strerror})") from None
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            held = os.fstat(handle.fileno())
            try:
                current = os.stat(path)
                same = (current.st_dev, current.st_ino) == (held.st_dev, held.st_ino)
            except FileNotFoundError:
                same = False
        except BaseException:
            handle.close()
            raise
        if same:
            break
        handle.close()
    try:
        yield
    finally:
        with suppress(OSError):
            os.unlink(path)
        handle.close()


def is_snapshot_directory(directory: Path) -> bool:
    """True when ``directory`` is a ptmgraph snapshot: generations (``CURRENT`` names one of its
    ``gen-N`` directories, and it holds nothing else but other generations and the temporary files of
    ``CURRENT``), or format 1 (only snapshot files, :data:`SNAPSHOT_FILES`), every generation holding
    only snapshot files and a ``meta.json`` that ptmgraph wrote (a JSON object with ``format_version``
    and ``counts``)."""
    try:
        return _layout(directory, set(os.listdir(directory))) is not None
    except OSError:
        return False


def _layout(directory: Path, names: set[str]) -> Literal["flat", "generations"] | None:
    if POINTER not in names:
        return "flat" if _is_flat(directory, names) else None
    try:
        current = _pointed(directory / POINTER)
    except SnapshotError:
        return None
    for name in names - {POINTER}:
        path = directory / name
        if GENERATION_NAME.fullmatch(name):
            if not (stat.S_ISDIR(path.lstat().st_mode) and _is_flat(path, set(os.listdir(path)))):
                return None
        elif not (name.startswith(_POINTER_TMP) and stat.S_ISREG(path.lstat().st_mode)):
            return None
    return "generations" if current in names else None


def _is_flat(directory: Path, names: set[str]) -> bool:
    """Whether ``directory`` (holding ``names``) is one version's files: a generation, or format 1."""
    try:
        if not names <= SNAPSHOT_FILES or "meta.json" not in names:
            return False
        if not all(stat.S_ISREG((directory / name).lstat().st_mode) for name in names):
            return False
        with open(directory / "meta.json", "rb") as handle:
            raw = handle.read(_META_BYTES + 1)
    except OSError:
        return False
    meta = reader.json_object(raw, "meta.json", limits=reader.Limits(document_bytes=_META_BYTES))
    return isinstance(meta, dict) and "format_version" in meta and isinstance(meta.get("counts"), dict)


_META_BYTES = 1024 * 1024


def check_replaceable(directory: Path) -> Literal["absent", "flat", "generations"]:
    """How ``directory`` is laid out (absent or empty: ``absent``); SnapshotError when it may not be replaced."""
    if not os.path.lexists(directory):
        return "absent"
    if directory.is_symlink():
        raise SnapshotError(f"{directory}: is a symlink; refusing to replace it (give the directory it points to)")
    if not directory.is_dir():
        raise SnapshotError(f"{directory}: exists and is not a directory; refusing to replace it")
    try:
        names = set(os.listdir(directory))
        layout = _layout(directory, names) if names else "absent"
    except OSError as err:
        raise SnapshotError(f"{directory}: cannot be read ({err.strerror})") from None
    if layout is None:
        raise SnapshotError(
            f"{directory}: exists and is not a ptmgraph snapshot (it holds other files); refusing to replace it"
        )
    return layout


def remove_leftovers(directory: Path) -> None:
    """Remove the temporary and old directories of saves to ``directory`` that were killed midway (or
    generations a reader held), when they hold only snapshot parts (:func:`_only_snapshot_parts`)."""
    for pattern in (f".{directory.name}.tmp-*", f".{directory.name}.old-*"):
        for leftover in directory.parent.glob(pattern):
            try:
                if _only_snapshot_parts(leftover):
                    shutil.rmtree(leftover)
            except OSError:
                continue  # not ours to fight over: the save itself goes on
    try:
        if _layout(directory, names := set(os.listdir(directory))) == "generations":
            for name in names:
                if name.startswith(_POINTER_TMP):
                    os.unlink(directory / name)
    except OSError:
        pass


def _only_snapshot_parts(path: Path) -> bool:
    """Whether ``path`` is a real directory holding snapshot files only (of one version, or generations
    of them with ``CURRENT``), however few: what a killed save leaves."""
    if path.is_symlink() or not path.is_dir():
        return False
    names = set(os.listdir(path))
    if names <= SNAPSHOT_FILES:
        return True
    for name in names:
        inside = path / name
        if GENERATION_NAME.fullmatch(name):
            if inside.is_symlink() or not inside.is_dir() or not set(os.listdir(inside)) <= SNAPSHOT_FILES:
                return False
        elif name != POINTER and not name.startswith(_POINTER_TMP):
            return False
    return True


def remove_snapshot(directory: Path) -> bool:
    """Remove the snapshot in ``directory``, and the directory, file by file: only what a save writes
    (``CURRENT`` and its temporary files, generations of :data:`SNAPSHOT_FILES`, or format 1's files), and
    only when no reader holds a generation: each is locked exclusively first, as a save does before removing
    an old one. True when it is gone; False when ``directory`` is not a snapshot, a reader holds it, or
    something appeared in it meanwhile (what is left stays in place)."""
    try:
        names = set(os.listdir(directory))
        layout = _layout(directory, names) if not directory.is_symlink() else None
    except OSError:
        return False
    if layout is None:
        return False
    generations = sorted(name for name in names if GENERATION_NAME.fullmatch(name))
    held: list[int] = []
    try:
        for name in generations:
            fd = os.open(directory / name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
            held.append(fd)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False  # a reader holds it
            except OSError:
                pass  # no locks on this file system
        for name in sorted(names - set(generations), key=lambda n: n != POINTER):  # CURRENT first: no new reader
            os.unlink(directory / name)
        for name in generations:
            for part in os.listdir(directory / name):
                if part not in SNAPSHOT_FILES:
                    return False
                os.unlink(directory / name / part)
            os.rmdir(directory / name)
        os.rmdir(directory)
    except OSError:
        return False
    finally:
        for fd in held:
            os.close(fd)
    return True


def stored_meta(directory: Path) -> dict[str, Any] | None:
    """The ``meta.json`` of the snapshot in ``directory`` (its current version), or None when ``directory``
    is not a snapshot (absent, empty, anything else, a generation inside one: :func:`ptmgraph.snapshot.save`
    refuses those);
    :class:`SnapshotError` when it cannot be read."""
    absolute = Path(os.path.abspath(directory))
    if GENERATION_NAME.fullmatch(absolute.name) and os.path.lexists(absolute.parent / POINTER):
        return None
    if not is_snapshot_directory(directory):
        return None
    return read_meta(current_files(directory) / "meta.json")


def read_meta(path: Path) -> dict[str, Any]:
    """The JSON object in the ``meta.json`` at ``path``, read within :data:`_META_BYTES`;
    :class:`SnapshotError` naming the file when it cannot be read or is not such an object."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read(_META_BYTES + 1)
    except OSError as err:
        raise SnapshotError(f"{path}: cannot be read ({err.strerror})") from None
    meta = reader.json_object(raw, str(path), limits=reader.Limits(document_bytes=_META_BYTES))
    if isinstance(meta, Problem):
        raise SnapshotError(f"{path}: {meta.message}")
    return meta


def current_files(directory: Path) -> Path:
    """The directory holding the files of the snapshot's current version: the generation ``CURRENT``
    names, or ``directory`` itself (format 1). For tools that read the Parquet files directly; a
    query opens the snapshot with :func:`ptmgraph.snapshot.open_snapshot`, which also keeps that version from
    removal."""
    directory = Path(directory)
    name = _pointed(directory / POINTER)
    return directory / name if name is not None else directory


def _pointed(pointer: Path) -> str | None:
    """The generation the file ``pointer`` names; None when there is no such file (format 1)."""
    try:
        fd = os.open(pointer, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as err:
        raise SnapshotError(f"{pointer}: cannot be read ({err.strerror})") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise SnapshotError(f"{pointer}: not a regular file")
        raw = os.read(fd, 64)
    finally:
        os.close(fd)
    name = raw.decode("ascii", "replace").strip()
    if not GENERATION_NAME.fullmatch(name):
        raise SnapshotError(f"{pointer}: does not name a generation (gen-N)")
    return name


class Pin:
    """A shared ``flock`` on one generation directory: a save does not remove it while this is held.

    Released by :meth:`release`, or when the object is garbage-collected."""

    def __init__(self, fd: int) -> None:
        self.release = weakref.finalize(self, os.close, fd)


_OPEN_TRIES = 100
"""How often a reader reads ``CURRENT`` again when the generation it named was being removed."""


def pin_current(directory: Path) -> tuple[Path, Pin | None]:
    """The directory holding the current version's files, and a shared lock on it (format 1: the
    directory itself, no lock).

    Each try reads ``CURRENT``, opens the generation it names and locks it shared; when a save was
    removing that generation meanwhile (it is gone from its path, or locked exclusively), ``CURRENT``
    has moved on and the next try reads it again.
    """
    pointer = directory / POINTER
    for _ in range(_OPEN_TRIES):
        name = _pointed(pointer)
        if name is None:
            return directory, None
        generation = directory / name
        try:
            fd = os.open(generation, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except FileNotFoundError:
            if _pointed(pointer) == name:
                raise SnapshotError(f"{generation}: missing from the snapshot ({pointer} names it)") from None
            continue
        except OSError as err:
            raise SnapshotError(f"{generation}: cannot be read ({err.strerror})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        except OSError:
            pass  # no locks on this file system: read it unpinned
        try:
            now = os.stat(generation)
            held = os.fstat(fd)
            same = (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino)
        except FileNotFoundError:
            same = False
        if same:
            return generation, Pin(fd)
        os.close(fd)
    raise SnapshotError(f"{directory}: replaced {_OPEN_TRIES} times while being opened; try again")


HISTORY_PARTITION = re.compile(r"date=([0-9]{4}-[0-9]{2}-[0-9]{2})")
"""The name of a history's dated partition (:func:`add_to_history`)."""


def history_partition(history: Path, day: str) -> Path:
    """The partition of ``day`` (``YYYY-MM-DD``) in the history directory ``history``; SnapshotError when the
    day is not a calendar date or the history already holds that day (a partition is written once)."""
    try:
        datetime.strptime(day, "%Y-%m-%d")
    except ValueError:
        raise SnapshotError(f"{day!r}: not a date (YYYY-MM-DD)") from None
    if os.path.lexists(history) and not Path(history).is_dir():
        raise SnapshotError(f"{history}: exists and is not a directory; a history is a directory of date=YYYY-MM-DD/")
    partition = Path(history) / f"date={day}"
    if os.path.lexists(partition):
        raise SnapshotError(f"{partition}: the history already holds a snapshot of {day}; each day is written "
                            "once and never replaced (give --history-date another day, or another --history)")
    return partition


def add_to_history(directory: Path, history: Path, day: str | None = None) -> Path:
    """Keep the current version of the snapshot in ``directory`` in the history ``history`` as the partition
    ``history/date=YYYY-MM-DD/`` (``day``, default today in UTC); returns the partition.

    A partition is one version's files as a generation holds them (the tables as plain Parquet, ``index.npz``,
    ``meta.json``), so ``open_snapshot`` reads it as a snapshot and DuckDB or polars read
    ``history/*/models.parquet`` as one Hive-partitioned dataset with a ``date`` column. It is written once and
    never modified: copied into a temporary sibling of ``history``, made read-only, then renamed into place;
    a day the history already holds raises :class:`SnapshotError` (:func:`history_partition`) and changes
    nothing. The copy is taken while holding the version (:func:`ptmgraph.snapshot.open_snapshot`'s lock), so a
    save running meanwhile cannot remove it.
    """
    history = Path(os.path.abspath(history))
    day = day or datetime.now(timezone.utc).strftime("%Y-%m-%d")
    partition = history_partition(history, day)
    try:
        history.mkdir(parents=True, exist_ok=True)
        files, pin = pin_current(Path(directory))
        try:
            tmp = Path(tempfile.mkdtemp(prefix=f".{history.name}.{partition.name}.tmp-", dir=history.parent))
            try:
                for name in sorted(os.listdir(files)):
                    if name in SNAPSHOT_FILES:
                        shutil.copyfile(files / name, tmp / name)
                        os.chmod(tmp / name, 0o444)
                os.chmod(tmp, 0o755)
                if os.path.lexists(partition):  # written meanwhile by another process
                    raise SnapshotError(f"{partition}: the history already holds a snapshot of {day}")
                tmp.rename(partition)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
        finally:
            if pin is not None:
                pin.release()
    except OSError as err:
        raise SnapshotError(f"{partition}: cannot write the history ({err.strerror or err})") from None
    return partition


def history_partitions(history: Path) -> list[tuple[str, Path]]:
    """The (day, partition directory) pairs of the history ``history``, oldest first; other entries are ignored."""
    history = Path(history)
    if not history.is_dir():
        raise SnapshotError(f"{history}: no such history directory")
    found = [(m.group(1), history / name) for name in os.listdir(history)
             if (m := HISTORY_PARTITION.fullmatch(name)) and (history / name).is_dir()]
    return sorted(found)
