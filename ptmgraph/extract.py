"""Metadata -> records and references.

Every source ends up here: a Hub API record (``GET /api/models/{id}`` shape), a model card's YAML
front matter, ``config.json``, ``adapter_config.json`` and model-tree listings each become a
:class:`~ptmgraph.records.ModelRecord` and/or :class:`~ptmgraph.records.Reference` objects. Nothing
here resolves ids against other models; ``assemble`` does that once everything is read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

from ptmgraph import reader
from ptmgraph.file_rules import GGML_BIN, QUANT_FILES, file_part, has_full_weights, weight_formats
from ptmgraph.ids import HUB_HOST_PATTERN, id_key
from ptmgraph.records import (
    EvidenceKind,
    FileInfo,
    ModelRecord,
    Problem,
    Reference,
    Relation,
)
from ptmgraph.relations import code_sources, own_code_files

CARD = "README.md"
CONFIG = "config.json"
ADAPTER_CONFIG = "adapter_config.json"


_DETAIL_CHARS = 200


def _security(status: object) -> tuple[str | None, str | None]:
    """(verdict, detail) of a file's ``securityFileStatus``: the detail names each scanner (``avScan``,
    ``pickleImportScan``, ...) whose status is not ``safe``, with the virus names or the imports it flagged."""
    if not isinstance(status, Mapping):
        return None, None
    verdict = text_of(status.get("status"))
    notes = []
    for scanner, result in status.items():
        if not isinstance(result, Mapping) or text_of(result.get("status")) in (None, "safe"):
            continue
        names = [text_of(v) for v in _as_list(result.get("virusNames"))]
        names += [f"{text_of(i.get('module'))}.{text_of(i.get('name'))}" for i in _as_list(result.get("imports"))
                  if isinstance(i, Mapping) and text_of(i.get("safety")) not in (None, "innocuous")]
        named = ", ".join(n for n in names if n)
        notes.append(f"{scanner}: {text_of(result.get('status'))}" + (f" ({named})" if named else ""))
    detail = "; ".join(notes)[:_DETAIL_CHARS] or None
    return (verdict.lower() if verdict else None), detail


def files_from_entries(model_id: str, entries: Iterable[object], source: str) -> list[FileInfo]:
    """The files of ``model_id`` described by entries of the Hub's tree listing or ``paths-info``
    (``{"type": "file", "path", "size", "oid", "lfs": {"oid"}, "lastCommit": {"id", "date"},
    "securityFileStatus"}``) or by a record's ``siblings`` read with ``blobs=true`` (``{"rfilename", "size",
    "blobId", "lfs": {"sha256"}}``, with ``lastCommit`` / ``securityFileStatus`` where a dump added them).
    Folders and entries without a path are left out; a value of the wrong type is left empty."""
    found: dict[str, FileInfo] = {}
    for entry in entries:
        if not isinstance(entry, Mapping) or entry.get("type") not in (None, "file"):
            continue
        path = text_of(_first(entry, "path", "rfilename"))
        if path is None or path in found:
            continue
        lfs: Mapping[str, Any] = entry["lfs"] if isinstance(entry.get("lfs"), Mapping) else {}
        commit = _first(entry, "lastCommit", "last_commit")
        commit = commit if isinstance(commit, Mapping) else {}
        verdict, detail = _security(_first(entry, "securityFileStatus", "security"))
        found[path] = FileInfo(
            model=model_id, path=path, part=file_part(path), size=_int(entry.get("size")),
            sha256=text_of(_first(lfs, "oid", "sha256")), blob_id=text_of(_first(entry, "oid", "blobId", "blob_id")),
            last_commit_id=text_of(_first(commit, "id", "oid")), last_commit_date=time_of(commit.get("date")),
            security_status=verdict, security_detail=detail, source=source,
        )
    return list(found.values())


FILE_DETAIL_KEYS = ("lastCommit", "lfs", "blobId", "securityFileStatus")
"""Keys that make a record's ``siblings`` a file listing (more than names); a ``tree`` field always is one."""


def files_from_api(row: Mapping[str, Any], model_id: str, source: str) -> list[FileInfo]:
    """The file listing a Hub record carries, if any: its ``tree`` field (the entries of the tree listing),
    else its ``siblings`` when they hold more than names (:func:`files_from_entries`)."""
    tree = row.get("tree")
    if isinstance(tree, list):
        return files_from_entries(model_id, tree, source)
    siblings = _as_list(row.get("siblings"))
    if any(isinstance(s, Mapping) and any(k in s for k in FILE_DETAIL_KEYS) for s in siblings):
        return files_from_entries(model_id, siblings, source)
    return []


