"""A local, Hub-shaped HTTP server for crawl tests (standard library only).

It serves the models of ``/work/shared/data/hub-sample`` the way the Hugging Face Hub's API does, so that
``huggingface_hub`` itself (``HfApi.list_models``, ``HfApi.model_info``, ``hf_hub_download``) can be pointed
at it with ``HF_ENDPOINT`` / ``endpoint=``:

- ``GET /api/models``: ``filter`` (tag match; repeated filters must all match), ``author``, ``search``
  (substring of the id), ``sort`` (descending), ``limit`` (caps the page size), repeated ``expand``
  (only those fields plus ``id``/``_id`` are returned); ``page_size`` models a page, with a GitHub-style
  ``Link: <...>; rel="next"`` header whose URL carries every parameter plus a ``cursor``.
- ``GET /api/models/{id}`` and ``/api/models/{id}/revision/{rev}``: one record (404 ``RepoNotFound``).
- ``HEAD``/``GET /{id}/resolve/{rev}/{file}``: README.md from readmes.jsonl, plus the ``files`` given to
  :class:`HubServer`; 404 ``EntryNotFound`` otherwise. Headers are those ``hf_hub_download`` needs:
  ``ETag``, ``X-Repo-Commit`` and ``Content-Length``.

Records: every ``models.jsonl`` row; ids that appear only in ``model_tree.jsonl`` lists get a minimal
synthesized record (id, author, tags, no files). Every record's tags include ``base_model:<parent>`` and
``base_model:<relation>:<parent>`` for each parent the tree lists name (added when the raw record lacks them),
because the Hub answers ``filter=base_model:<id>`` from exactly those tags.

Faults, for resilience tests: :meth:`HubServer.inject` (statuses for the next requests),
:meth:`HubServer.inject_every` (every k-th request) and :meth:`HubServer.die_after` (every request after
the next k fails, by an error status or by closing the connection). 429s carry ``Retry-After: 0`` and
``RateLimit`` headers. Each request is logged (:attr:`HubServer.log`).

:func:`point_hf_at` sets up a test's environment for it: ``HF_ENDPOINT``, a cache and home in ``tmp_path``,
telemetry off and no token.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
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
    status: int
    authorized: bool  # an Authorization header was sent


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    hub: HubServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._handle(head=False)

    def do_HEAD(self) -> None:
        self._handle(head=True)

    # -- plumbing ---------------------------------------------------------------------------------------------
    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None, *, head: bool = False,
              content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.server.hub._log(self, status)  # before the answer leaves, so a client never outruns the log
        self.end_headers()
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

    def _handle(self, *, head: bool) -> None:
        hub = self.server.hub
        fault = hub._next_fault(self.path)
        if fault == "close":
            self.close_connection = True
            hub._log(self, 0)
            return
        if isinstance(fault, int):
            headers = {}
            if fault == 429:
                headers = {"Retry-After": "0", "RateLimit": '"api";r=0;t=0',
                           "RateLimit-Policy": '"fixed window";"api";q=500;w=300'}
            self._error(fault, f"injected fault {fault}", head=head, headers=headers)
            return
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        path = unquote(parts.path)
        try:
            if path == "/api/models":
                self._list(query, head=head)
            elif path.startswith("/api/models/"):
                self._info(path[len("/api/models/"):], query, head=head)
            elif "/resolve/" in path:
                self._resolve(path, head=head)
            else:
                self._error(404, "Not found", head=head)
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
        sort = _one(query, "sort")
        if sort:
            if sort not in SORT_KEYS:
                self._error(400, f'"sort" must be one of {sorted(SORT_KEYS)}', head=head)
                return
            rows = sorted(rows, key=lambda r: (r.get(sort) is None, _neg(r.get(sort))))
        size = hub.page_size
        limit = _one(query, "limit")
        if limit:
            size = max(1, min(size, int(limit)))
        cursor = _one(query, "cursor")
        start = json.loads(base64.urlsafe_b64decode(cursor.encode()))["o"] if cursor else 0
        page = rows[start:start + size]
        headers = {}
        if start + size < len(rows):
            params = [(k, v) for k, values in query.items() if k != "cursor" for v in values]
            params.append(("cursor", base64.urlsafe_b64encode(json.dumps({"o": start + size}).encode()).decode()))
            host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
            headers["Link"] = f'<http://{host}/api/models?{urlencode(params)}>; rel="next"'
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
    """The server, on 127.0.0.1 and a free port; a context manager that starts and stops it.

    ``page_size`` is the number of models per listing page (the Hub uses up to 1,000; tests use fewer
    so that paging is exercised). ``files`` adds repo files ((repo id, path) -> content) to the READMEs
    of ``data``; repos in ``gated`` answer file downloads with 401 ``GatedRepo``; repos in ``disabled``
    answer everything with 403 "Access to this resource is disabled.".
    """

    def __init__(self, data: HubData, *, page_size: int = 50, files: dict[tuple[str, str], bytes] | None = None,
                 gated: set[str] | None = None, disabled: set[str] | None = None) -> None:
        self.data = data
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
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------------------------
    def start(self) -> HubServer:
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
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

    def file(self, record: dict[str, Any], path: str) -> bytes | None:
        """The content of ``path`` in the repo of ``record``, or None."""
        found = self.files.get((record["id"], path))
        if found is not None:
            return found
        if path == "README.md" and record["id"] in self.data.readmes:
            return self.data.readmes[record["id"]].encode("utf-8")
        return None

    # -- faults -----------------------------------------------------------------------------------------------
    def inject(self, *statuses: int, match: str | None = None) -> None:
        """Answer the next ``len(statuses)`` requests (whose path contains ``match``) with these statuses."""
        with self._lock:
            self._queued.extend((s, match) for s in statuses)

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

    def revive(self) -> None:
        """Clear every injected fault."""
        with self._lock:
            self._queued.clear()
            self._every = None
            self._die_at = None

    def _next_fault(self, path: str) -> int | str | None:
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
        return None

    # -- log --------------------------------------------------------------------------------------------------
    def _log(self, handler: BaseHTTPRequestHandler, status: int) -> None:
        entry = LoggedRequest(handler.command, handler.path, status, "authorization" in
                              {k.lower() for k in handler.headers})
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
            parts = urlsplit(entry.path)
            if parts.path != "/api/models":
                continue
            query = parse_qs(parts.query)
            if "cursor" in query:
                continue
            out += [f[len("base_model:"):] for f in query.get("filter", []) if f.startswith("base_model:")]
        return out


def point_hf_at(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, url: str) -> None:
    """Point huggingface_hub at ``url``, with its cache and home in ``tmp_path``, telemetry off and no token."""
    from huggingface_hub import constants

    monkeypatch.setenv("HF_ENDPOINT", url)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    # huggingface_hub reads these at import time, so the environment alone comes too late for them. With
    # telemetry on, it would also fetch {import-time endpoint}/api/agent-harnesses once a process.
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_TELEMETRY", True)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "hf-home" / "token"))
