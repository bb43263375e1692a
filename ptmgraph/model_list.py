"""Model lists: the ``--from-file`` files of ``impact``, ``ancestry``, ``check`` and ``risk``.

A model list has one model a line, as a ``requirements.txt`` has one package: blank lines and
everything after a ``#`` are skipped, and ``ORG/NAME@REVISION`` is accepted (the revision is dropped:
a snapshot holds one version of each model). The file is read as UTF-8, at most :data:`MAX_BYTES`.
"""

from __future__ import annotations

from pathlib import Path

from ptmgraph.ids import without_revision

MAX_BYTES = 4 << 20
"""The largest model list read (4 MiB: some 50,000 ids)."""


class ModelListError(ValueError):
    """A model list that cannot be read; the message names the file (and line) and the problem."""


def read_model_list(path: Path) -> list[str]:
    """The model ids in the list at ``path``, in file order, each once."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as e:
        raise ModelListError(f"{path}: cannot read the model list ({e.strerror or e})") from None
    if len(data) > MAX_BYTES:
        raise ModelListError(f"{path}: the model list is over the {MAX_BYTES:,}-byte limit")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ModelListError(f"{path}: not UTF-8 text (byte {e.start})") from None
    ids: dict[str, None] = {}
    for number, line in enumerate(text.splitlines(), 1):
        entry = line.split("#", 1)[0].strip()
        if not entry:
            continue
        model = without_revision(entry).strip()
        if not model or any(c.isspace() for c in model):
            raise ModelListError(f"{path}:{number}: not a model id: {entry[:80]!r}")
        ids[model] = None
    return list(ids)
