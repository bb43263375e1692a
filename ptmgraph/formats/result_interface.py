"""The result interface: a result format writes the answer of a command (:class:`~ptmgraph.result.AnalysisResult`,
one or several: one per model asked about) to standard output.

Each concrete format lives in a module of its own, which holds one instance of its class as ``FORMAT``;
:mod:`ptmgraph.formats.results` lists them and imports a format's module only when it is used. A *document*
format (:class:`DocumentFormat`: JSON, CSV, SARIF, Markdown) gives its text in pieces; the terminal view
(``table``) prints through the console. This module imports nothing heavy.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from rich.console import Console

    from ptmgraph.result import AnalysisResult


class Output(Protocol):
    """Where a format writes: standard output (:class:`ptmgraph.terminal.Screen`)."""

    @property
    def console(self) -> Console:
        """The rich console that prints tables and trees."""
        ...

    def write(self, text: str) -> None:
        """Write ``text`` as it is."""

    def line_break(self) -> None:
        """An empty line between two answers."""


@dataclass(frozen=True)
class WriteOptions:
    """How to write an answer; a format ignores what it has no use for.

    ``raw`` keeps CSV cells as they are (``--csv-raw``); ``paths`` adds the deferred columns (``relation_path``,
    ``--paths``) to a document's rows; ``provenance`` (the snapshot the answer comes from, the version, the
    filters: :func:`ptmgraph.cli_output.provenance`), when given, is written into a document (JSON a
    ``provenance`` member, CSV leading ``# key: value`` lines, SARIF the run's ``properties``, Markdown a
    last section) and names the filters in a table's header. The table view alone reads ``limit`` (the rows
    shown, all when 0), ``view`` (the command's own view of one result, such as a tree; default: its summary
    and tables), ``columns`` (the main table's columns shown, in that order) and ``answer`` (the columns that
    drop last on a narrow terminal).
    """

    limit: int = 0
    raw: bool = False
    paths: bool = False
    provenance: Mapping[str, Any] | None = None
    view: Callable[[AnalysisResult], None] | None = None
    columns: Sequence[str] | None = None
    answer: tuple[str, ...] = ()


class ResultFormat(ABC):
    """One way of writing an answer (``--format NAME``)."""

    @abstractmethod
    def write(self, results: list[AnalysisResult], out: Output, options: WriteOptions) -> None:
        """Write ``results`` (one or several) to ``out``. Raises ValueError for results it cannot hold."""


class DocumentFormat(ResultFormat):
    """A format whose answer is one text document: :meth:`document` gives its pieces, line break at the end
    included; :meth:`write` writes small pieces gathered and a large one (a table's rows) as it comes."""

    @abstractmethod
    def document(self, results: list[AnalysisResult], options: WriteOptions) -> Iterable[str]:
        """The text of ``results``: one result's document, or one document holding several."""

    def write(self, results: list[AnalysisResult], out: Output, options: WriteOptions) -> None:
        gathered: list[str] = []
        for piece in self.document(results, options):
            gathered.append(piece)
            if len(piece) > 1 << 16:
                out.write("".join(gathered))
                gathered = []
        out.write("".join(gathered))
