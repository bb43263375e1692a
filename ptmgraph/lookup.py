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
- *the cache*: one snapshot per endpoint, need and set of models asked about together, under
  :func:`cache_root` (``$PTMGRAPH_CACHE``, else ``$XDG_CACHE_HOME/ptmgraph``, else ``~/.cache/ptmgraph``;
  never ``HF_HOME`` itself nor huggingface_hub's model cache inside it), written as any crawl's snapshot
  (atomic generations). It is *fresh* while younger than ``max_age`` (default a day), and reused then
  without a request; an older one is fetched again (a fresh journal). A descendants answer cut by a
  smaller ``max_models`` than the one asked is fetched again, resuming the kept journal.
- *offline*: ``--offline`` or ``HF_HUB_OFFLINE`` set to a true value: no request at all; a cached answer of
  any age is used, saying how old it is.
- *bounds*: connect 5 s, read 10 s, each request at most 15 s with its retries (4 tries), the whole look-up
  at most 10 minutes; ``PTMGRAPH_LOOKUP_TIMEOUT`` (seconds) lowers or raises the 15 s (and the others with
  it when lower). A server that does not answer, answers 5xx or refuses connections costs at most that.

When the answer cannot be fetched (offline, an absent, failing or slow server) and the snapshot does not
know the model at all, :class:`NotCovered` says what the snapshot covers (its sources, date and seeds) and
the ``ptmgraph crawl`` command that gets the model: an unknown model, exit 2.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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

_AGE = re.compile(r"(?P<number>[0-9]+(?:\.[0-9]+)?)\s*(?P<unit>[smhdw]?)")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_TRUE = frozenset({"1", "true", "yes", "on"})


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
    which knows the models from references), and ``note``, the line that says where and how old."""

    path: Path | None
    note: str


def parse_age(text: str) -> float:
    """Seconds in an age: a number of seconds (``3600``), or a number with a unit ``s``, ``m``, ``h``, ``d``
    or ``w`` (``12h``, ``7d``, ``1.5h``); ValueError otherwise."""
    match = _AGE.fullmatch(text.strip().lower())
    if match is None:
        raise ValueError(f"not an age (seconds, or a number with s, m, h, d or w: 3600, 12h, 7d): {text!r}")
    return float(match["number"]) * _UNITS[match["unit"]]


def is_offline(options: LookupOptions) -> str | None:
    """Why no request may be made (``--offline``, ``HF_HUB_OFFLINE=1``), or None."""
    if options.offline:
        return "--offline"
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
    :class:`LookupRefused` for a cache in huggingface_hub's folders or a bad ``PTMGRAPH_LOOKUP_TIMEOUT``.
    """
    from ptmgraph.ids import normalize_reference

    ids = [normalize_reference(m).id for m in models]
    if not all(ids):
        return None
    asked = sorted({str(i) for i in ids}, key=str.lower)
    offline = is_offline(options)
    if offline:  # huggingface_hub, imported next (the endpoint and its credentials), then sends nothing either
        os.environ["HF_HUB_OFFLINE"] = "1"
    from ptmgraph import snapshot as snapshot_io
    from ptmgraph.sources import (
        hub_api,  # first: it turns huggingface_hub's telemetry (a request) off before import
        hub_crawl,
    )
    from ptmgraph.sources.hub_http import without_credentials

    endpoint = without_credentials(hub_api.default_endpoint())
    directory = _cache_dir(endpoint, need, asked)
    try:
        meta = snapshot_io.stored_meta(directory)
    except snapshot_io.SnapshotError:
        meta = None  # a damaged cache is fetched again (and replaced)
    age = _age(meta)
    max_age = parse_age(options.max_age)
    enough = meta is not None and (need == "ancestors" or not _cut(meta) or _bound(meta) >= options.max_models)
    unavailable = _Unavailable(lg, where, missing, need, options)
    if meta is not None and (offline or (age is not None and age <= max_age and enough)):
        stale = "" if age is not None and age <= max_age else f", older than --max-age {options.max_age}"
        return _found(directory, meta, missing, need, unavailable, f"from the look-up cache {directory}: fetched "
                      f"from {endpoint} {_ago(age)}{stale}{f' (offline: {offline})' if offline else ''}")
    if offline:
        return unavailable(f"not looked up: offline ({offline})")
    import sys

    from ptmgraph.sources.crawl_journal import StateDirectory
    from ptmgraph.sources.interface import SourceError

    state = directory.with_name(directory.name + ".crawl")
    if meta is not None and (enough or age is None or age > max_age):
        # A new crawl, not a resumed one: only a fresh answer cut by a smaller --max-models goes on where it
        # stopped (and a look-up that failed before writing any answer).
        StateDirectory(state).remove()
    directory.parent.mkdir(parents=True, exist_ok=True)
    try:
        result = hub_crawl.crawl(asked, directory, endpoint=hub_api.default_endpoint(), state_dir=state,
                                 progress=sys.stderr.isatty(), max_depth=0 if need == "ancestors" else None,
                                 ancestors=need == "ancestors", limits=_limits(),
                                 max_models=None if need == "ancestors" else options.max_models)
    except SourceError as err:
        cause = err.__cause__ or err  # the request's own error, without the crawl's advice on resuming
        said = (str(cause) or type(cause).__name__).splitlines()[0]
        reason = f"the look-up on {endpoint} failed: {said}"
        if meta is not None:  # an older answer beats none
            return _found(directory, meta, missing, need, unavailable, f"from the look-up cache {directory}, "
                          f"fetched from {endpoint} {_ago(age)}, older than --max-age {options.max_age} ({reason})")
        return unavailable(reason)
    meta = snapshot_io.stored_meta(directory) or {}
    requests = int(result.stats.get("requests", 0))
    return _found(directory, meta, missing, need, unavailable, f"looked up on {endpoint} just now "
                  f"({requests:,} HTTP request{'' if requests == 1 else 's'}), cached in {directory}")


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
           unavailable: _Unavailable, said: str) -> Found:
    """The cached snapshot as the answer, unless the endpoint did not serve a model asked about."""
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
        return unavailable(f"{crawl.get('endpoint', 'the Hub')} does not serve it either ({'; '.join(reasons)}; "
                           f"{said}{gated})", fetchable=False)
    what = "ancestry" if need == "ancestors" else "descendants"
    text = f"ptmgraph: {', '.join(missing)}: not in the snapshot; {what} {said}"
    if _cut(meta):
        text += (f"; cut at --max-models {_bound(meta):,}: there are more descendants, a larger --max-models "
                 "fetches them")
    elif not crawl.get("complete", True):
        text += f"; partial: some listings or records could not be read (ptmgraph problems --snapshot {directory})"
    return Found(directory, text)


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
    return Limits(connect_timeout=min(5.0, deadline), read_timeout=min(10.0, deadline), request_deadline=deadline,
                  max_tries=4, max_wait=30.0, deadline=LOOKUP_DEADLINE)


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
