"""Columnar reader of Hub API model records (``models.jsonl``): ``ptmgraph ingest`` at whole-Hub scale.

:func:`read_models_table` reads a file of ``GET /api/models/{id}`` records into
:class:`~ptmgraph.records.HarvestTables`, row for row what the per-record reader
(:func:`ptmgraph.sources.hub_rows.read_model_rows`, as :class:`~ptmgraph.sources.hub_records.HubRecordsSource`
reads)
gives: ``read_models_table(path) == HarvestTables.of(<per-record harvest of path>)``, the records,
references and problems in the same order, ``known_ids`` sorted.

Terms:

- **line**: one line of the file, numbered from 1 the way :func:`ptmgraph.reader.json_lines` numbers them
  (blank lines count, a line ends at ``\\n`` only); a record's ``source`` is ``NAME:LINE``.
- **batch**: consecutive lines of about :data:`BATCH_BYTES` bytes, read and parsed together (the next
  batch is parsed on a second thread while one is turned into rows). Working memory is about ten
  batches, never the whole file; a line is held only up to the reader's 32 MiB bound (a longer one
  is skipped without being held, as the per-record reader does). A big file's finished rows wait in
  Arrow IPC files in a temporary directory until the last batch is read, then are loaded whole.
- **fast path**: a batch's lines parsed by Polars with an explicit schema and turned into rows by
  expressions. Functions of a value that are cheap but subtle (Python's ``str.lower`` on non-ASCII
  text, odd date spellings, relation spellings, licence lists) run in Python over the *unique* values
  only.
- **per-record path**: :func:`ptmgraph.reader.json_object` + :func:`ptmgraph.extract.record_from_api`
  on one line, exactly the per-record reader.

A line takes the per-record path when the fast path could not be sure to read it the same way
(each is rare in Hub data; the tests hold both paths equal on such lines):

- it is not UTF-8, over :data:`FAST_LINE_BYTES`, does not start with ``{``, holds a control character,
  a BOM, an escaped surrogate (Polars turns a lone one into NUL), an escaped ASCII character (a key
  spelled ``"t\\u0061gs"``), an integer of 19 digits or more (Polars reads one outside 64 bits as a
  128-bit value, which a Categorical field takes as the debug text ``Static(I128(...))``), or nests
  deeper than the reader's 100 levels;
- Polars cannot parse it with the schema: invalid JSON, an integer of over 38 digits (so none over the
  reader's 100-digit bound passes), not an object, or a field of another type
  than the schema's (strings are read as Categorical, which refuses numbers, so ``"7"`` and ``7``
  never mix); a batch that fails is split until the failing lines are found;
- a key the record reads occurs once more than the parsed values account for (the count of such
  keys in the line is checked): a repeated key (Polars keeps the first value, Python the last), a
  key whose value is ``null`` where presence matters (``"siblings": null``), or one nested somewhere
  the reader does not look;
- it carries README text (``card``/``readme``, whose YAML only the per-record path reads) or
  ``card_data``; its card names a model in ``quantized_by``/``original_model``/``model_link``/
  ``model_creator``; or a card field the record reads holds a number, a boolean or a list that is
  not all strings;
- it carries a file listing (a ``tree`` field, or siblings with ``lastCommit``, ``lfs``, ``blobId`` or
  ``securityFileStatus``: :func:`ptmgraph.extract.files_from_api`), which only the per-record path reads.

Problems keep the per-record reader's message text (they come from the same functions); duplicate
ids are checked once the file is read, by reading just those lines again. A lone escaped surrogate
(``"\\ud800"``) goes per record, where the reader turns it into U+FFFD (Polars cannot store it).

Known limits of Polars that the checks above work around (Polars 2.1): a String-typed field renders a
nested value without escaping backslashes, tabs, backspaces or form feeds (see :data:`_MARKS`), renders
some floats in a form its parser refuses (such rows go per record), and takes the first of two equal
keys where Python takes the last (the key count catches it).
"""


from __future__ import annotations

import io
import json
import re
import tempfile
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import polars as pl

from ptmgraph import extract, reader, relations
from ptmgraph.ids import lowercase_ids, unique_map
from ptmgraph.records import (
    FILES_SCHEMA,
    NAME_LIST,
    PROBLEMS_SCHEMA,
    RECORDS_SCHEMA,
    REFERENCES_SCHEMA,
    WEIGHT_FORMATS,
    EvidenceKind,
    Harvest,
    HarvestTables,
    Problem,
    Reference,
    Relation,
    access_of,
)
from ptmgraph.sources.hub_rows import Duplicates, read_model_rows
from ptmgraph.sources.interface import SourceError

MiB = 1024 * 1024
BATCH_BYTES = 32 * MiB
"""Bytes of lines read and parsed together: the unit of the reader's working memory."""
FAST_LINE_BYTES = 4 * MiB
"""Longer lines (a Hub record is a few KB) take the per-record path."""
_LIMITS = reader.DEFAULT_LIMITS
_BOM = b"\xef\xbb\xbf"

_PY_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
"""Every character for which Python's ``str.isspace()`` is true: what ``str.strip()`` removes."""

_STRING = r'"(?:[^"\\]|\\.)*"'
"""A JSON string literal (in a line Polars parsed, or in Polars' own rendering of a value)."""
_SUSPICIOUS = "|".join([
    r"[\x00-\x09\x0b\x0c\x0e-\x1f\ufeff\ue000-\ue003]",  # control characters, a BOM, the marks of _MARKS
    r"\r[^\n]",  # a carriage return not ending the line
    r"\\u[dD][89a-fA-F]|\\u00[0-7]|\\u[eE]00[0-3]",  # escaped surrogates, ASCII characters, marks
    r"[:\[,]\s*-?[0-9]{19}",  # an integer that may not fit 64 bits (or a string holding one: rare)
])
"""What sends a line to the per-record path before parsing (see the module docstring), where the
reader's 100-digit bound on integers applies."""
_FILE_DETAILS = r'"(?:{})"\s*:'.format("|".join(("tree", *extract.FILE_DETAIL_KEYS)))
"""Keys of a file listing in a record (:func:`ptmgraph.extract.files_from_api`): such lines go per record."""

_CAT = pl.Categorical()
_TOP_SCHEMA: dict[str, pl.DataType] = {
    "id": _CAT,
    "modelId": _CAT,
    "model_id": _CAT,
    "author": _CAT,
    "sha": _CAT,
    "createdAt": _CAT,
    "created_at": _CAT,
    "lastModified": _CAT,
    "last_modified": _CAT,
    "downloads": pl.Int64(),
    "downloadsAllTime": pl.Int64(),
    "downloads_all_time": pl.Int64(),
    "likes": pl.Int64(),
    "spaces": pl.List(pl.Null()),  # only its length is read
    "library_name": _CAT,
    "pipeline_tag": _CAT,
    "gated": pl.String(),  # a boolean or a string: Polars' rendering, checked in _read_batch
    "disabled": pl.Boolean(),
    "private": pl.Boolean(),
    "tags": pl.List(_CAT),
    "siblings": pl.List(pl.Struct({"rfilename": _CAT})),
    "config": pl.Struct({
        "model_type": _CAT,
        "_name_or_path": _CAT,
        "auto_map": pl.String(),  # any keys: read from the line itself (_auto_maps)
        "quantization_config": pl.Struct({
            "quant_method": _CAT, "load_in_4bit": pl.Boolean(), "load_in_8bit": pl.Boolean(),
        }),
    }),
    "cardData": pl.String(),  # any keys: Polars' rendering, its keys and values read from that
    "card_data": pl.String(),
    "card": pl.String(),
    "readme": pl.String(),
    "transformersInfo": pl.String(),  # not used; rendered so that the keys it holds can be counted
}
"""The fields a record reads, with the types the fast path reads them as (other fields are skipped).
Strings are Categorical: unlike String, it refuses a number or boolean instead of rendering it."""

