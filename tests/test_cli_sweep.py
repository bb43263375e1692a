"""Every command, every whole-number option: an absurd integer is a usage error (exit 2, naming the
option), never an internal error (70); the largest accepted value runs. Paths with rich-markup
characters (``[/]``, ``[red]``) are written, read and reported as they are."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.core import TyperOption
from typer.testing import CliRunner

from ptmgraph.cli import app
from ptmgraph.declaration import LARGEST_WHOLE_NUMBER
from ptmgraph.snapshot import bundled_path

LLAMA_CHAT = "meta-llama/Llama-2-7b-chat-hf"
SMALL = "TheBloke/Llama-2-7B-Chat-GGML"  # a model with two children in the bundled snapshot
PTMGRAPH = Path(sys.executable).with_name("ptmgraph")

REQUIRED = {
    "ancestry": [SMALL], "impact": [SMALL], "info": [SMALL], "search": ["gemma"], "stale": [SMALL],
    "list": ["--author", "TheBloke"],
    "risk": ["--compromised", SMALL], "check": [SMALL], "why": [SMALL, LLAMA_CHAT], "report": ["--out", "{tmp}/report"],
    "export": [SMALL, "--impact", "--format", "dot", "--out", "{tmp}/drawing.dot"],
    "explore": [SMALL, "--out", "{tmp}/explorer.html"],
    "crawl": ["--seed", "a/b", "--out", "{tmp}/crawl", "--endpoint", "http://127.0.0.1:9"],
    "ingest": ["{tmp}/none.csv", "--out", "{tmp}/snap"],
    "diff": [str(bundled_path()), str(bundled_path())],
    "history": [SMALL, "--history", "{tmp}/history"],
}
"""What each command needs besides the option under test (``{tmp}``: a fresh directory)."""

NOT_RUN_AT_THE_LARGEST = {"crawl", "report"}
"""Commands the largest value is only parsed for: a crawl needs a server, a report takes seconds."""


def whole_number_options() -> list[tuple[str, str]]:
    """(command, option) for every option of every command that takes a whole number."""
    group = typer.main.get_command(app)
    found = []
    for name in group.list_commands(None):  # type: ignore[attr-defined]
        for param in group.get_command(None, name).params:  # type: ignore[attr-defined]
            annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
            if isinstance(param, TyperOption) and annotation in (int, list[int]):
                found.append((name, max(param.opts, key=len)))
    return found


OPTIONS = whole_number_options()


def test_the_sweep_sees_the_options_users_name() -> None:
    assert {("impact", "--limit"), ("info", "--children"), ("reach", "--top"), ("export", "--max-nodes"),
            ("crawl", "--max-pages"), ("ancestry", "--max-paths")} <= set(OPTIONS)


def _args(command: str, tmp: Path) -> list[str]:
    return [command, *(a.format(tmp=tmp) for a in REQUIRED.get(command, []))]


@pytest.mark.parametrize("value", [str(2**63), str(10**30), str(LARGEST_WHOLE_NUMBER + 1), str(-(2**63))])
@pytest.mark.parametrize(("command", "option"), OPTIONS)
def test_an_absurd_integer_is_a_usage_error(command: str, option: str, value: str, tmp_path: Path) -> None:
    done = CliRunner().invoke(app, [*_args(command, tmp_path), f"{option}={value}"])
    assert done.exit_code == 2, done.output
    assert f"Invalid value for '{option}" in done.output


@pytest.mark.parametrize(("command", "option"), [o for o in OPTIONS if o[0] not in NOT_RUN_AT_THE_LARGEST])
def test_the_largest_accepted_integer_runs(command: str, option: str, tmp_path: Path) -> None:
    done = CliRunner().invoke(app, [*_args(command, tmp_path), f"{option}={LARGEST_WHOLE_NUMBER}", "-f", "json"]
                              if command in ("ancestry", "impact", "reach", "stale", "search", "list", "info")
                              else [*_args(command, tmp_path), f"{option}={LARGEST_WHOLE_NUMBER}"])
    assert done.exit_code in (0, 1), done.output  # 1: risk and check report what they found; history: none kept


@pytest.mark.parametrize("value", [str(2**63), str(LARGEST_WHOLE_NUMBER + 1)])
def test_the_quick_command_line_refuses_what_typer_refuses(value: str) -> None:
    """A plain ``impact`` runs without typer (ptmgraph/entry.py): the same bound, the same exit."""
    done = subprocess.run([PTMGRAPH, "impact", SMALL, "--limit", value], capture_output=True, text=True, check=False)
    assert done.returncode == 2 and "'--limit'" in done.stderr, done.stderr


MARKUP_NAMES = ["snap[/]", "snap[red]x", "snap[bold]", "[link=http://x]y"]


@pytest.mark.parametrize("name", MARKUP_NAMES)
def test_markup_in_paths_is_shown_and_read_as_written(name: str, tmp_path: Path) -> None:
    edges = tmp_path / f"edges{name.replace('/', '_')}.csv"
    edges.write_text("child,base\norg/child,org/base\n")
    out = tmp_path / name
    made = subprocess.run([PTMGRAPH, "ingest", str(edges), "--out", str(out)], capture_output=True, text=True,
                          check=False)
    assert made.returncode == 0, made.stderr
    assert f"wrote snapshot {out}: 2 models, 1 edge," in made.stderr
    asked = subprocess.run([PTMGRAPH, "impact", "org/base", "-s", str(out), "-f", "csv"], capture_output=True,
                           text=True, check=False)
    assert asked.returncode == 0 and asked.stdout.splitlines()[1].startswith("org/child,1,org/base,"), asked.stderr
    drawing = tmp_path / f"{name.replace('/', '_')}.dot"
    drawn = subprocess.run([PTMGRAPH, "export", "org/base", "--impact", "-s", str(out), "--out", str(drawing)],
                           capture_output=True, text=True, check=False)
    assert drawn.returncode == 0 and f"wrote {drawing}:" in drawn.stderr, drawn.stderr
    missing = subprocess.run([PTMGRAPH, "stats", "-s", str(out / "gone")], capture_output=True, text=True, check=False)
    assert missing.returncode == 1 and f"ptmgraph: error: {out / 'gone'}" in missing.stderr, missing.stderr
