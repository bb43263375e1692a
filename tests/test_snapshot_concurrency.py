"""Queries while the snapshot they read is being replaced: every answer is one whole version's.

Two versions of one snapshot name the same models in other orders, with other bases, downloads and
licences, so an answer that mixed the index or any column of one with the tables of the other would
differ from both. Writers replace the snapshot with one version or the other while readers query it;
every reader's answer must equal the answer of one version, as the same query gives it when nothing
is being written.
"""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys
import time
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

PTMGRAPH = Path(sys.executable).with_name("ptmgraph")
ROOT = "o/root"


def version_a() -> list[dict[str, object]]:
    """o/root, five finetunes of it and fifteen of theirs: 20 models under o/root, licence mit."""
    return [{"id": ROOT, "downloads": 7}] + [
        {"id": f"o/a{i}", "downloads": 3 * i, "cardData": {"base_model": ROOT if i < 5 else f"o/a{i % 5}",
                                                            "license": "mit"}} for i in range(20)]


def version_b() -> list[dict[str, object]]:
    """The same ids in reverse order, three finetunes of o/root, other downloads and licence, and ten more
    models: 30 models under o/root."""
    return [{"id": f"o/b{i}", "downloads": 500 + i, "cardData": {"base_model": f"o/a{i}"}} for i in range(10)] + [
        {"id": f"o/a{i}", "downloads": 1000 + i, "cardData": {"base_model": ROOT if i < 3 else f"o/a{i // 3 - 1}",
                                                               "license": "apache-2.0"}} for i in reversed(range(20))
    ] + [{"id": ROOT, "downloads": 9}]


def ingest(records: list[dict[str, object]], folder: Path) -> Path:
    folder.mkdir()
    (folder / "models.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    subprocess.run([PTMGRAPH, "ingest", str(folder / "models.jsonl"), "--out", str(folder / "snap")],
                   capture_output=True, timeout=120, check=True)
    return folder / "snap"


def query(snap: Path) -> tuple[int, str, str]:
    done = subprocess.run([PTMGRAPH, "impact", ROOT, "-s", str(snap), "-f", "json"], capture_output=True,
                          text=True, timeout=120)
    return done.returncode, done.stdout, done.stderr


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str]]:
    """Each version's quiet snapshot and the JSON its impact query prints."""
    base = tmp_path_factory.mktemp("versions")
    found = {}
    for name, records, models in (("a", version_a(), 20), ("b", version_b(), 30)):
        snap = ingest(records, base / name)
        code, answer, error = query(snap)
        assert code == 0, error
        assert json.loads(answer)["affected_models"] == models
        found[name] = (snap, answer)
    assert found["a"][1] != found["b"][1]
    return found


# --- the Python API across processes, rounds drawn by Hypothesis ----------------------------------------


def _worker(connection: Connection, target: str, source: str | None) -> None:
    """Serve jobs until told to stop: a writer saves the version read from ``source`` to ``target``, a
    reader opens ``target``, waits, and answers the impact query as the command line prints it."""
    from ptmgraph import snapshot
    from ptmgraph.analyses.lineage import impact
    from ptmgraph.formats.json_doc import result_document
    from ptmgraph.graph import load_graph

    version = snapshot.load(Path(source)) if source else None
    while (job := connection.recv()) is not None:
        before, inside = job
        time.sleep(before)
        try:
            if version is not None:
                snapshot.save(version, Path(target))
                connection.send("saved")
            else:
                graph = load_graph(Path(target))
                time.sleep(inside)  # a save may replace the snapshot between opening it and reading its tables
                connection.send("".join(result_document(impact(graph, ROOT))) + "\n")
        except snapshot.SnapshotError as err:
            connection.send(f"error: {err}")
        except Exception as err:  # reported to the test, which fails
            connection.send(f"crash: {type(err).__name__}: {err}")


READERS = 4


