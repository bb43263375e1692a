"""Exporting lineage pictures (DOT, SVG, PNG) from a snapshot built from the real Hub sample.

The SVG checks parse the file as XML and read its text, the way a browser or another tool would.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import polars as pl
import pytest

from ptmgraph import snapshot
from ptmgraph.analyses.lineage import ancestry, impact
from ptmgraph.assemble import assemble
from ptmgraph.formats import DrawnGraph, ExportError, lineage_subgraph, write_graph
from ptmgraph.graph import LineageGraph
from ptmgraph.records import DANGLING_SCHEMA, EDGES_SCHEMA, EVIDENCE_SCHEMA, MODELS_SCHEMA, PROBLEMS_SCHEMA
from ptmgraph.snapshot import Snapshot
from ptmgraph.sources.hub_records import HubRecordsSource

SVG_NS = "{http://www.w3.org/2000/svg}"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DEPTH3_MODEL = "AmberYifan/Gemma-7B-sft-dpo-10k"  # -> ...-safeRLHF -> ...-ultrachat -> google/gemma-7b
LLAMA_CHAT = "meta-llama/Llama-2-7b-chat-hf"
MORE_TEXT = re.compile(r"^\+(\d+) more \(([^)]*)\)$")



@pytest.fixture
def dot_installed() -> None:
    """SVG and PNG need Graphviz' ``dot`` (the install script installs it): its absence is a failure."""
    assert shutil.which("dot"), "Graphviz 'dot' is not on PATH: install Graphviz (apt-get install graphviz)"


needs_dot = pytest.mark.usefixtures("dot_installed")


@pytest.fixture(scope="session")
def sample_graph(hub_sample: Path, tmp_path_factory: pytest.TempPathFactory) -> LineageGraph:
    """A snapshot assembled from the shared Hub sample (once per session), saved and loaded back."""
    directory = tmp_path_factory.mktemp("export") / "snapshot"
    snapshot.save(assemble(HubRecordsSource.from_directory(hub_sample).harvest()), directory)
    return LineageGraph(snapshot.load(directory))


def svg_texts(path: Path) -> list[str]:
    """The text of every ``<text>`` element of an SVG file (fails if it is not well-formed XML)."""
    root = ET.parse(path).getroot()
    assert root.tag == f"{SVG_NS}svg"
    return ["".join(el.itertext()) for el in root.iter(f"{SVG_NS}text")]


def svg_node_ids(path: Path) -> set[str]:
    """The first line of each node's label, with a long id's second line joined back on (the
    drawing breaks ids of more than 44 characters after a ``/ - _ .``)."""
    found = set()
    for group in ET.parse(path).getroot().iter(f"{SVG_NS}g"):
        if group.get("class") != "node":
            continue
        lines = ["".join(el.itertext()) for el in group.iter(f"{SVG_NS}text")]
        if lines:
            found.add(lines[0])
            if len(lines) > 1 and lines[0][-1:] in "/-_.":
                found.add(lines[0] + lines[1])
    return found


def more_nodes(texts: list[str]) -> list[tuple[int, str]]:
    return [(int(m.group(1)), m.group(2)) for t in texts if (m := MORE_TEXT.match(t))]


@needs_dot
def test_ancestry_svg_shows_the_model_every_ancestor_and_a_legend(sample_graph: LineageGraph, tmp_path: Path) -> None:
    result = ancestry(sample_graph, DEPTH3_MODEL)
    assert result.summary["max_depth"] == 3
    ancestors = result.rows["id"].to_list()
    assert "google/gemma-7b" in ancestors

    drawn = lineage_subgraph(sample_graph, result, direction="ancestry")
    out = tmp_path / "new" / "dir" / "ancestry.svg"  # the parent directory is created
    write_graph(drawn, out, "svg", result.title)

    texts = svg_texts(out)
    lines = set(texts)
    assert DEPTH3_MODEL in lines
    for ancestor in ancestors:
        assert ancestor in lines, ancestor
    assert "Legend" in lines
    legend_relations = {t.split(" ", 1)[1] for t in texts if t[:1] in "─╌┈━" and " " in t}
    assert {"finetune", "adapter", "quantized", "merge", "unknown"} <= legend_relations
    assert f"showing all {len(ancestors)} models" in lines
    assert drawn.shown == drawn.total == len(ancestors) and drawn.hidden == 0
    assert not more_nodes(texts)
    assert [p.name for p in out.parent.iterdir()] == ["ancestry.svg"]  # no temporary file left behind


