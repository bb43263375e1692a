"""Hub model ids: normalising what authors write into canonical ``ORG/NAME`` ids.

A *reference* is whatever a card, config or table says a base model is. :func:`normalize_reference`
turns it into a Hub id or a :class:`~ptmgraph.records.DanglingReason`; :class:`IdLookup` then maps
ids that differ only in letter case (:func:`id_key`) onto the spelling the Hub uses.

This module is the one place ids are normalised, compared and turned into Hub addresses: the Hub's host
names (:data:`HUB_HOSTS`), a reference's ``@revision`` (:func:`without_revision`), the comparison key
(:func:`id_key`), the model page (:func:`hub_url`) and the package URL (:func:`hub_purl`).

The column forms (:func:`normalized_references`, :func:`current_ids`, :func:`lowercase_ids`,
:func:`local_path_ids`, :func:`unique_map`) give, for a Polars series, what the per-value functions give
for each of its values: they call those once per distinct value, and skip the call only where a vectorised
test shows the answer (an already plain ``org/name`` id, an id with a ``/``, ASCII text).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import polars as pl

from ptmgraph.records import DanglingReason

if TYPE_CHECKING:
    from packageurl import PackageURL

# Hub repo names: letters, digits, '-', '_', '.'; at most 96 characters; no '--' or '..'; they do
# not start or end with '-' or '.'. Legacy canonical models have no namespace ("gpt2").
_PART = r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9_])?"
_HUB_ID = re.compile(rf"^(?:{_PART}/)?{_PART}$")
HUB_HOSTS = ("huggingface.co", "www.huggingface.co", "hf.co")
"""The host names whose model pages name a Hub repo (``https://hf.co/ORG/NAME`` too)."""
HUB_PAGES = "https://huggingface.co/"
"""Where a model's Hub page is: :func:`hub_url` puts the id after it."""
HUB_HOST_PATTERN = "(?:" + "|".join(re.escape(host) for host in HUB_HOSTS) + ")"
"""A regular expression for any of :data:`HUB_HOSTS` (to be compiled ignoring case): a Hub link in prose."""
_HOST_PREFIXES = tuple(f"{host}/" for host in HUB_HOSTS)
"""A reference that starts with one of these (any letter case) is a Hub link written without its scheme."""
# Path segments that name a Hub page rather than part of the repo id.
_URL_STOPS = {"tree", "blob", "resolve", "raw", "commit", "commits", "discussions", "settings", "edit"}
# Directory names that turn up in `_name_or_path` when a model was saved from a training run.
_LOCAL_DIR_NAMES = {
    "output", "outputs", "out", "tmp", "temp", "content", "home", "root", "mnt", "data", "workspace",
    "kaggle", "checkpoints", "ckpt", "ckpts", "results", "runs", "drive", "models--",
}
_CHECKPOINT = re.compile(r"^(checkpoint|ckpt|step|epoch|global_step)[-_]?\d+$", re.IGNORECASE)


@dataclass(frozen=True)
class Normalized:
    """The outcome of normalising one reference: an ``id`` or a dangling ``reason``."""

    id: str | None
    reason: DanglingReason | None = None


def normalize_reference(raw: object) -> Normalized:
    """Normalise one base-model reference.

    Handles ``https://huggingface.co/ORG/NAME[/tree/rev]`` URLs, ``hf.co`` links, ``ORG/NAME/``
    trailing slashes, surrounding whitespace and quotes, and ``@revision`` suffixes. Local paths,
    other sites, empty strings and non-string values become dangling reasons.
    """
    if not isinstance(raw, str):
        return Normalized(None, DanglingReason.NOT_A_STRING)
    text = raw.strip().strip("\"'`").strip()
    if not text:
        return Normalized(None, DanglingReason.EMPTY)
    if "://" in text or text.lower().startswith(_HOST_PREFIXES):
        return _from_url(text)
    if text.startswith(("./", "../", "/", "~", ".\\")) or "\\" in text or re.match(r"^[A-Za-z]:", text):
        return Normalized(None, DanglingReason.LOCAL_PATH)
    return _checked(without_revision(text.rstrip("/")).rstrip("/"))


def without_revision(reference: str) -> str:
    """``ORG/NAME@REVISION`` -> ``ORG/NAME`` (unchanged without an ``@``): a snapshot holds one version of
    each model, so a reference to a revision names the model."""
    return reference.split("@", 1)[0]


def _from_url(text: str) -> Normalized:
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    host = (parts.hostname or "").lower()
    if parts.scheme == "hf":  # hf://ORG/NAME
        path = (parts.netloc + parts.path).strip("/")
    elif host in HUB_HOSTS:
        path = parts.path.strip("/")
    elif parts.scheme == "file":
        return Normalized(None, DanglingReason.LOCAL_PATH)
    else:
        return Normalized(None, DanglingReason.OTHER_SITE)
    segments = [s for s in path.split("/") if s]
    if segments and segments[0] in {"models", "api"}:
        segments = segments[1:] if segments[0] == "models" else segments[2:]
    if segments and segments[0] in {"datasets", "spaces"}:
        return Normalized(None, DanglingReason.INVALID_ID)
    kept: list[str] = []
    for segment in segments:
        if segment in _URL_STOPS or len(kept) == 2:
            break
        kept.append(segment)
    return _checked(without_revision("/".join(kept)))


def _checked(text: str) -> Normalized:
    if not is_hub_id(text):
        return Normalized(None, DanglingReason.INVALID_ID)
    return Normalized(current_id(text))


def is_hub_id(model_id: str) -> bool:
    """Whether ``model_id`` is Hub-shaped: ``ORG/NAME`` (or a legacy ``NAME``) in the Hub's characters, each
    part at most 96 characters, not starting or ending with ``-`` or ``.``, no ``--`` or ``..``. Any other
    id is a local id (README "Identity"): it is kept and can be queried, but never names a Hub repo."""
    return bool(_HUB_ID.fullmatch(model_id)) and "--" not in model_id and ".." not in model_id


def hub_purl(model_id: str, sha: str | None = None) -> PackageURL | None:
    """``pkg:huggingface/ORG/NAME@SHA`` (no namespace for a legacy id, no version without a sha) for a
    Hub-shaped id, None for any other: a purl is built only from a validated id, so a record id such as
    ``meta-llama/ Llama-2-7b-chat-hf`` never gets the purl of ``meta-llama/Llama-2-7b-chat-hf``."""
    if not is_hub_id(model_id):
        return None
    from packageurl import PackageURL

    org, _, name = model_id.rpartition("/")
    version = sha if sha and re.fullmatch(r"[0-9a-fA-F]{7,64}", sha) else None
    return PackageURL(type="huggingface", namespace=org or None, name=name, version=version)


def hub_url(model_id: str) -> str | None:
    """The model's Hub page for a Hub-shaped id (:func:`is_hub_id`), None for a local id."""
    return f"{HUB_PAGES}{model_id}" if is_hub_id(model_id) else None


def written_id(text: str) -> str | None:
    """``text`` as a model id when it is written as one, white space around it aside: the id
    :func:`normalize_reference` reads in it when that is the text itself (not one read out of a URL, a
    revision or a legacy name); else None."""
    text = text.strip()
    return text if normalize_reference(text).id == text else None


def id_key(model_id: str) -> str:
    """What two ids are compared by: ``Org/Name`` and ``org/name`` are one model on the Hub, so the key is
    the id in lower case (``str.lower()``; :func:`lowercase_ids` for a column)."""
    return model_id.lower()


@cache
def _legacy_ids() -> dict[str, str]:
    table = json.loads((resources.files("ptmgraph") / "data" / "legacy_ids.json").read_text())["ids"]
    return {old.lower(): new for old, new in table.items()}


def current_id(model_id: str) -> str:
    """The id the Hub serves ``model_id`` under today.

    In 2024 the Hub moved its namespace-less models under organisations (``bert-base-uncased`` ->
    ``google-bert/bert-base-uncased``, ``gpt2`` -> ``openai-community/gpt2``); the old ids redirect, so
    real metadata uses both. Without this, one base model would split into two nodes.
    """
    if "/" in model_id:
        return model_id
    return _legacy_ids().get(model_id.lower(), model_id)


def looks_like_local_path(model_id: str) -> bool:
    """True for ids shaped like a Hub id that are much likelier a training-run directory.

    Used only for ids that no source knows: ``outputs/checkpoint-500`` is a path, not a repo.
    """
    segments = model_id.split("/")
    if any(_CHECKPOINT.match(s) for s in segments):
        return True
    return len(segments) == 2 and segments[0].lower() in _LOCAL_DIR_NAMES


class IdLookup:
    """Known ids, looked up case-insensitively (the Hub treats ``Org/Name`` and ``org/name`` alike)."""

    def __init__(self, ids: Iterable[str] = ()) -> None:
        self._by_lower: dict[str, str] = {}
        for model_id in ids:
            self.add(model_id)

    def add(self, model_id: str) -> None:
        """Remember ``model_id``; the first spelling seen is the canonical one."""
        self._by_lower.setdefault(id_key(model_id), model_id)

    def __contains__(self, model_id: object) -> bool:
        return isinstance(model_id, str) and id_key(model_id) in self._by_lower

    def __len__(self) -> int:
        return len(self._by_lower)

    def canonical(self, model_id: str) -> str | None:
        """The known spelling of ``model_id``, or None if it is unknown."""
        return self._by_lower.get(id_key(model_id))

    def closest(self, query: str, n: int = 5) -> list[str]:
        """Known ids most similar to ``query`` (for "did you mean" messages)."""
        q = query.strip().lower()
        if not q:
            return []
        name = q.rsplit("/", 1)[-1]
        # Substring hits first: cheap on millions of ids and usually what the user meant.
        hits = [v for k, v in self._by_lower.items() if name in k]
        hits.sort(key=lambda v: (abs(len(v) - len(query)), v))
        fuzzy = difflib.get_close_matches(q, list(self._by_lower) if len(self) < 200_000 else [], n=n, cutoff=0.6)
        out: list[str] = []
        for candidate in [self._by_lower[k] for k in fuzzy] + hits:
            if candidate not in out:
                out.append(candidate)
        return out[:n]


def unique_map(
    values: pl.Series, fn: Callable[[Any], Any], dtype: pl.DataType,
    candidates: Callable[[pl.Series], pl.Series] | None = None,
) -> pl.Series:
    """``fn`` of each value of ``values`` (null stays null), calling ``fn`` once per distinct value.

    ``candidates``, if given, marks the values ``fn`` may answer other than None for; the others get null
    without a call.
    """
    distinct = values.drop_nulls().unique()
    if candidates is not None:
        distinct = distinct.filter(candidates(distinct))
    table = pl.DataFrame({"value": distinct, "result": pl.Series([fn(v) for v in distinct.to_list()], dtype=dtype)})
    aligned = values.rename("value").to_frame().join(table, on="value", how="left", maintain_order="left")
    return aligned["result"].rename(values.name)


# An id normalize_reference returns unchanged: ORG/NAME in Hub characters, no '--' or '..', not a host name.
_PLAIN_ID = rf"^{_PART}/{_PART}$"


def normalized_references(raws: pl.Series) -> pl.DataFrame:
    """:func:`normalize_reference` of each string in ``raws``: columns ``id`` and ``reason`` (its value)."""
    distinct = raws.drop_nulls().unique()
    lowered = distinct.str.to_lowercase()
    plain = distinct.str.contains(_PLAIN_ID) & ~distinct.str.contains_any(["--", ".."])
    for prefix in _HOST_PREFIXES:
        plain &= ~lowered.str.starts_with(prefix)
    others = distinct.filter(~plain)
    outcomes = [normalize_reference(raw) for raw in others.to_list()]
    table = pl.concat([
        pl.DataFrame({"value": distinct.filter(plain), "id": distinct.filter(plain)}).with_columns(
            reason=pl.lit(None, pl.String())),
        pl.DataFrame({"value": others, "id": pl.Series([o.id for o in outcomes], dtype=pl.String()),
                      "reason": pl.Series([o.reason.value if o.reason else None for o in outcomes],
                                          dtype=pl.String())}),
    ])
    aligned = raws.rename("value").to_frame().join(table, on="value", how="left", maintain_order="left")
    return aligned.select("id", "reason")


def current_ids(ids: pl.Series) -> pl.Series:
    """:func:`current_id` of each id (an id with a ``/`` is its own current id)."""
    legacy = unique_map(ids, current_id, pl.String(), candidates=lambda s: ~s.str.contains("/", literal=True))
    return pl.select(pl.coalesce(legacy, ids))[legacy.name].rename(ids.name)


def lowercase_ids(ids: pl.Series) -> pl.Series:
    """:func:`id_key` of each id: Polars for ASCII ids, Python for the rest (their Unicode case tables differ)."""
    lowered = ids.str.to_lowercase()
    unicode = ids.str.len_bytes() != ids.str.len_chars()
    if not unicode.any():
        return lowered
    python = unique_map(ids, id_key, pl.String(), candidates=lambda s: s.str.len_bytes() != s.str.len_chars())
    return pl.select(pl.when(unicode).then(python).otherwise(lowered))[python.name].rename(ids.name)


def local_path_ids(ids: pl.Series) -> pl.Series:
    """:func:`looks_like_local_path` of each id."""
    return unique_map(ids, looks_like_local_path, pl.Boolean())


def first_with_key(ids: pl.Series, model_id: str) -> int | None:
    """The position of the first id in ``ids`` with the :func:`id_key` of ``model_id``: what
    :meth:`IdLookup.canonical` answers (the first spelling is the canonical one), by a vectorised scan
    instead of a dict of every id. Only ids as long as the key are lowercased: lowercasing keeps a string's
    length, except that U+0130 (I with a dot) becomes two characters, so shorter ids that are not ASCII
    are looked at too."""
    target = id_key(model_id)
    lengths = ids.str.len_chars()
    shorter_not_ascii = (lengths < len(target)) & (ids.str.len_bytes() != lengths)
    candidates = ((lengths == len(target)) | shorter_not_ascii).arg_true()
    same = candidates.filter(lowercase_ids(ids.gather(candidates)) == target)
    return int(same[0]) if same.len() else None
