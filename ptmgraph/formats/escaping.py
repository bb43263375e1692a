"""How untrusted text (ids, authors, licences, card fields) is written into each output family: one
function per family, used by every writer of that family. Each shows what it cannot carry as a visible
escape in one style, ``\\x01`` / ``\\ufffe`` / ``\\U0010ffff`` (:func:`visible`); nothing is dropped.

- terminal (trees, tables, messages): :func:`printable`: C0 and C1 controls, DEL, bidi controls.
- terminal table cell: :func:`table_cell`: as :func:`printable`, line breaks included.
- XML (GraphML, GEXF): :func:`xml_text`: what XML 1.0 cannot hold (controls other than tab, LF and CR,
  lone surrogates, U+FFFE, U+FFFF); the XML writer escapes ``&``, ``<``, ``>``.
- DOT / Graphviz labels (DOT, SVG, PNG): :func:`ptmgraph.formats.dot.dot_text` of
  :func:`ptmgraph.formats.dot.clean_text`: as :func:`printable`, plus surrogates, unassigned and
  private-use characters; ``&`` written ``&amp;`` (Graphviz reads entities), ``\\`` doubled.
- Markdown (``report.md``): :func:`ptmgraph.formats.markdown.escape_markdown`: :func:`printable`
  first, then markup characters.
- figures (matplotlib PNG and SVG): :func:`ptmgraph.formats.figures.figure_text`: :func:`printable`,
  :func:`xml_text`, and ``$`` escaped (no mathtext).
- CSV: :mod:`ptmgraph.formats.csv_table`: the CSV writer quotes; formula starts get a leading ``'``.

This module is the standard library only: the terminal path imports it on a cold query.
"""

from __future__ import annotations

import re


def visible(ch: str) -> str:
    """One character as a visible escape: ``\\x01``, ``\\u202e``, ``\\U0010ffff``."""
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _visible_match(match: re.Match[str]) -> str:
    return visible(match.group())


# C0 and C1 controls, DEL, the line and paragraph separators, and the bidirectional marks, embeddings,
# overrides and isolates.
_OTHERS = "\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_UNPRINTABLE = re.compile(f"[\x00-\x1f{_OTHERS}]")
_UNPRINTABLE_BUT_NEWLINE = re.compile(f"[\x00-\x09\x0b-\x1f{_OTHERS}]")


def printable(text: str, *, keep_newlines: bool = False) -> str:
    """Terminal text: ``text`` with control and bidi characters written as ``\\x1b`` / ``\\u202e`` escapes,
    so it can neither clear the screen, move the cursor nor reorder what is printed around it."""
    return (_UNPRINTABLE_BUT_NEWLINE if keep_newlines else _UNPRINTABLE).sub(_visible_match, text)


def table_cell(text: str) -> str:
    """A terminal table cell: :func:`printable` with line breaks escaped too, so a value can never print a
    line that looks like another row. (A cell of several lines is a list, one item a line.)"""
    return printable(text)


_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """XML text: the characters XML 1.0 cannot hold (controls other than tab, LF and CR, lone surrogates,
    U+FFFE and U+FFFF) written as visible escapes; the writer then escapes ``&``, ``<`` and ``>``."""
    return _XML_ILLEGAL.sub(_visible_match, text)
