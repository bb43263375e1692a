"""The columnar reader's fast path, part one (:mod:`ptmgraph.sources.hub_columnar` says when a line takes it):
the schema a batch is parsed with, the checks that send a line to the per-record path, each record's card
read from Polars' rendering, and the column functions that give exactly what Python gives
(:mod:`ptmgraph.extract`'s rules on strings, once per distinct value where Python must decide)."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from ptmgraph import extract
from ptmgraph.ids import unique_map
from ptmgraph.records import Relation, access_of
from ptmgraph.sources.hub_columnar_lines import LIMITS, Batch, lines_bytes

PY_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
"""Every character for which Python's ``str.isspace()`` is true: what ``str.strip()`` removes."""

_STRING = r'"(?:[^"\\]|\\.)*"'
"""A JSON string literal (in a line Polars parsed, or in Polars' own rendering of a value)."""
SUSPICIOUS = "|".join([
    r"[\x00-\x09\x0b\x0c\x0e-\x1f\ufeff\ue000-\ue003]",  # control characters, a BOM, the marks of _MARKS
    r"\r[^\n]",  # a carriage return not ending the line
    r"\\u[dD][89a-fA-F]|\\u00[0-7]|\\u[eE]00[0-3]",  # escaped surrogates, ASCII characters, marks
    r"[:\[,]\s*-?[0-9]{19}",  # an integer that may not fit 64 bits (or a string holding one: rare)
])
"""What sends a line to the per-record path before parsing (see the module docstring), where the
reader's 100-digit bound on integers applies."""
FILE_DETAILS = r'"(?:{})"\s*:'.format("|".join(("tree", *extract.FILE_DETAIL_KEYS)))
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
        "auto_map": pl.String(),  # any keys: read from the line itself (auto_maps_of)
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
FLAT_SIBLING = r'\{"rfilename": ?"[^"\\]*"\}'
"""A file-list entry holding its name only (``{"rfilename": "..."}``): its bracket adds one level at most,
so a line's depth bound does not count it."""

_MARKS = {"\\\\": "\ue000", "\\t": "\ue001", "\\b": "\ue002", "\\f": "\ue003"}
"""JSON escapes that Polars writes back wrongly when it renders a nested value as a String (a backslash,
tab, backspace or form feed comes out raw), each replaced by a private-use character before such a
line's card is rendered, and turned back in what is read from it. Lines holding those characters
take the per-record path."""
_UNESCAPED = {"\\\\": "\\", "\\t": "\t", "\\b": "\b", "\\f": "\f"}
STRING_LIST = pl.List(pl.String())
"""The type of a list of strings (an empty one fills a missing list)."""


# --- Python-exact string functions ----------------------------------------------------------------


def select_when(condition: pl.Series, then: pl.Series | pl.Expr,
                otherwise: pl.Series | pl.Expr | None = None) -> pl.Series:
    """``then`` where ``condition`` holds, else ``otherwise`` (null when None), as a Series."""
    expr = pl.when(condition).then(then)
    return pl.select(expr if otherwise is None else expr.otherwise(otherwise)).to_series()


def coalesced(*columns: pl.Series | pl.Expr) -> pl.Series:
    """The first non-null of ``columns``, row by row, as a Series."""
    return pl.select(pl.coalesce(*columns)).to_series()


def py_strip(s: pl.Series) -> pl.Series:
    """``str.strip()`` (Python's whitespace, not Rust's)."""
    return s.str.strip_chars(PY_WHITESPACE)


def text_column(s: pl.Series) -> pl.Series:
    """:func:`extract.text_of` of strings: stripped, None when empty."""
    stripped = py_strip(s.cast(pl.String()))
    return select_when(stripped.str.len_bytes() > 0, stripped).rename(s.name)


def access_column(gated: pl.Series, disabled: pl.Series, private: pl.Series) -> pl.Series:
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


def time_column(s: pl.Series) -> pl.Series:
    """:func:`extract.time_of` of strings: the Hub's spelling by Polars, any other by Python."""
    canonical = s.str.contains(_CANONICAL_TIME)
    parsed = s.str.to_datetime("%Y-%m-%dT%H:%M:%S%.fZ", time_unit="us", time_zone="UTC", strict=False)
    if canonical.fill_null(True).all():
        return parsed
    python = unique_map(select_when(~canonical, s), extract.time_of, pl.Datetime("us", "UTC"))
    return select_when(canonical, parsed, python).rename(s.name)


def relation_value(value: str) -> str | None:
    """The relation a label names (:meth:`ptmgraph.records.Relation.parse`), as its value; None for none."""
    parsed = Relation.parse(value)
    return parsed.value if parsed else None


