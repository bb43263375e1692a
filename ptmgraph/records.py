"""The data model every layer shares.

Sources turn metadata into :class:`ModelRecord` and :class:`Reference` objects (a :class:`Harvest`).
``assemble`` resolves references into edges and dangling references; ``snapshot`` stores the
resulting Polars tables as Parquet, with the compact index (:mod:`ptmgraph.index`) every query walks;
``graph`` serves lookups on them (:class:`~ptmgraph.graph.LineageGraph`), and builds a NetworkX graph only
for the Python API's ``lg.graph``.

Direction: an edge goes from the *base* model to the *derived* (child) model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

import polars as pl

from ptmgraph.vocabulary import Relation as Relation  # defined there, light, for the command line's choices


class EvidenceKind(str, Enum):
    """Where a piece of lineage evidence comes from."""

    CARD_BASE_MODEL = "card_base_model"  # model-card YAML `base_model`
    HUB_TAG = "hub_tag"  # Hub tag `base_model:<id>` or `base_model:<relation>:<id>`
    CONFIG = "config"  # config.json `_name_or_path`
    ADAPTER_CONFIG = "adapter_config"  # adapter_config.json `base_model_name_or_path`
    MODEL_TREE = "model_tree"  # the Hub's model-tree listing of a base (list_models filter)
    EDGE_LIST = "edge_list"  # an imported (child, base, relation) table
    CARD_TEXT = "card_text"  # card prose ("Original model: <link>", ...) or quantizer fields (original_model, ...)
    CONFIG_AUTO_MAP = "config_auto_map"  # config.json auto_map `org/repo--module.Class`: runs org/repo's code


STRONG_KINDS = frozenset(
    {EvidenceKind.CARD_BASE_MODEL, EvidenceKind.HUB_TAG, EvidenceKind.MODEL_TREE, EvidenceKind.EDGE_LIST}
)
"""Evidence that names a parent by declaring it (card, Hub, edge list). The other kinds (config,
adapter config, card text) name a parent only for a child that none of these gives one."""


class DanglingReason(str, Enum):
    """Why a reference could not become an edge to a Hub model."""

    NOT_A_STRING = "not_a_string"  # YAML gave a number, mapping, bool, ...
    EMPTY = "empty"
    LOCAL_PATH = "local_path"  # ./output, /content/ckpt, C:\\models, checkpoint-500, ...
    OTHER_SITE = "other_site"  # a URL that is not huggingface.co
    INVALID_ID = "invalid_id"  # not shaped like a Hub repo id
    NOT_FOUND = "not_found"  # the Hub answered 404 (deleted, renamed or private)
    GATED = "gated"  # exists, but its metadata needs accepted terms
    DISABLED = "disabled"  # taken down by the Hub
    OUTWEIGHED = "outweighed"  # a config or prose parent of a child whose card or the Hub declares others
    NAMESPACE_MISMATCH = "namespace_mismatch"  # ORG/NAME where a flat local folder NAME has another namespace


class Access(str, Enum):
    """Who can download a model's files (README "Definitions": access, unavailable)."""

    PUBLIC = "public"  # anyone, at once
    GATED_AUTO = "gated_auto"  # after accepting terms: granted at once (a click-through)
    GATED_MANUAL = "gated_manual"  # after accepting terms and the owner's approval (or a gate of unknown mode)
    DISABLED = "disabled"  # taken down by the Hub
    NOT_FOUND = "not_found"  # private, deleted, renamed or never there: the Hub answers 404 (or 401)


UNAVAILABLE = frozenset({Access.DISABLED.value, Access.NOT_FOUND.value})
"""The access classes that make a model **unavailable**: nobody can download it. Gated is not among them."""

