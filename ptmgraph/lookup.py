"""Live look-up: answer a question about a model the snapshot has no record of, from the Hub.

A source-side piece, wired by the command line (never imported by an analysis). Definitions:

- *covered*: the snapshot holds a record of the model (``has_record``); a model it does not hold, or knows
  only from references to it, is *uncovered* (:func:`uncovered`).
- *what a question needs*: ``ancestors`` (``ancestry``, ``info``, ``check``): the models named and their
  bases up to the roots, one record request per hop (``crawl --seed M --ancestors --max-depth 0``);
  ``descendants`` (``impact``, ``risk``): the models named and every descendant, at most ``max_models``
  of them (``crawl --seed M --max-models N``). Both go through :func:`ptmgraph.sources.hub_crawl.crawl`, the
  ``crawl`` command's own code: its record rules, client, pacing, retries, journal (resumable) and token
  rule (``HF_TOKEN`` to the endpoint; the ``huggingface_hub`` login only to the Hub's own origins).
- *the cache*: one *entry* per endpoint, need and set of models asked about together, under
  :func:`cache_root` (``$PTMGRAPH_CACHE``, else ``$XDG_CACHE_HOME/ptmgraph``, else ``~/.cache/ptmgraph``;
  never ``HF_HOME`` itself nor huggingface_hub's model cache inside it): ``lookup/HOST-HASH/NEED/KEY`` (a
  crawl snapshot, atomic generations), ``KEY.crawl`` (its crawl's state directory, while kept) and
  ``KEY.lock`` (:func:`_cache_dir`). An answer is *fresh* while younger than ``max_age`` (default a day),
  and reused then without a request; an older one is fetched again (a fresh journal). A descendants answer
  cut by a smaller ``max_models`` than the one asked is fetched again, resuming the kept journal.
- *the cache's bounds*: whenever a look-up writes an entry, the other entries older than
  ``PTMGRAPH_CACHE_MAX_AGE`` (default 30 days) are removed, then the oldest until all of them hold at most
  ``PTMGRAPH_CACHE_MAX_SIZE`` (default 1 GiB) (:func:`prune`). Only entries are ever removed, recognised by
  their place and names and removed part by part as their writer made them (the snapshot's own files, the
  crawl state directory with its marker, the lock): never another file in the cache folder, never an entry
  another process is using. ``ptmgraph cache`` shows and clears them (:func:`clear`).
- *concurrency*: a look-up that fetches holds ``KEY.lock`` exclusively from its check of the cache to its
  answer; one that answers from the cache holds it shared. Another look-up of the same models waits for it
  (at most :data:`LOCK_WAIT`, saying so on stderr), then answers from what the first one cached.
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
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ptmgraph.declaration import DEFAULT_MAX_AGE, DEFAULT_MAX_MODELS  # declared with the look-up options

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
MAX_AGE_VARIABLE = "PTMGRAPH_CACHE_MAX_AGE"
DEFAULT_CACHE_MAX_AGE = "30d"
"""Cache entries older than this are removed when a look-up writes one (``PTMGRAPH_CACHE_MAX_AGE``)."""
MAX_SIZE_VARIABLE = "PTMGRAPH_CACHE_MAX_SIZE"
DEFAULT_CACHE_MAX_SIZE = "1G"
"""The oldest cache entries are removed past this size in all when a look-up writes one
(``PTMGRAPH_CACHE_MAX_SIZE``)."""

_AGE = re.compile(r"(?P<number>[0-9]+(?:\.[0-9]+)?)\s*(?P<unit>[smhdw]?)")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_TRUE = frozenset({"1", "true", "yes", "on"})
_SIZE = re.compile(r"(?P<number>[0-9]+(?:\.[0-9]+)?)\s*(?P<unit>[kmgt]?)(?:i?b)?")
_POWERS = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4}
_PLACE = re.compile(r"[a-z0-9.-]*-[0-9a-f]{8}")
_KEY = re.compile(r"[\w.-]+-[0-9a-f]{8}|[0-9]+-models-[0-9a-f]{16}")
_NEEDS = ("ancestors", "descendants")
_STATE, _LOCK = ".crawl", ".lock"


class NotCovered(LookupError):
    """A model the snapshot does not hold and no look-up could fetch: an unknown model (exit 2), with what
    the snapshot covers and how to crawl the model."""


class LookupRefused(Exception):
    """A look-up that must not be made as configured (the cache inside ``HF_HOME``): bad input, exit 1."""


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


def parse_age(text: str) -> float:
    """Seconds in an age: a number of seconds (``3600``), or a number with a unit ``s``, ``m``, ``h``, ``d``
    or ``w`` (``12h``, ``7d``, ``1.5h``); ValueError otherwise."""
    match = _AGE.fullmatch(text.strip().lower())
    if match is None:
        raise ValueError(f"not an age (seconds, or a number with s, m, h, d or w: 3600, 12h, 7d): {text!r}")
    return float(match["number"]) * _UNITS[match["unit"]]


def parse_size(text: str) -> int:
    """Bytes in a size: a number of bytes (``500000000``), or a number with a unit ``K``, ``M``, ``G`` or ``T``
    (powers of 1,024; ``500M``, ``1G``, ``1.5GiB``, ``2gb``); ValueError otherwise."""
    match = _SIZE.fullmatch(text.strip().lower())
    if match is None:
        raise ValueError(f"not a size (bytes, or a number with K, M, G or T: 500M, 1G): {text!r}")
    return int(float(match["number"]) * 1024 ** _POWERS[match["unit"]])


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


def cache_root() -> Path:
    """Where look-ups are kept: ``$PTMGRAPH_CACHE``, else ``$XDG_CACHE_HOME/ptmgraph``, else
    ``~/.cache/ptmgraph``. :class:`LookupRefused` when that is ``HF_HOME`` itself or lies inside
    huggingface_hub's model cache (``HF_HUB_CACHE``, default ``HF_HOME/hub``): those folders are the library's."""
    given = os.environ.get("PTMGRAPH_CACHE")
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    root = Path(os.path.abspath(os.path.expanduser(given) if given else os.path.join(xdg, "ptmgraph")))
    hf_home = Path(os.path.abspath(os.path.expanduser(os.environ.get("HF_HOME") or os.path.join(xdg, "huggingface"))))
    hub_cache = Path(os.path.abspath(os.path.expanduser(os.environ.get("HF_HUB_CACHE") or hf_home / "hub")))
    if root in (hf_home, hub_cache) or hub_cache in root.parents:
        raise LookupRefused(f"{root}: the look-up cache would be huggingface_hub's folder (HF_HOME or HF_HUB_CACHE); "
                            "set PTMGRAPH_CACHE to another folder")
    return root


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
    directory = _cache_dir(endpoint, need, asked)
    lock = directory.with_name(directory.name + _LOCK)
    max_age = parse_age(options.max_age)
    unavailable = _Unavailable(lg, where, missing, need, options)

    def waiting() -> None:
        import sys

        sys.stderr.write(f"ptmgraph: waiting for another ptmgraph look-up of {', '.join(asked)} ({lock})\n")

    def fresh(meta: Mapping[str, Any] | None) -> bool:
        age = _age(meta)
        return meta is not None and age is not None and age <= max_age and (
            need == "ancestors" or not _cut(meta) or _bound(meta) >= options.max_models)

    def cached(meta: Mapping[str, Any], held: _Held, why: str = "") -> Found:
        age = _age(meta)
        stale = "" if age is not None and age <= max_age else f", older than --max-age {options.max_age}"
        return _found(directory, meta, missing, need, unavailable, held, f"from the look-up cache {directory}: "
                      f"fetched from {endpoint} {_ago(age)}{stale}{why}")

    busy = f"another ptmgraph process has held the look-up of {', '.join(asked)} for over {LOCK_WAIT:.0f} s ({lock})"
    meta = _stored(directory)
    if meta is not None and (offline or fresh(meta)):
        held = _lock(lock, exclusive=False, wait=LOCK_WAIT, waiting=waiting)
        if held is None:
            return unavailable(busy)
        meta = _stored(directory)  # as the look-up that held the lock, if any, left it
        if meta is not None and (offline or fresh(meta)):
            return cached(meta, held, f" (offline: {offline})" if offline else "")
        held.release()
    if offline:
        return unavailable(f"not looked up: offline ({offline})")
    bounds = cache_bounds()  # a bad bound is refused before any request
    directory.parent.mkdir(parents=True, exist_ok=True)
    held = _lock(lock, exclusive=True, wait=LOCK_WAIT, waiting=waiting)
    if held is None:
        return unavailable(busy)
    try:
        meta = _stored(directory)
        if fresh(meta):  # fetched by the look-up this one waited for
            assert meta is not None
            return cached(meta, held)
        return _fetch(directory, meta, asked, endpoint, need, options, bounds, unavailable, held, cached,
                      hub_api.default_endpoint(), hub_crawl.crawl)
    except BaseException:
        held.release()
        raise


def _fetch(directory: Path, meta: Mapping[str, Any] | None, asked: list[str], endpoint: str, need: Need,
           options: LookupOptions, bounds: CacheBounds, unavailable: _Unavailable, held: _Held,
           cached: Any, raw_endpoint: str, crawl: Any) -> Found:
    """Fetch what the question needs into ``directory`` (holding its lock), then prune the cache."""
    import sys

    from ptmgraph.sources.crawl_journal import StateDirectory
    from ptmgraph.sources.interface import SourceError

    state = directory.with_name(directory.name + _STATE)
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
    meta = _stored(directory) or {}
    requests = int(result.stats.get("requests", 0))
    removed = prune(bounds, keep=directory)
    pruned = ""
    if removed:
        pruned = (f"; removed {len(removed)} older look-up{'' if len(removed) == 1 else 's'} from the cache "
                  f"({bounds.said()})")
    return _found(directory, meta, missing=unavailable.missing, need=need, unavailable=unavailable, held=held,
                  said=f"looked up on {endpoint} just now ({requests:,} HTTP request{'' if requests == 1 else 's'}), "
                  f"cached in {directory}{pruned}")


def _stored(directory: Path) -> dict[str, Any] | None:
    """The cached snapshot's ``meta.json`` (None: none, or a damaged one, which is fetched again and replaced)."""
    from ptmgraph import snapshot as snapshot_io

    try:
        return snapshot_io.stored_meta(directory)
    except snapshot_io.SnapshotError:
        return None


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
           unavailable: _Unavailable, held: _Held, said: str) -> Found:
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