def aligned(n: int, frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` (keyed by ``_row``, at most one row each) as ``n`` rows in ``_row`` order; null where absent."""
    return pl.DataFrame({"_row": pl.int_range(n, dtype=pl.Int64(), eager=True)}).join(
        frame, on="_row", how="left", maintain_order="left")


def sorted_sets(n: int, pairs: pl.DataFrame, column: str) -> pl.Series:
    """Per row, the sorted distinct values of ``column`` among ``pairs`` (``_row``, ``column``); [] for none.
    (Exploded and grouped: Polars' per-list unique and sort are far slower.)"""
    grouped = pairs.unique(["_row", column]).sort("_row", column).group_by("_row", maintain_order=True).agg(column)
    return aligned(n, grouped)[column].fill_null(pl.lit([], STRING_LIST))


# --- the fast path: checks ------------------------------------------------------------------------


def depth_ok(lines: pl.Series) -> pl.Series:
    """True where a line's brackets (outside strings) nest at most the reader's depth and balance."""
    brackets = lines.str.replace_all(_STRING, "").str.replace_all(r"[^\[\]{}]", "")
    done = brackets.str.len_bytes() == 0
    for _ in range(LIMITS.depth):
        if done.all():
            break
        brackets = select_when(done, brackets, brackets.str.replace_all(r"\[\]|\{\}", ""))
        done = brackets.str.len_bytes() == 0
    return done


def parse_lines(batch: Batch, rows: np.ndarray) -> tuple[np.ndarray, pl.DataFrame, list[int]]:
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
            frame: pl.DataFrame | None = pl.read_ndjson(lines_bytes(batch, part), schema=_TOP_SCHEMA)
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
    for _ in range(LIMITS.depth + 1):
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
    return select_when(first.is_in(["", ","]), pl.lit("c"), first)


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
    return aligned(len(renderings), frame.with_columns(_row=pl.Series(kept, dtype=pl.Int64()))).drop("_row"), failed


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


def render_marked(frame: pl.DataFrame, lines: pl.Series) -> tuple[pl.DataFrame, pl.Series]:
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
class CardColumns:
    """The card of each parsed row (null where the row has no card object)."""

    present: pl.Series  # bool: cardData is an object
    fields: pl.Series  # its keys, sorted
    counted: pl.Series  # how many of its keys are counted keys (_COUNTED_KEYS)
    kinds: dict[str, pl.Series]  # see _value_kind
    lists: dict[str, pl.Series]  # _CARD_LIST_KEYS: a string or a list of strings, as a list
    texts: dict[str, pl.Series]  # _CARD_TEXT_KEYS: the string (unstripped); null for any other value
    refuse: pl.Series  # bool: the row takes the per-record path

    def filter(self, keep: pl.Series) -> CardColumns:
        def each(d: dict[str, pl.Series]) -> dict[str, pl.Series]:
            return {k: v.filter(keep) for k, v in d.items()}

        return CardColumns(self.present.filter(keep), self.fields.filter(keep), self.counted.filter(keep),
                     each(self.kinds), each(self.lists), each(self.texts), self.refuse.filter(keep))


def read_cards(frame: pl.DataFrame, lines: pl.Series) -> CardColumns:
    """The card of each parsed row of ``frame`` (``lines``: the rows' lines), read from Polars' rendering of
    ``cardData``, with the rows it cannot read exactly marked ``refuse``."""
    n = frame.height
    rendering = frame["cardData"]
    # A string can render like an object: the line itself says which it is (the key count, checked
    # with this, makes the first "cardData" in the line the top-level one).
    first = lines.str.extract(r'"cardData"\s*:\s*(.)')
    present = (rendering.is_not_null() & (first == "{")).fill_null(False)
    flat = _flat_object(select_when(present, rendering))
    pairs = _key_pairs(flat)
    fields = sorted_sets(n, pairs, "key")
    per_row = aligned(n, pairs.group_by("_row").agg(
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
    decoded, unreadable = _decode_objects(select_when(present, rendering),
                                          {k: pl.String() for k in (*_CARD_LIST_KEYS, *_CARD_TEXT_KEYS)})
    refuse = refuse | unreadable
    lists: dict[str, pl.Series] = {}
    for key in _CARD_LIST_KEYS:
        value = decoded[key]
        many = kinds[key] == "c"
        strings = value.str.contains(_LIST_OF_STRINGS)
        refuse = refuse | (many & ~strings)
        joined = coalesced(pl.when(kinds[key] == '"').then(pl.concat_list(value)),
                           select_when(many & strings, value).str.json_decode(STRING_LIST))
        lists[key] = joined.list.eval(_unmark(pl.element()))
    texts = {k: _unmark(select_when(kinds[k] == '"', decoded[k])) for k in _CARD_TEXT_KEYS}
    return CardColumns(present, fields, per_row["counted"].fill_null(0), kinds, lists, texts,
                 (refuse.fill_null(False) & present).rename("refuse"))


def keys_accounted(frame: pl.DataFrame, card: CardColumns, lines: pl.Series) -> pl.Series:
    """True where every counted key in the line is accounted for by a parsed value."""
    top = pl.sum_horizontal([frame[k].is_not_null().cast(pl.Int64()) for k in _TOP_SCHEMA])
    config = frame["config"]
    nested = pl.sum_horizontal([config.struct.field(k).is_not_null().cast(pl.Int64()) for k in _CONFIG_KEYS])
    qc = config.struct.field("quantization_config")
    quant = pl.sum_horizontal([qc.struct.field(k).is_not_null().cast(pl.Int64()) for k in _QUANT_KEYS])
    files = frame["siblings"].list.eval(pl.element().struct.field("rfilename").is_not_null().sum()).list.first()
    info = frame["transformersInfo"]
    info_pairs = _key_pairs(_flat_object(select_when(info.str.starts_with("{").fill_null(False), info)))
    in_info = aligned(frame.height, info_pairs.group_by("_row").agg(
        counted=pl.col("key").is_in(list(_COUNTED_KEYS)).sum()))["counted"]
    expected = pl.select(top + nested.fill_null(0) + quant.fill_null(0)).to_series() + files.fill_null(0) \
        + card.counted + in_info.fill_null(0)
    return lines.str.count_matches(_COUNTED) == expected
