"""Source: a table of (child, base[, relation]) rows, as CSV, TSV, Parquet or JSON Lines.

The format is chosen by suffix: ``.csv`` (comma; a header with no comma but tabs or semicolons
switches to that separator), ``.tsv``/``.tab`` (tab), ``.parquet``, ``.jsonl``/``.ndjson`` (one object
per line; the columns are the keys of all objects). Text must be UTF-8 (a BOM is fine).

Columns are matched by name, case-insensitively, with spaces and ``-`` read as ``_``; the first
alias present wins:

- child (required):  ``child``, ``model``, ``model_id``, ``derived``, ``target``
- base (required):   ``base``, ``base_model``, ``parent``, ``source``
- relation:          ``relation``, ``relationship``, ``type``, ``relation_type``

A ``base`` cell may name several bases, separated by commas or semicolons (``"a/x, b/y"``; quote the
cell in CSV), written as a list (``['a/x', 'b/y']``) or, in Parquet, stored as a list column. Each base
becomes one :class:`~ptmgraph.records.Reference` of kind ``edge_list`` with field
``edge_list:<base column>`` and source ``<file name>:<row>`` (rows counted from 1, header excluded).
The relation cell applies to every base in its row; when it is empty the relation is left unset, so
``assemble`` decides it (two or more bases -> merge). Rows with an empty base are skipped (a model with
no known base adds nothing to the lineage); a row with no child or an unrecognised relation becomes a
:class:`~ptmgraph.records.Problem`. The table only adds references: no model records, no known ids.
"""

from __future__ import annotations

import csv
import itertools
import re
from pathlib import Path

import polars as pl

from ptmgraph.records import EvidenceKind, Harvest, Problem, Reference, Relation
from ptmgraph.sources.interface import SourceError
from ptmgraph.sources.jsonl import read_rows

CHILD_ALIASES = ("child", "model", "model_id", "derived", "target")
BASE_ALIASES = ("base", "base_model", "parent", "source")
RELATION_ALIASES = ("relation", "relationship", "type", "relation_type")

CSV_SUFFIXES = {".csv": ",", ".tsv": "\t", ".tab": "\t"}
PARQUET_SUFFIXES = (".parquet", ".pq")
JSON_LINES_SUFFIXES = (".jsonl", ".ndjson")
_SPLIT = re.compile(r"[,;]")
_KNOWN_RELATIONS = ", ".join(r.value for r in Relation)


