"""Rebuild the snapshot the package ships, from the real Hub sample beside the project.

Usage: python scripts/build_bundled_snapshot.py [SAMPLE_DIR]
(default SAMPLE_DIR: ../shared/data/hub-sample relative to the repository root).
Only facts are kept (ids, relations, evidence kinds, dates, licences, counts, file names); README
prose is parsed for its YAML metadata and never stored.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ptmgraph.assemble import build_snapshot
from ptmgraph.sources.hub_records import HubRecordsSource
from ptmgraph.sources.interface import harvest_tables

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    sample = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO.parent / "shared" / "data" / "hub-sample"
    target = REPO / "ptmgraph" / "data" / "hub-sample"
    named = f"Hugging Face Hub sample, 2025 ({', '.join(sorted(p.name for p in sample.iterdir()))})"
    snap = build_snapshot(harvest_tables(HubRecordsSource.from_directory(sample)), target, {"sources": [named]})
    print(f"{target}: {snap.models.height} models, {snap.edges.height} edges, {snap.evidence.height} evidence rows")


if __name__ == "__main__":
    main()
