"""The user's umask for what ptmgraph creates: a temporary directory or file (``tempfile`` makes them
0700 / 0600) that becomes the user's folder or file gets the mode ``mkdir`` or ``open`` would have
given it, so a report or snapshot folder is as shared as any other folder the user makes."""

from __future__ import annotations

import os
from pathlib import Path


def umask() -> int:
    """The process's umask (read by setting it and putting it back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def new_mode(*, directory: bool) -> int:
    """The mode ``mkdir`` (``directory``) or ``open`` gives a new path under the user's umask."""
    return (0o777 if directory else 0o666) & ~umask()


def as_made_by_user(path: Path) -> None:
    """Give ``path``, a directory or file just made by ``tempfile``, the mode of :func:`new_mode`."""
    os.chmod(path, new_mode(directory=path.is_dir()))