class CardError(ValueError):
    """A model card whose YAML front matter cannot be read."""


def card_metadata(readme: str) -> dict[str, Any] | None:
    """The YAML front matter of a raw README.md as a dict; None when the card has none.

    Read by :func:`ptmgraph.reader.card_yaml` (its bounds apply). Raises :class:`CardError` for front
    matter that is unclosed, not valid YAML, not a mapping or over a bound.
    """
    card = reader.card_yaml(readme, CARD)
    if isinstance(card, Problem):
        raise CardError(card.message)
    return card


def _as_list(value: object) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


def text_of(value: object) -> str | None:
    """A record's or card's text field: the value as text, stripped; None when empty, absent or a list or mapping."""
    if value is None or isinstance(value, dict | list):
        return None
    text = str(value).strip()
    return text or None


def time_of(value: object) -> datetime | None:
    """A record's timestamp: ISO 8601 text (``Z`` for UTC) or a datetime, UTC when it names no zone; None
    when it is not one."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _int(value: object) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError):
        return None
    return number if -(2**63) <= number < 2**63 else None  # the tables store Int64


_NO_LICENSE = {"license", "licence", "none", "null", "n/a", "unknown", "tbd", "todo"}


def license_of(card: Mapping[str, Any], tags: Iterable[str]) -> str | None:
    """A model's licence: the card's ``license`` (or ``licence``) values, lower case, joined with ``,``
    (placeholders such as ``unknown`` name none; ``other`` with a ``license_name`` or ``license_link`` is
    ``other:<name>``), else the first ``license:`` tag."""
    for key in ("license", "licence"):
        # Card generators leave placeholders such as `licence: license`: they name no licence.
        values = [v for v in (text_of(x) for x in _as_list(card.get(key))) if v and v.lower() not in _NO_LICENSE]
        if values:
            lic = ",".join(v.lower() for v in values)
            # `other` says what the licence is in license_name, or only where it is (license_link)
            name = text_of(card.get("license_name")) or text_of(card.get("license_link"))
            return f"other:{name.lower()}" if lic == "other" and name else lic
    for tag in tags:
        if tag.startswith("license:"):
            return tag.split(":", 1)[1].lower()
    return None


def apply_card(record: ModelRecord, card: Mapping[str, Any]) -> None:
    """Fill ``record`` from card metadata, keeping values it already has."""
    record.has_card = True
    record.card_fields = sorted(set(record.card_fields) | {str(k) for k in card})
    record.license = record.license or license_of(card, record.tags)
    record.library = record.library or text_of(card.get("library_name"))
    record.pipeline_tag = record.pipeline_tag or text_of(card.get("pipeline_tag"))
    datasets = [d for d in (text_of(x) for x in _as_list(card.get("datasets"))) if d]
    record.datasets = sorted(set(record.datasets) | set(datasets))
    record.new_version = record.new_version or text_of(card.get("new_version"))


def references_from_card(child: str, card: Mapping[str, Any], source: str) -> list[Reference]:
    """One reference per ``base_model`` entry (a comma-separated string counts as a list);
    ``base_model_relation`` is the relation they state."""
    declared = Relation.parse(card.get("base_model_relation"))
    if "base_model" not in card:
        return []
    raw_bases = card.get("base_model")
    bases = raw_bases if isinstance(raw_bases, list) else [raw_bases]
    # Hub ids never hold a comma, so "a/x, b/y" is an author's list written as one string.
    bases = [p for b in bases for p in (b.split(",") if isinstance(b, str) and "," in b else [b])]
    field = "base_model" + ("[]" if isinstance(raw_bases, list) else "")
    return [Reference(child, raw, EvidenceKind.CARD_BASE_MODEL, f"{CARD}:{field}", source, declared) for raw in bases]


def references_from_tags(child: str, tags: Iterable[str], source: str) -> list[Reference]:
    """References from Hub tags ``base_model:<id>`` and ``base_model:<relation>:<id>``.

    The plain tag is kept only for bases that no relation tag names, so each base gets one reference.
    """
    with_relation: dict[str, Relation] = {}
    plain: list[str] = []
    for tag in tags:
        if not isinstance(tag, str) or not tag.startswith("base_model:"):
            continue
        rest = tag[len("base_model:") :]
        head, sep, tail = rest.partition(":")
        relation = Relation.parse(head) if sep else None
        if relation is not None:
            with_relation.setdefault(tail, relation)
        else:
            plain.append(rest)
    refs = [
        Reference(child, base, EvidenceKind.HUB_TAG, f"tags:base_model:{rel.value}", source, rel)
        for base, rel in with_relation.items()
    ]
    refs += [
        Reference(child, base, EvidenceKind.HUB_TAG, "tags:base_model", source)
        for base in plain
        if base not in with_relation
    ]
    return refs


def references_from_config(child: str, config: Mapping[str, Any], source: str) -> list[Reference]:
    """``config.json`` ``_name_or_path`` (often a local training directory, which dangles), then one
    ``config_auto_map`` reference per repo whose code its ``auto_map`` loads
    (:func:`ptmgraph.relations.code_sources`; the entry is the ``quote``)."""
    refs = []
    raw = config.get("_name_or_path")
    # a model saved under its own name says nothing about its base
    if "_name_or_path" in config and not (isinstance(raw, str) and id_key(raw.strip()) == id_key(child)):
        refs.append(Reference(child, raw, EvidenceKind.CONFIG, f"{CONFIG}:_name_or_path", source))
    return refs + [
        Reference(child, repo, EvidenceKind.CONFIG_AUTO_MAP, f"{CONFIG}:auto_map", source, None, entry[:_PHRASE_CHARS])
        for repo, entry in code_sources(config.get("auto_map"), child)
    ]


def code_files(record: ModelRecord, config: Mapping[str, Any] | None) -> list[str]:
    """The record's own Python files that loading it runs (:func:`ptmgraph.relations.own_code_files`)."""
    return own_code_files(record.files, (config or {}).get("auto_map"), record.id)


