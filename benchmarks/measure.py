"""Run one command in a child process and measure it.

**Wall time**: seconds from start to exit. **CPU time**: user + system seconds of the child and of
the children it waited for. **Peak RSS**: the largest resident set of the child or of any child it
waited for, in MiB (``ru_maxrss`` from ``wait4``, which Linux reports in KiB). Each measured command
is its own process, so the peak belongs to that step alone.

Linux counts in a child's ``ru_maxrss`` the resident set of the process it was forked from. So the
runner (which may hold a graph) never forks the step itself: it starts this module as a small
launcher (``python -m benchmarks.measure RESULT -- COMMAND...``, about 10 MiB, importing nothing
heavy), which spawns the step, waits for it and writes the measurement to RESULT as JSON. That
launcher's resident set is the floor of every peak reported.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Measurement:
    """One run of one command (see the module docstring for the units)."""

    wall_s: float
    cpu_s: float
    peak_rss_mib: float
    exit_code: int
    timed_out: bool
    stdout_bytes: int
    stderr_tail: str


def run_measured(command: list[str], stdout: Path, timeout_s: float) -> Measurement:
    """Run ``command`` with its standard output in ``stdout``; kill it after ``timeout_s`` seconds."""
    import subprocess

    stderr, result = stdout.with_suffix(".stderr"), stdout.with_suffix(".measured.json")
    result.unlink(missing_ok=True)
    launcher = [sys.executable, "-m", "benchmarks.measure", str(result), "--", *command]
    with stdout.open("wb") as out, stderr.open("wb") as err:
        child = subprocess.Popen(launcher, stdout=out, stderr=err, stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            child.wait(timeout=timeout_s)
            timed_out = False
        except subprocess.TimeoutExpired:
            timed_out = True
        except BaseException:
            os.killpg(child.pid, signal.SIGKILL)  # interrupted: take the step down with the runner
            raise
        if timed_out:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
    tail = " | ".join(stderr.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-3:])
    if timed_out or not result.exists():
        return Measurement(timeout_s, 0.0, 0.0, child.returncode, timed_out, stdout.stat().st_size, tail)
    values = json.loads(result.read_text())
    return Measurement(**values, timed_out=False, stdout_bytes=stdout.stat().st_size, stderr_tail=tail)


def _launch(result: Path, command: list[str]) -> None:
    """The launcher's body: spawn, wait, write the measurement (see the module docstring)."""
    start = time.perf_counter()
    pid = os.posix_spawnp(command[0], command, os.environ)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    values = {
        "wall_s": round(wall, 3),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
        "exit_code": os.waitstatus_to_exitcode(status),
    }
    result.write_text(json.dumps(values))


if __name__ == "__main__":
    _launch(Path(sys.argv[1]), sys.argv[3:])
