"""Whatever shape real metadata takes, ingest turns it into data, never into a crash."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ptmgraph.assemble import assemble
from ptmgraph.extract import CardError, card_metadata, record_from_api
from ptmgraph.records import Harvest
from ptmgraph.sources.hub_records import HubRecordsSource

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,12}(/[A-Za-z0-9][A-Za-z0-9._-]{0,12})?", fullmatch=True)
base_values = st.one_of(ids, json_values, st.lists(st.one_of(ids, json_values), max_size=4))
rows = st.fixed_dictionaries(
    {"id": ids},
    optional={
        "cardData": st.one_of(json_values, st.fixed_dictionaries({"base_model": base_values}, optional={
            "base_model_relation": json_values, "license": json_values, "datasets": json_values})),
        "tags": st.one_of(json_values, st.lists(st.one_of(st.builds(lambda i: f"base_model:{i}", ids),
                                                          st.text(max_size=30)), max_size=5)),
        "siblings": st.one_of(json_values, st.lists(st.fixed_dictionaries({"rfilename": json_values}), max_size=4)),
        "config": json_values,
        "createdAt": json_values,
        "downloads": json_values,
        "gated": json_values,
        "card": json_values,
    },
)


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(rows, min_size=1, max_size=6))
def test_any_api_record_shape_assembles_into_tables(batch: list[dict]) -> None:
    harvest = Harvest()
    for row in batch:
        record, refs = record_from_api(row, "fuzz", harvest.problems)
        harvest.records.append(record)
        harvest.references.extend(refs)
    snap = assemble(harvest)
    # Every reference ends up as evidence or as a dangling reference: none is dropped silently.
    evidence = {(c.lower(), k, f) for c, k, f in snap.evidence.select("child", "kind", "field").iter_rows()}
    dangling = {(c.lower(), k, f) for c, k, f in snap.dangling.select("child", "kind", "field").iter_rows()}
    for ref in harvest.references:
        key = (ref.child.lower(), ref.kind.value, ref.field)
        assert key in evidence or key in dangling, ref
    assert snap.models["id"].n_unique() == snap.models.height


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_readme_text_gives_metadata_none_or_a_card_error(text: str) -> None:
    try:
        result = card_metadata(text)
    except CardError:
        return
    assert result is None or isinstance(result, dict)


def test_a_file_of_mixed_good_and_bad_lines_keeps_the_good_ones(tmp_path: Path) -> None:
    models = tmp_path / "models.jsonl"
    models.write_text(
        json.dumps({"id": "org/good", "cardData": {"base_model": "org/base"}}) + "\n"
        + "{not json\n"
        + json.dumps(["a", "list"]) + "\n"
        + json.dumps({"no_id": True}) + "\n"
    )
    snap = assemble(HubRecordsSource(models=models).harvest())
    assert snap.edges.select("base", "child").rows() == [("org/base", "org/good")]
    assert sorted(snap.problems["source"]) == ["models.jsonl:2", "models.jsonl:3", "models.jsonl:4"]