DANGLING_ACCESS: dict[str, str] = {
    "not_found": Access.NOT_FOUND.value,
    "disabled": Access.DISABLED.value,
    "gated": Access.GATED_MANUAL.value,
}
"""The access a crawl's answer shows for a reference it could not read (dangling reason -> access class):
404 (or 401 without a gate) is ``not_found``, ``DisabledRepoError`` ``disabled``, ``GatedRepoError`` a gate
whose mode the answer does not tell (``gated_manual``, the stricter)."""


def access_of(gated: object, disabled: object, private: object) -> str | None:
    """The access class (:class:`Access` value) of a Hub record's ``gated``, ``disabled`` and ``private``.

    ``disabled`` true: ``disabled``; else ``private`` true: ``not_found`` (no one else can read it); else
    ``gated`` ``"auto"``: ``gated_auto``, ``"manual"`` or ``true`` (a gate of unknown mode):
    ``gated_manual``, ``false``: ``public``. ``gated`` may be the API's value (a string or a boolean) or
    the text the readers store (``str(value).lower()``); its case does not matter. None when the record
    says none of this (or ``gated`` holds something else): not known, never public.
    """
    if disabled is True:
        return Access.DISABLED.value
    if private is True:
        return Access.NOT_FOUND.value
    if gated is None:
        return None
    return _GATED_ACCESS.get(str(gated).strip().lower())


_GATED_ACCESS = {"auto": Access.GATED_AUTO.value, "manual": Access.GATED_MANUAL.value,
                 "true": Access.GATED_MANUAL.value, "false": Access.PUBLIC.value}


WEIGHT_FORMATS: dict[str, str] = {
    ".safetensors": "safetensors",
    ".bin": "pickle",
    ".pt": "pickle",
    ".pth": "pickle",
    ".ckpt": "pickle",
    ".pkl": "pickle",
    ".pickle": "pickle",
    ".gguf": "gguf",
    ".ggml": "ggml",
    ".onnx": "onnx",
    ".h5": "keras_h5",
    ".keras": "keras",
    ".msgpack": "flax_msgpack",
    ".tflite": "tflite",
    ".mlmodel": "coreml",
    ".npz": "numpy",
}
"""Weight-file suffix -> format family. ``pickle`` marks formats that execute code when loaded."""


@dataclass
class ModelRecord:
    """What ptmgraph knows about one model repo. ``None`` means *not known*, never *false*."""

    id: str
    author: str | None = None
    sha: str | None = None
    created_at: datetime | None = None
    last_modified: datetime | None = None
    downloads: int | None = None  # the Hub's count over the last 30 days, on the day the record was taken
    downloads_all_time: int | None = None
    likes: int | None = None
    spaces: int | None = None  # Hugging Face Spaces (apps) that use this model
    license: str | None = None
    library: str | None = None
    pipeline_tag: str | None = None
    gated: str | None = None  # "auto", "manual" or "false"
    disabled: bool | None = None
    private: bool | None = None
    access: str | None = None  # Access value; when not given, access_of(gated, disabled, private)
    model_type: str | None = None  # config.json model_type
    files: list[str] = field(default_factory=list)
    weight_formats: list[str] = field(default_factory=list)
    has_card: bool | None = None
    card_fields: list[str] = field(default_factory=list)
    datasets: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    new_version: str | None = None
    quantization: str | None = None  # method its files or config show (not its name): gguf, gptq, awq, exl2, bnb
    code_files: list[str] = field(default_factory=list)  # own Python files loading it runs (relations.own_code_files)
    source: str = ""  # where this record was read

    def __post_init__(self) -> None:
        if self.access is None:
            self.access = access_of(self.gated, self.disabled, self.private)


@dataclass(frozen=True)
class Reference:
    """One piece of evidence that ``child`` derives from ``raw`` (an unresolved base reference).

    ``relation`` is the relation this evidence itself states (None if it states none);
    ``field`` names the field it was read from, ``source`` the file or endpoint.
    """

    child: str
    raw: object
    kind: EvidenceKind
    field: str
    source: str
    relation: Relation | None = None
    quote: str | None = None  # for card text: the matched line, at most one line


