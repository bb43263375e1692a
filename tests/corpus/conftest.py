"""The corpus suite: tests that read the real Hub sample beside the project (``../shared/data/``), whose
model cards are prose by other people and so are not in the repository.

Where that folder is missing (a clone of the repository alone), every corpus test is reported as not run:
a skip that names the missing folder, and a line at the end of the run. With ``PTMGRAPH_CORPUS=required``
(CI sets it) a missing folder fails each of them instead. ``PTMGRAPH_SHARED_DATA`` names another folder
laid out as ``shared/data/``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
SHARED_DATA = Path(os.environ.get("PTMGRAPH_SHARED_DATA") or HERE.parents[2] / "shared" / "data")
REQUIRED = os.environ.get("PTMGRAPH_CORPUS") == "required"
MISSING = (
    None if (SHARED_DATA / "hub-sample" / "readmes.jsonl").is_file()
    else f"corpus suite: the real Hub sample is not at {SHARED_DATA / 'hub-sample'}"
)
NOT_RUN = pytest.StashKey[int]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    corpus = [item for item in items if HERE in item.path.parents]
    for item in corpus:
        item.add_marker(pytest.mark.corpus)
        if MISSING and not REQUIRED:
            item.add_marker(pytest.mark.skip(reason=f"{MISSING}; not run"))
    config.stash[NOT_RUN] = len(corpus) if MISSING and not REQUIRED else 0


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    not_run = config.stash.get(NOT_RUN, 0)
    if not_run:
        terminalreporter.write_sep(
            "=", f"{not_run} corpus tests not run: no {SHARED_DATA} (they need the real card texts)", yellow=True
        )


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``shared/data/`` beside the project; its absence fails the test (with PTMGRAPH_CORPUS=required)."""
    if MISSING:
        pytest.fail(f"{MISSING} (PTMGRAPH_CORPUS=required: CI needs ../shared beside the checkout)", pytrace=False)
    return SHARED_DATA


@pytest.fixture(scope="session")
def real_sample(shared_data: Path) -> Path:
    """The real Hub sample: models.jsonl, readmes.jsonl (the real cards), model_tree.jsonl."""
    return shared_data / "hub-sample"
