"""Every graph export format on the bundled snapshot and on hostile metadata.

Expected values are worked out here from the graph's own node and edge attributes (the input the
formats project) or read from the raw Hub sample, with the projection rule written out by hand:
missing values left out, datetimes as ISO 8601, lists as JSON text in GraphML/GEXF.
"""

from __future__ import annotations

import datetime as dt
import html.parser
import itertools
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from graph_files import read_back
from test_export import HOSTILE_IDS, HOSTILE_LICENSE

from ptmgraph.analyses.lineage import ancestry, impact
from ptmgraph.formats import GRAPH_FORMATS, DrawnGraph, ExportError, choose_format, graph_format, lineage_subgraph
from ptmgraph.formats.subgraph import combine, snapshot_subgraph
from ptmgraph.graph import LineageGraph

LLAMA_CHAT = "meta-llama/Llama-2-7b-chat-hf"
ADAPTER = "FrancescoPeriti/Llama2Dictionary"  # adapter_config.json among its files; card base: LLAMA_CHAT
DEPTH3 = "AmberYifan/Gemma-7B-sft-SPIN-Gemma-2-27B"


def raw_record(hub_sample: Path, model_id: str) -> dict[str, Any]:
    with (hub_sample / "models.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            if record.get("id") == model_id:
                return dict(record)
    raise AssertionError(f"{model_id} not in the raw sample")


def line_of(path: Path, model_id: str) -> int:
    """The 1-based line of ``path`` (JSON lines) whose ``id`` is ``model_id``."""
    with path.open(encoding="utf-8") as lines:
        return next(n for n, line in enumerate(lines, 1) if json.loads(line).get("id") == model_id)


def tree_row(hub_sample: Path, model_id: str) -> dict[str, Any]:
    with (hub_sample / "model_tree.jsonl").open(encoding="utf-8") as lines:
        return next(row for row in map(json.loads, lines) if row["id"] == model_id)


def by_hand(value: Any, flat: bool) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False) if flat else value
    return value


def expected_node(lg: LineageGraph, model_id: str, kind: str, depth: int, relation: str | None, flat: bool) -> dict:
    values = {k: by_hand(v, flat) for k, v in lg.graph.nodes[model_id].items() if v is not None}
    values |= {"label": model_id, "kind": kind, "depth": depth}
    if relation is not None:
        values["relation"] = relation
    return values


def expected_edge(lg: LineageGraph, base: str, child: str, flat: bool) -> dict:
    values = {k: by_hand(v, flat) for k, v in lg.graph.edges[base, child].items()
              if v is not None and k not in ("base", "child")}
    evidence = lg.snapshot.evidence.filter((lg.snapshot.evidence["base"] == base)
                                           & (lg.snapshot.evidence["child"] == child))
    rows = [{k: v for k, v in row.items() if k not in ("base", "child")} for row in evidence.iter_rows(named=True)]
    values["summary"] = False
    if rows:
        values["evidence"] = json.dumps(rows, ensure_ascii=False) if flat else rows
    return values


@pytest.fixture(scope="module")
def llama_impact(bundled: LineageGraph) -> tuple[DrawnGraph, dict[str, tuple[int, str]]]:
    result = impact(bundled, LLAMA_CHAT)
    rows = {r["id"]: (r["depth"], r["relation"]) for r in result.rows.iter_rows(named=True)}
    return lineage_subgraph(bundled, result, direction="impact", max_nodes=60), rows


@pytest.mark.parametrize("name", ["graphml", "gexf", "json"])
def test_graph_files_read_back_with_the_same_nodes_edges_and_attributes(
    name: str, bundled: LineageGraph, llama_impact: tuple[DrawnGraph, dict[str, tuple[int, str]]]
) -> None:
    drawn, rows = llama_impact
    flat = name != "json"
    graph = read_back(name, graph_format(name).render(drawn, title="Impact"))

    models = [n.id for n in drawn.nodes if n.kind == "model"]
    summaries = [n for n in drawn.nodes if n.kind == "more"]
    assert len(models) == 60
    assert set(graph.nodes) == {LLAMA_CHAT, *models, *(n.key for n in summaries)}
    model_edges = {(b, c) for b, c in bundled.graph.subgraph([LLAMA_CHAT, *models]).edges}
    assert set(graph.edges) == model_edges | {(n.anchor, n.key) for n in summaries}

    assert dict(graph.nodes[LLAMA_CHAT]) == expected_node(bundled, LLAMA_CHAT, "focus", 0, None, flat)
    for model_id in models:
        depth, relation = rows[model_id]
        assert dict(graph.nodes[model_id]) == expected_node(bundled, model_id, "model", depth, relation, flat)
    for base, child in model_edges:
        found = {k: v for k, v in graph.edges[base, child].items() if k != "id"}  # GEXF adds an edge id
        assert found == expected_edge(bundled, base, child, flat)
    hidden = 0
    for node in summaries:
        back = graph.nodes[node.key]
        ids = json.loads(back["hidden_ids"]) if flat else back["hidden_ids"]
        assert back["kind"] == "more" and back["anchor"] == node.anchor and back["hidden_count"] == len(ids)
        assert all(rows[i][0] >= 1 for i in ids)
        hidden += len(ids)
    assert hidden == len(rows) - 60


