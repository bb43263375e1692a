"""Where the command line's output goes: standard output checked for errors, colour, and the pager.

- **colour** (``--color``): ``always``, ``never``, or ``auto``: off when ``NO_COLOR`` is set (no bold or
  italic either), on when ``FORCE_COLOR`` is set, else on only for a terminal.
- **pager**: when standard output is a terminal and the output has more lines than the screen, it is
  shown through ``$PAGER`` (default ``less -R``; ``LESS`` defaults to ``FRX``, as git sets it), unless
  ``--no-pager`` is given or ``PAGER`` is empty or ``cat``. Otherwise the output is written as it comes.
- **width**: the terminal's, or ``COLUMNS``; 140 when writing to a pipe or a file with no ``COLUMNS``.

Rich is imported only when a command prints, so ``--help`` and ``--version`` stay fast.
"""

from __future__ import annotations

import io
import os
import shlex
import shutil
import signal
import subprocess
import sys
from typing import IO, TYPE_CHECKING, Literal, cast

if TYPE_CHECKING:
    from rich.console import Console

ColorMode = Literal["auto", "always", "never"]
PIPE_WIDTH = 140
"""Columns assumed when standard output is not a terminal and ``COLUMNS`` is not set."""


class OutputError(Exception):
    """Standard output could not take what was written (a full disk, a closed pipe, an I/O error)."""


class CheckedStdout(io.TextIOBase):
    """The current ``sys.stdout``, whose write errors raise :class:`OutputError` (rich lets them escape raw)."""

    def write(self, text: str) -> int:
        try:
            return sys.stdout.write(text)
        except OSError as e:
            raise OutputError(e) from None

    def flush(self) -> None:
        try:
            sys.stdout.flush()
        except OSError as e:
            raise OutputError(e) from None

    def isatty(self) -> bool:
        return sys.stdout.isatty()

    def fileno(self) -> int:
        return sys.stdout.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return sys.stdout.encoding


def use_color(mode: ColorMode, is_terminal: bool) -> bool:
    """Whether to write colour and styles (see the module docstring)."""
    if mode != "auto":
        return mode == "always"
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return is_terminal


def pager_command() -> list[str] | None:
    """The pager to run (``$PAGER``, default ``less -R``), or None when paging is switched off by ``PAGER``."""
    command = os.environ.get("PAGER", "less -R")
    words = shlex.split(command) if command.strip() else []
    return None if not words or words[0] == "cat" else words


class Screen:
    """The command line's standard output: a rich console for tables and trees, and raw writes (JSON, CSV).

    When paging may be needed, the output is kept until :meth:`finish`, which decides.
    """

    def __init__(self) -> None:
        self.stdout = CheckedStdout()
        self.color: ColorMode = "auto"
        self.pager = True
        self._console: Console | None = None
        self._held: io.StringIO | None = None

    def configure(self, *, color: ColorMode = "auto", pager: bool = True) -> None:
        self.color, self.pager, self._console, self._held = color, pager, None, None

    @property
    def is_terminal(self) -> bool:
        return self.stdout.isatty()

    @property
    def plain(self) -> bool:
        """Whether the output shows no styles: not a terminal (so never paged) and no colour. Text written
        as it is then looks as the console would print it (see :mod:`ptmgraph.formats.lines`)."""
        return not self.is_terminal and not use_color(self.color, False)

    @property
    def width(self) -> int:
        """The columns output is fitted to (see the module docstring)."""
        return shutil.get_terminal_size((PIPE_WIDTH, 40)).columns

    def line_break(self) -> None:
        """An empty line: written as it is on plain output, else printed by the console after what it printed."""
        if self.plain and self._console is None:
            self.write("\n")
        else:
            self.console.print()

    @property
    def console(self) -> Console:
        """The rich console commands print to (made on first use)."""
        if self._console is None:
            from rich.console import Console

            terminal = self.is_terminal
            target: IO[str] = cast(IO[str], self.stdout)
            if terminal and self.pager and pager_command() is not None:
                self._held = io.StringIO()
                target = self._held
            color = use_color(self.color, terminal)
            self._console = Console(
                file=target,
                width=self.width,
                force_terminal=color,
                no_color=not color,
                color_system="auto" if color else None,
                highlight=False,
                soft_wrap=False,
                emoji=False,
            )
        return self._console

    def write(self, text: str) -> None:
        """Write ``text`` as it is (held with the rest when paging may be needed), in 1 MiB pieces."""
        if self._console is not None or self.is_terminal:  # not a terminal: never paged, no console (rich) needed
            self.console  # noqa: B018 - decides whether output is held for the pager
        target: IO[str] = self._held if self._held is not None else cast(IO[str], self.stdout)
        piece = 1 << 20
        for start in range(0, len(text), piece):
            target.write(text[start : start + piece])
        if target is self.stdout:
            self.stdout.flush()

    def finish(self, *, page: bool = True) -> None:
        """Write what was held: through the pager when it is longer than the screen (and ``page``)."""
        held, self._held = self._held, None
        if held is None:
            self.stdout.flush()
            return
        text = held.getvalue()
        rows = shutil.get_terminal_size((PIPE_WIDTH, 40)).lines
        command = pager_command()
        if page and command is not None and text.count("\n") >= rows:
            env = dict(os.environ)
            env.setdefault("LESS", "FRX")
            # The pager owns Ctrl-C while it runs (it quits on q), as git lets less do.
            previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
            try:
                subprocess.run(command, input=text.encode(sys.stdout.encoding or "utf-8", "replace"), env=env,
                               check=False)
                return
            except OSError:
                pass  # no such pager: write the output as it is
            finally:
                signal.signal(signal.SIGINT, previous)
        self.stdout.write(text)
        self.stdout.flush()
