"""``--format json`` as a reader sees it: the same values as the earlier indented document, one row a line.

The oracle is the earlier writer, written out here: every row through ``iter_rows``, times through
``isoformat``, the whole document through ``json.dumps(indent=2)``. Both documents are parsed and compared.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime, timedelta, timezone
from typing import Any

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ptmgraph.analyses.lineage import ancestry, impact
from ptmgraph.cli import app
from ptmgraph.formats.json_doc import result_to_json, results_to_json, row_lines
from ptmgraph.graph import LineageGraph
from ptmgraph.result import AnalysisResult

LLAMA_CHAT = "meta-llama/Llama-2-7b-chat-hf"
DEPTH3 = "AmberYifan/Gemma-7B-sft-SPIN-Gemma-2-27B"


def by_hand(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): by_hand(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [by_hand(v) for v in value]
    return value


def oracle(result: AnalysisResult, *, paths: bool = False) -> str:
    doc: dict[str, Any] = {"title": result.title}
    doc.update(by_hand(result.summary))
    doc["rows"] = [by_hand(row) for row in result.output_rows(deferred=paths).iter_rows(named=True)]
    if result.tables:
        doc["tables"] = {name: [by_hand(r) for r in frame.iter_rows(named=True)]
                         for name, frame in result.tables.items()}
    return json.dumps(doc, indent=2, ensure_ascii=False)


def test_impact_and_ancestry_documents_hold_the_values_of_the_indented_ones(bundled: LineageGraph) -> None:
    # a fresh result for each writer: output_rows() adds relation_path to the rows in place
    queries = [lambda: impact(bundled, LLAMA_CHAT), lambda: ancestry(bundled, DEPTH3),
               lambda: impact(bundled, "google/gemma-7b")]
    for query in queries:
        assert json.loads(result_to_json(query())) == json.loads(oracle(query()))
        assert json.loads(result_to_json(query(), paths=True)) == json.loads(oracle(query(), paths=True))
    both = [lambda: impact(bundled, LLAMA_CHAT, max_depth=1), lambda: ancestry(bundled, DEPTH3)]
    assert json.loads(results_to_json([q() for q in both])) == {"results": [json.loads(oracle(q())) for q in both]}
    assert json.loads(results_to_json([])) == {"results": []}


def test_each_row_of_an_impact_is_one_line_of_the_document() -> None:
    done = CliRunner().invoke(app, ["impact", LLAMA_CHAT, "-f", "json"])
    assert done.exit_code == 0, done.output
    doc = json.loads(done.stdout)
    row_lines_seen = [line for line in done.stdout.splitlines() if line.startswith('    {"id":')]
    assert len(row_lines_seen) == doc["affected_models"] == len(doc["rows"])
    assert [json.loads(line.rstrip(",")) for line in row_lines_seen] == doc["rows"]
    assert done.stdout.splitlines()[1] == f'  "title": "Impact of {LLAMA_CHAT}",'


UTC = timezone.utc
times = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31))
texts = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.none() | texts,
            st.none() | st.integers(-(2**63), 2**63 - 1),
            st.none() | st.booleans(),
            st.none() | times,
            st.none() | times,
            st.none() | st.dates(),
            st.none() | st.lists(st.none() | texts, max_size=3),
            st.none() | st.floats(allow_nan=False, allow_infinity=False),
        ),
        max_size=6,
    )
)
def test_any_table_reads_back_as_python_wrote_it(rows: list[tuple[Any, ...]]) -> None:
    frame = pl.DataFrame(
        [
            (s, i, b, utc.replace(tzinfo=UTC) if utc else None, naive, d, lst, f)
            for s, i, b, utc, naive, d, lst, f in rows
        ],
        schema={"s": pl.String(), "i": pl.Int64(), "b": pl.Boolean(), "utc": pl.Datetime("us", "UTC"),
                "naive": pl.Datetime("us"), "d": pl.Date(), "lst": pl.List(pl.String()), "f": pl.Float64()},
        orient="row",
    )
    expected = [json.loads(json.dumps(by_hand(r), ensure_ascii=False)) for r in frame.iter_rows(named=True)]
    assert [json.loads(line) for line in row_lines(frame)] == expected


def test_times_keep_python_s_spelling() -> None:
    moments = [datetime(2023, 7, 18, 16, 34, tzinfo=UTC), datetime(999, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
               datetime(2023, 7, 18, 16, 34, tzinfo=UTC) + timedelta(microseconds=120)]
    frame = pl.DataFrame({"t": moments, "n": [m.replace(tzinfo=None) for m in moments],
                          "d": [m.date() for m in moments]})
    lines = [json.loads(line) for line in row_lines(frame)]
    assert [line["t"] for line in lines] == [m.isoformat() for m in moments]
    assert [line["n"] for line in lines] == [m.replace(tzinfo=None).isoformat() for m in moments]
    assert [line["d"] for line in lines] == [m.date().isoformat() for m in moments]


def test_nan_and_other_types_are_written_as_python_writes_them() -> None:
    frame = pl.DataFrame({"f": [1.5, math.nan], "c": ["x", "y"]}, schema={"f": pl.Float64(), "c": pl.Categorical()})
    assert row_lines(frame) == ['{"f":1.5,"c":"x"}', '{"f":NaN,"c":"y"}']
