"""Commands built from the analyses' declarations: every command's options as ``--help`` lists them, the
README's command reference, and the index that lets ``--help`` list the commands without importing them."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.core import TyperArgument

from ptmgraph import cli, cli_index_writer
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
    assert Path(cli.__file__).with_name("cli_index.py").read_text(encoding="utf-8") == cli_index_writer.command_index()
    assert set(COMMANDS) | {"export", "explore", "ingest", "crawl", "cache"} == set(commands())


def test_the_index_holds_each_command_s_declared_options() -> None:
    """What the index rebuilds (option by option, choices by their words) is what the analysis declares."""
    from enum import Enum

    from ptmgraph.analyses import declarations

    def plain(option: Any) -> tuple[Any, ...]:
        return tuple(tuple(c.value for c in v) if isinstance(v, type) and issubclass(v, Enum) else
                     v.value if isinstance(v, Enum) else v for v in vars(option).values())

    for name, (module, declared_as) in declarations().items():
        indexed_module, indexed = COMMANDS[name]
        assert (indexed_module, indexed.help, indexed.query, indexed.rows) == (
            module, declared_as.help, declared_as.query, declared_as.rows), name
        assert [plain(o) for o in indexed.options] == [plain(o) for o in declared_as.options], name


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


TOY = '''"""A toy analysis, as a new analyses/NEW.py would be."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from ptmgraph import declaration as d
from ptmgraph.graph import LineageGraph
from ptmgraph.result import AnalysisResult, Summary


@dataclass(frozen=True, kw_only=True)
class LettersSummary(Summary):
    letters: int


def letters(lg: LineageGraph, word: str, *, rounds: int = 1) -> AnalysisResult[LettersSummary]:
    rows = pl.DataFrame({"letter": list(word) * rounds, "round": [r + 1 for r in range(rounds) for _ in word]})
    return AnalysisResult(f"The letters of {word}", rows, LettersSummary(letters=rows.height))


def _lowercase(values: Mapping[str, Any]) -> dict[str, Any]:
    if values["word"] != values["word"].lower():
        raise d.UsageError(f"WORD {values['word']!r}: lowercase only")
    return {"rounds": values["repeat"]}


COMMANDS = (
    d.Analysis("letters", "The letters of WORD.",
               (d.Option(("WORD",), "word", "A word.", argument=True, required=True), d.SNAPSHOT, d.FORMAT,
                d.LIMIT, d.CSV_RAW, d.Option(("--repeat",), "repeat", "Rounds.", "int", 1, metavar="N", least=1)),
               summary="LettersSummary", function=letters, prepare=_lowercase, columns=("letter",),
               adjust_columns=lambda columns, result, values: [*columns, "round"] if values["repeat"] > 1 else columns,
               fails=lambda result: result.rows.height > 3),
)
'''


@pytest.fixture
def forget_letters() -> Iterator[None]:
    """The toy analysis' module is forgotten after its test."""
    yield
    sys.modules.pop("ptmgraph.analyses.letters", None)


@pytest.mark.usefixtures("forget_letters")
def test_an_analysis_is_its_module_and_its_index_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the README's layout section says a new analysis takes (besides its README row): its module, and its
    entry in the index, written by ``python -m ptmgraph.cli_index``. The command then takes the shared options
    and runs the declared function with the values ``prepare`` gives, prints the declared columns and exits
    by the declared rule."""
    from typer.testing import CliRunner

    import ptmgraph.analyses
    from ptmgraph import cli_index

    (tmp_path / "letters.py").write_text(TOY, encoding="utf-8")
    monkeypatch.setattr(ptmgraph.analyses, "__path__", [*ptmgraph.analyses.__path__, str(tmp_path)])
    index: dict[str, Any] = {}
    exec(compile(cli_index_writer.command_index(), "cli_index.py", "exec"), index)  # the index as it would be written
    assert set(index["COMMANDS"]) == {*cli_index.COMMANDS, "letters"}
    monkeypatch.setattr(cli_index, "COMMANDS", index["COMMANDS"])
    monkeypatch.setattr(cli, "COMMANDS", index["COMMANDS"])
    monkeypatch.setitem(cli.Group.lazy, "letters", "The letters of WORD.")
    runner = CliRunner()

    listed = runner.invoke(cli.app, ["--help"], env={"COLUMNS": "200"}).stdout
    assert re.search(r"^  letters\s+The letters of WORD\.$", listed, re.M)
    helped = " ".join(runner.invoke(cli.app, ["letters", "--help"], env={"COLUMNS": "200"}).stdout.split())
    for shown in ("--format table|json|csv", "--min-confidence low|medium|high", "--provenance", "--csv-raw",
                  "--snapshot DIR", "--limit N", "--repeat N"):
        assert shown in helped, shown
    done = runner.invoke(cli.app, ["letters", "ab", "--repeat", "2", "-f", "csv"])
    assert (done.exit_code, done.stdout.splitlines()) == (1, ["letter,round", "a,1", "b,1", "a,2", "b,2"])
    done = runner.invoke(cli.app, ["letters", "ab", "-f", "json"])
    assert done.exit_code == 0 and json.loads(done.stdout)["letters"] == 2
    table = runner.invoke(cli.app, ["letters", "ab", "--repeat", "2"], env={"COLUMNS": "100"}).stdout
    assert re.search(r"letter\s+round", table)
    assert re.search(r"letter", runner.invoke(cli.app, ["letters", "ab"]).stdout)
    assert "round" not in runner.invoke(cli.app, ["letters", "ab"]).stdout
    refused = runner.invoke(cli.app, ["letters", "Ab"])
    assert (refused.exit_code, refused.stderr) == (2, "ptmgraph: error: WORD 'Ab': lowercase only\n")


def test_every_declared_command_has_a_body_or_a_function() -> None:
    from ptmgraph.analyses import declarations
    from ptmgraph.cli_commands import BODIES

    for name, (_, declared_as) in declarations().items():
        assert declared_as.function is not None or name in BODIES, name
        if declared_as.look_up is not None:
            assert {"--offline", "--max-age"} <= {n for o in declared_as.options for n in o.names}, name
        if declared_as.view is not None:
            from ptmgraph.formats import views

            assert callable(getattr(views, declared_as.view, None)), name
    assert set(BODIES) <= set(declarations())


def test_a_result_format_is_its_module_and_its_registry_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    """A result format registered for a kind of rows becomes a ``--format`` choice of the commands with those
    rows, and only of them (``cli_output.format_choices`` remembers its choices: forgotten here first)."""
    from typer.testing import CliRunner

    from ptmgraph import cli_output
    from ptmgraph.formats import results

    monkeypatch.setitem(results.RESULT_FORMATS, "ids", results.FormatEntry("ids", "ids_format", "ids",
                                                                             serves=("findings",)))
    cli_output.format_choices.cache_clear()
    try:
        def offered(command: str) -> list[str]:
            helped = CliRunner().invoke(cli.app, [command, "--help"], env={"COLUMNS": "200"}).stdout
            return re.findall(r"--format\s+(\S+)", helped)[0].split("|")

        assert offered("check") == ["table", "json", "csv", "sarif", "ids"]
        assert offered("stats") == ["table", "json", "csv"]
        refused = CliRunner().invoke(cli.app, ["stats", "-f", "ids"])
        assert refused.exit_code == 2 and "'ids' is not one of 'table', 'json', 'csv'" in refused.stderr
    finally:
        cli_output.format_choices.cache_clear()