def test_cyclonedx_bom_of_an_adapter_validates_and_lists_its_lineage(bundled: LineageGraph, hub_sample: Path) -> None:
    raw = raw_record(hub_sample, ADAPTER)
    assert "adapter_config.json" in {s["rfilename"] for s in raw["siblings"]}
    assert raw["cardData"]["base_model"] == [LLAMA_CHAT]
    result = ancestry(bundled, ADAPTER)
    drawn = lineage_subgraph(bundled, result, direction="ancestry")
    text = graph_format("cyclonedx").render(drawn, title=result.title).decode()

    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    bom = json.loads(text)
    component = bom["metadata"]["component"]
    assert component["type"] == "machine-learning-model"
    assert component["purl"] == f"pkg:huggingface/FrancescoPeriti/Llama2Dictionary@{raw['sha']}"
    assert component["licenses"] == [{"license": {"id": "CC-BY-SA-4.0"}}]  # cc-by-sa-4.0 in the card
    ancestors = component["pedigree"]["ancestors"]
    assert [f"{a['group']}/{a['name']}" for a in ancestors] == result.rows["id"].to_list()
    first = ancestors[0]
    props = {p["name"]: p["value"] for p in first["properties"] if p["name"] != "ptmgraph:evidence"}
    assert props["ptmgraph:relation"] == "adapter" and props["ptmgraph:depth"] == "1"
    evidence = [p["value"] for p in first["properties"] if p["name"] == "ptmgraph:evidence"]
    # The card names the base, the Hub tags it and lists the adapter under the base's finetunes.
    record, card, tree = (line_of(hub_sample / name, model) for name, model in
                          (("models.jsonl", ADAPTER), ("readmes.jsonl", ADAPTER), ("model_tree.jsonl", LLAMA_CHAT)))
    assert f"base_model:finetune:{LLAMA_CHAT}" in raw["tags"]
    assert ADAPTER in tree_row(hub_sample, LLAMA_CHAT)["finetunes"]
    assert evidence == [
        f"card_base_model README.md:base_model[] @ models.jsonl:{record};readmes.jsonl:{card}",
        f"hub_tag tags:base_model:finetune @ models.jsonl:{record}",
        f"model_tree model_tree:finetunes @ model_tree.jsonl:{tree}",
    ]
    assert first["licenses"] == [{"license": {"name": "llama2"}}]

    # the graph: the adapter depends on its base, which it loads at run time
    deps = {d["ref"]: d.get("dependsOn", []) for d in bom["dependencies"]}
    assert deps[component["bom-ref"]] == [f"model:{LLAMA_CHAT}"]
    assert deps[f"model:{LLAMA_CHAT}"] == []
    assert [c["bom-ref"] for c in bom["components"]] == [f"model:{LLAMA_CHAT}"]
    own = {p["name"]: p["value"] for p in component["properties"]}
    assert own[f"ptmgraph:relation:{LLAMA_CHAT}"] == "adapter"
    assert own[f"ptmgraph:dependency:{LLAMA_CHAT}"] == "runtime"