def references_from_adapter_config(child: str, config: Mapping[str, Any], source: str) -> list[Reference]:
    """PEFT's ``adapter_config.json`` ``base_model_name_or_path``: the model the adapter plugs into."""
    if "base_model_name_or_path" not in config:
        return []
    return [
        Reference(
            child,
            config.get("base_model_name_or_path"),
            EvidenceKind.ADAPTER_CONFIG,
            f"{ADAPTER_CONFIG}:base_model_name_or_path",
            source,
            Relation.ADAPTER,
        )
    ]


# Card prose that names the model a repo was made from: (phrase, the relation its wording states, whether
# only a Hub link counts, not a bare ORG/NAME). Each pattern ends where the link or id is expected; only
# the rest of that line is searched. Conversions to MLX or OpenVINO state `quantized`, the heading the
# Hub's model tree lists them under.
_PROSE_PATTERNS: list[tuple[re.Pattern[str], Relation | None, bool]] = [
    (re.compile(r"\boriginal model\s*[:：]", re.IGNORECASE), None, False),
    (re.compile(r"\bquanti[sz]ed version of\b", re.IGNORECASE), Relation.QUANTIZED, False),
    (re.compile(r"\b(?:static |weighted/imatrix |imatrix )?quants of\b", re.IGNORECASE), Relation.QUANTIZED, False),
    (re.compile(r"\b(?:GGUF|GGML|GPTQ|AWQ|EXL2)\b[\w ]{0,30}?\b(?:of|for)\b", re.IGNORECASE), Relation.QUANTIZED,
     False),
    (re.compile(r"\bThis model is a fine-tuned version of\b"), Relation.FINETUNE, True),
    (re.compile(r"\ba full(?:y)?[ -]fine-?tuned version of\b", re.IGNORECASE), Relation.FINETUNE, True),
    # the model-card template's field: "- **Finetuned from model [optional]:** ORG/NAME"
    (re.compile(r"\bFine-?tuned from model\b(?:\s*\[optional\])?\s*(?:\*\*|__)?\s*[:：]", re.IGNORECASE),
     Relation.FINETUNE, False),
    # mergekit's card: "merged using the [TIES](...) merge method using [X](https://huggingface.co/X) as a base"
    (re.compile(r"\bmerg(?:e|ed|ing)\b[^\n]{0,200}?\busing\s+(?=(?:(?!\busing\b)[^\n]){0,300}?\bas\s+(?:a|the)\s+base\b)",
                re.IGNORECASE), Relation.MERGE, False),
    (re.compile(r"\bconverted\s+to\s+(?:the\s+)?(?:OpenVINO|MLX)[^\n]{0,80}?\bfrom\b", re.IGNORECASE),
     Relation.QUANTIZED, False),
    (re.compile(r"\boriginal\s+repo(?:sitory)?\b\s*[:：]?", re.IGNORECASE), None, True),
]
_ANY_PHRASE = re.compile("|".join(f"(?:{p.pattern})" for p, _, _ in _PROSE_PATTERNS), re.IGNORECASE)
# A fenced code block (```yaml, ```yml or plain ```) and, in one that holds a mergekit configuration (a
# `merge_method:` line), each line naming a model: `base_model: X`, `model: X`, `- model: X`.
_FENCE = re.compile(r"^[ \t]*```[ \t]*(?:ya?ml)?[ \t]*\n(.*?)^[ \t]*```", re.IGNORECASE | re.MULTILINE | re.DOTALL)
_MERGE_METHOD = re.compile(r"^[ \t]*merge_method[ \t]*:", re.MULTILINE)
_MERGE_MODEL = re.compile(
    r"""^[ \t]*(?:-[ \t]+)?(?:base_model|model)[ \t]*:[ \t]*["']?([^\s"'#{}\[\]]+)["']?[ \t]*(?:#.*)?$""", re.MULTILINE)
