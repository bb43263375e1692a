"""The real Hub sample, card texts included: the test copy in tests/data stands for it, the bundled snapshot
is what ptmgraph's ingest makes of it, and its real cards are read within bounds."""

from __future__ import annotations

import gzip
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from raw_sample import TEST_DATA, hub_sample_dir, raw_front_matter, raw_license, raw_prose_parents
from test_reader import CUTS, INSERTS, cards_with_front_matter, check_mutated_card

from ptmgraph import snapshot
from ptmgraph.assemble import assemble
from ptmgraph.snapshot import Snapshot
from ptmgraph.sources import LocalReposSource
from ptmgraph.sources.hub_records import HubRecordsSource

TABLE_KEYS = {"models": ["id"], "edges": ["base", "child"], "evidence": ["base", "child", "kind", "field"],
              "dangling": ["child", "raw", "kind", "field"], "problems": ["model", "message"]}


def tables(snap: Snapshot) -> dict[str, pl.DataFrame]:
    """Every table without its ``source`` column (file names and line numbers differ between copies)."""
    return {name: snap.table(name).drop("source", strict=False).sort(key) for name, key in TABLE_KEYS.items()}


def test_the_test_copy_holds_the_real_records_and_model_trees_byte_for_byte(real_sample: Path) -> None:
    for name in ("models.jsonl", "model_tree.jsonl"):
        packed = gzip.decompress((TEST_DATA / "hub-sample" / f"{name}.gz").read_bytes())
        assert packed == (real_sample / name).read_bytes(), name


def test_the_written_cards_give_what_the_real_cards_give(real_sample: Path) -> None:
    real = tables(assemble(HubRecordsSource.from_directory(real_sample).harvest()))
    copy = tables(assemble(HubRecordsSource.from_directory(hub_sample_dir()).harvest()))
    for name in TABLE_KEYS:
        assert copy[name].equals(real[name]), name
    # ... and the bundled snapshot is what the ingest makes of the real sample
    shipped = tables(snapshot.load(snapshot.bundled_path()))
    for name in TABLE_KEYS:
        assert shipped[name].equals(real[name]), name


def test_the_test_oracles_read_the_same_facts_from_the_written_cards(real_sample: Path) -> None:
    real, copy = raw_front_matter(real_sample), raw_front_matter(hub_sample_dir())
    assert {k: sorted(v) for k, v in copy.items()} == {k: sorted(v) for k, v in real.items()}
    for key in ("base_model", "license", "license_name", "datasets", "library_name", "pipeline_tag"):
        assert {i: m.get(key) for i, m in copy.items()} == {i: m.get(key) for i, m in real.items()}, key
    assert {i: raw_license({"cardData": m}) for i, m in copy.items()} == {
        i: raw_license({"cardData": m}) for i, m in real.items()
    }
    assert raw_prose_parents(hub_sample_dir()) == raw_prose_parents(real_sample) != {}


def test_the_local_repo_copy_gives_the_real_repos_record_and_edge(shared_data: Path) -> None:
    def ingested(folder: Path) -> tuple[list[dict[str, object]], list[tuple[object, ...]]]:
        snap = assemble(LocalReposSource(folder).harvest())
        models = snap.models.drop("source").to_dicts()
        for model in models:  # the copy leaves out the repo's .gitattributes, which would apply to ours
            model["files"] = [name for name in model["files"] or [] if name != ".gitattributes"]
        return models, snap.edges.select(
            "base", "child", "relation", "relation_rule", "parent_confidence", "relation_confidence").rows()

    real_models, real_edges = ingested(shared_data / "local-repos")
    copy_models, copy_edges = ingested(TEST_DATA / "local-repos")
    assert copy_edges == real_edges == [("nreimers/MiniLM-L6-H384-uncased", "sentence-transformers/all-MiniLM-L6-v2",
                                         "finetune", "default_finetune", "medium", "medium")]
    assert copy_models == real_models


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(index=st.integers(0, 399), cuts=CUTS, inserts=INSERTS)
def test_mutated_real_cards_give_data_or_a_problem(
    real_sample: Path, index: int, cuts: list[tuple[float, float]], inserts: list[tuple[float, str]]
) -> None:
    cards = cards_with_front_matter(real_sample / "readmes.jsonl")
    check_mutated_card(cards[index % len(cards)], cuts, inserts)