@needs_dot
def test_impact_svg_is_capped_with_a_stated_rule_and_summary_nodes(sample_graph: LineageGraph, tmp_path: Path) -> None:
    result = impact(sample_graph, LLAMA_CHAT)
    drawn = lineage_subgraph(sample_graph, result, direction="impact", max_nodes=100)

    assert drawn.total == result.summary["affected_models"] == result.rows.height > 100
    assert drawn.shown == 100
    assert drawn.shown + drawn.hidden == drawn.total
    assert drawn.caption == (
        f"showing 100 of {drawn.total:,} models: the nearest, and the most downloaded of each relation; "
        f"{drawn.hidden:,} more in '+N more' boxes"
    )

    out = tmp_path / "impact.svg"
    write_graph(drawn, out, "svg", result.title)
    texts = svg_texts(out)
    assert drawn.caption in texts
    assert LLAMA_CHAT in texts
    summaries = more_nodes(texts)
    assert summaries, "no '+N more' node in the picture"
    assert sum(k for k, _ in summaries) == drawn.hidden  # every hidden model is counted exactly once
    for k, breakdown in summaries:
        assert sum(int(part.split(": ")[1]) for part in breakdown.split(", ")) == k

    # The rule: depth 1 holds more than 100 models, so all 100 are children, the relations taking
    # turns: each relation's most downloaded first (unknown last, then by id), none two ahead of another
    children = [r for r in result.rows.iter_rows(named=True) if r["depth"] == 1]
    assert len(children) > 100
    drawn_models = [n.id for n in drawn.nodes if n.kind == "model"]
    expected = []
    taken = {}
    for relation in {r["relation"] for r in children}:
        ranked = sorted((r for r in children if r["relation"] == relation),
                        key=lambda r: (r["downloads"] is None, -(r["downloads"] or 0), r["id"]))
        mine = [r["id"] for r in ranked if r["id"] in drawn_models]
        assert mine == [r["id"] for r in ranked[: len(mine)]], relation
        taken[relation] = (len(mine), len(ranked))
        expected += mine
    assert sorted(expected) == sorted(drawn_models)
    short = [n for n, available in taken.values() if n < available]  # relations that had more to give
    assert all(n >= max(m for m, _ in taken.values()) - 1 for n in short)
    ids_in_picture = svg_node_ids(out)
    for model_id in drawn_models:
        assert model_id in ids_in_picture, model_id
    # every drawn model's path to the focus is drawn, and nothing is dropped silently
    via = dict(zip(result.rows["id"], result.rows["via"], strict=True))
    assert all(via[m] == LLAMA_CHAT or via[m] in drawn_models for m in drawn_models)
    hidden = [i for n in drawn.nodes if n.kind == "more" for i in n.hidden_ids]
    assert sorted(hidden + drawn_models) == sorted(result.rows["id"].to_list())


def test_impact_draws_only_followed_relations(sample_graph: LineageGraph) -> None:
    result = impact(sample_graph, LLAMA_CHAT, relations=["quantized"])
    drawn = lineage_subgraph(sample_graph, result, direction="impact", relations={"quantized"})
    assert drawn.total == result.rows.height > 0
    assert {e.relation for e in drawn.edges if not e.is_summary} == {"quantized"}
    assert drawn.relations == ("quantized",)


