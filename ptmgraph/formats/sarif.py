"""Format: SARIF 2.1.0 (OASIS Static Analysis Results Interchange Format), the findings of ``check`` for
code-scanning tools.

One log with one run of the tool ``ptmgraph``. Each finding row (columns ``id``, ``severity``,
``finding``, ``ancestor``, ``depth``, ``detail`` and ``waived``, as ``check`` gives them, whatever the
kind) is one result:

- ``ruleId``: the finding's kind; the run's rules are the kinds found, sorted, each with its index.
- ``level``: from the row's severity: high -> ``error``, medium -> ``warning``, low -> ``note``.
- ``message``: the kind, the model checked, the ancestor the finding is about (and its depth), the detail.
- ``locations``: a logical location, the model checked; ``relatedLocations``: the ancestor when it is
  another model.
- ``partialFingerprints``: the finding's identity (kind, model, ancestor: the baseline's), so a
  code-scanning service follows one finding from run to run.
- a waived finding carries a ``suppressions`` entry (kind ``external``, status ``accepted``) whose
  justification says what waived it (``--ignore`` or the baseline).

Every text is data in JSON strings (``json.dumps``): nothing a model id holds can change the document.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from ptmgraph.formats.result_interface import DocumentFormat, WriteOptions
from ptmgraph.result import AnalysisResult

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
LEVELS = {"high": "error", "medium": "warning", "low": "note"}
"""SARIF level by severity."""
FINGERPRINT = "ptmgraphFinding/v1"
"""The ``partialFingerprints`` key holding a finding's identity."""
COLUMNS = ("id", "severity", "finding", "ancestor", "depth", "detail")
"""The columns a result's rows need to be written as SARIF."""

_WAIVED_BY = {"ignore": "waived by --ignore", "baseline": "waived: in the baseline file"}


def _location(model: str, kind: str = "package") -> dict[str, Any]:
    return {"logicalLocations": [{"fullyQualifiedName": model, "kind": kind}]}


def _result(row: dict[str, Any], rule_index: int) -> dict[str, Any]:
    model, ancestor, finding = row["id"], row["ancestor"], row["finding"]
    about = "the model itself" if ancestor == model else f"{ancestor} (depth {row['depth']})"
    detail = f": {row['detail']}" if row.get("detail") else ""
    result: dict[str, Any] = {
        "ruleId": finding,
        "ruleIndex": rule_index,
        "level": LEVELS[row["severity"]],
        "message": {"text": f"{finding} in the lineage of {model}: {about}{detail}"},
        "locations": [_location(model)],
        "partialFingerprints": {FINGERPRINT: json.dumps([finding, model, ancestor], ensure_ascii=False)},
        "properties": {"severity": row["severity"], "model": model, "ancestor": ancestor, "depth": row["depth"],
                       "detail": row.get("detail")},
    }
    if ancestor != model:
        result["relatedLocations"] = [{"id": 0, **_location(ancestor)}]
    waived = row.get("waived")
    if waived:
        result["suppressions"] = [{"kind": "external", "status": "accepted",
                                   "justification": _WAIVED_BY.get(waived, f"waived: {waived}")}]
    return result


def sarif_log(results: list[AnalysisResult]) -> dict[str, Any]:
    """The SARIF log of the findings of ``results`` (module docstring)."""
    from ptmgraph import __version__

    rows: list[dict[str, Any]] = []
    for result in results:
        missing = [c for c in COLUMNS if c not in result.rows.columns]
        if missing:
            raise ValueError(f"{result.title}: not findings (no {', '.join(missing)} column); SARIF holds findings")
        rows += result.output_rows().to_dicts()
    kinds = sorted({row["finding"] for row in rows})
    index = {kind: number for number, kind in enumerate(kinds)}
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "ptmgraph",
                "version": __version__,
                "rules": [{"id": kind, "name": kind} for kind in kinds],
            }},
            "results": [_result(row, index[row["finding"]]) for row in rows],
        }],
    }


class SarifFormat(DocumentFormat):
    """``--format sarif``: the SARIF log (the provenance in each run's ``properties``), then a line break."""

    def document(self, results: list[AnalysisResult], options: WriteOptions) -> Iterable[str]:
        log = sarif_log(results)
        if options.provenance:
            for run in log.get("runs", []):
                run.setdefault("properties", {})["provenance"] = dict(options.provenance)
        return [json.dumps(log, ensure_ascii=False, indent=2), "\n"]


FORMAT = SarifFormat()
