"""Source: a crawl of the Hugging Face Hub (or any Hub-compatible endpoint) through ``huggingface_hub``.

Definitions used throughout:

- *endpoint*: the base URL of a Hub-compatible server: the ``endpoint`` argument, else ``HF_ENDPOINT``,
  else the library's default (https://huggingface.co).
- *seed*: a model the crawl starts from, at *depth* 0: a root given by id (read with ``model_info``), or a
  model returned by the bulk listing (``list_models`` with author / search / sort / limit).
- *child* of P: a model the Hub returns for ``list_models(filter="base_model:P")``, i.e. one whose tags
  include ``base_model:P``; the Hub derives those tags from the child's card. The crawl never reads a
  model-tree file: children are found only through that listing.
- *depth*: parent-to-child hops from the nearest seed. The crawl is breadth-first (all models of depth d are
  listed before any of depth d + 1), so a model's depth is its shortest distance from a seed.
- *listing* of P: every page of that query; *complete* when read to its end, not cut short by ``max_models``.
- *journal*: ``<state_dir>/journal.jsonl``, append-only JSON Lines: a header, then one line per completed seed
  fetch, bulk listing, parent listing or base check. A listing line holds the ids the listing returned and
  the raw Hub records (the dict shape of ``GET /api/models/{id}``, as in ``models.jsonl``) of the models that
  were new, with the results of the files fetched for them; a line is written (flushed and fsynced) only
  once all of that is done. A restarted
  crawl replays the journal (a torn last line is dropped), skips every parent already listed and continues
  the breadth-first order; records are keyed by id, so nothing is duplicated.

Every record goes through :func:`ptmgraph.extract.record_from_api`, exactly like file-ingested records. Per
model, files are fetched with ``hf_hub_download`` only when they can add lineage evidence: ``adapter_config.json``
when the repo lists it, ``config.json`` when neither card nor tags name a base, ``README.md`` when the listing
carried no ``cardData``. Files are JSON- or YAML-safe-parsed, never executed, and skipped above
:data:`MAX_FILE_BYTES` (their size is asked first, with a HEAD request, so a large one is never downloaded).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, Literal, TypeVar

# ptmgraph sends no telemetry unless the user asks for it; the library reads this once, at import.
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import httpx2
from huggingface_hub import HfApi, constants, hf_hub_download
from huggingface_hub.errors import (
    DisabledRepoError,
    GatedRepoError,
    HfHubHTTPError,
    LocalEntryNotFoundError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.hf_api import ModelInfo
from huggingface_hub.utils import _http as hf_http
from huggingface_hub.utils import parse_ratelimit_headers, set_client_factory
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ptmgraph import assemble, extract, snapshot
from ptmgraph.ids import looks_like_local_path, normalize_reference
from ptmgraph.records import DanglingReason, EvidenceKind, Harvest, ModelRecord, Problem, Reference
from ptmgraph.sources.interface import SourceError

try:  # POSIX: keep two crawls from appending to one journal
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

EXPAND: list[str] = [
    "author", "cardData", "config", "createdAt", "disabled", "downloads", "downloadsAllTime", "gated",
    "lastModified", "library_name", "likes", "pipeline_tag", "private", "sha", "siblings", "tags",
]
"""The record fields requested from the Hub (``expand=``) for every listing and ``model_info`` call."""

MAX_FILE_BYTES = 1_000_000
"""Fetched files larger than this are not downloaded (or not read) and become a problem instead."""

JOURNAL_NAME = "journal.jsonl"
JOURNAL_VERSION = 1
FetchFiles = Literal["auto", "never"]

_RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
_MAX_TRIES = 5
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_LINEAGE_KINDS = (EvidenceKind.CARD_BASE_MODEL, EvidenceKind.HUB_TAG)
_T = TypeVar("_T")


class CrawlInterrupted(SourceError):
    """The crawl stopped part-way (server error, lost connection, exhausted retries).

    Everything completed so far is in the journal; running the same crawl with the same state directory
    resumes it. ``stats`` holds the counters of the interrupted run.
    """

    def __init__(self, message: str, stats: dict[str, int | float]) -> None:
        super().__init__(message)
        self.stats = stats


@dataclass(frozen=True)
class CrawlResult:
    """What :func:`crawl` produced: the snapshot directory, the run's counters and the state directory."""

    snapshot: Path
    stats: dict[str, int | float]
    state_dir: Path


