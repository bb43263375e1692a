"""The layering is checked, not only described: `lint-imports` (the contracts in pyproject.toml's
``[tool.importlinter]``) keeps every contract on the project as it is, and fails, naming the import, on a copy
of the source tree with one import added that runs back up a layer, makes a format walk, imports the analyses
from outside the command line, makes an analysis use networkx, or closes an import cycle."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(tree: Path) -> tuple[int, str]:
    """``lint-imports`` run on the source tree at ``tree`` (its pyproject.toml, its ``ptmgraph`` package)."""
    run = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=tree, capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": str(tree), "COLUMNS": "400", "NO_COLOR": "1"},
    )
    return run.returncode, run.stdout + run.stderr


def verdicts(output: str) -> dict[str, str]:
    """Each contract's name -> KEPT or BROKEN, from the summary lines."""
    lines = (re.fullmatch(r"(.+) (KEPT|BROKEN)(?: \([^)]*\))?", line) for line in output.splitlines())
    return {match[1]: match[2] for match in lines if match}


def test_the_project_keeps_every_import_contract() -> None:
    code, output = lint_imports(ROOT)
    assert code == 0, output
    assert "Contracts: 6 kept, 0 broken." in output
    assert list(verdicts(output).values()) == ["KEPT"] * 6


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the project's Python sources and pyproject.toml (no data, no vendored JavaScript)."""
    skip = shutil.ignore_patterns("__pycache__", "data", "vendor", "explorer")
    shutil.copytree(ROOT / "ptmgraph", tmp_path / "ptmgraph", symlinks=True, ignore=skip)
    shutil.copytree(ROOT / "analyses", tmp_path / "analyses", ignore=skip)
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    return tmp_path


BREAKS = [
    # (file, the import added to its end, the contract it breaks, what the output names)
    ("ptmgraph/records.py", "import ptmgraph.cli", "Layers: no import runs back up",
     "ptmgraph.records -> ptmgraph.cli"),
    ("ptmgraph/formats/dot.py", "from ptmgraph.traverse import walk", "Formats never walk",
     "ptmgraph.formats.dot -> ptmgraph.traverse"),
    ("ptmgraph/formats/csv_table.py", "from ptmgraph.index import CompactGraph", "Formats never walk",
     "ptmgraph.formats.csv_table -> ptmgraph.index"),
    ("ptmgraph/graph.py", "import ptmgraph.analyses.reach", "Only the command line imports the analyses",
     "ptmgraph.graph -> ptmgraph.analyses.reach"),
    ("analyses/reach.py", "import networkx", "Analyses are passes over the tables and the compact index",
     "ptmgraph.analyses.reach -> networkx"),
    ("ptmgraph/formats/escaping.py", "import ptmgraph.formats.dot", "No import cycles",
     "No cycles are allowed in ptmgraph.formats"),
]


@pytest.mark.parametrize(("path", "line", "contract", "named"), BREAKS, ids=[b[2].split(":")[0] for b in BREAKS])
def test_an_import_against_the_layering_fails_lint_imports(
    tree: Path, path: str, line: str, contract: str, named: str
) -> None:
    with (tree / path).open("a", encoding="utf-8") as source:
        source.write(f"\n{line}  # noqa\n")
    code, output = lint_imports(tree)
    assert code == 1, output
    broken = [name for name, verdict in verdicts(output).items() if verdict == "BROKEN"]
    assert any(name.startswith(contract) for name in broken), output
    assert named in output