def _cache_dir(endpoint: str, need: Need, models: Sequence[str]) -> Path:
    """``ROOT/lookup/HOST-HASH/NEED/KEY``: one folder per endpoint, need and set of models as typed (a crawl's
    journal is resumed only with the same seeds, letter case included), each name ending in a hash of what it
    stands for, so that names differing only in case stay apart on any file system."""
    host = re.sub(r"[^a-z0-9.-]+", "-", endpoint.split("://", 1)[-1].lower()).strip("-")[:60] or "endpoint"
    place = f"{host}-{_digest(endpoint, 8)}"
    asked = "\n".join(models)
    key = f"{models[0].replace('/', '--')}-{_digest(asked, 8)}" if len(models) == 1 else \
        f"{len(models)}-models-{_digest(asked, 16)}"
    return cache_root() / "lookup" / place / need / key


def _digest(text: str, length: int) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()[:length]


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
    from datetime import datetime, timezone

    written = meta.get("written_at") if meta else None
    try:
        when = datetime.fromisoformat(str(written))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (datetime.now(timezone.utc) - when).total_seconds())


def _ago(age: float | None) -> str:
    if age is None:
        return "at an unknown time"
    for unit, seconds in (("d", 86400), ("h", 3600), ("min", 60)):
        if age >= seconds:
            return f"{age / seconds:.0f} {unit} ago"
    return f"{age:.0f} s ago"


