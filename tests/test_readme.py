"""The README's examples work as written."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from typer.testing import CliRunner

from ptmgraph.cli import app

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def test_the_readme_starts_with_the_two_commands_of_a_fresh_machine() -> None:
    first = blocks("")[0].strip().splitlines()
    assert [line.split("#")[0].strip() for line in first] == ["bash scripts/run main", "bash scripts/run test"]
    assert README.startswith("```\nbash scripts/run main")


def test_the_python_example_runs_and_finds_the_adapters() -> None:
    namespace: dict[str, object] = {}
    exec(blocks("python")[0], namespace)  # the README's own code, nothing downloaded
    blast = namespace["blast"]
    assert blast.rows.height > 1000 and set(blast.rows["relation"]) == {"adapter"}  # type: ignore[attr-defined]


def test_the_query_commands_of_the_usage_section_run(tmp_path: Path) -> None:
    runner = CliRunner()
    usage = blocks("")[1]
    commands = [shlex.split(line.split("#")[0]) for line in usage.strip().splitlines()]
    ran = 0
    for argv in commands:
        if argv[1] in ("export", "explore", "report"):
            argv = [a if not a.startswith("outputs/") else str(tmp_path / Path(a).name) for a in argv]
        if "MODEL" in argv:
            continue
        result = runner.invoke(app, argv[1:])
        assert result.exit_code == 0, (argv, result.stderr)
        ran += 1
    assert ran >= 7
