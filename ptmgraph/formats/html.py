"""An offline HTML explorer: one self-contained file that draws a drawable subgraph.

A model's ancestry or impact is drawn with cytoscape.js (``explorer/explorer.js``: depths left to
right, each depth's models grouped by relation into clusters that open on click); a whole snapshot
with sigma.js and graphology on WebGL (``explorer/snapshot.js``), at the positions of
:func:`ptmgraph.formats.layout.radial_layout`, computed once here.

Nothing is fetched when the file is viewed. The JavaScript libraries (cytoscape, sigma, graphology,
MIT) are installed from npm by ``scripts/run`` (``js/package.json`` and its lock
file) and copied with their licences into ``ptmgraph/formats/vendor/``; they are inlined, licences
first, each time a file is written. The explorer's own script and style are
``ptmgraph/formats/explorer/`` (``page.js`` holds what both scripts share).

The graph travels as node-link JSON (:mod:`ptmgraph.formats.node_link`) in a
``<script type="application/json">`` element, with ``<``, ``>`` and ``&`` written as ``\\u003c``
... so no id can end the element; the page reads it with ``JSON.parse`` and shows every string with
``textContent``, never as markup. The Content-Security-Policy allows nothing but the page's own
inline scripts and style, by their SHA-256 hashes (so the file is the same each time it is written).
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import sys
from pathlib import Path
from typing import Any

from ptmgraph.formats.dot import FOCUS_FILL, MORE_FILL, download_fill, layout_direction, relation_style
from ptmgraph.formats.drawing import RELATION_ORDER, DrawnGraph
from ptmgraph.formats.interface import ExportError, GraphFormat
from ptmgraph.formats.layout import radial_layout
from ptmgraph.formats.node_link import node_link_document
from ptmgraph.ids import hub_url

VENDOR_DIR = Path(__file__).with_name("vendor")
EXPLORER_DIR = Path(__file__).with_name("explorer")
VENDOR_SCRIPTS = ("cytoscape.min.js",)
VENDOR_LICENSES = ("cytoscape",)
"""``LICENSE.<package>`` files beside the scripts."""
SNAPSHOT_SCRIPTS = ("graphology.umd.min.js", "sigma.min.js")
"""The whole-snapshot explorer's libraries, in this order (sigma finds ``graphology`` as a global)."""
SNAPSHOT_LICENSES = ("graphology", "graphology-utils", "events", "sigma")
INSTALL_HINT = "run 'bash scripts/run main' (npm ci in js/, then copies them into ptmgraph/formats/vendor/)"