class _Held:
    """A ``flock`` on a cache entry's lock file, held until :meth:`release` or garbage collection. The file is
    removed on release by whoever can then hold it exclusively (a process waiting on it then finds its lock on
    a file that is gone, and tries again with a new one: :func:`_lock`), so no lock file outlives its users."""

    def __init__(self, fd: int, path: Path) -> None:
        import weakref

        self.release = weakref.finalize(self, _unlock, fd, path)


def _unlock(fd: int, path: Path) -> None:
    import contextlib
    import fcntl

    try:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a shared holder: only when no one else holds it
            held, now = os.fstat(fd), os.stat(path, follow_symlinks=False)
            if (held.st_dev, held.st_ino) == (now.st_dev, now.st_ino):  # still the file at path: it stays so
                os.unlink(path)
    finally:
        os.close(fd)


def _lock(path: Path, *, exclusive: bool, wait: float, waiting: Callable[[], None] | None = None) -> _Held | None:
    """The lock on ``path`` (created if need be), exclusive or shared, waiting at most ``wait`` seconds (calling
    ``waiting`` once if it must wait); None when it is not had in time."""
    import fcntl
    import time

    give_up = time.monotonic() + wait
    told = False
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        try:
            while True:
                try:
                    fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= give_up:
                        os.close(fd)
                        return None
                    if waiting is not None and not told:
                        waiting()
                        told = True
                    time.sleep(0.05)
            held = os.fstat(fd)
            try:
                now = os.stat(path, follow_symlinks=False)
                same = (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino)
            except FileNotFoundError:
                same = False
        except BaseException:
            os.close(fd)
            raise
        if same:
            return _Held(fd, path)
        os.close(fd)


