"""Harvest tables -> snapshot tables: resolve references into edges, decide each edge's relation.

An *edge* is one (base, child) pair; it aggregates every piece of *evidence* for that pair, and
:func:`ptmgraph.relations.decide` gives its relation, the rule that decided it and its confidence.

Which pairs become edges: every pair that strong evidence names (:data:`~ptmgraph.records.STRONG_KINDS`:
the card's ``base_model``, Hub tags, model trees, edge lists), and every pair a ``config.json``
``auto_map`` names (the child runs that repo's code: ``loads_code``). Weak evidence (``config.json``,
``adapter_config.json``, card text) names a parent only for a child that strong evidence gives none;
otherwise it supports an edge to the same base, or dangles as ``outweighed``. Two exceptions hang a
child under another model than the base its evidence names; that base's evidence stays in the evidence
table, and the edge names it in ``replaced_base``:

- ``prose_parent``: a quantization whose card text names model X, where the declared base is X's own
  base, hangs under X (quantizers copy the original card, ``base_model`` included);
- ``name_parent``: a child with no record that only the Hub's model tree lists, under one base B and not
  as an adapter (an adapter hangs on the model it loads), whose name is X's name plus a quantization
  suffix (:func:`ptmgraph.file_rules.name_parent_stem`, any author), hangs under X when exactly one model of
  that name descends from B (within :data:`~ptmgraph.assemble_edges.NAME_PARENT_HOPS` generations). It stays
  under B when two or more do (the name does not say which one was copied), and when the name is B's own name
  (then X is a re-upload of B, and B is what the name names). Names are compared ignoring letter case and a
  trailing ``-hf`` (:data:`ptmgraph.file_rules.NAME_KEY_DROP`).

``declared_relation``, ``hub_relation``, ``inferred_relation`` and ``prose_relation`` are all kept, so
disagreements can be reported (``relations_disagree``: declared, Hub and inferred differ).

How it runs: on :class:`~ptmgraph.records.HarvestTables`, as Polars joins and group-bys, so millions of
records and references never become Python objects one by one. Per-value rules written in Python
(:func:`~ptmgraph.ids.normalize_reference`, :func:`~ptmgraph.ids.current_id`,
:func:`~ptmgraph.ids.looks_like_local_path`, the file-name rules of :mod:`ptmgraph.file_rules`) run once per
*distinct* value (see :mod:`ptmgraph.ids` for the vectorised shortcuts); :func:`ptmgraph.relations.decide`
runs once per distinct combination of an edge's :class:`~ptmgraph.relations.EdgeEvidence` fields (a few
hundred at most), and the decisions are joined back onto the edges.
The edges are built by :mod:`ptmgraph.assemble_edges`; this module makes the other tables.

Ids: ids that differ only in letter case are one model. Its spelling is the first one seen: record ids in
reading order, then the ids a listing named (sorted), then the bases references name, in reference order
(a child is looked up among the bases of earlier references only, as a reader going through them in
order would). Records of one id merge: each scalar field from the first record that has it, ``has_card``
true if any record says so, lists united and sorted (a lone record's lists are kept as read), sources
joined with ``;``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from ptmgraph.assemble_edges import build_edges
from ptmgraph.ids import current_ids, local_path_ids, lowercase_ids, normalized_references
from ptmgraph.records import (
    DANGLING_SCHEMA,
    FILES_SCHEMA,
    MODELS_SCHEMA,
    NAME_LIST,
    NAME_LIST_COLUMNS,
    PROBLEMS_SCHEMA,
    RECORDS_SCHEMA,
    DanglingReason,
    Harvest,
    HarvestTables,
)
from ptmgraph.snapshot import Snapshot, save

_EVIDENCE_KEY = ["base", "child", "kind", "field", "relation"]


def build_snapshot(tables: HarvestTables, directory: Path, meta: Mapping[str, Any] | None = None,
                   attachments: dict[str, Path] | None = None) -> Snapshot:
    """Assemble ``tables`` and save the snapshot to ``directory`` (:func:`ptmgraph.snapshot.save`, with its
    ``attachments``), with ``meta`` added to its ``meta.json``: how ``ingest`` and the crawl make a snapshot.
    ``tables`` is consumed (``assemble_tables(consume=True)``); the lists of names stay categorical until
    they are written."""
    snap = assemble_tables(tables, consume=True, text_lists=False)
    snap.meta.update(meta or {})
    save(snap, directory, attachments)
    return snap


def assemble(harvest: Harvest) -> Snapshot:
    """Build the snapshot tables from everything the sources read (as :func:`assemble_tables`)."""
    return assemble_tables(HarvestTables.of(harvest))


def assemble_tables(tables: HarvestTables, *, consume: bool = False, text_lists: bool = True) -> Snapshot:
    """Build the snapshot tables from a harvest in table form (several harvests: ``HarvestTables.concat``).

    ``consume``: empty ``tables.records`` and ``tables.references`` while they are read, so that a caller
    holding no other reference to them never holds two copies of either (as read, and sorted or in one
    piece). ``text_lists``: False leaves the models table's lists of names categorical
    (:data:`~ptmgraph.records.NAME_LIST`, a fraction of their size as text), for a caller that only saves
    the snapshot (:func:`ptmgraph.snapshot.save` writes them as text).

    Memory: Polars copies every column of a table when an expression meets columns held in differently
    cut pieces (chunks), as a table read from several files or by several threads is; so the records are
    only touched column by column until their sorted copy is made, and the references are put in one
    piece a column at a time first.
    """
    known = tables.known_ids.drop_nulls().unique().sort()
    record_ids = current_ids(tables.records["id"])
    spellings = _first_spellings(pl.concat([record_ids, current_ids(known)]))
    canonical = _known_spelling(record_ids, spellings)
    case_problems = _case_collisions(record_ids, tables.records["source"], canonical)
    del record_ids
    records, merged_rows = _merge_records(tables.records, canonical)
    if consume:
        tables.records = tables.records.clear()
    records = _drained_sorted(records, "id", merged_rows)
    references = _drained_in_one_piece(tables.references if consume else tables.references.clone())
    if consume:
        tables.references = references.clear()
    resolved, added = _resolve(references, spellings, tables.local_names)
    del references
    ref_dangling = resolved.filter(pl.col("reason").is_not_null()).select(list(DANGLING_SCHEMA))
    evidence = _dedupe_evidence(resolved)
    del resolved
    edges, kept, outweighed = build_edges(evidence, records)
    del evidence  # kept holds what is saved of it

    index = pl.concat([spellings, added.select("lower", "spelling")])
    dangling = pl.concat([ref_dangling, _listed_dangling(tables.dangling, index), outweighed])
    return Snapshot(
        models=_models(records, edges, known, spellings, text_lists),
        edges=edges,
        evidence=kept,
        dangling=dangling,
        problems=pl.concat([
            tables.problems.select(list(PROBLEMS_SCHEMA)).cast(PROBLEMS_SCHEMA),  # type: ignore[arg-type]
            case_problems,
            _namespace_problems(ref_dangling, tables.local_names),
        ]),
        files=_files(tables.files, spellings),
        meta={"sources": list(tables.sources)},
    )


def _files(files: pl.DataFrame, spellings: pl.DataFrame) -> pl.DataFrame:
    """The file listings read, under the models' canonical ids, one row per (model, path): the first read."""
    if files.is_empty():
        return files.select(list(FILES_SCHEMA)).cast(FILES_SCHEMA)  # type: ignore[arg-type]
    canonical = _known_spelling(current_ids(files["model"]), spellings)
    return (files.with_columns(pl.coalesce(canonical, files["model"]).alias("model"))
            .unique(["model", "path"], keep="first", maintain_order=True)
            .sort("model", "path", maintain_order=True)
            .select(list(FILES_SCHEMA)).cast(FILES_SCHEMA))  # type: ignore[arg-type]


