"""A snapshot: the lineage tables, stored as a directory of Parquet files, one consistent version at a time.

Layout (format 2): ``DIR/CURRENT`` names the current *generation*, ``DIR/gen-N/``, a directory that
holds ``models.parquet``, ``edges.parquet``, ``evidence.parquet``, ``dangling.parquet``,
``problems.parquet``, ``meta.json`` and ``index.npz`` (the compact graph, :mod:`ptmgraph.index`, built
at save time; ``meta.json`` records its manifest and every file's size). A generation is written
whole beside the snapshot and renamed into it; then ``CURRENT`` is replaced (a rename, so atomic):
see :func:`save`. A reader reads ``CURRENT`` once and holds a shared ``flock`` on that generation
while it may read from it (:func:`open_snapshot`); a save removes an older generation only when it
can lock it exclusively, so a reader never sees a file of another version, and a writer never waits
for a reader. Format 1 (every file directly in ``DIR``) is still read; its stored index is not used.

:func:`load` reads every table; :func:`open_snapshot` checks the same files and columns up front but
reads a table, or some columns of it, only when first used, so a point query reads a few columns of
``models`` and none of the rest.

The versions on disk (the files, generations and ``CURRENT``, the save lock, the reader's pin, the
history) are kept by :mod:`ptmgraph.snapshot_versions`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any

import polars as pl
from polars.exceptions import PanicException

from ptmgraph import index as compact
from ptmgraph.records import FILES_SCHEMA, access_of
from ptmgraph.snapshot_versions import (
    ATTACHMENTS,
    GENERATION_NAME,
    POINTER,
    TABLES,
    Pin,
    SnapshotError,
    add_generation,
    check_replaceable,
    pin_current,
    point_current,
    read_meta,
    remove_leftovers,
    remove_unused_generations,
    save_lock,
    swap_in,
)
from ptmgraph.snapshot_versions import current_files as current_files  # where its callers look for it
from ptmgraph.snapshot_versions import stored_meta as stored_meta
from ptmgraph.umask import as_made_by_user

FORMAT_VERSION = 2
"""The format this version writes. Version 2: generations (``CURRENT`` names ``gen-N/``), an index
manifest in ``meta.json``, the ``files`` table, ``models.access``, ``models.code_files``,
``edges.loads_code``, and ``edges.parent_confidence`` and ``relation_confidence`` where 1 had one
``confidence``. Version 1 snapshots (every file directly in the snapshot directory, no manifest) are still
read: without ``files.parquet`` (an empty ``files`` table), with ``access`` derived from ``gated``,
``disabled`` and ``private`` by :func:`ptmgraph.records.access_of`, the two confidences from the edge's
stored evidence kinds, rule, weights and relations (:func:`ptmgraph.relations.stored_confidences`), no
``code_files`` (empty lists: a version-1 ingest did not look) and no ``loads_code`` (false)."""
READ_FORMATS = (1, 2)
"""The formats this version reads (see :data:`FORMAT_VERSION`)."""
_ADDED_IN_2 = {"models": ("access", "code_files"), "edges": ("loads_code", "parent_confidence", "relation_confidence"),
               "files": tuple(FILES_SCHEMA)}
"""What a version-1 snapshot lacks (see :data:`FORMAT_VERSION`)."""
_ACCESS_FROM = ["gated", "disabled", "private"]
_CONFIDENCES_FROM = ["evidence_kinds", "relation_rule", "weights", "declared_relation", "hub_relation",
                     "prose_relation", "relation"]
_DERIVED_FROM = {"access": _ACCESS_FROM, "parent_confidence": _CONFIDENCES_FROM,
                 "relation_confidence": _CONFIDENCES_FROM}
"""The stored columns each column a version-1 snapshot lacks is derived from (see :func:`_upgraded`)."""


INDEX_COLUMNS: dict[str, list[str]] = {"models": ["id"], "edges": ["base", "child", "relation", "parent_confidence"]}
"""The columns the compact index is built from and fingerprinted by (:mod:`ptmgraph.index`), by table."""


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
    directory: Path | None = field(default=None, repr=False, compare=False)
    """The directory the tables were read from (a generation's), for messages; None when built in memory."""

    def table(self, name: str) -> pl.DataFrame:
        return getattr(self, name)

    def columns(self, name: str, columns: list[str]) -> pl.DataFrame:
        """``columns`` of table ``name`` (every row)."""
        return self.table(name).select(columns)

    def columns_where(self, name: str, columns: list[str], key: str, values: pl.Series) -> pl.DataFrame:
        """``columns`` of table ``name`` in the rows whose ``key`` is one of ``values`` (in table order)."""
        return self.columns(name, list(dict.fromkeys([key, *columns]))).filter(
            pl.col(key).is_in(values.implode())).select(columns)

    def with_edges(self, edges: pl.DataFrame) -> Snapshot:
        """This snapshot with other edges (and so without its stored index)."""
        return replace(self, edges=edges, index=None)

    def where(self, name: str) -> str:
        """The table ``name`` as a message names it: its file, when read from one."""
        return str(self.directory / f"{name}.parquet") if self.directory is not None else f"the {name} table"


def bundled_path() -> Path:
    """The snapshot shipped inside the package (compiled from real Hub metadata)."""
    return Path(str(resources.files("ptmgraph") / "data" / "hub-sample"))


def save(snapshot: Snapshot, directory: Path, attachments: dict[str, Path] | None = None) -> Path:
    """Write ``snapshot`` to ``directory`` as a new generation and make it current; returns the directory.
    ``attachments``: files copied into the generation, by their name there (one of :data:`ATTACHMENTS`).

    The generation is written to a temporary sibling ``.NAME.tmp-*``, renamed into the snapshot as
    ``gen-N`` and made current by replacing ``CURRENT``; a crash at any moment leaves the previous
    version current and whole. A directory that is not a snapshot yet (absent, empty, or a format 1
    snapshot) gets the whole new layout renamed into place instead. An existing ``directory`` is
    replaced only when it is empty or a ptmgraph snapshot (:func:`is_snapshot_directory`); anything else
    (a symlink, a file, a folder of user files) raises :class:`SnapshotError`, as does a write the
    system refuses (a full disk: the previous version stays current). Older generations are removed once
    no reader holds them (:func:`open_snapshot`); one still held stays for a later save to remove.

    Saves to one directory are serialised by an advisory lock on the sibling file ``.NAME.lock``
    (removed when the save is done); holding it, a save first removes what a killed save left behind
    (``.NAME.tmp-*`` and ``.NAME.old-*`` directories holding only snapshot files, generations
    ``CURRENT`` does not name).
    """
    given = Path(directory)
    directory = Path(os.path.abspath(given))  # not resolve(): a symlink is refused, never followed
    parent = directory.parent
    if GENERATION_NAME.fullmatch(directory.name) and os.path.lexists(parent / POINTER):
        raise SnapshotError(f"{directory}: is a generation inside the snapshot {parent}; give {parent} instead")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise SnapshotError(f"{directory}: cannot write here ({err.strerror})") from None
    with save_lock(parent / f".{directory.name}.lock", directory):
        remove_leftovers(directory)
        layout = check_replaceable(directory)
        if layout == "generations":
            remove_unused_generations(directory)
        try:
            tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.tmp-", dir=parent))
            as_made_by_user(tmp)  # it becomes the snapshot folder (or a generation): not mkdtemp's 0700
        except OSError as err:
            raise SnapshotError(f"{directory}: cannot write here ({err.strerror})") from None
        try:
            if layout == "generations":
                _write_generation(snapshot, tmp, attachments or {})
                add_generation(tmp, directory)
                remove_unused_generations(directory)
            else:
                _write_generation(snapshot, tmp / "gen-1", attachments or {})
                point_current(tmp, "gen-1")
                swap_in(tmp, directory)
        except OSError as err:
            shutil.rmtree(tmp, ignore_errors=True)
            raise SnapshotError(f"{directory}: cannot write the snapshot ({err.strerror or err})") from None
        except compact.IndexBuildError as err:
            shutil.rmtree(tmp, ignore_errors=True)
            raise SnapshotError(f"{directory}: cannot write the snapshot ({err})") from None
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return given


def _write_generation(snapshot: Snapshot, target: Path, attachments: dict[str, Path]) -> None:
    """Write the tables, the index and ``meta.json`` (with the index's manifest and every file's size)."""
    target.mkdir(exist_ok=True)
    for name, schema in TABLES.items():
        _write_table(snapshot.table(name), schema, target / f"{name}.parquet")
    manifest = compact.write(compact.build(snapshot.models, snapshot.edges), target / compact.INDEX_FILE)
    for name, path in attachments.items():
        if name not in ATTACHMENTS:
            raise ValueError(f"{name}: not a file a snapshot holds")
        shutil.copyfile(path, target / name)
    meta = {
        **snapshot.meta,
        "format_version": FORMAT_VERSION,
        "written_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "counts": {name: snapshot.table(name).height for name in TABLES},
        "index": manifest.as_meta(),
        "files": {path.name: path.stat().st_size for path in sorted(target.iterdir())},
    }
    (target / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")


def _write_table(frame: pl.DataFrame, schema: dict[str, pl.DataType], path: Path) -> None:
    """Write ``frame`` to the Parquet file ``path`` with the stored ``schema``'s types.

    Streamed: :data:`WRITE_ROWS` rows at a time are converted to their stored type (categorical lists of
    names become text, :data:`ptmgraph.records.NAME_LIST`) and handed to the Parquet sink, so writing takes
    little memory beyond the table itself. (Encoding a whole table at once held as much again at Hub scale;
    a sink of the whole table with the casts in its plan still made the text of every list at once: 1M
    generated models' table took 700 to 900 MiB more while written, 270 MiB in slices.) A write the system
    refuses (a full disk) raises OSError, as any other write does.
    """
    from polars.io.plugins import register_io_source  # writing only: not on the readers' start-up path

    casts = [pl.col(c).cast(t) for c, t in schema.items()]

    def slices(*_: object) -> Iterator[pl.DataFrame]:
        for start in range(0, frame.height, WRITE_ROWS):
            yield frame.slice(start, WRITE_ROWS).select(casts)

    try:
        register_io_source(slices, schema=pl.Schema(schema)).sink_parquet(path)
    except (pl.exceptions.PolarsError, PanicException) as err:
        system = _OS_ERROR.search(str(err))
        if system is None:
            raise
        number = int(system.group(1))
        raise OSError(number, os.strerror(number), str(path)) from None


WRITE_ROWS = 65_536
"""How many rows of a table :func:`_write_table` converts to their stored types at once."""

_OS_ERROR = re.compile(r"\(os error ([0-9]{1,4})\)")
"""How polars reports the system's error number when it cannot write a file."""


def load(directory: Path) -> Snapshot:
    """Read a snapshot directory (its current version); raises :class:`SnapshotError` naming the file and
    what is wrong."""
    directory = Path(directory)
    pin = None
    try:
        files, pin, meta, paths = _opened(directory)
        return _load(files, meta, paths)
    except OSError as err:  # e.g. a directory the user may not read
        where = err.filename or directory
        raise SnapshotError(f"{where}: cannot be read ({err.strerror or type(err).__name__})") from None
    finally:
        if pin is not None:  # every table is read; the index maps its file, which stays readable
            pin.release()


def _load(directory: Path, meta: dict[str, Any], paths: dict[str, Path]) -> Snapshot:
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
    index = _stored_index(directory, meta, frames["models"]["id"])
    return Snapshot(meta=meta, index=index, directory=directory, **frames)


def _opened(directory: Path) -> tuple[Path, Pin | None, dict[str, Any], dict[str, Path]]:
    """The directory of the snapshot's current version, the lock that keeps it, its metadata and its table
    paths, once checked as :func:`_checked_files` checks them."""
    _check_directory(directory)
    files, pin = pin_current(directory)
    try:
        meta, paths = _checked_files(files)
    except BaseException:
        if pin is not None:
            pin.release()
        raise
    return files, pin, meta, paths


def _check_directory(directory: Path) -> None:
    if directory.is_file():
        raise SnapshotError(f"{directory}: is a file; a snapshot is a directory (see 'ptmgraph ingest --help')")
    if not directory.is_dir():
        raise SnapshotError(f"{directory}: no such snapshot directory")


def _checked_files(directory: Path) -> tuple[dict[str, Any], dict[str, Path]]:
    """The metadata and table paths of one version's files in ``directory``, once the directory,
    ``meta.json`` and every table file are checked to be there (the tables' contents are not read)."""
    _check_directory(directory)
    meta_path = directory / "meta.json"
    if not meta_path.is_file():
        raise SnapshotError(f"{directory}: not a ptmgraph snapshot (no meta.json)")
    meta = read_meta(meta_path)
    if meta.get("format_version") not in READ_FORMATS:
        raise SnapshotError(f"{meta_path}: snapshot format {meta.get('format_version')!r} is not one this "
                            f"version reads ({' or '.join(map(str, READ_FORMATS))})")
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
    if "access" in absent and set(_ACCESS_FROM) <= set(frame.columns):
        access = [access_of(g, d, p) for g, d, p in frame.select(_ACCESS_FROM).iter_rows()]
        frame = frame.with_columns(pl.Series("access", access, dtype=pl.String()))
    if "parent_confidence" in absent and set(_CONFIDENCES_FROM) <= set(frame.columns):
        from ptmgraph import relations  # only for a version-1 snapshot

        key = pl.col("evidence_kinds").list.sort().list.join(",").fill_null("")
        combos = frame.select(key.alias("_kinds"), *_CONFIDENCES_FROM[1:]).unique()
        decided = [relations.stored_confidences(kinds.split(",") if kinds else [], *rest)
                   for kinds, *rest in combos.iter_rows()]
        combos = combos.with_columns(pl.Series("parent_confidence", [p.value for p, _ in decided], pl.String()),
                                     pl.Series("relation_confidence", [r.value for _, r in decided], pl.String()))
        frame = (frame.with_columns(key.alias("_kinds"))
                 .join(combos, on=["_kinds", *_CONFIDENCES_FROM[1:]], how="left", nulls_equal=True,
                       maintain_order="left")
                 .drop("_kinds"))
    if "code_files" in absent:
        frame = frame.with_columns(pl.lit([], dtype=TABLES["models"]["code_files"]).alias("code_files"))
    if "loads_code" in absent:
        frame = frame.with_columns(pl.lit(False).alias("loads_code"))
    return frame


def _read(path: Path, columns: list[str] | None) -> pl.DataFrame:
    """The table at ``path`` (only ``columns`` when given); an unreadable file raises :class:`SnapshotError`."""
    if not os.path.lexists(path) and path.name == "files.parquet":  # a version-1 snapshot (_checked_files)
        return pl.DataFrame(schema=FILES_SCHEMA)
    try:
        return pl.read_parquet(path, columns=columns, glob=False)  # a path is a path, never a pattern
    except (Exception, PanicException) as err:  # corrupt files raise several types, and can panic polars
        raise SnapshotError(f"{path}: not a readable Parquet file ({type(err).__name__})") from None


def open_snapshot(directory: Path) -> Snapshot:
    """The snapshot in ``directory``, its tables read when first used (see the module docstring).

    One version is opened: the generation ``CURRENT`` names, locked shared for as long as the returned
    snapshot lives, so every table it reads later comes from that version however many saves replace
    the snapshot meanwhile. Checked now, with :func:`load`'s messages: the directory, ``meta.json``,
    that every table file is there, is Parquet and has its columns, and that a column stored with
    another type takes its type. Checked when read: empty required values and times Python cannot hold;
    a table that cannot be read then raises :class:`SnapshotError`, naming the file.
    """
    directory = Path(directory)
    other_types: dict[str, list[str]] = {}
    try:
        files, pin, meta, paths = _opened(directory)
        opened = StoredSnapshot(files, meta, paths, pin)
        for name, schema in TABLES.items():
            if not os.path.lexists(paths[name]):  # a table an older format did not have
                other_types[name] = []
                continue
            try:
                stored = pl.scan_parquet(paths[name], glob=False).collect_schema()
            except (Exception, PanicException) as err:
                raise SnapshotError(f"{paths[name]}: not a readable Parquet file ({type(err).__name__})") from None
            missing = [c for c in schema if c not in stored and c not in _old(meta, name)]
            if missing:
                raise SnapshotError(f"{paths[name]}: missing columns {', '.join(missing)}")
            other_types[name] = [c for c in schema if c in stored and stored[c] != schema[c]]
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
    columns are asked for (:meth:`columns`), and kept (see :func:`open_snapshot`). ``directory`` is the
    directory of the version's files (a generation); the lock on it is held while this object lives."""

    def __init__(self, directory: Path, meta: dict[str, Any], paths: dict[str, Path], pin: Pin | None) -> None:
        # The dataclass fields are filled on first use: no call to Snapshot.__init__.
        self.directory = self._files = directory
        self.meta = meta
        self._paths = paths
        self._pin = pin
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
            self._index = _stored_index(self._files, self.meta, self.columns("models", ["id"])["id"])
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
            if absent and name != "files":  # derived from columns a version-1 snapshot stores, or defaults
                derived_from = dict.fromkeys(c for a in absent for c in _DERIVED_FROM.get(a, ()))
                read = [c for c in wanted if c not in absent] + [c for c in derived_from if c not in wanted]
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

    def columns_where(self, name: str, columns: list[str], key: str, values: pl.Series) -> pl.DataFrame:
        """As :meth:`Snapshot.columns_where`, reading from the file only the rows asked for (a columns not read
        yet, of a table read whole or of an older format: as the base class does)."""
        wanted = list(dict.fromkeys([key, *columns]))
        if name in self.__dict__ or all(c in self._columns[name] for c in wanted) or any(
                c in _old(self.meta, name) for c in wanted):
            return super().columns_where(name, columns, key, values)
        path = self._paths[name]
        try:
            frame = pl.scan_parquet(path).select(wanted).filter(pl.col(key).is_in(values.implode())).collect()
        except (Exception, PanicException) as err:
            raise SnapshotError(f"{path}: not a readable Parquet file ({type(err).__name__})") from None
        return _typed(frame, {c: TABLES[name][c] for c in wanted}, path).select(columns)

    def with_edges(self, edges: pl.DataFrame) -> Snapshot:
        other = StoredSnapshot(self._files, self.meta, self._paths, self._pin)
        other._columns = {name: dict(columns) for name, columns in self._columns.items()}
        other._columns["edges"] = {}
        for name in TABLES:
            if name in self.__dict__:
                setattr(other, name, self.__dict__[name])
        other.edges = edges
        other._index = None
        return other


def _stored_index(directory: Path, meta: dict[str, Any], ids: pl.Series) -> compact.CompactGraph | None:
    """The snapshot's ``index.npz`` when ``meta.json`` vouches for it and it passes :func:`ptmgraph.index.read`'s
    checks against the manifest and the ``models`` ids; None otherwise, and the graph builds the index
    from the tables (a format 1 snapshot has no manifest: its index is always rebuilt).

    The manifest binds the index to these tables: it holds the digest of their content computed when
    they were saved, and ``meta.json`` the size of each file, so a ``models`` or ``edges`` file replaced
    since is seen without reading it. The index's counts are checked against the tables themselves: its
    rows against the ``models`` ids, its edges against the row count in the ``edges`` file's footer (a
    table ptmgraph assembles holds one row per pair; one that names a pair twice gets its index rebuilt).
    A damaged or crafted index is never an error: the tables decide.
    """
    manifest = compact.Manifest.from_meta(meta.get("index"))
    sizes = meta.get("files")
    if manifest is None or not isinstance(sizes, dict):
        return None
    path = directory / compact.INDEX_FILE
    try:
        for name in ("models.parquet", "edges.parquet"):
            if os.stat(directory / name).st_size != sizes.get(name):
                return None
        if not stat.S_ISREG(os.lstat(path).st_mode):  # opening a FIFO would block
            return None
        edge_rows = pl.scan_parquet(directory / "edges.parquet").select(pl.len()).collect().item()
        return compact.read(path, ids, edge_rows, manifest)
    except (OSError, compact.IndexFileError, pl.exceptions.PolarsError, PanicException):
        return None


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


