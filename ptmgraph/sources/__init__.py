"""Sources: each turns one kind of input into a :class:`~ptmgraph.records.Harvest`.

:func:`open_source` picks the source for a path (or takes the kind it is told).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import polars as pl

from ptmgraph import reader
from ptmgraph.sources.edge_list import CSV_SUFFIXES, PARQUET_SUFFIXES, EdgeListSource, find_columns
from ptmgraph.sources.hub_records import HubRecordsSource
from ptmgraph.sources.interface import Source, SourceError
from ptmgraph.sources.local import LocalReposSource

__all__ = ["KINDS", "EdgeListSource", "HubRecordsSource", "LocalReposSource", "Source", "SourceError", "open_source"]

KINDS = ("hub-records", "edge-list", "local")
"""The values ``open_source(kind=...)`` accepts."""

_TREE_KEYS = {"finetunes", "adapters", "quantizations", "merges"}
_MODEL_KEYS = {
    "tags", "cardData", "siblings", "sha", "modelId", "downloads", "likes", "pipeline_tag", "library_name",
    "createdAt", "lastModified", "author",
}


def open_source(path: Path, kind: str | None = None) -> Source:
    """The source that reads ``path``; ``kind`` (one of :data:`KINDS`) forces one.

    Detection when ``kind`` is None:

    - a directory with ``models.jsonl`` / ``readmes.jsonl`` / ``model_tree.jsonl`` (or ``.parquet``)
      -> Hub records; a directory that is a model repo, holds repos or is a Hugging Face cache -> local;
    - a file named like a Hub-record file -> Hub records in that role;
    - ``.csv`` / ``.tsv`` -> edge list (its header must name child and base columns);
    - ``.parquet`` -> Hub records when its columns look like them (``tags``/``cardData``/``siblings``
      for models, ``readme``, model-tree headings), edge list when they name child and base columns;
    - ``.jsonl`` / ``.json`` -> Hub records, the role told by the first row's keys; an edge list when
      those keys name child and base columns.

    Raises :class:`SourceError` with a one-line message when the path is missing or unrecognised.
    """
    path = Path(path)
    if kind is not None:
        return _forced(path, kind)
    if not path.exists():
        raise SourceError(f"{path}: no such file or directory")
    if path.is_dir():
        if any(HubRecordsSource.role_of_file(p) for p in _files_in(path)):
            return HubRecordsSource.from_directory(path)
        if LocalReposSource.looks_like(path):
            return LocalReposSource(path)
        raise _unknown(path)
    role = HubRecordsSource.role_of_file(path)
    if role is not None:
        return _hub_file(path, role)
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        source = EdgeListSource(path)
        source.columns()  # a precise SourceError now (missing columns, binary, encoding) beats a vague one
        return source
    if suffix in PARQUET_SUFFIXES:
        try:
            names = list(pl.scan_parquet(path, glob=False).collect_schema())
        except Exception as err:  # polars raises several unrelated types for corrupt files
            raise SourceError(f"{path}: not a readable Parquet file ({type(err).__name__})") from None
        role = _role_from_keys(set(names))
        if role is not None:
            return _hub_file(path, role)
        try:
            find_columns(names)
        except ValueError:
            raise _unknown(path) from None
        return EdgeListSource(path)
    if suffix in (".jsonl", ".json", ".ndjson"):
        keys = _first_json_keys(path)
        role = _role_from_keys(keys)
        if role is not None:
            return _hub_file(path, role)
        try:
            find_columns(sorted(keys))
        except ValueError:
            raise _unknown(path) from None
        return EdgeListSource(path)
    raise _unknown(path)


def _forced(path: Path, kind: str) -> Source:
    key = kind.strip().lower().replace("_", "-")
    if key == "local":
        return LocalReposSource(path)
    if key == "edge-list":
        return EdgeListSource(path)
    if key == "hub-records":
        if path.is_dir():
            return HubRecordsSource.from_directory(path)
        if not path.is_file():
            raise SourceError(f"{path}: no such file or directory")
        role = HubRecordsSource.role_of_file(path)
        if role is None and path.suffix.lower() in (".jsonl", ".json", ".ndjson"):
            role = _role_from_keys(_first_json_keys(path))
        return _hub_file(path, role or "models")
    raise SourceError(f"unknown input kind {kind!r}; use one of: {', '.join(KINDS)}")


def _unknown(path: Path) -> SourceError:
    return SourceError(f"{path}: cannot tell what kind of input this is; use --kind {{{','.join(KINDS)}}}")


def _hub_file(path: Path, role: str) -> HubRecordsSource:
    return HubRecordsSource(**{role: path})


def _files_in(directory: Path) -> list[Path]:
    try:
        return [p for p in directory.iterdir() if p.is_file()]
    except OSError:
        return []


def _role_from_keys(keys: set[str]) -> str | None:
    """'models', 'readmes' or 'tree' for a row with these keys (or columns), None if none fits."""
    if "readme" in keys and "id" in keys:
        return "readmes"
    if "id" in keys and keys & _TREE_KEYS:
        return "tree"
    if keys & _MODEL_KEYS and ("id" in keys or "modelId" in keys):
        return "models"
    if {"tags", "cardData"} & keys:
        return "models"
    return None


def _first_json_keys(path: Path) -> set[str]:
    """The keys of the first JSON object among the first 50 lines of a JSON Lines file (empty if none)."""
    try:
        with path.open("rb") as handle:
            for _, row in itertools.islice(reader.json_lines(handle, path.name), 50):
                if isinstance(row, dict):
                    return set(row)
    except OSError:
        return set()
    return set()