def _first_spellings(ids: pl.Series) -> pl.DataFrame:
    """``lower`` -> ``spelling``: the first spelling in ``ids`` of each id, compared ignoring case."""
    frame = pl.DataFrame({"lower": lowercase_ids(ids), "spelling": ids})
    return frame.unique("lower", keep="first", maintain_order=True)


def _known_spelling(ids: pl.Series, spellings: pl.DataFrame) -> pl.Series:
    """The known spelling of each of ``ids`` (null if unknown)."""
    keys = lowercase_ids(ids).rename("lower").to_frame()
    return keys.join(spellings, on="lower", how="left", maintain_order="left")["spelling"]


def _lookup(frame: pl.DataFrame, column: str, spellings: pl.DataFrame, name: str) -> pl.DataFrame:
    """``frame`` with ``name``: the known spelling of ``frame[column]`` (null if unknown), rows in order."""
    return frame.with_columns(_known_spelling(frame[column], spellings).alias(name))


def _drained_in_one_piece(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with each column in one chunk, made a column at a time while ``frame`` is emptied in place."""
    return pl.DataFrame([frame.drop_in_place(name).rechunk() for name in list(frame.columns)])


# --- records --------------------------------------------------------------------------------------


def _case_collisions(ids: pl.Series, sources: pl.Series, canonical: pl.Series) -> pl.DataFrame:
    """A problem row for each model whose records carry ids that differ only in letter case, naming every
    spelling and where each was read. The Hub treats such ids as one repo, so they are one model: its
    records are merged under the spelling read first, the first record's values winning (as for exact
    duplicates, :func:`_merge_records`); a crawl reads its records in the code-point order of their ids.

    ``canonical``: the model of each record (its known spelling). A model has two spellings exactly when
    one of its records is spelled otherwise than the model (the model's spelling is a record's), so only
    the records of such models are looked at: usually none."""
    other = ids != canonical
    if not other.any():
        return pl.DataFrame(schema=PROBLEMS_SCHEMA)
    frame = pl.DataFrame({"id": ids, "source": sources, "model": canonical})
    frame = frame.filter(pl.col("model").is_in(canonical.filter(other).implode()))
    spelled = frame.unique(["model", "id"], keep="first", maintain_order=True)
    clashing = spelled.filter(pl.col("model").is_duplicated())
    if not clashing.height:
        return pl.DataFrame(schema=PROBLEMS_SCHEMA)
    rows = []
    for (model,), group in clashing.group_by("model", maintain_order=True):
        named = ", ".join(f"{i!r} ({s})" for i, s in group.select("id", "source").iter_rows())
        rows.append({"source": ";".join(s for s in group["source"].to_list() if s), "model": model,
                     "message": f"ids differ only in letter case: {named}; one model (the Hub treats them alike), "
                                f"merged under {model!r}, the first read; the first record's values win"})
    return pl.DataFrame(rows, schema=PROBLEMS_SCHEMA)


def _merge_records(records: pl.DataFrame, canonical: pl.Series) -> tuple[pl.DataFrame, pl.Series | None]:
    """The records under their ``canonical`` ids (:data:`RECORDS_SCHEMA` plus ``has_record``, true), and which
    rows are the merged ones: with an id that several records describe, their merged row is appended and
    the mask is false for the records themselves (None: every id has one record).

    The columns share their memory with ``records``: nothing is copied until :func:`_drained_sorted`."""
    canonical = canonical.rename("id")
    # Series only, no expressions: see assemble_tables on chunks.
    records = records.select(list(RECORDS_SCHEMA)).with_columns(
        canonical, pl.repeat(True, records.height, dtype=pl.Boolean(), eager=True).rename("has_record"))
    repeated = canonical.is_duplicated()
    if not repeated.any():
        return records, None
    merged = _merge_repeated(records.filter(repeated).drop("has_record")).with_columns(has_record=pl.lit(True))
    rows = pl.concat([~repeated, pl.Series([True] * merged.height, dtype=pl.Boolean())])
    return pl.concat([records, merged.select(records.columns)]), rows


def _drained_sorted(frame: pl.DataFrame, by: str, rows: pl.Series | None = None) -> pl.DataFrame:
    """The ``rows`` of ``frame`` (all if None) sorted by ``by``, built column by column while ``frame`` is
    emptied in place: the table is held twice only where another reference keeps its columns alive."""
    if rows is None and frame[by].is_sorted():
        return _drained_in_one_piece(frame)
    keep = rows if rows is not None else pl.repeat(True, frame.height, eager=True)
    keys = pl.DataFrame({"key": frame[by], "row": keep})
    positions = pl.int_range(pl.len(), dtype=pl.UInt32()).filter("row").sort_by(pl.col("key").filter("row"))
    order = keys.select(positions).to_series()
    # A gather from a column in several chunks first copies it into one: do that copy here, one column at a
    # time, so that at most one column is held three times over.
    columns = [_compact(frame.drop_in_place(name).rechunk().gather(order)) for name in list(frame.columns)]
    return pl.DataFrame(columns)


def _compact(column: pl.Series) -> pl.Series:
    """``column``, with the text of a string or list-of-strings column laid out anew in row order.

    A gathered string column still points into the text buffers it was gathered from, in scattered
    order; writing it to Parquet then costs time in proportion to all those buffers for every row group
    (3M models: 33 s of CPU for the files column instead of 15 s).
    """
    if column.dtype == pl.List(pl.String()):
        return column.list.eval(pl.element() + "")
    if column.dtype == pl.String():
        return column + ""
    return column


def _merge_repeated(rows: pl.DataFrame) -> pl.DataFrame:
    """Rows of ids that several records describe, merged in reading order."""
    scalars = [c for c in RECORDS_SCHEMA if c not in (*NAME_LIST_COLUMNS, "id", "has_card", "source")]
    odd_sources = bool(rows["source"].str.contains(";", literal=True).any())
    merged = rows.group_by("id", maintain_order=True).agg(
        *(pl.col(c).first(ignore_nulls=True) for c in scalars),
        pl.col("has_card").max(),  # true if any record says so, else false if any says so, else unknown
        pl.col("source").unique(maintain_order=True).str.join(";"),
        *([pl.col("source").alias("_sources")] if odd_sources else []),
        *(pl.col(c).first() for c in NAME_LIST_COLUMNS),
        *(pl.col(c).explode().alias(f"_all_{c}") for c in NAME_LIST_COLUMNS),
        *(pl.col(c).slice(1).list.len().gt(0).any().alias(f"_more_{c}") for c in NAME_LIST_COLUMNS),
    )
    # A record's lists stay as read until a later record of its id brings items: then all are united, sorted.
    merged = merged.with_columns(
        pl.when(pl.col(f"_more_{c}")).then(pl.col(f"_all_{c}").list.unique().list.sort()).otherwise(pl.col(c)).alias(c)
        for c in NAME_LIST_COLUMNS
    )
    if odd_sources:  # a source name holding ';' itself: join the names exactly as one at a time would
        merged = merged.with_columns(pl.col("_sources").map_elements(_joined_sources, return_dtype=pl.String())
                                     .alias("source"))
    return merged.select([pl.col(c).cast(t) for c, t in RECORDS_SCHEMA.items()])


def _joined_sources(sources: Sequence[str]) -> str:
    """Source names joined with ';', each added unless the joined text already lists it."""
    joined = sources[0]
    for source in sources[1:]:
        if source not in joined.split(";"):
            joined = f"{joined};{source}"
    return joined


# --- references -----------------------------------------------------------------------------------


def _resolve(references: pl.DataFrame, spellings: pl.DataFrame,
             local_names: pl.DataFrame | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Each reference with its canonical ``child`` and ``base`` (null when it dangles, ``reason`` says why),
    in reference order; and the bases it added to the known ids (``lower``, ``spelling``, first reference
    ``at``). ``local_names``: flat local folders (:func:`_to_flat_folders`)."""
    refs = references.select(list(_REFERENCE_COLUMNS)).with_row_index("at")
    norm = normalized_references(refs["raw"])
    child_norm = normalized_references(refs["child"])["id"]
    refs = refs.with_columns(
        named=pl.when(pl.col("raw_is_text")).then(norm["id"]),
        reason=pl.when(pl.col("raw_is_text")).then(norm["reason"]).otherwise(pl.lit(DanglingReason.NOT_A_STRING.value)),
        child_id=child_norm,
    )
    refs = _lookup(refs, "named", spellings, "known_base")
    if local_names is not None and local_names.height:
        refs = _to_flat_folders(refs, local_names, spellings)
    unknown = refs.filter(pl.col("named").is_not_null() & pl.col("known_base").is_null())
    unknown = unknown.filter(~local_path_ids(unknown["named"]))
    added = unknown.select(lower=lowercase_ids(unknown["named"]), spelling="named", at="at").unique(
        "lower", keep="first", maintain_order=True)
    refs = refs.with_columns(lower=lowercase_ids(refs["named"]))
    refs = refs.join(added.select("lower", added_base="spelling"), on="lower", how="left", maintain_order="left")
    refs = refs.with_columns(
        base=pl.coalesce("known_base", "added_base"),
        reason=pl.when(pl.col("named").is_null()).then(pl.coalesce("reason", pl.lit(DanglingReason.INVALID_ID.value)))
        .when(pl.col("known_base").is_null() & pl.col("added_base").is_null())
        .then(pl.lit(DanglingReason.LOCAL_PATH.value)),
    )
    # The child, under the spelling known when its reference is read: bases of later references do not count.
    refs = _lookup(refs, "child_id", spellings, "known_child")
    child_keys = refs.select(lower=lowercase_ids(refs["child_id"]), child_at="at")
    earlier = child_keys.join(added, on="lower", how="left", maintain_order="left").select(
        pl.when(pl.col("at") < pl.col("child_at")).then("spelling"))["spelling"]
    refs = refs.with_columns(child=pl.coalesce("known_child", earlier, "child_id", "child"))
    return refs.select("at", "child", "base", "reason", "raw", "kind", "field", "source", "relation", "quote"), added


