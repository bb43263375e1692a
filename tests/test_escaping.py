"""Every output family stays well-formed whatever text a card holds (Hypothesis): an independent parser
reads the file back, with the same text or the text shown escaped (``\\x01``), never dropped.

The families (:mod:`ptmgraph.formats.escaping`): XML (GraphML, GEXF: lxml and networkx's readers),
Graphviz (DOT, SVG: Graphviz itself, then an XML parser), terminal tables (one line per row), Markdown
(markdown-it-py) and CSV (the csv module)."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import networkx as nx
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from markdown_it import MarkdownIt
from typer.testing import CliRunner

from ptmgraph.cli import app
from ptmgraph.formats.console import frame_table
from ptmgraph.formats.csv_table import result_to_csv
from ptmgraph.formats.dot import DotFormat, SvgFormat
from ptmgraph.formats.drawing import DrawnEdge, DrawnGraph, DrawnNode
from ptmgraph.formats.escaping import printable, xml_text
from ptmgraph.formats.figures import render_figure
from ptmgraph.formats.gexf import GexfFormat
from ptmgraph.formats.graphml import GraphMLFormat
from ptmgraph.formats.markdown import escape_markdown, markdown_table
from ptmgraph.result import AnalysisResult, Figure

NASTY = ["\x00", "\x01", "\x1b[2J", "\x1b]8;;http://x\x07link\x1b]8;;\x07", "\ufffe", "\uffff", "\ud800", "\udfff",
         "&#1;", "&lt;b&gt;", "&amp;", "<b>", "]]>", "\n", "\r", "\r\n", "\t", "\x85", "\u2028", "\u202e", "\\",
         "\\n", "\\N", '"', "'", "|", "[x](y)", "*", "_", "`", "#", "- ", "1. ", "> ", "    ", "{", "}", "\U0010ffff",
         "\ue000", "\u0378", "http://x.y", "www.x.y", "=1+1", "-"]
"""Pieces that broke an output once, or would: mixed into any Unicode text (lone surrogates included)."""

any_text = st.lists(
    st.one_of(st.sampled_from(NASTY), st.characters(codec=None, exclude_categories=())), max_size=24
).map("".join)
"""Any Unicode string, lone surrogates included, with the pieces above often among its characters."""

encodable_text = any_text.map(lambda s: re.sub("[\ud800-\udfff]", "\ufffd", s))
"""Any string a Parquet table or polars can hold (no lone surrogates: the snapshot's text is UTF-8)."""


def drawn_graph(focus: str, child: str, license_: str, rule: str, raw: str) -> DrawnGraph:
    """A focus model and one child, every text field given."""
    return DrawnGraph(
        focus=focus, direction="impact", shown=1, total=1, hidden=0, max_nodes=10, caption=f"caption {raw}",
        nodes=(DrawnNode(key=focus, kind="focus", id=focus, license=license_, downloads=3,
                         attributes={"author": raw, "license": license_}),
               DrawnNode(key=child, kind="model", id=child, depth=1, relation="finetune", license=license_,
                         attributes={"author": rule})),
        edges=(DrawnEdge(tail=focus, head=child, relation="finetune", relation_rule=rule, evidence_kinds=(raw,),
                         attributes={"relation_rule": rule},
                         evidence=({"kind": "card_base_model", "raw": raw},)),),
    )


TEXT_FIELDS = given(focus=any_text, child=any_text, license_=any_text, rule=any_text, raw=any_text)
FEW = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FEW
@TEXT_FIELDS
def test_graphml_is_well_formed_and_reads_back_every_text(focus: str, child: str, license_: str, rule: str,
                                                          raw: str) -> None:
    if xml_text(focus) == xml_text(child):
        return  # one node
    data = GraphMLFormat().render(drawn_graph(focus, child, license_, rule, raw), title=f"t {focus}")
    etree.fromstring(data)  # well-formed, by libxml2
    graph = nx.read_graphml(io.BytesIO(data))
    assert graph.nodes[xml_text(focus)]["label"] == xml_text(focus)
    assert graph.nodes[xml_text(focus)]["author"] == xml_text(raw)
    assert graph.nodes[xml_text(child)]["license"] == xml_text(license_)
    assert graph.edges[xml_text(focus), xml_text(child)]["relation_rule"] == xml_text(rule)
    assert graph.graph["caption"] == xml_text(f"caption {raw}")


@FEW
@TEXT_FIELDS
def test_gexf_is_well_formed_and_reads_back_every_text(focus: str, child: str, license_: str, rule: str,
                                                       raw: str) -> None:
    if xml_text(focus) == xml_text(child):
        return
    data = GexfFormat().render(drawn_graph(focus, child, license_, rule, raw), title=f"t {focus}")
    ET.fromstring(data)  # well-formed, by expat
    graph = nx.read_gexf(io.BytesIO(data))
    assert graph.nodes[xml_text(focus)]["label"] == xml_text(focus)
    assert graph.nodes[xml_text(focus)]["author"] == xml_text(raw)
    assert graph.nodes[xml_text(child)]["license"] == xml_text(license_)


def test_xml_text_shows_what_xml_cannot_hold_and_keeps_the_rest() -> None:
    assert xml_text("a\x01b\ufffe\uffff\ud800&#1;\t\n") == "a\\x01b\\ufffe\\uffff\\ud800&#1;\t\n"


def _svg_text(svg: bytes) -> str:
    root = ET.fromstring(svg)  # well-formed, by expat
    return "\n".join("".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text"))


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is installed by scripts/run")
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@TEXT_FIELDS
def test_svg_is_well_formed_and_graphviz_draws_text_as_written(focus: str, child: str, license_: str, rule: str,
                                                                raw: str) -> None:
    if focus == child:
        return
    svg = SvgFormat().render(drawn_graph(focus, child, license_, rule, raw), title="t")
    shown = _svg_text(svg)
    # An entity in the text is drawn as written: "&lt;b&gt;" is not drawn as "<b>", "&#1;" not as U+0001.
    for piece in ("&lt;b&gt;", "&#1;", "&amp;"):
        if piece in license_ and len(license_) < 20:
            assert piece in shown


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is installed by scripts/run")
def test_graphviz_draws_an_entity_as_its_characters_not_the_character_it_names() -> None:
    svg = SvgFormat().render(drawn_graph("org/m", "org/c", "&lt;b&gt; &#1;\ufffe", "r", "x"), title="t")
    shown = _svg_text(svg)
    assert "license: &lt;b&gt; &#1;\\ufffe" in shown and "<b>" not in shown
    dot = DotFormat().render(drawn_graph("org/m", "org/c", "&lt;b&gt;", "r", "x"), title="t").decode()
    assert "&amp;lt;b&amp;gt;" in dot


@settings(max_examples=200, deadline=None)
@given(value=any_text)
def test_a_table_cell_never_starts_another_line(value: str) -> None:
    frame = pl.DataFrame({"id": [re.sub("[\ud800-\udfff]", "\ufffd", value), "org/next"],
                          "license": ["mit", "mit"]})
    lines = [line.plain for line in frame_table(frame, width=400)]
    assert len(lines) == 3  # header and two rows: a value cannot make a line of its own
    assert all(not re.search("[\x00-\x1f\x7f-\x9f\u2028\u2029]", line) for line in lines)
    assert lines[2].startswith("org/next")


def _markdown_texts(document: str) -> list[str]:
    """The text of every inline of ``document`` as a CommonMark + GFM-tables parser reads it; fails on any
    markup (a link, emphasis, code, HTML, an image)."""
    tokens = MarkdownIt("commonmark").enable("table").parse(document)
    texts = []
    for token in tokens:
        if token.type == "inline":
            kinds = {child.type for child in token.children or []}
            assert kinds <= {"text", "softbreak"}, (document, kinds)
            texts.append("".join(child.content for child in token.children or []))
        else:
            assert token.type in {"paragraph_open", "paragraph_close", "table_open", "table_close", "thead_open",
                                  "thead_close", "tbody_open", "tbody_close", "tr_open", "tr_close", "th_open",
                                  "th_close", "td_open", "td_close"}, (document, token.type)
    return texts


def _same_words(text: str) -> str:
    return " ".join(text.split())


@settings(max_examples=300, deadline=None)
@given(value=encodable_text)
def test_markdown_text_reads_back_as_the_same_words_and_no_markup(value: str) -> None:
    document = escape_markdown(value)
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", document)  # `cat report.md` prints no escape
    texts = _markdown_texts(document)
    assert _same_words(" ".join(texts)) == _same_words(printable(value))


@settings(max_examples=200, deadline=None)
@given(first=encodable_text, second=encodable_text)
def test_a_markdown_table_keeps_its_cells(first: str, second: str) -> None:
    table = markdown_table(pl.DataFrame({"id": [first], "license": [second]}))
    texts = _markdown_texts(table)
    assert [_same_words(t) for t in texts] == ["id", "license", _same_words(printable(first)),
                                                _same_words(printable(second))]


def test_the_report_never_carries_a_raw_terminal_escape() -> None:
    assert escape_markdown("a\x1b]8;;http://evil\x07b\x1b[2J") == "a\\\\x1b\\]8;;http\\://evil\\\\x07b\\\\x1b\\[2J"


@settings(max_examples=200, deadline=None)
@given(first=encodable_text, second=encodable_text)
def test_csv_reads_back_every_cell(first: str, second: str) -> None:
    result = AnalysisResult(title="t", rows=pl.DataFrame({"id": [first, "org/next"], "license": [second, "mit"]}))
    rows = list(csv.reader(io.StringIO(result_to_csv(result, raw=True), newline="")))
    assert rows == [["id", "license"], [first, second], ["org/next", "mit"]]


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is installed by scripts/run")
def test_dot_source_is_read_by_graphviz_for_any_label() -> None:
    dot = DotFormat().render(drawn_graph("a\\", "b\\\"", "\\N\\G", "\\l", "\"]; x [label=\""), title="\\")
    done = subprocess.run(["dot", "-Tsvg"], input=dot, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr
    assert 'label="' not in _svg_text(done.stdout) or "x [label" in _svg_text(done.stdout)


@pytest.fixture(scope="module")
def crafted_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Records whose id, licence and author carry a line feed that would fake a row, controls, an OSC 8
    link, a clear-screen and entities."""
    folder = tmp_path_factory.mktemp("crafted")
    fake = "org/x\nmeta-llama/Llama-2-7b-chat-hf  finetune  99"
    lines = [
        {"id": "org/base", "downloads": 10, "tags": ["license:llama2"]},
        {"id": fake, "downloads": 1, "author": "\x1b]8;;http://evil\x07me\x1b]8;;\x07",
         "tags": ["license:mit\n\x1b[2J", "base_model:finetune:org/base"]},
        {"id": "org/y", "downloads": 2, "tags": ["license:&#1;&lt;b&gt;\x01\ufffe", "base_model:finetune:org/base"]},
    ]
    (folder / "models.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    done = CliRunner().invoke(app, ["ingest", str(folder / "models.jsonl"), "--out", str(folder / "snap")])
    assert done.exit_code == 0, done.output
    return folder / "snap"


@pytest.mark.parametrize("command", [["impact", "org/base", "--flat"], ["licenses"], ["list", "--author", "me"]])
def test_a_crafted_id_prints_no_line_that_looks_like_a_row(crafted_snapshot: Path, command: list[str]) -> None:
    done = CliRunner().invoke(app, [*command, "-s", str(crafted_snapshot)], env={"COLUMNS": "300"})
    assert done.exit_code == 0, done.output
    assert not any(line.startswith("meta-llama/") for line in done.stdout.splitlines())
    assert "\x1b" not in done.stdout


@pytest.mark.parametrize("suffix", [".graphml", ".gexf", ".svg"])
def test_every_xml_export_of_crafted_records_is_well_formed(crafted_snapshot: Path, tmp_path: Path,
                                                            suffix: str) -> None:
    if suffix == ".svg" and shutil.which("dot") is None:
        pytest.skip("Graphviz is installed by scripts/run")
    out = tmp_path / f"drawing{suffix}"
    done = CliRunner().invoke(app, ["export", "org/base", "--impact", "-s", str(crafted_snapshot), "--out", str(out)])
    assert done.exit_code == 0, done.output
    etree.fromstring(out.read_bytes())
    ET.fromstring(out.read_bytes())


def test_the_report_of_crafted_records_carries_no_raw_escape(crafted_snapshot: Path, tmp_path: Path) -> None:
    done = CliRunner().invoke(app, ["report", "-s", str(crafted_snapshot), "--out", str(tmp_path / "r")])
    assert done.exit_code == 0, done.output
    text = (tmp_path / "r" / "report.md").read_text()
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", text)
    assert "\\\\x1b" in text  # shown escaped, not dropped


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(labels=st.lists(encodable_text, min_size=1, max_size=3))
@pytest.mark.filterwarnings("ignore:Glyph")  # a character the font lacks is drawn as a box: not our concern
def test_a_figure_svg_is_well_formed_for_any_label(labels: list[str]) -> None:
    figure = Figure(name="f", title=labels[0], kind="bar", x=labels, y=[1.0] * len(labels))
    ET.fromstring(render_figure(figure, "svg"))
