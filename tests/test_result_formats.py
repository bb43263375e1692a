"""The result formats come from one registry (``ptmgraph.formats.results``): every ``--format`` writes
through the same interface, a format's module loads only when it is used, and a new format is a module
plus a registry line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from ptmgraph import cli_output
from ptmgraph.formats import results as registry
from ptmgraph.formats.result_interface import DocumentFormat, ResultFormat, WriteOptions
from ptmgraph.result import AnalysisResult, WhySummary


def test_every_registered_format_is_a_result_format_and_every_document_format_gives_text() -> None:
    for name in registry.RESULT_FORMATS:
        format_ = registry.result_format(name)
        assert isinstance(format_, ResultFormat), name
        assert isinstance(format_, DocumentFormat) == (name != "table"), name


def test_the_registry_imports_no_format_until_one_is_used() -> None:
    code = ("import sys, ptmgraph.formats.results as r\n"
            "print(sorted(m for m in sys.modules if m.startswith(('ptmgraph.formats.', 'polars', 'rich'))))\n"
            "r.result_format('csv')\n"
            "print(sorted(m for m in sys.modules if m.startswith('ptmgraph.formats.')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before, after = done.stdout.splitlines()
    assert before == "['ptmgraph.formats.results']"
    assert "'ptmgraph.formats.csv_table'" in after and "json_doc" not in after and "sarif" not in after


def test_a_new_format_is_a_module_and_a_registry_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "ids_format.py").write_text(
        "from ptmgraph.formats.result_interface import DocumentFormat\n\n\n"
        "class Ids(DocumentFormat):\n"
        "    def document(self, results, options):\n"
        "        return [f'{model}\\n' for result in results for model in result.rows['id']]\n\n\n"
        "FORMAT = Ids()\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(registry.RESULT_FORMATS, "ids",
                        registry.FormatEntry("ids", "ids_format", "one model id a line"))
    answer = AnalysisResult("Why o/b derives from o/a", pl.DataFrame({"id": ["o/b", "o/a"]}),
                            WhySummary(model="o/b", ancestor="o/a", paths=1, paths_truncated=False, shortest=1))
    cli_output.write_answer("ids", [answer], WriteOptions())
    cli_output.screen.finish()
    assert capsys.readouterr().out == "o/b\no/a\n"