def _to_flat_folders(refs: pl.DataFrame, local_names: pl.DataFrame, spellings: pl.DataFrame) -> pl.DataFrame:
    """References to ``ORG/NAME`` that name no known model, where a flat local folder ``NAME`` was read
    (:mod:`ptmgraph.sources.local`, rule 4): to a folder whose id has no namespace they resolve (``known_base``
    is its id: the evidence keeps the reference as written); to a folder whose id has another namespace
    they dangle as ``namespace_mismatch``. Either way one model is never split silently into two."""
    folders = local_names.select(
        flat_id=_known_spelling(local_names["id"], spellings),
        name=lowercase_ids(local_names["id"].str.split("/").list.last()),
    ).drop_nulls().unique("name", keep="first", maintain_order=True)
    candidate = pl.col("named").is_not_null() & pl.col("known_base").is_null() & pl.col("named").str.contains("/")
    names = lowercase_ids(refs["named"].str.split("/").list.last()).alias("name")
    refs = refs.with_columns(pl.when(candidate).then(names).alias("name"))
    refs = refs.join(folders, on="name", how="left", maintain_order="left")
    flat = pl.col("flat_id").is_not_null()
    namespaced = pl.col("flat_id").str.contains("/")
    mismatch = flat & namespaced
    return refs.with_columns(
        known_base=pl.when(flat & ~namespaced).then("flat_id").otherwise("known_base"),
        named=pl.when(mismatch).then(pl.lit(None, pl.String())).otherwise("named"),
        reason=pl.when(mismatch).then(pl.lit(DanglingReason.NAMESPACE_MISMATCH.value)).otherwise("reason"),
    ).drop("name", "flat_id")


