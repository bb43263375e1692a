"""Every result format, by name: how a command writes its answer (:class:`~ptmgraph.result.AnalysisResult`),
chosen with ``--format``.

Each format is a :class:`~ptmgraph.formats.result_interface.ResultFormat` in a module of its own, held there
as ``FORMAT``: ``table`` the terminal view (:mod:`~ptmgraph.formats.table`), and the documents ``json``
(:mod:`~ptmgraph.formats.json_doc`), ``csv`` (:mod:`~ptmgraph.formats.csv_table`), ``sarif``
(:mod:`~ptmgraph.formats.sarif`) and ``markdown`` (:mod:`~ptmgraph.formats.markdown_text`). This module
imports nothing heavy: the ``--format`` choices come from :data:`RESULT_FORMATS` (:func:`formats_for`: the
formats serving a command's kind of rows), and a format's module is imported when it is used
(:func:`result_format`). Adding a format is a module and a line here.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ptmgraph.formats.result_interface import ResultFormat


@dataclass(frozen=True)
class FormatEntry:
    """One ``--format`` choice: ``module`` holds the format (``FORMAT``); ``serves``: the kinds of rows it
    writes (a declaration's ``rows``: ``findings`` for ``check``, ``changes`` for ``diff`` and ``history``), None
    for every kind; ``provenance_on_request``: the answer carries its provenance only with ``--provenance``
    (CSV, whose readers expect a table from the first line)."""

    name: str
    module: str
    description: str
    serves: tuple[str, ...] | None = None
    provenance_on_request: bool = False


RESULT_FORMATS: dict[str, FormatEntry] = {f.name: f for f in (
    FormatEntry("table", "ptmgraph.formats.table", "tables and trees fitted to the terminal"),
    FormatEntry("json", "ptmgraph.formats.json_doc", "one JSON document: summary members, rows, tables"),
    FormatEntry("csv", "ptmgraph.formats.csv_table", "the main table as CSV", provenance_on_request=True),
    FormatEntry("sarif", "ptmgraph.formats.sarif", "SARIF 2.1.0, one result per finding", serves=("findings",)),
    FormatEntry("markdown", "ptmgraph.formats.markdown_text", "a Markdown document: summary, rows, tables",
                serves=("changes",)),
)}
"""Every result format, by name, in the order ``--format`` lists them."""


def formats_for(rows: str) -> list[str]:
    """The names of the formats that serve rows of the kind ``rows``, in the order of :data:`RESULT_FORMATS`:
    the ``--format`` choices of the commands whose rows they are (the command line builds them)."""
    return [name for name, entry in RESULT_FORMATS.items() if entry.serves is None or rows in entry.serves]


def result_format(name: str) -> ResultFormat:
    """The format called ``name`` (its module imported now); KeyError for an unknown name."""
    format_: ResultFormat = import_module(RESULT_FORMATS[name].module).FORMAT
    return format_

