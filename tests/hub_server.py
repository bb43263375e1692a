"""A local, Hub-shaped HTTP server for crawl tests (standard library only).

It serves the models of a folder laid out like the Hub sample (the tests give it ``tests/data/hub-sample``)
the way the Hugging Face Hub's API does, so that ``huggingface_hub`` itself (``HfApi.list_models``,
``HfApi.model_info``, ``hf_hub_download``) can be pointed at it with ``HF_ENDPOINT`` / ``endpoint=``:

- ``GET /api/models``: ``filter`` (tag match; repeated filters must all match), ``author``, ``search``
  (substring of the id), ``sort`` (``direction=-1``, the default, newest or largest first; ``direction=1`` the
  other way; records without the field last), ``limit`` (caps the page size), repeated ``expand`` (only those
  fields plus ``id``/``_id`` are returned; without it the Hub's default fields, :data:`DEFAULT_LIST_FIELDS`:
  the id-only listing an update uses); ``page_size`` models a page, with a GitHub-style
  ``Link: <...>; rel="next"`` header whose URL carries every parameter plus a ``cursor``.
- ``GET /api/models/{id}`` and ``/api/models/{id}/revision/{rev}``: one record (404 ``RepoNotFound``).
- ``GET /api/models/{id}/tree/{rev}`` (``recursive``, ``expand``; pages of :attr:`HubServer.tree_page_size`
  with a ``Link`` next page, as the Hub pages an expanded tree by 50) and ``POST /api/models/{id}/paths-info/{rev}``
  (form fields ``paths``, repeated, and ``expand``): the entries the Hub gives (``type``, ``path``, ``oid``,
  ``size``, ``lfs``; with ``expand`` also ``lastCommit`` and ``securityFileStatus``): those given in
  :class:`HubServer`'s ``trees``, else one per sibling, last changed by the record's commit on its
  ``lastModified`` day and scanned safe.
- ``HEAD``/``GET /{id}/resolve/{rev}/{file}``: README.md from readmes.jsonl (the cards), plus the ``files`` given to
  :class:`HubServer`; 404 ``EntryNotFound`` otherwise. Headers are those ``hf_hub_download`` needs:
  ``ETag``, ``X-Repo-Commit`` and ``Content-Length``.

Records: every ``models.jsonl`` row; ids that appear only in ``model_tree.jsonl`` lists get a minimal
synthesized record (id, author, tags, no files). Every record's tags include ``base_model:<parent>`` and
``base_model:<relation>:<parent>`` for each parent the tree lists name (added when the raw record lacks them),
because the Hub answers ``filter=base_model:<id>`` from exactly those tags.

Faults, for resilience tests: :meth:`HubServer.inject` (statuses or fault kinds for the next requests),
:meth:`HubServer.inject_every` (every k-th request), :meth:`HubServer.die_after` (every request after the
next k fails, by an error status or by closing the connection) and :meth:`HubServer.random_faults` (a
seeded share of all answers). Fault kinds besides a status: ``close`` (the connection is closed without an
answer), ``cut`` (half the body, then the connection closes: fewer bytes than ``Content-Length``),
``truncated`` (a 200 whose JSON body is cut in half, ``Content-Length`` matching), ``hold`` (the answer,
logged at once, goes out one byte every :attr:`HubServer.hold_seconds`, so that the client's read timeout never
meets it, until :meth:`HubServer.release`, then whole: the client is kept in its request), ``slow`` (no answer
until the client hangs up, or :attr:`HubServer.slow_seconds` have passed: logged at once, with status 0;
a client's timeout shorter than that always meets it, however loaded the machine), ``trickle`` (the whole
answer, status line included, one byte every :attr:`HubServer.trickle_seconds`), ``429``
(``Retry-After: 0`` and ``RateLimit`` headers saying none is left), ``429-bare`` (no header) and
``429-after-N`` (``Retry-After: N``). Random faults cut file bodies (``cut``) rather than truncate them:
a file cut short with a matching length is a different file.
Hostile paging: :attr:`HubServer.link_to_self` (a listing's
last page links to itself), :attr:`HubServer.repeat_pages` (every cursor page repeats the first page's
ids, with a new cursor each time), :attr:`HubServer.next_page_host` (first pages link to another server).
:attr:`HubServer.redirects` answers requests whose path contains a key with a 302 to its value,
:attr:`HubServer.bodies` with a 200 and that body. :attr:`HubServer.extra_headers` are sent with every
answer. :attr:`HubServer.invent_children` makes every child listing answer that many models never seen
before (``<parent>-<n>``, tagged as its children), so a crawl of it never ends by itself.
:meth:`HubServer.rate_limit` sends ``RateLimit`` headers on every answer and 429s past a quota.
:meth:`HubServer.kill_at` SIGKILLs a process when the n-th request arrives. Each request is logged
(:attr:`HubServer.log`).

:func:`point_hf_at` sets up a test's environment for it: ``HF_ENDPOINT``, a cache and home in ``tmp_path``,
telemetry off and no token.

Two states of one data set, for ``crawl --update`` (:func:`two_states`): state 1 holds the models created
before a cut-off date, as they were then, and the server's clock (the ``Date`` header of every answer,
:attr:`HubServer.clock`) says the cut-off; state 2 holds all of them, with some modified (card, licence,
weights; a later ``lastModified`` and commit) and some removed (deleted or made private: the Hub answers
404 for both and lists neither), and a later clock. :meth:`HubServer.switch` changes state during a test.
"""

