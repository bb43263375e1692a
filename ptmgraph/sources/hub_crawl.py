"""Crawl or update a Hub snapshot: run a :class:`~ptmgraph.sources.hub_api.HubCrawl`, then assemble and save it."""

from __future__ import annotations

import gzip
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ptmgraph import assemble, snapshot
from ptmgraph.records import HarvestTables
from ptmgraph.sources.crawl_journal import JOURNAL_NAME, StateDirectory
from ptmgraph.sources.hub_api import (
    DEFAULT_MAX_MODELS,
    FETCH_FILES,
    FetchFiles,
    HubCrawl,
    Limits,
)
from ptmgraph.sources.hub_prior import CRAWL_JOURNAL, Prior
from ptmgraph.sources.interface import SourceError


@dataclass(frozen=True)
class CrawlResult:
    """What :func:`crawl` produced: the snapshot directory, the run's counters and the state directory.

    ``complete``: no listing or record failed and ``max_models`` did not stop the crawl (see ``stats``:
    ``listings_failed``, ``records_failed``, ``truncated``); otherwise the snapshot is a *partial* result.
    ``state_kept``: the state directory is still there (``keep_state``, a crawl stopped by ``max_models``
    keeps it for resuming, or it held files the crawl did not write).
    """

    snapshot: Path
    stats: dict[str, int | float]
    state_dir: Path
    complete: bool = True
    state_kept: bool = False


def crawl(
    seeds: Sequence[str],
    out_dir: Path | str,
    *,
    endpoint: str | None = None,
    token: str | bool | None = None,
    max_depth: int | None = None,
    fetch_files: FetchFiles = "auto",
    state_dir: Path | str | None = None,
    progress: bool = True,
    max_models: int | None = DEFAULT_MAX_MODELS,
    check_bases: bool = False,
    ancestors: bool = False,
    keep_state: bool = False,
    author: str | None = None,
    search: str | None = None,
    sort: str | None = None,
    limit: int | None = None,
    limits: Limits | None = None,
    token_for_endpoint: bool = False,
    file_commits: bool = False,
) -> CrawlResult:
    """Crawl the descendants of ``seeds`` (and of a bulk listing), assemble them and save the snapshot.

    ``state_dir`` defaults to ``<out_dir>.crawl`` next to the snapshot; it must not be the snapshot directory,
    nor hold it or lie inside it, and is used only as :class:`~ptmgraph.sources.crawl_journal.StateDirectory`
    allows (a new or empty directory, or one a crawl marked). An interrupted crawl raises
    :class:`CrawlInterrupted` and keeps its journal there; calling ``crawl`` again with the same arguments
    resumes it. Once the snapshot is saved (atomically), what the crawl wrote in the state directory is
    removed, unless ``keep_state`` or the crawl was stopped by ``max_models`` (kept, so that a larger bound
    resumes it). Other arguments are those of :class:`HubCrawl`; the token and credentials are never logged or
    stored. The snapshot keeps the crawl's journal (:data:`CRAWL_JOURNAL`) and its Hub time, from which
    :func:`update` refreshes it.
    """
    out = Path(out_dir)
    state = Path(state_dir) if state_dir is not None else out.with_name(out.name + ".crawl")
    _check_apart(state, out)
    source = HubCrawl(seeds, author=author, search=search, sort=sort, limit=limit, endpoint=endpoint, token=token,
                      max_depth=max_depth, max_models=max_models, fetch_files=fetch_files, state_dir=state,
                      check_bases=check_bases, ancestors=ancestors, limits=limits, progress=progress,
                      token_for_endpoint=token_for_endpoint, file_commits=file_commits)
    return _crawl_and_save(source, out, state, keep_state)