_CONFIG_KEYS = ("model_type", "_name_or_path", "auto_map", "quantization_config")
_QUANT_KEYS = ("quant_method", "load_in_4bit", "load_in_8bit")
_COUNTED_KEYS = (*_TOP_SCHEMA, *_CONFIG_KEYS, *_QUANT_KEYS, "rfilename")
"""Keys whose every occurrence in a line must be accounted for by a parsed value (see the docstring)."""
_COUNTED = r'"(?:{})"\s*:'.format("|".join(re.escape(k) for k in _COUNTED_KEYS))

_CARD_LIST_KEYS = ("license", "licence", "datasets", "base_model")
_CARD_TEXT_KEYS = ("license_name", "license_link", "library_name", "pipeline_tag", "new_version",
                   "base_model_relation")
_CARD_PROSE_KEYS = ("quantized_by", "original_model", "model_link", "model_creator")
"""Card fields that make card-text references: a row whose card names one takes the per-record path."""
_INNER_CONTAINER = rf'({_STRING})|[\[{{](?:{_STRING}|[^"\[\]{{}}])*[\]}}]'
_LIST_OF_STRINGS = rf"^\[(?:{_STRING}(?:, {_STRING})*)?\]$"
_FLAT_SIBLING = r'\{"rfilename": ?"[^"\\]*"\}'

_WEIGHT_EXT = "({})$".format("|".join(re.escape(s) for s in WEIGHT_FORMATS))
_FULL_WEIGHTS = "(?i)" + extract.FULL_WEIGHTS.pattern
_TRAINING_STATE = "(?i)" + extract.TRAINING_STATE.pattern
_GGML_BIN = "(?i)" + extract.GGML_BIN.pattern
_WEIGHT_SUFFIXES = "(?:{})$".format("|".join(re.escape(s) for s in extract.WEIGHT_SUFFIXES))
_CODE_FILE = f"^(?:{relations.CODE_FILE.pattern})$"
_AUTO_MAP_KEY = re.compile(r'"auto_map"\s*:\s*')

_MARKS = {"\\\\": "\ue000", "\\t": "\ue001", "\\b": "\ue002", "\\f": "\ue003"}
"""JSON escapes that Polars writes back wrongly when it renders a nested value as a String (a backslash,
tab, backspace or form feed comes out raw), each replaced by a private-use character before such a
line's card is rendered, and turned back in what is read from it. Lines holding those characters
take the per-record path."""
_UNESCAPED = {"\\\\": "\\", "\\t": "\t", "\\b": "\b", "\\f": "\f"}
_NO_LIST = pl.List(pl.String())


# --- reading lines --------------------------------------------------------------------------------


@dataclass
class _Batch:
    """Whole lines of the file: ``block`` starts at file offset ``offset``; per kept (non-blank,
    bounded) line, its position among the block's lines, its start and end in ``block`` (without the
    ``\\n``, after a BOM on line 1) and its number."""

    block: bytes = b""
    offset: int = 0
    index: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    starts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    ends: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    linenos: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    bom: bool = False
    problems: list[tuple[int, Problem]] = field(default_factory=list)  # the line reader's own

    def line(self, i: int) -> bytes:
        """Line ``i`` as :func:`reader.json_lines` hands it on (with its ``\\n``, if it has one)."""
        end = int(self.ends[i])
        return self.block[int(self.starts[i]) : end + 1 if end < len(self.block) else end]


def _batches(handle: IO[bytes], name: str, batch_bytes: int) -> Iterator[_Batch]:
    """The file in batches of whole lines, numbered and bounded as :func:`reader.json_lines` does.

    A batch ends at the last line end of what was read; the file is sought back to the start of the
    line cut short, which the next batch reads again (so no block is copied to join two reads).
    """
    limit = _LIMITS.document_bytes
    lineno = 1  # the number of the next line to start
    offset = 0  # the file offset of the next read
    while True:
        try:
            chunk = handle.read(batch_bytes)
            at_end = len(chunk) < batch_bytes
            cut = len(chunk) if at_end else chunk.rfind(b"\n") + 1
            if cut == 0 and chunk:  # one line longer than a batch: read it whole if it is within the bound
                chunk += handle.readline(max(limit + 1 - len(chunk), 0))
                at_end = not chunk.endswith(b"\n")
                cut = len(chunk)
                if cut > limit and at_end:
                    cut += _skip_rest_of_line(handle)
                    at_end = False
                    problem = Problem(f"{name}:{lineno}", None, f"line is over the {limit:,}-byte limit; not read")
                    yield _Batch(offset=offset, problems=[(lineno, problem)])
                    lineno += 1
                    offset += cut
                    continue
            elif cut < len(chunk):
                handle.seek(offset + cut)
        except OSError as err:
            where = f"{name}:{lineno}"
            yield _Batch(problems=[(lineno, Problem(where, None, f"cannot be read ({err.strerror or err})"))])
            return
        if cut:
            batch, lines = _split(chunk[:cut] if cut < len(chunk) else chunk, offset, lineno, name)
            lineno += lines
            offset += cut
            yield batch
        if at_end:
            return


def _split(block: bytes, offset: int, first: int, name: str) -> tuple[_Batch, int]:
    """The lines of ``block`` (which ends at a line end or the end of the file), numbered from ``first``."""
    limit = _LIMITS.document_bytes
    newlines = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == 10)
    starts = np.concatenate(([0], newlines + 1)).astype(np.int64)
    ends = np.concatenate((newlines, [len(block)])).astype(np.int64)
    if block.endswith(b"\n"):
        starts, ends = starts[:-1], ends[:-1]
    count = len(starts)
    linenos = np.arange(first, first + count, dtype=np.int64)
    over = (ends - starts) > limit  # what readline(limit + 1) cuts short, as json_lines reads it
    bom = first == 1 and block.startswith(_BOM)
    if bom:
        starts[0] += len(_BOM)
    whitespace = np.array([32, 9, 13, 11, 12], dtype=np.uint8)
    empty = ends <= starts
    first_bytes = np.frombuffer(block, dtype=np.uint8)[np.minimum(starts, max(len(block) - 1, 0))] if count else starts
    maybe_blank = np.flatnonzero(~empty & np.isin(first_bytes, whitespace))
    blank = empty.copy()
    for i in maybe_blank.tolist():
        blank[i] = not block[starts[i] : ends[i]].strip()
    problems = [
        (int(n), Problem(f"{name}:{n}", None, f"line is over the {limit:,}-byte limit; not read"))
        for n in linenos[over].tolist()
    ]
    keep = np.flatnonzero(~blank & ~over)
    batch = _Batch(block, offset, keep, starts[keep], ends[keep], linenos[keep], bom and 0 in keep[:1], problems)
    return batch, count


def _skip_rest_of_line(handle: IO[bytes]) -> int:
    skipped = 0
    while True:
        chunk = handle.readline(MiB)
        skipped += len(chunk)
        if not chunk or chunk.endswith(b"\n"):
            return skipped


def _lines_bytes(batch: _Batch, rows: np.ndarray) -> bytes:
    """Lines ``rows`` (sorted) as JSON Lines bytes: runs of adjacent lines are sliced, not copied line by line."""
    if len(rows) == 0:
        return b""
    linenos = batch.linenos[rows]
    breaks = np.flatnonzero(np.diff(linenos) != 1)
    firsts = np.concatenate(([0], breaks + 1))
    lasts = np.concatenate((breaks, [len(rows) - 1]))
    starts, ends = batch.starts[rows[firsts]], batch.ends[rows[lasts]]
    if len(starts) == 1 and starts[0] == 0 and ends[0] == len(batch.block) - 1:
        return batch.block  # the whole batch, which ends with a line end
    return b"\n".join(batch.block[a:b] for a, b in zip(starts.tolist(), ends.tolist(), strict=True)) + b"\n"