@dataclass(frozen=True)
class Problem:
    """Input that was read but could not be used (a broken card, a bad line): kept as data."""

    source: str  # file and line, or endpoint
    model: str | None
    message: str


@dataclass(frozen=True)
class FileInfo:
    """One file of a repo as the Hub's file listing describes it (``GET /api/models/{id}/tree/{rev}?expand=true``,
    ``POST .../paths-info/{rev}``, or a record's ``siblings`` read with ``blobs=true``).

    ``part``: what the file is to the model (``file_rules.file_part``: weights, config, tokenizer, code, other);
    ``sha256``: the LFS object id; ``blob_id``: the git object id; ``last_commit_*``: the last commit that
    changed the file; ``security_status``: the Hub's scan verdict (``safe``, ``unsafe``, ``suspicious``, ...)
    and ``security_detail`` the scanners that did not find it safe. None: not given.
    """

    model: str
    path: str
    part: str
    size: int | None = None
    sha256: str | None = None
    blob_id: str | None = None
    last_commit_id: str | None = None
    last_commit_date: datetime | None = None
    security_status: str | None = None
    security_detail: str | None = None
    source: str = ""


@dataclass
class Harvest:
    """What one or more sources produced: records plus unresolved references."""

    records: list[ModelRecord] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    known_ids: set[str] = field(default_factory=set)  # ids the Hub itself listed (canonical spelling)
    dangling: list[tuple[Reference, DanglingReason]] = field(default_factory=list)  # found dead by a source
    problems: list[Problem] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    files: list[FileInfo] = field(default_factory=list)  # file listings, where a source read one
    local_names: list[tuple[str, str]] = field(default_factory=list)  # flat local folders: (id, folder)

    def extend(self, other: Harvest) -> None:
        self.files.extend(other.files)
        self.local_names.extend(other.local_names)
        self.records.extend(other.records)
        self.references.extend(other.references)
        self.known_ids |= other.known_ids
        self.dangling.extend(other.dangling)
        self.problems.extend(other.problems)
        self.sources.extend(other.sources)


def _raw_text(raw: object) -> str:
    return raw if isinstance(raw, str) else repr(raw)


def _reference_row(ref: Reference) -> dict[str, object]:
    return {"child": ref.child, "raw": _raw_text(ref.raw), "raw_is_text": isinstance(ref.raw, str),
            "kind": ref.kind.value, "field": ref.field, "source": ref.source,
            "relation": ref.relation.value if ref.relation else None, "quote": ref.quote}