from __future__ import annotations

import base64
import copy
import email.utils
import hashlib
import json
import os
import random
import select
import signal
import socket
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

if TYPE_CHECKING:
    import pytest

TREE_HEADINGS = {"finetunes": "finetune", "adapters": "adapter", "quantizations": "quantized", "merges": "merge"}
# What the Hub accepts in `expand` for a listing; model_info accepts a few more.
LIST_EXPANDABLE = {
    "author", "cardData", "config", "createdAt", "disabled", "downloads", "downloadsAllTime", "gated", "gguf",
    "inference", "lastModified", "library_name", "likes", "mask_token", "model-index", "pipeline_tag", "private",
    "safetensors", "sha", "siblings", "spaces", "tags", "transformersInfo", "trendingScore", "widgetData",
}
INFO_EXPANDABLE = LIST_EXPANDABLE | {"baseModels", "childrenModelCount", "usedStorage", "resourceGroup"}
SORT_KEYS = {"downloads", "likes", "createdAt", "lastModified", "trendingScore"}
DEFAULT_LIST_FIELDS = ("id", "_id", "modelId", "likes", "downloads", "private", "tags", "pipeline_tag",
                       "library_name", "createdAt")


def _read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def _fake_hex(text: str, n: int = 40) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:n]


@dataclass
class HubData:
    """What the server knows: records by id and README texts. Read-only once built (tests share it)."""

    records: dict[str, dict[str, Any]]
    readmes: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._by_lower = {k.lower(): k for k in self.records}
        self._by_tag: dict[str, list[str]] = defaultdict(list)
        for model_id, record in self.records.items():
            for tag in record.get("tags") or []:
                self._by_tag[tag].append(model_id)

    @classmethod
    def from_directory(cls, folder: Path) -> HubData:
        """Load ``models.jsonl``, ``readmes.jsonl`` and ``model_tree.jsonl`` (all three must exist)."""
        for name in ("models.jsonl", "readmes.jsonl", "model_tree.jsonl"):
            if not (folder / name).is_file():
                raise FileNotFoundError(f"{folder / name}: missing; the crawl tests need the hub-sample data")
        records: dict[str, dict[str, Any]] = {}
        for row in _read_jsonl(folder / "models.jsonl"):
            records.setdefault(row["id"], row)
        parents: dict[str, list[tuple[str, str]]] = defaultdict(list)  # child -> [(relation, base)]
        for row in _read_jsonl(folder / "model_tree.jsonl"):
            for heading, relation in TREE_HEADINGS.items():
                for child in row.get(heading) or []:
                    parents[child].append((relation, row["id"]))
        for child, bases in parents.items():
            record = records.get(child)
            if record is None:
                record = {"id": child, "_id": _fake_hex(child, 24), "author": child.split("/", 1)[0] if "/" in child
                          else None, "tags": [], "siblings": []}
                records[child] = record
            tags = list(record.get("tags") or [])
            for relation, base in bases:
                for tag in (f"base_model:{base}", f"base_model:{relation}:{base}"):
                    if tag not in tags:
                        tags.append(tag)
            record["tags"] = tags
        readmes = {row["id"]: row["readme"] for row in _read_jsonl(folder / "readmes.jsonl")
                   if isinstance(row.get("readme"), str)}
        return cls(records=records, readmes=readmes)

    def find(self, model_id: str) -> dict[str, Any] | None:
        """The record of ``model_id``, looked up case-insensitively like the Hub does."""
        key = self._by_lower.get(model_id.lower())
        return None if key is None else self.records[key]

    def commit(self, record: dict[str, Any]) -> str:
        sha = record.get("sha")
        return sha if isinstance(sha, str) and sha else _fake_hex(record["id"])

    def select(self, filters: list[str], author: str | None, search: str | None) -> list[dict[str, Any]]:
        """Records matching every filter tag, the author and the search text, in a stable order."""
        if filters:
            ids = [i for i in self._by_tag.get(filters[0], []) if all(f in self.records[i]["tags"] for f in filters)]
        else:
            ids = list(self.records)
        out = [self.records[i] for i in ids]
        if author:
            out = [r for r in out if (r.get("author") or r["id"].split("/", 1)[0]).lower() == author.lower()]
        if search:
            out = [r for r in out if search.lower() in r["id"].lower()]
        return out


