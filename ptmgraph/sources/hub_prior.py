"""What ``crawl --update`` starts from: the journal and Hub time a crawl's snapshot keeps (:class:`Prior`)."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from ptmgraph import snapshot
from ptmgraph.sources.crawl_journal import header_arguments
from ptmgraph.sources.interface import SourceError, first_line

UPDATE_MARGIN = timedelta(hours=1)
"""``crawl --update`` re-reads what changed since the snapshot's Hub time minus this (clocks and the Hub's
listing index may lag)."""

CRAWL_JOURNAL = "crawl-journal.jsonl.gz"
"""The crawl's journal, kept in the snapshot it made (gzip JSON Lines): what ``crawl --update`` starts from."""

_PRIOR_CHARACTERS = 4 << 30
"""The most a kept journal may unpack to: four times the largest journal a crawl writes (``--max-journal-bytes``,
1 GiB by default), so that a damaged or hostile file cannot fill the memory."""
COMMIT_SHA = re.compile(r"^[0-9a-f]{40}$")
"""A commit id as the Hub writes it (40 lower-case hex digits): a revision a request may pin, and a ``sha`` two
records can be compared by."""


def modified_before(row: Mapping[str, Any], since: datetime) -> bool:
    """Whether a listed record was last modified before ``since`` (one without a readable date counts as older)."""
    when = _iso_time(row.get("lastModified"))
    return when is None or when < since


def _iso_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)


def http_date(value: str) -> datetime | None:
    """An HTTP ``Date`` header's time, in UTC (a date without a zone is read as UTC); None when unreadable."""
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return when.astimezone(timezone.utc) if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)


def same_commit(before: Mapping[str, Any], now: Mapping[str, Any]) -> bool:
    """Whether a record listed ``now`` is at the commit of the one kept from ``before``: both carry one
    :data:`COMMIT_SHA`, the same (a record without a readable sha is never taken as unchanged)."""
    sha = now.get("sha")
    return isinstance(sha, str) and bool(COMMIT_SHA.match(sha)) and before.get("sha") == sha


@dataclass
class Prior:
    """What the crawl that made a snapshot knew, read from the journal it keeps (:data:`CRAWL_JOURNAL`): the
    crawl arguments, its Hub time, the records with their fetched files (``entries``), the ids each model's
    complete children listing returned (``children``) and the file listings (``file_commits``: id -> journal
    line). ``changes``: the records the update's change listing returned (id -> record)."""

    arguments: dict[str, Any]
    hub_time: datetime
    entries: dict[str, dict[str, Any]]
    children: dict[str, list[str]]
    file_commits: dict[str, dict[str, Any]]
    changes: dict[str, dict[str, Any]] = field(default_factory=dict)
    changes_read: bool = False

    @property
    def since(self) -> datetime:
        return self.hub_time - UPDATE_MARGIN

    @classmethod
    def of_snapshot(cls, directory: Path) -> Prior:
        """The prior of the snapshot in ``directory``; :class:`SourceError` (one line) when it is not a crawl's
        snapshot that ``crawl --update`` can start from."""
        if not directory.is_dir():
            raise SourceError(f"{directory}: no such snapshot directory")
        try:
            meta = snapshot.stored_meta(directory)
        except snapshot.SnapshotError as err:
            raise SourceError(str(err)) from None
        if meta is None:
            raise SourceError(f"{directory}: not a ptmgraph snapshot")
        made = meta.get("crawl")
        if not isinstance(made, dict):
            raise SourceError(f"{directory}: not made by 'ptmgraph crawl' (it records no crawl); only a crawl's "
                              "snapshot can be updated")
        if made.get("complete") is not True:
            raise SourceError(f"{directory}: a partial crawl; finish it (the same crawl command resumes it) or crawl "
                              "again before updating it")
        path = snapshot.current_files(directory) / CRAWL_JOURNAL
        hub_time = _iso_time(made.get("hub_time"))
        if not path.is_file() or hub_time is None:
            raise SourceError(f"{directory}: holds no crawl journal and Hub time (made by a ptmgraph before "
                              "'crawl --update'); crawl it again")
        entries: dict[str, dict[str, Any]] = {}
        children: dict[str, list[str]] = {}
        file_commits: dict[str, dict[str, Any]] = {}
        arguments: Any = None
        size = 0
        try:
            with gzip.open(path, "rt", encoding="utf-8") as handle:  # line by line: it holds every record
                for number, text in enumerate(handle):
                    size += len(text)
                    if size > _PRIOR_CHARACTERS:
                        raise ValueError(f"over {_PRIOR_CHARACTERS:,} characters unpacked, more than a crawl writes")
                    line = json.loads(text)
                    if not isinstance(line, dict):
                        raise ValueError(f"line {number + 1} is not an object")
                    if number == 0:
                        arguments = line.get("arguments") if line.get("kind") == "header" else None
                        continue
                    for entry in line.get("records") or []:
                        entries.setdefault(entry["row"]["id"], entry)
                    if line.get("kind") == "children" and line.get("complete") and not line.get("failed"):
                        children[line["parent"]] = list(line.get("ids") or [])
                    elif line.get("kind") == "file_commits":
                        file_commits.setdefault(line["id"], line)
        except (OSError, EOFError, ValueError, KeyError, TypeError, RecursionError) as err:
            raise SourceError(f"{path}: not a readable crawl journal ({first_line(err)})") from None
        if not isinstance(arguments, dict):
            raise SourceError(f"{path}: not a crawl journal (no header line)")
        arguments = header_arguments(arguments)
        arguments.pop("--update", None)
        if not arguments.get("--seed") and not any(arguments.get(k) for k in ("--author", "--search", "--limit")):
            raise SourceError(f"{directory}: its crawl records no seeds and no bulk listing; crawl it again")
        return cls(arguments, hub_time, entries, children, file_commits)