@dataclass
class HarvestTables:
    """A :class:`Harvest` as tables: what the columnar readers produce and what assembly consumes.

    ``records``: one row per record as read (:data:`RECORDS_SCHEMA`, reading order, an id may repeat);
    ``references``: :data:`REFERENCES_SCHEMA`; ``known_ids``: ids a listing named (String series);
    ``dangling``: references a source found dead, :data:`REFERENCES_SCHEMA` plus ``reason``;
    ``problems``: :data:`PROBLEMS_SCHEMA`; ``files``: :data:`FILES_SCHEMA` (file listings read);
    ``local_names``: the ids of flat local folders (:data:`LOCAL_NAMES_SCHEMA`, see :mod:`ptmgraph.sources.local`).
    """

    records: pl.DataFrame
    references: pl.DataFrame
    known_ids: pl.Series
    dangling: pl.DataFrame
    problems: pl.DataFrame
    sources: list[str] = field(default_factory=list)
    files: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=FILES_SCHEMA))
    local_names: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=LOCAL_NAMES_SCHEMA))

    @classmethod
    def of(cls, harvest: Harvest) -> HarvestTables:
        """The same harvest as tables (the row order of every list is kept)."""
        return cls(
            records=pl.DataFrame([r.__dict__ for r in harvest.records], schema=RECORDS_SCHEMA),
            references=pl.DataFrame([_reference_row(r) for r in harvest.references], schema=REFERENCES_SCHEMA),
            known_ids=pl.Series("id", sorted(harvest.known_ids), dtype=pl.String()),
            dangling=pl.DataFrame([{**_reference_row(r), "reason": why.value} for r, why in harvest.dangling],
                                  schema={**REFERENCES_SCHEMA, "reason": pl.String()}),
            problems=pl.DataFrame([p.__dict__ for p in harvest.problems], schema=PROBLEMS_SCHEMA),
            sources=list(harvest.sources),
            files=pl.DataFrame([f.__dict__ for f in harvest.files], schema=FILES_SCHEMA),
            local_names=pl.DataFrame(harvest.local_names, schema=LOCAL_NAMES_SCHEMA, orient="row"),
        )

    @classmethod
    def concat(cls, parts: list[HarvestTables]) -> HarvestTables:
        """Several harvests as one, in the order given."""
        if not parts:
            return cls.of(Harvest())
        return cls(
            records=pl.concat([p.records for p in parts], how="vertical"),
            references=pl.concat([p.references for p in parts], how="vertical"),
            known_ids=pl.concat([p.known_ids for p in parts]).unique(maintain_order=True),
            dangling=pl.concat([p.dangling for p in parts], how="vertical"),
            problems=pl.concat([p.problems for p in parts], how="vertical"),
            sources=[s for p in parts for s in p.sources],
            files=pl.concat([p.files for p in parts], how="vertical"),
            local_names=pl.concat([p.local_names for p in parts], how="vertical"),
        )


# Table schemas: empty tables keep their types, and every layer agrees on column names.
MODELS_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.String(),
    "author": pl.String(),
    "sha": pl.String(),
    "created_at": pl.Datetime("us", "UTC"),
    "last_modified": pl.Datetime("us", "UTC"),
    "downloads": pl.Int64(),
    "downloads_all_time": pl.Int64(),
    "likes": pl.Int64(),
    "spaces": pl.Int64(),
    "license": pl.String(),
    "library": pl.String(),
    "pipeline_tag": pl.String(),
    "gated": pl.String(),
    "disabled": pl.Boolean(),
    "private": pl.Boolean(),
    "access": pl.String(),  # Access value: public, gated_auto, gated_manual, disabled, not_found; null: unknown
    "model_type": pl.String(),
    "files": pl.List(pl.String()),
    "weight_formats": pl.List(pl.String()),
    "has_card": pl.Boolean(),
    "card_fields": pl.List(pl.String()),
    "datasets": pl.List(pl.String()),
    "tags": pl.List(pl.String()),
    "new_version": pl.String(),
    "quantization": pl.String(),
    "code_files": pl.List(pl.String()),  # its own Python files that trust_remote_code=True runs
    "source": pl.String(),
    "has_record": pl.Boolean(),  # False for ids only seen as a base or in a tree listing
}

EVIDENCE_SCHEMA: dict[str, pl.DataType] = {
    "base": pl.String(),
    "child": pl.String(),
    "kind": pl.String(),
    "field": pl.String(),
    "source": pl.String(),
    "relation": pl.String(),  # stated by this evidence, null if it states none
    "raw": pl.String(),
    "quote": pl.String(),  # card_text: the one matched line
}