def shape(record: dict[str, Any], expand: list[str] | None, default: tuple[str, ...] | None) -> dict[str, Any]:
    """A record as the API returns it: the expanded fields (plus id/_id), or ``default`` fields, or all."""
    if expand:
        keep = {"id", "_id", *expand}
    elif default is not None:
        keep = set(default)
    else:
        return dict(record)
    return {k: v for k, v in record.items() if k in keep}


@dataclass
class LoggedRequest:
    method: str
    path: str  # path and query, as sent
    status: int  # 0: no complete answer (connection closed, body cut short)
    authorized: bool  # an Authorization header was sent
    fault: str | None = None  # the injected fault, if any
    authorization: str | None = None  # the Authorization header sent, if any


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    hub: HubServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up on a slow answer closed its end: nothing to report


class _HeldWriter:
    """The ``hold`` fault's writer: one byte every ``hold_seconds`` until the server is released."""

    def __init__(self, inner: Any, hub: HubServer) -> None:
        self.inner, self.hub = inner, hub

    def write(self, data: bytes) -> int:
        for at in range(len(data)):
            if self.hub.released.is_set():
                self.inner.write(data[at:])
                break
            self.inner.write(data[at:at + 1])
            self.inner.flush()
            self.hub.released.wait(self.hub.hold_seconds)
        return len(data)

    def flush(self) -> None:
        self.inner.flush()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The ``Date`` header: the server's :attr:`HubServer.clock` when set, else now."""
        clock = self.server.hub.clock
        if clock is not None and timestamp is None:
            return email.utils.format_datetime(clock, usegmt=True)
        return super().date_time_string(timestamp)

    def do_GET(self) -> None:
        self._handle(head=False)

    def do_HEAD(self) -> None:
        self._handle(head=True)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self._form = parse_qs(self.rfile.read(length).decode("utf-8"), keep_blank_values=True)
        self._handle(head=False)

    # -- plumbing ---------------------------------------------------------------------------------------------
    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None, *, head: bool = False,
              content_type: str = "application/json") -> None:
        hub = self.server.hub
        fault = getattr(self, "_body_fault", None)
        self._body_fault = None
        body_fault = fault if status == 200 else None
        declared = len(body)
        if body_fault == "truncated":
            body = body[:len(body) // 2]
            declared = len(body)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(declared))
        for key, value in {**(headers or {}), **hub.extra_headers, **hub._quota_headers()}.items():
            self.send_header(key, value)
        # Logged before the answer leaves, so that a client never outruns the log.
        if not getattr(self, "_logged", False):
            hub._log(self, 0 if body_fault == "cut" else status, fault)
        self._logged = False
        self.end_headers()
        if body_fault == "cut":
            self.wfile.write(body[:len(body) // 2])
            self.close_connection = True
            return
        if not head and body:
            self.wfile.write(body)

    def _json(self, status: int, payload: object, headers: dict[str, str] | None = None, *, head: bool = False) -> None:
        self._send(status, json.dumps(payload).encode(), headers, head=head)

    def _error(self, status: int, message: str, code: str | None = None, *, head: bool = False,
               headers: dict[str, str] | None = None) -> None:
        extra = dict(headers or {})
        if code:
            extra["X-Error-Code"] = code
        extra["X-Error-Message"] = message
        self._json(status, {"error": message}, extra, head=head)

    def _wait_for_hangup(self, seconds: float) -> bool:
        """Whether the client closed the connection within ``seconds`` (it sends nothing while it waits)."""
        ready, _, _ = select.select([self.connection], [], [], seconds)
        try:
            return bool(ready) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _handle(self, *, head: bool) -> None:
        hub = self.server.hub
        hub._maybe_kill()
        fault = hub._next_fault(self.path)
        if fault == "hold":
            inner = self.wfile
            self.wfile = _HeldWriter(inner, hub)  # type: ignore[assignment]
            try:
                self._answer(fault, head=head)
            finally:
                self.wfile = inner
            return
        self._answer(fault, head=head)

    def _answer(self, fault: int | str | None, *, head: bool) -> None:
        hub = self.server.hub
        if fault == "close":
            self.close_connection = True
            hub._log(self, 0, "close")
            return
        if fault == "slow":
            hub._log(self, 0, "slow")  # now: the client may give up and finish its run before the wait ends
            if self._wait_for_hangup(hub.slow_seconds):
                self.close_connection = True
                return
            self._logged = True
        if fault == "trickle":
            hub._log(self, 0, "trickle")
            body = json.dumps([{"id": f"t/{n}"} for n in range(200)]).encode()
            answer = (f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
                      .encode() + body)
            self.close_connection = True
            try:
                for byte in answer:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(hub.trickle_seconds)
            except OSError:  # the client gave up: what the fault is for
                pass
            return
        self._body_fault = None if fault is None else str(fault)
        if isinstance(fault, int) or str(fault).startswith("429-"):
            headers = {}
            if fault == 429:
                headers = {"Retry-After": "0", "RateLimit": '"api";r=0;t=0',
                           "RateLimit-Policy": '"fixed window";"api";q=500;w=300'}
            elif str(fault).startswith("429-after-"):
                headers = {"Retry-After": str(fault)[len("429-after-"):]}
            status = 429 if isinstance(fault, str) else int(fault)
            self._error(status, f"injected fault {status}", head=head, headers=headers)
            return
        if hub._over_quota():
            self._error(429, "rate limited", head=head)
            return
        body = next((raw for match, raw in hub.bodies.items() if match in self.path), None)
        if body is not None:
            self._send(200, body, head=head)
            return
        target = next((to for match, to in hub.redirects.items() if match in self.path), None)
        if target is not None:
            self._send(302, b"", {"Location": target}, head=head)
            return
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        path = unquote(parts.path)
        try:
            if path == "/api/models":
                self._list(query, head=head)
            elif path.startswith("/api/models/") and ("/tree/" in path or "/paths-info/" in path):
                self._files(path[len("/api/models/"):], query, head=head)
            elif path.startswith("/api/models/"):
                self._info(path[len("/api/models/"):], query, head=head)
            elif "/resolve/" in path:
                self._resolve(path, head=head)
            else:
                self._error(404, "Not found", head=head)
        except ConnectionError:  # the client gave up on this answer (a body over its cap, a timeout)
            self.close_connection = True
        except Exception as err:  # a bug in this test server must show as a 500, not hang the client
            self._error(500, f"test server error: {type(err).__name__}: {err}", head=head)

    # -- endpoints --------------------------------------------------------------------------------------------
    def _list(self, query: dict[str, list[str]], *, head: bool) -> None:
        hub = self.server.hub
        expand = query.get("expand", [])
        bad = [e for e in expand if e not in LIST_EXPANDABLE]
        if bad:
            self._error(400, f'"expand" must be one of the listable properties, got {bad}', head=head)
            return
        rows = hub.data.select(query.get("filter", []), _one(query, "author"), _one(query, "search"))
        parent = next((f[len("base_model:"):] for f in query.get("filter", []) if f.startswith("base_model:")), None)
        if hub.invent_children and parent is not None:
            rows = [{"id": f"{parent}-{n}", "_id": f"{parent}-{n}", "author": parent.split("/")[0],
                     "tags": [f"base_model:{parent}"], "siblings": []} for n in range(hub.invent_children)]
        sort = _one(query, "sort")
        if sort:
            if sort not in SORT_KEYS:
                self._error(400, f'"sort" must be one of {sorted(SORT_KEYS)}', head=head)
                return
            ascending = _one(query, "direction") == "1"
            rows = sorted(rows, key=lambda r: (r.get(sort) is None, r.get(sort) if ascending else _neg(r.get(sort))))
        size = hub.page_size
        limit = _one(query, "limit")
        if limit:
            size = max(1, min(size, int(limit)))
        cursor = _one(query, "cursor")
        start = json.loads(base64.urlsafe_b64decode(cursor.encode()))["o"] if cursor else 0
        page = rows[0:size] if cursor and hub.repeat_pages else rows[start:start + size]
        headers = {}
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        if hub.next_page_host and not cursor:
            host = hub.next_page_host
        params = [(k, v) for k, values in query.items() if k != "cursor" for v in values]
        if start + size < len(rows):
            params.append(("cursor", base64.urlsafe_b64encode(json.dumps({"o": start + size}).encode()).decode()))
            headers["Link"] = f'<http://{host}/api/models?{urlencode(params)}>; rel="next"'
        elif hub.link_to_self:
            headers["Link"] = f'<http://{host}{self.path}>; rel="next"'
        self._json(200, [shape(r, expand, DEFAULT_LIST_FIELDS) for r in page], headers, head=head)

    def _info(self, rest: str, query: dict[str, list[str]], *, head: bool) -> None:
        model_id, _, _revision = rest.partition("/revision/")
        model_id = model_id.rstrip("/")
        expand = query.get("expand", [])
        bad = [e for e in expand if e not in INFO_EXPANDABLE]
        if bad:
            self._error(400, f'"expand" must be one of the model properties, got {bad}', head=head)
            return
        record = self._served(model_id, head=head)
        if record is not None:
            self._json(200, shape(record, expand, None), head=head)

    def _files(self, rest: str, query: dict[str, list[str]], *, head: bool) -> None:
        """The tree listing (GET, paged) or paths-info (POST) of one repo (see the module docstring)."""
        hub = self.server.hub
        listing = "/tree/" in rest
        model_id, _, revision = rest.partition("/tree/" if listing else "/paths-info/")
        record = self._served(model_id, head=head)
        if record is None:
            return
        if record["id"] in hub.gated:
            self._error(401, f"Access to model {record['id']} is restricted.", "GatedRepo", head=head)
            return
        if revision.split("/")[0] not in ("main", hub.data.commit(record)):
            self._error(404, f"Invalid rev id: {revision}", "RevisionNotFound", head=head)
            return
        form = getattr(self, "_form", {}) if not listing else query
        expand = (_one(form, "expand") or "").lower() in ("1", "true")
        entries = [hub.tree_entry(record, e, expand) for e in hub.tree_of(record)]
        if not listing:
            wanted = set(form.get("paths", []))
            self._json(200, [e for e in entries if e["path"] in wanted], head=head)
            return
        size = hub.tree_page_size if expand else 1000
        cursor = _one(query, "cursor")
        start = int(cursor) if cursor else 0
        headers = {}
        if start + size < len(entries):
            host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
            params = [(k, v) for k, values in query.items() if k != "cursor" for v in values]
            params.append(("cursor", str(start + size)))
            headers["Link"] = f'<http://{host}/api/models/{rest}?{urlencode(params)}>; rel="next"'
        self._json(200, entries[start:start + size], headers, head=head)

    def _served(self, model_id: str, *, head: bool) -> dict[str, Any] | None:
        """The record of a repo the Hub serves; otherwise answers 404 / 403 as the Hub does and returns None."""
        hub = self.server.hub
        record = hub.data.find(model_id)
        if record is None:
            self._error(404, "Repository not found", "RepoNotFound", head=head)
        elif record["id"] in hub.disabled:
            self._error(403, "Access to this resource is disabled.", head=head)
            return None
        return record

    def _resolve(self, path: str, *, head: bool) -> None:
        hub = self.server.hub
        repo, _, rest = path.lstrip("/").partition("/resolve/")
        revision, _, filename = rest.partition("/")
        record = self._served(repo, head=head)
        if record is None:
            return
        commit = hub.data.commit(record)
        if record["id"] in hub.gated:
            self._error(401, f"Access to model {record['id']} is restricted.", "GatedRepo", head=head)
            return
        if revision not in ("main", commit):
            self._error(404, f"Invalid rev id: {revision}", "RevisionNotFound", head=head)
            return
        content = hub.file(record, filename)
        if content is None:
            self._error(404, "Entry not found", "EntryNotFound", head=head, headers={"X-Repo-Commit": commit})
            return
        headers = {"ETag": f'"{hashlib.sha1(content).hexdigest()}"', "X-Repo-Commit": commit,
                   "Accept-Ranges": "bytes"}
        content_type = "text/plain; charset=utf-8" if filename.endswith(".md") else "application/json"
        self._send(200, content, headers, head=head, content_type=content_type)


def _one(query: dict[str, list[str]], key: str) -> str | None:
    values = query.get(key)
    return values[-1] if values else None


def _neg(value: object) -> object:
    return -value if isinstance(value, int | float) else _Reversed(str(value))


class _Reversed(str):
    """Sorts strings (ISO dates) in descending order."""

    def __lt__(self, other: str) -> bool:  # type: ignore[override]
        return str.__gt__(self, other)


class HubServer:
    """The server, on 127.0.0.1 and a free port (or ``port``); a context manager that starts and stops it.

    ``page_size`` is the number of models per listing page (the Hub uses up to 1,000; tests use fewer
    so that paging is exercised). ``files`` adds repo files ((repo id, path) -> content) to the READMEs
    of ``data``; repos in ``gated`` answer file downloads with 401 ``GatedRepo``; repos in ``disabled``
    answer everything with 403 "Access to this resource is disabled.". ``trees``: repo id -> its file entries
    as the expanded tree listing gives them (``path``, ``lfs``, ``lastCommit``, ``securityFileStatus`` ...);
    repos not in it list their siblings (see the module docstring).
    """

    def __init__(self, data: HubData, *, page_size: int = 50, files: dict[tuple[str, str], bytes] | None = None,
                 gated: set[str] | None = None, disabled: set[str] | None = None,
                 trees: dict[str, list[dict[str, Any]]] | None = None, port: int = 0) -> None:
        self.data = data
        self.port = port
        self.trees = dict(trees or {})
        self.tree_page_size = 50
        self.page_size = page_size
        self.files = dict(files or {})
        self.gated = set(gated or ())
        self.disabled = set(disabled or ())
        self.log: list[LoggedRequest] = []
        self._lock = threading.Lock()
        self._queued: list[tuple[int, str | None]] = []
        self._every: tuple[int, int, str | None] | None = None
        self._seen_for_every = 0
        self._die_at: int | None = None
        self._die_with: int | str = 403
        self._random: tuple[float, int, tuple[int | str, ...], int] | None = None
        self._tries: dict[str, int] = defaultdict(int)
        self._in_a_row: dict[str, int] = defaultdict(int)
        self._quota: tuple[int, float] | None = None
        self._window: tuple[float, int] = (0.0, 0)
        self._kill: tuple[int, int] | None = None
        self.slow_seconds = 60.0
        self.trickle_seconds = 0.05
        self.hold_seconds = 1.0
        self.released = threading.Event()
        self.extra_headers: dict[str, str] = {}
        self.invent_children = 0
        self.link_to_self = False
        self.repeat_pages = False
        self.next_page_host: str | None = None
        self.redirects: dict[str, str] = {}
        self.bodies: dict[str, bytes] = {}
        self.clock: datetime | None = None
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    def switch(self, data: HubData, clock: datetime | None = None) -> None:
        """Serve ``data`` from now on, with ``clock`` as the time every answer's ``Date`` header gives."""
        with self._lock:
            self.data, self.clock = data, clock

    # -- lifecycle --------------------------------------------------------------------------------------------
    def start(self) -> HubServer:
        self._httpd = _Server(("127.0.0.1", self.port), _Handler)
        self._httpd.hub = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), name="hub-server",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> HubServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("server is not running")
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def tree_of(self, record: dict[str, Any]) -> list[dict[str, Any]]:
        """The file entries of a repo: those given in ``trees``, else one per sibling."""
        if record["id"] in self.trees:
            return self.trees[record["id"]]
        return [{"path": s["rfilename"]} for s in record.get("siblings") or [] if isinstance(s, dict)]

    def tree_entry(self, record: dict[str, Any], given: dict[str, Any], expand: bool) -> dict[str, Any]:
        """One entry as the Hub answers it, with or without ``expand``."""
        entry = {"type": "file", "oid": _fake_hex(record["id"] + given["path"]), "size": 0, **given}
        if expand:
            entry.setdefault("lastCommit", {"id": self.data.commit(record), "title": "Upload",
                                            "date": record.get("lastModified") or "2024-01-01T00:00:00.000Z"})
            entry.setdefault("securityFileStatus", {"status": "safe", "avScan": {"status": "safe"},
                                                    "pickleImportScan": {"status": "safe"}})
        else:
            entry.pop("lastCommit", None)
            entry.pop("securityFileStatus", None)
        return entry

    def file(self, record: dict[str, Any], path: str) -> bytes | None:
        """The content of ``path`` in the repo of ``record``, or None."""
        found = self.files.get((record["id"], path))
        if found is not None:
            return found
        if path == "README.md" and record["id"] in self.data.readmes:
            return self.data.readmes[record["id"]].encode("utf-8")
        return None

    # -- faults -----------------------------------------------------------------------------------------------
    def inject(self, *statuses: int | str, match: str | None = None) -> None:
        """Answer the next ``len(statuses)`` requests (whose path contains ``match``) with these statuses or
        fault kinds (see the module docstring)."""
        with self._lock:
            self._queued.extend((status, match) for status in statuses)

    def release(self) -> None:
        """Let the answers the ``hold`` fault keeps go out whole."""
        self.released.set()

    def inject_every(self, k: int, status: int, *, match: str | None = None) -> None:
        """Answer every ``k``-th request (counting those whose path contains ``match``) with ``status``."""
        with self._lock:
            self._every, self._seen_for_every = (k, status, match), 0

    def die_after(self, k: int, *, status: int | None = 403) -> None:
        """After the next ``k`` requests, fail every request: with ``status``, or by closing the connection
        without an answer when ``status`` is None. (``huggingface_hub`` retries 429/5xx and dropped connections
        with back-off for about 20 s per call; a 403 is not retried, so the crawl stops at once.)"""
        with self._lock:
            self._die_at = len(self.log) + k
            self._die_with = "close" if status is None else status

    def random_faults(self, rate: float, kinds: tuple[int | str, ...], *, seed: int = 0,
                      max_in_a_row: int = 3) -> None:
        """Answer a share ``rate`` of requests with one of ``kinds``, drawn from a generator seeded by ``seed``,
        the request's path and how many times that path was asked before: the same faults whatever order
        concurrent requests arrive in. A path fails at most ``max_in_a_row`` times running."""
        with self._lock:
            self._random = (rate, seed, kinds, max_in_a_row)

    def rate_limit(self, quota: int, window: float) -> None:
        """Allow ``quota`` requests per fixed window of ``window`` seconds (429 past it), and say so in the
        ``RateLimit`` / ``RateLimit-Policy`` headers of every answer."""
        with self._lock:
            self._quota = (quota, window)
            self._window = (time.monotonic(), 0)

    def kill_at(self, n: int, pid: int) -> None:
        """SIGKILL process ``pid`` when the ``n``-th request from now arrives (before it is answered)."""
        with self._lock:
            self._kill = (len(self.log) + n, pid)

    def revive(self) -> None:
        """Clear every injected fault."""
        with self._lock:
            self._queued.clear()
            self._every = None
            self._die_at = None
            self._random = None
            self._kill = None
            self.link_to_self = self.repeat_pages = False
            self.next_page_host = None

    def _maybe_kill(self) -> None:
        with self._lock:
            if self._kill is None or len(self.log) + 1 < self._kill[0]:
                return
            pid, self._kill = self._kill[1], None
        os.kill(pid, signal.SIGKILL)

    def _over_quota(self) -> bool:
        with self._lock:
            if self._quota is None:
                return False
            started, used = self._window
            if time.monotonic() - started >= self._quota[1]:
                started, used = time.monotonic(), 0
            self._window = (started, used + 1)
            return used + 1 > self._quota[0]

    def _quota_headers(self) -> dict[str, str]:
        with self._lock:
            if self._quota is None:
                return {}
            quota, window = self._quota
            started, used = self._window
        left = max(0, quota - used)
        reset = max(0, int(window - (time.monotonic() - started) + 0.999))
        return {"RateLimit": f'"api";r={left};t={reset}',
                "RateLimit-Policy": f'"fixed window";"api";q={quota};w={int(window)}'}

    def _next_fault(self, path: str) -> int | str | None:
        """The fault for this request, if any: queued ones first, then every-k-th, then random ones."""
        with self._lock:
            if self._die_at is not None and len(self.log) >= self._die_at:
                return self._die_with
            for i, (status, match) in enumerate(self._queued):
                if match is None or match in path:
                    del self._queued[i]
                    return status
            if self._every is not None:
                k, status, match = self._every
                if match is None or match in path:
                    self._seen_for_every += 1
                    if self._seen_for_every % k == 0:
                        return status
            if self._random is not None:
                rate, seed, kinds, max_in_a_row = self._random
                tries = self._tries[path]
                self._tries[path] += 1
                draw = random.Random(f"{seed}|{path}|{tries}")
                if draw.random() < rate and self._in_a_row[path] < max_in_a_row:
                    self._in_a_row[path] += 1
                    kind = draw.choice(kinds)
                    return "cut" if kind == "truncated" and not path.startswith("/api/") else kind
                self._in_a_row[path] = 0
        return None

    # -- log --------------------------------------------------------------------------------------------------
    def _log(self, handler: BaseHTTPRequestHandler, status: int, fault: str | None = None) -> None:
        authorization = handler.headers.get("Authorization")
        entry = LoggedRequest(handler.command, handler.path, status, authorization is not None, fault, authorization)
        with self._lock:
            self.log.append(entry)

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self.log)

    def requests(self, *, method: str | None = None, contains: str | None = None, status: int | None = None,
                 since: int = 0) -> list[LoggedRequest]:
        """Logged requests from number ``since`` on, optionally only those with this method, (unquoted) path
        substring or status."""
        with self._lock:
            entries = self.log[since:]
        return [e for e in entries if (method is None or e.method == method)
                and (contains is None or contains in unquote(e.path)) and (status is None or e.status == status)]

    def listed_parents(self, *, since: int = 0) -> list[str]:
        """The ``base_model:<id>`` filters of successful listing requests (first pages only), in order."""
        out = []
        for entry in self.requests(method="GET", status=200, since=since):
            if entry.fault:
                continue
            parts = urlsplit(entry.path)
            if parts.path != "/api/models":
                continue
            query = parse_qs(parts.query)
            if "cursor" in query:
                continue
            out += [f[len("base_model:"):] for f in query.get("filter", []) if f.startswith("base_model:")]
        return out


