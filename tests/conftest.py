"""Shared fixtures: the real Hub sample beside the project, and the bundled snapshot's graph."""

from __future__ import annotations

from pathlib import Path

import pytest

from ptmgraph.graph import LineageGraph, load_graph

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
HUB_SAMPLE = SHARED_DATA / "hub-sample"


@pytest.fixture(scope="session")
def hub_sample() -> Path:
    """The real Hub sample; its absence is a failure, never a skip."""
    assert (HUB_SAMPLE / "models.jsonl").is_file(), f"shared Hub sample missing at {HUB_SAMPLE}"
    return HUB_SAMPLE


@pytest.fixture(scope="session")
def bundled() -> LineageGraph:
    """The graph of the snapshot the package ships."""
    return load_graph()