def _key(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def find_columns(names: list[str]) -> dict[str, str | None]:
    """The columns playing each role: ``{"child": name, "base": name, "relation": name or None}``.

    Raises :class:`ValueError` (message names the missing roles) when child or base is absent.
    """
    by_key: dict[str, str] = {}
    for name in names:
        by_key.setdefault(_key(name), name)
    found: dict[str, str | None] = {}
    for role, aliases in (("child", CHILD_ALIASES), ("base", BASE_ALIASES), ("relation", RELATION_ALIASES)):
        found[role] = next((by_key[a] for a in aliases if a in by_key), None)
    missing = [role for role in ("child", "base") if found[role] is None]
    if missing:
        raise ValueError(" and ".join(f"no {role} column" for role in missing))
    return found


def _shown(names: list[str]) -> str:
    shown = [repr(n if len(n) <= 40 else n[:37] + "...") for n in names[:12]]
    more = f" and {len(names) - 12} more" if len(names) > 12 else ""
    return (", ".join(shown) + more) if shown else "none"


class EdgeListSource:
    """A (child, base[, relation]) table; see the module docstring for the accepted columns."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._line_problems: list[Problem] = []

    def describe(self) -> str:
        return f"edge list: {self.path}"

    def columns(self) -> dict[str, str | None]:
        """Check the file and its header without reading the rows; returns :func:`find_columns`'s answer."""
        return self._roles(self._read(header_only=True).columns)

    def _roles(self, names: list[str]) -> dict[str, str | None]:
        try:
            return find_columns(names)
        except ValueError as err:
            raise SourceError(
                f"{self.path}: {err} (columns found: {_shown(names)}; expected child and base columns, "
                f"e.g. child,base,relation)"
            ) from None

    def harvest(self) -> Harvest:
        frame = self._read()
        roles = self._roles(frame.columns)
        child_col, base_col, rel_col = roles["child"], roles["base"], roles["relation"]
        out = Harvest(sources=[self.describe()], problems=list(self._line_problems))
        field = f"{EvidenceKind.EDGE_LIST.value}:{base_col}"
        names = frame.columns
        i_child, i_base = names.index(str(child_col)), names.index(str(base_col))
        i_rel = names.index(rel_col) if rel_col is not None else None
        for row_no, row in enumerate(frame.iter_rows(), start=1):
            where = f"{self.path.name}:{row_no}"
            child_cells = _cells(row[i_child])
            if not child_cells:
                if _cells(row[i_base]):
                    out.problems.append(Problem(where, None, f"no child id in column {child_col!r}"))
                continue  # a blank line
            if len(child_cells) > 1:
                out.problems.append(Problem(where, None, f"child cell names several models: {row[i_child]!r}"))
                continue
            child = child_cells[0]
            relation = None
            rel_text = _one_text(row[i_rel]) if i_rel is not None else None
            if rel_text:
                relation = Relation.parse(rel_text)
                if relation is None:
                    out.problems.append(
                        Problem(where, child, f"unknown relation {rel_text!r} (known: {_KNOWN_RELATIONS}); left unset")
                    )
            for raw in _cells(row[i_base]):
                out.references.append(Reference(child, raw, EvidenceKind.EDGE_LIST, field, where, relation))
        return out

    # --- reading -----------------------------------------------------------------------------------

    def _read(self, header_only: bool = False) -> pl.DataFrame:
        path = self.path
        if not path.exists():
            raise SourceError(f"{path}: no such file")
        if not path.is_file():
            raise SourceError(f"{path}: not a file (expected a .csv, .tsv, .parquet or .jsonl edge list)")
        suffix = path.suffix.lower()
        if suffix in JSON_LINES_SUFFIXES:
            return self._read_json_lines(header_only)
        if suffix in PARQUET_SUFFIXES:
            try:
                if header_only:
                    return pl.DataFrame(schema=pl.scan_parquet(path, glob=False).collect_schema())
                return pl.read_parquet(path, glob=False)
            except Exception as err:  # polars raises several unrelated types for corrupt files
                raise SourceError(f"{path}: not a readable Parquet file ({type(err).__name__})") from None
        if suffix not in CSV_SUFFIXES:
            raise SourceError(
                f"{path}: expected a .csv, .tsv, .parquet or .jsonl edge list, not '{suffix or path.name}'"
            )
        try:
            with path.open("rb") as handle:
                head = handle.read(8192)
        except OSError as err:
            raise SourceError(f"{path}: cannot be read ({err.strerror or type(err).__name__})") from None
        if head.startswith(b"PAR1"):
            raise SourceError(f"{path}: this is Parquet data; name the file .parquet")
        if b"\x00" in head:
            raise SourceError(f"{path}: binary data, not CSV text")
        separator = _separator(head, CSV_SUFFIXES[suffix])
        try:
            return pl.read_csv(
                path, glob=False, infer_schema=False, separator=separator, n_rows=0 if header_only else None,
                encoding="utf8",
            )
        except pl.exceptions.NoDataError:
            raise SourceError(f"{path}: empty file (expected a header line such as child,base,relation)") from None
        except Exception as err:  # ComputeError and friends: one line for the user
            text = str(err)
            if "utf-8" in text.lower() or "utf8" in text.lower():
                raise SourceError(f"{path}: not UTF-8 text") from None
            if "more fields" in text:
                line = _first_ragged_line(path, separator)
                at = f" (line {line})" if line else ""
                raise SourceError(
                    f"{path}: a row has more cells than the header{at}; quote a cell that lists several "
                    f'bases, e.g. "a/x,b/y"'
                ) from None
            first = text.strip().splitlines()[0] if text.strip() else type(err).__name__
            raise SourceError(f"{path}: not a readable CSV file ({first[:200]})") from None

    def _read_json_lines(self, header_only: bool) -> pl.DataFrame:
        self._line_problems = []  # bad lines are data, as in every JSON Lines input
        rows = [
            row for _, row in itertools.islice(read_rows(self.path, self._line_problems), 1 if header_only else None)
        ]
        names = list(dict.fromkeys(k for row in rows for k in row))
        # Cells stay Python objects (a base may be a list); _cells reads both.
        return pl.DataFrame({name: pl.Series(name, [row.get(name) for row in rows], dtype=pl.Object) for name in names})


def _separator(head: bytes, default: str) -> str:
    if default != ",":
        return default
    first_line = head.split(b"\n", 1)[0]
    if b"," not in first_line:
        for candidate in (b"\t", b";"):
            if candidate in first_line:
                return candidate.decode()
    return default


def _first_ragged_line(path: Path, separator: str) -> int | None:
    try:
        with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
            reader = csv.reader(handle, delimiter=separator)
            header = next(reader, [])
            for row in reader:
                if len(row) > len(header):
                    return reader.line_num
    except (OSError, csv.Error):
        return None
    return None


def _one_text(value: object) -> str | None:
    if value is None or isinstance(value, list | tuple | dict):
        return None
    text = str(value).strip()
    return text or None


def _cells(value: object) -> list[str]:
    """The ids a cell names: a list value, a bracketed list, or comma/semicolon-separated text."""
    if value is None:
        return []
    if isinstance(value, list | tuple | pl.Series):
        out: list[str] = []
        for item in value:
            out.extend(_cells(item))
        return out
    text = str(value).strip()
    if len(text) >= 2 and text[0] == "[" and text[-1] == "]":
        text = text[1:-1]
    pieces = (p.strip().strip("\"'").strip() for p in _SPLIT.split(text))
    return [p for p in pieces if p]
