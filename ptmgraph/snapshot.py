"""A snapshot: the lineage tables, stored as a directory of Parquet files.

Layout: ``models.parquet``, ``edges.parquet``, ``evidence.parquet``, ``dangling.parquet``,
``problems.parquet`` and ``meta.json``. A snapshot is written to a temporary sibling directory and
renamed into place, so a crash never leaves a half-written snapshot under the final name.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any

import polars as pl

from ptmgraph.records import DANGLING_SCHEMA, EDGES_SCHEMA, EVIDENCE_SCHEMA, MODELS_SCHEMA, PROBLEMS_SCHEMA

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

    def table(self, name: str) -> pl.DataFrame:
        return getattr(self, name)


def bundled_path() -> Path:
    """The snapshot shipped inside the package (compiled from real Hub metadata)."""
    return Path(str(resources.files("ptmgraph") / "data" / "hub-sample"))


def save(snapshot: Snapshot, directory: Path) -> Path:
    """Write ``snapshot`` to ``directory`` atomically (temp dir + rename); returns the directory."""
    directory = Path(directory)
    parent = directory.resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        if directory.exists() and not (directory / "meta.json").is_file() and any(directory.iterdir()):
            raise SnapshotError(f"{directory}: exists and is not a ptmgraph snapshot; refusing to overwrite it")
        tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=parent))
    except OSError as err:
        raise SnapshotError(f"{directory}: cannot write here ({err.strerror})") from None
    try:
        for name in TABLES:
            snapshot.table(name).write_parquet(tmp / f"{name}.parquet")
        meta = {
            **snapshot.meta,
            "format_version": FORMAT_VERSION,
            "written_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "counts": {name: snapshot.table(name).height for name in TABLES},
        }
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
        old = None
        if directory.exists():
            old = parent / f".{directory.name}.old-{os.getpid()}"
            directory.rename(old)
        tmp.rename(directory)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return directory


def load(directory: Path) -> Snapshot:
    """Read a snapshot directory; raises :class:`SnapshotError` naming what is wrong."""
    directory = Path(directory)
    if directory.is_file():
        raise SnapshotError(f"{directory}: is a file; a snapshot is a directory (see 'ptmgraph ingest --help')")
    if not directory.is_dir():
        raise SnapshotError(f"{directory}: no such snapshot directory")
    meta_path = directory / "meta.json"
    if not meta_path.is_file():
        raise SnapshotError(f"{directory}: not a ptmgraph snapshot (no meta.json)")
    try:
        meta = json.loads(meta_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise SnapshotError(f"{meta_path}: not valid JSON") from None
    if not isinstance(meta, dict) or meta.get("format_version") != FORMAT_VERSION:
        raise SnapshotError(f"{directory}: snapshot format {meta.get('format_version')!r} is not {FORMAT_VERSION}")
    frames: dict[str, pl.DataFrame] = {}
    for name, schema in TABLES.items():
        path = directory / f"{name}.parquet"
        try:
            frame = pl.read_parquet(path)
        except FileNotFoundError:
            raise SnapshotError(f"{path}: missing from the snapshot") from None
        except Exception as err:  # polars raises several unrelated types for corrupt files
            raise SnapshotError(f"{path}: not a readable Parquet file ({type(err).__name__})") from None
        missing = [c for c in schema if c not in frame.columns]
        if missing:
            raise SnapshotError(f"{path}: missing columns {', '.join(missing)}")
        frames[name] = frame.select(list(schema)).cast(schema)  # type: ignore[arg-type]
    return Snapshot(meta=meta, **frames)
