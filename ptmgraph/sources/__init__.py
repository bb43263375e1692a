"""Sources: each turns one kind of input into a :class:`~ptmgraph.records.Harvest`.

:func:`open_source` picks the source for a path (or takes the kind it is told).
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import polars as pl

from ptmgraph import reader
from ptmgraph.sources.edge_list import CSV_SUFFIXES, PARQUET_SUFFIXES, EdgeListSource, find_columns
from ptmgraph.sources.hub_records import HubRecordsSource
from ptmgraph.sources.interface import Source, SourceError
from ptmgraph.sources.local import LocalReposSource

__all__ = ["KINDS", "EdgeListSource", "HubRecordsSource", "Input", "LocalReposSource", "Source", "SourceError",
           "open_input", "open_source", "recorded_inputs"]

KINDS = ("hub-records", "edge-list", "local")
"""The values ``open_source(kind=...)`` accepts."""

_TREE_KEYS = {"finetunes", "adapters", "quantizations", "merges"}
_MODEL_KEYS = {
    "tags", "cardData", "siblings", "sha", "modelId", "downloads", "likes", "pipeline_tag", "library_name",
    "createdAt", "lastModified", "author",
}


@dataclass(frozen=True)
class Input:
    """One input of an ingest, as a snapshot's ``meta.json`` records it (``inputs``) so that it can be read
    again (``ingest --add``): the absolute ``path``, its ``kind`` (one of :data:`KINDS`; None until
    told or detected) and, for local repos, the ``namespace`` of flat folders; ``given``: the path as the
    command line gave it, which names the input in the tables' ``source`` columns (read again by it while
    it still leads to ``path``, so that an ``ingest --add`` from the same directory writes the same tables
    as one ingest of everything)."""

    path: str
    kind: str | None = None
    namespace: str | None = None
    given: str | None = field(default=None, compare=False)

    @classmethod
    def of(cls, path: Path, kind: str | None = None, namespace: str | None = None) -> Input:
        return cls(os.path.abspath(path), kind, namespace, str(path))

    @property
    def readable_path(self) -> Path:
        """The path to read: as given, while it leads to :attr:`path`."""
        same = self.given is not None and os.path.abspath(self.given) == self.path
        return Path(self.given if same and self.given is not None else self.path)

    @classmethod
    def from_meta(cls, value: Any) -> Input | None:
        """The input a ``meta.json`` entry records, or None when it is not one."""
        if not isinstance(value, dict) or not isinstance(value.get("path"), str) or value.get("kind") not in KINDS:
            return None
        namespace, given = value.get("namespace"), value.get("given")
        return cls(value["path"], value["kind"], namespace if isinstance(namespace, str) else None,
                   given if isinstance(given, str) else None)

    def describe(self) -> str:
        """``PATH (KIND)``, and the namespace of local repos when given."""
        namespace = f", --namespace {self.namespace}" if self.namespace else ""
        return f"{self.path} ({self.kind}{namespace})"

    def as_meta(self) -> dict[str, Any]:
        return {"path": self.path, "kind": self.kind, **({"namespace": self.namespace} if self.namespace else {}),
                **({"given": self.given} if self.given is not None else {})}


def open_input(given: Input) -> tuple[Input, Source]:
    """The source that reads ``given`` (:func:`open_source`), and ``given`` with the kind it has."""
    source = open_source(given.readable_path, given.kind, namespace=given.namespace)
    kind = ("local" if isinstance(source, LocalReposSource) else
            "edge-list" if isinstance(source, EdgeListSource) else "hub-records")
    return replace(given, kind=kind, namespace=given.namespace if kind == "local" else None), source


def recorded_inputs(meta: dict[str, Any], snapshot: Path) -> list[Input]:
    """The inputs the snapshot of ``meta`` (in directory ``snapshot``) was ingested from, each still there;
    :class:`SourceError` naming the snapshot when it records none (a crawl, an older ptmgraph) or one is gone."""
    stored = meta.get("inputs")
    inputs = [Input.from_meta(value) for value in stored] if isinstance(stored, list) else []
    if not inputs or any(i is None for i in inputs):
        made = "; ".join(str(s) for s in meta.get("sources") or []) or "unknown sources"
        raise SourceError(f"{snapshot}: records no inputs that can be read again (it was made from {made}); "
                          "ingest every source anew with --out and --replace")
    for given in inputs:
        assert given is not None
        if not os.path.exists(given.path):
            raise SourceError(f"{snapshot}: its input {given.path} ({given.kind}) no longer exists; ingest the "
                              "sources that remain anew with --out and --replace")
    return [i for i in inputs if i is not None]


def open_source(path: Path, kind: str | None = None, *, namespace: str | None = None) -> Source:
    """The source that reads ``path``; ``kind`` (one of :data:`KINDS`) forces one. ``namespace``: for local
    repos, the namespace of flat folders (:class:`~ptmgraph.sources.local.LocalReposSource`).

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
        return _forced(path, kind, namespace)
    if not path.exists():
        raise SourceError(f"{path}: no such file or directory")
    if path.is_dir():
        if any(HubRecordsSource.role_of_file(p) for p in _files_in(path)):
            return HubRecordsSource.from_directory(path)
        if LocalReposSource.looks_like(path):
            return LocalReposSource(path, namespace=namespace)
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


def _forced(path: Path, kind: str, namespace: str | None = None) -> Source:
    key = kind.strip().lower().replace("_", "-")
    if key == "local":
        return LocalReposSource(path, namespace=namespace)
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