def _namespace_problems(dangling: pl.DataFrame, local_names: pl.DataFrame) -> pl.DataFrame:
    """One problem per ``namespace_mismatch`` reference, naming the local folder it matched (``source``)
    and the namespace to give it."""
    mismatched = dangling.filter(pl.col("reason") == DanglingReason.NAMESPACE_MISMATCH.value)
    if not mismatched.height:
        return pl.DataFrame(schema=PROBLEMS_SCHEMA)
    named = normalized_references(mismatched["raw"])["id"]
    rows = mismatched.with_columns(name=lowercase_ids(named.str.split("/").list.last()), named=named)
    folders = local_names.with_columns(name=lowercase_ids(local_names["id"].str.split("/").list.last()))
    rows = rows.join(folders.unique("name", keep="first", maintain_order=True), on="name", how="inner",
                     maintain_order="left")
    return rows.select(
        source=pl.col("folder"),
        model=pl.col("child"),
        message=pl.format("{} ({}) names {}, but the local folder {} is {}: not linked (give ingest --namespace {})",
                          "field", "source", "named", "folder", "id", pl.col("named").str.split("/").list.first()),
    ).cast(PROBLEMS_SCHEMA)  # type: ignore[arg-type]


_REFERENCE_COLUMNS = ("child", "raw", "raw_is_text", "kind", "field", "source", "relation", "quote")