@pytest.fixture(scope="module")
def workers(versions: dict[str, tuple[Path, str]], tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[tuple[list[Connection], list[Connection]]]:
    """Two writers (version a, version b) and four readers, all on one snapshot, as processes."""
    target = tmp_path_factory.mktemp("raced") / "snap"
    subprocess.run(["cp", "-r", str(versions["a"][0]), str(target)], check=True)
    context = multiprocessing.get_context("spawn")
    sources = [str(versions["a"][0]), str(versions["b"][0])] + [None] * READERS
    pipes, processes = [], []
    for source in sources:
        ours, theirs = context.Pipe()
        process = context.Process(target=_worker, args=(theirs, str(target), source), daemon=True)
        process.start()
        pipes.append(ours)
        processes.append(process)
    yield pipes[:2], pipes[2:]
    for pipe in pipes:
        pipe.send(None)
    for process in processes:
        process.join(30)


delay = st.floats(0, 0.03)


@pytest.mark.slow  # 300 rounds: about 40 s on a busy 2-core machine
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(writers=st.lists(st.tuples(st.sampled_from([0, 1]), delay), min_size=1, max_size=3),
       readers=st.lists(st.tuples(delay, delay), min_size=1, max_size=READERS))
def test_every_answer_during_replaces_is_one_whole_version(
    versions: dict[str, tuple[Path, str]], workers: tuple[list[Connection], list[Connection]],
    writers: list[tuple[int, float]], readers: list[tuple[float, float]],
) -> None:
    """One round: some saves of either version and some queries, each after its own delay; a query opened
    before a save may read its tables after it. Not even an error: CURRENT always names a whole version."""
    writer_pipes, reader_pipes = workers
    jobs = [(writer_pipes[which], (wait, 0.0)) for which, wait in writers]
    jobs += [(reader_pipes[number], job) for number, job in enumerate(readers)]
    busy: dict[int, int] = {}
    for pipe, job in jobs:  # a writer drawn twice saves twice, one after the other
        busy[id(pipe)] = busy.get(id(pipe), 0) + 1
        pipe.send(job)
    answers = []
    for pipe, _ in jobs:
        if busy.get(id(pipe)):
            for _ in range(busy.pop(id(pipe))):
                answers.append(pipe.recv())
    expected = {_answer(versions["a"][1]), _answer(versions["b"][1])}
    for answer in answers:
        assert answer == "saved" or (not answer.startswith(("error", "crash")) and _answer(answer) in expected), \
            answer[:300]


def _answer(document: str) -> str:
    """The answer of an impact document, without the provenance the command line adds (which names the
    snapshot's directory and date, not the answer)."""
    parsed = json.loads(document)
    parsed.pop("provenance", None)
    return json.dumps(parsed, sort_keys=True)


# --- the command line: ingest loops and query loops, as a user would run them ----------------------------


@pytest.mark.slow
def test_queries_while_two_ingest_loops_replace_the_snapshot_answer_one_version(
    versions: dict[str, tuple[Path, str]], tmp_path: Path
) -> None:
    """Two shells run ``ptmgraph ingest`` in a loop, one input each, while three run the query 12 times."""
    inputs = [versions[name][0].parent / "models.jsonl" for name in ("a", "b")]
    target = tmp_path / "snap"
    subprocess.run([PTMGRAPH, "ingest", str(inputs[0]), "--out", str(target)], capture_output=True, check=True)
    loop = 'while [ ! -e "$2" ]; do "$0" ingest "$1" --out "$3" --replace >/dev/null 2>&1; done'
    stop = tmp_path / "stop"
    writers = [subprocess.Popen(["sh", "-c", loop, str(PTMGRAPH), str(path), str(stop), str(target)])
               for path in inputs]
    try:
        answers: list[tuple[int, str, str]] = []
        readers = [subprocess.Popen([sys.executable, "-c", _QUERIES, str(PTMGRAPH), ROOT, str(target), "12"],
                                    stdout=subprocess.PIPE, text=True) for _ in range(3)]
        for reader in readers:
            out, _ = reader.communicate(timeout=600)
            answers += [tuple(a) for a in json.loads(out)]  # type: ignore[misc]
    finally:
        stop.touch()
        for writer in writers:
            writer.wait(120)
    expected = {whole_version(versions["a"][1]), whole_version(versions["b"][1])}
    assert len(answers) == 36
    for code, stdout, stderr in answers:
        assert (code == 0 and whole_version(stdout) in expected) or (code == 1 and stderr.count("\n") == 1), (
            code, stderr)
    assert sum(code == 0 for code, _, _ in answers) == 36  # and in fact every query answered


def whole_version(answer: str) -> str:
    """An answer without what names the snapshot's place and time (its provenance's ``snapshot`` and
    ``written_at``): its sources stay, and must be those of the version whose tables it shows."""
    document = json.loads(answer)
    del document["provenance"]["snapshot"], document["provenance"]["written_at"]
    return json.dumps(document, sort_keys=True)


_QUERIES = """
import json, subprocess, sys
ptmgraph, model, snap, times = sys.argv[1:]
answers = []
for _ in range(int(times)):
    done = subprocess.run([ptmgraph, "impact", model, "-s", snap, "-f", "json"], capture_output=True, text=True)
    answers.append((done.returncode, done.stdout, done.stderr))
print(json.dumps(answers))
"""