def default_endpoint() -> str:
    """``HF_ENDPOINT`` as set now, else the endpoint ``huggingface_hub`` was configured with."""
    return (os.environ.get("HF_ENDPOINT") or constants.ENDPOINT).rstrip("/")


def default_cache_dir() -> Path:
    """The Hub file cache as the environment names it now (``HF_HUB_CACHE``, else ``HF_HOME/hub``)."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]) / "hub"
    return Path(constants.HF_HUB_CACHE)


def row_from_model_info(info: ModelInfo) -> dict[str, Any]:
    """A :class:`ModelInfo` back in the Hub API's JSON shape (camelCase keys, as in ``models.jsonl``).

    Only fields the Hub returned are kept (None means *not returned*); timestamps become ISO strings,
    ``cardData`` a plain dict and ``siblings`` a list of ``{"rfilename": ...}``.
    """
    row: dict[str, Any] = {"id": info.id}
    plain = {
        "author": info.author, "sha": info.sha, "private": info.private, "gated": info.gated,
        "disabled": info.disabled, "downloads": info.downloads, "downloadsAllTime": info.downloads_all_time,
        "likes": info.likes,
        "library_name": info.library_name, "pipeline_tag": info.pipeline_tag, "tags": info.tags,
        "config": info.config,
    }
    row.update({key: value for key, value in plain.items() if value is not None})
    for key, stamp in (("createdAt", info.created_at), ("lastModified", info.last_modified)):
        if isinstance(stamp, datetime):
            row[key] = stamp.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    if info.card_data is not None:
        row["cardData"] = info.card_data.to_dict()
    if info.siblings is not None:
        row["siblings"] = [{"rfilename": s.rfilename} for s in info.siblings]
    return row


# --------------------------------------------------------------------------------------------------------------
# Journal and crawl state
# --------------------------------------------------------------------------------------------------------------


class _Journal:
    """The append-only journal of one state directory (see the module docstring)."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / JOURNAL_NAME
        self._handle: IO[bytes] | None = None

    def open(self, endpoint: str) -> list[dict[str, Any]]:
        """Lock the journal, read its completed lines (dropping a torn last line) and get ready to append."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            existed = self.path.exists()
            handle = self.path.open("a+b")
        except OSError as err:
            raise SourceError(f"{self.path}: cannot use this state directory ({err.strerror})") from None
        if fcntl is not None:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                raise SourceError(f"{self.path}: another crawl is using this state directory") from None
        handle.seek(0)
        chunks = handle.read().split(b"\n")
        lines: list[dict[str, Any]] = []
        good_end = 0
        # Every line is written whole, newline last, so only the last line can be torn (no newline, or
        # garbage a crash left behind); a bad line anywhere else means the file is not ours to fix.
        for number, chunk in enumerate(chunks[:-1], start=1):
            try:
                entry = json.loads(chunk)
            except (json.JSONDecodeError, UnicodeDecodeError):
                entry = None
            if not isinstance(entry, dict):
                if number == len(chunks) - 1 and not chunks[-1]:
                    break
                handle.close()
                raise SourceError(f"{self.path}:{number}: not a journal line; remove the state directory to start over")
            lines.append(entry)
            good_end += len(chunk) + 1
        handle.truncate(good_end)
        self._handle = handle
        if not lines:
            self.append({"kind": "header", "v": JOURNAL_VERSION, "endpoint": endpoint,
                         "created": datetime.now(timezone.utc).isoformat(timespec="seconds")})
            if not existed:
                _fsync_directory(self.path.parent)
            return []
        header = lines[0]
        if header.get("kind") != "header" or header.get("v") != JOURNAL_VERSION:
            self.close()
            raise SourceError(f"{self.path}: not a version-{JOURNAL_VERSION} crawl journal")
        if header.get("endpoint") != endpoint:
            self.close()
            raise SourceError(f"{self.path}: this crawl ran against {header.get('endpoint')}, not {endpoint}; "
                              "use another state directory")
        return lines[1:]

    def append(self, entry: dict[str, Any]) -> None:
        """Write one line and make it durable before returning."""
        assert self._handle is not None, "journal is not open"
        line = json.dumps(entry, default=str, separators=(",", ":")) + "\n"
        self._handle.write(line.encode("utf-8"))
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()  # closing releases the lock
            self._handle = None


def _fsync_directory(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@dataclass
class _State:
    """What the crawl knows, rebuilt from journal lines by :meth:`apply` (live lines go through it too).

    ``entries``: id -> {"row": Hub record dict, "files": {name: fetch result}}, first one seen wins (a
    listing line holds the entries of its new models only, and ``ids``, every model it returned);
    ``depth``: id -> depth, for seeds and children (checked bases have none, they are not descended);
    ``order``: ids in the order they were discovered (breadth-first); ``listed``: parents whose listing
    completed; ``seeds``: root -> dangling reason (None when found); ``bases``: lower-case id -> dangling
    reason (None when found) for checked bases.
    """

    entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    depth: dict[str, int] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    listed: set[str] = field(default_factory=set)
    seeds: dict[str, str | None] = field(default_factory=dict)
    bulk_done: bool = False
    bases: dict[str, str | None] = field(default_factory=dict)

    def apply(self, line: Mapping[str, Any]) -> list[str]:
        """Take in one journal line; returns the ids it gave a depth to for the first time."""
        kind = line.get("kind")
        depth: int | None = None
        fresh: list[str] = []
        if kind == "seed":
            self.seeds[line["root"]] = line.get("missing")
            depth = 0
            if line.get("missing"):  # a missing root is still listed: its children may outlive it
                fresh += self._place(line["root"], 0)
        elif kind == "bulk":
            self.bulk_done = True
            depth = 0
        elif kind == "children":
            if line.get("complete"):
                self.listed.add(line["parent"])
            depth = self.depth.get(line["parent"], 0) + 1
        elif kind == "base":
            self.bases[line["id"].lower()] = line.get("missing")
        for entry in line.get("records", []):
            self.entries.setdefault(entry["row"]["id"], entry)
        if depth is not None:
            # Every model the listing returned, also those already recorded (a checked base, say).
            for model_id in line.get("ids", [e["row"]["id"] for e in line.get("records", [])]):
                fresh += self._place(model_id, depth)
        return fresh

    def _place(self, model_id: str, depth: int) -> list[str]:
        if model_id in self.depth:
            self.depth[model_id] = min(self.depth[model_id], depth)
            return []
        self.depth[model_id] = depth
        self.order.append(model_id)
        return [model_id]


# --------------------------------------------------------------------------------------------------------------
# The source
# --------------------------------------------------------------------------------------------------------------


class HubCrawl:
    """A descendants crawl of the Hub from ``roots`` (and/or a bulk listing), as a :class:`Source`.

    ``roots``: model ids (or Hub URLs) to start from. Bulk listing: ``author``, ``search``, ``sort`` and
    ``limit`` as in ``HfApi.list_models``; its models are seeds too (needs author, search or limit).
    ``max_depth``: list children only of models less than this many hops from a seed (None: no limit;
    0: only the seeds). ``max_models``: stop once this many models are recorded (the listing that reaches
    the limit is cut short). ``fetch_files``: ``"auto"`` fetches the lineage files described in the module
    docstring, ``"never"`` none. ``state_dir``: where the journal lives (None: no journal, no resuming).
    ``check_bases``: after the crawl, look up every base a record names that the crawl did not reach; a
    base the Hub does not serve turns its references into dangling ones (NOT_FOUND / GATED / DISABLED),
    a base it serves adds its record. ``ancestors``: the same, repeated for the bases' own bases until
    every chain ends at a root or a missing model (the ancestry of the seeds from the live Hub; with
    ``max_depth=0`` nothing else is listed). ``progress``: a progress bar on stderr.

    A root the Hub does not serve (404, gated, disabled) becomes a dangling reference (child and raw: the
    root; kind ``model_tree``; field ``crawl:root``) and is still listed: children can outlive their base.
    Fetched files that fail (404 although listed, gated, too large, not JSON / YAML) become problems.

    After :meth:`harvest`, ``stats`` holds the run's counters: ``requests`` (HTTP requests sent, retries
    included), ``retries_429`` and ``retries_5xx`` (responses with those statuses, each followed by a retry
    or an abort), ``models`` (records in the harvest), ``parents_listed`` (listings made in this run),
    ``parents_resumed`` (listings replayed from the journal), ``files_fetched`` (file downloads attempted),
    ``truncated`` (1 when ``max_models`` stopped the crawl) and ``seconds``.
    """

    def __init__(
        self,
        roots: Sequence[str] = (),
        *,
        author: str | None = None,
        search: str | None = None,
        sort: str | None = None,
        limit: int | None = None,
        endpoint: str | None = None,
        token: str | bool | None = None,
        max_depth: int | None = None,
        max_models: int | None = None,
        fetch_files: FetchFiles = "auto",
        state_dir: Path | str | None = None,
        check_bases: bool = False,
        ancestors: bool = False,
        cache_dir: Path | str | None = None,
        progress: bool = True,
    ) -> None:
        if isinstance(roots, str):
            roots = [roots]
        self.roots = [_root_id(r) for r in roots]
        self.bulk = {k: v for k, v in {"author": author, "search": search, "sort": sort, "limit": limit}.items()
                     if v is not None}
        if self.bulk and not (author or search or limit):
            raise SourceError("a bulk listing needs an author, a search text or a limit")
        if not self.roots and not self.bulk:
            raise SourceError("nothing to crawl: give root model ids or a bulk listing (author / search / limit)")
        if fetch_files not in ("auto", "never"):
            raise SourceError(f"fetch_files must be 'auto' or 'never', not {fetch_files!r}")
        if max_depth is not None and max_depth < 0:
            raise SourceError("max_depth must be 0 or more")
        self.endpoint = (endpoint or default_endpoint()).rstrip("/")
        self._token = token
        self.max_depth, self.max_models = max_depth, max_models
        self.fetch_files: FetchFiles = fetch_files
        self.state_dir = Path(state_dir) if state_dir is not None else None
        self.check_bases = check_bases
        self.ancestors = ancestors
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.progress = progress
        self.stats: dict[str, int | float] = {}
        self._api = HfApi(endpoint=self.endpoint, token=token)

    def describe(self) -> str:
        parts = [f"hub crawl of {self.endpoint}"]
        if self.roots:
            parts.append("roots " + ", ".join(self.roots))
        if self.bulk:
            parts.append("listing " + ", ".join(f"{k}={v}" for k, v in self.bulk.items()))
        if self.max_depth is not None:
            parts.append(f"max depth {self.max_depth}")
        return "; ".join(parts)

    # -- the crawl --------------------------------------------------------------------------------------------
    def harvest(self) -> Harvest:
        """Run (or resume) the crawl and return its records and references."""
        self.stats = {"requests": 0, "retries_429": 0, "retries_5xx": 0, "models": 0, "parents_listed": 0,
                      "parents_resumed": 0, "files_fetched": 0, "truncated": 0, "seconds": 0.0}
        started = time.monotonic()
        state = _State()
        journal = _Journal(self.state_dir) if self.state_dir is not None else None
        doing = "starting"
        try:
            with self._counting_requests(), self._progress_bar() as bar:
                replayed = journal.open(self.endpoint) if journal is not None else []
                for line in replayed:
                    state.apply(line)
                self.stats["parents_resumed"] = len(state.listed)

                def record(line: dict[str, Any]) -> list[str]:
                    if journal is not None:
                        journal.append(line)
                    return state.apply(line)

                for root in self.roots:
                    if root not in state.seeds:
                        doing = f"reading root {root}"
                        record(self._seed_line(root))
                if self.bulk and not state.bulk_done:
                    doing = "running the bulk listing"
                    record(self._bulk_line(state))
                queue = deque(m for m in state.order if self._to_list(m, state))
                bar.update(state, queue, self.stats)
                while queue:
                    if self.max_models is not None and len(state.entries) >= self.max_models:
                        self.stats["truncated"] = 1
                        break
                    parent = queue.popleft()
                    doing = f"listing the children of {parent}"
                    fresh = record(self._children_line(parent, state))
                    self.stats["parents_listed"] += 1
                    queue.extend(m for m in fresh if self._to_list(m, state))
                    bar.update(state, queue, self.stats)
                if self.check_bases or self.ancestors:
                    doing = "checking bases"
                    # One round looks up the bases the records name; with ``ancestors`` the bases' own bases
                    # are looked up in turn, until every chain ends at a root or a missing model.
                    while bases := self._unchecked_bases(state):
                        for base in bases:
                            if self.max_models is not None and len(state.entries) >= self.max_models:
                                self.stats["truncated"] = 1
                                break
                            doing = f"checking base {base}"
                            record(self._base_line(base))
                        if not self.ancestors or self.stats["truncated"]:
                            break
        except (httpx2.HTTPError, OSError) as err:
            self.stats["models"] = len(state.entries)
            self.stats["seconds"] = round(time.monotonic() - started, 3)
            kept = (f"completed steps are kept in {journal.path}; run the same crawl again to resume"
                    if journal is not None else "no state directory was given, so nothing is kept")
            raise CrawlInterrupted(f"crawl interrupted while {doing}: {_first_line(err)}; {kept}",
                                   dict(self.stats)) from err
        finally:
            if journal is not None:
                journal.close()
        out = self._build(state)
        self.stats["models"] = len(out.records)
        self.stats["seconds"] = round(time.monotonic() - started, 3)
        return out

    def _to_list(self, model_id: str, state: _State) -> bool:
        depth = state.depth.get(model_id)
        return (depth is not None and model_id not in state.listed
                and (self.max_depth is None or depth < self.max_depth))

    def _seed_line(self, root: str) -> dict[str, Any]:
        info, missing = self._model_info(root)
        records = [self._entry(row_from_model_info(info))] if info is not None else []
        return {"kind": "seed", "root": root, "missing": missing, "records": records}

    def _base_line(self, base: str) -> dict[str, Any]:
        info, missing = self._model_info(base)
        records = [self._entry(row_from_model_info(info))] if info is not None else []
        return {"kind": "base", "id": base, "missing": missing, "records": records}

    def _bulk_line(self, state: _State) -> dict[str, Any]:
        listing = self._api.list_models(expand=EXPAND, **self.bulk)  # type: ignore[arg-type]
        ids, records, _ = self._read_listing(listing, state)
        return {"kind": "bulk", "query": self.bulk, "ids": ids, "records": records}

    def _children_line(self, parent: str, state: _State) -> dict[str, Any]:
        listing = self._api.list_models(filter=f"base_model:{parent}", expand=EXPAND)  # type: ignore[arg-type]
        ids, records, complete = self._read_listing(listing, state)
        return {"kind": "children", "parent": parent, "complete": complete, "ids": ids, "records": records}

    def _read_listing(
        self, listing: Iterable[ModelInfo], state: _State
    ) -> tuple[list[str], list[dict[str, Any]], bool]:
        """The ids a listing returned, entries for those the crawl had not recorded, and whether it was read
        to its end (False when ``max_models`` cut it short; the listing is lazy, so the pages after the cut
        are never requested)."""
        ids: list[str] = []
        seen: set[str] = set()
        records: list[dict[str, Any]] = []
        for info in listing:
            if info.id in seen:
                continue
            seen.add(info.id)
            ids.append(info.id)
            if info.id in state.entries:
                continue
            records.append(self._entry(row_from_model_info(info)))
            if self.max_models is not None and len(state.entries) + len(records) >= self.max_models:
                return ids, records, False
        return ids, records, True

    def _model_info(self, model_id: str) -> tuple[ModelInfo | None, str | None]:
        """``model_info`` with the crawl's expand; a missing repo gives (None, dangling reason)."""
        try:
            return self._retrying(lambda: self._api.model_info(model_id, expand=EXPAND)), None  # type: ignore[arg-type]
        except GatedRepoError:  # a subclass of RepositoryNotFoundError: test it first
            return None, DanglingReason.GATED.value
        except RepositoryNotFoundError:
            return None, DanglingReason.NOT_FOUND.value
        except DisabledRepoError:
            return None, DanglingReason.DISABLED.value

    def _retrying(self, call: Callable[[], _T]) -> _T:
        """Retry ``call`` on 429/5xx and dropped connections, honouring ``RateLimit`` and ``Retry-After``.

        ``list_models`` and ``hf_hub_download`` retry by themselves; ``model_info`` does not.
        """
        wait = 1.0
        for attempt in range(1, _MAX_TRIES + 1):
            try:
                return call()
            except HfHubHTTPError as err:
                response = err.response
                status = response.status_code if response is not None else None
                if status not in _RETRY_STATUSES or attempt == _MAX_TRIES:
                    raise
                time.sleep(_retry_after(response.headers, wait))
            except httpx2.TransportError:
                if attempt == _MAX_TRIES:
                    raise
                time.sleep(wait)
            wait = min(8.0, wait * 2)
        raise AssertionError("unreachable")

    # -- files ------------------------------------------------------------------------------------------------
    def _entry(self, row: dict[str, Any]) -> dict[str, Any]:
        """A journal entry for one record: the row and the results of the files fetched for it."""
        return {"row": row, "files": {name: self._fetch(row, name) for name in self._wanted_files(row)}}

    def _wanted_files(self, row: Mapping[str, Any]) -> list[str]:
        if self.fetch_files == "never":
            return []
        record, refs = extract.record_from_api(row, "")
        files = set(record.files)
        wanted = []
        if extract.ADAPTER_CONFIG in files:
            wanted.append(extract.ADAPTER_CONFIG)
        if extract.CONFIG in files and not any(r.kind in _LINEAGE_KINDS for r in refs):
            wanted.append(extract.CONFIG)
        card = row.get("cardData")
        # A quantizer's card copies the original's base_model; its prose names the true parent (relations.py).
        if extract.CARD in files and (not isinstance(card, Mapping) or "quantized_by" in card):
            wanted.append(extract.CARD)
        return wanted

    def _fetch(self, row: Mapping[str, Any], name: str) -> dict[str, Any]:
        """Download one small file: {"status": "ok", "revision", "text"} or {"status": <why not>, ...}.

        Statuses other than "ok": missing (404 although listed), gated, not_found, disabled, too_large. Any
        other failure (server errors after retries, lost connection) propagates and interrupts the crawl.
        """
        sha = row.get("sha")
        revision = sha if isinstance(sha, str) and _COMMIT.match(sha) else None
        self.stats["files_fetched"] += 1
        kwargs: dict[str, Any] = {"cache_dir": self.cache_dir or default_cache_dir(), "endpoint": self.endpoint,
                                  "token": self._token}
        try:
            try:
                dry = hf_hub_download(row["id"], name, revision=revision, dry_run=True, **kwargs)
            except RevisionNotFoundError:  # the listing's commit is gone (force-push): read the branch
                revision = None
                dry = hf_hub_download(row["id"], name, dry_run=True, **kwargs)
            size = getattr(dry, "file_size", None)
            if size is not None and size > MAX_FILE_BYTES:
                return {"status": "too_large", "revision": revision, "size": size}
            if getattr(dry, "is_cached", False):
                path = Path(dry.local_path)
            else:
                path = Path(hf_hub_download(row["id"], name, revision=revision, **kwargs))
            size = path.stat().st_size
            if size > MAX_FILE_BYTES:
                return {"status": "too_large", "revision": revision, "size": size}
            text = path.read_bytes().decode("utf-8", errors="replace")
        except LocalEntryNotFoundError:  # an EntryNotFoundError too, but it means "could not reach the Hub"
            raise
        except RemoteEntryNotFoundError:
            return {"status": "missing", "revision": revision}
        except GatedRepoError:
            return {"status": "gated", "revision": revision}
        except RepositoryNotFoundError:
            return {"status": "not_found", "revision": revision}
        except DisabledRepoError:
            return {"status": "disabled", "revision": revision}
        return {"status": "ok", "revision": revision, "text": text}

    # -- harvest ----------------------------------------------------------------------------------------------
    def _build(self, state: _State) -> Harvest:
        """The harvest of the crawl state: every record through ``record_from_api``, plus fetched files."""
        out = Harvest(sources=[self.describe()])
        for model_id, entry in state.entries.items():
            source = f"{self.endpoint}/api/models/{model_id}"
            try:
                record, refs = extract.record_from_api(entry["row"], source)
            except ValueError as err:
                out.problems.append(Problem(source, model_id, str(err)))
                continue
            refs += self._apply_files(record, entry.get("files", {}), out.problems)
            out.records.append(record)
            out.references.extend(refs)
            out.known_ids.add(record.id)
        for root, missing in state.seeds.items():
            if missing:
                ref = Reference(root, root, EvidenceKind.MODEL_TREE, "crawl:root", f"{self.endpoint}/api/models/{root}")
                out.dangling.append((ref, DanglingReason(missing)))
        dead = {base: DanglingReason(reason) for base, reason in state.bases.items() if reason}
        if dead:
            kept = []
            for ref in out.references:
                reason = dead.get((_base_id(ref.raw) or "").lower())
                if reason is None:
                    kept.append(ref)
                else:
                    out.dangling.append((ref, reason))
            out.references = kept
        return out

    def _apply_files(
        self, record: ModelRecord, files: Mapping[str, Mapping[str, Any]], problems: list[Problem]
    ) -> list[Reference]:
        """Read the fetched files into ``record`` and return the references they add; failures become problems."""
        refs: list[Reference] = []
        for name, result in files.items():
            where = f"{self.endpoint}/{record.id}/resolve/{result.get('revision') or 'main'}/{name}"
            status = result.get("status")
            if status != "ok":
                problems.append(Problem(where, record.id, _FILE_PROBLEMS.get(str(status), f"not read ({status})")
                                        .format(name=name, size=result.get("size"), limit=MAX_FILE_BYTES)))
                continue
            text = str(result.get("text", ""))
            if name == extract.CARD:
                try:
                    card = extract.card_metadata(text)
                except extract.CardError as err:
                    problems.append(Problem(where, record.id, f"model card: {err}"))
                    continue
                if card is not None:
                    extract.apply_card(record, card)
                    refs += extract.references_from_card(record.id, card, where)
                refs += extract.references_from_card_text(record.id, text, card, where)
                continue
            try:
                data = json.loads(text)
            except json.JSONDecodeError as err:
                problems.append(Problem(where, record.id, f"{name}: not valid JSON ({err.msg})"))
                continue
            if not isinstance(data, dict):
                problems.append(Problem(where, record.id, f"{name}: not a JSON object"))
                continue
            if name == extract.ADAPTER_CONFIG:
                refs += extract.references_from_adapter_config(record.id, data, where)
            elif name == extract.CONFIG:
                refs += extract.references_from_config(record.id, data, where)
                if record.model_type is None and isinstance(data.get("model_type"), str):
                    record.model_type = data["model_type"]
                if isinstance(data.get("quantization_config"), Mapping):
                    record.quantization = extract.quantization_hint(record, data)
        return refs

    def _unchecked_bases(self, state: _State) -> list[str]:
        """Ids the crawled records name as a base, that the crawl has no record of and has not checked yet."""
        have = {model_id.lower() for model_id in state.entries}
        found: dict[str, str] = {}
        for ref in self._build(state).references:
            base = _base_id(ref.raw)
            if base and base.lower() not in have and base.lower() not in state.bases:
                found.setdefault(base.lower(), base)
        return sorted(found.values())

    # -- instrumentation --------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _counting_requests(self) -> Iterator[None]:
        """Count every request of ``huggingface_hub``'s shared client, and 429/5xx answers, while crawling."""
        previous = getattr(hf_http, "_GLOBAL_CLIENT_FACTORY", hf_http.default_client_factory)
        stats = self.stats

        def on_request(request: httpx2.Request) -> None:
            stats["requests"] += 1

        def on_response(response: httpx2.Response) -> None:
            if response.status_code == 429:
                stats["retries_429"] += 1
            elif 500 <= response.status_code < 600:
                stats["retries_5xx"] += 1

        def factory() -> httpx2.Client:
            client = previous()
            client.event_hooks["request"].append(on_request)
            client.event_hooks["response"].append(on_response)
            return client

        set_client_factory(factory)
        try:
            yield
        finally:
            set_client_factory(previous)

    @contextlib.contextmanager
    def _progress_bar(self) -> Iterator[_Bar]:
        bar = _Bar(enabled=self.progress)
        with bar.progress:
            yield bar


