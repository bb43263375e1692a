"""The crawl's connection to the Hub: origins and credentials, socket deadlines, the same-origin transport, pacing.

The terms (*origin*, *credentials*, *deadlines*, *wait*, *pacing*) are defined in :mod:`ptmgraph.sources.hub_client`.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import httpcore2
import httpx2
from huggingface_hub import constants
from huggingface_hub.utils import get_token

from ptmgraph.sources.interface import SourceError


class CrawlStop(SourceError):
    """A call that cannot succeed now (retries used up, a wait over ``max_wait``, an unexpected HTTP error).

    The crawl stops and keeps its journal; running it again resumes it.
    """


class BadReply(Exception):
    """A reply that was received but cannot be used (not JSON after every retry, a redirect to another
    origin, a body over the size cap). It costs only the record or listing it was for: a problem row."""


class TooLarge(BadReply):
    """A body over the size cap of its call; it is not read past the cap. ``size``: bytes declared or read."""

    def __init__(self, message: str, size: int) -> None:
        super().__init__(message)
        self.size = size


DEFAULT_PORTS = {"http": 80, "https": 443}
"""The port of a URL that names none, by scheme: part of an origin (scheme, host, port)."""


_HUB_ORIGINS = frozenset({("https", "huggingface.co", 443), ("https", "hf.co", 443)})
"""The origins a token stored by the ``huggingface_hub`` login is sent to without being told."""
_USERINFO = re.compile(r"^(?P<head>[A-Za-z][A-Za-z0-9+.-]*:)?//(?P<userinfo>[^/?#]*)@")
_BARE_USERINFO = re.compile(r"^(?P<userinfo>[^/?#@]*)@")  # a URL written without its scheme: user:pw@host


def origin(url: str) -> tuple[str, str, int]:
    """The origin of ``url`` (see the module docstring)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:  # not a port number: no origin requests can be sent to
        return scheme, "", -1
    return scheme, (parts.hostname or "").lower(), port or DEFAULT_PORTS.get(scheme, 0)


def split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """``url`` without the userinfo of its authority, and the (user, password) it held, percent-decoded."""
    match = _USERINFO.match(url)
    if match is not None:
        head = f"{match['head'] or ''}//"
    else:
        match, head = _BARE_USERINFO.match(url), ""
        if match is None:
            return url, None
    user, _, password = match["userinfo"].partition(":")
    return head + url[match.end():], (unquote(user), unquote(password))


def without_credentials(url: str) -> str:
    """``url`` as it may be stored or shown: without user name and password."""
    return split_credentials(url)[0]


def resolve_token(endpoint: str, token: str | bool | None, *, token_for_endpoint: bool = False) -> str | None:
    """The token sent to ``endpoint``: ``token`` when a string (None when False), else ``HF_TOKEN`` (or
    ``HUGGING_FACE_HUB_TOKEN``), else the token the ``huggingface_hub`` login stored, which goes only to the
    Hub's own origins unless ``token_for_endpoint`` (or ``token=True``) says to send it to ``endpoint``."""
    if token is False:
        return None
    if isinstance(token, str):
        return token or None
    from_env = (os.environ.get("HF_TOKEN") or os.environ.get("HUGGING_FACE_HUB_TOKEN") or "").strip()
    if from_env:
        return from_env
    if token is None and constants.HF_HUB_DISABLE_IMPLICIT_TOKEN:
        return None
    if token is True or token_for_endpoint or origin(endpoint) in _HUB_ORIGINS:
        return get_token()
    return None


_DEADLINE = threading.local()
"""``at``: the monotonic time by which the current thread's request must be done (None: no deadline)."""