CYTOSCAPE_STYLE = ".__________cytoscape_container { position: relative; }"
"""The one ``<style>`` element cytoscape adds to the page; the policy allows it by its hash."""
_INVISIBLE = re.compile("[\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
"""Bidi controls and line separators: written as ``\\uXXXX`` escapes, so the file shows none raw."""
_SCRIPT_END = re.compile(r"</script|<!--", re.IGNORECASE)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        raise ExportError(f"cannot write html: {path} is missing; {INSTALL_HINT}") from None


def _inline_script(source: str, name: str) -> str:
    """``source`` as the body of a ``<script>`` element; refused if it could end the element early."""
    if _SCRIPT_END.search(source):
        raise ExportError(f"cannot inline {name}: it contains '</script' or '<!--'")
    return source


def json_for_script(document: Any) -> str:
    """``document`` as JSON text safe inside a ``<script>`` element (``<``, ``>``, ``&``, bidi controls and
    line separators escaped)."""
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return _INVISIBLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _csp_hash(body: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode("ascii") + "'"


def _styles(document: dict[str, Any]) -> None:
    """Colours decided here, once, with the same rules as the Graphviz drawing; and each model's Hub page
    (``_url``, :func:`ptmgraph.ids.hub_url`: null for a local id and for a summary node), which the page
    links to as it is."""
    for node in document["nodes"]:
        kind = node.get("kind")
        node["_url"] = None if kind == "more" else hub_url(str(node["id"]))
        node["_fill"] = FOCUS_FILL if kind == "focus" else MORE_FILL if kind == "more" else download_fill(
            node.get("downloads")
        )
        node["_outline"] = "#000000" if kind == "focus" else "#9A9A9A" if kind == "more" else relation_style(
            str(node.get("relation") or "unknown")
        )["color"]
    for edge in document["edges"]:
        style = relation_style(str(edge.get("relation") or "unknown"))
        edge["_color"] = "#9A9A9A" if edge.get("summary") else style["color"]
        edge["_line"] = "dashed" if edge.get("summary") or style["style"] == "dashed" else (
            "dotted" if style["style"] == "dotted" else "solid"
        )
        edge["_width"] = float(style["penwidth"])


class HtmlFormat(GraphFormat):
    name = "html"
    extensions = (".html", ".htm")
    description = "interactive HTML explorer (one offline file)"
    default_max_nodes = sys.maxsize
    """Every model: the explorer opens clusters lazily, so thousands of models cost a few dozen elements."""

    def render(self, drawn: DrawnGraph, *, title: str, rankdir: str | None = None) -> bytes:
        whole = drawn.direction == "snapshot"
        names, packages = (SNAPSHOT_SCRIPTS, SNAPSHOT_LICENSES) if whole else (VENDOR_SCRIPTS, VENDOR_LICENSES)
        vendor = [_inline_script(_read(VENDOR_DIR / name), name) for name in names]
        licenses = "\n\n".join(_read(VENDOR_DIR / f"LICENSE.{package}") for package in packages)
        script = "snapshot.js" if whole else "explorer.js"
        app = _inline_script(_read(EXPLORER_DIR / script), script)
        page = _inline_script(_read(EXPLORER_DIR / "page.js"), "page.js")  # the helpers both scripts share
        style = _read(EXPLORER_DIR / "explorer.css")
        if "*/" in licenses:
            raise ExportError("cannot inline the vendored licences: they contain '*/'")
        notice = _inline_script(f"/* Bundled third-party code (MIT); licences:\n\n{licenses}\n*/", "licences")

        document = node_link_document(drawn, title=title)
        document["graph"]["rankdir"] = layout_direction(drawn, rankdir)  # checked; the explorer runs left to right
        document["graph"]["relation_order"] = list(RELATION_ORDER)
        _styles(document)
        if whole:
            positions = radial_layout([n.key for n in drawn.nodes], [(e.tail, e.head) for e in drawn.edges])
            for node in document["nodes"]:
                node["_x"], node["_y"] = positions[node["id"]]
        data = json_for_script(document)

        scripts = [notice, *vendor, page, app]
        csp = "; ".join([
            "default-src 'none'",
            "script-src " + " ".join(_csp_hash(s) for s in scripts),
            "style-src " + _csp_hash(style) + ("" if whole else " " + _csp_hash(CYTOSCAPE_STYLE)),
            "img-src data:",
            "base-uri 'none'",
            "form-action 'none'",
        ])
        heading = html.escape(title)
        caption = html.escape(drawn.caption)
        parts = [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{csp}">',  # hashes and keywords: nothing to escape
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            '<meta name="referrer" content="no-referrer">',
            f"<title>{heading}</title>",
            f"<style>{style}</style>",
            "</head>",
            "<body>",
            '<header><h1 id="heading">' + heading + '</h1><p id="caption">' + caption + "</p>",
            '<p id="view-focus"></p></header>',
            '<div id="controls">',
            '<label>Search id <input id="search" type="search" placeholder="org/name" autocomplete="off"></label>',
            '<span id="search-count"></span>',
            '<label>Max depth <input id="depth" type="range" min="0" max="0" value="0"></label>',
            '<output id="depth-value"></output>',
            '<span id="relations"></span>',
            '<button id="fit" type="button">Fit</button>',
            '<button id="back" type="button" hidden></button>',
            "</div>",
            '<main><div id="cy" aria-label="lineage graph"></div>',
            '<aside id="panel"><p class="hint">Click a model for its record, evidence and Hub link.</p></aside>',
            "</main>",
            f'<script type="application/json" id="graph-data">{data}</script>',
            *(f"<script>{s}</script>" for s in scripts),
            "</body>",
            "</html>",
        ]
        return ("\n".join(parts) + "\n").encode("utf-8")