_MERGE_BLOCK_CHARS = 65_536
"""A longer fenced block is not read for a mergekit configuration (real ones are a few hundred bytes)."""
_HUB_LINK = re.compile(rf"https?://{HUB_HOST_PATTERN}/[^\s)\]\"'<>]+", re.IGNORECASE)
_LEAD = re.compile(
    r"""^[\s:*_`]*(?:the\s+(?:original\s+)?(?:model\s+)?)?(?:\[[^\]]{0,200}\]\(\s*|<a\s+href=["']?)?""",
    re.IGNORECASE,
)
_BARE_ID = re.compile(r"^([A-Za-z0-9][\w.-]*/[\w.-]*[A-Za-z0-9_])[\s*_`\]]*(?:$|[\s,.;)])")
_EMPTY_LINK = re.compile(r"^[\s:*_`]*\[`?([A-Za-z0-9][\w.-]*/[\w.-]*[A-Za-z0-9_])`?\]\(\s*\)")
_NOT_A_MODEL = re.compile(r"https?://[^/]+/(?:datasets|spaces)/", re.IGNORECASE)
_PHRASE_CHARS = 200
"""At most this much of a matched line is kept as evidence: a one-line quote, never the prose."""
_PROSE_FIELDS = ("original_model", "model_link", "model_creator")


def _named_model(rest: str, require_link: bool) -> str | None:
    """The Hub link (or, unless ``require_link``, the bare ``ORG/NAME``) right after a matched phrase.

    Only what comes first counts: "GPTQ models for GPU inference](link)" names no original. A link to a
    dataset or a Space names no model; ``[ORG/NAME]()`` (a link left empty, as older mlx-lm cards write it)
    counts as the bare id.
    """
    empty = None if require_link else _EMPTY_LINK.match(rest)
    if empty is not None:
        return empty.group(1)
    tail = rest[_LEAD.match(rest).end() :]  # type: ignore[union-attr]  # the pattern matches every string
    link = _HUB_LINK.match(tail)
    if link is not None:
        return None if _NOT_A_MODEL.match(link.group(0)) else link.group(0).rstrip(".,;:")
    bare = None if require_link else _BARE_ID.match(tail)
    return bare.group(1) if bare else None


def _mergekit_models(body: str) -> list[tuple[str, str]]:
    """(model, the line naming it) for each model a mergekit configuration quoted in ``body`` names."""
    if "merge_method" not in body:
        return []
    found = []
    for block in _FENCE.finditer(body):
        text = block.group(1)
        if len(text) > _MERGE_BLOCK_CHARS or not _MERGE_METHOD.search(text):
            continue
        for line in _MERGE_MODEL.finditer(text):
            found.append((line.group(1).split("+", 1)[0], line.group(0).strip()))
    return found