EDGES_SCHEMA: dict[str, pl.DataType] = {
    "base": pl.String(),
    "child": pl.String(),
    "relation": pl.String(),  # the resolved relation (see assemble.resolve_relation)
    "relation_rule": pl.String(),  # the relations.RelationRule that decided it
    "parent_confidence": pl.String(),  # relations.Confidence of the parent: high / medium / low
    "relation_confidence": pl.String(),  # relations.Confidence of the relation: high / medium / low
    "declared_relation": pl.String(),  # card base_model_relation or edge-list column
    "hub_relation": pl.String(),  # Hub tag or model-tree heading
    "inferred_relation": pl.String(),  # from the child's files, config, name and base count
    "prose_relation": pl.String(),  # worded by card prose or quantizer fields
    "weights": pl.String(),  # the child's relations.WeightShape
    "replaced_base": pl.String(),  # prose_parent / name_parent rules: the listed base this edge stands in for
    "relations_disagree": pl.Boolean(),
    "loads_code": pl.Boolean(),  # the child's auto_map names the base: it runs the base's Python code
    "evidence_kinds": pl.List(pl.String()),
    "n_evidence": pl.Int64(),
    "self_loop": pl.Boolean(),
}

FILES_SCHEMA: dict[str, pl.DataType] = {
    "model": pl.String(),
    "path": pl.String(),
    "part": pl.String(),  # file_rules.file_part: weights, config, tokenizer, code, other
    "size": pl.Int64(),
    "sha256": pl.String(),  # LFS object id
    "blob_id": pl.String(),  # git object id
    "last_commit_id": pl.String(),
    "last_commit_date": pl.Datetime("us", "UTC"),
    "security_status": pl.String(),  # the Hub's scan: safe, unsafe, suspicious, ...
    "security_detail": pl.String(),  # the scanners that did not find the file safe
    "source": pl.String(),
}
"""One row per file of a repo whose file listing was read (:class:`FileInfo`)."""

PROBLEMS_SCHEMA: dict[str, pl.DataType] = {
    "source": pl.String(),
    "model": pl.String(),
    "message": pl.String(),
}

LOCAL_NAMES_SCHEMA: dict[str, pl.DataType] = {"id": pl.String(), "folder": pl.String()}
"""The ids of flat local folders and the folders (:attr:`HarvestTables.local_names`)."""

DANGLING_SCHEMA: dict[str, pl.DataType] = {
    "child": pl.String(),
    "raw": pl.String(),
    "kind": pl.String(),
    "field": pl.String(),
    "source": pl.String(),
    "reason": pl.String(),
}

NAME_LIST = pl.List(pl.Categorical(pl.Categories("names", "ptmgraph")))
"""The in-memory type of a record's lists of names (``files``, ``weight_formats``, ``card_fields``,
``datasets``, ``tags``) in harvest tables and during assembly: categorical, 4 bytes per item, where
text takes 16 bytes plus the name. The names repeat a lot (3M Hub-shaped records list 61M file names,
139k distinct), so as text these lists would be most of an ingest's memory. Their categories are
ptmgraph's own, not Polars' global ones, which hold every value ever read as categorical (the columnar
reader parses ids and hashes that way) for as long as any categorical column lives. Stored snapshots
hold these lists as text (:data:`MODELS_SCHEMA`); :func:`ptmgraph.snapshot.save` converts them while
writing."""

NAME_LIST_COLUMNS = tuple(k for k, v in MODELS_SCHEMA.items() if v == pl.List(pl.String()))
"""The columns of the models table that hold lists of names (see :data:`NAME_LIST`)."""

RECORDS_SCHEMA: dict[str, pl.DataType] = {
    k: NAME_LIST if k in NAME_LIST_COLUMNS else v for k, v in MODELS_SCHEMA.items() if k != "has_record"
}
"""One row per :class:`ModelRecord` as a source read it (before records of one id are merged); lists of
names are categorical (:data:`NAME_LIST`)."""

REFERENCES_SCHEMA: dict[str, pl.DataType] = {
    "child": pl.String(),
    "raw": pl.String(),  # the reference as written; repr() of a value that is not a string
    "raw_is_text": pl.Boolean(),  # False: the value was not a string (dangling as not_a_string)
    "kind": pl.String(),  # EvidenceKind value
    "field": pl.String(),
    "source": pl.String(),
    "relation": pl.String(),  # Relation value this evidence states, null if none
    "quote": pl.String(),
}
"""One row per :class:`Reference`."""