def update(
    snapshot_dir: Path | str,
    out_dir: Path | str | None = None,
    *,
    endpoint: str | None = None,
    token: str | bool | None = None,
    state_dir: Path | str | None = None,
    progress: bool = True,
    max_models: int | None = DEFAULT_MAX_MODELS,
    keep_state: bool = False,
    limits: Limits | None = None,
    token_for_endpoint: bool = False,
) -> CrawlResult:
    """Refresh the crawl snapshot in ``snapshot_dir`` with what changed on the Hub since it was made, and save
    the result to ``out_dir`` (default: ``snapshot_dir`` itself, as a new generation, atomically).

    The crawl runs again with the arguments the snapshot's journal records (seeds, bulk listing, depth, fetch
    policy, ...), as a :class:`HubCrawl` with that journal as its :class:`Prior`: one listing sorted by
    ``lastModified`` (newest first; the whole Hub when children are followed, else the bulk listing's author
    or search) read back to the snapshot's Hub time less :data:`UPDATE_MARGIN` gives every record created
    or modified since; a model the snapshot listed with no children gets as children the changed records
    tagged ``base_model:`` it (no request); a model it listed with children is listed again without
    ``expand`` (ids only: a child missing from it was deleted, made private or disabled, or no longer names
    it); seeds and checked bases are read again (a 404 is a removal); a model new to the crawl is listed in
    full; files and file listings are fetched again only for a record whose commit (``sha``) changed.

    The result equals a fresh crawl of the same seeds at the same moment in every table, except the counters
    (downloads, likes) of records not modified since: the Hub moves them without moving ``lastModified``,
    and the update keeps the snapshot's. The Hub read is ``endpoint``, else ``HF_ENDPOINT``, else the endpoint
    the snapshot was crawled from (a mirror of the same Hub, or the same Hub at another address). Other
    arguments as :func:`crawl`; :class:`SourceError` names a snapshot that cannot be updated.
    """
    given = Path(snapshot_dir)
    prior = Prior.of_snapshot(given)
    a = prior.arguments
    endpoint = endpoint or os.environ.get("HF_ENDPOINT") or str(a.get("--endpoint") or "") or None
    out = Path(out_dir) if out_dir is not None else given
    state = Path(state_dir) if state_dir is not None else out.with_name(out.name + ".crawl")
    _check_apart(state, out)
    limits = limits or Limits()
    if isinstance(a.get("--max-pages"), int):
        limits = replace(limits, max_pages=a["--max-pages"])
    fetch = str(a.get("--fetch-files") or "auto")
    source = HubCrawl(list(a.get("--seed") or []), author=a.get("--author"), search=a.get("--search"),
                      sort=a.get("--sort"), limit=a.get("--limit"), endpoint=endpoint, token=token,
                      max_depth=a.get("--max-depth"), max_models=max_models,
                      fetch_files=fetch if fetch in FETCH_FILES else "auto",  # type: ignore[arg-type]
                      state_dir=state, check_bases=bool(a.get("--check-bases")), ancestors=bool(a.get("--ancestors")),
                      limits=limits, progress=progress, token_for_endpoint=token_for_endpoint,
                      file_commits=bool(a.get("--file-commits")), prior=prior)
    return _crawl_and_save(source, out, state, keep_state)


def _crawl_and_save(source: HubCrawl, out: Path, state: Path, keep_state: bool) -> CrawlResult:
    """Run ``source``, assemble and save its snapshot with its journal, and clean up the state directory."""
    harvest = source.harvest()
    stats = dict(source.stats)
    complete = not (stats["truncated"] or stats["listings_failed"] or stats["records_failed"])
    crawled: dict[str, Any] = {
        "endpoint": source.endpoint, "seeds": source.seeds, **source.bulk_arguments(),
        "max_depth": source.max_depth, "max_models": source.max_models, "fetch_files": source.fetch_files,
        "file_commits": source.file_commits, "check_bases": source.check_bases, "ancestors": source.ancestors,
        "max_pages": source.limits.max_pages, "hub_time": source.hub_time, "complete": complete, "stats": stats}
    if source.prior is not None:
        crawled["update"] = {"of": source.prior.hub_time.isoformat(timespec="seconds"),
                             "since": source.prior.since.isoformat(timespec="seconds"),
                             "requests": stats["requests"],
                             "full_crawl_requests": stats["full_crawl_requests"]}
    packed = _packed_journal(state / JOURNAL_NAME, out)
    try:
        assemble.build_snapshot(HarvestTables.of(harvest), out, {"crawl": crawled},
                                {CRAWL_JOURNAL: packed} if packed is not None else None)
        path = out
    finally:
        if packed is not None:
            packed.unlink(missing_ok=True)
    kept = keep_state or bool(stats["truncated"]) or not StateDirectory(state).remove()
    return CrawlResult(snapshot=path, stats=stats, state_dir=state, complete=complete, state_kept=kept)


def _packed_journal(journal: Path, out: Path) -> Path | None:
    """The journal gzipped into a temporary file beside ``out`` (None when there is no journal)."""
    if not journal.is_file():
        return None
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{out.name}.journal-", suffix=".gz", dir=out.parent)
    except OSError as err:
        raise snapshot.SnapshotError(f"{out}: cannot write the snapshot ({err.strerror or err})") from None
    try:
        with os.fdopen(fd, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as packed, \
                journal.open("rb") as source:
            shutil.copyfileobj(source, packed)
    except OSError as err:
        Path(name).unlink(missing_ok=True)
        raise snapshot.SnapshotError(f"{out}: cannot write the snapshot ({err.strerror or err})") from None
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


def _check_apart(state: Path, out: Path) -> None:
    """Refuse a state directory that is the snapshot directory, holds it or lies inside it."""
    state_at, out_at = Path(os.path.realpath(state)), Path(os.path.realpath(out))
    if state_at == out_at or state_at in out_at.parents or out_at in state_at.parents:
        raise SourceError(f"{state}: the state directory must be apart from the snapshot directory {out} "
                          "(not the same, not inside it, not holding it); give another --state-dir")
