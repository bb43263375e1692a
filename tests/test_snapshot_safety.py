"""Snapshots: a malformed one is an error naming the file (exit 1), saving never destroys what is not a
snapshot, concurrent saves are serialised, and a killed save leaves nothing the next one does not clear."""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ptmgraph import snapshot, snapshot_versions
from ptmgraph.cli import app
from ptmgraph.graph import LineageGraph
from ptmgraph.records import MODELS_SCHEMA
from ptmgraph.snapshot import Snapshot, SnapshotError


def tiny(n_models: int, tag: str) -> Snapshot:
    """An empty snapshot of the bundled one's shape with ``n_models`` models named after ``tag``."""
    base = snapshot.load(snapshot.bundled_path())
    models = pl.DataFrame(
        {"id": [f"{tag}/m{i}" for i in range(n_models)]}, schema={"id": pl.String()}
    ).with_columns([pl.lit(None, dtype=t).alias(c) for c, t in MODELS_SCHEMA.items() if c != "id"])
    return Snapshot(
        models=models.select(list(MODELS_SCHEMA)),
        edges=base.edges.head(0),
        evidence=base.evidence.head(0),
        dangling=base.dangling.head(0),
        problems=base.problems.head(0),
        meta={"sources": [tag]},
    )


def run_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


# --- malformed snapshots: exit 1 with the file and the problem, never 70 -----------------------------


def _copy_bundled(tmp_path: Path) -> Path:
    target = tmp_path / "snap"
    snapshot.save(snapshot.load(snapshot.bundled_path()), target)
    return target


def _rewrite(table: str, change: Callable[[pl.DataFrame], pl.DataFrame]) -> Callable[[Path], None]:
    def apply(snap: Path) -> None:
        path = snap / f"{table}.parquet"
        change(pl.read_parquet(path)).write_parquet(path)

    return apply


MALFORMED: list[tuple[str, Callable[[Path], None], str, str]] = [
    ("meta is a list", lambda s: (s / "meta.json").write_text("[1,2]"), "meta.json", "a JSON array, not an object"),
    ("meta not JSON", lambda s: (s / "meta.json").write_text("{"), "meta.json", "not valid JSON"),
    ("meta deep", lambda s: (s / "meta.json").write_text("[" * 100_000), "meta.json", "nested deeper"),
    ("meta other version", lambda s: (s / "meta.json").write_text('{"format_version": 99}'), "meta.json",
     "snapshot format 99 is not one this version reads (1 or 2)"),
    ("no edges file", lambda s: (s / "edges.parquet").unlink(), "edges.parquet", "missing from the snapshot"),
    ("edges not parquet", lambda s: (s / "edges.parquet").write_bytes(b"PAR1 junk"), "edges.parquet",
     "not a readable Parquet file"),
    ("text downloads", _rewrite("models", lambda f: f.with_columns(pl.col("downloads").cast(pl.String) + "x")),
     "models.parquet", "column 'downloads' is String, expected Int64"),
    ("list relation", _rewrite("edges", lambda f: f.with_columns(pl.concat_list("relation"))),
     "edges.parquet", "column 'relation' is List(String), expected String"),
    ("missing column", _rewrite("edges", lambda f: f.drop("child")), "edges.parquet", "missing columns child"),
    ("null id", _rewrite("models", lambda f: f.with_columns(pl.when(pl.int_range(pl.len()) == 3).then(None)
                                                            .otherwise(pl.col("id")).alias("id"))),
     "models.parquet", "column 'id' has empty values"),
]