def references_from_card_text(
    child: str, readme: str | None, card: Mapping[str, Any] | None, source: str
) -> list[Reference]:
    """``card_text`` evidence: the model a card's prose or quantizer fields name as the original.

    Recognised (:data:`_PROSE_PATTERNS`): "Original model: <link or id>", "quantized version of <link>",
    "quants of <link>", "GGUF ... of/for <link>", the Trainer's "This model is a fine-tuned version of
    [X](https://huggingface.co/X)" and "a full fine-tuned version of <link>" (finetune; a link only), the
    model-card template's "Finetuned from model [optional]: X" (finetune), mergekit's "merged ... using
    [X](link) as a base" (merge), "converted to MLX / OpenVINO ... from X" (quantized), "original repo:
    <link>" (a link only); the models a mergekit configuration quoted in a fenced block names (a block with
    a ``merge_method:`` line; each ``base_model:`` / ``model:`` / ``- model:`` line, merge, field
    ``README.md:mergekit``); and the card fields ``original_model`` / ``model_link`` / ``model_creator``
    (when they hold a Hub id or link). Links to datasets and Spaces name no model. A ``quantized_by``
    field makes every such reference state ``quantized`` (a finetune aside); when nothing else names a
    model, it is evidence that the card's declared bases were quantized. The matched line (cut to
    :data:`_PHRASE_CHARS`) is kept as the reference's ``quote``; nothing else of the prose is.
    """
    card = card or {}
    quantized_by = text_of(card.get("quantized_by"))
    refs: dict[tuple[str, str], Reference] = {}

    def add(raw: str, field: str, relation: Relation | None, quote: str) -> None:
        relation = Relation.QUANTIZED if quantized_by and relation is not Relation.FINETUNE else relation
        refs.setdefault((id_key(raw), field), Reference(
            child, raw, EvidenceKind.CARD_TEXT, field, source, relation, quote[:_PHRASE_CHARS]
        ))

    for key in _PROSE_FIELDS:
        value = text_of(card.get(key))
        if value and "/" in value:  # a display name ("Meta Llama 2") names no repo
            add(value, f"{CARD}:{key}", None, f"{key}: {value}")
    body = _prose(readme) if readme else ""
    for line in _lines_with_a_phrase(body):
        if len(line) > 2000:  # a minified blob, not a sentence
            continue
        for pattern, relation, require_link in _PROSE_PATTERNS:
            match = pattern.search(line)
            if match is None:
                continue
            named = _named_model(line[match.end() :], require_link=require_link)
            if named is not None and not _names_itself(named, child):
                add(named, f"{CARD}:text", relation, line.strip())
                break
    for named, line in _mergekit_models(body):
        if not _names_itself(named, child):
            add(named, f"{CARD}:mergekit", Relation.MERGE, line)
    if quantized_by and not any(r.relation is Relation.QUANTIZED for r in refs.values()):
        for base in references_from_card(child, card, source):
            if isinstance(base.raw, str):
                add(base.raw, f"{CARD}:quantized_by", Relation.QUANTIZED, f"quantized_by: {quantized_by}")
    return list(refs.values())


def _lines_with_a_phrase(body: str) -> list[str]:
    """The lines of ``body`` that hold any of the phrases: one pass over the text instead of one per line."""
    lines: dict[int, str] = {}
    for match in _ANY_PHRASE.finditer(body):
        start = body.rfind("\n", 0, match.start()) + 1
        if start not in lines:
            end = body.find("\n", match.end())
            lines[start] = body[start : end if end >= 0 else len(body)]
    return list(lines.values())


def _names_itself(named: str, child: str) -> bool:
    named, child = id_key(named), id_key(child)
    return named.rstrip("/").endswith("/" + child) or named == child


def _prose(readme: str) -> str:
    """A README without its YAML front matter."""
    text = readme.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").lstrip(" \t\n")
    if text.startswith("---"):
        lines = text.split("\n")
        for end in range(1, len(lines)):
            if lines[end].strip() in {"---", "..."}:
                return "\n".join(lines[end + 1 :])
    return text


MODEL_TREE_HEADINGS: dict[str, Relation] = {
    "finetunes": Relation.FINETUNE,
    "adapters": Relation.ADAPTER,
    "quantizations": Relation.QUANTIZED,
    "merges": Relation.MERGE,
}


def references_from_model_tree(row: Mapping[str, Any], source: str) -> tuple[list[Reference], list[str]]:
    """References from one model-tree row (``{"id", "finetunes", "adapters", ...}``).

    Returns the references (child listed under a heading -> the row's model) and every child id, which
    the Hub listed itself and so spells canonically.
    """
    base = row.get("id")
    refs: list[Reference] = []
    children: list[str] = []
    for heading, relation in MODEL_TREE_HEADINGS.items():
        for child in _as_list(row.get(heading)):
            if isinstance(child, str) and child.strip():
                children.append(child.strip())
                refs.append(
                    Reference(child.strip(), base, EvidenceKind.MODEL_TREE, f"model_tree:{heading}", source, relation)
                )
    return refs, children


