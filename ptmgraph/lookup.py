"""Live look-up: answer a question about a model the snapshot has no record of, from the Hub.

A source-side piece, wired by the command line (never imported by an analysis). Definitions:

- *covered*: the snapshot holds a record of the model (``has_record``); a model it does not hold, or knows
  only from references to it, is *uncovered* (:func:`uncovered`).
- *what a question needs*: ``ancestors`` (``ancestry``, ``info``, ``check``, ``why``): the models named and their
  bases up to the roots, one record request per hop (``crawl --seed M --ancestors --max-depth 0``);
  ``descendants`` (``impact``, ``risk``): the models named and every descendant, at most ``max_models``
  of them (``crawl --seed M --max-models N``). Both go through :func:`ptmgraph.sources.hub_crawl.crawl`, the
  ``crawl`` command's own code: its record rules, client, pacing, retries, journal (resumable) and token
  rule (``HF_TOKEN`` to the endpoint; the ``huggingface_hub`` login only to the Hub's own origins).
- *the cache*: one *entry* per endpoint, need and set of models asked about together, kept as
  :mod:`ptmgraph.lookup_cache` says (where, its layout, its bounds, its locks). An answer is *fresh* while
  younger than ``max_age`` (default a day), and reused then without a request; an older one is fetched
  again (a fresh journal). A descendants answer cut by a smaller ``max_models`` than the one asked is
  fetched again, resuming the kept journal. Whenever a look-up writes an entry, the cache is pruned to its
  bounds (:func:`ptmgraph.lookup_cache.prune`).
- *concurrency*: a look-up that fetches holds its entry's lock exclusively from its check of the cache to
  its answer; one that answers from the cache holds it shared. Another look-up of the same models waits for
  it (at most :data:`LOCK_WAIT`, saying so on stderr), then answers from what the first one cached.
- *offline*: ``--offline`` or ``HF_HUB_OFFLINE`` set to a true value: no request at all; a cached answer of
  any age is used, saying how old it is.
- *bounds*: connect 5 s, read 10 s, each request at most 15 s with its retries (4 tries), the whole look-up
  at most 10 minutes; ``PTMGRAPH_LOOKUP_TIMEOUT`` (seconds) lowers or raises the 15 s (and the others with
  it when lower). A server that does not answer, answers 5xx or refuses connections costs at most that. A
  message about a bound names what the user changes: ``PTMGRAPH_LOOKUP_TIMEOUT``, or, for the look-up's own
  fixed bounds, the ``crawl`` option that goes further (``Limits.knobs``), never a crawl option as if the
  look-up command took it.

When the answer cannot be fetched (offline, an absent, failing or slow server) and the snapshot does not
know the model at all, :class:`NotCovered` says what the snapshot covers (its sources, date and seeds) and
the ``ptmgraph crawl`` command that gets the model: an unknown model, exit 2.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ptmgraph.declaration import DEFAULT_MAX_AGE, DEFAULT_MAX_MODELS  # declared with the look-up options
from ptmgraph.lookup_cache import (
    LOCK,
    STATE,
    CacheBounds,
    HeldLock,
    age_text,
    cache_bounds,
    entry_dir,
    lock_file,
    prune,
    stored,
    written_time,
)
from ptmgraph.lookup_cache import LookupRefused as LookupRefused  # raised here too
from ptmgraph.lookup_cache import cache_root as cache_root  # where its callers look for it
from ptmgraph.lookup_cache import parse_age as parse_age  # --max-age

if TYPE_CHECKING:
    from ptmgraph.graph import LineageGraph

# The command line imports this module for its options (--help included): the cheapest of the standard
# library only here; the rest is imported when a model is missing.

Need = Literal["ancestors", "descendants"]

REQUEST_DEADLINE = 15.0
"""Seconds one request may take, its tries included (``PTMGRAPH_LOOKUP_TIMEOUT`` changes it)."""
TIMEOUT_VARIABLE = "PTMGRAPH_LOOKUP_TIMEOUT"
LOOKUP_DEADLINE = 600.0
"""Seconds a whole look-up may take."""
LOCK_WAIT = LOOKUP_DEADLINE + 60.0
"""Seconds a look-up waits for another process's look-up of the same models (which takes at most
:data:`LOOKUP_DEADLINE`)."""
_TRUE = frozenset({"1", "true", "yes", "on"})


class NotCovered(LookupError):
    """A model the snapshot does not hold and no look-up could fetch: an unknown model (exit 2), with what
    the snapshot covers and how to crawl the model."""


@dataclass(frozen=True)
class LookupOptions:
    """How a query may look models up: ``offline`` (no request), ``max_age`` (text, see :func:`parse_age`),
    ``max_models`` (a descendants look-up's bound)."""

    offline: bool = False
    max_age: str = DEFAULT_MAX_AGE
    max_models: int = DEFAULT_MAX_MODELS


@dataclass(frozen=True)
class Found:
    """Where a question is answered: ``path``, the look-up cache's snapshot (None: the snapshot queried,
    which knows the models from references), and ``note``, the line that says where and how old. ``hold``
    keeps the cache entry's lock until the answer's snapshot is opened (and so pinned): keep the object
    until then."""

    path: Path | None
    note: str
    hold: Any = field(default=None, compare=False, repr=False)


def is_offline(options: LookupOptions) -> str | None:
    """Why no request may be made (``--offline``, ``HF_HUB_OFFLINE=1``), or None."""
    if options.offline:
        return "--offline"
    return hub_offline()


def hub_offline() -> str | None:
    """``HF_HUB_OFFLINE=VALUE`` when that variable is set to a true value (1, true, yes, on: as
    huggingface_hub reads it), which forbids any request to the Hub; else None."""
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _TRUE:
        return f"HF_HUB_OFFLINE={os.environ['HF_HUB_OFFLINE']}"
    return None


def uncovered(lg: LineageGraph, models: Sequence[str]) -> list[str]:
    """The models named that ``lg``'s snapshot has no record of (unknown, or known only as references)."""
    from ptmgraph.graph import UnknownModelError

    missing = []
    for model in models:
        try:
            found = lg.resolve(model)
        except UnknownModelError:
            missing.append(model)
            continue
        position = lg.compact.position(found)
        if position >= lg.compact.rows or lg.nodes_at([position], ["has_record"])["has_record"][0] is not True:
            missing.append(model)
    return missing


def crawl_command(models: Sequence[str], need: Need, max_models: int = DEFAULT_MAX_MODELS) -> str:
    """The ``ptmgraph crawl`` command that writes what a question about ``models`` needs to ``DIR``."""
    import shlex

    seeds = " ".join(f"--seed {shlex.quote(m)}" for m in models)
    bound = "--ancestors --max-depth 0" if need == "ancestors" else f"--max-models {max_models}"
    return f"ptmgraph crawl {seeds} {bound} --out DIR"


def coverage(meta: Mapping[str, Any], where: str) -> str:
    """What a snapshot covers, from its ``meta.json``: its sources, date and seeds."""
    sources = "; ".join(str(s) for s in meta.get("sources") or []) or "no sources recorded"
    crawl = meta.get("crawl")
    if isinstance(crawl, Mapping):
        seeds = [*(crawl.get("seeds") or crawl.get("roots") or []),
                 *(f"{key} {crawl[key]}" for key in ("author", "search") if crawl.get(key))]
        seeded = ", ".join(str(s) for s in seeds) or "none"
    else:
        seeded = "none (ingested, not crawled)"
    return f"the snapshot {where} covers {sources} (written {meta.get('written_at') or 'at an unknown time'}; " \
           f"seeds: {seeded})"


def look_up(lg: LineageGraph, where: str, models: Sequence[str], missing: Sequence[str], need: Need,
            options: LookupOptions) -> Found | None:
    """Where a question about ``models`` is answered, ``missing`` of them not covered by ``lg`` (the snapshot
    at ``where``): the look-up cache's snapshot, fetched now or reused while fresh (module docstring).

    None when a model named is not a Hub id: the question stays with ``lg``. ``Found.path`` is None when no
    look-up can be made (or the endpoint does not serve a model) and ``lg`` knows every model missing from
    references (its answer says it has no record). Raises :class:`NotCovered` when it does not know one,
    :class:`LookupRefused` for a cache in huggingface_hub's folders or a bad ``PTMGRAPH_LOOKUP_TIMEOUT``,
    ``PTMGRAPH_CACHE_MAX_AGE`` or ``PTMGRAPH_CACHE_MAX_SIZE``.
    """
    from ptmgraph.ids import normalize_reference

    ids = [normalize_reference(m).id for m in models]
    if not all(ids):
        return None
    asked = sorted({str(i) for i in ids}, key=str.lower)
    offline = is_offline(options)
    if offline:  # huggingface_hub, imported next (the endpoint and its credentials), then sends nothing either
        os.environ["HF_HUB_OFFLINE"] = "1"
    from ptmgraph.sources import (
        hub_api,  # first: it turns huggingface_hub's telemetry (a request) off before import
        hub_crawl,
    )
    from ptmgraph.sources.hub_http import without_credentials

    endpoint = without_credentials(hub_api.default_endpoint())
    directory = entry_dir(endpoint, need, asked)
    lock = directory.with_name(directory.name + LOCK)
    max_age = parse_age(options.max_age)
    unavailable = _Unavailable(lg, where, missing, need, options)

    def waiting() -> None:
        import sys

        sys.stderr.write(f"ptmgraph: waiting for another ptmgraph look-up of {', '.join(asked)} ({lock})\n")

    def fresh(meta: Mapping[str, Any] | None) -> bool:
        age = _age(meta)
        return meta is not None and age is not None and age <= max_age and (
            need == "ancestors" or not _cut(meta) or _bound(meta) >= options.max_models)

    def cached(meta: Mapping[str, Any], held: HeldLock, why: str = "") -> Found:
        age = _age(meta)
        stale = "" if age is not None and age <= max_age else f", older than --max-age {options.max_age}"
        return _found(directory, meta, missing, need, unavailable, held, f"from the look-up cache {directory}: "
                      f"fetched from {endpoint} {age_text(age)}{stale}{why}")

    busy = f"another ptmgraph process has held the look-up of {', '.join(asked)} for over {LOCK_WAIT:.0f} s ({lock})"
    meta = stored(directory)
    if meta is not None and (offline or fresh(meta)):
        held = lock_file(lock, exclusive=False, wait=LOCK_WAIT, waiting=waiting)
        if held is None:
            return unavailable(busy)
        meta = stored(directory)  # as the look-up that held the lock, if any, left it
        if meta is not None and (offline or fresh(meta)):
            return cached(meta, held, f" (offline: {offline})" if offline else "")
        held.release()
    if offline:
        return unavailable(f"not looked up: offline ({offline})")
    bounds = cache_bounds()  # a bad bound is refused before any request
    directory.parent.mkdir(parents=True, exist_ok=True)
    held = lock_file(lock, exclusive=True, wait=LOCK_WAIT, waiting=waiting)
    if held is None:
        return unavailable(busy)
    try:
        meta = stored(directory)
        if fresh(meta):  # fetched by the look-up this one waited for
            assert meta is not None
            return cached(meta, held)
        return _fetch(directory, meta, asked, endpoint, need, options, bounds, unavailable, held, cached,
                      hub_api.default_endpoint(), hub_crawl.crawl)
    except BaseException:
        held.release()
        raise


def _fetch(directory: Path, meta: Mapping[str, Any] | None, asked: list[str], endpoint: str, need: Need,
           options: LookupOptions, bounds: CacheBounds, unavailable: _Unavailable, held: HeldLock,
           cached: Callable[..., Found], raw_endpoint: str, crawl: Callable[..., Any]) -> Found:
    """Fetch what the question needs into ``directory`` (holding its lock ``held``) with ``crawl`` (the crawl's
    own function), then prune the cache; ``cached`` answers from the older entry ``meta`` when the fetch fails."""
    import sys

    from ptmgraph.sources.crawl_journal import StateDirectory
    from ptmgraph.sources.interface import SourceError

    state = directory.with_name(directory.name + STATE)
    age = _age(meta)
    if meta is not None and (need == "ancestors" or age is None or age > parse_age(options.max_age)
                             or not _cut(meta)):
        # A new crawl, not a resumed one: only a fresh answer cut by a smaller --max-models goes on where it
        # stopped (and a look-up that failed before writing any answer).
        StateDirectory(state).remove()
    try:
        result = crawl(asked, directory, endpoint=raw_endpoint, state_dir=state, progress=sys.stderr.isatty(),
                       max_depth=0 if need == "ancestors" else None, ancestors=need == "ancestors",
                       limits=_limits(), max_models=None if need == "ancestors" else options.max_models)
    except SourceError as err:
        cause = err.__cause__ or err  # the request's own error, without the crawl's advice on resuming
        said = (str(cause) or type(cause).__name__).splitlines()[0]
        reason = f"the look-up on {endpoint} failed: {said}"
        if meta is not None:  # an older answer beats none
            return cached(meta, held, f" ({reason})")
        held.release()
        return unavailable(reason)
    meta = stored(directory) or {}
    requests = int(result.stats.get("requests", 0))
    removed = prune(bounds, keep=directory)
    pruned = ""
    if removed:
        pruned = (f"; removed {len(removed)} older look-up{'' if len(removed) == 1 else 's'} from the cache "
                  f"({bounds.said()})")
    return _found(directory, meta, missing=unavailable.missing, need=need, unavailable=unavailable, held=held,
                  said=f"looked up on {endpoint} just now ({requests:,} HTTP request{'' if requests == 1 else 's'}), "
                  f"cached in {directory}{pruned}")


@dataclass(frozen=True)
class _Unavailable:
    """No look-up answers: the snapshot does when it knows every model missing (from references, saying so),
    else :class:`NotCovered` says what it covers and how to crawl the models."""

    lg: LineageGraph
    where: str
    missing: Sequence[str]
    need: Need
    options: LookupOptions

    def __call__(self, reason: str, *, fetchable: bool = True) -> Found:
        from ptmgraph.graph import UnknownModelError

        unknown: list[UnknownModelError] = []
        for model in self.missing:
            try:
                self.lg.resolve(model)
            except UnknownModelError as err:
                unknown.append(err)
        fetch = f"; to fetch: {crawl_command(self.missing, self.need, self.options.max_models)}, then add " \
                "--snapshot DIR" if fetchable else ""
        if not unknown:
            return Found(None, f"ptmgraph: {', '.join(self.missing)}: the snapshot has no record, only references; "
                         f"{reason}{fetch}")
        raise NotCovered(f"{unknown[0]}; {reason}; {coverage(self.lg.snapshot.meta, self.where)}"
                         f"{fetch}")


def _found(directory: Path, meta: Mapping[str, Any], missing: Sequence[str], need: Need,
           unavailable: _Unavailable, held: HeldLock, said: str) -> Found:
    """The cached snapshot as the answer (holding its entry's lock ``held``), unless the endpoint did not serve
    a model asked about."""
    from ptmgraph.graph import UnknownModelError, load_graph

    crawl = meta.get("crawl") if isinstance(meta.get("crawl"), Mapping) else {}
    assert isinstance(crawl, Mapping)
    fetched = load_graph(directory)
    gone = uncovered(fetched, missing)
    if gone:
        reasons = []
        for model in gone:
            try:
                fetched.resolve(model)
                reasons.append(f"{model}: no record")
            except UnknownModelError as err:
                reasons.append(f"{model}: {', '.join(sorted(err.dangling)) or 'not_found'}")
        gated = "; a gated model needs HF_TOKEN" if any("gated" in r for r in reasons) else ""
        held.release()
        return unavailable(f"{crawl.get('endpoint', 'the Hub')} does not serve it either ({'; '.join(reasons)}; "
                           f"{said}{gated})", fetchable=False)
    what = "ancestry" if need == "ancestors" else "descendants"
    text = f"ptmgraph: {', '.join(missing)}: not in the snapshot; {what} {said}"
    if _cut(meta):
        text += (f"; cut at --max-models {_bound(meta):,}: there are more descendants, a larger --max-models "
                 "fetches them")
    elif not crawl.get("complete", True):
        text += f"; partial: some listings or records could not be read (ptmgraph problems --snapshot {directory})"
    return Found(directory, text, held)


def _bound(meta: Mapping[str, Any]) -> int:
    crawl = meta.get("crawl")
    bound = crawl.get("max_models") if isinstance(crawl, Mapping) else None
    return bound if isinstance(bound, int) else 0


def _cut(meta: Mapping[str, Any]) -> bool:
    crawl = meta.get("crawl")
    stats = crawl.get("stats") if isinstance(crawl, Mapping) else None
    return isinstance(stats, Mapping) and bool(stats.get("truncated"))


def _limits() -> Any:
    from ptmgraph.sources.hub_client import Limits

    deadline = REQUEST_DEADLINE
    given = os.environ.get(TIMEOUT_VARIABLE)
    if given:
        try:
            deadline = float(given)
        except ValueError:
            raise LookupRefused(f"{TIMEOUT_VARIABLE}={given!r}: not a number of seconds") from None
        if not 0.1 <= deadline <= 3600:
            raise LookupRefused(f"{TIMEOUT_VARIABLE}={given!r}: give from 0.1 to 3600 seconds")
    fixed = "a look-up's own bound; `ptmgraph crawl` takes {}"  # what a user can change: crawl the model instead
    knobs = {"request_deadline": TIMEOUT_VARIABLE, "max_wait": fixed.format("--max-wait"),
             "deadline": fixed.format("--deadline"), "max_requests": fixed.format("--max-requests"),
             "max_pages": fixed.format("--max-pages"), "max_journal_bytes": fixed.format("--max-journal-bytes")}
    return Limits(connect_timeout=min(5.0, deadline), read_timeout=min(10.0, deadline), request_deadline=deadline,
                  max_tries=4, max_wait=30.0, deadline=LOOKUP_DEADLINE, knobs=knobs)


def _age(meta: Mapping[str, Any] | None) -> float | None:
    """Seconds since the snapshot was written (None: unknown)."""
    import time

    written = written_time(meta)
    return None if written is None else max(0.0, time.time() - written)
