"""The result formats: how a command writes its answer (:class:`~ptmgraph.result.AnalysisResult`),
chosen with ``--format``.

``table`` is the terminal view: fitted tables and trees printed to the console (:mod:`~ptmgraph.formats.console`,
:mod:`~ptmgraph.formats.views`); the command supplies it. Every other format is a *document*: a module
with a function ``document(results, *, raw, paths, provenance) -> Iterable[str]`` (:class:`DocumentFormat`)
that gives the text for one result or several (one per model asked about), in pieces, line break at the end
included. ``raw`` keeps CSV cells as they are (``--csv-raw``); ``paths`` adds the deferred columns
(``relation_path``, ``--paths``); a format may ignore either. ``provenance`` (the snapshot the answer comes
from, the version, the filters: :func:`ptmgraph.cli_output.provenance`), when given, is written into the
document: JSON a ``provenance`` member, CSV leading ``# key: value`` comment lines, SARIF the run's
``properties``. This module imports nothing
heavy: each format's module is imported when it is used.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ptmgraph.result import AnalysisResult


class DocumentFormat(Protocol):
    """The interface of a document format's module."""

    def document(self, results: list[AnalysisResult], *, raw: bool = False, paths: bool = False,
                 provenance: Mapping[str, Any] | None = None) -> Iterable[str]: ...


@dataclass(frozen=True)
class ResultFormat:
    """One ``--format`` choice: ``module`` writes it (None: the terminal view); ``findings_only``: only for
    results whose rows are findings (``check``); ``everywhere``: a choice of every query command (else only
    of the commands that name it: ``markdown``, for ``diff``)."""

    name: str
    module: str | None
    description: str
    findings_only: bool = False
    everywhere: bool = True


RESULT_FORMATS: dict[str, ResultFormat] = {f.name: f for f in (
    ResultFormat("table", None, "tables and trees fitted to the terminal"),
    ResultFormat("json", "ptmgraph.formats.json_doc", "one JSON document: summary members, rows, tables"),
    ResultFormat("csv", "ptmgraph.formats.csv_table", "the main table as CSV"),
    ResultFormat("sarif", "ptmgraph.formats.sarif", "SARIF 2.1.0, one result per finding", findings_only=True),
    ResultFormat("markdown", "ptmgraph.formats.markdown_text", "a Markdown document: summary, rows, tables",
                 everywhere=False),
)}
"""Every result format, by name."""


def document(name: str, results: list[AnalysisResult], *, raw: bool = False, paths: bool = False,
             provenance: Mapping[str, Any] | None = None) -> Iterable[str]:
    """The text of ``results`` in the document format called ``name`` (see the module docstring)."""
    fmt = RESULT_FORMATS[name]
    if fmt.module is None:
        raise ValueError(f"{name} is the terminal view, not a document format")
    writer: DocumentFormat = import_module(fmt.module)  # type: ignore[assignment]
    return writer.document(results, raw=raw, paths=paths, provenance=provenance)
