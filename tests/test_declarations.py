"""Commands built from the analyses' declarations: every command's options as ``--help`` lists them, the
README's command reference, and the index that lets ``--help`` list the commands without importing them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.core import TyperArgument

from ptmgraph import cli
from ptmgraph.cli_index import COMMANDS

README = Path(__file__).parents[1] / "README.md"
BEGIN, END = "<!-- command reference: begin -->", "<!-- command reference: end -->"


def commands() -> dict[str, Any]:
    """Every command of the program as typer builds it, by name."""
    group = typer.main.get_command(cli.app)
    return {name: group.get_command(None, name) for name in group.list_commands(None)}  # type: ignore[attr-defined]


def reference() -> str:
    """The command reference table: each command, its arguments and its options, from the built commands."""
    lines = ["| command | arguments | options |", "|---|---|---|"]
    for name, command in commands().items():
        arguments = " ".join(f"{p.metavar}{'...' if p.nargs == -1 else ''}" for p in command.params
                             if isinstance(p, TyperArgument))
        options = ", ".join(f"`{max(p.opts, key=len)}`" for p in command.params
                            if not isinstance(p, TyperArgument) and not p.hidden and "--help" not in p.opts)
        lines.append(f"| `{name}` | {arguments} | {options} |")
    return "\n".join(lines)


def test_the_readme_lists_every_command_with_the_options_its_help_shows() -> None:
    text = README.read_text(encoding="utf-8")
    written = text[text.index(BEGIN) + len(BEGIN):text.index(END)].strip()
    assert written == reference(), f"README's command reference should read:\n{reference()}"


def test_the_shared_options_are_on_every_command_that_prints_a_table() -> None:
    for name, command in commands().items():
        names = {option for p in command.params for option in p.opts}
        formats = next((p for p in command.params if "--format" in p.opts), None)
        if formats is not None and "csv" in str(formats.metavar).split("|"):
            assert {"--csv-raw", "--provenance"} <= names, name


def test_every_command_that_walks_the_graph_takes_the_query_options() -> None:
    walking = {"ancestry", "impact", "info", "why", "stats", "audit-relations", "licenses", "audit", "reach", "stale",
               "diff", "history", "risk", "check", "report", "export", "explore"}
    for name, command in commands().items():
        names = {option for p in command.params for option in p.opts}
        assert ("--min-confidence" in names) == (name in walking), name
        assert "--from-file" not in names or name in {"ancestry", "impact", "risk", "check"}, name


def test_the_index_the_help_lists_is_the_declarations() -> None:
    """``ptmgraph --help`` lists the commands from ``ptmgraph/cli_index.py``; it is written from the
    declarations (``python -m ptmgraph.cli_index``), and must say what they say."""
    assert Path(cli.__file__).with_name("cli_index.py").read_text(encoding="utf-8") == cli.command_index()
    assert set(COMMANDS) | {"export", "explore", "ingest", "crawl", "cache"} == set(commands())


def test_the_index_holds_each_command_s_declared_options() -> None:
    """What the index rebuilds (option by option, choices by their words) is what the analysis declares."""
    from enum import Enum

    from ptmgraph.analyses import declarations

    def plain(option: Any) -> tuple[Any, ...]:
        return tuple(tuple(c.value for c in v) if isinstance(v, type) and issubclass(v, Enum) else
                     v.value if isinstance(v, Enum) else v for v in vars(option).values())

    for name, (module, declared_as) in declarations().items():
        indexed_module, help_text, options, query = COMMANDS[name]
        assert (indexed_module, help_text, query) == (module, declared_as.help, declared_as.query), name
        assert [plain(o) for o in options] == [plain(o) for o in declared_as.options], name


def test_the_help_of_the_program_lists_every_command_with_its_first_words() -> None:
    from typer.testing import CliRunner

    done = CliRunner().invoke(cli.app, ["--help"], env={"COLUMNS": "200"})
    listed = dict(re.findall(r"^  (\S+)\s{2,}(.+)$", done.output.split("Commands:")[1], re.M))
    assert list(listed) == sorted(commands())
    assert listed["risk"].startswith("Everything a risky model puts at risk")
    assert listed["ingest"].startswith("Build a snapshot from files")


def test_an_option_added_once_to_the_query_options_appears_on_every_command_that_walks_the_graph(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ptmgraph import declaration

    extra = declaration.Option(("--extra-filter",), "extra_filter", "A new query option.", "flag", False)
    monkeypatch.setattr(declaration, "QUERY", (*declaration.QUERY, extra))
    for name in ("ancestry", "reach", "stale", "risk", "check"):
        assert "--extra-filter" in {o for p in cli.build_command(name).params for o in p.opts}, name
    assert "--extra-filter" not in {o for p in cli.build_command("search").params for o in p.opts}
