"""Columnar reader of Hub API model records (``models.jsonl``): ``ptmgraph ingest`` at whole-Hub scale.

:func:`read_models_table` reads a file of ``GET /api/models/{id}`` records into
:class:`~ptmgraph.records.HarvestTables`, row for row what the per-record reader
(:func:`ptmgraph.sources.hub_rows.read_model_rows`, as :class:`~ptmgraph.sources.hub_records.HubRecordsSource`
reads) gives: ``read_models_table(path) == HarvestTables.of(<per-record harvest of path>)``, the records,
references and problems in the same order, ``known_ids`` sorted.

This module runs the batches and holds the per-record path; the reader's other parts, private to it, are
:mod:`~ptmgraph.sources.hub_columnar_lines` (lines and batches), :mod:`~ptmgraph.sources.hub_columnar_checks`
(the parse schema, the checks, cards, exact string columns) and :mod:`~ptmgraph.sources.hub_columnar_rows`
(records and references of parsed rows). Every rule they apply is :mod:`ptmgraph.extract`'s (called once
per distinct value where Python must decide) or says which of its functions it equals.

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

import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from ptmgraph import extract, reader
from ptmgraph.records import (
    FILES_SCHEMA,
    REFERENCES_SCHEMA,
    Harvest,
    HarvestTables,
    Problem,
)
from ptmgraph.sources.hub_columnar_checks import (
    FILE_DETAILS,
    FLAT_SIBLING,
    SUSPICIOUS,
    depth_ok,
    keys_accounted,
    parse_lines,
    read_cards,
    render_marked,
)
from ptmgraph.sources.hub_columnar_lines import LIMITS, Batch, MiB, line_texts, read_batches
from ptmgraph.sources.hub_columnar_rows import PROBLEM_KEYS, RECORD_KEYS, REFERENCE_KEYS, Part, auto_maps_of, fast_part
from ptmgraph.sources.hub_rows import Duplicates, read_model_rows
from ptmgraph.sources.interface import SourceError

BATCH_BYTES = 32 * MiB
"""Bytes of lines read and parsed together: the unit of the reader's working memory."""
FAST_LINE_BYTES = 4 * MiB
"""Longer lines (a Hub record is a few KB) take the per-record path."""


# --- the per-record path --------------------------------------------------------------------------


