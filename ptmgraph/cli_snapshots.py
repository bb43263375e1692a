"""The commands that make and keep data rather than answer from it: ``ingest`` and ``crawl`` build
snapshots (and keep them in a dated history), ``cache`` shows and clears the look-up cache. Registered on
the command line by :mod:`ptmgraph.cli`; their heavy imports are inside them.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from ptmgraph.cli_output import fail, note, user_errors
from ptmgraph.words import plural

HistoryOption = Annotated[
    Path | None,
    typer.Option("--history", metavar="DIR", show_default=False,
                 help="Also keep the snapshot in this history, as DIR/date=YYYY-MM-DD/ (plain Parquet, written once)."),
]
HistoryDateOption = Annotated[
    str | None,
    typer.Option("--history-date", metavar="YYYY-MM-DD", show_default=False,
                 help="The day to file the snapshot under in --history (default: today, UTC)."),
]


def _history_slot(history: Path | None, day: str | None) -> str | None:
    """The ``--history`` day, checked before any work: exit 2 for a bad date, 1 for a day already kept."""
    if history is None:
        if day is not None:
            fail("--history-date needs --history DIR", 2)
        return None
    from datetime import datetime, timezone

    from ptmgraph.snapshot_versions import SnapshotError, history_partition

    day = day or datetime.now(timezone.utc).strftime("%Y-%m-%d")
    try:
        datetime.strptime(day, "%Y-%m-%d")
    except ValueError:
        fail(f"--history-date must be a date (YYYY-MM-DD), not {day!r}", 2)
    try:
        history_partition(history, day)
    except SnapshotError as e:
        fail(str(e))
    return day


def _keep_in_history(out_dir: Path, history: Path | None, day: str | None) -> None:
    if history is None or day is None:
        return
    from ptmgraph.snapshot_versions import add_to_history

    partition = add_to_history(out_dir, history, day)
    note(f"kept it in the history as {partition}")


def ingest(
    sources: Annotated[
        list[Path], typer.Argument(metavar="SOURCE", show_default=False,
                                   help="Hub record files or folders, edge lists, model repos.")
    ],
    out_dir: Annotated[
        Path | None, typer.Option("--out", "-o", metavar="DIR", show_default=False,
                                  help="Snapshot directory to write (a snapshot of other sources only with "
                                  "--replace).")
    ] = None,
    add: Annotated[
        Path | None, typer.Option("--add", metavar="DIR", show_default=False,
                                  help="Add the sources to this snapshot: its recorded sources and these, "
                                  "ingested again together.")
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace a snapshot that was built from other sources.")
    ] = False,
    kind: Annotated[
        str | None, typer.Option(metavar="KIND", show_default=False,
                                 help="Force the input kind (an unknown one is refused with the list of kinds).")
    ] = None,
    namespace: Annotated[
        str | None, typer.Option(metavar="ORG", show_default=False,
                                 help="Local repos: the namespace of flat folders (NAME/ -> ORG/NAME) whose "
                                 "config.json does not name their Hub id.")
    ] = None,
    history: HistoryOption = None,
    history_date: HistoryDateOption = None,
) -> None:
    """Build a snapshot from files: Hub API records, READMEs, model trees, edge lists, local repos or the HF cache."""
    from ptmgraph import snapshot as snapshot_io
    from ptmgraph.assemble import build_snapshot
    from ptmgraph.records import HarvestTables
    from ptmgraph.sources import Input, open_input, recorded_inputs
    from ptmgraph.sources.interface import harvest_tables

    if (out_dir is None) == (add is None):
        fail("give --out DIR (a new snapshot) or --add DIR (add to one), not both", 2)
    if namespace is not None and not _namespace_ok(namespace):
        fail(f"--namespace {namespace!r}: not a Hub user or organisation name", 2)
    target = out_dir if out_dir is not None else add
    assert target is not None
    day = _history_slot(history, history_date)
    with user_errors():
        meta = snapshot_io.stored_meta(target)
        opened = [open_input(Input.of(path, kind, namespace)) for path in sources]
        inputs = [given for given, _ in opened]
        if add is not None:
            if meta is None:
                fail(f"--add {add}: not a ptmgraph snapshot; make one with --out {add}")
            stored = recorded_inputs(meta, add)
            opened = [*(open_input(given) for given in stored), *((i, s) for i, s in opened if i not in stored)]
            inputs = [given for given, _ in opened]
        elif meta is not None and not replace:
            recorded = meta.get("inputs")
            before = {Input.from_meta(value) for value in recorded} if isinstance(recorded, list) else None
            if before != set(inputs):
                made = ("; ".join(i.describe() for i in before if i is not None) if before else
                        "; ".join(str(s) for s in meta.get("sources") or []) or "sources not recorded")
                now = "; ".join(i.describe() for i in inputs)
                fail(f"{target}: holds a snapshot of other sources ({made}), not of {now}; give --replace to "
                     f"replace it, or --add {target} SOURCE... to add sources to it")
        tables = HarvestTables.concat([harvest_tables(source) for _, source in opened])
        snap = build_snapshot(tables, target, {"inputs": [i.as_meta() for i in inputs]})
        note(f"wrote snapshot {target}: {plural(snap.models.height, 'model')}, {plural(snap.edges.height, 'edge')}, "
             f"{plural(snap.dangling.height, 'dangling reference')}, {plural(snap.problems.height, 'problem')}")
        _keep_in_history(target, history, day)


def _namespace_ok(namespace: str) -> bool:
    from ptmgraph.ids import normalize_reference

    return "/" not in namespace and normalize_reference(namespace + "/x").id == namespace + "/x"


_LONGEST_SECONDS = 30 * 24 * 3600
"""The longest time any crawl option may give (30 days): every wait stays a finite sleep the system can do."""


def crawl(
    out_dir: Annotated[
        Path | None, typer.Option("--out", "-o", metavar="DIR", show_default=False,
                                  help="Snapshot directory to write (with --update: default, the snapshot updated).")
    ] = None,
    seed: Annotated[
        list[str] | None, typer.Option("--seed", metavar="MODEL", show_default=False,
                                       help="Crawl the descendants of this model (repeatable).")
    ] = None,
    root: Annotated[list[str] | None, typer.Option("--root", hidden=True, show_default=False)] = None,
    update: Annotated[
        Path | None, typer.Option("--update", metavar="SNAPSHOT", show_default=False,
                                  help="Refresh this crawl snapshot with what changed on the Hub since it was made "
                                  "(the same seeds and options; a new generation, or --out).")
    ] = None,
    author: Annotated[
        str | None, typer.Option(metavar="ORG", help="Bulk listing: models of this user or organisation.")
    ] = None,
    search: Annotated[
        str | None, typer.Option(metavar="QUERY", help="Bulk listing: models whose id contains this text.")
    ] = None,
    sort: Annotated[
        str | None, typer.Option(metavar="FIELD",
                                 help="Bulk listing order: downloads, likes, created_at, last_modified, ...")
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Bulk listing: at most this many models.")] = None,
    max_depth: Annotated[
        int | None, typer.Option("--max-depth", min=0, help="List children at most this many hops from a seed.")
    ] = None,
    max_models: Annotated[
        int, typer.Option(min=1, help="Stop after this many models (a partial snapshot, exit 3; resumable).")
    ] = 100_000,
    endpoint: Annotated[
        str | None,
        typer.Option(metavar="URL", help="Hub URL (default: HF_ENDPOINT or huggingface.co); user:password@ in it "
                     "is sent as Basic "
                     "credentials to that host only."),
    ] = None,
    token_for_endpoint: Annotated[
        bool, typer.Option(help="Send the token stored by the huggingface_hub login to --endpoint too (by default "
                           "it goes only to https://huggingface.co and https://hf.co).")
    ] = False,
    state_dir: Annotated[
        Path | None,
        typer.Option(metavar="DIR", help="Where progress is kept for resuming (default: OUT.crawl); a new or empty "
                     "directory, or "
                     "one a crawl made."),
    ] = None,
    fetch_files: Annotated[
        str,
        typer.Option(metavar="auto|all|never",
                     help="auto: lineage files only of roots and bases that name no base; all: also every "
                     "adapter_config.json (a request each); never."),
    ] = "auto",
    check_bases: Annotated[
        bool, typer.Option(help="Look up bases outside the crawl; missing ones become dangling references.")
    ] = False,
    ancestors: Annotated[
        bool, typer.Option(help="Also follow the bases' bases up to the roots (with --max-depth 0: ancestry only).")
    ] = False,
    file_commits: Annotated[
        bool, typer.Option(help="Read each file's last commit, sha256 and the Hub's security scan, for every model "
                           "with children (one request each; none per leaf): stale then tells weights from card edits.")
    ] = False,
    keep_state: Annotated[bool, typer.Option(help="Keep the state directory after a successful crawl.")] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar on stderr.")] = True,
    timeout: Annotated[
        float, typer.Option(min=0.1, help="Seconds without data before a request is retried (read timeout).")
    ] = 60.0,
    connect_timeout: Annotated[float, typer.Option(min=0.1, help="Seconds to open a connection.")] = 10.0,
    max_wait: Annotated[
        float, typer.Option(min=0, help="Longest (s) the Hub may make one request wait (Retry-After, RateLimit), "
                            "its waits together; longer: stop, resumable.")
    ] = 300.0,
    max_pages: Annotated[int, typer.Option(min=1, help="Pages read per listing (1,000 models a page).")] = 10_000,
    workers: Annotated[int, typer.Option(min=1, max=32, help="Requests in flight at once.")] = 8,
    request_deadline: Annotated[
        float, typer.Option(min=0.1, help="Seconds one request may take, retries included (waits the Hub asks "
                            "for come on top); then the crawl stops, resumable.")
    ] = 120.0,
    deadline: Annotated[
        float, typer.Option(min=0.1, help="Seconds the crawl may run; then it stops, resumable.")
    ] = 21_600.0,
    max_requests: Annotated[
        int, typer.Option(min=1, help="HTTP requests one run may send; then it stops, resumable.")
    ] = 250_000,
    max_journal_bytes: Annotated[
        int, typer.Option(min=1, help="Bytes the state directory's journal may reach; then the crawl stops.")
    ] = 1 << 30,
    history: HistoryOption = None,
    history_date: HistoryDateOption = None,
) -> None:
    """Crawl the Hub (or HF_ENDPOINT): descendants of --seed models and/or a bulk listing. Resumable.

    The token comes from HF_TOKEN or the huggingface_hub login (that one is sent only to the Hub itself unless
    --token-for-endpoint), and is never printed or stored. Exit 3: a partial snapshot (listings or records
    not read, or --max-models reached).
    """
    from ptmgraph.sources.hub_api import FETCH_FILES, Limits
    from ptmgraph.sources.hub_crawl import crawl as crawl_hub
    from ptmgraph.sources.hub_crawl import update as update_hub

    seconds = {"--timeout": timeout, "--connect-timeout": connect_timeout, "--max-wait": max_wait,
               "--request-deadline": request_deadline, "--deadline": deadline}
    for name, value in seconds.items():
        if not value <= _LONGEST_SECONDS:  # also NaN
            fail(f"{name} must be a number of seconds up to {_LONGEST_SECONDS:,}, not {value}", 2)
    seeds = [*(seed or []), *(root or [])]  # --root: the old name of --seed, kept for one release
    if update is not None:
        given = [name for name, value in (("--seed", seeds), ("--author", author), ("--search", search),
                                          ("--sort", sort), ("--limit", limit), ("--max-depth", max_depth),
                                          ("--fetch-files", fetch_files != "auto"), ("--check-bases", check_bases),
                                          ("--ancestors", ancestors), ("--file-commits", file_commits))
                 if not (value is None or value is False or value == [])]
        if given:
            fail(f"--update takes the seeds and options the snapshot was crawled with; {given[0]} cannot be given", 2)
    elif out_dir is None:
        fail("give --out DIR (or --update SNAPSHOT)", 2)
    elif not seeds and not (author or search or limit):
        fail("give --seed, or a bulk listing with --author, --search or --limit", 2)
    if fetch_files not in FETCH_FILES:
        fail(f"--fetch-files must be one of {', '.join(FETCH_FILES)}, not {fetch_files!r}", 2)
    from ptmgraph.lookup import hub_offline

    if offline := hub_offline():  # huggingface_hub's switch: no request at all (README, exit codes)
        fail(f"{offline} forbids any request to the Hub, and a crawl makes them; unset HF_HUB_OFFLINE to crawl")
    day = _history_slot(history, history_date)
    limits = Limits(connect_timeout=connect_timeout, read_timeout=timeout, max_wait=max_wait, max_pages=max_pages,
                    workers=workers, request_deadline=request_deadline, deadline=deadline, max_requests=max_requests,
                    max_journal_bytes=max_journal_bytes)
    with user_errors():
        if update is not None:
            result = update_hub(update, out_dir, endpoint=endpoint, max_models=max_models, state_dir=state_dir,
                                progress=progress, keep_state=keep_state, limits=limits,
                                token_for_endpoint=token_for_endpoint)
            out_dir = result.snapshot
        else:
            assert out_dir is not None
            result = crawl_hub(
                seeds, out_dir, endpoint=endpoint, max_depth=max_depth, max_models=max_models,
                fetch_files=fetch_files,  # type: ignore[arg-type]
                state_dir=state_dir, progress=progress, check_bases=check_bases, ancestors=ancestors,
                keep_state=keep_state, token_for_endpoint=token_for_endpoint,
                author=author, search=search, sort=sort, limit=limit, limits=limits, file_commits=file_commits,
            )
        st = result.stats
        lines = [
            f"wrote {'' if result.complete else 'a partial '}snapshot {out_dir}: "
            f"{plural(int(st['models']), 'model')} from "
            f"{plural(int(st['parents_listed']), 'listing')}; {plural(int(st['requests']), 'HTTP request')} "
            f"({st['retries_429']:,} rate-limited, {plural(int(st['retries_5xx']), 'server error')}, "
            f"{plural(int(st['retries_other']), 'timeout or broken reply', 'timeouts or broken replies')} retried) in "
            f"{st['seconds']:.1f} s"
            + (f"; file listings of {plural(int(st['file_listings']), 'model')} with children" if file_commits else "")]
        if update is not None:
            lines.append(f"update: {plural(int(st['changes']), 'record')} changed since the snapshot; "
                         f"{plural(int(st['requests']), 'request')}, where a full crawl would send about "
                         f"{int(st['full_crawl_requests']):,}")
        if result.state_kept and not keep_state and not st["truncated"]:
            lines.append(f"kept the state directory {result.state_dir}: it holds files the crawl did not write")
        partial = []
        if st["listings_failed"] or st["records_failed"]:
            partial.append(f"{plural(int(st['listings_failed']), 'listing')} and "
                           f"{plural(int(st['records_failed']), 'record')} could not be read "
                           f"in full (`ptmgraph problems --snapshot {out_dir}` says why)")
        if st["truncated"]:
            partial.append(f"stopped at --max-models {max_models}; the state directory {result.state_dir} is kept: "
                           "the same command with a larger --max-models goes on")
        if partial:
            lines.append("ptmgraph: partial crawl: " + "; ".join(partial))
        for line in lines:
            note(line)
        if result.complete:
            _keep_in_history(out_dir, history, day)
        elif history is not None:
            note("ptmgraph: the partial snapshot was not added to the history")
    if not result.complete:
        raise SystemExit(3)


CacheAction = Enum("CacheAction", {name: name for name in ("info", "list", "dir", "clear")}, type=str)  # type: ignore[misc]


def cache(
    action: Annotated[
        CacheAction, typer.Argument(metavar="ACTION", show_default=False,
                                    help="info: where the look-up cache is, its size and bounds; list: each look-up "
                                    "kept; dir: the folder alone; clear: remove the look-ups.")
    ],
    older_than: Annotated[
        str | None, typer.Option("--older-than", metavar="AGE", show_default=False,
                                 help="clear: only look-ups older than this (seconds, or 12h, 7d).")
    ] = None,
) -> None:
    """The cache of models looked up on the Hub: where it is, what it holds, and clearing it (as pip cache does).

    Whenever a look-up writes it, look-ups older than PTMGRAPH_CACHE_MAX_AGE are removed, then the oldest past
    PTMGRAPH_CACHE_MAX_SIZE in all (cache info shows both). Only the cache's own look-ups are ever removed.
    """
    from ptmgraph import lookup_cache as lookup

    with user_errors():
        if older_than is not None and action.value != "clear":
            fail("--older-than goes with clear", 2)
        try:
            age = None if older_than is None else lookup.parse_age(older_than)
        except ValueError as err:
            fail(f"--older-than: {err}", 2)
        root = lookup.cache_root()
        if action.value == "dir":
            typer.echo(str(root))
        elif action.value == "clear":
            removed, busy = lookup.clear(age)
            typer.echo(f"removed {plural(len(removed), 'look-up')} "
                       f"({lookup.size_text(sum(e.size for e in removed))}) from {root}")
            if busy:
                typer.echo(f"kept {plural(len(busy), 'look-up')}: in use by another ptmgraph process, or holding "
                           "files ptmgraph did not write")
        else:
            entries = lookup.cache_entries()
            if action.value == "list":
                if not entries:
                    typer.echo(f"no look-ups kept in {root}")
                for entry in entries:
                    typer.echo(f"{lookup.ago(entry.written):>12}  {lookup.size_text(entry.size):>10}  "
                               f"{entry.need:<11}  {', '.join(entry.models) or entry.path.name}  {entry.endpoint}")
            else:
                bounds = lookup.cache_bounds()
                size = lookup.size_text(sum(e.size for e in entries))
                typer.echo(f"look-up cache: {root}\nlook-ups: {len(entries):,} ({size})")
                if entries:
                    typer.echo(f"oldest: {lookup.ago(entries[0].written)}; newest: {lookup.ago(entries[-1].written)}")
                typer.echo(f"bounds: {bounds.said()} (pruned whenever a look-up is written)")