def test_cyclonedx_bom_of_a_finetune_chain_links_each_model_to_its_base_as_inherited(bundled: LineageGraph) -> None:
    result = ancestry(bundled, DEPTH3)  # DEPTH3 -> ...-safeRLHF -> ...-ultrachat -> google/gemma-7b, finetunes
    drawn = lineage_subgraph(bundled, result, direction="ancestry")
    text = graph_format("cyclonedx").render(drawn, title=result.title).decode()
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    bom = json.loads(text)
    ancestors = bom["metadata"]["component"]["pedigree"]["ancestors"]
    assert [a["purl"].split("@")[0] for a in ancestors][-1] == "pkg:huggingface/google/gemma-7b"
    chain = [DEPTH3, "AmberYifan/Gemma-7b-sft-ultrachat-safeRLHF", "AmberYifan/Gemma-7b-sft-ultrachat",
             "google/gemma-7b"]
    deps = {d["ref"]: d.get("dependsOn", []) for d in bom["dependencies"]}
    assert deps == {f"model:{child}": [f"model:{base}"] for child, base in itertools.pairwise(chain)} | {
        "model:google/gemma-7b": []}
    assert sorted(c["bom-ref"] for c in bom["components"]) == sorted(f"model:{m}" for m in chain[1:])
    everyone = [bom["metadata"]["component"], *bom["components"]]
    for child, base in itertools.pairwise(chain):
        (component,) = [c for c in everyone if c["bom-ref"] == f"model:{child}"]
        own = {p["name"]: p["value"] for p in component["properties"]}
        assert (own[f"ptmgraph:relation:{base}"], own[f"ptmgraph:dependency:{base}"]) == ("finetune", "inherited")


def test_mermaid_uses_the_picture_cap_and_draws_every_kept_model(
    bundled: LineageGraph, llama_impact: tuple[DrawnGraph, dict[str, tuple[int, str]]]
) -> None:
    fmt = graph_format("mermaid")
    assert (fmt.default_max_nodes, fmt.max_per_depth) == (graph_format("svg").default_max_nodes,
                                                          graph_format("svg").max_per_depth)
    drawn, _ = llama_impact
    text = fmt.render(drawn, title="Impact").decode()
    assert text.splitlines()[3] == "flowchart LR"
    labels = re.findall(r'^  n\d+\["([^"]*)"\]$', text, flags=re.M)
    assert len(labels) == 1 + 60
    ids = {decode_mermaid(label.split("<br/>")[0]) for label in labels}
    assert ids == {LLAMA_CHAT, *(n.id for n in drawn.nodes if n.kind == "model")}


def decode_mermaid(text: str) -> str:
    return re.sub(r"#(\d+);", lambda m: chr(int(m.group(1))), text)


# --- hostile metadata in every format ----------------------------------------------------------------

@pytest.fixture
def hostile_drawn() -> DrawnGraph:
    return make_hostile_drawn()


def make_hostile_drawn() -> DrawnGraph:
    """The impact of ``base/model`` on six children with hostile ids, licences and one hostile relation."""
    from test_export import tiny_snapshot

    models = [{"id": "base/model", "downloads": 5, "license": HOSTILE_LICENSE, "has_record": True, "sha": "ab12"}]
    models += [{"id": i, "downloads": n, "license": HOSTILE_LICENSE, "has_record": True}
               for n, i in enumerate(HOSTILE_IDS)]
    relations = ["finetune", "adapter", "quantized", "merge", 'we"ird\\rel<x>', "unknown"]
    edges = [("base/model", i, r) for i, r in zip(HOSTILE_IDS, relations, strict=True)]
    lg = LineageGraph(tiny_snapshot(models, edges))
    return lineage_subgraph(lg, impact(lg, "base/model"), direction="impact")


HOSTILE_TITLE = 'Impact of "x" <script>alert(2)</script> & {y}\\'


@pytest.mark.parametrize("name", ["graphml", "gexf", "json"])
def test_hostile_ids_survive_graph_files_exactly(name: str, hostile_drawn: DrawnGraph) -> None:
    graph = read_back(name, graph_format(name).render(hostile_drawn, title=HOSTILE_TITLE))
    assert {"base/model", *HOSTILE_IDS} <= set(graph.nodes)
    assert all(graph.nodes[i]["license"] == HOSTILE_LICENSE for i in HOSTILE_IDS)
    assert graph.edges["base/model", HOSTILE_IDS[4]]["relation"] == 'we"ird\\rel<x>'


def test_hostile_ids_cannot_break_mermaid(hostile_drawn: DrawnGraph) -> None:
    text = graph_format("mermaid").render(hostile_drawn, title=HOSTILE_TITLE).decode()
    for line in text.splitlines():
        quoted = re.findall(r'"([^"]*)"', line)
        for inside in quoted:
            assert not set(inside.replace("<br/>", "")) & set('"<>{}[]()|`\\\n&'), line
    assert "```" not in text and "\t" not in text
    labels = [decode_mermaid(m.split("<br/>")[0]) for m in re.findall(r'^  n\d+\["([^"]*)"\]$', text, flags=re.M)]
    assert "evil/<script>alert(1)</script>" in labels
    assert 'evil/"quoted"\\back\\slash\\' in labels
    assert "evil/line\\x0abreak\\N" in labels  # the newline shown as an escape
    assert "license: " + HOSTILE_LICENSE in {decode_mermaid(p) for m in re.findall(r'\["([^"]*)"\]', text)
                                              for p in m.split("<br/>")}


