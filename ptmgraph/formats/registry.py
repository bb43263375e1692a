"""Every export format, by name, and how a file name chooses one.

The CLI reads :data:`GRAPH_FORMATS` for the ``--format`` choices. The format follows the ``--out``
file name when ``--format`` is not given; when both are given they must agree (see
:func:`choose_format`).

Each format's module is imported only when that format is used: its entry (:class:`FormatEntry`) names
the module and class, and spells the file-name extensions that choose it, so that choosing a format by
file name imports no format. A format's heavy libraries (networkx for GraphML, GEXF and node-link JSON;
the CycloneDX library) therefore load only for that format. ``tests/test_formats.py`` checks that each
entry's name and extensions are its class's.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING

from ptmgraph.formats.interface import ExportError, GraphFormat
from ptmgraph.formats.output import STDOUT, write_output, write_stream_atomically

if TYPE_CHECKING:
    from ptmgraph.formats.drawing import DrawnGraph


@dataclass(frozen=True)
class FormatEntry:
    """A graph format as the registry lists it: ``name`` and ``extensions`` as on its class, which is
    ``cls`` of ``module``, imported on first use (:meth:`load`)."""

    name: str
    extensions: tuple[str, ...]
    module: str
    cls: str

    def load(self) -> GraphFormat:
        if self.name not in _loaded:
            _loaded[self.name] = getattr(import_module(self.module), self.cls)()
        return _loaded[self.name]


_loaded: dict[str, GraphFormat] = {}

FORMAT_ENTRIES: tuple[FormatEntry, ...] = (
    FormatEntry("svg", (".svg",), "ptmgraph.formats.dot", "SvgFormat"),
    FormatEntry("png", (".png",), "ptmgraph.formats.dot", "PngFormat"),
    FormatEntry("dot", (".dot", ".gv"), "ptmgraph.formats.dot", "DotFormat"),
    FormatEntry("html", (".html", ".htm"), "ptmgraph.formats.html", "HtmlFormat"),
    FormatEntry("mermaid", (".mmd", ".mermaid"), "ptmgraph.formats.mermaid", "MermaidFormat"),
    FormatEntry("graphml", (".graphml",), "ptmgraph.formats.graphml", "GraphMLFormat"),
    FormatEntry("gexf", (".gexf",), "ptmgraph.formats.gexf", "GexfFormat"),
    FormatEntry("json", (".json",), "ptmgraph.formats.node_link", "NodeLinkJsonFormat"),
    FormatEntry("cyclonedx", (".cdx.json",), "ptmgraph.formats.cyclonedx", "CycloneDxFormat"),
)
"""Every graph format, in ``--format`` order."""

_ENTRIES = {entry.name: entry for entry in FORMAT_ENTRIES}


class _Formats(Mapping[str, GraphFormat]):
    """The formats by name; a format's module is imported when the format is first looked up."""

    def __getitem__(self, name: str) -> GraphFormat:
        return _ENTRIES[name].load()

    def __iter__(self) -> Iterator[str]:
        return iter(_ENTRIES)

    def __len__(self) -> int:
        return len(_ENTRIES)


GRAPH_FORMATS: Mapping[str, GraphFormat] = _Formats()
DEFAULT_FORMAT = "svg"


def graph_format(name: str) -> GraphFormat:
    """The format called ``name``; :class:`ExportError` naming the known ones otherwise."""
    try:
        return GRAPH_FORMATS[name]
    except KeyError:
        raise ExportError(f"unsupported format {name!r}: use one of {', '.join(GRAPH_FORMATS)}") from None


def _matching_extension(fmt: GraphFormat | FormatEntry, path: Path) -> str | None:
    name = path.name.lower()
    return next((ext for ext in fmt.extensions if name.endswith(ext) and len(name) > len(ext)), None)


def _entry_for_path(path: Path) -> FormatEntry | None:
    matches = [(len(ext), e) for e in FORMAT_ENTRIES if (ext := _matching_extension(e, path))]
    return max(matches, key=lambda m: m[0])[1] if matches else None


def format_for_path(path: Path) -> GraphFormat | None:
    """The format whose extension ends ``path``'s name, the longest match winning (``.cdx.json``
    before ``.json``); None when no format claims it."""
    entry = _entry_for_path(path)
    return entry.load() if entry is not None else None


def choose_format(name: str | None, out: Path | None) -> GraphFormat:
    """The format for ``--format name`` and ``--out out`` (either may be missing).

    Without a name the extension of ``out`` decides (svg when there is no ``out`` or it is ``-``);
    an ``out`` whose extension no format claims needs a name. With both, ``out`` must end in one of
    the named format's extensions or in one that no format claims.
    """
    named = graph_format(name) if name is not None else None
    if out is None or str(out) == STDOUT:
        return named or GRAPH_FORMATS[DEFAULT_FORMAT]
    by_path = _entry_for_path(out)
    if named is None:
        if by_path is None:
            known = ", ".join(ext for e in FORMAT_ENTRIES for ext in e.extensions)
            raise ExportError(f"{out}: cannot tell the format from the file name; use --format or one of {known}")
        return by_path.load()
    if by_path is not None and _matching_extension(named, out) is None:
        raise ExportError(
            f"{out}: the file name says {by_path.name} but --format says {named.name}; make them agree"
        )
    return named


def write_graph(drawn: DrawnGraph, out: Path | str, fmt: str, title: str, *, rankdir: str | None = None) -> Path | None:
    """Render ``drawn`` as the format called ``fmt`` and write it to ``out`` (``-``: standard output).

    A file is written by the format in pieces (:meth:`GraphFormat.write`) to a temporary file renamed over
    ``out`` at the end, and standard output gets the file once it is rendered completely, so a failure raises
    :class:`ExportError` and leaves an existing ``out`` untouched. Returns the path written (None for stdout).
    """
    chosen = graph_format(fmt)
    if str(out) == STDOUT:
        return write_output(chosen.render(drawn, title=title, rankdir=rankdir), out)
    return write_stream_atomically(lambda stream: chosen.write(drawn, stream, title=title, rankdir=rankdir), Path(out))