def _line_texts(batch: _Batch) -> pl.Series:
    """The kept lines as text (without the ``\\n``); null for a line that is not UTF-8."""
    try:
        text = batch.block.decode("utf-8")
    except UnicodeDecodeError:
        texts: list[str | None] = []
        for a, b in zip(batch.starts.tolist(), batch.ends.tolist(), strict=True):
            try:
                texts.append(batch.block[a:b].decode("utf-8"))
            except UnicodeDecodeError:
                texts.append(None)
        return pl.Series("line", texts, dtype=pl.String())
    lines = pl.Series("line", [text]).str.split("\n").explode().gather(batch.index)
    if batch.bom:
        lines = lines.scatter(0, lines[0].removeprefix("\ufeff"))
    return lines


# --- the per-record path --------------------------------------------------------------------------


@dataclass
class _Part:
    """Output of some lines: tables with ordering columns (``_line``; ``_group``/``_pos`` for references,
    ``_sub`` for problems) and, per record, ``_offset`` for reading again lines of repeated ids."""

    records: pl.DataFrame
    references: pl.DataFrame
    problems: pl.DataFrame
    objects: int  # lines that were JSON objects
    refused: int  # lines that were not
    files: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=FILES_SCHEMA))  # per-record lines only


_RECORD_KEYS = pl.Schema({**RECORDS_SCHEMA, "_line": pl.Int64(), "_offset": pl.Int64()})
_REFERENCE_KEYS = pl.Schema({**REFERENCES_SCHEMA, "_line": pl.Int64(), "_group": pl.Int64(), "_pos": pl.Int64()})
_PROBLEM_KEYS = pl.Schema({**PROBLEMS_SCHEMA, "_line": pl.Int64(), "_sub": pl.Int64()})


def _per_record(name: str, items: list[tuple[int, int, bytes]]) -> _Part:
    """The per-record reader on ``(line number, file offset, line)``: what
    :func:`~ptmgraph.sources.hub_rows.read_model_rows` does per line."""
    harvest = Harvest()
    record_lines: list[tuple[int, int]] = []
    reference_lines: list[int] = []
    problem_lines: list[int] = []
    objects = refused = 0
    for lineno, offset, line in items:
        where = f"{name}:{lineno}"
        row = reader.json_object(line, where, limits=_LIMITS)
        if isinstance(row, Problem):
            refused += 1
            harvest.problems.append(row)
            problem_lines.append(lineno)
            continue
        objects += 1
        before = len(harvest.problems)
        try:
            record, refs = extract.record_from_api(row, where, harvest.problems)
        except ValueError as err:
            harvest.problems.append(Problem(where, None, str(err)))
        else:
            harvest.records.append(record)
            harvest.references.extend(refs)
            harvest.files.extend(extract.files_from_api(row, record.id, where))
            record_lines.append((lineno, offset))
            reference_lines.extend([lineno] * len(refs))
        problem_lines.extend([lineno] * (len(harvest.problems) - before))
    tables = HarvestTables.of(harvest)
    return _Part(
        records=tables.records.with_columns(
            _line=pl.Series([n for n, _ in record_lines], dtype=pl.Int64()),
            _offset=pl.Series([o for _, o in record_lines], dtype=pl.Int64()),
        ),
        references=tables.references.with_columns(
            _line=pl.Series(reference_lines, dtype=pl.Int64()),
            _group=pl.lit(0, pl.Int64()),
            _pos=pl.int_range(pl.len(), dtype=pl.Int64()),
        ),
        problems=tables.problems.with_columns(
            _line=pl.Series(problem_lines, dtype=pl.Int64()), _sub=pl.lit(0, pl.Int64())
        ),
        objects=objects,
        refused=refused,
        files=tables.files,
    )


# --- Python-exact string functions ----------------------------------------------------------------


def _when(condition: pl.Series, then: pl.Series | pl.Expr, otherwise: pl.Series | pl.Expr | None = None) -> pl.Series:
    expr = pl.when(condition).then(then)
    return pl.select(expr if otherwise is None else expr.otherwise(otherwise)).to_series()


def _coalesce(*columns: pl.Series | pl.Expr) -> pl.Series:
    return pl.select(pl.coalesce(*columns)).to_series()


def _strip(s: pl.Series) -> pl.Series:
    """``str.strip()`` (Python's whitespace, not Rust's)."""
    return s.str.strip_chars(_PY_WHITESPACE)


def _text(s: pl.Series) -> pl.Series:
    """:func:`extract.text_of` of strings: stripped, None when empty."""
    stripped = _strip(s.cast(pl.String()))
    return _when(stripped.str.len_bytes() > 0, stripped).rename(s.name)


def _access(gated: pl.Series, disabled: pl.Series, private: pl.Series) -> pl.Series:
    """:func:`ptmgraph.records.access_of` of each row, called once per distinct (gated, disabled, private)."""
    rows = pl.DataFrame({"g": gated, "d": disabled, "p": private}, schema={
        "g": pl.String(), "d": pl.Boolean(), "p": pl.Boolean()})
    distinct = rows.unique()
    distinct = distinct.with_columns(pl.Series("access", [access_of(g, d, p) for g, d, p in distinct.iter_rows()],
                                               dtype=pl.String()))
    return rows.join(distinct, on=["g", "d", "p"], how="left", nulls_equal=True, maintain_order="left")["access"]


_CANONICAL_TIME = (
    r"^[1-9][0-9]{3}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
    r"(?:\.[0-9]{3}|\.[0-9]{6})?Z$"
)
"""The Hub's timestamp spelling; Polars parses it as Python does (an impossible date is null in both)."""


def _times(s: pl.Series) -> pl.Series:
    """:func:`extract.time_of` of strings: the Hub's spelling by Polars, any other by Python."""
    canonical = s.str.contains(_CANONICAL_TIME)
    parsed = s.str.to_datetime("%Y-%m-%dT%H:%M:%S%.fZ", time_unit="us", time_zone="UTC", strict=False)
    if canonical.fill_null(True).all():
        return parsed
    python = unique_map(_when(~canonical, s), extract.time_of, pl.Datetime("us", "UTC"))
    return _when(canonical, parsed, python).rename(s.name)


def _relation(value: str) -> str | None:
    parsed = Relation.parse(value)
    return parsed.value if parsed else None


