"""Every export format, by name, and how a file name chooses one.

The CLI reads :data:`GRAPH_FORMATS` for the ``--format`` choices. The format follows the ``--out``
file name when ``--format`` is not given; when both are given they must agree (see
:func:`choose_format`).
"""

from __future__ import annotations

from pathlib import Path

from ptmgraph.formats.cyclonedx import CycloneDxFormat
from ptmgraph.formats.dot import DotFormat, PngFormat, SvgFormat
from ptmgraph.formats.gexf import GexfFormat
from ptmgraph.formats.graphml import GraphMLFormat
from ptmgraph.formats.html import HtmlFormat
from ptmgraph.formats.interface import ExportError, GraphFormat
from ptmgraph.formats.mermaid import MermaidFormat
from ptmgraph.formats.node_link import NodeLinkJsonFormat
from ptmgraph.formats.output import STDOUT, write_output
from ptmgraph.formats.subgraph import DrawnGraph

GRAPH_FORMATS: dict[str, GraphFormat] = {
    f.name: f
    for f in (
        SvgFormat(), PngFormat(), DotFormat(), HtmlFormat(), MermaidFormat(), GraphMLFormat(), GexfFormat(),
        NodeLinkJsonFormat(), CycloneDxFormat(),
    )
}
DEFAULT_FORMAT = "svg"


def graph_format(name: str) -> GraphFormat:
    """The format called ``name``; :class:`ExportError` naming the known ones otherwise."""
    try:
        return GRAPH_FORMATS[name]
    except KeyError:
        raise ExportError(f"unsupported format {name!r}: use one of {', '.join(GRAPH_FORMATS)}") from None


def _matching_extension(fmt: GraphFormat, path: Path) -> str | None:
    name = path.name.lower()
    return next((ext for ext in fmt.extensions if name.endswith(ext) and len(name) > len(ext)), None)


def format_for_path(path: Path) -> GraphFormat | None:
    """The format whose extension ends ``path``'s name, the longest match winning (``.cdx.json``
    before ``.json``); None when no format claims it."""
    matches = [(len(ext), f) for f in GRAPH_FORMATS.values() if (ext := _matching_extension(f, path))]
    return max(matches, key=lambda m: m[0])[1] if matches else None


def choose_format(name: str | None, out: Path | None) -> GraphFormat:
    """The format for ``--format name`` and ``--out out`` (either may be missing).

    Without a name the extension of ``out`` decides (svg when there is no ``out`` or it is ``-``);
    an ``out`` whose extension no format claims needs a name. With both, ``out`` must end in one of
    the named format's extensions or in one that no format claims.
    """
    named = graph_format(name) if name is not None else None
    if out is None or str(out) == STDOUT:
        return named or GRAPH_FORMATS[DEFAULT_FORMAT]
    by_path = format_for_path(out)
    if named is None:
        if by_path is None:
            known = ", ".join(ext for f in GRAPH_FORMATS.values() for ext in f.extensions)
            raise ExportError(f"{out}: cannot tell the format from the file name; use --format or one of {known}")
        return by_path
    if by_path is not None and _matching_extension(named, out) is None:
        raise ExportError(
            f"{out}: the file name says {by_path.name} but --format says {named.name}; make them agree"
        )
    return named


def write_graph(drawn: DrawnGraph, out: Path | str, fmt: str, title: str, *, rankdir: str | None = None) -> Path | None:
    """Render ``drawn`` as the format called ``fmt`` and write it to ``out`` (``-``: standard output).

    The file is rendered completely before anything is written, so a failure raises
    :class:`ExportError` and leaves an existing ``out`` untouched. Returns the path written (None for stdout).
    """
    data = graph_format(fmt).render(drawn, title=title, rankdir=rankdir)
    return write_output(data, out)