def _per_record(name: str, items: list[tuple[int, int, bytes]]) -> Part:
    """The per-record reader on ``(line number, file offset, line)``: what
    :func:`~ptmgraph.sources.hub_rows.read_model_rows` does per line."""
    harvest = Harvest()
    record_lines: list[tuple[int, int]] = []
    reference_lines: list[int] = []
    problem_lines: list[int] = []
    objects = refused = 0
    for lineno, offset, line in items:
        where = f"{name}:{lineno}"
        row = reader.json_object(line, where, limits=LIMITS)
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
    return Part(
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


# --- a batch and the file -------------------------------------------------------------------------


@dataclass
class _Parsed:
    """A batch after the checks before parsing and the parse: what :func:`_finish` needs."""

    batch: Batch
    lines: pl.Series  # the kept lines as text
    rows: np.ndarray  # the lines Polars parsed (indices into the batch's lines) ...
    frame: pl.DataFrame  # ... and their fields
    slow: set[int]  # lines for the per-record path so far


def _prepare(batch: Batch) -> _Parsed:
    """The checks before parsing, and the parse (run ahead of :func:`_finish` on another thread)."""
    if len(batch.starts) == 0:
        return _Parsed(batch, pl.Series(dtype=pl.String()), np.zeros(0, np.int64), pl.DataFrame(), set())
    lines = line_texts(batch)
    size = pl.Series(batch.ends - batch.starts)
    fast = (lines.is_not_null() & (size <= FAST_LINE_BYTES) & lines.str.starts_with("{")
            & ~lines.str.contains(SUSPICIOUS) & ~lines.str.contains(FILE_DETAILS)).fill_null(False)
    # Deeper than the bound needs more brackets than that, not counting flat file entries (each adds
    # one level at most): only lines over that are checked exactly.
    deep = fast & (lines.str.count_matches(r"[\[{]") > LIMITS.depth)
    if deep.any():
        index = deep.arg_true()
        some = lines.gather(index)
        bound = some.str.count_matches(r"[\[{]") - some.str.count_matches(FLAT_SIBLING) + 1
        index = index.filter(bound > LIMITS.depth)
        fast = fast.scatter(index, depth_ok(lines.gather(index)))
    slow = set(fast.not_().arg_true().to_list())
    rows, frame, failed = parse_lines(batch, fast.arg_true().to_numpy().astype(np.int64))
    slow.update(failed)
    return _Parsed(batch, lines, rows, frame, slow)


def _finish(name: str, parsed: _Parsed) -> Part:
    """Rows of a parsed batch: the fast path for the lines it reads exactly, the per-record path for the rest."""
    batch, rows, frame, slow = parsed.batch, parsed.rows, parsed.frame, parsed.slow
    parts: list[Part] = []
    if batch.problems:
        parts.append(_problems_part(batch.problems))
    if len(rows):
        row_lines = parsed.lines.gather(rows)
        frame, unrendered = render_marked(frame, row_lines)
        card = read_cards(frame, row_lines)
        # gated is Polars' rendering: a number, list or object there is not the text Python makes of it.
        gated_plain = frame["gated"].is_null() | ~frame["gated"].str.contains(r"^(?:-?[0-9]|\[|\{)")
        auto_maps, unread = auto_maps_of(frame, row_lines)
        ok = (keys_accounted(frame, card, row_lines) & frame["card_data"].is_null() & frame["card"].is_null()
              & frame["readme"].is_null() & ~card.refuse & gated_plain & ~unrendered & ~unread).fill_null(False)
        if not ok.all():
            slow.update(rows[(~ok).to_numpy()].tolist())
            kept = ok.arg_true().to_list()
            auto_maps = {i: auto_maps[row] for i, row in enumerate(kept) if row in auto_maps}
            frame, card, rows = frame.filter(ok), card.filter(ok), rows[ok.to_numpy()]
        if len(rows):
            parts.append(fast_part(name, frame, batch.linenos[rows], batch.offset + batch.starts[rows], card,
                                   auto_maps))
    if slow:
        items = [(int(batch.linenos[i]), batch.offset + int(batch.starts[i]), batch.line(i)) for i in sorted(slow)]
        parts.append(_per_record(name, items))
    return _concat_parts(parts)


def _problems_part(problems: list[tuple[int, Problem]]) -> Part:
    tables = HarvestTables.of(Harvest(problems=[p for _, p in problems]))
    return Part(
        records=pl.DataFrame(schema=RECORD_KEYS),
        references=pl.DataFrame(schema=REFERENCE_KEYS),
        problems=tables.problems.with_columns(
            _line=pl.Series([n for n, _ in problems], dtype=pl.Int64()), _sub=pl.lit(0, pl.Int64())),
        objects=0,
        refused=len(problems),
    )


def _concat_parts(parts: list[Part]) -> Part:
    """Parts of one batch as one, rows in line order."""
    if not parts:
        return Part(pl.DataFrame(schema=RECORD_KEYS), pl.DataFrame(schema=REFERENCE_KEYS),
                     pl.DataFrame(schema=PROBLEM_KEYS), 0, 0)
    if len(parts) == 1:
        return parts[0]
    return Part(
        records=pl.concat([p.records.cast(RECORD_KEYS) for p in parts]).sort("_line", maintain_order=True),
        references=pl.concat([p.references.cast(REFERENCE_KEYS) for p in parts]).sort(
            "_line", "_group", "_pos", maintain_order=True),
        problems=pl.concat([p.problems.cast(PROBLEM_KEYS) for p in parts]).sort("_line", "_sub", maintain_order=True),
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
                for batch in read_batches(handle, path.name, batch_bytes):
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
        self.problems: list[pl.DataFrame] = [pl.DataFrame(schema=PROBLEM_KEYS)]
        self.files: list[pl.DataFrame] = [pl.DataFrame(schema=FILES_SCHEMA)]  # file listings are rare: in memory
        self.objects = self.refused = 0

    def add(self, part: Part) -> None:
        for kind, frame in (("records", part.records), ("references", part.references)):
            if self.folder is None or frame.is_empty():
                self.parts[kind].append(frame)
            else:
                file = self.folder / f"{kind}-{len(self.parts[kind])}.arrow"
                frame.write_ipc(file)
                self.parts[kind].append(file)
        self.problems.append(part.problems.cast(PROBLEM_KEYS))
        self.files.append(part.files)
        self.objects += part.objects
        self.refused += part.refused

    def _load(self, kind: str, schema: pl.Schema) -> pl.DataFrame:
        frames = [pl.read_ipc(p) if isinstance(p, Path) else p for p in self.parts[kind]]
        self.parts[kind] = []
        return pl.concat([pl.DataFrame(schema=schema), *(f.cast(schema) for f in frames)])

    def records(self) -> pl.DataFrame:
        return self._load("records", RECORD_KEYS)

    def references(self) -> pl.DataFrame:
        return self._load("references", REFERENCE_KEYS)


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
                row = reader.json_object(handle.readline(LIMITS.document_bytes + 1), where, limits=LIMITS)
                before = len(problems)
                if isinstance(row, Problem):  # the file changed since: report what it holds now
                    problems.append(row)
                else:
                    duplicates.check(model_id, where, row, problems)
                lines.extend([lineno] * (len(problems) - before))
    return HarvestTables.of(Harvest(problems=problems)).problems.with_columns(
        _line=pl.Series(lines, dtype=pl.Int64()), _sub=pl.lit(1, pl.Int64())).cast(PROBLEM_KEYS)
