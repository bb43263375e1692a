"""Importing a lineage table (child, base, relation) from CSV, TSV or Parquet, as a user would."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from ptmgraph.assemble import assemble
from ptmgraph.records import EvidenceKind, Relation
from ptmgraph.sources import EdgeListSource, HubRecordsSource, SourceError, open_source


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def edges(path: Path) -> dict[tuple[str, str], dict[str, object]]:
    snap = assemble(EdgeListSource(path).harvest())
    return {(e["base"], e["child"]): e for e in snap.edges.to_dicts()}


def test_a_csv_with_aliased_columns_gives_edges_with_declared_relations(tmp_path: Path) -> None:
    table = write(
        tmp_path / "lineage.csv",
        "Model ID,Base Model,Relationship,notes\n"
        "me/llama-ft,meta-llama/Llama-2-7b-hf,fine-tuned,first\n"
        "me/llama-gguf,me/llama-ft,Quantization,\n"
        "me/plain,org/base,,\n",
    )

    harvest = EdgeListSource(table).harvest()
    found = edges(table)

    assert harvest.problems == [] and harvest.records == [] and harvest.known_ids == set()
    first = harvest.references[0]
    assert first.kind is EvidenceKind.EDGE_LIST
    assert (first.child, first.raw, first.field, first.source) == (
        "me/llama-ft", "meta-llama/Llama-2-7b-hf", "edge_list:Base Model", "lineage.csv:1"
    )
    assert first.relation is Relation.FINETUNE
    assert found[("meta-llama/Llama-2-7b-hf", "me/llama-ft")]["relation"] == "finetune"
    assert found[("me/llama-ft", "me/llama-gguf")]["relation"] == "quantized"
    assert found[("me/llama-ft", "me/llama-gguf")]["relation_rule"] == "declared"
    assert found[("org/base", "me/plain")]["relation"] == "unknown"
    # children and bases become nodes without records
    models = assemble(harvest).models
    assert set(models["id"]) == {"me/llama-ft", "me/llama-gguf", "me/plain", "meta-llama/Llama-2-7b-hf", "org/base"}
    assert not models["has_record"].any()


def test_a_cell_with_several_bases_makes_a_merge(tmp_path: Path) -> None:
    table = write(
        tmp_path / "merges.csv",
        "child,parent\n"
        'me/merged,"org/a, org/b"\n'
        "me/merged2,['org/a'; 'org/c']\n",
    )

    found = edges(table)

    assert set(found) == {
        ("org/a", "me/merged"), ("org/b", "me/merged"), ("org/a", "me/merged2"), ("org/c", "me/merged2")
    }
    assert {e["relation"] for e in found.values()} == {"merge"}
    assert {e["relation_rule"] for e in found.values()} == {"base_count"}
    refs = EdgeListSource(table).harvest().references
    assert [r.relation for r in refs] == [None] * 4  # the table states none: assemble inferred it


def test_unknown_relations_and_missing_children_become_problem_rows(tmp_path: Path) -> None:
    table = write(
        tmp_path / "odd.csv",
        "child,base,type\n"
        "me/distilled,org/teacher,distillation\n"
        ",org/base,finetune\n"
        ",,\n"
        "me/root,,\n",
    )

    harvest = EdgeListSource(table).harvest()
    snap = assemble(harvest)

    assert [(p.source, p.model) for p in harvest.problems] == [("odd.csv:1", "me/distilled"), ("odd.csv:2", None)]
    assert "unknown relation 'distillation'" in harvest.problems[0].message
    assert "no child id" in harvest.problems[1].message
    (edge,) = snap.edges.to_dicts()  # the row with an odd relation still gives its edge, relation left open
    assert (edge["base"], edge["child"], edge["declared_relation"]) == ("org/teacher", "me/distilled", None)
    assert snap.problems.height == 2


def test_missing_columns_are_an_error_naming_the_file_and_columns(tmp_path: Path) -> None:
    table = write(tmp_path / "wrong.csv", "name,parent_model_of_it\na,b\n")
    with pytest.raises(SourceError) as err:
        EdgeListSource(table).harvest()
    message = str(err.value)
    assert str(table) in message
    assert "no child column and no base column" in message
    assert "'name', 'parent_model_of_it'" in message
    assert "\n" not in message
    with pytest.raises(SourceError, match="no child column"):
        open_source(table)  # found when the input is opened, before any work


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (bytes(range(256)) * 8, "binary data, not CSV text"),
        (b"PAR1" + bytes(100), "Parquet data"),
        (b"child,base\nme/caf\xe9,org/base\n", "not UTF-8 text"),
        (b"", "empty file"),
        (b"child,base\nme/m,org/a,org/b\n", "more cells than the header (line 2)"),
    ],
    ids=["binary", "parquet-named-csv", "latin-1", "empty", "unquoted-bases"],
)
def test_unreadable_files_are_one_line_errors(tmp_path: Path, content: bytes, expected: str) -> None:
    table = tmp_path / "edges.csv"
    table.write_bytes(content)
    with pytest.raises(SourceError) as err:
        EdgeListSource(table).harvest()
    assert expected in str(err.value)
    assert str(err.value).startswith(str(table)) and "\n" not in str(err.value)


def test_tsv_semicolon_and_bom_variants_read_the_same(tmp_path: Path) -> None:
    tsv = write(tmp_path / "e.tsv", "derived\tsource\trelation_type\nme/x\torg/y\tadapter\n")
    semi = tmp_path / "e.csv"
    semi.write_bytes("\ufeffTarget;Base_Model\nme/x;org/y\n".encode())
    assert edges(tsv)[("org/y", "me/x")]["relation"] == "adapter"
    assert set(edges(semi)) == {("org/y", "me/x")}


def test_a_parquet_edge_list_with_list_cells(tmp_path: Path) -> None:
    table = tmp_path / "edges.parquet"
    pl.DataFrame(
        {
            "child": ["me/merged", "me/lora"],
            "base_model": [["org/a", "org/b"], ["org/c"]],
            "relation": [None, "lora"],
        }
    ).write_parquet(table)

    found = edges(table)

    assert found[("org/a", "me/merged")]["relation"] == "merge"
    assert found[("org/b", "me/merged")]["relation"] == "merge"
    assert found[("org/c", "me/lora")]["relation"] == "adapter"
    assert EdgeListSource(table).harvest().references[0].source == "edges.parquet:1"

    garbage = tmp_path / "garbage.parquet"
    garbage.write_bytes(b"not parquet at all")
    with pytest.raises(SourceError, match="not a readable Parquet file"):
        EdgeListSource(garbage).harvest()


def test_open_source_tells_edge_lists_from_hub_records(tmp_path: Path, hub_sample: Path) -> None:
    csv = write(tmp_path / "lineage.csv", "model,base\na/b,c/d\n")
    assert isinstance(open_source(csv), EdgeListSource)
    assert isinstance(open_source(write(tmp_path / "l.tsv", "child\tbase\n")), EdgeListSource)

    edges_pq = tmp_path / "edges.parquet"
    pl.DataFrame({"child": ["a/b"], "parent": ["c/d"]}).write_parquet(edges_pq)
    assert isinstance(open_source(edges_pq), EdgeListSource)

    records_pq = tmp_path / "crawl.parquet"
    with (hub_sample / "models.jsonl").open(encoding="utf-8") as handle:
        rows = [json.loads(next(handle)) for _ in range(5)]
    pl.DataFrame([{"id": r["id"], "tags": r.get("tags") or []} for r in rows]).write_parquet(records_pq)
    source = open_source(records_pq)
    assert isinstance(source, HubRecordsSource) and source.models == records_pq
    assert len(source.harvest().records) == 5

    other_pq = tmp_path / "other.parquet"
    pl.DataFrame({"x": [1]}).write_parquet(other_pq)
    with pytest.raises(SourceError, match="cannot tell what kind of input this is"):
        open_source(other_pq)
    assert isinstance(open_source(other_pq, kind="edge-list"), EdgeListSource)  # forced: fails at harvest
    with pytest.raises(SourceError, match="no child column"):
        open_source(other_pq, kind="edge-list").harvest()


def test_a_json_lines_edge_list_with_list_bases(tmp_path: Path) -> None:
    path = tmp_path / "lineage.jsonl"
    path.write_text(
        json.dumps({"model_id": "a/lora", "base_model": "b/base", "relation": "LoRA"}) + "\n"
        + json.dumps({"model_id": "a/merged", "base_model": ["b/base", "c/other"]}) + "\n"
    )
    snap = assemble(open_source(path).harvest())
    edges = {(b, c): r for b, c, r in snap.edges.select("base", "child", "relation").iter_rows()}
    assert edges == {("b/base", "a/lora"): "adapter", ("b/base", "a/merged"): "merge", ("c/other", "a/merged"): "merge"}


def test_a_json_lines_edge_list_keeps_good_lines_and_reports_bad_ones(tmp_path: Path) -> None:
    path = tmp_path / "lineage.jsonl"
    path.write_text(json.dumps({"child": "a/x", "base": "b/y"}) + "\n{oops\n")
    harvest = EdgeListSource(path).harvest()
    assert [(r.child, r.raw) for r in harvest.references] == [("a/x", "b/y")]
    assert [(p.source, p.message.split(" (")[0]) for p in harvest.problems] == [("lineage.jsonl:2", "not valid JSON")]