_FILE_PROBLEMS = {
    "missing": "{name} is listed in the repo but the Hub answered 404 for it",
    "gated": "{name}: the repo is gated; accept its terms on the Hub and pass a token to read it",
    "not_found": "{name}: the repo was not found when its files were read",
    "disabled": "{name}: the repo is disabled",
    "too_large": "{name}: {size} bytes, over the {limit}-byte limit; not read",
}


class _Bar:
    """A rich progress bar on stderr: parents listed of those known so far, models, requests and rate."""

    def __init__(self, *, enabled: bool) -> None:
        self.started = time.monotonic()
        self.progress = Progress(
            TextColumn("[bold]crawl"), BarColumn(), MofNCompleteColumn(), TextColumn("parents"),
            TextColumn("{task.fields[models]} models · {task.fields[requests]} requests · {task.fields[rate]:.1f}/s"),
            TimeElapsedColumn(),
            console=Console(stderr=True), disable=not enabled, transient=False,
        )
        self.task = self.progress.add_task("crawl", total=None, models=0, requests=0, rate=0.0)

    def update(self, state: _State, queue: deque[str], stats: Mapping[str, int | float]) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        self.progress.update(self.task, completed=len(state.listed), total=len(state.listed) + len(queue),
                             models=len(state.entries), requests=stats["requests"],
                             rate=stats["requests"] / elapsed)