def _listed_dangling(listed: pl.DataFrame, index: pl.DataFrame) -> pl.DataFrame:
    """References a source found dead, the child under its known spelling (as written, not normalised)."""
    listed = _lookup(listed, "child", index, "known")
    return listed.with_columns(child=pl.coalesce("known", "child")).select(list(DANGLING_SCHEMA))


def _dedupe_evidence(resolved: pl.DataFrame) -> pl.DataFrame:
    """One evidence row per (base, child, kind, field, relation): the first reference's raw and quote, every
    reference's source; ``at`` orders the rows by their first reference."""
    rows = resolved.filter(pl.col("reason").is_null()).select(*_EVIDENCE_KEY, "at", "raw", "quote", "source")
    # Rows whose key hash repeats: every repeated key, and now and then a unique key whose hash collides
    # (a one-row group below). Hashes take 8 bytes a row where the keys' own hash table takes about 100.
    repeated = rows.select(pl.struct(_EVIDENCE_KEY).hash().is_duplicated()).to_series()
    if not repeated.any():  # the common case, and a group-by of millions of one-row groups costs memory
        return rows.with_row_index("e")
    rows, once = rows.filter(repeated), rows.filter(~repeated)
    odd_sources = bool(rows["source"].str.contains(";", literal=True).any())
    evidence = rows.group_by(_EVIDENCE_KEY, maintain_order=True).agg(
        pl.col("at").first(), pl.col("raw").first(), pl.col("quote").first(),
        pl.col("source").unique(maintain_order=True).str.join(";"),
        *([pl.col("source").alias("_sources")] if odd_sources else []),
    )
    if odd_sources:
        evidence = evidence.with_columns(pl.col("_sources").map_elements(_joined_sources, return_dtype=pl.String())
                                         .alias("source")).drop("_sources")
    return pl.concat([once, evidence.select(once.columns)]).sort("at").with_row_index("e")