def test_ancestry_cap_puts_hidden_ancestors_above_their_nearest_kept_model(sample_graph: LineageGraph) -> None:
    result = ancestry(sample_graph, "Angiie/Angie-light")  # six ancestors: four merge parents, one grandparent
    drawn = lineage_subgraph(sample_graph, result, direction="ancestry", max_nodes=3)
    assert (drawn.shown, drawn.hidden, drawn.total) == (3, result.rows.height - 3, result.rows.height)
    more = [n for n in drawn.nodes if n.kind == "more"]
    assert sum(n.hidden_count for n in more) == drawn.hidden
    for node in more:  # base above derived: the summary node points at the model it stands above
        (edge,) = [e for e in drawn.edges if node.key in (e.tail, e.head)]
        assert (edge.tail, edge.head) == (node.key, node.anchor)


@needs_dot
def test_png_output_is_a_png(sample_graph: LineageGraph, tmp_path: Path) -> None:
    result = ancestry(sample_graph, DEPTH3_MODEL)
    out = write_graph(lineage_subgraph(sample_graph, result, direction="ancestry"), tmp_path / "a.png", "png", "t")
    assert out.read_bytes().startswith(PNG_SIGNATURE)


# --- hostile metadata -------------------------------------------------------------------------------

HOSTILE_IDS = [
    'evil/"quoted"\\back\\slash\\',
    "evil/<script>alert(1)</script>",
    "evil/line\nbreak\\N",
    "<b>html-like</b>",
    "evil/{brace}|pipe<",
    "evil/" + "x" * 500,
]
HOSTILE_LICENSE = '<script>alert("pwned")</script>\\'


def tiny_snapshot(models: list[dict[str, object]], edges: list[tuple[str, str, str]]) -> Snapshot:
    def frame(rows: list[dict[str, object]], schema: dict[str, pl.DataType]) -> pl.DataFrame:
        return pl.DataFrame([{c: row.get(c) for c in schema} for row in rows], schema=schema)

    return Snapshot(
        models=frame(models, MODELS_SCHEMA),
        edges=frame([{"base": b, "child": c, "relation": r, "relation_rule": "declared",
                      "evidence_kinds": ["card_base_model"], "n_evidence": 1} for b, c, r in edges], EDGES_SCHEMA),
        evidence=frame([], EVIDENCE_SCHEMA),
        dangling=frame([], DANGLING_SCHEMA),
        problems=frame([], PROBLEMS_SCHEMA),
    )


@pytest.fixture
def hostile() -> tuple[LineageGraph, DrawnGraph]:
    models = [{"id": "base/model", "downloads": 5, "license": HOSTILE_LICENSE, "has_record": True}]
    models += [{"id": i, "downloads": n, "license": HOSTILE_LICENSE, "has_record": n % 2 == 0}
               for n, i in enumerate(HOSTILE_IDS)]
    relations = ["finetune", "adapter", "quantized", "merge", 'we"ird\\rel<x>', "unknown"]
    edges = [("base/model", i, r) for i, r in zip(HOSTILE_IDS, relations, strict=True)]
    lg = LineageGraph(tiny_snapshot(models, edges))
    result = impact(lg, "base/model")
    return lg, lineage_subgraph(lg, result, direction="impact")