def _first(row: Mapping[str, Any], *keys: str) -> Any:
    return next((row[k] for k in keys if row.get(k) is not None), None)


def record_from_api(
    row: Mapping[str, Any], source: str, problems: list[Problem] | None = None
) -> tuple[ModelRecord, list[Reference]]:
    """A Hub API model record (``/api/models/{id}`` with ``expand``) -> record and its references.

    Also reads the snake_case dumps of Hub metadata that research datasets publish (``modelId``,
    ``created_at``, ``last_modified``, and the raw README under ``card`` or ``readme`` when there is no
    parsed ``cardData``). A README whose front matter is broken adds a :class:`Problem` to ``problems``.
    Raises ValueError when the row has no usable ``id``.
    """
    model_id = text_of(_first(row, "id", "modelId", "model_id"))
    if model_id is None:
        raise ValueError("record has no 'id'")
    tags = [t for t in _as_list(row.get("tags")) if isinstance(t, str)]
    files = [
        s["rfilename"]
        for s in _as_list(row.get("siblings"))
        if isinstance(s, Mapping) and isinstance(s.get("rfilename"), str)
    ]
    config: Mapping[str, Any] = row["config"] if isinstance(row.get("config"), Mapping) else {}
    gated = row.get("gated")
    disabled = row.get("disabled") if isinstance(row.get("disabled"), bool) else None
    private = row.get("private") if isinstance(row.get("private"), bool) else None
    record = ModelRecord(
        id=model_id,
        author=text_of(row.get("author")) or (model_id.split("/", 1)[0] if "/" in model_id else None),
        sha=text_of(row.get("sha")),
        created_at=time_of(_first(row, "createdAt", "created_at")),
        last_modified=time_of(_first(row, "lastModified", "last_modified")),
        downloads=_int(row.get("downloads")),
        downloads_all_time=_int(_first(row, "downloadsAllTime", "downloads_all_time")),
        likes=_int(row.get("likes")),
        spaces=len(row["spaces"]) if isinstance(row.get("spaces"), list) else None,
        library=text_of(row.get("library_name")),
        pipeline_tag=text_of(row.get("pipeline_tag")),
        gated=None if gated is None else str(gated).lower(),
        disabled=disabled,
        private=private,
        model_type=text_of(config.get("model_type")),
        files=files,
        weight_formats=weight_formats(files),
        tags=tags,
        datasets=sorted({t.split(":", 1)[1] for t in tags if t.startswith("dataset:")}),
        source=source,
    )
    if "siblings" in row:
        record.has_card = CARD in files
    card = _first(row, "cardData", "card_data")
    readme = _first(row, "card", "readme")
    if not isinstance(card, Mapping) and isinstance(readme, str):
        record.has_card = True
        try:
            card = card_metadata(readme)
        except CardError as err:
            if problems is not None:
                problems.append(Problem(source, model_id, f"model card: {err}"))
    refs: list[Reference] = []
    if isinstance(card, Mapping):
        apply_card(record, card)
        refs += references_from_card(model_id, card, source)
        refs += references_from_card_text(model_id, readme if isinstance(readme, str) else None, card, source)
    record.license = record.license or license_of({}, tags)
    refs += references_from_tags(model_id, tags, source)
    refs += references_from_config(model_id, config, source)
    record.quantization = quantization_hint(record, config)
    record.code_files = code_files(record, config)
    return record, refs


def quantization_hint(record: ModelRecord, config: Mapping[str, Any] | None = None) -> str | None:
    """The quantization method this repo's files or config show, or None; its name is not asked.

    GGUF/GGML files count only without whole-model weights beside them (``google/gemma-7b-it`` ships
    both); then EXL2/GPTQ/AWQ quantizer files, then ``config.json``'s ``quantization_config``.
    """
    formats = set(record.weight_formats)
    if {"gguf", "ggml"} & formats and not has_full_weights(record.files):
        return "gguf" if "gguf" in formats else "ggml"
    names = {n for n in record.files if "/" not in n}
    if any(GGML_BIN.search(n) for n in names) and not has_full_weights(record.files):
        return "ggml"
    for name, tool in QUANT_FILES.items():
        if name in names:
            return tool
    qc = (config or {}).get("quantization_config")
    if isinstance(qc, Mapping):
        method = text_of(qc.get("quant_method"))
        if method:
            return method.lower()
        if qc.get("load_in_4bit") or qc.get("load_in_8bit"):
            return "bnb"
        return "mlx" if (record.library or "").lower() == "mlx" else "unspecified"
    return record.quantization