# --- models ---------------------------------------------------------------------------------------


def _models(
    records: pl.DataFrame, edges: pl.DataFrame, known: pl.Series, spellings: pl.DataFrame, text_lists: bool,
) -> pl.DataFrame:
    """Models with a record (sorted by id), then ids only seen as a base, child or listed id (sorted); lists
    of names as text (:data:`MODELS_SCHEMA`) or, when not ``text_lists``, categorical."""
    schema = MODELS_SCHEMA if text_lists else {**MODELS_SCHEMA, **dict.fromkeys(NAME_LIST_COLUMNS, NAME_LIST)}
    listed = _lookup(pl.DataFrame({"id": current_ids(known)}), "id", spellings, "known")
    listed_ids = listed.select(pl.coalesce("known", "id"))["known"]
    others = pl.concat([edges["base"], edges["child"], listed_ids]).unique()
    others = others.filter(~others.is_in(records["id"].implode())).sort()
    bare = pl.DataFrame({"id": others}).with_columns(
        author=pl.when(pl.col("id").str.contains("/", literal=True)).then(pl.col("id").str.split("/").list.first()),
        has_record=pl.lit(False),
    )
    return pl.concat([records, bare], how="diagonal_relaxed").select([pl.col(c).cast(t) for c, t in schema.items()])

