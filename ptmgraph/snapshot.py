"""A snapshot: the lineage tables, stored as a directory of Parquet files.

Layout: ``models.parquet``, ``edges.parquet``, ``evidence.parquet``, ``dangling.parquet``,
``problems.parquet``, ``meta.json`` and ``index.npz`` (the compact graph, :mod:`ptmgraph.index`, built
at save time; a snapshot without it, or whose index was built from other tables, still loads and the
graph builds its index in memory). A snapshot is written to a temporary sibling directory and
renamed into place, so a crash never leaves a half-written snapshot under the final name; see :func:`save`
for what may be replaced and how concurrent saves are serialised.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any

import polars as pl
from polars.exceptions import PanicException

from ptmgraph import index as compact
from ptmgraph import reader
from ptmgraph.records import (
    DANGLING_SCHEMA,
    EDGES_SCHEMA,
    EVIDENCE_SCHEMA,
    MODELS_SCHEMA,
    PROBLEMS_SCHEMA,
    Problem,
)

FORMAT_VERSION = 1
TABLES: dict[str, dict[str, pl.DataType]] = {
    "models": MODELS_SCHEMA,
    "edges": EDGES_SCHEMA,
    "evidence": EVIDENCE_SCHEMA,
    "dangling": DANGLING_SCHEMA,
    "problems": PROBLEMS_SCHEMA,
}


class SnapshotError(Exception):
    """A snapshot directory that cannot be read or written; the message names it."""


@dataclass
class Snapshot:
    """The lineage tables (see :mod:`ptmgraph.records` for their schemas) and metadata."""

    models: pl.DataFrame
    edges: pl.DataFrame
    evidence: pl.DataFrame
    dangling: pl.DataFrame
    problems: pl.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)
    index: compact.CompactGraph | None = field(default=None, repr=False, compare=False)
    """The stored compact graph of these tables, when the snapshot holds one that matches them."""

    def table(self, name: str) -> pl.DataFrame:
        return getattr(self, name)


def bundled_path() -> Path:
    """The snapshot shipped inside the package (compiled from real Hub metadata)."""
    return Path(str(resources.files("ptmgraph") / "data" / "hub-sample"))


SNAPSHOT_FILES = frozenset({"meta.json", compact.INDEX_FILE, *(f"{name}.parquet" for name in TABLES)})
"""The files of a snapshot directory; a directory holding anything else is not one (and is never replaced)."""


def save(snapshot: Snapshot, directory: Path) -> Path:
    """Write ``snapshot`` to ``directory`` atomically; returns the directory.

    The tables go to a temporary sibling ``.NAME.tmp-*`` that is renamed into place, so a crash never
    leaves a half-written snapshot under the final name. An existing ``directory`` is replaced only when
    it is empty or a ptmgraph snapshot (:func:`is_snapshot_directory`); anything else (a symlink, a file,
    a folder of user files) raises :class:`SnapshotError`. Saves to one directory are serialised by an
    advisory lock on the sibling file ``.NAME.lock`` (removed when the save is done); holding it, a save
    first removes what a killed save left behind (``.NAME.tmp-*`` and ``.NAME.old-*`` directories
    holding only snapshot files).
    """
    given = Path(directory)
    directory = Path(os.path.abspath(given))  # not resolve(): a symlink is refused, never followed
    parent = directory.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise SnapshotError(f"{directory}: cannot write here ({err.strerror})") from None
    with _locked(parent / f".{directory.name}.lock", directory):
        _remove_leftovers(directory)
        _check_replaceable(directory)
        try:
            tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.tmp-", dir=parent))
        except OSError as err:
            raise SnapshotError(f"{directory}: cannot write here ({err.strerror})") from None
        try:
            for name in TABLES:
                snapshot.table(name).write_parquet(tmp / f"{name}.parquet")
            compact.write(compact.build(snapshot.models, snapshot.edges), tmp / compact.INDEX_FILE)
            meta = {
                **snapshot.meta,
                "format_version": FORMAT_VERSION,
                "written_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "counts": {name: snapshot.table(name).height for name in TABLES},
            }
            (tmp / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
            old = None
            if os.path.lexists(directory):
                old = parent / f".{directory.name}.old-{os.getpid()}"
                directory.rename(old)
            tmp.rename(directory)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        except OSError as err:
            shutil.rmtree(tmp, ignore_errors=True)
            raise SnapshotError(f"{directory}: cannot write the snapshot ({err.strerror or err})") from None
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return given


@contextmanager
def _locked(path: Path, directory: Path) -> Iterator[None]:
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
    """True when ``directory`` holds only snapshot files (:data:`SNAPSHOT_FILES`) and a ``meta.json`` that
    ptmgraph wrote (a JSON object with ``format_version`` and ``counts``)."""
    try:
        names = set(os.listdir(directory))
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


def _check_replaceable(directory: Path) -> None:
    if not os.path.lexists(directory):
        return
    if directory.is_symlink():
        raise SnapshotError(f"{directory}: is a symlink; refusing to replace it (give the directory it points to)")
    if not directory.is_dir():
        raise SnapshotError(f"{directory}: exists and is not a directory; refusing to replace it")
    try:
        empty = not any(directory.iterdir())
    except OSError as err:
        raise SnapshotError(f"{directory}: cannot be read ({err.strerror})") from None
    if not empty and not is_snapshot_directory(directory):
        raise SnapshotError(
            f"{directory}: exists and is not a ptmgraph snapshot (it holds other files); refusing to replace it"
        )


def _remove_leftovers(directory: Path) -> None:
    """Remove the temporary and old directories of saves to ``directory`` that were killed midway."""
    for pattern in (f".{directory.name}.tmp-*", f".{directory.name}.old-*"):
        for leftover in directory.parent.glob(pattern):
            try:
                if leftover.is_symlink() or not leftover.is_dir():
                    continue
                if set(os.listdir(leftover)) <= SNAPSHOT_FILES:
                    shutil.rmtree(leftover)
            except OSError:
                continue  # not ours to fight over: the save itself goes on


def load(directory: Path) -> Snapshot:
    """Read a snapshot directory; raises :class:`SnapshotError` naming the file and what is wrong."""
    directory = Path(directory)
    try:
        return _load(directory)
    except OSError as err:  # e.g. a directory the user may not read
        where = err.filename or directory
        raise SnapshotError(f"{where}: cannot be read ({err.strerror or type(err).__name__})") from None


def _load(directory: Path) -> Snapshot:
    if directory.is_file():
        raise SnapshotError(f"{directory}: is a file; a snapshot is a directory (see 'ptmgraph ingest --help')")
    if not directory.is_dir():
        raise SnapshotError(f"{directory}: no such snapshot directory")
    meta_path = directory / "meta.json"
    if not meta_path.is_file():
        raise SnapshotError(f"{directory}: not a ptmgraph snapshot (no meta.json)")
    try:
        with open(meta_path, "rb") as handle:
            raw = handle.read(_META_BYTES + 1)
    except OSError as err:
        raise SnapshotError(f"{meta_path}: cannot be read ({err.strerror})") from None
    meta = reader.json_object(raw, str(meta_path), limits=reader.Limits(document_bytes=_META_BYTES))
    if isinstance(meta, Problem):
        raise SnapshotError(f"{meta_path}: {meta.message}")
    if meta.get("format_version") != FORMAT_VERSION:
        raise SnapshotError(f"{meta_path}: snapshot format {meta.get('format_version')!r} is not {FORMAT_VERSION}")
    frames: dict[str, pl.DataFrame] = {}
    for name, schema in TABLES.items():
        path = directory / f"{name}.parquet"
        if not os.path.lexists(path):
            raise SnapshotError(f"{path}: missing from the snapshot")
        if not path.is_file():  # a FIFO would block the reader forever
            raise SnapshotError(f"{path}: not a regular file")
        try:
            frame = pl.read_parquet(path)
        except (Exception, PanicException) as err:  # corrupt files raise several types, and can panic polars
            raise SnapshotError(f"{path}: not a readable Parquet file ({type(err).__name__})") from None
        missing = [c for c in schema if c not in frame.columns]
        if missing:
            raise SnapshotError(f"{path}: missing columns {', '.join(missing)}")
        frames[name] = _typed(frame.select(list(schema)), schema, path)
    for name, columns in _REQUIRED.items():
        for column in columns:
            if frames[name][column].null_count():
                raise SnapshotError(f"{directory / (name + '.parquet')}: column {column!r} has empty values")
    return Snapshot(meta=meta, index=_stored_index(directory, frames["models"], frames["edges"]), **frames)


def _stored_index(directory: Path, models: pl.DataFrame, edges: pl.DataFrame) -> compact.CompactGraph | None:
    """The snapshot's ``index.npz`` when it was built from these tables; None when absent (an older
    snapshot) or built from other tables. A damaged file raises :class:`SnapshotError`."""
    path = directory / compact.INDEX_FILE
    if not os.path.lexists(path):
        return None
    if not path.is_file():
        raise SnapshotError(f"{path}: not a regular file")
    try:
        return compact.read(path, models, edges)
    except compact.IndexFileError as err:
        raise SnapshotError(f"{path}: {err}") from None


_REQUIRED = {"models": ("id",), "edges": ("base", "child"), "evidence": ("base", "child")}
"""Columns that must hold a value in every row: the graph is built from them."""


def _python_times(column: pl.Series) -> bool:
    """Whether every time in ``column`` is one Python can hold (a damaged file may store any integer)."""
    try:
        years = column.dt.year()
        return bool(years.null_count() == years.len() or (years.min() >= 1 and years.max() <= 9999))  # type: ignore[operator]
    except (Exception, PanicException):
        return False


def _typed(frame: pl.DataFrame, schema: dict[str, pl.DataType], path: Path) -> pl.DataFrame:
    """``frame`` with the schema's column types; a column that cannot take its type raises SnapshotError."""
    columns = []
    for name, dtype in schema.items():
        column = frame[name]
        if column.dtype != dtype:
            try:
                column = column.cast(dtype, strict=True)
            except Exception:  # polars raises several types for impossible casts
                raise SnapshotError(f"{path}: column {name!r} is {column.dtype}, expected {dtype}") from None
        if isinstance(dtype, pl.Datetime) and not _python_times(column):
            raise SnapshotError(f"{path}: column {name!r} holds a time outside the years 1 to 9999")
        columns.append(column)
    return pl.DataFrame(columns)
