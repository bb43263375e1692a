"""Baseline files: the findings a project has accepted, for ``check --baseline FILE`` (``--write-baseline FILE``).

A baseline is one JSON object: ``{"ptmgraph_baseline": 1, "findings": [...]}``, each finding its
identity ``{"finding": KIND, "model": CHECKED_MODEL, "ancestor": ANCESTOR}`` (the identity is defined
in :mod:`ptmgraph.analyses.check`), each once, sorted by (finding, model, ancestor), one a line, so that the file
is the same for the same findings and its diffs are small. It is written to a temporary file beside
it and renamed into place. It is read through :mod:`ptmgraph.reader` (bounds of a JSON document);
anything else than that shape is a :class:`BaselineError`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from ptmgraph.records import Problem

VERSION = 1
"""The ``ptmgraph_baseline`` value written, and the only one read."""

KEYS = ("finding", "model", "ancestor")
"""The members of one finding's identity, in the order of an identity tuple."""


class BaselineError(ValueError):
    """A baseline file that cannot be read or is not one; the message is one line naming the file."""


def read_baseline(path: Path) -> list[tuple[str, str, str]]:
    """The identities (finding, model, ancestor) in the baseline file at ``path``."""
    from ptmgraph.reader import DEFAULT_LIMITS, json_object

    limit = DEFAULT_LIMITS.document_bytes
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as e:
        raise BaselineError(f"{path}: cannot read the baseline ({e.strerror or e})") from None
    if len(data) > limit:
        raise BaselineError(f"{path}: the baseline is over the {limit:,}-byte limit")
    document = json_object(data, str(path))
    if isinstance(document, Problem):
        raise BaselineError(f"{path}: not a ptmgraph baseline ({document.message})")
    if document.get("ptmgraph_baseline") != VERSION or not isinstance(document.get("findings"), list):
        raise BaselineError(f'{path}: not a ptmgraph baseline (no "ptmgraph_baseline": {VERSION} with a '
                            '"findings" list); write one with check --write-baseline')
    found: list[tuple[str, str, str]] = []
    for number, entry in enumerate(document["findings"], 1):
        values = tuple(entry.get(key) for key in KEYS) if isinstance(entry, dict) else ()
        if len(values) != len(KEYS) or not all(isinstance(v, str) and v for v in values):
            raise BaselineError(f"{path}: finding {number} is not an object of the texts {', '.join(KEYS)}")
        found.append(values)  # type: ignore[arg-type]
    return found


def baseline_document(identities: Iterable[tuple[str, str, str]]) -> str:
    """The baseline file's text for these identities (module docstring)."""
    entries = sorted(set(identities))
    lines = [json.dumps(dict(zip(KEYS, entry, strict=True)), ensure_ascii=False) for entry in entries]
    body = ",\n".join(f"    {line}" for line in lines)
    return f'{{\n  "ptmgraph_baseline": {VERSION},\n  "findings": [' + (f"\n{body}\n  ]" if lines else "]") + "\n}\n"


def write_baseline(path: Path, identities: Iterable[tuple[str, str, str]]) -> None:
    """Write the baseline of ``identities`` to ``path``, atomically (a regular file or a new path only)."""
    from ptmgraph.formats.output import write_bytes_atomically

    write_bytes_atomically(baseline_document(identities).encode("utf-8"), path)