def point_hf_at(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, url: str) -> None:
    """Point huggingface_hub at ``url``, with its cache and home in ``tmp_path``, telemetry off, no token, and
    online (the server is the network)."""
    from huggingface_hub import constants

    monkeypatch.setenv("HF_ENDPOINT", url)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HUB_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    # huggingface_hub reads these at import time, so the environment alone comes too late for them. With
    # telemetry on, it would also fetch {import-time endpoint}/api/agent-harnesses once a process.
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_TELEMETRY", True)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "hf-home" / "token"))


# -- two states of one data set ---------------------------------------------------------------------------------

CUTOFF = "2025-03-01T00:00:00.000Z"
"""The cut-off of :func:`two_states` for the test sample: state 1 holds the models created before it."""
STATE_2_TIME = "2025-04-30T00:00:00.000Z"
"""State 2's clock, after every date of the sample."""
MODIFIED_AT = "2025-04-01T00:00:00.000Z"
"""The ``lastModified`` of the models :data:`SAMPLE_CHANGES` modifies in state 2."""
SAMPLE_CHANGES: dict[str, dict[str, Any]] = {
    # relicensed (the card's licence and the Hub's licence tag)
    "perplexity-ai/r1-1776": {"license": "apache-2.0"},
    # new weights: a second safetensors shard
    "RecurvAI/Recurv-Medical-Deepseek-R1": {"add_files": ["model-00002-of-00002.safetensors"]},
    # its card now names another base (tags follow: the Hub derives them from the card)
    "silence09/DeepSeek-R1-Small-2layers": {"base_model": "silence09/DeepSeek-R1-3layers"},
}
"""What :func:`two_states` changes in state 2 of the test sample, by model."""
SAMPLE_REMOVED = ("mradermacher/DeepSeek-R1-GGUF", "zedx1/BlueAI", "raghu1155/DeepSeek-R1-Codegeneration-COT")
"""The models of the test sample that state 2 no longer serves (deleted or made private)."""