def _within_deadline(timeout: float | None, error: type[Exception]) -> float | None:
    at = getattr(_DEADLINE, "at", None)
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0:
        raise error("deadline passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore2.NetworkStream):
    """A socket stream whose every read and write ends by the request's deadline (see *deadlines*)."""

    def __init__(self, inner: httpcore2.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _within_deadline(timeout, httpcore2.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _within_deadline(timeout, httpcore2.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore2.NetworkStream:
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname,
                                                     _within_deadline(timeout, httpcore2.ConnectTimeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore2.NetworkBackend):
    def __init__(self) -> None:
        self._inner = httpcore2.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Any = None) -> httpcore2.NetworkStream:
        return _DeadlineStream(self._inner.connect_tcp(host, port, _within_deadline(timeout, httpcore2.ConnectTimeout),
                                                       local_address, socket_options))

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Any = None) -> httpcore2.NetworkStream:  # pragma: no cover - unused
        raise httpcore2.ConnectError("the crawl connects over TCP only")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def deadline_transport(workers: int) -> httpx2.HTTPTransport:
    """An httpx transport whose connections keep the request deadlines (see *deadlines*)."""
    transport = httpx2.HTTPTransport(retries=0)
    limits = httpx2.Limits(max_connections=workers)
    # The transport's pool, rebuilt as HTTPTransport builds it but on the deadline-keeping network backend.
    transport._pool = httpcore2.ConnectionPool(
        ssl_context=httpx2.create_ssl_context(), max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections, keepalive_expiry=limits.keepalive_expiry,
        retries=0, network_backend=_DeadlineBackend())
    return transport


class SameOriginTransport(httpx2.BaseTransport):
    """Refuses, before anything is sent, every request to an origin other than the endpoint's."""

    def __init__(self, allowed: tuple[str, str, int], inner: httpx2.BaseTransport) -> None:
        self.allowed = allowed
        self.inner = inner

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        if origin(str(request.url)) != self.allowed:
            raise BadReply(f"{shown(str(request.url))}: not on the endpoint's origin; not requested")
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


class Pacer:
    """Spreads attempts over the rate-limit window the server reports (see *pacing* above)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next = 0.0
        self._interval = 0.0

    def wait(self, max_wait: float, waited: float, stop_at: float, knob: str = "--max-wait") -> float:
        """Sleep until this thread's attempt may start; returns the seconds slept. A wait that takes the
        call's ``waited`` seconds past ``max_wait`` (``knob`` changes it), or ends past ``stop_at`` (the crawl's
        deadline), raises :class:`CrawlStop` instead."""
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            delay = start - now
            if waited + delay > max_wait:
                raise CrawlStop(over_max_wait("the server's RateLimit header", delay, waited, max_wait, knob))
            if start > stop_at:
                raise DeadlinePassed()
            self._next = start + self._interval
        if delay > 0:
            time.sleep(delay)
        return delay

    def observe(self, headers: Mapping[str, str]) -> None:
        info = ratelimit(headers)
        if info is None:
            return
        remaining, reset = info
        with self._lock:
            self._interval = reset / (remaining + 1)
            if remaining == 0:
                self._next = max(self._next, time.monotonic() + reset)


def ratelimit(headers: Mapping[str, str]) -> tuple[int, float] | None:
    """(remaining, seconds to reset) of a ``RateLimit: "api";r=R;t=T`` header, or None when there is none
    or R and T are not both integers. A T of more digits than a float holds exactly is infinite."""
    value = headers.get("ratelimit")
    if not value or len(value) > 1000:
        return None
    fields: dict[str, str] = {}
    for item in value.split(";"):
        key, eq, number = item.partition("=")
        if eq:
            fields.setdefault(key.strip().lower(), number.strip())
    remaining, reset = fields.get("r", ""), fields.get("t", "")
    if not (remaining.isascii() and remaining.isdigit() and reset.isascii() and reset.isdigit()):
        return None
    return min(int(remaining[:18]), 10**18), seconds_of(reset)


def seconds_of(digits: str) -> float:
    """A count of seconds written in ASCII digits, infinite when absurdly long."""
    return float(digits) if len(digits) <= 15 else math.inf


def over_max_wait(who: str, asked: float, waited: float, max_wait: float, knob: str = "--max-wait") -> str:
    """The message of a wait refused: ``who`` asked to wait ``asked`` seconds (after ``waited`` already),
    more than ``max_wait`` allows (``knob`` changes it: the crawl's ``--max-wait`` unless said)."""
    more = f" more, after {waited:.0f} s" if waited else ""
    return f"{who} asks to wait {asked:.0f} s{more}, over the {max_wait:g} s limit ({knob})"


class DeadlinePassed(Exception):
    """The crawl's deadline passed (turned into a :class:`CrawlStop` naming it by the call)."""


@contextlib.contextmanager
def socket_deadline(at: float) -> Iterator[None]:
    """Bound this thread's socket reads and writes by ``at`` (see *deadlines*)."""
    _DEADLINE.at = at
    try:
        yield
    finally:
        _DEADLINE.at = None


def shown(url: str, params: list[tuple[str, str]] | None = None) -> str:
    """``url`` (with ``params``) as messages show it: unquoted, without credentials or the long ``expand`` list."""
    parts = urlsplit(without_credentials(url))
    query = [(k, v) for k, v in [*parse_qsl(parts.query), *(params or [])] if k != "expand"]
    text = f"{parts.scheme}://{parts.netloc}{unquote(parts.path)}"
    return text + ("?" + "&".join(f"{k}={v}" for k, v in query) if query else "")