@dataclass(frozen=True)
class CacheBounds:
    """How much the look-up cache keeps (module docstring, *the cache's bounds*): entries younger than
    ``max_age`` seconds, at most ``max_size`` bytes in all; ``texts``: each as the user gave it, by variable."""

    max_age: float
    max_size: int
    texts: tuple[tuple[str, str], ...]

    def said(self) -> str:
        return ", ".join(f"{name}={text}" for name, text in self.texts)


def cache_bounds() -> CacheBounds:
    """The cache's bounds from ``PTMGRAPH_CACHE_MAX_AGE`` and ``PTMGRAPH_CACHE_MAX_SIZE`` (or their defaults);
    :class:`LookupRefused` for a value that is not an age or a size."""
    age_text = os.environ.get(MAX_AGE_VARIABLE) or DEFAULT_CACHE_MAX_AGE
    size_text = os.environ.get(MAX_SIZE_VARIABLE) or DEFAULT_CACHE_MAX_SIZE
    try:
        max_age = parse_age(age_text)
    except ValueError as err:
        raise LookupRefused(f"{MAX_AGE_VARIABLE}: {err}") from None
    try:
        max_size = parse_size(size_text)
    except ValueError as err:
        raise LookupRefused(f"{MAX_SIZE_VARIABLE}: {err}") from None
    return CacheBounds(max_age, max_size, ((MAX_AGE_VARIABLE, age_text), (MAX_SIZE_VARIABLE, size_text)))


@dataclass(frozen=True)
class CacheEntry:
    """One look-up kept in the cache: ``path``, its snapshot directory (``KEY``; it may be absent while only
    the journal of a failed look-up is kept, ``KEY.crawl``); ``need``; ``models`` and ``endpoint`` as its
    snapshot records them (empty when it has none); ``written``: when its newest part was written (POSIX
    seconds; its snapshot's ``written_at``, to the second); ``modified``: its files' newest modification time;
    ``size``: the bytes of its files."""

    path: Path
    need: str
    models: tuple[str, ...]
    endpoint: str
    written: float
    modified: float
    size: int


def cache_entries(root: Path | None = None) -> list[CacheEntry]:
    """The look-ups kept under ``root`` (default :func:`cache_root`), oldest first: only what is named and
    laid out as :func:`_cache_dir` makes it; anything else in the folder is no entry, and never touched."""
    base = (cache_root() if root is None else root) / "lookup"
    found = []
    for place in _subdirectories(base, _PLACE):
        for need in _subdirectories(place, None):
            if need.name not in _NEEDS:
                continue
            try:
                names = os.listdir(need)
            except OSError:
                continue
            keys = {name.removesuffix(_STATE).removesuffix(_LOCK) for name in names}
            for key in sorted(k for k in keys if _KEY.fullmatch(k)):
                entry = _entry(need / key, need.name)
                if entry is not None:
                    found.append(entry)
    return sorted(found, key=lambda e: (e.written, e.modified, str(e.path)))


def _subdirectories(folder: Path, pattern: re.Pattern[str] | None) -> list[Path]:
    try:
        with os.scandir(folder) as listing:
            return sorted(Path(e.path) for e in listing if e.is_dir(follow_symlinks=False)
                          and (pattern is None or pattern.fullmatch(e.name)))
    except OSError:
        return []


