"""Source: a crawl of the Hugging Face Hub (or any Hub-compatible endpoint).

Definitions used throughout:

- *endpoint*: the base URL of a Hub-compatible server: the ``endpoint`` argument, else ``HF_ENDPOINT``,
  else the library's default (https://huggingface.co).
- *seed*: a model the crawl starts from, at *depth* 0: one given by id (read with ``GET /api/models/{id}``),
  or a model returned by the bulk listing (``GET /api/models`` with author / search / sort / limit).
- *child* of P: a model the Hub returns for ``GET /api/models?filter=base_model:P``, i.e. one whose tags
  include ``base_model:P``; the Hub derives those tags from the child's card. The crawl never reads a
  model-tree file: children are found only through that listing.
- *depth*: parent-to-child hops from the nearest seed. With ``max_depth`` the crawl goes level by level
  (every model of depth d is listed before any of depth d + 1), so each model is first seen at its depth and
  the limit is exact; without it, a model's children are listed as soon as the model is found, since its
  depth decides nothing. Either way ``Limits.workers`` requests are in flight at a time.
- *listing* of P: every page of that query; *complete* when read to its end (or as far as hostile paging
  lets it be read, with a problem saying so), not cut short by ``max_models``.
- *request*: one HTTP request, retries included; the limits, retries and origin checks are those of
  :mod:`ptmgraph.sources.hub_client`, the journal that makes the crawl resumable that of
  :mod:`ptmgraph.sources.crawl_journal`.

Cost: a descendants crawl makes one listing request per model that may have children (every model within
``max_depth``) plus one per extra page of 1,000 children; a bulk listing one request per page. Files are
fetched (one GET each, never more than :data:`MAX_FILE_BYTES` read) only when the listing's ``siblings``
say the repo has them, and only as ``fetch_files`` asks: ``"auto"`` reads ``adapter_config.json``,
``config.json`` and (when the record has no ``cardData``) ``README.md`` of the models read one by one (the
seeds given by id, and bases looked up after the crawl) whose card and tags name no base, the one case where a file
is the only lineage evidence, and the ``README.md`` of a quantizer's card (``quantized_by``), which copies
the original's ``base_model`` while its prose names the true parent (not for the models of a bulk listing,
which stays at one request per page); ``"all"`` also reads
``adapter_config.json`` of every model that has one, and ``config.json`` / ``README.md`` under the same
conditions for every model (about one more request per adapter); ``"never"`` reads none.

With ``file_commits``, every crawled model that has children (a record names it as a base) gets its file
listing read once, after the crawl: ``POST /api/models/{id}/paths-info/{sha}`` with ``expand`` for the
files its ``siblings`` name (one request per :data:`PATHS_PER_REQUEST` paths), or, for a record without
``siblings``, ``GET /api/models/{id}/tree/{sha}?recursive=true&expand=true`` (pages of 50). Each file's last
commit, LFS sha256, size and the Hub's security scan go to the snapshot's ``files`` table
(:func:`ptmgraph.extract.files_from_entries`); leaves are never asked. No weight is downloaded.

A crawl's snapshot keeps its journal (:data:`CRAWL_JOURNAL`) and its *Hub time* (the ``Date`` header of its
first answer); :func:`~ptmgraph.sources.hub_crawl.update` (``crawl --update``) runs the same crawl again from
them, reading only what changed since (see that function for what it asks, and the README's Definitions).

Every record goes through :func:`ptmgraph.extract.record_from_api`, exactly like file-ingested records.
Files are JSON- or YAML-safe-parsed, never executed. A reply or file that cannot be used (not JSON after
every retry, the wrong shape, a hostile card) is a problem row and costs only that record or listing.

This module holds :class:`HubCrawl`, one piece: its steps (seeds, listings, files, file commits, the update's
change listing) are methods sharing one crawl's state, journal and client, which splitting would scatter.
:mod:`ptmgraph.sources.hub_crawl` runs it and saves the snapshot (:func:`~ptmgraph.sources.hub_crawl.crawl`,
:func:`~ptmgraph.sources.hub_crawl.update`); :mod:`ptmgraph.sources.hub_prior` reads what an update starts from.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any, Literal

# ptmgraph sends no telemetry unless the user asks for it; the library reads this once, at import.
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import httpx2
from huggingface_hub import constants
from huggingface_hub.errors import (
    DisabledRepoError,
    GatedRepoError,
    HfHubHTTPError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ptmgraph import extract, reader
from ptmgraph.ids import IdLookup, id_key, looks_like_local_path, normalize_reference
from ptmgraph.records import DanglingReason, EvidenceKind, Harvest, ModelRecord, Problem, Reference
from ptmgraph.sources.crawl_journal import JOURNAL_NAME, MARKER_NAME, CrawlState, Journal, JournalFull
from ptmgraph.sources.hub_client import HubClient, Limits
from ptmgraph.sources.hub_http import BadReply, CrawlStop, without_credentials
from ptmgraph.sources.hub_prior import (
    COMMIT_SHA,
    CRAWL_JOURNAL,
    UPDATE_MARGIN,
    Prior,
    http_date,
    modified_before,
    same_commit,
)
from ptmgraph.sources.interface import SourceError, first_line

__all__ = ["CRAWL_JOURNAL", "DEFAULT_MAX_MODELS", "EXPAND", "JOURNAL_NAME", "MARKER_NAME", "MAX_FILE_BYTES",
           "UPDATE_MARGIN", "CrawlInterrupted", "HubCrawl", "Limits", "Prior", "default_endpoint"]

EXPAND: list[str] = [
    "author", "cardData", "config", "createdAt", "disabled", "downloads", "downloadsAllTime", "gated",
    "lastModified", "library_name", "likes", "pipeline_tag", "private", "sha", "siblings", "tags",
]
"""The record fields requested from the Hub (``expand=``) for every listing and record."""

MAX_FILE_BYTES = 1_000_000
"""Fetched files larger than this are not read past this many bytes and become a problem instead."""

DEFAULT_MAX_MODELS = 100_000
"""The default ``max_models``: a bound on what a crawl holds (and its memory), raised with ``--max-models``."""

FetchFiles = Literal["auto", "all", "never"]
FETCH_FILES: tuple[str, ...] = ("auto", "all", "never")

PATHS_PER_REQUEST = 1000
"""Paths asked about in one ``paths-info`` request."""


_LINEAGE_KINDS = (EvidenceKind.CARD_BASE_MODEL, EvidenceKind.HUB_TAG)
_Line = dict[str, Any]
_Read = Literal["alone", "child", "bulk"]


class CrawlInterrupted(SourceError):
    """The crawl stopped part-way (server errors or timeouts past the retries, a wait over ``max_wait``,
    an unexpected HTTP error, a lost connection).

    Everything completed so far is in the journal; running the same crawl with the same state directory
    resumes it. ``stats`` holds the counters of the interrupted run.
    """

    def __init__(self, message: str, stats: dict[str, int | float]) -> None:
        super().__init__(message)
        self.stats = stats


def default_endpoint() -> str:
    """``HF_ENDPOINT`` as set now, else the endpoint ``huggingface_hub`` was configured with (credentials
    included: :class:`HubCrawl` takes them out before the URL is stored or shown)."""
    return (os.environ.get("HF_ENDPOINT") or constants.ENDPOINT).rstrip("/")


class HubCrawl:
    """A descendants crawl of the Hub from ``seeds`` (and/or a bulk listing), as a :class:`Source`.

    ``seeds``: model ids (or Hub URLs) to start from. Bulk listing: ``author``, ``search``, ``sort`` and
    ``limit`` as in ``HfApi.list_models``; its models are seeds too (needs author, search or limit).
    ``max_depth``: list children only of models less than this many hops from a seed (None: no limit;
    0: only the seeds). ``max_models``: stop once this many models are recorded (the listing that reaches
    the limit is cut short; None: no bound). ``fetch_files``: see the module docstring. ``state_dir``: where
    the journal lives (None: no journal, no resuming). ``check_bases``: after the crawl, look up every base a record
    names that the crawl did not reach; a base the Hub does not serve turns its references into dangling
    ones (NOT_FOUND / GATED / DISABLED), a base it serves adds its record. ``ancestors``: the same, repeated
    for the bases' own bases until every chain ends at a root or a missing model (the ancestry of the seeds
    from the live Hub; with ``max_depth=0`` nothing else is listed). ``limits``: timeouts, retries, waits,
    pages and workers, deadlines and budgets (:class:`Limits`). ``progress``: a progress bar on stderr.
    ``endpoint``: credentials in it (``http://user:pw@host``) are sent as Basic credentials to its origin
    and appear nowhere else; ``token`` and ``token_for_endpoint``: see
    :func:`ptmgraph.sources.hub_http.resolve_token`.

    The *crawl arguments* (:meth:`arguments`) are recorded in the journal; resuming with other ones is
    refused, naming the argument.

    A seed the Hub does not serve (404, gated, disabled) becomes a dangling reference (child and raw: the
    seed; kind ``model_tree``; field ``crawl:seed``, ``crawl:root`` in older snapshots) and is still listed:
    children can outlive their base.
    Fetched files that fail (404 although listed, gated, too large, not JSON / YAML) become problems.

    After :meth:`harvest`, ``stats`` holds the run's counters: ``requests`` (HTTP requests sent, retries
    included), ``retries_429``, ``retries_5xx`` and ``retries_other`` (failed attempts: 429s, 5xx, and
    timeouts, dropped connections and bodies cut short), ``models`` (records in the harvest),
    ``parents_listed`` (listings made in this run), ``pages`` (listing pages read in this run),
    ``parents_resumed`` (listings replayed from the journal), ``files_fetched`` (file downloads attempted),
    ``truncated`` (1 when ``max_models`` stopped the crawl), ``listings_failed`` (listings not read, or
    ended early by hostile paging or ``max_pages``), ``records_failed`` (records not read or not usable),
    ``file_listings`` (models whose file listing was asked for, ``file_commits``) and ``seconds``.

    ``prior``: the crawl this one updates (:class:`Prior`, ``crawl --update``): the crawl runs as a fresh one
    with the same arguments would, but (see :func:`~ptmgraph.sources.hub_crawl.update`) reads what changed since
    the prior's Hub time in one listing sorted by ``lastModified``, lists the children of a model the prior listed
    with none only from those changes, lists the children of one it listed with some without ``expand`` (ids
    only) and takes the unchanged records, fetched files and file listings of the prior instead of asking again.
    Its counters add
    ``changes`` (records the change listing returned) and ``records_reused``.
    """

    def __init__(
        self,
        seeds: Sequence[str] = (),
        *,
        author: str | None = None,
        search: str | None = None,
        sort: str | None = None,
        limit: int | None = None,
        endpoint: str | None = None,
        token: str | bool | None = None,
        max_depth: int | None = None,
        max_models: int | None = DEFAULT_MAX_MODELS,
        fetch_files: FetchFiles = "auto",
        state_dir: Path | str | None = None,
        check_bases: bool = False,
        ancestors: bool = False,
        limits: Limits | None = None,
        progress: bool = True,
        token_for_endpoint: bool = False,
        file_commits: bool = False,
        prior: Prior | None = None,
    ) -> None:
        if isinstance(seeds, str):
            seeds = [seeds]
        self.seeds = [_seed_id(r) for r in seeds]
        self.bulk = {k: v for k, v in {"author": author, "search": search, "sort": sort, "limit": limit}.items()
                     if v is not None}
        if self.bulk and not (author or search or limit):
            raise SourceError("a bulk listing needs an author, a search text or a limit")
        if not self.seeds and not self.bulk:
            raise SourceError("nothing to crawl: give seed model ids or a bulk listing (author / search / limit)")
        if fetch_files not in FETCH_FILES:
            raise SourceError(f"fetch_files must be one of {', '.join(FETCH_FILES)}, not {fetch_files!r}")
        if max_depth is not None and max_depth < 0:
            raise SourceError("max_depth must be 0 or more")
        self._endpoint_url = (endpoint or default_endpoint()).rstrip("/")  # may hold credentials: never shown
        self.endpoint = without_credentials(self._endpoint_url)
        self._token = token
        self._token_for_endpoint = token_for_endpoint
        self.max_depth, self.max_models = max_depth, max_models
        self.fetch_files: FetchFiles = fetch_files
        self.state_dir = Path(state_dir) if state_dir is not None else None
        self.check_bases = check_bases
        self.ancestors = ancestors
        self.file_commits = file_commits
        self.limits = limits or Limits()
        self.progress = progress
        self.prior = prior
        self.hub_times: list[str] = []
        """The ``Date`` of the first answer of each run: :attr:`hub_time` is the earliest."""
        self._listed_rows: dict[str, int] = {}  # parent (or NUL + "bulk") -> ids its listing returned
        self.stats: dict[str, int | float] = {}

    @property
    def hub_time(self) -> str | None:
        """When the crawl began by the Hub's clock (the ``Date`` header of its first answer), ISO 8601 in UTC."""
        times = [t for t in (http_date(d) for d in self.hub_times) if t is not None]
        return min(times).isoformat(timespec="seconds") if times else None

    def bulk_arguments(self) -> dict[str, Any]:
        """The bulk listing as ``meta.json`` records it (each key, None when not given)."""
        return {key: self.bulk.get(key) for key in ("author", "search", "sort", "limit")}

    def describe(self) -> str:
        parts = [f"hub crawl of {self.endpoint}"]
        if self.seeds:
            parts.append("seeds " + ", ".join(self.seeds))
        if self.bulk:
            parts.append("listing " + ", ".join(f"{k}={v}" for k, v in self.bulk.items()))
        if self.max_depth is not None:
            parts.append(f"max depth {self.max_depth}")
        return "; ".join(parts)

    def arguments(self) -> dict[str, Any]:
        """The crawl arguments: every argument that shapes what the crawl lists and keeps, under the name of
        its command-line option. Budgets (``max_models`` and the :class:`Limits` bounds other than
        ``max_pages``) are not among them: a crawl a budget stopped resumes with a larger one."""
        return {"--endpoint": self.endpoint, "--seed": sorted(self.seeds), "--author": self.bulk.get("author"),
                "--search": self.bulk.get("search"), "--sort": self.bulk.get("sort"),
                "--limit": self.bulk.get("limit"), "--max-depth": self.max_depth, "--fetch-files": self.fetch_files,
                "--check-bases": self.check_bases, "--ancestors": self.ancestors,
                "--file-commits": self.file_commits, "--max-pages": self.limits.max_pages,
                **({"--update": self.prior.hub_time.isoformat()} if self.prior is not None else {})}

    # -- the crawl --------------------------------------------------------------------------------------------
    def harvest(self) -> Harvest:
        """Run (or resume) the crawl and return its records and references."""
        self.stats = {"requests": 0, "retries_429": 0, "retries_5xx": 0, "retries_other": 0, "models": 0,
                      "parents_listed": 0, "pages": 0, "parents_resumed": 0, "files_fetched": 0, "truncated": 0,
                      "listings_failed": 0, "records_failed": 0, "file_listings": 0, "changes": 0,
                      "records_reused": 0, "seconds": 0.0}
        started = time.monotonic()
        state = CrawlState()
        journal = Journal(self.state_dir, self.limits.max_journal_bytes, self.limits.knob("max_journal_bytes")) \
            if self.state_dir is not None else None
        doing = ["starting"]
        try:
            with HubClient(self._endpoint_url, self._token, self.limits, self.stats,
                           token_for_endpoint=self._token_for_endpoint) as client, \
                    ThreadPoolExecutor(self.limits.steps, thread_name_prefix="crawl") as pool, \
                    self._progress_bar() as bar:
                for line in journal.open(self.arguments()) if journal is not None else []:
                    self._replay(line)
                    state.apply(line)
                self.stats["parents_resumed"] = len(state.listed)
                clocked = [False]

                def record(*lines: _Line) -> list[str]:
                    # Applied one by one (each line's new records depend on the lines before it), written
                    # together (one write; the journal syncs its lines in groups, see crawl_journal).
                    if not clocked[0] and client.first_date is not None:
                        clocked[0] = True
                        lines = ({"kind": "clock", "date": client.first_date}, *lines)
                    kept, fresh = [], []
                    for line in lines:
                        self._replay(line)
                        kept.append(self._only_new(line, state))
                        fresh += state.apply(kept[-1])
                        self.stats["parents_listed"] += line["kind"] == "children" and not line.get("from_changes")
                    if journal is not None:
                        journal.append(*kept)
                    bar.update(state, self.stats)
                    return fresh

                if self.prior is not None and not self.prior.changes_read:
                    doing[0] = "listing the changes since the snapshot"
                    record(self._changes_line(client))
                seeds = [r for r in self.seeds if r not in state.seeds]
                self._run(pool, seeds, lambda r: self._seed_line(client, r), record, state, doing, "reading seed")
                if self.bulk and not state.bulk_done:
                    doing[0] = "running the bulk listing"
                    record(self._bulk_line(client))
                # Without a depth limit a model's depth decides nothing, so its children are listed as soon as
                # they are found; with one, level by level, so that each model is seen first at its depth.
                follow = self.max_depth is None
                while level := self._next_level(state):
                    self._run(pool, level, lambda p: self._children_line(client, p, state), record, state, doing,
                              "listing the children of", follow=follow)
                    if self.stats["truncated"]:
                        break
                if (self.check_bases or self.ancestors) and not self.stats["truncated"]:
                    # One round looks up the bases the records name; with ``ancestors`` the bases' own bases
                    # are looked up in turn, until every chain ends at a root or a missing model.
                    while bases := self._unchecked_bases(state):
                        self._run(pool, bases, lambda b: self._base_line(client, b), record, state, doing,
                                  "checking base")
                        if not self.ancestors or self.stats["truncated"]:
                            break
                if self.file_commits:
                    parents = self._parents_without_file_listing(state)
                    self._run(pool, parents, lambda m: self._file_commits_line(client, state, m), record, state,
                              doing, "reading the file commits of", capped=False)
        except (CrawlStop, JournalFull, HfHubHTTPError, httpx2.HTTPError, OSError) as err:
            self.stats["models"] = len(state.entries)
            self.stats["seconds"] = round(time.monotonic() - started, 3)
            again = ("run the same crawl with a larger --max-journal-bytes to resume" if isinstance(err, JournalFull)
                     else "run the same crawl again to resume")
            kept = (f"completed steps are kept in {journal.path}; {again}"
                    if journal is not None else "no state directory was given, so nothing is kept")
            raise CrawlInterrupted(f"crawl interrupted while {doing[0]}: {first_line(err)}; {kept}",
                                   dict(self.stats)) from err
        finally:
            if journal is not None:
                journal.close()
        out = self._build(state)
        self.stats["models"] = len(out.records)
        self.stats["full_crawl_requests"] = self._full_crawl_requests(state)
        failed = [key.partition(":")[0] for key in state.failed]
        self.stats["listings_failed"] = failed.count("listing")
        self.stats["records_failed"] = failed.count("record") + len(state.entries) - len(out.records)
        self.stats["seconds"] = round(time.monotonic() - started, 3)
        return out

    def _run(self, pool: ThreadPoolExecutor, items: Sequence[str], step: Callable[[str], _Line],
             record: Callable[..., list[str]], state: CrawlState, doing: list[str], verb: str, *,
             follow: bool = False, capped: bool = True) -> None:
        """Run ``step`` on ``items``, ``Limits.steps`` at a time, and record each line as it completes; with
        ``follow``, also on the models each recorded line found that need listing.

        On the first failure no further step starts; the steps in flight finish and are recorded, so the
        journal keeps all the work done, then the failure is raised. ``max_models`` stops new steps too,
        when ``capped`` (steps that add no model are not).
        """
        pending: dict[Future[_Line], str] = {}
        todo = deque(items)
        failure: BaseException | None = None
        while todo or pending:
            while todo and failure is None and len(pending) < self.limits.steps and not (capped and self._full(state)):
                item = todo.popleft()
                pending[pool.submit(step, item)] = item
            if not pending:
                break
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            lines = []
            for future in done:
                item = pending.pop(future)
                try:
                    lines.append(future.result())
                except (CrawlStop, HfHubHTTPError, httpx2.HTTPError, OSError) as err:
                    if failure is None:
                        failure, doing[0] = err, f"{verb} {item}"
            try:
                fresh = record(*lines) if lines else []
            except JournalFull as err:  # nothing more can be kept: let the steps in flight end, then stop
                fresh = []
                if failure is None:
                    failure, doing[0] = err, "writing the journal"
            if follow:
                todo.extend(m for m in fresh if self._to_list(m, state))
        if failure is not None:
            raise failure
        if todo and capped and self._full(state):
            self.stats["truncated"] = 1

    def _full(self, state: CrawlState) -> bool:
        return self.max_models is not None and len(state.entries) >= self.max_models

    def _only_new(self, line: _Line, state: CrawlState) -> _Line:
        """``line`` with the records the state already holds left out (two listings of one level can both
        return a model of two parents), and cut at ``max_models`` (the listing is then not complete)."""
        records = [e for e in line.get("records", []) if e["row"]["id"] not in state.entries]
        if line.get("kind") == "children" and line.get("complete") is False and not line.get("failed"):
            # Cut by the max_models budget (its rows may all be known already): listing it again would be cut
            # again, so the crawl stops here, partial, instead of listing the parent forever.
            self.stats["truncated"] = 1
        if self.max_models is not None and len(state.entries) + len(records) > self.max_models:
            records = records[:max(0, self.max_models - len(state.entries))]
            kept = {e["row"]["id"] for e in records}
            ids = line.get("ids", [])
            last = max((i for i, model_id in enumerate(ids) if model_id in kept), default=-1)
            line = {**line, "ids": ids[:last + 1], "complete": False}
            self.stats["truncated"] = 1
        return {**line, "records": records}

    def _next_level(self, state: CrawlState) -> list[str]:
        """The models of the smallest depth that still need listing, in discovery order."""
        todo = [m for m in state.order if self._to_list(m, state)]
        if not todo:
            return []
        depth = min(state.depth[m] for m in todo)
        return [m for m in todo if state.depth[m] == depth]

    def _to_list(self, model_id: str, state: CrawlState) -> bool:
        depth = state.depth.get(model_id)
        return (depth is not None and model_id not in state.listed
                and (self.max_depth is None or depth < self.max_depth))

    # -- steps: each returns one journal line -----------------------------------------------------------------
    def _seed_line(self, client: HubClient, root: str) -> _Line:
        row, missing, problem = self._model_info(client, root)
        line: _Line = {"kind": "seed", "root": root, "missing": missing,
                       "records": [self._entry(client, row, "alone")] if row is not None else []}
        if problem:  # unreadable, but it may have children: list it under the name given
            line.update(ids=[root], problems=[problem], failed=True)
        return line

    def _base_line(self, client: HubClient, base: str) -> _Line:
        row, missing, problem = self._model_info(client, base)
        line: _Line = {"kind": "base", "id": base, "missing": missing,
                       "records": [self._entry(client, row, "alone")] if row is not None else []}
        if problem:
            line.update(problems=[problem], failed=True)
        return line

    def _file_commits_line(self, client: HubClient, state: CrawlState, model_id: str) -> _Line:
        """The file listing of one model (module docstring): its entries as the Hub gave them."""
        row = state.entries[model_id]["row"]
        sha = row.get("sha")
        revision = sha if isinstance(sha, str) and COMMIT_SHA.match(sha) else "main"
        before = self.prior.file_commits.get(model_id) if self.prior is not None else None
        if before is not None and revision != "main" and before.get("revision") == revision:
            return dict(before)  # the same commit: the same files
        paths = [s["rfilename"] for s in row.get("siblings") or []
                 if isinstance(s, Mapping) and isinstance(s.get("rfilename"), str)]
        where = f"{self.endpoint}/api/models/{model_id}"
        entries: list[Any] = []
        problems: list[list[Any]] = []
        try:
            if paths:
                for at in range(0, len(paths), PATHS_PER_REQUEST):
                    entries += client.paths_info(model_id, revision, paths[at:at + PATHS_PER_REQUEST])
            else:
                listing = client.list_tree(model_id, revision)
                entries = listing.rows
                problems += [[where, model_id, message] for message in listing.problems]
        except (RepositoryNotFoundError, DisabledRepoError, RevisionNotFoundError) as err:  # gated is a subclass
            problems.append([where, model_id, f"file listing not read: {first_line(err)}"])
        except BadReply as err:
            problems.append([where, model_id, f"file listing not read: {err}"])
        with _counting(self.stats) as count:
            count["file_listings"] += 1
        return {"kind": "file_commits", "id": model_id, "revision": revision, "entries": entries,
                "problems": problems}

    def _parents_without_file_listing(self, state: CrawlState) -> list[str]:
        """The crawled models that some record names as a base, whose file listing is not read yet."""
        have = IdLookup(state.entries)
        parents = {known for ref in self._build(state).references
                   if (base := _base_id(ref.raw)) and (known := have.canonical(base))}
        return sorted(parents - set(state.file_commits))

    def _bulk_line(self, client: HubClient) -> _Line:
        params = [(key, str(value)) for key, value in self.bulk.items() if key != "sort"]
        if "sort" in self.bulk:
            params.append(("sort", _SORT_KEYS.get(str(self.bulk["sort"]), str(self.bulk["sort"]))))
        limit = self.bulk.get("limit")
        # An update lists ids only, unless a limit makes the listing's order decide what it holds.
        ids_only = self.prior is not None and limit is None
        return {"kind": "bulk", "query": self.bulk,
                **self._listing(client, params, "bulk listing", int(limit) if limit is not None else None, "bulk",
                                ids_only=ids_only)}

    # -- an update (``prior``) ----------------------------------------------------------------------------------
    def _replay(self, line: Mapping[str, Any]) -> None:
        """Take in the lines :class:`CrawlState` does not know: the Hub's clock and an update's changes."""
        if line.get("kind") in ("children", "bulk"):
            self._listed_rows[str(line.get("parent", "\0bulk"))] = len(line.get("ids") or [])
        if line.get("kind") == "clock" and isinstance(line.get("date"), str):
            self.hub_times.append(line["date"])
        elif line.get("kind") == "changes" and self.prior is not None:
            self.prior.changes = {row["id"]: row for row in line.get("rows") or []}
            self.prior.changes_read = True
            self.stats["changes"] = len(self.prior.changes)

    def _changes_scope(self) -> list[tuple[str, str]] | None:
        """The query of the change listing: the whole Hub when the crawl follows children (a descendant may
        appear anywhere), the bulk listing's author / search when it is all there is; None when a bulk listing
        with a limit is all there is (it is read again in full, as its order decides what it holds)."""
        if self.seeds or self.max_depth != 0:
            return []
        if "limit" in self.bulk:
            return None
        return [(key, str(self.bulk[key])) for key in ("author", "search") if key in self.bulk]

    def _changes_line(self, client: HubClient) -> _Line:
        """Every record of the scope modified since the prior's Hub time less :data:`UPDATE_MARGIN`: the listing
        sorted by ``lastModified``, newest first, read up to the first older record."""
        assert self.prior is not None
        scope = self._changes_scope()
        if scope is None:
            return {"kind": "changes", "rows": []}
        since = self.prior.since
        params = [*scope, ("sort", "lastModified"), *(("expand", e) for e in EXPAND)]
        try:
            listing = client.list_models(params, older=lambda row: modified_before(row, since))
        except BadReply as err:
            raise CrawlStop(f"the listing of changes could not be read: {err}") from None
        if listing.ended_early:
            raise CrawlStop("the listing of changes could not be read in full: " + "; ".join(listing.problems))
        with _counting(self.stats) as count:
            count["pages"] += listing.pages
        return {"kind": "changes", "since": since.isoformat(), "rows": listing.rows}

    def _current_row(self, client: HubClient, model_id: str) -> dict[str, Any] | None:
        """An update's record of a model a listing without ``expand`` returned: the changed one, else the
        prior's (not modified since), else read now (None when the Hub does not serve it)."""
        assert self.prior is not None
        if model_id in self.prior.changes:
            return self.prior.changes[model_id]
        before = self.prior.entries.get(model_id)
        if before is not None:
            with _counting(self.stats) as count:
                count["records_reused"] += 1
            return dict(before["row"])
        row, _, _ = self._model_info(client, model_id)
        return row

    def _full_crawl_requests(self, state: CrawlState) -> int:
        """About what a fresh crawl giving this state sends without faults: each seed and checked base, the
        pages of each listing (at the largest page the server gave, else the Hub's 1,000), every file fetched
        and one request per file listing."""
        page = int(self.stats.get("page_rows") or 0) or 1000
        listings = sum(max(1, -(-rows // page)) for key, rows in self._listed_rows.items()
                       if key in state.listed or key == "\0bulk")
        files = sum(len(entry.get("files") or {}) for entry in state.entries.values())
        return len(state.seeds) + listings + len(state.bases) + files + len(state.file_commits)

    def _children_line(self, client: HubClient, parent: str, state: CrawlState) -> _Line:
        budget = None if self.max_models is None else max(1, self.max_models - len(state.entries))
        before = self.prior.children.get(parent) if self.prior is not None else None
        if before is not None and not before:  # listed with no children: any child it has now is a change
            tag = f"base_model:{parent}"
            rows = [row for row in self.prior.changes.values() if tag in (row.get("tags") or [])]  # type: ignore[union-attr]
            records = [self._entry(client, row, "child") for row in rows if row["id"] not in state.entries]
            return {"kind": "children", "parent": parent, "ids": [row["id"] for row in rows], "records": records,
                    "complete": True, "problems": [], "from_changes": True}
        line = self._listing(client, [("filter", f"base_model:{parent}")], parent, budget, "child", state.entries,
                             ids_only=before is not None)
        return {"kind": "children", "parent": parent, **line}

    def _listing(self, client: HubClient, params: list[tuple[str, str]], what: str, max_rows: int | None,
                 read: _Read, known: Mapping[str, Any] | None = None, *, ids_only: bool = False) -> _Line:
        """One listing: ids, entries of the models not ``known``, completeness and problems. ``ids_only``
        (an update): the listing without ``expand``, each record then taken from the changes or the prior."""
        where = f"{self.endpoint}/api/models?{'&'.join(f'{k}={v}' for k, v in params)}"
        try:
            listing = client.list_models([*params, *(() if ids_only else (("expand", e) for e in EXPAND))],
                                         max_rows=max_rows)
        except BadReply as err:
            return {"ids": [], "records": [], "complete": True, "failed": True,
                    "problems": [[where, None, f"listing of {what} not read: {err}"]]}
        with _counting(self.stats) as count:
            count["pages"] += listing.pages
        known = known or {}
        rows = listing.rows
        if ids_only:
            rows = [row for row in (self._current_row(client, r["id"]) for r in rows if r["id"] not in known)
                    if row is not None]
        records = [self._entry(client, row, read) for row in rows if row["id"] not in known]
        line = {"ids": [row["id"] for row in listing.rows], "records": records, "complete": listing.complete,
                "problems": [[where, None, message] for message in listing.problems]}
        if listing.ended_early:
            line["failed"] = True
        return line

    def _model_info(self, client: HubClient, model_id: str) -> tuple[dict[str, Any] | None, str | None,
                                                                      list[Any] | None]:
        """The record of ``model_id``; a repo the Hub does not serve gives (None, dangling reason, None), an
        unusable reply (None, None, problem)."""
        try:
            return client.model_info(model_id, EXPAND), None, None
        except GatedRepoError:  # a subclass of RepositoryNotFoundError: test it first
            return None, DanglingReason.GATED.value, None
        except RepositoryNotFoundError:
            return None, DanglingReason.NOT_FOUND.value, None
        except DisabledRepoError:
            return None, DanglingReason.DISABLED.value, None
        except BadReply as err:
            return None, None, [f"{self.endpoint}/api/models/{model_id}", model_id, f"record not read: {err}"]

    # -- files ------------------------------------------------------------------------------------------------
    def _entry(self, client: HubClient, row: dict[str, Any], read: _Read) -> dict[str, Any]:
        """A journal entry for one record: the row and the results of the files fetched for it. ``read``:
        how the record was read (by itself: a seed or a base; in a child listing; in the bulk listing)."""
        before = self.prior.entries.get(str(row["id"])) if self.prior is not None else None
        same = before is not None and same_commit(before["row"], row)
        kept: Mapping[str, Any] = before.get("files") or {} if same and before is not None else {}
        return {"row": row, "files": {name: kept.get(name) or self._fetch(client, row, name)
                                      for name in self._wanted_files(row, read)}}

    def _wanted_files(self, row: Mapping[str, Any], read: _Read) -> list[str]:
        if self.fetch_files == "never" or (self.fetch_files == "auto" and read == "bulk"):
            return []  # auto: a bulk listing stays at one request per page
        card = row.get("cardData")
        # A quantizer's card copies the original's base_model; its prose names the true parent (relations.py).
        quantizer_card = isinstance(card, Mapping) and "quantized_by" in card
        if self.fetch_files == "auto" and read == "child" and not quantizer_card:
            return []
        try:
            record, refs = extract.record_from_api(row, "")
        except (ValueError, TypeError, RecursionError):  # a bad record: a problem row when it is built
            return []
        files = set(record.files)
        names_a_base = any(r.kind in _LINEAGE_KINDS for r in refs)
        if self.fetch_files == "auto":
            if quantizer_card:
                return [extract.CARD] if extract.CARD in files else []
            if names_a_base:
                return []
        wanted = []
        if extract.ADAPTER_CONFIG in files:
            wanted.append(extract.ADAPTER_CONFIG)
        if extract.CONFIG in files and not names_a_base:
            wanted.append(extract.CONFIG)
        if extract.CARD in files and (not isinstance(card, Mapping) or quantizer_card):
            wanted.append(extract.CARD)
        return wanted

    def _fetch(self, client: HubClient, row: Mapping[str, Any], name: str) -> dict[str, Any]:
        """Download one small file (see :meth:`HubClient.get_file`) at the listed commit, else ``main``."""
        sha = row.get("sha")
        revision = sha if isinstance(sha, str) and COMMIT_SHA.match(sha) else "main"
        with _counting(self.stats) as count:
            count["files_fetched"] += 1
        return client.get_file(str(row["id"]), revision, name, MAX_FILE_BYTES)

    def _build(self, state: CrawlState) -> Harvest:
        """The harvest of the crawl state: every record through ``record_from_api``, plus fetched files."""
        out = Harvest(sources=[self.describe()])
        # Sorted, so that the harvest does not depend on the order in which concurrent listings completed.
        for model_id in sorted(state.entries):
            entry = state.entries[model_id]
            source = f"{self.endpoint}/api/models/{model_id}"
            try:
                record, refs = extract.record_from_api(entry["row"], source)
            except (ValueError, TypeError, RecursionError) as err:  # one bad record costs only that record
                out.problems.append(Problem(source, model_id, f"record not read: {first_line(err)}"))
                continue
            refs += self._apply_files(record, entry.get("files", {}), out.problems)
            if model_id in state.file_commits:
                revision, entries = state.file_commits[model_id]
                out.files += extract.files_from_entries(model_id, entries, f"{source}/paths-info/{revision}")
            out.records.append(record)
            out.references.extend(refs)
            out.known_ids.add(record.id)
        for seed, missing in state.seeds.items():
            if missing:
                ref = Reference(seed, seed, EvidenceKind.MODEL_TREE, "crawl:seed", f"{self.endpoint}/api/models/{seed}")
                out.dangling.append((ref, DanglingReason(missing)))
        dead = {base: DanglingReason(reason) for base, reason in state.bases.items() if reason}
        if dead:
            kept = []
            for ref in out.references:
                reason = dead.get(id_key(_base_id(ref.raw) or ""))
                if reason is None:
                    kept.append(ref)
                else:
                    out.dangling.append((ref, reason))
            out.references = kept
        out.problems += [Problem(source, model, message) for source, model, message in sorted(state.problems,
                                                                                         key=str)]
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
                                        .format(name=name, size=result.get("size"), limit=MAX_FILE_BYTES,
                                                reason=result.get("reason"))))
                continue
            text = str(result.get("text", ""))
            if name == extract.CARD:
                try:
                    card = extract.card_metadata(text)  # read within ptmgraph.reader's bounds
                except extract.CardError as err:
                    problems.append(Problem(where, record.id, f"model card: {err}"))
                    continue
                if card is not None:
                    extract.apply_card(record, card)
                    refs += extract.references_from_card(record.id, card, where)
                refs += extract.references_from_card_text(record.id, text, card, where)
                continue
            data = reader.json_object(text, where, model=record.id)
            if isinstance(data, Problem):
                problems.append(Problem(where, record.id, f"{name}: {data.message}"))
                continue
            if name == extract.ADAPTER_CONFIG:
                refs += extract.references_from_adapter_config(record.id, data, where)
            elif name == extract.CONFIG:
                refs += extract.references_from_config(record.id, data, where)
                if record.model_type is None and isinstance(data.get("model_type"), str):
                    record.model_type = data["model_type"]
                if isinstance(data.get("quantization_config"), Mapping):
                    record.quantization = extract.quantization_hint(record, data)
                record.code_files = sorted(set(record.code_files) | set(extract.code_files(record, data)))
        return refs

    def _unchecked_bases(self, state: CrawlState) -> list[str]:
        """Ids the crawled records name as a base, that the crawl has no record of and has not checked yet."""
        have = IdLookup(state.entries)
        found: dict[str, str] = {}
        for ref in self._build(state).references:
            base = _base_id(ref.raw)
            if base and base not in have and id_key(base) not in state.bases:
                found.setdefault(id_key(base), base)
        return sorted(found.values())

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
    "refused": "{name}: {reason}",
}

# HfApi.list_models' names for the listing's sort keys, and the API's.
_SORT_KEYS = {"created_at": "createdAt", "last_modified": "lastModified", "trending_score": "trendingScore"}


@contextlib.contextmanager
def _counting(stats: dict[str, int | float]) -> Iterator[dict[str, int | float]]:
    """``stats`` for counting from a worker thread (one counter update at a time)."""
    with _STATS_LOCK:
        yield stats


_STATS_LOCK = threading.Lock()


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

    def update(self, state: CrawlState, stats: Mapping[str, int | float]) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        self.progress.update(self.task, completed=len(state.listed), total=len(state.depth),
                             models=len(state.entries), requests=stats["requests"],
                             rate=stats["requests"] / elapsed)


def _seed_id(raw: str) -> str:
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
