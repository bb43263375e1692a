"""Format: ``--format table``, the terminal view of an answer.

Each result is printed by the command's own view when it has one (the lineage tree, ``info``, ``why``:
:mod:`ptmgraph.formats.views`), else as its summary lines, its main table (the columns given, dropped by
priority on a narrow terminal) and its secondary tables (:func:`ptmgraph.formats.console.print_result`);
several results with an empty line between them. The header (the result's title, set on the result) names
the filters that narrowed the answer, from its provenance, with the models they left out when the analysis
counted them.
Rich is imported only by the default view: a view that writes plain text (the tree on a pipe) never loads it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ptmgraph.formats.result_interface import Output, ResultFormat, WriteOptions

if TYPE_CHECKING:
    from ptmgraph.result import AnalysisResult


class TableFormat(ResultFormat):
    """The terminal view (module docstring)."""

    def write(self, results: list[AnalysisResult], out: Output, options: WriteOptions) -> None:
        for number, result in enumerate(results):
            if number:
                out.line_break()
            result.title = filtered_title(result, options)  # the result itself: a view may hold it already
            if options.view is not None:
                options.view(result)
            else:
                from ptmgraph.formats.console import print_result

                print_result(out.console, result, limit=options.limit,
                             columns=list(options.columns) if options.columns else None, answer=options.answer)


FORMAT = TableFormat()


def filtered_title(result: AnalysisResult, options: WriteOptions) -> str:
    """``result``'s title, naming the filters of its provenance (with the models they left out, when the
    analysis counted them: ``filtered_out``): ``Impact of m (filter: --min-confidence high removed 3 models)``."""
    from ptmgraph.result import AncestrySummary, ImpactSummary

    given = (options.provenance or {}).get("filters")
    if not isinstance(given, dict) or not given:
        return result.title
    said = ", ".join(_option_text(name, value) for name, value in given.items())
    summary = result.summary
    removed = summary.filtered_out if isinstance(summary, AncestrySummary | ImpactSummary) else None
    if removed is not None:
        said += f" removed {removed:,} model{'' if removed == 1 else 's'}"
    return f"{result.title} (filter{'s' if len(given) > 1 else ''}: {said})"


def _option_text(name: str, value: object) -> str:
    """An option as the command line gives it: ``--min-confidence high``, ``--relation adapter,merge``,
    ``--data-risks``."""
    if value is True:
        return name
    if isinstance(value, list):
        return f"{name} {','.join(str(v) for v in value)}"
    return f"{name} {value}"