def _entry(path: Path, need: str) -> CacheEntry | None:
    """The entry ``path`` names, when one of its parts is what a look-up writes there."""
    from datetime import datetime, timezone

    from ptmgraph.snapshot_versions import is_snapshot_directory

    parts = []
    meta: Mapping[str, Any] | None = None
    if not path.is_symlink() and is_snapshot_directory(path):
        meta = _stored(path)
        if meta is not None and isinstance(meta.get("crawl"), Mapping):
            parts.append(path)
        else:
            meta = None
    state = path.with_name(path.name + _STATE)
    if state.is_dir() and not state.is_symlink():
        parts.append(state)
    if not parts:
        return None  # a lone lock file is no entry: its holder is writing one
    size, newest = 0, 0.0
    for part in parts:
        for folder, _, files in os.walk(part):
            for name in files:
                try:
                    info = os.lstat(os.path.join(folder, name))
                except OSError:
                    continue
                size += info.st_size
                newest = max(newest, info.st_mtime)
    crawl = meta.get("crawl") if meta is not None else None
    written = newest
    if isinstance(crawl, Mapping):
        try:
            when = datetime.fromisoformat(str(meta.get("written_at") if meta else ""))
            written = (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).timestamp()
        except ValueError:
            pass
    models = tuple(str(m) for m in (crawl.get("seeds") or [])) if isinstance(crawl, Mapping) else ()
    endpoint = str(crawl.get("endpoint") or "") if isinstance(crawl, Mapping) else ""
    return CacheEntry(path, need, models, endpoint, written, newest, size)


def remove_entry(entry: CacheEntry) -> bool:
    """Remove ``entry``, part by part as its look-up wrote it, unless another process is using it (its lock is
    held, or a reader holds its snapshot); True when nothing of it is left. Empty folders of the cache's own
    layout (``HOST-HASH/NEED``) go with their last entry."""
    from ptmgraph.snapshot_versions import remove_snapshot
    from ptmgraph.sources.crawl_journal import StateDirectory

    held = _lock(entry.path.with_name(entry.path.name + _LOCK), exclusive=True, wait=0)
    if held is None:
        return False
    try:
        state = entry.path.with_name(entry.path.name + _STATE)
        gone = not os.path.lexists(entry.path) or remove_snapshot(entry.path)
        if gone and os.path.lexists(state):
            gone = StateDirectory(state).remove()
    finally:
        held.release()
    for folder in (entry.path.parent, entry.path.parent.parent):
        try:
            folder.rmdir()  # only when empty
        except OSError:
            break
    return gone


def prune(bounds: CacheBounds, keep: Path | None = None, root: Path | None = None) -> list[CacheEntry]:
    """Apply ``bounds`` to the cache (module docstring): remove the entries older than ``bounds.max_age``, then
    the oldest until the rest hold at most ``bounds.max_size`` bytes; never ``keep`` (the entry just written)
    nor one in use. The entries removed."""
    import time

    entries = cache_entries(root)
    now = time.time()
    removed = []
    kept = []
    for entry in entries:
        if entry.path != keep and now - entry.written > bounds.max_age and remove_entry(entry):
            removed.append(entry)
        else:
            kept.append(entry)
    total = sum(e.size for e in kept)
    for entry in kept:  # oldest first
        if total <= bounds.max_size:
            break
        if entry.path != keep and remove_entry(entry):
            removed.append(entry)
            total -= entry.size
    return removed


def clear(older_than: float | None = None, root: Path | None = None) -> tuple[list[CacheEntry], list[CacheEntry]]:
    """Remove every cache entry (``older_than``: only those older than this many seconds): the entries
    removed, and those kept (another process is using them, or a part holds files a look-up did not write)."""
    import time

    now = time.time()
    removed: list[CacheEntry] = []
    busy: list[CacheEntry] = []
    for entry in cache_entries(root):
        if older_than is not None and now - entry.written <= older_than:
            continue
        (removed if remove_entry(entry) else busy).append(entry)
    return removed, busy


def size_text(size: float) -> str:
    """A size for people: ``512 B``, ``1.5 KiB``, ``2.0 MiB``."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"  # pragma: no cover - the loop returns


def ago(when: float) -> str:
    """How long ago POSIX time ``when`` was, in the look-up's words (``3 min ago``)."""
    import time

    return _ago(max(0.0, time.time() - when))
