"""The real command line in a real terminal: tmux at 80 x 24, read back with capture-pane.

Each test types a command into a shell inside a detached tmux session of its own (a private tmux
server, so nothing else on the machine is touched), waits for the screen to settle and reads it as
a user would see it: what fits, what is cut, and whether ``less`` took over for long output.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

PTMGRAPH = Path(sys.executable).with_name("ptmgraph")
LLAMA = "meta-llama/Llama-2-7b-chat-hf"
DEPTH3 = "AmberYifan/Gemma-7B-sft-SPIN-Gemma-2-27B"
WIDTH, HEIGHT = 80, 24


class Terminal:
    """A shell in an 80 x 24 tmux pane."""

    def __init__(self) -> None:
        tmux = shutil.which("tmux")
        assert tmux, "tmux is needed for the terminal tests (scripts/run installs it)"
        self.socket = f"ptmgraph-test-{uuid.uuid4().hex[:8]}"
        self.base = [tmux, "-L", self.socket]
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "PAGER", "LESS", "NO_COLOR")}
        env["PS1"] = "$ "
        subprocess.run([*self.base, "-f", "/dev/null", "new-session", "-d", "-x", str(WIDTH), "-y", str(HEIGHT),
                        "-s", "t", "bash --norc --noprofile"], check=True, env=env)

    def type(self, keys: str, *, enter: bool = True) -> None:
        subprocess.run([*self.base, "send-keys", "-t", "t", "-l", keys], check=True)
        if enter:
            subprocess.run([*self.base, "send-keys", "-t", "t", "Enter"], check=True)

    def screen(self) -> list[str]:
        done = subprocess.run([*self.base, "capture-pane", "-p", "-t", "t"], check=True, capture_output=True,
                              text=True)
        return done.stdout.split("\n")[:HEIGHT]

    def wait_for(self, ready: Callable[[list[str]], bool], seconds: float = 90) -> list[str]:
        deadline = time.monotonic() + seconds
        while True:
            shown = self.screen()
            if ready(shown):
                return shown
            assert time.monotonic() < deadline, "\n".join(shown)
            time.sleep(0.3)

    def close(self) -> None:
        subprocess.run([*self.base, "kill-server"], check=False, capture_output=True)


@pytest.fixture
def terminal() -> Iterator[Terminal]:
    term = Terminal()
    try:
        yield term
    finally:
        term.close()


def finished(shown: list[str]) -> bool:
    return any(line.startswith("EXIT=") for line in shown)


def test_a_short_ancestry_prints_straight_to_the_screen(terminal: Terminal) -> None:
    terminal.type(f"clear; {PTMGRAPH} ancestry {DEPTH3}; echo EXIT=$?")
    shown = terminal.wait_for(finished)
    assert "EXIT=0" in shown
    text = "\n".join(shown)
    # the relation reads the right way round: gemma-7b is the base of the model above it, by a finetune
    assert text.count("└── ") == 3 and "google/gemma-7b root  base of ↑ (finetune)" in text
    assert all(len(line) <= WIDTH for line in shown)


def test_a_long_impact_opens_the_pager_and_q_leaves_it(terminal: Terminal) -> None:
    terminal.type(f"clear; {PTMGRAPH} impact {LLAMA}; echo EXIT=$?")
    shown = terminal.wait_for(lambda s: any(line.startswith("├── ") for line in s) and s[-1].startswith(":"))
    # less holds the screen: the first lines of the tree, and its prompt on the last line.
    assert shown[0].startswith(f"Impact of {LLAMA}")
    assert shown[2].startswith(f"{LLAMA}  ")
    branches = [line for line in shown if line.startswith(("├── ", "└── ", "│   "))]
    assert len(branches) >= 15 and all(len(line) <= WIDTH for line in shown)
    assert not finished(shown)
    terminal.type("q", enter=False)
    assert "EXIT=0" in terminal.wait_for(finished)


def test_no_pager_writes_everything_and_returns_at_once(terminal: Terminal) -> None:
    terminal.type(f"clear; {PTMGRAPH} --no-pager impact {LLAMA} --limit 30; echo EXIT=$?")
    shown = terminal.wait_for(finished)
    assert "EXIT=0" in shown
    assert any("more lines; --limit 0 shows all" in line for line in shown)


def test_info_pages_its_children_grouped_by_relation(terminal: Terminal) -> None:
    terminal.type(f"clear; {PTMGRAPH} info {LLAMA} --children 5; echo EXIT=$?")
    shown = terminal.wait_for(lambda s: s[-1].startswith(":") or finished(s))
    assert shown[0] == LLAMA and shown[-1].startswith(":"), "\n".join(shown)
    terminal.type(" ", enter=False)  # the next page
    later = terminal.wait_for(lambda s: any(line.startswith("children: adapter (1,337)") for line in s)
                              or finished(s))
    assert any(line.startswith("children: adapter (1,337)") for line in later), "\n".join(later)
    assert all(len(line) <= WIDTH for line in later)
    terminal.type("q", enter=False)
    terminal.wait_for(finished)


def test_search_fits_the_screen(terminal: Terminal) -> None:
    terminal.type(f"clear; {PTMGRAPH} search llama-2-7b-chat --limit 8; echo EXIT=$?")
    shown = terminal.wait_for(finished)
    assert "EXIT=0" in shown
    header = next(i for i, line in enumerate(shown) if line.startswith("id "))
    assert shown[header + 1].split()[:2] == [LLAMA, "1,186,755"]
    assert all(len(line) <= WIDTH for line in shown)