def _aligned(n: int, frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` (keyed by ``_row``, at most one row each) as ``n`` rows in ``_row`` order; null where absent."""
    return pl.DataFrame({"_row": pl.int_range(n, dtype=pl.Int64(), eager=True)}).join(
        frame, on="_row", how="left", maintain_order="left")


def _sorted_sets(n: int, pairs: pl.DataFrame, column: str) -> pl.Series:
    """Per row, the sorted distinct values of ``column`` among ``pairs`` (``_row``, ``column``); [] for none.
    (Exploded and grouped: Polars' per-list unique and sort are far slower.)"""
    grouped = pairs.unique(["_row", column]).sort("_row", column).group_by("_row", maintain_order=True).agg(column)
    return _aligned(n, grouped)[column].fill_null(pl.lit([], _NO_LIST))


# --- the fast path: checks ------------------------------------------------------------------------


def _depth_ok(lines: pl.Series) -> pl.Series:
    """True where a line's brackets (outside strings) nest at most the reader's depth and balance."""
    brackets = lines.str.replace_all(_STRING, "").str.replace_all(r"[^\[\]{}]", "")
    done = brackets.str.len_bytes() == 0
    for _ in range(_LIMITS.depth):
        if done.all():
            break
        brackets = _when(done, brackets, brackets.str.replace_all(r"\[\]|\{\}", ""))
        done = brackets.str.len_bytes() == 0
    return done


def _parse(batch: _Batch, rows: np.ndarray) -> tuple[np.ndarray, pl.DataFrame, list[int]]:
    """Lines ``rows`` parsed with the schema: the rows parsed, their frame, and the rows that failed.
    A failing part is split 16 ways until its bad lines are found (one bad line costs about one extra
    parse of the batch)."""
    parsed: list[tuple[np.ndarray, pl.DataFrame]] = []
    failed: list[int] = []
    pending = [rows]
    while pending:
        part = pending.pop()
        if len(part) == 0:
            continue
        try:
            frame: pl.DataFrame | None = pl.read_ndjson(_lines_bytes(batch, part), schema=_TOP_SCHEMA)
        except Exception:
            frame = None
        if frame is not None and frame.height == len(part):
            parsed.append((part, frame))
        elif len(part) == 1:
            failed.append(int(part[0]))
        else:
            pending.extend(np.array_split(part, min(16, len(part))))
    parsed.sort(key=lambda pair: int(pair[0][0]))
    if not parsed:
        return np.zeros(0, np.int64), pl.DataFrame(schema=_TOP_SCHEMA), failed
    return np.concatenate([p for p, _ in parsed]), pl.concat([f for _, f in parsed]), failed


def _flat_object(rendering: pl.Series) -> pl.Series:
    """Object renderings with every nested list and object removed: their keys and scalar values."""
    flat = rendering.str.strip_prefix("{").str.strip_suffix("}")
    active = flat.str.contains(r"[\[{]").fill_null(False)
    for _ in range(_LIMITS.depth + 1):
        index = active.arg_true()
        if index.is_empty():
            break
        before = flat.gather(index)
        after = before.str.replace_all(_INNER_CONTAINER, "$1")
        flat = flat.scatter(index, after)
        active = pl.Series([False] * len(flat)).scatter(index.filter((after != before).fill_null(False)), True)
    return flat


def _key_pairs(flat: pl.Series) -> pl.DataFrame:
    """(``_row``, ``key``) for every key of the flattened objects, in order (escaped keys stay escaped)."""
    tokens = pl.DataFrame({"_row": pl.int_range(len(flat), dtype=pl.Int64(), eager=True),
                           "key": flat.str.extract_all(_STRING + r"(?:: )?")})
    return tokens.explode("key").filter(pl.col("key").str.ends_with('": ')).with_columns(
        key=pl.col("key").str.slice(1).str.strip_suffix('": '))


def _value_kind(flat: pl.Series, key: str) -> pl.Series:
    """What a flattened object holds at ``key``: ``"`` a string, ``c`` a list or object, ``n`` null,
    another character a number or boolean; null when the key is absent."""
    first = flat.str.extract(rf'(?:^|, )"{re.escape(key)}": (.?)')
    return _when(first.is_in(["", ","]), pl.lit("c"), first)


def _decode_objects(renderings: pl.Series, schema: dict[str, pl.DataType]) -> tuple[pl.DataFrame, pl.Series]:
    """Object renderings read with ``schema`` (null rows stay null), and the rows Polars cannot read
    back (it renders some floats in a form its parser refuses). Read as JSON lines: unlike
    ``str.json_decode``, that renders a list or object where the schema says String."""
    index = renderings.is_not_null().arg_true().to_list()
    failed = pl.Series([False] * len(renderings))
    kept = index
    try:
        frame = _read_json_lines(renderings.gather(index).to_list(), schema)
    except Exception:
        kept = []
        for i in index:
            try:
                _read_json_lines([renderings[i]], schema)
            except Exception:
                failed[i] = True
            else:
                kept.append(i)
        frame = _read_json_lines([renderings[i] for i in kept], schema)
    return _aligned(len(renderings), frame.with_columns(_row=pl.Series(kept, dtype=pl.Int64()))).drop("_row"), failed


def _read_json_lines(texts: list[str], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    if not texts:
        return pl.DataFrame(schema=schema)
    return pl.read_ndjson(io.BytesIO(("\n".join(texts) + "\n").encode()), schema=schema)


def _mark(lines: pl.Series) -> pl.Series:
    for escape, mark in _MARKS.items():  # escaped backslashes first: every backslash left starts an escape
        lines = lines.str.replace_all(escape, mark, literal=True)
    return lines


def _unmark(values: pl.Series | pl.Expr) -> Any:
    for escape, mark in _MARKS.items():
        values = values.str.replace_all(mark, _UNESCAPED[escape], literal=True)
    return values


def _render_marked(frame: pl.DataFrame, lines: pl.Series) -> tuple[pl.DataFrame, pl.Series]:
    """``frame`` with cardData and transformersInfo rendered again from marked lines (see :data:`_MARKS`)
    where the line holds an escape Polars renders wrongly; and the rows where that failed."""
    rendered = frame["cardData"].is_not_null() | frame["transformersInfo"].is_not_null()
    marked = (lines.str.contains(r"\\[\\tbf]") & rendered).fill_null(False)
    if not marked.any():
        return frame, pl.Series([False] * frame.height)
    index = marked.arg_true()
    try:
        again = _read_json_lines(_mark(lines.gather(index)).to_list(),
                                 {"cardData": pl.String(), "transformersInfo": pl.String()})
    except Exception:
        return frame, marked
    return frame.with_columns(
        cardData=frame["cardData"].scatter(index, again["cardData"]),
        transformersInfo=frame["transformersInfo"].scatter(index, again["transformersInfo"]),
    ), pl.Series([False] * frame.height)


@dataclass
class _Card:
    """The card of each parsed row (null where the row has no card object)."""

    present: pl.Series  # bool: cardData is an object
    fields: pl.Series  # its keys, sorted
    counted: pl.Series  # how many of its keys are counted keys (_COUNTED_KEYS)
    kinds: dict[str, pl.Series]  # see _value_kind
    lists: dict[str, pl.Series]  # _CARD_LIST_KEYS: a string or a list of strings, as a list
    texts: dict[str, pl.Series]  # _CARD_TEXT_KEYS: the string (unstripped); null for any other value
    refuse: pl.Series  # bool: the row takes the per-record path

    def filter(self, keep: pl.Series) -> _Card:
        def each(d: dict[str, pl.Series]) -> dict[str, pl.Series]:
            return {k: v.filter(keep) for k, v in d.items()}

        return _Card(self.present.filter(keep), self.fields.filter(keep), self.counted.filter(keep),
                     each(self.kinds), each(self.lists), each(self.texts), self.refuse.filter(keep))


def _card(frame: pl.DataFrame, lines: pl.Series) -> _Card:
    n = frame.height
    rendering = frame["cardData"]
    # A string can render like an object: the line itself says which it is (the key count, checked
    # with this, makes the first "cardData" in the line the top-level one).
    first = lines.str.extract(r'"cardData"\s*:\s*(.)')
    present = (rendering.is_not_null() & (first == "{")).fill_null(False)
    flat = _flat_object(_when(present, rendering))
    pairs = _key_pairs(flat)
    fields = _sorted_sets(n, pairs, "key")
    per_row = _aligned(n, pairs.group_by("_row").agg(
        keys=pl.len(), distinct=pl.col("key").n_unique(), escaped=pl.col("key").str.contains(r"\\").any(),
        counted=pl.col("key").is_in(list(_COUNTED_KEYS)).sum()))
    refuse = (per_row["keys"] != per_row["distinct"]) | per_row["escaped"]
    fields = fields.list.eval(_unmark(pl.element()))
    kinds = {k: _value_kind(flat, k) for k in (*_CARD_LIST_KEYS, *_CARD_TEXT_KEYS, *_CARD_PROSE_KEYS)}
    for key in _CARD_PROSE_KEYS:  # a model named there makes card-text references: per-record path
        refuse = refuse | (kinds[key].is_not_null() & ~kinds[key].is_in(["n", "c"]))
    for key in (*_CARD_LIST_KEYS, *_CARD_TEXT_KEYS):  # numbers, booleans: Python's str() is not Polars' text
        if key != "base_model_relation":  # read only when it is a string
            refuse = refuse | (kinds[key].is_not_null() & ~kinds[key].is_in(['"', "n", "c"]))
    decoded, unreadable = _decode_objects(_when(present, rendering),
                                          {k: pl.String() for k in (*_CARD_LIST_KEYS, *_CARD_TEXT_KEYS)})
    refuse = refuse | unreadable
    lists: dict[str, pl.Series] = {}
    for key in _CARD_LIST_KEYS:
        value = decoded[key]
        many = kinds[key] == "c"
        strings = value.str.contains(_LIST_OF_STRINGS)
        refuse = refuse | (many & ~strings)
        joined = _coalesce(pl.when(kinds[key] == '"').then(pl.concat_list(value)),
                           _when(many & strings, value).str.json_decode(_NO_LIST))
        lists[key] = joined.list.eval(_unmark(pl.element()))
    texts = {k: _unmark(_when(kinds[k] == '"', decoded[k])) for k in _CARD_TEXT_KEYS}
    return _Card(present, fields, per_row["counted"].fill_null(0), kinds, lists, texts,
                 (refuse.fill_null(False) & present).rename("refuse"))


def _counted(frame: pl.DataFrame, card: _Card, lines: pl.Series) -> pl.Series:
    """True where every counted key in the line is accounted for by a parsed value."""
    top = pl.sum_horizontal([frame[k].is_not_null().cast(pl.Int64()) for k in _TOP_SCHEMA])
    config = frame["config"]
    nested = pl.sum_horizontal([config.struct.field(k).is_not_null().cast(pl.Int64()) for k in _CONFIG_KEYS])
    qc = config.struct.field("quantization_config")
    quant = pl.sum_horizontal([qc.struct.field(k).is_not_null().cast(pl.Int64()) for k in _QUANT_KEYS])
    files = frame["siblings"].list.eval(pl.element().struct.field("rfilename").is_not_null().sum()).list.first()
    info = frame["transformersInfo"]
    info_pairs = _key_pairs(_flat_object(_when(info.str.starts_with("{").fill_null(False), info)))
    in_info = _aligned(frame.height, info_pairs.group_by("_row").agg(
        counted=pl.col("key").is_in(list(_COUNTED_KEYS)).sum()))["counted"]
    expected = pl.select(top + nested.fill_null(0) + quant.fill_null(0)).to_series() + files.fill_null(0) \
        + card.counted + in_info.fill_null(0)
    return lines.str.count_matches(_COUNTED) == expected


# --- the fast path: rows --------------------------------------------------------------------------


def _file_features(names: pl.DataFrame) -> pl.DataFrame:
    """Per (``_row``, ``name``): weight family, full weights, a root GGML .bin, README, quantizer tool.
    Computed once per distinct name; names with characters other than printable ASCII by Python."""
    distinct = names.select(pl.col("name").unique()).with_columns(text=pl.col("name").cast(pl.String()))
    name = pl.col("text")
    features = distinct.with_columns(
        plain=name.str.contains(r"^[\x20-\x7e]*$"),
        family=pl.when(name.str.contains(_GGML_BIN)).then(pl.lit("ggml")).otherwise(  # extract.weight_format
            name.str.to_lowercase().str.extract(_WEIGHT_EXT).replace_strict(
                list(WEIGHT_FORMATS), list(WEIGHT_FORMATS.values()), default=None)),
        full=name.str.contains(_WEIGHT_SUFFIXES) & name.str.contains(_FULL_WEIGHTS)
        & ~(name.str.contains("/", literal=True) & name.str.contains(_TRAINING_STATE)),
        ggml_root=~name.str.contains("/", literal=True) & name.str.contains(_GGML_BIN),
        code=name.str.contains(_CODE_FILE),
        tool=name.replace_strict(list(extract.QUANT_FILES), list(extract.QUANT_FILES.values()), default=None),
    )
    if not features["plain"].all():
        odd = features.filter(~pl.col("plain"))["text"].to_list()
        python = pl.DataFrame({
            "text": odd,
            "family_py": [extract.weight_format(n) for n in odd],
            "full_py": [extract.has_full_weights([n]) for n in odd],
            "ggml_py": ["/" not in n and bool(extract.GGML_BIN.search(n)) for n in odd],
            "code_py": [bool(relations.CODE_FILE.fullmatch(n)) for n in odd],
        }, schema={"text": pl.String(), "family_py": pl.String(), "full_py": pl.Boolean(), "ggml_py": pl.Boolean(),
                   "code_py": pl.Boolean()})
        features = features.join(python, on="text", how="left").with_columns(
            family=pl.when("plain").then("family").otherwise("family_py"),
            full=pl.when("plain").then("full").otherwise("full_py"),
            ggml_root=pl.when("plain").then("ggml_root").otherwise("ggml_py"),
            code=pl.when("plain").then("code").otherwise("code_py"),
        )
    return names.join(features.select("name", "text", "family", "full", "ggml_root", "code", "tool"), on="name",
                      how="left", maintain_order="left")


def _auto_maps(frame: pl.DataFrame, lines: pl.Series) -> tuple[dict[int, object], pl.Series]:
    """Row -> its ``config.auto_map`` value, for the rows that have one, read by Python's JSON parser from
    the line itself (Polars renders a nested value without escaping it), when the line holds that key
    once (the key count, checked with this, makes it the config's); and where that failed (per-record path)."""
    rows = frame["config"].struct.field("auto_map").is_not_null().arg_true().to_list()
    decoder = json.JSONDecoder()
    found: dict[int, object] = {}
    failed = [False] * frame.height
    for row, line in zip(rows, lines.gather(rows).to_list(), strict=True):
        matches = list(_AUTO_MAP_KEY.finditer(line))
        try:
            if len(matches) != 1:  # also a key of the card, say: which one is the config's is not known here
                raise ValueError("not one auto_map key")
            found[row] = decoder.raw_decode(line, matches[0].end())[0]
        except (ValueError, RecursionError):
            failed[row] = True
    return found, pl.Series(failed, dtype=pl.Boolean())


def _fast(name: str, frame: pl.DataFrame, linenos: np.ndarray, offsets: np.ndarray, card: _Card,
          auto_maps: dict[int, object]) -> _Part:
    """Records, references and problems of parsed rows that passed every check."""
    n = frame.height
    row = pl.int_range(n, dtype=pl.Int64(), eager=True).alias("_row")
    line = pl.Series("_line", linenos, dtype=pl.Int64())
    source = (pl.lit(f"{name}:") + line.cast(pl.String())).alias("source")
    model_id = _text(_coalesce(frame["id"], frame["modelId"], frame["model_id"])).rename("id")
    missing = model_id.is_null()
    problems = pl.DataFrame({"_line": line.filter(missing)}).select(
        source=pl.lit(f"{name}:") + pl.col("_line").cast(pl.String()), model=pl.lit(None, pl.String()),
        message=pl.lit("record has no 'id'"), _line="_line", _sub=pl.lit(0, pl.Int64()))

    # Files (siblings' rfilename) and what they show: weight formats, README, quantization.
    files = frame["siblings"].list.eval(pl.element().struct.field("rfilename")).list.drop_nulls()
    names = pl.DataFrame({"_row": row, "name": files}).explode("name").drop_nulls("name")
    features = _file_features(names)
    per_row = _aligned(n, features.group_by("_row").agg(
        full=pl.col("full").any(), ggml_root=pl.col("ggml_root").any(), readme=(pl.col("text") == extract.CARD).any(),
        **{f"quant_{tool}": (pl.col("tool") == tool).any() for tool in extract.QUANT_FILES.values()},
    ))
    weight_formats = _sorted_sets(n, features.select("_row", "family").drop_nulls(), "family")
    # Own code files (extract.code_files): by name, and for a row with an auto_map by the same function.
    code_files = _sorted_sets(n, features.filter(pl.col("code")).select("_row", "text"), "text")
    if auto_maps:
        at = list(auto_maps)
        listed = files.gather(at).to_list()
        own = pl.DataFrame({"_row": pl.Series(at, dtype=pl.Int64()), "own": pl.Series([
            relations.own_code_files(f or [], auto_maps[i], model_id[i]) for i, f in zip(at, listed, strict=True)
        ], dtype=_NO_LIST)})
        code_files = _when(_aligned(n, own)["own"].is_not_null(), _aligned(n, own)["own"], code_files)
    files = files.cast(NAME_LIST).fill_null(pl.lit([], NAME_LIST))
    has_siblings = frame["siblings"].is_not_null()

    # Tags: datasets, the licence tag, base_model references.
    tags = frame["tags"]
    tag_rows = pl.DataFrame({"_row": row, "tag": tags}).with_columns(
        _pos=pl.int_ranges(pl.col("tag").list.len(), dtype=pl.Int64())).explode("tag", "_pos").drop_nulls(
        "tag").with_columns(tag=pl.col("tag").cast(pl.String()))
    tags = tags.list.drop_nulls().cast(NAME_LIST).fill_null(pl.lit([], NAME_LIST))
    licence_tags = tag_rows.filter(pl.col("tag").str.starts_with("license:")).group_by(
        "_row", maintain_order=True).first()
    licence_tags = licence_tags.with_columns(lic=lowercase_ids(licence_tags["tag"].str.slice(len("license:"))))
    tag_license = _aligned(n, licence_tags)["lic"]

    # The card (extract.apply_card): it fills only what the record lacks.
    card_license = _card_license(card.lists["license"].fill_null(pl.lit([], _NO_LIST)),
                                 card.lists["licence"].fill_null(pl.lit([], _NO_LIST)),
                                 _coalesce(_text(card.texts["license_name"]), _text(card.texts["license_link"])))
    license_ = _coalesce(pl.when(card.present).then(card_license), tag_license)
    library = _coalesce(_text(frame["library_name"]), _text(card.texts["library_name"]))
    pipeline = _coalesce(_text(frame["pipeline_tag"]), _text(card.texts["pipeline_tag"]))
    dataset_pairs = pl.concat([
        tag_rows.filter(pl.col("tag").str.starts_with("dataset:")).select("_row", d=pl.col("tag").str.slice(8)),
        pl.DataFrame({"_row": row, "d": card.lists["datasets"]}).explode("d").select(
            "_row", d=pl.col("d").str.strip_chars(_PY_WHITESPACE)).filter(pl.col("d").str.len_bytes() > 0),
    ])
    datasets = _sorted_sets(n, dataset_pairs, "d")
    has_card = _when(card.present, pl.lit(True), pl.when(has_siblings).then(per_row["readme"].fill_null(False)))
    card_fields = _when(card.present, card.fields, pl.lit([], _NO_LIST))

    # Quantization (extract.quantization_hint): files first, then config.json's quantization_config.
    config = frame["config"]
    full = per_row["full"].fill_null(False)
    qc = config.struct.field("quantization_config")
    quant_method = lowercase_ids(_text(qc.struct.field("quant_method")))
    bnb = qc.struct.field("load_in_4bit").fill_null(False) | qc.struct.field("load_in_8bit").fill_null(False)
    mlx = lowercase_ids(library.fill_null("")) == "mlx"
    quantization = pl.select(
        pl.when(weight_formats.list.contains("gguf") & ~full).then(pl.lit("gguf"))
        .when(weight_formats.list.contains("ggml") & ~full).then(pl.lit("ggml"))
        .when(per_row["ggml_root"].fill_null(False) & ~full).then(pl.lit("ggml"))
        .otherwise(pl.coalesce(
            *[pl.when(per_row[f"quant_{tool}"].fill_null(False)).then(pl.lit(tool))
              for tool in extract.QUANT_FILES.values()],
            pl.when(qc.is_not_null()).then(
                pl.when(quant_method.is_not_null()).then(quant_method).when(bnb).then(pl.lit("bnb"))
                .when(mlx).then(pl.lit("mlx")).otherwise(pl.lit("unspecified")))))
    ).to_series()

    author_prefix = _when(model_id.str.contains("/", literal=True), model_id.str.extract(r"^([^/]*)/"))
    records = pl.DataFrame({
        "id": model_id,
        "author": _coalesce(_text(frame["author"]), author_prefix),
        "sha": _text(frame["sha"]),
        "created_at": _times(_coalesce(frame["createdAt"], frame["created_at"]).cast(pl.String())),
        "last_modified": _times(_coalesce(frame["lastModified"], frame["last_modified"]).cast(pl.String())),
        "downloads": frame["downloads"],
        "downloads_all_time": _coalesce(frame["downloadsAllTime"], frame["downloads_all_time"]),
        "likes": frame["likes"],
        "spaces": frame["spaces"].list.len().cast(pl.Int64()),
        "license": license_,
        "library": library,
        "pipeline_tag": pipeline,
        "gated": lowercase_ids(frame["gated"]),
        "disabled": frame["disabled"],
        "private": frame["private"],
        "access": _access(lowercase_ids(frame["gated"]), frame["disabled"], frame["private"]),
        "model_type": _text(config.struct.field("model_type")),
        "files": files,
        "weight_formats": weight_formats,
        "has_card": has_card,
        "card_fields": card_fields,
        "datasets": datasets,
        "tags": tags,
        "new_version": _text(card.texts["new_version"]),
        "quantization": quantization,
        "code_files": code_files,
        "source": pl.select(source).to_series(),
        "_line": line,
        "_offset": pl.Series(offsets, dtype=pl.Int64()),
    }, schema=_RECORD_KEYS).filter(~missing)
    code_refs = [(i, pos, ref) for i, value in auto_maps.items() if model_id[i] is not None
                 for pos, ref in enumerate(extract.references_from_config(model_id[i], {"auto_map": value}, ""))]
    references = _references(row, model_id, line, source, card, tag_rows, config, code_refs).filter(
        pl.col("child").is_not_null())
    return _Part(records, references, problems.cast(_PROBLEM_KEYS), objects=n, refused=0)


def _card_license(license_: pl.Series, licence: pl.Series, license_name: pl.Series) -> pl.Series:
    """:func:`extract.license_of` of the card's fields (as lists of strings), once per distinct combination."""
    # Values hold no control character (such lines take the per-record path), so \x1e/\x1f separate them.
    combos = pl.DataFrame({"a": license_, "b": licence, "c": license_name}).with_columns(
        key=pl.concat_str(
            [pl.col("a").list.len().cast(pl.String()), pl.col("a").list.join("\x1f"),
             pl.col("b").list.len().cast(pl.String()), pl.col("b").list.join("\x1f"),
             pl.col("c").is_null().cast(pl.String()), pl.col("c").fill_null("")],
            separator="\x1e",
        )
    )
    distinct = combos.unique(subset="key", maintain_order=True)
    results = [
        extract.license_of({"license": a, "licence": b, "license_name": c}, [])
        for a, b, c in distinct.select("a", "b", "c").iter_rows()
    ]
    return combos["key"].replace_strict(distinct["key"], pl.Series(results, dtype=pl.String()), default=None,
                                        return_dtype=pl.String())


def _references(row: pl.Series, model_id: pl.Series, line: pl.Series, source: pl.Expr, card: _Card,
                tag_rows: pl.DataFrame, config: pl.Series,
                code_refs: list[tuple[int, int, Reference]]) -> pl.DataFrame:
    """References of parsed rows in the per-record order: card base_model, tags, config.json
    (``_name_or_path``, then ``auto_map``: ``code_refs`` are (row, position, reference) made by
    :func:`extract.references_from_config`)."""
    base = pl.DataFrame({"_row": row, "child": model_id, "_line": line}).with_columns(source)
    none = pl.lit(None, pl.String())
    parts: list[pl.DataFrame] = []

    # Card base_model (references_from_card): strings split at commas, or null (the raw value None).
    kind = card.kinds["base_model"]
    card_refs = base.with_columns(
        raw=card.lists["base_model"], relation=unique_map(card.texts["base_model_relation"], _relation, pl.String()),
        field=_when(kind == "c", pl.lit(f"{extract.CARD}:base_model[]"), pl.lit(f"{extract.CARD}:base_model")),
        _null=kind == "n", _present=card.present,
    ).filter(pl.col("_present") & pl.col("_null").is_not_null())
    null_refs = card_refs.filter(pl.col("_null")).with_columns(
        raw=pl.lit("None"), raw_is_text=pl.lit(False), _pos=pl.lit(0, pl.Int64()))
    text_refs = (
        card_refs.filter(~pl.col("_null")).explode("raw").drop_nulls("raw")
        .with_columns(raw=pl.col("raw").str.split(",")).explode("raw")
        .with_columns(raw_is_text=pl.lit(True), _pos=pl.int_range(pl.len(), dtype=pl.Int64()).over("_row"))
    )
    for refs in (null_refs, text_refs):
        parts.append(refs.select(
            "child", "raw", "raw_is_text", kind=pl.lit(EvidenceKind.CARD_BASE_MODEL.value), field="field",
            source="source", relation="relation", quote=none, _line="_line", _group=pl.lit(0, pl.Int64()),
            _pos="_pos"))

    # Tags base_model:<id> and base_model:<relation>:<id> (references_from_tags): the relation tags
    # first (one per base, the first relation), then plain tags of bases no relation tag names.
    bm = tag_rows.filter(pl.col("tag").str.starts_with("base_model:")).with_columns(
        rest=pl.col("tag").str.slice(len("base_model:")))
    bm = bm.with_columns(head=pl.col("rest").str.extract(r"^([^:]*):"),
                         tail=pl.col("rest").str.extract(r"^[^:]*:(.*)$"))
    bm = bm.with_columns(relation=unique_map(bm["head"], _relation, pl.String()))
    with_relation = bm.filter(pl.col("relation").is_not_null()).unique(
        subset=["_row", "tail"], keep="first", maintain_order=True)
    plain = bm.filter(pl.col("relation").is_null()).join(
        with_relation.select("_row", rest="tail"), on=["_row", "rest"], how="anti", maintain_order="left")
    tag_refs = pl.concat([
        with_relation.select("_row", "_pos", raw="tail", field=pl.lit("tags:base_model:") + pl.col("relation"),
                             relation="relation", _group=pl.lit(2, pl.Int64())),
        plain.select("_row", "_pos", raw="rest", field=pl.lit("tags:base_model"), relation=none,
                     _group=pl.lit(3, pl.Int64())),
    ]).join(base, on="_row", how="left")
    parts.append(tag_refs.select(
        "child", "raw", raw_is_text=pl.lit(True), kind=pl.lit(EvidenceKind.HUB_TAG.value), field="field",
        source="source", relation="relation", quote=none, _line="_line", _group="_group", _pos="_pos"))

    # config.json _name_or_path (references_from_config): not when it names the model itself.
    raw = config.struct.field("_name_or_path").cast(pl.String())
    own = (lowercase_ids(_strip(raw)) == lowercase_ids(model_id)).fill_null(False)
    config_refs = base.with_columns(raw=raw, _own=own).filter(pl.col("raw").is_not_null() & ~pl.col("_own"))
    parts.append(config_refs.select(
        "child", "raw", raw_is_text=pl.lit(True), kind=pl.lit(EvidenceKind.CONFIG.value),
        field=pl.lit(f"{extract.CONFIG}:_name_or_path"), source="source", relation=none, quote=none,
        _line="_line", _group=pl.lit(4, pl.Int64()), _pos=pl.lit(0, pl.Int64())))
    if code_refs:
        made = pl.DataFrame(
            [(i, pos, ref.raw, ref.kind.value, ref.field, ref.quote) for i, pos, ref in code_refs], orient="row",
            schema={"_row": pl.Int64(), "_pos": pl.Int64(), "raw": pl.String(), "kind": pl.String(),
                    "field": pl.String(), "quote": pl.String()})
        parts.append(made.join(base, on="_row", how="left").select(
            "child", "raw", raw_is_text=pl.lit(True), kind="kind", field="field", source="source", relation=none,
            quote="quote", _line="_line", _group=pl.lit(5, pl.Int64()), _pos="_pos"))
    return pl.concat([p.cast(_REFERENCE_KEYS) for p in parts]).sort("_line", "_group", "_pos")


# --- a batch and the file -------------------------------------------------------------------------


@dataclass
class _Parsed:
    """A batch after the checks before parsing and the parse: what :func:`_finish` needs."""

    batch: _Batch
    lines: pl.Series  # the kept lines as text
    rows: np.ndarray  # the lines Polars parsed (indices into the batch's lines) ...
    frame: pl.DataFrame  # ... and their fields
    slow: set[int]  # lines for the per-record path so far


def _prepare(batch: _Batch) -> _Parsed:
    """The checks before parsing, and the parse (run ahead of :func:`_finish` on another thread)."""
    if len(batch.starts) == 0:
        return _Parsed(batch, pl.Series(dtype=pl.String()), np.zeros(0, np.int64), pl.DataFrame(), set())
    lines = _line_texts(batch)
    size = pl.Series(batch.ends - batch.starts)
    fast = (lines.is_not_null() & (size <= FAST_LINE_BYTES) & lines.str.starts_with("{")
            & ~lines.str.contains(_SUSPICIOUS) & ~lines.str.contains(_FILE_DETAILS)).fill_null(False)
    # Deeper than the bound needs more brackets than that, not counting flat file entries (each adds
    # one level at most): only lines over that are checked exactly.
    deep = fast & (lines.str.count_matches(r"[\[{]") > _LIMITS.depth)
    if deep.any():
        index = deep.arg_true()
        some = lines.gather(index)
        bound = some.str.count_matches(r"[\[{]") - some.str.count_matches(_FLAT_SIBLING) + 1
        index = index.filter(bound > _LIMITS.depth)
        fast = fast.scatter(index, _depth_ok(lines.gather(index)))
    slow = set(fast.not_().arg_true().to_list())
    rows, frame, failed = _parse(batch, fast.arg_true().to_numpy().astype(np.int64))
    slow.update(failed)
    return _Parsed(batch, lines, rows, frame, slow)


def _finish(name: str, parsed: _Parsed) -> _Part:
    """Rows of a parsed batch: the fast path for the lines it reads exactly, the per-record path for the rest."""
    batch, rows, frame, slow = parsed.batch, parsed.rows, parsed.frame, parsed.slow
    parts: list[_Part] = []
    if batch.problems:
        parts.append(_problems_part(batch.problems))
    if len(rows):
        row_lines = parsed.lines.gather(rows)
        frame, unrendered = _render_marked(frame, row_lines)
        card = _card(frame, row_lines)
        # gated is Polars' rendering: a number, list or object there is not the text Python makes of it.
        gated_plain = frame["gated"].is_null() | ~frame["gated"].str.contains(r"^(?:-?[0-9]|\[|\{)")
        auto_maps, unread = _auto_maps(frame, row_lines)
        ok = (_counted(frame, card, row_lines) & frame["card_data"].is_null() & frame["card"].is_null()
              & frame["readme"].is_null() & ~card.refuse & gated_plain & ~unrendered & ~unread).fill_null(False)
        if not ok.all():
            slow.update(rows[(~ok).to_numpy()].tolist())
            kept = ok.arg_true().to_list()
            auto_maps = {i: auto_maps[row] for i, row in enumerate(kept) if row in auto_maps}
            frame, card, rows = frame.filter(ok), card.filter(ok), rows[ok.to_numpy()]
        if len(rows):
            parts.append(_fast(name, frame, batch.linenos[rows], batch.offset + batch.starts[rows], card, auto_maps))
    if slow:
        items = [(int(batch.linenos[i]), batch.offset + int(batch.starts[i]), batch.line(i)) for i in sorted(slow)]
        parts.append(_per_record(name, items))
    return _concat_parts(parts)


def _problems_part(problems: list[tuple[int, Problem]]) -> _Part:
    tables = HarvestTables.of(Harvest(problems=[p for _, p in problems]))
    return _Part(
        records=pl.DataFrame(schema=_RECORD_KEYS),
        references=pl.DataFrame(schema=_REFERENCE_KEYS),
        problems=tables.problems.with_columns(
            _line=pl.Series([n for n, _ in problems], dtype=pl.Int64()), _sub=pl.lit(0, pl.Int64())),
        objects=0,
        refused=len(problems),
    )


def _concat_parts(parts: list[_Part]) -> _Part:
    """Parts of one batch as one, rows in line order."""
    if not parts:
        return _Part(pl.DataFrame(schema=_RECORD_KEYS), pl.DataFrame(schema=_REFERENCE_KEYS),
                     pl.DataFrame(schema=_PROBLEM_KEYS), 0, 0)
    if len(parts) == 1:
        return parts[0]
    return _Part(
        records=pl.concat([p.records.cast(_RECORD_KEYS) for p in parts]).sort("_line", maintain_order=True),
        references=pl.concat([p.references.cast(_REFERENCE_KEYS) for p in parts]).sort(
            "_line", "_group", "_pos", maintain_order=True),
        problems=pl.concat([p.problems.cast(_PROBLEM_KEYS) for p in parts]).sort("_line", "_sub", maintain_order=True),
        objects=sum(p.objects for p in parts),
        refused=sum(p.refused for p in parts),
        files=pl.concat([p.files for p in parts]),
    )


def read_models_table(path: Path, *, batch_bytes: int = BATCH_BYTES) -> HarvestTables:
    """A models file (JSON Lines or Parquet) as :class:`HarvestTables`, equal to the per-record reader's.

    Parquet files go through the per-record reader (their rows are already typed values). Raises
    :class:`SourceError` as the per-record reader does: no such file, unreadable, or no line that is a
    JSON object.
    """
    path = Path(path)
    if not path.is_file():
        raise SourceError(f"{path}: no such file")
    if path.suffix.lower() == ".parquet":
        harvest = Harvest()
        read_model_rows(path, harvest)
        return HarvestTables.of(harvest)
    with tempfile.TemporaryDirectory(prefix="ptmgraph-columnar-") as folder:
        # Outputs of a big file wait on disk until the file is read: kept in memory, each batch's small
        # tables would sit among the batch's freed working memory and hold it (about 1.7x their size).
        parked = _Parked(Path(folder) if path.stat().st_size > 4 * batch_bytes else None)
        try:
            # Polars releases the GIL while it parses: the next batch is parsed while this one is finished.
            with path.open("rb") as handle, ThreadPoolExecutor(max_workers=1) as ahead:
                previous: Future[_Parsed] | None = None
                for batch in _batches(handle, path.name, batch_bytes):
                    current = ahead.submit(_prepare, batch)
                    if previous is not None:
                        parked.add(_finish(path.name, previous.result()))
                    previous = current
                if previous is not None:
                    parked.add(_finish(path.name, previous.result()))
                del previous  # its batch: the last working memory, freed before the rows are loaded
        except OSError as err:
            raise SourceError(f"{path}: cannot be read ({err.strerror or type(err).__name__})") from None
        if parked.objects == 0 and parked.refused > 0:
            raise SourceError(f"{path}: no line is a JSON object (expected JSON Lines)")
        records, references = parked.records(), parked.references()
    problems = pl.concat([*parked.problems, _repeated_ids(path, records)]).sort("_line", "_sub", maintain_order=True)
    return HarvestTables(
        records=records.drop("_line", "_offset"),
        references=references.drop("_line", "_group", "_pos"),
        known_ids=records["id"].unique().sort().rename("id"),
        dangling=pl.DataFrame(schema={**REFERENCES_SCHEMA, "reason": pl.String()}),
        problems=problems.drop("_line", "_sub"),
        files=pl.concat(parked.files),
    )


class _Parked:
    """The batches' outputs, in line order: records and references in Arrow IPC files in ``folder``
    (or in memory when it is None), problems in memory (they are few)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.parts: dict[str, list[pl.DataFrame | Path]] = {"records": [], "references": []}
        self.problems: list[pl.DataFrame] = [pl.DataFrame(schema=_PROBLEM_KEYS)]
        self.files: list[pl.DataFrame] = [pl.DataFrame(schema=FILES_SCHEMA)]  # file listings are rare: in memory
        self.objects = self.refused = 0

    def add(self, part: _Part) -> None:
        for kind, frame in (("records", part.records), ("references", part.references)):
            if self.folder is None or frame.is_empty():
                self.parts[kind].append(frame)
            else:
                file = self.folder / f"{kind}-{len(self.parts[kind])}.arrow"
                frame.write_ipc(file)
                self.parts[kind].append(file)
        self.problems.append(part.problems.cast(_PROBLEM_KEYS))
        self.files.append(part.files)
        self.objects += part.objects
        self.refused += part.refused

    def _load(self, kind: str, schema: pl.Schema) -> pl.DataFrame:
        frames = [pl.read_ipc(p) if isinstance(p, Path) else p for p in self.parts[kind]]
        self.parts[kind] = []
        return pl.concat([pl.DataFrame(schema=schema), *(f.cast(schema) for f in frames)])

    def records(self) -> pl.DataFrame:
        return self._load("records", _RECORD_KEYS)

    def references(self) -> pl.DataFrame:
        return self._load("references", _REFERENCE_KEYS)


def _repeated_ids(path: Path, records: pl.DataFrame) -> pl.DataFrame:
    """Problems for rows whose id an earlier row had with different data (the per-record reader's
    :class:`~ptmgraph.sources.hub_rows.Duplicates`), found by reading again just the lines of ids that
    occur more than once."""
    repeated = records.filter(pl.col("id").is_duplicated()).select("id", "source", "_line", "_offset")
    problems: list[Problem] = []
    lines: list[int] = []
    if repeated.height:
        duplicates = Duplicates()
        with path.open("rb") as handle:
            for model_id, where, lineno, offset in repeated.iter_rows():
                handle.seek(offset)
                row = reader.json_object(handle.readline(_LIMITS.document_bytes + 1), where, limits=_LIMITS)
                before = len(problems)
                if isinstance(row, Problem):  # the file changed since: report what it holds now
                    problems.append(row)
                else:
                    duplicates.check(model_id, where, row, problems)
                lines.extend([lineno] * (len(problems) - before))
    return HarvestTables.of(Harvest(problems=problems)).problems.with_columns(
        _line=pl.Series(lines, dtype=pl.Int64()), _sub=pl.lit(1, pl.Int64())).cast(_PROBLEM_KEYS)
