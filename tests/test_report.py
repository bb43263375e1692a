"""The report: one command on the bundled snapshot, every figure a valid image; labels cannot inject Markdown."""

from __future__ import annotations

import re
import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import polars as pl
import pytest
from raw_sample import raw_edges
from typer.testing import CliRunner

from ptmgraph.analyses.report import build_report
from ptmgraph.assemble import assemble
from ptmgraph.cli import app
from ptmgraph.formats.markdown import ReportError, escape_markdown, markdown_table, write_report
from ptmgraph.graph import LineageGraph
from ptmgraph.records import EvidenceKind, Harvest, ModelRecord, Reference

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (which must come first)."""
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def check_figures(directory: Path, markdown: str) -> list[str]:
    """Every image and link in the Markdown names a file that exists and is a valid PNG or SVG."""
    targets = re.findall(r"\]\((figures/[^)]+)\)", markdown)
    assert targets, "the report references no figures"
    for target in targets:
        path = directory / target
        assert path.is_file(), target
        if path.suffix == ".png":
            width, height = png_size(path.read_bytes())
            assert width >= 600 and height >= 300  # large enough to read
        else:
            assert path.suffix == ".svg"
            root = ET.parse(path).getroot()
            assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return targets


@pytest.mark.slow
def test_report_on_the_bundled_snapshot(tmp_path: Path, bundled: LineageGraph, hub_sample: Path) -> None:
    out = tmp_path / "report"
    result = CliRunner().invoke(app, ["report", "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    markdown = (out / "report.md").read_text()
    targets = check_figures(out, markdown)
    pngs = {t for t in targets if t.endswith(".png")}
    assert {t.replace(".png", ".svg") for t in pngs} <= set(targets)  # every figure in both formats
    headings = re.findall(r"^## \d+\. (.+)$", markdown, flags=re.M)
    assert headings == [
        "Snapshot", "Relation mix", "Generation distribution", "Fan-out distribution",
        "Top models and authors by reach",
        "Stale ancestors", "Licence drift", "Risk exposure", "Lineage check of the most downloaded models",
        "Missing attributes", "Relation disagreements",
    ]
    # The most depended-on base, with its direct dependents counted from the raw files.
    children = {child for base, child in raw_edges(hub_sample) if base == "google/gemma-7b" and child != base}
    assert f"| google/gemma-7b | {len(children):,} |" in markdown
    # Numbers come from the analyses: spot-check against the snapshot's own tables.
    assert f"| models | {bundled.graph.number_of_nodes():,} |" in markdown
    assert "| llama2 | apache\\-2.0 |" not in markdown  # "-" mid-cell needs no escape
    assert "| llama2 | apache-2.0 | likely\\_violation | 30 |" in markdown
    created = bundled.snapshot.models["created_at"].drop_nulls()
    assert f"between {created.min():%Y-%m-%d} and {created.max():%Y-%m-%d}" in markdown
    assert "Hugging Face Hub sample, 2025" in markdown
    # A second run replaces the report in place, leaving nothing else behind.
    again = CliRunner().invoke(app, ["report", "--out", str(out)], catch_exceptions=False)
    assert again.exit_code == 0 and [p.name for p in tmp_path.iterdir()] == ["report"]


def test_the_risk_exposure_of_each_base_is_what_risk_says_of_that_base_alone(bundled: LineageGraph) -> None:
    from ptmgraph.analyses.reach import reach_ranking
    from ptmgraph.analyses.report import risk_section
    from ptmgraph.analyses.risk import risk

    by_model = reach_ranking(bundled, by="model", top=8)
    table = risk_section(bundled, by_model, 8).tables[0][1]
    assert table["base"].to_list() == by_model.rows["id"].head(8).to_list()
    for row in table.iter_rows(named=True):
        alone = risk(bundled, [row["base"]]).summary  # the section walks all bases at once
        assert (row["affected_models"], row["affected_downloads"], row["runtime_code"], row["runtime"],
                row["inherited"]) == (alone["affected_models"], alone["affected_downloads"],
                                      alone["runtime_code_rows"], alone["runtime_rows"], alone["inherited_rows"])
    assert table["affected_models"].min() > 0 and table["runtime"].max() > 0  # the sample has adapters


def test_report_refuses_a_directory_that_is_not_a_report(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me")
    result = CliRunner().invoke(app, ["report", "--out", str(tmp_path)])
    assert result.exit_code == 1 and "refusing to overwrite" in result.stderr
    assert (tmp_path / "precious.txt").read_text() == "keep me"
    assert [p.name for p in tmp_path.parent.iterdir() if p.name.startswith(f".{tmp_path.name}.")] == []


def test_labels_cannot_break_a_table_or_inject_markup() -> None:
    hostile = "a|b <img src=x onerror=alert(1)> [link](http://evil) *bold* `code`\n# heading"
    escaped = escape_markdown(hostile)
    assert "\n" not in escaped and "<" not in escaped and "[link]" not in escaped and "http://" not in escaped
    assert re.search(r"(?<!\\)[|*`]", escaped) is None  # every pipe, star and backtick is escaped
    assert escape_markdown("1. first") == "1\\. first" and escape_markdown("- item") == "\\- item"
    table = markdown_table(pl.DataFrame({"id": [hostile, "ok"], "n": [1, 2]}))
    for line in table.splitlines():
        assert len(re.findall(r"(?<!\\)\|", line)) == 3  # two cells on every line, whatever the label


def test_report_on_a_small_graph_with_hostile_licence_names(tmp_path: Path) -> None:
    records = [ModelRecord(id="o/base", license="llama2"), ModelRecord(id="o/child", license="x|y <b>z</b>")]
    refs = [Reference("o/child", "o/base", EvidenceKind.CARD_BASE_MODEL, "README.md:base_model", "t")]
    report = build_report(LineageGraph(assemble(Harvest(records=records, references=refs))))
    files = write_report(report, tmp_path / "r")
    markdown = files[0].read_text()
    assert "x\\|y &lt;b&gt;z&lt;/b&gt;" in markdown and "<b>" not in markdown
    check_figures(tmp_path / "r", markdown)


def test_write_report_rejects_a_file(tmp_path: Path) -> None:
    target = tmp_path / "report"
    target.write_text("not a directory")
    records = [ModelRecord(id="o/a")]
    with pytest.raises(ReportError, match="refusing"):
        write_report(build_report(LineageGraph(assemble(Harvest(records=records)))), target)


def test_write_report_refuses_a_symlink_and_a_directory_of_other_files(tmp_path: Path) -> None:
    report = build_report(LineageGraph(assemble(Harvest(records=[ModelRecord(id="o/a")]))))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "link").symlink_to(elsewhere)
    with pytest.raises(ReportError, match="refusing"):
        write_report(report, tmp_path / "link")
    assert list(elsewhere.iterdir()) == []
    mixed = tmp_path / "mixed"
    write_report(report, mixed)
    (mixed / "notes.txt").write_text("mine")
    with pytest.raises(ReportError, match="refusing"):
        write_report(report, mixed)
    assert (mixed / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere", "link", "mixed"]  # no staging left


@pytest.mark.parametrize("kind", ["bar", "loglog", "hist"])
def test_every_figure_kind_draws_with_and_without_data(kind: str) -> None:
    from ptmgraph.formats.figures import render_figure
    from ptmgraph.result import Figure

    for x, y in (([], []), ([1, 2, 10], [30, 5, 1]), ([0, 1], [4, 0])):  # zeros cannot go on a log axis
        assert render_figure(Figure("f", "t", kind, x, y), "png").startswith(PNG_SIGNATURE)
        assert b"<svg" in render_figure(Figure("f", "t", kind, x, y), "svg")