@needs_dot
def test_hostile_ids_and_licenses_are_escaped(hostile: tuple[LineageGraph, DrawnGraph], tmp_path: Path) -> None:
    _, drawn = hostile
    dot_file = write_graph(drawn, tmp_path / "hostile.dot", "dot", 'Impact of "x" <script>\\')
    done = subprocess.run(["dot", "-Tsvg", str(dot_file)], capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode()
    assert b"syntax" not in done.stderr.lower()
    svg = tmp_path / "hostile.svg"
    svg.write_bytes(done.stdout)

    root = ET.parse(svg).getroot()
    assert not [el for el in root.iter() if el.tag.split("}")[-1].lower() in ("script", "b")]
    texts = svg_texts(svg)
    text = "\n".join(texts)
    assert 'evil/"quoted"\\back\\slash\\' in texts
    assert "evil/<script>alert(1)</script>" in texts
    assert "evil/line\\x0abreak\\N" in texts  # the newline shown as an escape, \N not expanded
    assert "<b>html-like</b>" in texts
    assert "evil/{brace}|pipe<" in texts
    assert "evil/" + "x" * 94 + "…" in texts  # very long ids are shortened, visibly
    assert 'license: <script>alert("pwned")</script>\\' in text
    assert 'Impact of "x" <script>\\' in texts
    assert 'we"ird\\rel<x>' in texts  # an unrecognised relation: drawn and in the legend, as text


@needs_dot
def test_hostile_svg_written_directly_is_well_formed(hostile: tuple[LineageGraph, DrawnGraph], tmp_path: Path) -> None:
    _, drawn = hostile
    out = write_graph(drawn, tmp_path / "h.svg", "svg", "t")
    assert "evil/<script>alert(1)</script>" in svg_texts(out)
    assert b"<script" not in out.read_bytes()


def test_failed_render_leaves_the_existing_file_untouched(
    hostile: tuple[LineageGraph, DrawnGraph], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, drawn = hostile
    out = tmp_path / "graph.svg"
    out.write_bytes(b"previous picture")
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))

    with pytest.raises(ExportError) as err:
        write_graph(drawn, out, "svg", "t")
    message = str(err.value)
    assert "'dot'" in message and "not installed" in message
    assert "\n" not in message
    assert out.read_bytes() == b"previous picture"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty-bin", "graph.svg"]

    # DOT source needs no Graphviz program
    write_graph(drawn, tmp_path / "graph.dot", "dot", "t")
    assert (tmp_path / "graph.dot").read_text().startswith("digraph")


def test_failing_dot_is_reported_in_one_line(
    hostile: tuple[LineageGraph, DrawnGraph], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, drawn = hostile
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "dot").write_text("#!/bin/sh\necho 'Error: out of memory' >&2\necho 'more detail' >&2\nexit 3\n")
    (fake / "dot").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake}{os.pathsep}{os.environ.get('PATH', '')}")
    out = tmp_path / "graph.png"
    out.write_bytes(PNG_SIGNATURE + b"old")

    with pytest.raises(ExportError, match=r"^Graphviz 'dot' failed to render png: Error: out of memory$"):
        write_graph(drawn, out, "png", "t")
    assert out.read_bytes() == PNG_SIGNATURE + b"old"


def test_unknown_format_is_refused(hostile: tuple[LineageGraph, DrawnGraph], tmp_path: Path) -> None:
    _, drawn = hostile
    with pytest.raises(ExportError, match="unsupported format 'pdf'"):
        write_graph(drawn, tmp_path / "x.pdf", "pdf", "t")  # type: ignore[arg-type]
    assert not (tmp_path / "x.pdf").exists()


def test_a_cut_depth_keeps_the_most_downloaded_of_each_relation_before_a_second_of_any() -> None:
    children = [("f/a", "finetune", 100), ("f/b", "finetune", 90), ("f/c", "finetune", 80),
                ("a/d", "adapter", 5), ("a/e", "adapter", 4), ("q/f", "quantized", None), ("m/g", "merge", 1)]
    models = [{"id": "base/model", "downloads": 1000, "has_record": True}]
    models += [{"id": i, "downloads": n, "has_record": True} for i, _, n in children]
    lg = LineageGraph(tiny_snapshot(models, [("base/model", i, r) for i, r, _ in children]))
    result = impact(lg, "base/model")

    four = lineage_subgraph(lg, result, direction="impact", max_per_depth=4)
    assert [n.id for n in four.nodes if n.kind == "model"] == ["f/a", "a/d", "m/g", "q/f"]  # by downloads
    (more,) = [n for n in four.nodes if n.kind == "more"]
    assert more.hidden_ids == ("f/b", "f/c", "a/e") and more.hidden_by_relation == {"finetune": 2, "adapter": 1}
    five = lineage_subgraph(lg, result, direction="impact", max_per_depth=5)  # a second turn: finetune's first
    assert {n.id for n in five.nodes if n.kind == "model"} == {"f/a", "a/d", "m/g", "q/f", "f/b"}
    three = lineage_subgraph(lg, result, direction="impact", max_nodes=3)
    assert {n.id for n in three.nodes if n.kind == "model"} == {"f/a", "a/d", "m/g"}
    assert three.caption == ("showing 3 of 7 models: the nearest, and the most downloaded of each relation; "
                             "4 more in '+N more' boxes")
