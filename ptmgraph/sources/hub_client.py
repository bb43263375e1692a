"""The crawl's HTTP client: one Hub endpoint, with timeouts, origin checks, pacing and retries.

Definitions used throughout:

- *origin*: the (scheme, host, port) of a URL, with the scheme's default port when none is written.
  The client sends requests to the endpoint's origin only: a redirect or a ``Link: rel="next"`` page on
  any other origin is not followed, so the credentials (sent with every request) never leave the endpoint.
- *credentials*: the user name and password written in the endpoint URL (``http://user:pw@host``) are
  taken out of it (:func:`split_credentials`) before the URL is used, stored or shown, and sent as HTTP
  Basic credentials instead of a token. Otherwise the token (:func:`resolve_token`): the one given, else
  ``HF_TOKEN``, else the one stored by the ``huggingface_hub`` login, but that one only to the Hub's own
  origins (https://huggingface.co, https://hf.co) unless ``token_for_endpoint`` says otherwise.
- *deadlines*: a call (retries and back-off included) ends within ``Limits.request_deadline`` seconds
  plus the waits the server asked for, and every call ends by the crawl's deadline (``Limits.deadline``
  from the client's creation). They bound every read and write on the socket, not only the silences
  between them, so a server that trickles a byte at a time is cut off too.
- *attempt*: one HTTP request. A *call* (one API reply, one file) makes up to ``Limits.max_tries``
  attempts. An attempt is retried when it fails in a way that a later attempt may not: 408, 429 and 5xx
  answers, a dropped or refused connection, a connect or read timeout, a body cut short or not JSON.
- *wait*: seconds slept before a retry: the server's ``Retry-After`` or, on a 429 whose ``RateLimit`` header
  says no request is left, the seconds until the window resets; otherwise ``Limits.backoff`` doubled on
  each retry (up to 8 s), with +-25 % jitter. The waits the server asks of one call (these and pacing
  waits) may add up to ``Limits.max_wait``: a wait that would take them past it stops the crawl
  (:class:`CrawlStop`) instead of sleeping.
- *pacing*: every reply's ``RateLimit: "api";r=<remaining>;t=<seconds>`` header spreads the remaining
  quota evenly over the rest of the window: the next attempt starts no sooner than ``t / (r + 1)``
  seconds after the previous one, across all threads, so a crawl never has to be told with a 429. ``r``
  and ``t`` must be integers (anything else and the header is ignored); a pacing wait counts against
  ``Limits.max_wait`` like a ``Retry-After``.

The requests are built with ``huggingface_hub`` (its headers, token lookup, and error classes through
``hf_raise_for_status``) and sent with one ``httpx2.Client`` of the crawl's own, so that nothing the
library does by itself (following any ``Link`` header, sleeping 1 s or more per retry) escapes these
limits. Bodies are read with a size cap and never executed: JSON goes through :mod:`ptmgraph.reader`.

The connection these terms describe (origins, credentials, deadlines, pacing) is :mod:`ptmgraph.sources.hub_http`;
the client's calls, retries and listings are here.
"""

from __future__ import annotations

import base64
import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urljoin