def test_hostile_ids_cannot_break_cyclonedx(hostile_drawn: DrawnGraph) -> None:
    text = graph_format("cyclonedx").render(hostile_drawn, title=HOSTILE_TITLE).decode()
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    bom = json.loads(text)
    names = {f"{c.get('group')}/{c['name']}" if c.get("group") else c["name"]
             for c in bom["metadata"]["component"]["pedigree"]["descendants"]}
    assert names == set(HOSTILE_IDS)
    # purls only from Hub-shaped ids: none of these is one, the focus is
    assert [c.get("purl") for c in bom["metadata"]["component"]["pedigree"]["descendants"]] == [None] * len(HOSTILE_IDS)
    assert bom["metadata"]["component"]["purl"] == "pkg:huggingface/base/model"


class _Tags(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.data: dict[str, str] = {}
        self._current: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self._current = dict(attrs).get("id") or tag

    def handle_endtag(self, tag: str) -> None:
        self._current = None

    def handle_data(self, data: str) -> None:
        if self._current:
            self.data[self._current] = self.data.get(self._current, "") + data


def test_hostile_ids_cannot_inject_into_the_html_explorer(hostile_drawn: DrawnGraph) -> None:
    page = graph_format("html").render(hostile_drawn, title=HOSTILE_TITLE).decode()
    parser = _Tags()
    parser.feed(page)
    assert parser.tags.count("script") == 5  # the data, the licences, cytoscape, the shared helpers and ours
    assert set(parser.tags) <= {"html", "head", "meta", "title", "style", "body", "header", "h1", "p", "div",
                                "label", "input", "span", "output", "button", "main", "aside", "script"}
    assert "<script>alert(1)" not in page and "<script>alert(2)" not in page
    document = json.loads(parser.data["graph-data"])
    assert {n["id"] for n in document["nodes"]} >= {"base/model", *HOSTILE_IDS}
    # the page links only the Hub id to its Hub page: the hostile ids are not Hub-shaped (README "Identity")
    urls = {n["id"]: n["_url"] for n in document["nodes"]}
    assert urls["base/model"] == "https://huggingface.co/base/model"
    assert [urls[i] for i in HOSTILE_IDS] == [None] * len(HOSTILE_IDS)
    assert document["graph"]["title"] == HOSTILE_TITLE
    assert parser.data["title"] == parser.data["heading"] == HOSTILE_TITLE
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', page)
    assert csp and "default-src 'none'" in csp.group(1) and "unsafe-inline" not in csp.group(1)


def test_every_format_accepts_ancestry_impact_both_and_a_whole_snapshot(bundled: LineageGraph) -> None:
    up = lineage_subgraph(bundled, ancestry(bundled, DEPTH3), direction="ancestry")
    down = lineage_subgraph(bundled, impact(bundled, DEPTH3), direction="impact")
    both = combine(up, down)
    whole = snapshot_subgraph(bundled, max_nodes=40, relations=["adapter"])
    assert {n.key for n in both.nodes} == {n.key for n in up.nodes} | {n.key for n in down.nodes}
    assert {e.relation for e in whole.edges} == {"adapter"} and whole.shown == 40
    for name, fmt in GRAPH_FORMATS.items():
        if name in ("svg", "png"):
            continue  # rendered by Graphviz from the DOT source checked here; drawn in test_export
        for drawn in (up, down, both, whole):
            if name == "cyclonedx" and drawn is whole:
                with pytest.raises(ExportError, match="describes one model"):
                    fmt.render(drawn, title="t")
                continue
            assert fmt.render(drawn, title="t"), name


# --- choosing a format and a target --------------------------------------------------------------------

def test_each_registry_entry_names_its_format_and_extensions_as_the_format_class_does() -> None:
    from ptmgraph.formats.registry import FORMAT_ENTRIES

    assert [e.name for e in FORMAT_ENTRIES] == list(GRAPH_FORMATS)
    for entry in FORMAT_ENTRIES:
        fmt = GRAPH_FORMATS[entry.name]
        assert (fmt.name, fmt.extensions) == (entry.name, entry.extensions)
        assert type(fmt).__module__ == entry.module and GRAPH_FORMATS[entry.name] is fmt  # loaded once


def test_the_file_name_chooses_the_format_and_a_clash_is_an_error() -> None:
    assert choose_format(None, Path("g.png")).name == "png"
    assert choose_format(None, Path("G.GRAPHML")).name == "graphml"
    assert choose_format(None, Path("bom.cdx.json")).name == "cyclonedx"
    assert choose_format(None, Path("graph.json")).name == "json"
    assert choose_format(None, None).name == "svg"
    assert choose_format("mermaid", Path("-")).name == "mermaid"
    assert choose_format("png", Path("picture.bin")).name == "png"  # no format claims .bin
    with pytest.raises(ExportError, match="file name says svg but --format says png"):
        choose_format("png", Path("g.svg"))
    with pytest.raises(ExportError, match="cannot tell the format"):
        choose_format(None, Path("graph.bin"))


def test_rankdir_sets_the_direction_of_laid_out_formats(
    llama_impact: tuple[DrawnGraph, dict[str, tuple[int, str]]]
) -> None:
    drawn, _ = llama_impact
    assert "flowchart TB" in graph_format("mermaid").render(drawn, title="t", rankdir="TB").decode()
    assert "rankdir=RL" in graph_format("dot").render(drawn, title="t", rankdir="RL").decode()
    assert "rankdir=LR" in graph_format("dot").render(drawn, title="t").decode()  # impact: depth runs across
    with pytest.raises(ExportError, match="unsupported rankdir 'XX'"):
        graph_format("html").render(drawn, title="t", rankdir="XX")


def test_the_picture_cap_keeps_at_most_eight_per_depth_nearest_and_the_top_of_each_relation_first(
    bundled: LineageGraph,
) -> None:
    result = impact(bundled, "meta-llama/Llama-2-7b")
    rows = {r["id"]: r for r in result.rows.iter_rows(named=True)}
    drawn = lineage_subgraph(bundled, result, direction="impact", max_nodes=32, max_per_depth=8)
    kept = [n for n in drawn.nodes if n.kind == "model"]
    per_depth = Counter(n.depth for n in kept)
    assert max(per_depth.values()) == 8 and len(kept) <= 32
    assert all(rows[n.id]["via"] == "meta-llama/Llama-2-7b" or rows[n.id]["via"] in {k.id for k in kept} for n in kept)
    # depth 1: every relation there, each by its most downloaded children (unknown counts last, ties by id)
    children = [r for r in rows.values() if r["depth"] == 1]
    relations = {r["relation"] for r in children}
    assert 1 < len(relations) <= 8
    shown = [n for n in kept if n.depth == 1]
    assert {n.relation for n in shown} == relations
    for relation in relations:
        ranked = sorted((r for r in children if r["relation"] == relation),
                        key=lambda r: (r["downloads"] is None, -(r["downloads"] or 0), r["id"]))
        mine = [n.id for n in shown if n.relation == relation]
        assert mine == [r["id"] for r in ranked[: len(mine)]], relation
    hidden = [i for n in drawn.nodes if n.kind == "more" for i in n.hidden_ids]
    assert sorted(hidden + [n.id for n in kept]) == sorted(rows)
    assert "at most 8 per depth" in drawn.caption


@pytest.mark.parametrize("name", ["graphml", "gexf", "json"])
def test_the_whole_snapshot_as_a_data_file_reads_back_as_networkx_holds_it(name: str, bundled: LineageGraph) -> None:
    """Every node and edge of the bundled snapshot, with every attribute, as networkx's graph of it has them."""
    drawn = snapshot_subgraph(bundled, max_nodes=10**9)
    flat = name != "json"
    graph = read_back(name, graph_format(name).render(drawn, title="The snapshot"))
    assert set(graph.nodes) == set(bundled.graph.nodes) and set(graph.edges) == set(bundled.graph.edges)
    for model_id in bundled.graph.nodes:
        assert dict(graph.nodes[model_id]) == expected_node(bundled, model_id, "model", 0, None, flat), model_id
    for base, child in bundled.graph.edges:
        found = {k: v for k, v in graph.edges[base, child].items() if k != "id"}  # GEXF adds an edge id
        assert found == expected_edge(bundled, base, child, flat), (base, child)
