"""Fixtures of the default suite: the test copy of the Hub sample, and the bundled snapshot's graph.

The default suite reads nothing outside the repository; the tests that need the real card texts are
the corpus suite (tests/corpus/).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from raw_sample import TEST_DATA, hub_sample_dir

from ptmgraph.graph import LineageGraph, load_graph


@pytest.fixture(autouse=True)
def no_live_lookup(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reaches the Hub or the user's cache: a model the snapshot has no record of is not looked up
    (HF_HUB_OFFLINE), and look-ups go to the test's own folder. Tests of the look-up point it at the
    Hub-shaped server (tests/test_lookup.py)."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("PTMGRAPH_CACHE", str(tmp_path / "ptmgraph-cache"))


@pytest.fixture(scope="session")
def hub_sample() -> Path:
    """A folder laid out like the Hub sample (models.jsonl, readmes.jsonl, model_tree.jsonl): the test copy
    in tests/data/hub-sample, whose cards were written for the tests (tests/data/README.md)."""
    return hub_sample_dir()


@pytest.fixture(scope="session")
def local_repos() -> Path:
    """A folder of local model repos written for the tests (tests/data/local-repos)."""
    return TEST_DATA / "local-repos"


@pytest.fixture(scope="session")
def bundled() -> LineageGraph:
    """The graph of the snapshot the package ships."""
    return load_graph()
