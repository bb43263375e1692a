"""The export interface: a graph format turns a drawable subgraph into bytes.

A *drawable subgraph* is a :class:`~ptmgraph.formats.drawing.DrawnGraph`: the models chosen to be
shown (with their record attributes), the edges among them (with their evidence) and the ``+N more``
nodes that count what the cap left out. Every format accepts any drawable subgraph, whatever it was
cut from. Each concrete format lives in a file of its own; :mod:`ptmgraph.formats.registry` lists them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import BinaryIO, ClassVar

from ptmgraph.formats.drawing import DrawnGraph


class ExportError(Exception):
    """The graph could not be exported; the message is one line naming the problem."""


class GraphFormat(ABC):
    """One way of writing a drawable subgraph.

    ``name`` is what ``--format`` takes; ``extensions`` are the file-name endings that select it
    (the first is the default), compared case-insensitively, longest first across all formats.
    ``default_max_nodes`` is the cap used when the caller sets none: drawings (pictures, HTML) stay
    small enough to read; data formats (GraphML, GEXF, JSON, CycloneDX) carry every model of the set
    (0: no cap), since cutting data silently changes the answer; ``max_per_depth`` caps the models
    drawn at one depth (0: no cap). ``file_hashes``: the format lists the models' file hashes, so the
    caller fills :attr:`DrawnGraph.files` (:func:`~ptmgraph.formats.subgraph.with_file_hashes`).
    """

    name: ClassVar[str]
    extensions: ClassVar[tuple[str, ...]]
    description: ClassVar[str]
    default_max_nodes: ClassVar[int] = 150
    max_per_depth: ClassVar[int] = 0
    file_hashes: ClassVar[bool] = False

    @abstractmethod
    def render(self, drawn: DrawnGraph, *, title: str, rankdir: str | None = None) -> bytes:
        """The complete file for ``drawn``; ``title`` names what is drawn. Raises :class:`ExportError`.

        ``rankdir`` (``TB``, ``LR``, ``BT``, ``RL``) sets the direction of a laid-out drawing, base
        before derived; None lets the format choose. Formats that carry no layout ignore it.
        """

    def write(self, drawn: DrawnGraph, stream: BinaryIO, *, title: str, rankdir: str | None = None) -> None:
        """Write the file :meth:`render` makes to ``stream``; a data format writes it in pieces, never holding
        it whole. Raises :class:`ExportError`."""
        stream.write(self.render(drawn, title=title, rankdir=rankdir))
