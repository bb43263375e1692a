"""A snapshot: the lineage tables, stored as a directory of Parquet files.

Layout: ``models.parquet``, ``edges.parquet``, ``evidence.parquet``, ``dangling.parquet``,
``problems.parquet``, ``meta.json`` and ``index.npz`` (the compact graph, :mod:`ptmgraph.index`, built
at save time; a snapshot without it, or whose index was built from other tables, still loads and the
graph builds its index in memory). :func:`load` reads every table; :func:`open_snapshot` checks the
same files and columns up front but reads a table, or some columns of it, only when first used, so a
point query reads a few columns of ``models`` and ``edges`` and none of the rest. A snapshot is
written to a temporary sibling directory and renamed into place, so a crash never leaves a half-written
snapshot under the final name; see :func:`save` for what may be replaced and how concurrent saves are
serialised.
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
from dataclasses import dataclass, field, replace
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
    FILES_SCHEMA,
    MODELS_SCHEMA,
    PROBLEMS_SCHEMA,
    Problem,
    access_of,
)

FORMAT_VERSION = 2
"""Version 2 added the ``files`` table and ``models.access``. Version 1 snapshots are still read: without
``files.parquet`` (an empty ``files`` table) and with ``access`` derived from ``gated``, ``disabled`` and
``private`` by :func:`ptmgraph.records.access_of`."""
_READABLE_VERSIONS = (1, FORMAT_VERSION)
_ADDED_IN_2 = {"models": ("access",), "files": tuple(FILES_SCHEMA)}
"""What a version-1 snapshot lacks (see :data:`FORMAT_VERSION`)."""
_ACCESS_FROM = ["gated", "disabled", "private"]
TABLES: dict[str, dict[str, pl.DataType]] = {
    "models": MODELS_SCHEMA,
    "edges": EDGES_SCHEMA,
    "evidence": EVIDENCE_SCHEMA,
    "dangling": DANGLING_SCHEMA,
    "problems": PROBLEMS_SCHEMA,
    "files": FILES_SCHEMA,
}


INDEX_COLUMNS: dict[str, list[str]] = {"models": ["id"], "edges": ["base", "child", "relation", "confidence"]}
"""The columns the compact index is built from and fingerprinted by (:mod:`ptmgraph.index`), by table."""


class SnapshotError(Exception):
    """A snapshot directory that cannot be read or written; the message names it."""


@dataclass
class Snapshot:
    """The lineage tables (see :mod:`ptmgraph.records` for their schemas) and metadata.

    Tables read from disk have the stored types; one assembled for saving may hold its lists of names as
    categoricals (:data:`ptmgraph.records.NAME_LIST`), which :func:`save` writes as text."""

    models: pl.DataFrame
    edges: pl.DataFrame
    evidence: pl.DataFrame
    dangling: pl.DataFrame
    problems: pl.DataFrame
    files: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=FILES_SCHEMA))
    meta: dict[str, Any] = field(default_factory=dict)
    index: compact.CompactGraph | None = field(default=None, repr=False, compare=False)
    """The stored compact graph of these tables, when the snapshot holds one that matches them."""

    def table(self, name: str) -> pl.DataFrame:
        return getattr(self, name)

    def columns(self, name: str, columns: list[str]) -> pl.DataFrame:
        """``columns`` of table ``name`` (every row)."""
        return self.table(name).select(columns)

    def with_edges(self, edges: pl.DataFrame) -> Snapshot:
        """This snapshot with other edges (and so without its stored index)."""
        return replace(self, edges=edges, index=None)


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
            for name, schema in TABLES.items():
                _write_table(snapshot.table(name), schema, tmp / f"{name}.parquet")
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


def _write_table(frame: pl.DataFrame, schema: dict[str, pl.DataType], path: Path) -> None:
    """Write ``frame`` to the Parquet file ``path`` with the stored ``schema``'s types.

    Streamed: columns are converted to their stored type (categorical lists of names become text,
    :data:`ptmgraph.records.NAME_LIST`) and encoded a slice of rows at a time, so writing takes little
    memory beyond the table itself; encoding a whole table at once held as much again at Hub scale.
    """
    frame.lazy().select([pl.col(c).cast(t) for c, t in schema.items()]).sink_parquet(path)


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
    meta, paths = _checked_files(directory)
    frames: dict[str, pl.DataFrame] = {}
    for name, schema in TABLES.items():
        frame = _upgraded(name, _read(paths[name], None), meta)
        missing = [c for c in schema if c not in frame.columns]
        if missing:
            raise SnapshotError(f"{paths[name]}: missing columns {', '.join(missing)}")
        frames[name] = _typed(frame.select(list(schema)), schema, paths[name])
    for name, columns in _REQUIRED.items():
        for column in columns:
            if frames[name][column].null_count():
                raise SnapshotError(f"{directory / (name + '.parquet')}: column {column!r} has empty values")
    return Snapshot(meta=meta, index=_stored_index(directory, frames["models"], frames["edges"]), **frames)


def _checked_files(directory: Path) -> tuple[dict[str, Any], dict[str, Path]]:
    """The snapshot's metadata and table paths, once the directory, ``meta.json`` and every table file
    are checked to be there (the tables' contents are not read)."""
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
    if meta.get("format_version") not in _READABLE_VERSIONS:
        raise SnapshotError(f"{meta_path}: snapshot format {meta.get('format_version')!r} is not "
                            f"{' or '.join(map(str, _READABLE_VERSIONS))}")
    paths = {}
    for name in TABLES:
        path = directory / f"{name}.parquet"
        if meta["format_version"] == 1 and name in _ADDED_IN_2 and len(_ADDED_IN_2[name]) == len(TABLES[name]):
            paths[name] = path  # not there: read as empty (_read_stored)
            continue
        if not os.path.lexists(path):
            raise SnapshotError(f"{path}: missing from the snapshot")
        if not path.is_file():  # a FIFO would block the reader forever
            raise SnapshotError(f"{path}: not a regular file")
        paths[name] = path
    return meta, paths


def _old(meta: dict[str, Any], name: str) -> tuple[str, ...]:
    """The columns of table ``name`` that a snapshot of ``meta``'s format does not store."""
    return _ADDED_IN_2.get(name, ()) if meta.get("format_version") == 1 else ()


def _upgraded(name: str, frame: pl.DataFrame, meta: dict[str, Any]) -> pl.DataFrame:
    """A table as stored by an older format, with what this format added (see :data:`FORMAT_VERSION`)."""
    absent = [c for c in _old(meta, name) if c not in frame.columns]
    if not absent:
        return frame
    if name == "files":
        return pl.DataFrame(schema=FILES_SCHEMA)
    if set(_ACCESS_FROM) <= set(frame.columns):
        access = [access_of(g, d, p) for g, d, p in frame.select(_ACCESS_FROM).iter_rows()]
        return frame.with_columns(pl.Series("access", access, dtype=pl.String()))
    return frame


def _read(path: Path, columns: list[str] | None) -> pl.DataFrame:
    """The table at ``path`` (only ``columns`` when given); an unreadable file raises :class:`SnapshotError`."""
    if not os.path.lexists(path) and path.name == "files.parquet":  # a version-1 snapshot (_checked_files)
        return pl.DataFrame(schema=FILES_SCHEMA)
    try:
        return pl.read_parquet(path, columns=columns)
    except (Exception, PanicException) as err:  # corrupt files raise several types, and can panic polars
        raise SnapshotError(f"{path}: not a readable Parquet file ({type(err).__name__})") from None


def open_snapshot(directory: Path) -> Snapshot:
    """The snapshot in ``directory``, its tables read when first used (see the module docstring).

    Checked now, with :func:`load`'s messages: the directory, ``meta.json``, that every table file is
    there, is Parquet and has its columns, and that a column stored with another type takes its type.
    Checked when read: empty required values and times Python cannot hold; a table that cannot be read
    then raises :class:`SnapshotError`, naming the file.
    """
    directory = Path(directory)
    other_types: dict[str, list[str]] = {}
    try:
        meta, paths = _checked_files(directory)
        for name, schema in TABLES.items():
            if not os.path.lexists(paths[name]):  # a table an older format did not have
                other_types[name] = []
                continue
            try:
                stored = pl.read_parquet_schema(paths[name])
            except (Exception, PanicException) as err:
                raise SnapshotError(f"{paths[name]}: not a readable Parquet file ({type(err).__name__})") from None
            missing = [c for c in schema if c not in stored and c not in _old(meta, name)]
            if missing:
                raise SnapshotError(f"{paths[name]}: missing columns {', '.join(missing)}")
            other_types[name] = [c for c in schema if c in stored and stored[c] != schema[c]]
        opened = StoredSnapshot(directory, meta, paths)
        # A column stored with another type is read and cast now, whether or not the command uses it, so
        # a damaged snapshot fails every command alike; a snapshot this version wrote has none.
        for name, columns in other_types.items():
            if columns:
                opened.columns(name, columns)
    except OSError as err:
        where = err.filename or directory
        raise SnapshotError(f"{where}: cannot be read ({err.strerror or type(err).__name__})") from None
    return opened


class StoredSnapshot(Snapshot):
    """A snapshot in a directory whose tables are read on first use, column by column when only some
    columns are asked for (:meth:`columns`), and kept (see :func:`open_snapshot`)."""

    def __init__(self, directory: Path, meta: dict[str, Any], paths: dict[str, Path]) -> None:
        # The dataclass fields are filled on first use: no call to Snapshot.__init__.
        self.directory = directory
        self.meta = meta
        self._paths = paths
        self._columns: dict[str, dict[str, pl.Series]] = {name: {} for name in TABLES}
        self._index: compact.CompactGraph | bool | None = False  # False: not read yet

    def __getattr__(self, name: str) -> Any:
        # Called only for attributes not set yet: a table read in full on first use.
        if name in TABLES and "_columns" in self.__dict__:
            frame = self.columns(name, list(TABLES[name]))
            setattr(self, name, frame)
            return frame
        raise AttributeError(name)

    @property  # type: ignore[override]
    def index(self) -> compact.CompactGraph | None:
        if self._index is False:
            self._index = _stored_index(self.directory, *(self.columns(t, c) for t, c in INDEX_COLUMNS.items()))
            if self._index is not None:  # the edge columns were read for the fingerprint only: not kept
                for column in INDEX_COLUMNS["edges"]:
                    self._columns["edges"].pop(column, None)
        return self._index  # type: ignore[return-value]

    @index.setter
    def index(self, value: compact.CompactGraph | None) -> None:
        self._index = value

    def columns(self, name: str, columns: list[str]) -> pl.DataFrame:
        if name in self.__dict__:  # the whole table is read (or was replaced)
            return self.__dict__[name].select(columns)
        have = self._columns[name]
        wanted = [c for c in columns if c not in have]
        unknown = [c for c in wanted if c not in TABLES[name]]
        if unknown:
            raise pl.exceptions.ColumnNotFoundError(f"{name} has no column {unknown[0]!r}")
        if wanted:
            path = self._paths[name]
            absent = [c for c in wanted if c in _old(self.meta, name)]
            if absent and name == "models":  # derived from columns a version-1 snapshot stores
                read = [c for c in wanted if c not in absent] + [c for c in _ACCESS_FROM if c not in wanted]
                frame = _upgraded(name, _read(path, read), self.meta)
            else:
                frame = _read(path, wanted)
            schema = {c: TABLES[name][c] for c in wanted}
            frame = _typed(frame.select(wanted), schema, path)
            for column in _REQUIRED.get(name, ()):
                if column in schema and frame[column].null_count():
                    raise SnapshotError(f"{path}: column {column!r} has empty values")
            have.update((c, frame[c]) for c in wanted)
        return pl.DataFrame([have[c] for c in columns])

    def with_edges(self, edges: pl.DataFrame) -> Snapshot:
        other = StoredSnapshot(self.directory, self.meta, self._paths)
        other._columns = {name: dict(columns) for name, columns in self._columns.items()}
        other._columns["edges"] = {}
        for name in TABLES:
            if name in self.__dict__:
                setattr(other, name, self.__dict__[name])
        other.edges = edges
        other._index = None
        return other


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
    dtype = column.dtype
    if isinstance(dtype, pl.Datetime) and dtype.time_unit == "ns":
        return True  # nanosecond counts reach the years 1677 to 2262 only
    if isinstance(dtype, pl.Datetime) and dtype.time_zone in (None, "UTC"):
        # The smallest and largest stored counts against the first and last instants of the years 1 to 9999:
        # two comparisons instead of a year per row.
        stored = column.to_physical()
        if stored.null_count() == stored.len():
            return True
        bounds = pl.Series([datetime(1, 1, 1), datetime(9999, 12, 31, 23, 59, 59, 999999)],
                           dtype=pl.Datetime(dtype.time_unit or "us")).to_physical()
        return bool(bounds[0] <= stored.min() and stored.max() <= bounds[1])  # type: ignore[operator]
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