def _modified(record: dict[str, Any], change: dict[str, Any], when: str) -> dict[str, Any]:
    out = copy.deepcopy(record)
    card = dict(out.get("cardData") or {})
    tags = list(out.get("tags") or [])
    if "license" in change:
        card["license"] = change["license"]
        tags = [t for t in tags if not t.startswith("license:")] + [f"license:{change['license']}"]
    if "add_files" in change:
        out["siblings"] = list(out.get("siblings") or []) + [{"rfilename": name} for name in change["add_files"]]
    if "base_model" in change:
        card["base_model"] = change["base_model"]
        tags = [t for t in tags if not t.startswith("base_model:")]
        tags += [f"base_model:{change['base_model']}", f"base_model:finetune:{change['base_model']}"]
    out["cardData"], out["tags"] = card, tags
    out["lastModified"] = when
    out["sha"] = _fake_hex(f"{out['id']} modified {when}")
    return out


def two_states(data: HubData, cutoff: str = CUTOFF, changes: dict[str, dict[str, Any]] | None = None,
               removed: tuple[str, ...] = SAMPLE_REMOVED, modified_at: str = MODIFIED_AT) -> tuple[HubData, HubData]:
    """State 1 and state 2 of ``data`` (see the module docstring).

    State 1: the records created before ``cutoff`` (ISO 8601) or without a creation date (those the model
    trees alone name), each as it was then: one last modified after the cut-off shows its creation date
    and another commit instead. State 2: every record; those in ``changes`` (default :data:`SAMPLE_CHANGES`:
    ``license``, extra weight files ``add_files``, a new ``base_model``) changed, with ``lastModified``
    ``modified_at`` and a new commit; those in ``removed`` left out. READMEs are the same in both."""
    changes = SAMPLE_CHANGES if changes is None else changes
    first: dict[str, dict[str, Any]] = {}
    for model_id, record in data.records.items():
        created = record.get("createdAt")
        if isinstance(created, str) and created >= cutoff:
            continue
        row = dict(record)
        modified = row.get("lastModified")
        if isinstance(modified, str) and modified >= cutoff:  # committed to again after the cut-off
            row["lastModified"] = created
            row["sha"] = _fake_hex(f"{model_id} as of {cutoff}")
        first[model_id] = row
    second = {model_id: (_modified(record, changes[model_id], modified_at) if model_id in changes else record)
              for model_id, record in data.records.items() if model_id not in removed}
    return HubData(first, dict(data.readmes)), HubData(second, dict(data.readmes))


def iso_time(text: str) -> datetime:
    """An ISO 8601 time as the Hub writes it (``...Z``), as an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
