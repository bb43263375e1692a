"""The columnar reader's fast path, part two (:mod:`ptmgraph.sources.hub_columnar`): the records and references of
a batch's parsed rows, each column by the rule :func:`ptmgraph.extract.record_from_api` applies per record,
in the same order; and the shape of a batch's output (:class:`Part`)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from ptmgraph import extract, file_rules, relations
from ptmgraph.ids import lowercase_ids, unique_map
from ptmgraph.records import (
    FILES_SCHEMA,
    NAME_LIST,
    PROBLEMS_SCHEMA,
    RECORDS_SCHEMA,
    REFERENCES_SCHEMA,
    WEIGHT_FORMATS,
    EvidenceKind,
    Reference,
)
from ptmgraph.sources.hub_columnar_checks import (
    PY_WHITESPACE,
    STRING_LIST,
    CardColumns,
    access_column,
    aligned,
    coalesced,
    py_strip,
    relation_value,
    select_when,
    sorted_sets,
    text_column,
    time_column,
)

_WEIGHT_EXT = "({})$".format("|".join(re.escape(s) for s in WEIGHT_FORMATS))
_FULL_WEIGHTS = "(?i)" + file_rules.FULL_WEIGHTS.pattern
_TRAINING_STATE = "(?i)" + file_rules.TRAINING_STATE.pattern
_GGML_BIN = "(?i)" + file_rules.GGML_BIN.pattern
_WEIGHT_SUFFIXES = "(?:{})$".format("|".join(re.escape(s) for s in file_rules.WEIGHT_SUFFIXES))
_CODE_FILE = f"^(?:{relations.CODE_FILE.pattern})$"
_AUTO_MAP_KEY = re.compile(r'"auto_map"\s*:\s*')


@dataclass
class Part:
    """Output of some lines: tables with ordering columns (``_line``; ``_group``/``_pos`` for references,
    ``_sub`` for problems) and, per record, ``_offset`` for reading again lines of repeated ids."""

    records: pl.DataFrame
    references: pl.DataFrame
    problems: pl.DataFrame
    objects: int  # lines that were JSON objects
    refused: int  # lines that were not
    files: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=FILES_SCHEMA))  # per-record lines only


RECORD_KEYS = pl.Schema({**RECORDS_SCHEMA, "_line": pl.Int64(), "_offset": pl.Int64()})
REFERENCE_KEYS = pl.Schema({**REFERENCES_SCHEMA, "_line": pl.Int64(), "_group": pl.Int64(), "_pos": pl.Int64()})
PROBLEM_KEYS = pl.Schema({**PROBLEMS_SCHEMA, "_line": pl.Int64(), "_sub": pl.Int64()})
"""The columns of a :class:`Part`'s records, references and problems: the harvest's, and the keys that put
the rows of every part back in the order of the lines (``_line``, then the place within a line)."""


# --- the fast path: rows --------------------------------------------------------------------------


def _file_features(names: pl.DataFrame) -> pl.DataFrame:
    """Per (``_row``, ``name``): weight family, full weights, a root GGML .bin, README, quantizer tool.
    Computed once per distinct name; names with characters other than printable ASCII by Python."""
    distinct = names.select(pl.col("name").unique()).with_columns(text=pl.col("name").cast(pl.String()))
    name = pl.col("text")
    features = distinct.with_columns(
        plain=name.str.contains(r"^[\x20-\x7e]*$"),
        family=pl.when(name.str.contains(_GGML_BIN)).then(pl.lit("ggml")).otherwise(  # file_rules.weight_format
            name.str.to_lowercase().str.extract(_WEIGHT_EXT).replace_strict(
                list(WEIGHT_FORMATS), list(WEIGHT_FORMATS.values()), default=None)),
        full=name.str.contains(_WEIGHT_SUFFIXES) & name.str.contains(_FULL_WEIGHTS)
        & ~(name.str.contains("/", literal=True) & name.str.contains(_TRAINING_STATE)),
        ggml_root=~name.str.contains("/", literal=True) & name.str.contains(_GGML_BIN),
        code=name.str.contains(_CODE_FILE),
        tool=name.replace_strict(list(file_rules.QUANT_FILES), list(file_rules.QUANT_FILES.values()), default=None),
    )
    if not features["plain"].all():
        odd = features.filter(~pl.col("plain"))["text"].to_list()
        python = pl.DataFrame({
            "text": odd,
            "family_py": [file_rules.weight_format(n) for n in odd],
            "full_py": [file_rules.has_full_weights([n]) for n in odd],
            "ggml_py": ["/" not in n and bool(file_rules.GGML_BIN.search(n)) for n in odd],
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


def auto_maps_of(frame: pl.DataFrame, lines: pl.Series) -> tuple[dict[int, object], pl.Series]:
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


def fast_part(name: str, frame: pl.DataFrame, linenos: np.ndarray, offsets: np.ndarray, card: CardColumns,
          auto_maps: dict[int, object]) -> Part:
    """Records, references and problems of parsed rows that passed every check."""
    n = frame.height
    row = pl.int_range(n, dtype=pl.Int64(), eager=True).alias("_row")
    line = pl.Series("_line", linenos, dtype=pl.Int64())
    source = (pl.lit(f"{name}:") + line.cast(pl.String())).alias("source")
    model_id = text_column(coalesced(frame["id"], frame["modelId"], frame["model_id"])).rename("id")
    missing = model_id.is_null()
    problems = pl.DataFrame({"_line": line.filter(missing)}).select(
        source=pl.lit(f"{name}:") + pl.col("_line").cast(pl.String()), model=pl.lit(None, pl.String()),
        message=pl.lit("record has no 'id'"), _line="_line", _sub=pl.lit(0, pl.Int64()))

    # Files (siblings' rfilename) and what they show: weight formats, README, quantization.
    files = frame["siblings"].list.eval(pl.element().struct.field("rfilename")).list.drop_nulls()
    names = pl.DataFrame({"_row": row, "name": files}).explode("name").drop_nulls("name")
    features = _file_features(names)
    per_row = aligned(n, features.group_by("_row").agg(
        full=pl.col("full").any(), ggml_root=pl.col("ggml_root").any(), readme=(pl.col("text") == extract.CARD).any(),
        **{f"quant_{tool}": (pl.col("tool") == tool).any() for tool in file_rules.QUANT_FILES.values()},
    ))
    weight_formats = sorted_sets(n, features.select("_row", "family").drop_nulls(), "family")
    # Own code files (extract.code_files): by name, and for a row with an auto_map by the same function.
    code_files = sorted_sets(n, features.filter(pl.col("code")).select("_row", "text"), "text")
    if auto_maps:
        at = list(auto_maps)
        listed = files.gather(at).to_list()
        own = pl.DataFrame({"_row": pl.Series(at, dtype=pl.Int64()), "own": pl.Series([
            relations.own_code_files(f or [], auto_maps[i], model_id[i]) for i, f in zip(at, listed, strict=True)
        ], dtype=STRING_LIST)})
        code_files = select_when(aligned(n, own)["own"].is_not_null(), aligned(n, own)["own"], code_files)
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
    tag_license = aligned(n, licence_tags)["lic"]

    # The card (extract.apply_card): it fills only what the record lacks.
    card_license = _card_license(card.lists["license"].fill_null(pl.lit([], STRING_LIST)),
                                 card.lists["licence"].fill_null(pl.lit([], STRING_LIST)),
                                 coalesced(text_column(card.texts["license_name"]),
                                           text_column(card.texts["license_link"])))
    license_ = coalesced(pl.when(card.present).then(card_license), tag_license)
    library = coalesced(text_column(frame["library_name"]), text_column(card.texts["library_name"]))
    pipeline = coalesced(text_column(frame["pipeline_tag"]), text_column(card.texts["pipeline_tag"]))
    dataset_pairs = pl.concat([
        tag_rows.filter(pl.col("tag").str.starts_with("dataset:")).select("_row", d=pl.col("tag").str.slice(8)),
        pl.DataFrame({"_row": row, "d": card.lists["datasets"]}).explode("d").select(
            "_row", d=pl.col("d").str.strip_chars(PY_WHITESPACE)).filter(pl.col("d").str.len_bytes() > 0),
    ])
    datasets = sorted_sets(n, dataset_pairs, "d")
    has_card = select_when(card.present, pl.lit(True), pl.when(has_siblings).then(per_row["readme"].fill_null(False)))
    card_fields = select_when(card.present, card.fields, pl.lit([], STRING_LIST))

    # Quantization (extract.quantization_hint): files first, then config.json's quantization_config.
    config = frame["config"]
    full = per_row["full"].fill_null(False)
    qc = config.struct.field("quantization_config")
    quant_method = lowercase_ids(text_column(qc.struct.field("quant_method")))
    bnb = qc.struct.field("load_in_4bit").fill_null(False) | qc.struct.field("load_in_8bit").fill_null(False)
    mlx = lowercase_ids(library.fill_null("")) == "mlx"
    quantization = pl.select(
        pl.when(weight_formats.list.contains("gguf") & ~full).then(pl.lit("gguf"))
        .when(weight_formats.list.contains("ggml") & ~full).then(pl.lit("ggml"))
        .when(per_row["ggml_root"].fill_null(False) & ~full).then(pl.lit("ggml"))
        .otherwise(pl.coalesce(
            *[pl.when(per_row[f"quant_{tool}"].fill_null(False)).then(pl.lit(tool))
              for tool in file_rules.QUANT_FILES.values()],
            pl.when(qc.is_not_null()).then(
                pl.when(quant_method.is_not_null()).then(quant_method).when(bnb).then(pl.lit("bnb"))
                .when(mlx).then(pl.lit("mlx")).otherwise(pl.lit("unspecified")))))
    ).to_series()

    author_prefix = select_when(model_id.str.contains("/", literal=True), model_id.str.extract(r"^([^/]*)/"))
    records = pl.DataFrame({
        "id": model_id,
        "author": coalesced(text_column(frame["author"]), author_prefix),
        "sha": text_column(frame["sha"]),
        "created_at": time_column(coalesced(frame["createdAt"], frame["created_at"]).cast(pl.String())),
        "last_modified": time_column(coalesced(frame["lastModified"], frame["last_modified"]).cast(pl.String())),
        "downloads": frame["downloads"],
        "downloads_all_time": coalesced(frame["downloadsAllTime"], frame["downloads_all_time"]),
        "likes": frame["likes"],
        "spaces": frame["spaces"].list.len().cast(pl.Int64()),
        "license": license_,
        "library": library,
        "pipeline_tag": pipeline,
        "gated": lowercase_ids(frame["gated"]),
        "disabled": frame["disabled"],
        "private": frame["private"],
        "access": access_column(lowercase_ids(frame["gated"]), frame["disabled"], frame["private"]),
        "model_type": text_column(config.struct.field("model_type")),
        "files": files,
        "weight_formats": weight_formats,
        "has_card": has_card,
        "card_fields": card_fields,
        "datasets": datasets,
        "tags": tags,
        "new_version": text_column(card.texts["new_version"]),
        "quantization": quantization,
        "code_files": code_files,
        "source": pl.select(source).to_series(),
        "_line": line,
        "_offset": pl.Series(offsets, dtype=pl.Int64()),
    }, schema=RECORD_KEYS).filter(~missing)
    code_refs = [(i, pos, ref) for i, value in auto_maps.items() if model_id[i] is not None
                 for pos, ref in enumerate(extract.references_from_config(model_id[i], {"auto_map": value}, ""))]
    references = _references(row, model_id, line, source, card, tag_rows, config, code_refs).filter(
        pl.col("child").is_not_null())
    return Part(records, references, problems.cast(PROBLEM_KEYS), objects=n, refused=0)


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


def _references(row: pl.Series, model_id: pl.Series, line: pl.Series, source: pl.Expr, card: CardColumns,
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
        raw=card.lists["base_model"],
        relation=unique_map(card.texts["base_model_relation"], relation_value, pl.String()),
        field=select_when(kind == "c", pl.lit(f"{extract.CARD}:base_model[]"), pl.lit(f"{extract.CARD}:base_model")),
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
    bm = bm.with_columns(relation=unique_map(bm["head"], relation_value, pl.String()))
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
    own = (lowercase_ids(py_strip(raw)) == lowercase_ids(model_id)).fill_null(False)
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
    return pl.concat([p.cast(REFERENCE_KEYS) for p in parts]).sort("_line", "_group", "_pos")