@pytest.mark.parametrize(("case", "damage", "file", "message"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_a_malformed_snapshot_exits_1_naming_the_file(
    tmp_path: Path, case: str, damage: Callable[[Path], None], file: str, message: str
) -> None:
    snap = _copy_bundled(tmp_path)
    damage(snapshot.current_files(snap))  # the files of the version the snapshot's CURRENT names
    code, output = run_cli("stats", "--snapshot", str(snap))
    assert code == 1, (case, output)
    assert file in output and message in output, output
    assert "internal error" not in output


# --- saving never destroys ----------------------------------------------------------------------------


def test_save_refuses_a_directory_of_user_files_even_with_a_meta_json(tmp_path: Path) -> None:
    target = tmp_path / "mine"
    target.mkdir()
    (target / "meta.json").write_text('{"format_version": 1, "counts": {}}')
    (target / "thesis.tex").write_text("years of work")
    edges = tmp_path / "lineage.csv"
    edges.write_text("child,base\na/child,a/base\n")
    code, output = run_cli("ingest", str(edges), "--out", str(target))
    assert code == 1 and "is not a ptmgraph snapshot" in output, output
    assert (target / "thesis.tex").read_text() == "years of work"
    with pytest.raises(SnapshotError, match="is not a ptmgraph snapshot"):
        snapshot.save(tiny(1, "a"), target)
    assert sorted(p.name for p in target.iterdir()) == ["meta.json", "thesis.tex"]


def test_save_refuses_files_symlinks_and_a_foreign_meta_json(tmp_path: Path) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("keep")
    with pytest.raises(SnapshotError, match="is not a directory"):
        snapshot.save(tiny(1, "a"), a_file)
    real = tmp_path / "real"
    snapshot.save(tiny(1, "a"), real)
    link = tmp_path / "link"
    link.symlink_to(real)
    with pytest.raises(SnapshotError, match="is a symlink"):
        snapshot.save(tiny(2, "b"), link)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "meta.json").write_text('{"name": "some other tool"}')
    with pytest.raises(SnapshotError, match="is not a ptmgraph snapshot"):
        snapshot.save(tiny(1, "a"), foreign)
    assert a_file.read_text() == "keep" and link.is_symlink()
    assert (foreign / "meta.json").read_text() == '{"name": "some other tool"}'
    assert snapshot.load(real).models["id"].to_list() == ["a/m0"]


def test_save_replaces_a_snapshot_and_fills_an_empty_directory(tmp_path: Path) -> None:
    target = tmp_path / "snap"
    target.mkdir()
    snapshot.save(tiny(1, "a"), target)
    snapshot.save(tiny(3, "b"), target)
    assert snapshot.load(target).models["id"].to_list() == ["b/m0", "b/m1", "b/m2"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["snap"]


# --- concurrent and killed saves ----------------------------------------------------------------------


def _save_worker(target: str, tag: str, start_at: float) -> str:
    """Save three times once ``start_at`` comes; while holding the lock, hold the file ``inside`` too.

    ``inside`` is created with O_EXCL, so two processes inside the lock at once would fail to create it.
    """
    real_locked = snapshot.save_lock
    inside = Path(target).parent / "inside"

    @contextlib.contextmanager
    def watched(path: Path, directory: Path) -> Iterator[None]:
        with real_locked(path, directory):
            fd = os.open(inside, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            try:
                time.sleep(0.01)  # widen the window another process would have to slip into
                yield
            finally:
                os.close(fd)
                os.unlink(inside)

    snapshot.save_lock = watched  # type: ignore[assignment]
    time.sleep(max(0.0, start_at - time.time()))
    try:
        for round_ in range(3):
            snapshot.save(tiny(5, f"{tag}r{round_}"), Path(target))
    except BaseException as err:  # reported to the parent, which fails the test
        return f"{type(err).__name__}: {err}"
    return "ok"


@pytest.mark.slow
def test_six_processes_saving_one_directory_at_once_all_succeed(tmp_path: Path) -> None:
    target = tmp_path / "snap"
    snapshot.save(tiny(1, "first"), target)
    tags = [f"p{i}" for i in range(6)]
    start_at = time.time() + 1.5  # every process has imported and waits for the same instant
    with multiprocessing.get_context("spawn").Pool(6) as pool:
        answers = pool.starmap(_save_worker, [(str(target), tag, start_at) for tag in tags])
    assert answers == ["ok"] * 6  # no OSError, and never two processes inside the lock at once
    ids = snapshot.load(target).models["id"].to_list()
    assert len(ids) == 5 and len({i.split("/")[0] for i in ids}) == 1 and ids[0][:2] in tags
    assert sorted(p.name for p in tmp_path.iterdir()) == ["snap"]


_KILLED_SAVE = """
import sys, time
from pathlib import Path
import polars as pl
sys.path.insert(0, {tests!r})
from test_snapshot_safety import tiny
from ptmgraph import snapshot, snapshot_versions

real_write = pl.LazyFrame.sink_parquet
def write_then_hang(self, path, *args, **kwargs):
    real_write(self, path, *args, **kwargs)
    Path({ready!r}).write_text("ready")
    time.sleep(600)
pl.LazyFrame.sink_parquet = write_then_hang
snapshot.save(tiny(2, "killed"), Path({target!r}))
"""


def test_a_save_killed_midway_leaves_the_old_snapshot_and_the_next_save_clears_its_leftovers(tmp_path: Path) -> None:
    target = tmp_path / "snap"
    snapshot.save(tiny(1, "before"), target)
    ready = tmp_path / "ready"
    script = _KILLED_SAVE.format(tests=str(Path(__file__).parent), ready=str(ready), target=str(target))
    child = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert child.poll() is None, "the saving process ended before it was killed"
            assert time.monotonic() < deadline, "the saving process never started writing"
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(30)
    finally:
        if child.poll() is None:
            child.kill()
    leftovers = sorted(p.name for p in tmp_path.glob(".snap.tmp-*"))
    assert len(leftovers) == 1  # the half-written temporary directory of the killed save
    assert snapshot.load(target).models["id"].to_list() == ["before/m0"]  # the old snapshot is untouched

    # A killed save between its two renames leaves the previous snapshot as .snap.old-PID.
    os.rename(target, tmp_path / ".snap.old-424242")
    snapshot.save(tiny(2, "after"), target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ready", "snap"]
    assert snapshot.load(target).models["id"].to_list() == ["after/m0", "after/m1"]


def test_leftover_cleaning_spares_what_is_not_a_snapshot_part(tmp_path: Path) -> None:
    target = tmp_path / "snap"
    user_dir = tmp_path / ".snap.old-notes"
    user_dir.mkdir()
    (user_dir / "notes.txt").write_text("mine")
    snapshot.save(tiny(1, "a"), target)
    assert (user_dir / "notes.txt").read_text() == "mine"
    meta = json.loads((snapshot.current_files(target) / "meta.json").read_text())
    assert meta["counts"]["models"] == 1


def test_a_fifo_in_place_of_a_table_is_an_error_not_a_hang(tmp_path: Path) -> None:
    snap = _copy_bundled(tmp_path)
    files = snapshot.current_files(snap)
    (files / "edges.parquet").unlink()
    os.mkfifo(files / "edges.parquet")
    with pytest.raises(SnapshotError, match=r"edges\.parquet: not a regular file"):
        snapshot.load(snap)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    table=st.sampled_from(["models", "edges", "evidence"]),
    flips=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), min_size=1, max_size=8),
)
def test_random_byte_damage_to_a_table_loads_or_is_a_snapshot_error(
    tmp_path: Path, table: str, flips: list[tuple[float, int]]
) -> None:
    bundled = snapshot.current_files(snapshot.bundled_path())
    source = bundled / f"{table}.parquet"
    data = bytearray(source.read_bytes())
    for where, value in flips:
        data[int(where * len(data))] = value
    snap = tmp_path / f"damaged-{os.getpid()}-{time.monotonic_ns()}"
    snap.mkdir()
    for name in snapshot_versions.SNAPSHOT_FILES - snapshot_versions.ATTACHMENTS:
        (snap / name).write_bytes((bundled / name).read_bytes())
    (snap / f"{table}.parquet").write_bytes(bytes(data))
    try:
        loaded = snapshot.load(snap)
    except SnapshotError as err:
        assert str(err).startswith(str(snap)), err
        return
    LineageGraph(loaded)  # what loads must also build


_LOAD_AS_NOBODY = """
import os, sys
from ptmgraph import snapshot, snapshot_versions
snapshot.load(snapshot.bundled_path())  # every lazy import done while still allowed
if os.geteuid() == 0:  # root reads any directory: become nobody, for whom mode 000 means what it says
    os.setgroups([]); os.setgid(65534); os.setuid(65534)
try:
    snapshot.load(sys.argv[1])
except snapshot.SnapshotError as err:
    print(err)
"""


def test_an_unreadable_snapshot_directory_is_an_error_naming_it() -> None:
    root = Path(tempfile.mkdtemp(prefix="ptmgraph-perm-"))
    try:
        root.chmod(0o755)
        snap = root / "snap"
        snapshot.save(tiny(1, "a"), snap)
        snap.chmod(0)
        done = subprocess.run([sys.executable, "-c", _LOAD_AS_NOBODY, str(snap)], capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == f"{snap}/CURRENT: cannot be read (Permission denied)"
    finally:
        (root / "snap").chmod(0o755)
        shutil.rmtree(root, ignore_errors=True)


# --- a full disk ----------------------------------------------------------------------------------------

PTMGRAPH = Path(sys.executable).with_name("ptmgraph")


def _lineage_csv(path: Path, models: int) -> Path:
    """An edge list of a binary tree of ``models`` models under o/m0."""
    path.write_text("child,base\n" + "".join(f"o/m{i},o/m{(i - 1) // 2}\n" for i in range(1, models)))
    return path


def _impact(snap: Path) -> dict[str, object]:
    done = subprocess.run([PTMGRAPH, "impact", "o/m0", "-s", str(snap), "-f", "json"], capture_output=True,
                          text=True, timeout=120, check=True)
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def _file_size_limit(limit: int) -> Callable[[], None]:
    def apply() -> None:  # Python ignores SIGXFSZ, so a write past the limit fails with EFBIG
        import resource

        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_an_ingest_the_system_refuses_to_write_exits_1_and_keeps_the_old_snapshot(tmp_path: Path) -> None:
    snap = tmp_path / "snap"
    small, big = _lineage_csv(tmp_path / "small.csv", 3), _lineage_csv(tmp_path / "big.csv", 20_000)
    subprocess.run([PTMGRAPH, "ingest", str(small), "--out", str(snap)], capture_output=True, timeout=120, check=True)
    assert _impact(snap)["affected_models"] == 2
    # No file may grow past 64 KiB: the new version's index (about 560 KB) cannot be written.
    done = subprocess.run([PTMGRAPH, "ingest", str(big), "--out", str(snap), "--replace"], capture_output=True,
                          text=True, timeout=120, preexec_fn=_file_size_limit(64 * 1024))
    assert done.returncode == 1, done.stderr
    assert done.stderr == f"ptmgraph: error: {snap}: cannot write the snapshot (File too large)\n"
    assert _impact(snap)["affected_models"] == 2  # the old snapshot answers, whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.csv", "small.csv", "snap"]  # nothing left behind
    assert sorted(p.name for p in snap.iterdir()) == ["CURRENT", "gen-1"]


_ON_A_FULL_DISK = """
set -u
mount -t tmpfs -o size=1m tmpfs "$1" || exit 77
"$PTMGRAPH" ingest "$2" --out "$1/snap" > /dev/null 2>&1 || exit 78
"$PTMGRAPH" ingest "$3" --out "$1/snap" --replace 2> "$4/stderr"
echo $? > "$4/code"
"$PTMGRAPH" impact o/m0 -s "$1/snap" -f json > "$4/after.json"
ls -A "$1" "$1/snap" > "$4/left"
"""


def test_an_ingest_on_a_full_disk_exits_1_and_keeps_the_old_snapshot(tmp_path: Path) -> None:
    """On a real 1 MiB file system (a tmpfs in a mount namespace of its own, gone when the test ends)."""
    disk, out = tmp_path / "disk", tmp_path / "out"
    disk.mkdir()
    out.mkdir()
    small, big = _lineage_csv(tmp_path / "small.csv", 3), _lineage_csv(tmp_path / "big.csv", 80_000)
    namespace = ["unshare", "--mount"] if os.geteuid() == 0 else ["unshare", "--user", "--map-root-user", "--mount"]
    if shutil.which("unshare") is None:
        pytest.skip("no unshare(1) to mount a small file system")
    done = subprocess.run([*namespace, "sh", "-c", _ON_A_FULL_DISK, "sh", str(disk), str(small), str(big), str(out)],
                          capture_output=True, text=True, timeout=300, env={**os.environ, "PTMGRAPH": str(PTMGRAPH)})
    if done.returncode == 77 or "unshare failed" in done.stderr:
        pytest.skip(f"cannot mount a small file system here: {done.stderr.strip()}")
    assert done.returncode == 0 and (out / "code").read_text() == "1\n", done.stderr
    assert (out / "stderr").read_text() == (
        f"ptmgraph: error: {disk}/snap: cannot write the snapshot (No space left on device)\n")
    assert json.loads((out / "after.json").read_text())["affected_models"] == 2
    assert (out / "left").read_text() == f"{disk}:\nsnap\n\n{disk}/snap:\nCURRENT\ngen-1\n"


# --- generations: what a reader holds, what a save replaces --------------------------------------------


def test_a_reader_keeps_reading_the_version_it_opened_and_a_later_save_removes_it(tmp_path: Path) -> None:
    target = tmp_path / "snap"
    snapshot.save(tiny(2, "first"), target)
    opened = snapshot.open_snapshot(target)  # nothing read yet but the files' schemas
    snapshot.save(tiny(3, "second"), target)
    snapshot.save(tiny(4, "third"), target)
    assert opened.models["id"].to_list() == ["first/m0", "first/m1"]  # read after two saves: its own version
    assert snapshot.load(target).models["id"].to_list() == [f"third/m{i}" for i in range(4)]
    assert sorted(p.name for p in target.iterdir()) == ["CURRENT", "gen-1", "gen-3"]  # gen-1 is held, gen-2 gone
    del opened  # the reader is done
    snapshot.save(tiny(1, "fourth"), target)
    assert sorted(p.name for p in target.iterdir()) == ["CURRENT", "gen-4"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["snap"]


@pytest.mark.parametrize("layout", [
    {"CURRENT": "gen-1\n", "LOG": "", "MANIFEST-000001": ""},  # another program's CURRENT (LevelDB's)
    {"CURRENT": "gen-1\n"},  # a pointer to nothing
    {"CURRENT": "gen-1\n", "gen-1/meta.json": '{"format_version": 2, "counts": {}}', "gen-1/thesis.tex": "mine"},
    {"CURRENT": "../elsewhere\n", "gen-1/meta.json": '{"format_version": 2, "counts": {}}'},
])
def test_save_refuses_a_directory_that_only_looks_like_generations(tmp_path: Path, layout: dict[str, str]) -> None:
    target = tmp_path / "mine"
    for name, text in layout.items():
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        (target / name).write_text(text)
    with pytest.raises(SnapshotError, match="is not a ptmgraph snapshot"):
        snapshot.save(tiny(1, "a"), target)
    assert {str(p.relative_to(target)) for p in target.rglob("*") if p.is_file()} == set(layout)


def test_an_ingest_into_a_generation_of_a_snapshot_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "snap"
    snapshot.save(tiny(2, "a"), target)
    edges = tmp_path / "lineage.csv"
    edges.write_text("child,base\na/child,a/base\n")
    code, output = run_cli("ingest", str(edges), "--out", str(target / "gen-1"))
    assert code == 1 and f"{target}/gen-1: is a generation inside the snapshot {target}; give {target}" in output
    assert sorted(p.name for p in target.iterdir()) == ["CURRENT", "gen-1"]
    assert snapshot.load(target).models["id"].to_list() == ["a/m0", "a/m1"]


_QUERY_AS_NOBODY = """
import os, sys
from pathlib import Path
from ptmgraph.analyses.lineage import impact
from ptmgraph.graph import load_graph
impact(load_graph(), "meta-llama/Llama-2-7b-chat-hf")  # every lazy import done while still allowed
if os.geteuid() == 0:  # root writes anywhere: become nobody, for whom a read-only directory is read-only
    os.setgroups([]); os.setgid(65534); os.setuid(65534)
print(impact(load_graph(Path(sys.argv[1])), "meta-llama/Llama-2-7b-chat-hf").summary["affected_models"])
"""


def test_a_read_only_snapshot_answers_and_nothing_is_written_to_it() -> None:
    """As the bundled snapshot of a package installed read-only: no lock file, nothing written."""
    root = Path(tempfile.mkdtemp(prefix="ptmgraph-ro-"))
    try:
        root.chmod(0o755)
        snap = root / "snap"
        shutil.copytree(snapshot.bundled_path(), snap)
        for path in [snap, *snap.rglob("*")]:
            path.chmod(0o555 if path.is_dir() else 0o444)
        root.chmod(0o555)
        before = sorted(str(p) for p in root.rglob("*"))
        done = subprocess.run([sys.executable, "-c", _QUERY_AS_NOBODY, str(snap)], capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0 and done.stdout == "1683\n", done.stderr
        assert sorted(str(p) for p in root.rglob("*")) == before
    finally:
        for path in [root, *root.rglob("*")]:
            path.chmod(0o755)
        shutil.rmtree(root, ignore_errors=True)


_CRAWL_ON_A_FULL_DISK = """
set -u
mount -t tmpfs -o size=1m tmpfs "$1" || exit 77
"$PTMGRAPH" ingest "$2" --out "$1/snap" > /dev/null 2>&1 || exit 78
free=$(df -k --output=avail "$1" | tail -n 1)
head -c $(( (free - 8) * 1024 )) /dev/zero > "$1/filler" 2> /dev/null  # 8 KiB left
HF_HUB_OFFLINE=0 "$PTMGRAPH" crawl --seed o/m0 --out "$1/snap" --state-dir "$3/state" --fetch-files never \\
    --no-progress 2> "$3/stderr"
echo $? > "$3/code"
"$PTMGRAPH" impact o/m0 -s "$1/snap" -f json > "$3/after.json"
ls -A "$1" "$1/snap" > "$3/left"
"""


def test_a_crawl_whose_save_meets_a_full_disk_exits_1_keeps_the_old_snapshot_and_its_journal(
        tmp_path: Path) -> None:
    from hub_server import HubData, HubServer

    records = {f"o/m{i}": {"id": f"o/m{i}", "_id": f"{i:024x}", "author": "o", "downloads": i, "siblings": [],
                           "tags": [f"base_model:finetune:o/m{(i - 1) // 2}", f"base_model:o/m{(i - 1) // 2}"]
                           if i else []} for i in range(400)}
    disk, out = tmp_path / "disk", tmp_path / "out"
    disk.mkdir()
    out.mkdir()
    small = _lineage_csv(tmp_path / "small.csv", 3)
    namespace = ["unshare", "--mount"] if os.geteuid() == 0 else ["unshare", "--user", "--map-root-user", "--mount"]
    if shutil.which("unshare") is None:
        pytest.skip("no unshare(1) to mount a small file system")
    with HubServer(HubData(records=records), page_size=1000) as hub:
        env = {**os.environ, "PTMGRAPH": str(PTMGRAPH), "HF_ENDPOINT": hub.url, "HF_HOME": str(tmp_path / "hf"),
               "HF_HUB_DISABLE_TELEMETRY": "1"}
        env.pop("HF_TOKEN", None)
        done = subprocess.run([*namespace, "sh", "-c", _CRAWL_ON_A_FULL_DISK, "sh", str(disk), str(small), str(out)],
                              capture_output=True, text=True, timeout=300, env=env)
    if done.returncode == 77 or "unshare failed" in done.stderr:
        pytest.skip(f"cannot mount a small file system here: {done.stderr.strip()}")
    assert done.returncode == 0 and (out / "code").read_text() == "1\n", done.stderr + (out / "stderr").read_text()
    assert (out / "stderr").read_text().splitlines()[-1] == (
        f"ptmgraph: error: {disk}/snap: cannot write the snapshot (No space left on device)")
    assert json.loads((out / "after.json").read_text())["affected_models"] == 2
    assert (out / "left").read_text() == f"{disk}:\nfiller\nsnap\n\n{disk}/snap:\nCURRENT\ngen-1\n"
    assert any((out / "state").iterdir())  # the crawl's journal is kept: the same command resumes it