import httpx2
from huggingface_hub.errors import (
    DisabledRepoError,
    EntryNotFoundError,
    GatedRepoError,
    HfHubHTTPError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.utils import build_hf_headers, hf_raise_for_status

from ptmgraph import reader
from ptmgraph.records import Problem
from ptmgraph.sources.hub_http import (
    DEFAULT_PORTS,
    BadReply,
    CrawlStop,
    DeadlinePassed,
    Pacer,
    SameOriginTransport,
    TooLarge,
    deadline_transport,
    origin,
    over_max_wait,
    ratelimit,
    resolve_token,
    seconds_of,
    shown,
    socket_deadline,
    split_credentials,
    without_credentials,
)
from ptmgraph.sources.interface import SourceError, first_line
from ptmgraph.words import plural

_RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_MAX_REDIRECTS = 5
_MAX_BACKOFF = 8.0
_LONGEST_SECONDS = 30 * 24 * 3600.0
"""The longest any of :class:`Limits`' times may be: every wait stays a sleep the system can do."""
MAX_REPLY_BYTES = reader.DEFAULT_LIMITS.document_bytes
"""An API reply (one listing page of up to 1,000 records, or one record) larger than this is refused."""


@dataclass(frozen=True)
class Limits:
    """The crawl's bounds. Times are seconds.

    ``connect_timeout``: to open a connection; ``read_timeout``: the longest silence while a reply is read;
    ``max_wait``: the longest the server may make one call wait, its waits together; ``max_tries``:
    attempts per call; ``backoff``: the first wait after a failure that came without a ``Retry-After``;
    ``max_pages``: pages read per listing (at up to 1,000 models a page); ``workers``: requests in flight
    at once. A call waiting to retry holds no request slot, so a crawl runs :attr:`steps` calls at a time:
    the waits of failed calls overlap with other calls' work instead of holding it up.
    ``request_deadline``: the longest a call may take, tries and back-off included (the waits the server
    asks for come on top); ``deadline``: the longest a crawl may run; ``max_requests``: requests one run
    may send; ``max_journal_bytes``: the size the crawl's journal may reach (None: no bound). Passing any
    of these stops the crawl, resumable (a larger bound lets the rest finish).

    ``knobs``: what the user changes to move a bound, by field name, as the messages that name the bound say
    it (:meth:`knob`): the ``crawl`` command's option unless given (a look-up's environment variable, or the
    look-up's own fixed bound).
    """

    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_wait: float = 300.0
    max_tries: int = 8
    backoff: float = 0.1
    max_pages: int = 10_000
    workers: int = 8
    request_deadline: float = 120.0
    deadline: float | None = 6 * 3600.0
    max_requests: int | None = 250_000
    max_journal_bytes: int | None = 1 << 30
    knobs: dict[str, str] = field(default_factory=dict, compare=False)

    def knob(self, name: str) -> str:
        """What a message names for the bound ``name`` (a field): ``knobs[name]``, else the ``crawl`` option."""
        return self.knobs.get(name) or "--" + name.replace("_", "-")

    def __post_init__(self) -> None:
        for name in ("connect_timeout", "read_timeout", "max_wait", "request_deadline", "deadline"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= _LONGEST_SECONDS:  # also NaN
                raise ValueError(f"Limits.{name} must be from 0 to {_LONGEST_SECONDS:g} s, not {value}")

    @property
    def steps(self) -> int:
        """Calls run at a time (each holds a request slot only while its request is in flight)."""
        return 8 * max(1, self.workers)


@dataclass
class Listing:
    """What one listing returned: its records (distinct ids, in order), whether it was read to its end
    (``complete``; False when ``max_rows`` cut it), whether a problem ended it before its end (``ended_early``:
    hostile paging, ``max_pages``), how many pages it took, and the problems met (items of the wrong shape,
    hostile paging)."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    complete: bool = True
    pages: int = 0
    problems: list[str] = field(default_factory=list)
    ended_early: bool = False

    def end(self, problem: str) -> Listing:
        """Record the problem that ends the listing before its end; returns the listing."""
        self.problems.append(problem)
        self.ended_early = True
        return self


class HubClient:
    """Calls to one endpoint within :class:`Limits`; ``stats`` counts attempts (``requests``) and the 429
    (``retries_429``), 5xx (``retries_5xx``) and other failed attempts (``retries_other``: timeouts, dropped
    connections, bodies cut short or not JSON). Thread-safe: the crawl's workers share one client."""

    def __init__(self, endpoint: str, token: str | bool | None, limits: Limits,
                 stats: dict[str, int | float] | None = None, *, token_for_endpoint: bool = False) -> None:
        self.endpoint, credentials = split_credentials(endpoint.rstrip("/"))
        self.origin = origin(self.endpoint)
        if self.origin[0] not in DEFAULT_PORTS or not self.origin[1] or self.origin[2] < 0:
            raise SourceError(f"{self.endpoint!r} is not an http(s) URL")
        self.limits = limits
        self.stats = stats if stats is not None else {}
        for key in ("requests", "retries_429", "retries_5xx", "retries_other"):
            self.stats.setdefault(key, 0)
        self._stats_lock = threading.Lock()
        self._stop_at = math.inf if limits.deadline is None else time.monotonic() + limits.deadline
        if credentials is not None:
            self._headers = build_hf_headers(token=False)
            basic = base64.b64encode(f"{credentials[0]}:{credentials[1]}".encode()).decode("ascii")
            self._headers["authorization"] = f"Basic {basic}"
        else:
            chosen = resolve_token(self.endpoint, token, token_for_endpoint=token_for_endpoint)
            self._headers = build_hf_headers(token=chosen or False)
        timeout = httpx2.Timeout(limits.read_timeout, connect=limits.connect_timeout)
        workers = max(limits.workers, 1)
        transport = SameOriginTransport(self.origin, deadline_transport(workers))
        self._client = httpx2.Client(transport=transport, timeout=timeout, follow_redirects=False,
                                     limits=httpx2.Limits(max_connections=workers))
        self._pacer = Pacer()
        self.first_date: str | None = None
        """The ``Date`` header of the first answer: the server's clock when the crawl began (``crawl --update``)."""
        self._slots = threading.BoundedSemaphore(max(1, limits.workers))

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HubClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- calls ------------------------------------------------------------------------------------------------
    def model_info(self, model_id: str, expand: list[str]) -> dict[str, Any]:
        """``GET /api/models/{id}?expand=...``: the record as a dict. Raises the library's
        ``RepositoryNotFoundError`` / ``GatedRepoError`` / ``DisabledRepoError`` for a repo the Hub does not
        serve, :class:`BadReply` for a reply that is not a JSON object, :class:`CrawlStop` otherwise."""
        url = f"{self.endpoint}/api/models/{quote(model_id, safe='/')}"
        response, data = self._call(url, [("expand", e) for e in expand], parse=True)
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            raise BadReply(f"{shown(str(response.request.url))}: not a model record (a JSON object with an id)")
        return data

    def list_models(self, params: list[tuple[str, str]], *, max_rows: int | None = None,
                    older: Callable[[dict[str, Any]], bool] | None = None) -> Listing:
        """``GET /api/models`` with ``params``, following ``Link: rel="next"`` pages on the endpoint's origin.

        Stops early (``complete`` False) once ``max_rows`` distinct records are read. With ``older`` (a listing
        sorted newest first), the rows it is true of are left out and no page after the first such row is
        read (``complete`` stays True: the rest is older still). A next page on another
        origin, a next URL already read (a cursor that repeats), a page of ids all seen before, or more than
        ``max_pages`` pages ends the listing with a problem: what was read so far is kept.
        """
        out = Listing()
        url: str | None = f"{self.endpoint}/api/models"
        query: list[tuple[str, str]] | None = params
        seen_urls: set[str] = set()
        seen_ids: set[str] = set()
        while url is not None:
            if out.pages >= self.limits.max_pages:
                return out.end(f"listing stopped after {out.pages} pages (the {self.limits.knob('max_pages')} limit)")
            response, page = self._call(url, query, parse=True)
            seen_urls.add(str(response.request.url))
            here = shown(str(response.request.url))
            out.pages += 1
            if not isinstance(page, list):
                raise BadReply(f"{shown(str(response.request.url))}: a listing page that is not a JSON list")
            new = 0
            reached_older = False
            for item in page:
                model_id = item.get("id") if isinstance(item, dict) else None
                if not isinstance(model_id, str) or not model_id:
                    out.problems.append(f"{here}: a listed item that is not a model record")
                    continue
                if model_id in seen_ids:
                    continue
                if older is not None and older(item):
                    reached_older = True
                    continue
                seen_ids.add(model_id)
                new += 1
                out.rows.append(item)
                if max_rows is not None and len(out.rows) >= max_rows:
                    out.complete = False
                    return out
            next_url = response.links.get("next", {}).get("url")
            if next_url is None or reached_older:
                return out
            with self._stats_lock:  # a full page: the server's page size (the update's estimate of a crawl)
                self.stats["page_rows"] = max(int(self.stats.get("page_rows", 0)), len(page))
            next_url = without_credentials(urljoin(str(response.request.url), next_url))
            if origin(next_url) != self.origin:
                return out.end(f"{here}: next page on another origin ({_origin_text(next_url)}); not followed")
            if next_url in seen_urls:
                return out.end(f"{here}: next page is a page already read; listing stopped")
            if page and not new:
                return out.end(f"{here}: a page of ids all listed before; listing stopped")
            url, query = next_url, None
        return out

    def paths_info(self, repo_id: str, revision: str, paths: list[str]) -> list[Any]:
        """``POST /api/models/{id}/paths-info/{rev}`` with ``expand``: the entries of ``paths`` (their size,
        LFS object, last commit and the Hub's security scan), as ``HfApi.get_paths_info(expand=True)`` asks.
        Raises as :meth:`model_info` does; :class:`BadReply` for a reply that is not a JSON list."""
        url = f"{self.endpoint}/api/models/{quote(repo_id, safe='/')}/paths-info/{quote(revision, safe='')}"
        response, data = self._call(url, None, parse=True, form=[*(("paths", p) for p in paths), ("expand", "true")])
        if not isinstance(data, list):
            raise BadReply(f"{shown(str(response.request.url))}: not a list of paths")
        return data

    def list_tree(self, repo_id: str, revision: str) -> Listing:
        """``GET /api/models/{id}/tree/{rev}?recursive=true&expand=true``, every page (as
        ``HfApi.list_repo_tree(recursive=True, expand=True)``): ``rows`` are the entries. Pages are followed
        as :meth:`list_models` follows them (same origin, no page twice, at most ``max_pages``)."""
        out = Listing()
        url: str | None = f"{self.endpoint}/api/models/{quote(repo_id, safe='/')}/tree/{quote(revision, safe='')}"
        query: list[tuple[str, str]] | None = [("recursive", "true"), ("expand", "true")]
        seen: set[str] = set()
        while url is not None:
            if out.pages >= self.limits.max_pages:
                limit = self.limits.knob("max_pages")
                out.problems.append(f"tree listing stopped after {out.pages} pages (the {limit} limit)")
                out.complete = False
                return out
            response, page = self._call(url, query, parse=True)
            seen.add(str(response.request.url))
            out.pages += 1
            if not isinstance(page, list):
                raise BadReply(f"{shown(str(response.request.url))}: a tree page that is not a JSON list")
            out.rows += [entry for entry in page if isinstance(entry, dict)]
            next_url = response.links.get("next", {}).get("url")
            if next_url is None:
                return out
            next_url = without_credentials(urljoin(str(response.request.url), next_url))
            if origin(next_url) != self.origin or next_url in seen:
                out.problems.append(f"{shown(str(response.request.url))}: next tree page on another origin or "
                                    "already read; not followed")
                out.complete = False
                return out
            url, query = next_url, None
        return out

    def get_file(self, repo_id: str, revision: str, filename: str, max_bytes: int) -> dict[str, Any]:
        """One repo file in one request: {"status": "ok", "revision", "text"} or {"status": <why not>, ...}.

        Statuses other than "ok": missing (404), gated, not_found, disabled, too_large (over ``max_bytes``;
        the body is not read past the cap), refused (a redirect off the endpoint's origin, or a reply that
        could not be read). Unexpected HTTP errors and used-up retries raise :class:`CrawlStop`.
        """
        url = f"{self.endpoint}/{quote(repo_id, safe='/')}/resolve/{quote(revision, safe='')}/{quote(filename)}"
        try:
            response, _ = self._call(url, None, max_bytes=max_bytes)
        except TooLarge as err:
            return {"status": "too_large", "revision": revision, "size": err.size}
        except BadReply as err:
            return {"status": "refused", "revision": revision, "reason": str(err)}
        except RevisionNotFoundError:
            if revision == "main":
                return {"status": "not_found", "revision": revision}
            return self.get_file(repo_id, "main", filename, max_bytes)  # the listed commit is gone: the branch
        except RemoteEntryNotFoundError:
            return {"status": "missing", "revision": revision}
        except GatedRepoError:
            return {"status": "gated", "revision": revision}
        except RepositoryNotFoundError:
            return {"status": "not_found", "revision": revision}
        except DisabledRepoError:
            return {"status": "disabled", "revision": revision}
        return {"status": "ok", "revision": revision, "text": response.content.decode("utf-8", errors="replace")}

    # -- one call, with retries -----------------------------------------------------------------------------
    def _call(self, url: str, params: list[tuple[str, str]] | None, *, max_bytes: int = MAX_REPLY_BYTES,
              parse: bool = False, form: list[tuple[str, str]] | None = None) -> tuple[httpx2.Response, Any]:
        """GET ``url`` (POST ``form``, form-encoded, when given: a read that changes nothing, so retried alike)
        until an answer that is not worth retrying; raise the library's error for it
        (``hf_raise_for_status``) or return it, with its body parsed as JSON when ``parse``.

        JSON is read by :func:`ptmgraph.reader.json_document`: a body that does not parse is retried (it was
        most likely cut short); one over the reader's bounds (too deep, an integer of hundreds of digits)
        is a :class:`BadReply` at once."""
        limits = self.limits
        backoff = limits.backoff
        failure = ""  # what the last attempt that was not cut off by the deadline met
        where = shown(url, params)
        deadline = time.monotonic() + limits.request_deadline  # moved on by every wait the server asks for
        tries = 0
        waited = 0.0  # the waits the server asked of this call
        out_of_time = False  # the crawl's deadline: no attempt or wait may end after it
        try:
            for attempt in range(1, limits.max_tries + 1):
                asked: float | None = None
                failed = ""  # what this attempt met; stays empty when the deadline cut it off
                try:
                    paced = self._pacer.wait(limits.max_wait, waited, self._stop_at, limits.knob("max_wait"))
                except CrawlStop as err:
                    raise CrawlStop(f"GET {where}: {err}") from None
                waited += paced
                deadline += paced
                if time.monotonic() >= min(deadline, self._stop_at):
                    break
                tries = attempt
                ends = min(deadline, self._stop_at)
                try:
                    response = self._get_following_redirects(url, params, max_bytes, ends, form)
                except httpx2.ConnectTimeout:
                    failed = f"no connection within {limits.connect_timeout:g} s"
                except httpx2.ReadTimeout:
                    if time.monotonic() < ends:
                        failed = f"no data for {limits.read_timeout:g} s"
                except httpx2.TransportError as err:
                    failed = f"connection failed ({first_line(err)})"
                else:
                    self._pacer.observe(response.headers)
                    if self.first_date is None and response.headers.get("date"):
                        self.first_date = response.headers["date"]
                    status = response.status_code
                    if status in _RETRY_STATUSES:
                        failed = f"HTTP {status}"
                        asked = _asked_wait(response)
                    elif status >= 400:
                        self._raise_for_status(response)
                    elif not parse:
                        return response, None
                    else:
                        data = reader.json_document(response.content, where)
                        if not isinstance(data, Problem):
                            return response, data
                        if not data.message.startswith("not valid JSON"):  # over a bound: the same next time
                            raise BadReply(f"GET {where}: {data.message}")
                        failed = "a reply that is not JSON (cut short?)"
                failure = failed or failure
                self._count("retries_429" if failed == "HTTP 429" else
                            "retries_5xx" if failed.startswith("HTTP 5") else "retries_other")
                if attempt == limits.max_tries:
                    break
                if asked is not None and waited + asked > limits.max_wait:
                    raise CrawlStop(f"GET {where}: " + over_max_wait("the server", asked, waited, limits.max_wait,
                                                                      limits.knob("max_wait")))
                now = time.monotonic()
                if asked is None:
                    time.sleep(max(0.0, min(backoff * random.uniform(0.75, 1.25), deadline - now, self._stop_at - now)))
                    backoff = min(_MAX_BACKOFF, backoff * 2)
                elif now + asked > self._stop_at:
                    raise DeadlinePassed()
                else:
                    time.sleep(asked)
                    waited += asked
                    deadline += asked
        except DeadlinePassed:
            out_of_time = True
        if out_of_time or time.monotonic() >= self._stop_at:
            raise CrawlStop(f"the crawl's {limits.deadline:g} s deadline ({limits.knob('deadline')}) passed; "
                            f"last request: GET {where}")
        if failure.startswith("a reply that is not JSON") and tries == limits.max_tries:
            raise BadReply(f"GET {where}: {failure}; {plural(tries, 'try', 'tries')}")
        if tries < limits.max_tries or time.monotonic() >= deadline:
            met = f"{failure}; " if failure else ""
            raise CrawlStop(f"GET {where}: {met}no complete answer within the {limits.request_deadline:g} s request "
                            f"deadline ({limits.knob('request_deadline')}), {plural(tries, 'try', 'tries')}")
        raise CrawlStop(f"GET {where}: {failure}; {plural(tries, 'try', 'tries')}")

    def _get_following_redirects(self, url: str, params: list[tuple[str, str]] | None,
                                 max_bytes: int, deadline: float,
                                 form: list[tuple[str, str]] | None = None) -> httpx2.Response:
        for _ in range(_MAX_REDIRECTS + 1):
            response = self._get(url, params, max_bytes, deadline, form)
            if response.status_code not in _REDIRECT_STATUSES or "location" not in response.headers:
                return response
            target = without_credentials(urljoin(str(response.request.url), response.headers["location"]))
            if origin(target) != self.origin:
                raise BadReply(f"GET {shown(url, params)}: redirected to another origin ({_origin_text(target)}); "
                               "not followed")
            url, params = target, None
        raise BadReply(f"GET {shown(url, params)}: more than {_MAX_REDIRECTS} redirects")

    def _get(self, url: str, params: list[tuple[str, str]] | None, max_bytes: int,
             deadline: float, form: list[tuple[str, str]] | None = None) -> httpx2.Response:
        """One attempt (a POST of ``form`` when given), ended by ``deadline`` (monotonic); the body is read in
        full, up to ``max_bytes`` (a longer one raises BadReply)."""
        with self._stats_lock:
            if self.limits.max_requests is not None and self.stats["requests"] >= self.limits.max_requests:
                raise CrawlStop(f"the crawl sent {self.stats['requests']:,} requests, its bound "
                                f"({self.limits.knob('max_requests')})")
            self.stats["requests"] += 1
        query = httpx2.QueryParams(tuple(params)) if params else None  # None: keep the query a next-page URL carries
        method, body = ("GET", None) if form is None else ("POST", urlencode(form).encode())
        headers = self._headers if form is None else {**self._headers,
                                                      "Content-Type": "application/x-www-form-urlencoded"}
        with self._slots, socket_deadline(deadline), \
                self._client.stream(method, url, params=query, headers=headers, content=body) as response:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes and response.status_code == 200:
                raise TooLarge(f"GET {shown(url)}: {declared} bytes, over the {max_bytes}-byte limit", int(declared))
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise TooLarge(f"GET {shown(url)}: over the {max_bytes}-byte limit", size)
                chunks.append(chunk)
        return httpx2.Response(response.status_code, headers=response.headers, content=b"".join(chunks),
                               request=response.request)

    def _raise_for_status(self, response: httpx2.Response) -> None:
        try:
            hf_raise_for_status(response)
        except HfHubHTTPError as err:
            if isinstance(err, RepositoryNotFoundError | DisabledRepoError | EntryNotFoundError
                          | RevisionNotFoundError):
                raise
            raise CrawlStop(f"GET {shown(str(response.request.url))}: HTTP {response.status_code} "
                            f"({first_line(err)})") from None

    def _count(self, key: str) -> None:
        with self._stats_lock:
            self.stats[key] += 1


def _asked_wait(response: httpx2.Response) -> float | None:
    """The wait a retryable answer asks for (see *wait* in the module docstring), or None."""
    info = ratelimit(response.headers)
    if response.status_code == 429 and info is not None and info[0] == 0:
        return info[1]
    value = response.headers.get("retry-after", "").strip()
    return seconds_of(value) if value.isascii() and value.isdigit() else None


def _origin_text(url: str) -> str:
    scheme, host, port = origin(url)
    return f"{scheme}://{host}:{port}"
