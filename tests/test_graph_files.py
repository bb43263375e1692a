"""The data exports (GraphML, GEXF, node-link JSON) of a hand-made snapshot, read back by networkx.

Expected values are written here by hand from the records below: text with ``<&"'`` as it is, a control
character shown as ``\\x01`` in XML (JSON carries it), lists as JSON text in XML, datetimes as ISO 8601.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest
from graph_files import read_back

from ptmgraph.analyses.lineage import ancestry, impact
from ptmgraph.formats import graph_format, lineage_subgraph
from ptmgraph.formats.subgraph import combine
from ptmgraph.graph import LineageGraph
from ptmgraph.records import DANGLING_SCHEMA, EDGES_SCHEMA, EVIDENCE_SCHEMA, MODELS_SCHEMA, PROBLEMS_SCHEMA
from ptmgraph.snapshot import Snapshot

BASE = "org/base"
CHILD = "org/ch<&\"'ild"
ROOT = "org/root"
AUTHOR = "a<&\"'b\x01c"
WHEN = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def frame(rows: list[dict[str, Any]], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame([{c: row.get(c) for c in schema} for row in rows], schema=schema)


@pytest.fixture(scope="module")
def lg() -> LineageGraph:
    """org/root -> org/base -> the child; org/root has no record (named only by the edge)."""
    models = [
        {"id": BASE, "author": AUTHOR, "downloads": 7, "has_record": True, "created_at": WHEN,
         "weight_formats": ["safetensors", "gguf"]},
        {"id": CHILD, "author": "org", "downloads": 3, "license": "x\x02y", "has_record": True},
    ]
    edges = [{"base": BASE, "child": CHILD, "relation": "finetune", "relation_rule": "declared",
              "evidence_kinds": ["card_base_model"], "n_evidence": 1, "loads_code": False},
             {"base": ROOT, "child": BASE, "relation": "merge", "relation_rule": "declared", "n_evidence": 0}]
    evidence = [{"base": BASE, "child": CHILD, "kind": "card_base_model", "field": "README.md:base_model",
                 "source": "models.jsonl:2", "raw": "<&\"'\x03"}]
    snap = Snapshot(models=frame(models, MODELS_SCHEMA), edges=frame(edges, EDGES_SCHEMA),
                    evidence=frame(evidence, EVIDENCE_SCHEMA), dangling=frame([], DANGLING_SCHEMA),
                    problems=frame([], PROBLEMS_SCHEMA))
    return LineageGraph(snap)


@pytest.fixture(scope="module")
def drawn(lg: LineageGraph) -> Any:
    return lineage_subgraph(lg, impact(lg, BASE), direction="impact", max_nodes=100)


@pytest.mark.parametrize("name", ["graphml", "gexf", "json"])
def test_a_data_export_reads_back_as_the_records_say(name: str, drawn: Any) -> None:
    data = graph_format(name).render(drawn, title='Impact of <&"\'\x04')
    graph = read_back(name, data)
    xml = name != "json"
    shown = (lambda text: text.replace("\x01", "\\x01").replace("\x02", "\\x02").replace("\x03", "\\x03")
             .replace("\x04", "\\x04")) if xml else (lambda text: text)
    assert set(graph.nodes) == {BASE, CHILD} and set(graph.edges) == {(BASE, CHILD)}
    base = {"author": shown(AUTHOR), "downloads": 7, "has_record": True, "created_at": "2024-01-02T03:04:05+00:00",
            "weight_formats": '["safetensors", "gguf"]' if xml else ["safetensors", "gguf"],
            "label": BASE, "kind": "focus", "depth": 0}
    child = {"author": "org", "downloads": 3, "license": shown("x\x02y"), "has_record": True,
             "label": CHILD, "kind": "model", "depth": 1, "relation": "finetune"}
    assert dict(graph.nodes[BASE]) == base
    assert dict(graph.nodes[CHILD]) == child
    evidence = [{"kind": "card_base_model", "field": "README.md:base_model", "source": "models.jsonl:2",
                 "relation": None, "raw": "<&\"'\x03", "quote": None}]
    evidence_text = ('[{"kind": "card_base_model", "field": "README.md:base_model", "source": "models.jsonl:2", '
                     '"relation": null, "raw": "<&\\"\'\\u0003", "quote": null}]')  # JSON escapes the control
    edge = {"relation": "finetune", "relation_rule": "declared", "evidence_kinds": '["card_base_model"]' if xml
            else ["card_base_model"], "n_evidence": 1, "loads_code": False, "summary": False,
            "evidence": evidence_text if xml else evidence}
    found = {k: v for k, v in graph.edges[BASE, CHILD].items() if k != "id"}  # GEXF numbers its edges
    assert found == edge
    if name != "gexf":  # GEXF does not carry the graph's own attributes
        assert graph.graph["title"] == shown('Impact of <&"\'\x04') and graph.graph["shown"] == 1


@pytest.mark.parametrize("name", ["graphml", "gexf", "json"])
def test_both_ways_in_one_file_keep_each_models_attributes(name: str, lg: LineageGraph) -> None:
    both = combine(lineage_subgraph(lg, ancestry(lg, BASE), direction="ancestry", max_nodes=100),
                   lineage_subgraph(lg, impact(lg, BASE), direction="impact", max_nodes=100))
    graph = read_back(name, graph_format(name).render(both, title="Both"))
    assert set(graph.edges) == {(ROOT, BASE), (BASE, CHILD)}
    assert dict(graph.nodes[ROOT]) == {"label": ROOT, "kind": "model", "depth": 1,
                                       "relation": "merge"}  # no record: only what the walk knows
    assert graph.nodes[CHILD]["author"] == "org" and graph.nodes[BASE]["downloads"] == 7
    assert {k: v for k, v in graph.edges[ROOT, BASE].items() if k != "id"} == {
        "relation": "merge", "relation_rule": "declared", "n_evidence": 0, "summary": False}