def _retry_after(headers: Mapping[str, str], fallback: float) -> float:
    """Seconds to wait before retrying: the rate-limit reset, else ``Retry-After``, else ``fallback``."""
    info = parse_ratelimit_headers(headers)
    if info is not None and info.remaining == 0:
        return float(info.reset_in_seconds)
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), "").strip()
    return float(value) if value.isdigit() else fallback


def _root_id(raw: str) -> str:
    norm = normalize_reference(raw)
    if norm.id is None:
        raise SourceError(f"{raw!r} is not a Hub model id ({norm.reason.value if norm.reason else 'invalid'})")
    return norm.id


def _base_id(raw: object) -> str | None:
    """The Hub id a reference names, when it could be a Hub repo (not a local path or another site)."""
    norm = normalize_reference(raw)
    if norm.id is None or looks_like_local_path(norm.id):
        return None
    return norm.id


def _first_line(err: BaseException) -> str:
    text = str(err).strip() or type(err).__name__
    return text.splitlines()[0]


def crawl(
    roots: Sequence[str],
    out_dir: Path | str,
    *,
    endpoint: str | None = None,
    token: str | bool | None = None,
    max_depth: int | None = None,
    fetch_files: FetchFiles = "auto",
    state_dir: Path | str | None = None,
    progress: bool = True,
    max_models: int | None = None,
    check_bases: bool = False,
    ancestors: bool = False,
    keep_state: bool = False,
    author: str | None = None,
    search: str | None = None,
    sort: str | None = None,
    limit: int | None = None,
) -> CrawlResult:
    """Crawl the descendants of ``roots`` (and of a bulk listing), assemble them and save the snapshot.

    ``state_dir`` defaults to ``<out_dir>.crawl`` next to the snapshot. An interrupted crawl raises
    :class:`CrawlInterrupted` and keeps its journal there; calling ``crawl`` again with the same arguments
    resumes it. Once the snapshot is saved (atomically), the state directory is removed unless
    ``keep_state``. Other arguments are those of :class:`HubCrawl`; the token is never logged or stored.
    """
    out = Path(out_dir)
    state = Path(state_dir) if state_dir is not None else out.with_name(out.name + ".crawl")
    source = HubCrawl(roots, author=author, search=search, sort=sort, limit=limit, endpoint=endpoint, token=token,
                      max_depth=max_depth, max_models=max_models, fetch_files=fetch_files, state_dir=state,
                      check_bases=check_bases, ancestors=ancestors, progress=progress)
    harvest = source.harvest()
    snap = assemble.assemble(harvest)
    snap.meta["crawl"] = {"endpoint": source.endpoint, "roots": source.roots, "author": author, "search": search,
                          "sort": sort, "limit": limit, "max_depth": max_depth,
                          "max_models": max_models, "fetch_files": fetch_files, "stats": dict(source.stats)}
    path = snapshot.save(snap, out)
    if not keep_state:
        shutil.rmtree(state, ignore_errors=True)
    return CrawlResult(snapshot=path, stats=dict(source.stats), state_dir=state)
