"""Where an export's bytes go: standard output, or a regular file replaced atomically.

A file is written to a temporary file in the same directory and renamed over the target, so a
reader never sees half a file and a failure leaves an existing file as it was. Only a regular file
or a new path is a target: a directory, FIFO, device or socket at the path is refused, never replaced.
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from ptmgraph.formats.interface import ExportError
from ptmgraph.umask import new_mode

STDOUT = "-"
"""The ``--out`` value that means standard output."""


def write_bytes_atomically(data: bytes, out: Path) -> Path:
    """Write ``data`` to ``out`` via a temporary file in the same directory and ``os.replace``."""
    return write_stream_atomically(lambda handle: handle.write(data), out)


def write_stream_atomically(fill: Callable[[BinaryIO], object], out: Path) -> Path:
    """Write to ``out`` what ``fill`` writes to the stream it is given (in pieces: the file is never held whole),
    via a temporary file in the same directory and ``os.replace``: if ``fill`` raises, ``out`` is untouched."""
    out = Path(out)
    try:
        mode = os.stat(out).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as err:
        raise ExportError(f"{out}: cannot write here ({err.strerror or err})") from None
    if mode is not None and not stat.S_ISREG(mode):
        kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
        raise ExportError(f"{out}: is {kind}; give a regular file or a new path")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    except OSError as err:
        raise ExportError(f"{out}: cannot write here ({err.strerror or err})") from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            fill(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, (mode & 0o777) if mode is not None else new_mode(directory=False))
        os.replace(tmp, out)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise ExportError(f"{out}: cannot write here ({err.strerror or err})") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return out


def write_output(data: bytes, out: Path | str, stdout: BinaryIO | None = None) -> Path | None:
    """Write ``data`` to ``out``, or to standard output when ``out`` is ``-`` (then return None)."""
    if str(out) == STDOUT:
        stream = stdout if stdout is not None else sys.stdout.buffer
        stream.write(data)
        stream.flush()
        return None
    return write_bytes_atomically(data, Path(out))
