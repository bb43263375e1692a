"""The HTML explorer in a real browser: Debian's chromium (installed by ``scripts/run``), driven by
Playwright without any browser download, at 1280 x 800. Opens the files ``ptmgraph explore`` writes,
checks what is drawn, clicks clusters and models, reads the panel, filters, searches and re-focuses,
and saves screenshots under ``outputs/``."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import polars as pl
import pytest
from PIL import Image
from playwright.sync_api import Page, sync_playwright
from test_formats import HOSTILE_TITLE, make_hostile_drawn
from typer.testing import CliRunner

from ptmgraph.analyses.lineage import impact
from ptmgraph.cli import app
from ptmgraph.formats import graph_format, lineage_subgraph
from ptmgraph.graph import LineageGraph

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
LLAMA_CHAT = "meta-llama/Llama-2-7b-chat-hf"
GEMMA = "google/gemma-7b"
OUTPUTS = Path(__file__).resolve().parents[1] / "outputs"
SCREENSHOT = OUTPUTS / "explorer-screenshot.png"
VIEWPORT = {"width": 1280, "height": 800}


def explore(tmp: Path, *args: str) -> Path:
    """``ptmgraph explore ARGS --out FILE``, as a user runs it."""
    target = tmp / "explore.html"
    result = CliRunner().invoke(app, ["explore", *args, "--out", str(target)], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return target


@pytest.fixture
def page(tmp_path: Path) -> Page:
    assert Path(CHROMIUM).is_file() or shutil.which("chromium"), (
        "chromium is not installed: 'bash scripts/run test' installs it (apt-get install chromium)"
    )
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, args=FLAGS, viewport=VIEWPORT,
        )
        try:
            opened = context.new_page()
            opened.set_default_timeout(120_000)  # waits only: a loaded 2-core machine draws slowly, never wrongly
            yield opened
        finally:
            context.close()


class Watch:
    """What the page fetched and complained about (CSP violations and script errors are console errors)."""

    def __init__(self, page: Page) -> None:
        self.problems: list[str] = []
        self.requests: list[str] = []
        page.on("pageerror", lambda e: self.problems.append(str(e)))
        page.on("console", lambda m: self.problems.append(m.text) if m.type in ("error", "warning") else None)
        page.on("request", lambda r: self.requests.append(r.url))

    def check(self) -> None:
        assert not [r for r in self.requests if not r.startswith("file:")], self.requests  # nothing fetched
        # software WebGL's own performance notes ("GPU stall due to ReadPixels") are not page problems
        assert not [p for p in self.problems if not re.search(r"deprecated|GL Driver Message", p)], self.problems


def open_page(page: Page, target: Path) -> int:
    """Load ``target``; the milliseconds from navigation to the first drawing (measured by the page)."""
    page.goto(target.as_uri())
    page.wait_for_selector("body[data-ready=true]", timeout=60_000)
    return int(page.get_attribute("body", "data-first-render-ms") or -1)


def shot(page: Page, name: str) -> None:
    OUTPUTS.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUTS / name))
    assert (OUTPUTS / name).stat().st_size > 10_000


def on_screen(page: Page, element_id: str) -> list[float] | None:
    """The page coordinates of a drawn element's centre, if it lies inside the drawing area."""
    return page.evaluate("""(id) => {
        const cy = window.ptmgraphExplorer, box = document.getElementById('cy').getBoundingClientRect();
        const n = cy.getElementById(id);
        if (!n.length) return null;
        const p = n.renderedPosition(), x = p.x + box.left, y = p.y + box.top;
        return x > box.left && x < box.right && y > box.top && y < box.bottom ? [x, y] : null;
    }""", element_id)


def settle(page: Page) -> None:
    page.wait_for_function("() => !window.ptmgraphExplorer.animated()")


def label_of(page: Page, element_id: str) -> str:
    return str(page.evaluate("(id) => window.ptmgraphExplorer.getElementById(id).data('shown')", element_id))


def test_gemma_impact_opens_in_clusters_expands_searches_and_refocuses(
    page: Page, bundled: LineageGraph, tmp_path: Path
) -> None:
    # the raw edges: gemma-7b's direct children by relation, and all its descendants
    edges = bundled.snapshot.edges.unique(["base", "child"])
    children = edges.filter(pl.col("base") == GEMMA)
    adapters = children.filter(pl.col("relation") == "adapter")["child"].to_list()
    assert len(adapters) > 1000
    downloads = dict(bundled.snapshot.models.select("id", "downloads").iter_rows())
    # an adapter far down the list (fewest downloads), whose id is no part of another id
    ids = set(pl.concat([edges["base"], edges["child"]]).to_list())
    hidden = next(a for a in sorted(adapters, key=lambda a: (downloads.get(a) or -1, a))
                  if not any(a.lower() in other.lower() for other in ids if other != a))

    watch = Watch(page)
    first_render_ms = open_page(page, explore(tmp_path, GEMMA))
    print(f"first render of {GEMMA}'s explorer: {first_render_ms} ms")
    assert 0 < first_render_ms < 20_000  # a generous bound; README states the measured time
    data = json.loads(page.eval_on_selector("#graph-data", "e => e.textContent"))
    assert len(data["nodes"]) == 1 + 3564  # every model of the impact set travels in the file
    drawn = page.evaluate("window.ptmgraphExplorer.nodes().length")
    assert drawn < 60  # but only clusters and a few models are drawn
    # the first view: readable labels (12 px boxes at zoom >= 11/12), the focus and its clusters on screen
    assert page.evaluate("window.ptmgraphExplorer.zoom()") * 12 >= 11
    assert on_screen(page, f"m:{GEMMA}")
    cluster = "c:1|adapter"
    assert label_of(page, cluster) == f"adapter × {len(adapters):,}"
    assert on_screen(page, cluster)
    for relation in set(children["relation"].to_list()) - {"adapter"}:
        count = children.filter(pl.col("relation") == relation).height
        shown = label_of(page, f"c:1|{relation}") if count > 5 else ""
        assert count <= 5 or shown == f"{relation} × {count:,}", (relation, shown)
    shot(page, "explorer-gemma-first-view.png")

    # click the adapter cluster: the 25 most downloaded adapters are drawn, the cluster counts the rest
    x, y = on_screen(page, cluster) or (0, 0)
    page.mouse.click(x, y)
    settle(page)
    assert label_of(page, cluster) == f"adapter × {len(adapters) - 25:,}"
    top = sorted(adapters, key=lambda a: (-(downloads.get(a) if downloads.get(a) is not None else -1), a))[:25]
    drawn_models = page.evaluate("window.ptmgraphExplorer.nodes('[kind = \"model\"]').map(n => n.data('model'))")
    assert [m for m in drawn_models if m in set(adapters)] == top
    assert page.inner_text("#panel h2") == f"adapter × {len(adapters):,}"
    assert "depth 1 below the focus" in page.inner_text("#panel")
    shot(page, "explorer-gemma-expanded.png")

    # search an adapter that is still inside the cluster: it is drawn, centred, zoomed in and selected
    page.fill("#search", hidden.upper())
    assert page.inner_text("#search-count") == "1 found"
    settle(page)
    assert on_screen(page, f"m:{hidden}")
    assert page.evaluate("window.ptmgraphExplorer.zoom()") >= 1.2
    assert page.inner_text("#panel h2") == hidden
    assert page.inner_text("#panel .where") == f"depth 1 below the focus ({GEMMA})"
    assert label_of(page, cluster) == f"adapter × {len(adapters) - 26:,}"
    shot(page, "explorer-gemma-search.png")

    # re-focus on the adapter: its own lineage, gemma-7b one above it
    page.click("#refocus")
    settle(page)
    assert page.inner_text("#view-focus").startswith(f"Focused on {hidden} ")
    shot(page, "explorer-gemma-refocused.png")
    gx, gy = on_screen(page, f"m:{GEMMA}") or (0, 0)
    page.mouse.click(gx, gy)
    assert page.inner_text("#panel .where") == f"depth 1 above the focus ({hidden})"
    shot(page, "explorer-gemma-refocused.png")
    page.click("#back")
    assert page.inner_text("#view-focus") == "" and label_of(page, cluster) == f"adapter × {len(adapters):,}"
    watch.check()


def test_the_explorer_shows_a_clicked_models_record_evidence_and_filters(
    page: Page, bundled: LineageGraph, tmp_path: Path
) -> None:
    watch = Watch(page)
    open_page(page, explore(tmp_path, LLAMA_CHAT))
    data = json.loads(page.eval_on_selector("#graph-data", "e => e.textContent"))
    # open the finetunes of depth 1; then a model drawn on screen with a recorded edge from the focus
    x, y = on_screen(page, "c:1|finetune") or (0, 0)
    page.mouse.click(x, y)
    settle(page)
    children = {e["target"] for e in data["edges"] if e["source"] == LLAMA_CHAT}
    drawn = page.evaluate("""() => window.ptmgraphExplorer.nodes('[kind = "model"]').map(n => n.data('model'))""")
    model_id, (x, y) = next((m, xy) for m in drawn if m in children and (xy := on_screen(page, f"m:{m}")))
    page.mouse.click(x, y)
    page.wait_for_function("() => document.querySelector('#panel h2') !== null")
    panel = page.inner_text("#panel")
    assert panel.splitlines()[0] == model_id
    assert "Open on the Hugging Face Hub" in panel and "Edges in" in panel
    edge = next(e for e in data["edges"] if e["target"] == model_id and e["source"] == LLAMA_CHAT)
    assert f"{LLAMA_CHAT} → {model_id}" in panel
    assert f"rule: {edge['relation_rule']}" in panel
    assert f"parent confidence: {edge['parent_confidence']}" in panel
    assert f"relation confidence: {edge['relation_confidence']}" in panel
    assert all(ev["kind"] in panel for ev in edge.get("evidence", []))
    assert page.get_attribute("#panel a", "href") == "https://huggingface.co/" + model_id
    assert page.evaluate("window.ptmgraphExplorer.elements('.path').length") == 3  # focus, edge, model
    shot(page, SCREENSHOT.name)

    # filter by relation: no quantized models or clusters are drawn
    page.uncheck("#relations input[data-relation=quantized]")
    assert not page.evaluate(
        "window.ptmgraphExplorer.nodes().filter(n => (n.data('cluster') || '').endsWith('|quantized')"
        " || (n.data('model') && n.data('model').toLowerCase().includes('gptq'))).length")
    # filter by depth: depth 1 only
    page.check("#relations input[data-relation=quantized]")
    page.fill("#depth", "1")
    page.dispatch_event("#depth", "input")
    xs = page.evaluate("window.ptmgraphExplorer.nodes().map(n => n.position('x'))")
    assert len(set(xs)) == 2  # the focus's column and depth 1's
    watch.check()


def test_hostile_ids_are_shown_as_text_in_the_explorer(page: Page, tmp_path: Path) -> None:
    target = tmp_path / "hostile.html"
    target.write_bytes(graph_format("html").render(make_hostile_drawn(), title=HOSTILE_TITLE))
    watch = Watch(page)
    page.add_init_script("window.alert = () => { document.title = 'ALERTED'; };")
    open_page(page, target)
    page.fill("#search", "<script>")
    assert page.inner_text("#search-count") == "1 found"
    assert page.inner_text("#panel h2") == "evil/<script>alert(1)</script>"
    page.fill("#search", "xxxxxxxxxx")
    width = page.evaluate(
        "[document.querySelector('#panel h2').scrollWidth, document.getElementById('panel').clientWidth]")
    assert width[0] <= width[1]  # the 505-character id wraps inside the panel
    assert page.title() == HOSTILE_TITLE and page.evaluate("document.querySelectorAll('script[src]').length") == 0
    watch.check()


def test_a_bidi_control_in_an_id_is_escaped_in_the_file_and_shown_as_a_code_point(page: Page, tmp_path: Path) -> None:
    from test_export import tiny_snapshot

    spoof = "evil/model\u202egpj.exe"  # shows as "evil/modelexe.jpg" if the control is obeyed
    lg = LineageGraph(tiny_snapshot([{"id": "base/model"}, {"id": spoof}], [("base/model", spoof, "finetune")]))
    target = tmp_path / "bidi.html"
    target.write_bytes(graph_format("html").render(
        lineage_subgraph(lg, impact(lg, "base/model"), direction="impact"), title="t"))
    assert "\u202e" not in target.read_text(encoding="utf-8")  # not one raw control in the file
    watch = Watch(page)
    open_page(page, target)
    assert label_of(page, f"m:{spoof}") == "evil/model[U+202E]gpj.exe"
    page.fill("#search", "gpj")
    assert page.inner_text("#panel h2") == "evil/model[U+202E]gpj.exe"
    assert page.query_selector("#panel a") is None  # not a Hub-shaped id: no Hub link (README "Identity")
    watch.check()


def test_explore_all_draws_the_whole_snapshot_with_webgl_and_finds_a_model(
    page: Page, bundled: LineageGraph, tmp_path: Path
) -> None:
    snapshot = bundled.snapshot
    models = set(snapshot.models["id"].to_list()) | set(snapshot.edges["base"].to_list()) | set(
        snapshot.edges["child"].to_list())
    watch = Watch(page)
    first_render_ms = open_page(page, explore(tmp_path, "--all"))
    print(f"first render of the whole snapshot: {first_render_ms} ms")
    assert 0 < first_render_ms < 20_000
    assert page.evaluate("window.ptmgraphExplorer.graph.order") == len(models) == 6810
    assert page.evaluate("document.querySelectorAll('#cy canvas').length") >= 2  # sigma's WebGL layers
    # coloured by the relation into a model, sized by reach: gemma-7b over one of its adapters that has no children
    edges = snapshot.edges
    leaf = sorted(set(edges.filter((pl.col("base") == GEMMA) & (pl.col("relation") == "adapter"))["child"].to_list())
                  - set(edges["base"].to_list()))[0]
    attrs = page.evaluate("(ids) => ids.map(id => window.ptmgraphExplorer.graph.getNodeAttributes(id))", [GEMMA, leaf])
    assert attrs[0]["size"] > 4 * attrs[1]["size"]
    swatch = page.evaluate("""() => [...document.querySelectorAll('#relations label')]
        .filter(l => l.textContent === 'adapter')
        .map(l => getComputedStyle(l.querySelector('.dot')).backgroundColor)""")
    assert swatch and attrs[1]["color"].lower() == "#{:02x}{:02x}{:02x}".format(
        *map(int, re.findall(r"\d+", swatch[0])[:3]))
    shot(page, "explorer-all.png")
    picture = Image.open(OUTPUTS / "explorer-all.png").convert("RGB").crop((0, 100, 900, 800))
    colours = picture.getcolors(maxcolors=1 << 20) or []
    assert sum(n for n, c in colours if c != (255, 255, 255)) > 20_000  # the models are drawn

    query = "google/gemma-7b-it"
    downloads = dict(snapshot.models.select("id", "downloads").iter_rows())
    found = sorted((m for m in models if query in m.lower()), key=lambda m: (-(downloads.get(m) or -1), m))
    target = found[0]
    page.fill("#search", query)
    assert page.inner_text("#search-count").startswith(f"{len(found)} found")
    centred = """(id) => {
        const s = window.ptmgraphExplorer.sigma, p = s.graphToViewport(s.getGraph().getNodeAttributes(id));
        const w = s.getContainer().clientWidth, h = s.getContainer().clientHeight;
        return Math.abs(p.x - w / 2) < 5 && Math.abs(p.y - h / 2) < 5 && s.getCamera().getState().ratio < 0.1
            ? [p.x, p.y] : null;
    }"""
    page.wait_for_function(centred, arg=target, timeout=10_000)  # the camera moves there and zooms in
    where = page.evaluate(centred, target)
    shot(page, "explorer-all-search.png")
    assert page.inner_text("#panel h2") == target
    box = page.locator("#cy").bounding_box() or {"x": 0, "y": 0}
    page.mouse.click(box["x"] + where[0], box["y"] + where[1])
    assert page.inner_text("#panel h2") == target
    assert page.get_attribute("#panel a", "href") == "https://huggingface.co/google/gemma-7b-it"
    watch.check()


MERMAID_JS = Path(__file__).resolve().parents[1] / "js" / "node_modules" / "mermaid" / "dist" / "mermaid.min.js"


def render_mermaid(page: Page, text: str) -> dict[str, object]:
    """Mermaid's own renderer (the npm package GitHub's is built on), in the browser, on ``text``."""
    assert MERMAID_JS.is_file(), f"{MERMAID_JS} missing: 'bash scripts/run test' installs it (npm ci in js/)"
    page.set_content("<html><body><div id='out'></div></body></html>")
    page.add_script_tag(path=str(MERMAID_JS))
    return page.evaluate("""async (text) => {
        mermaid.initialize({startOnLoad: false, securityLevel: 'strict'});
        const {svg} = await mermaid.render('graph', text);
        const out = document.getElementById('out');
        out.innerHTML = svg;
        return {nodes: out.querySelectorAll('g.node').length, edges: out.querySelectorAll('path.flowchart-link').length,
                scripts: out.querySelectorAll('script, foreignObject script, [onerror], [onload]').length,
                text: out.textContent};
    }""", text)


def test_mermaid_output_renders_with_mermaid_even_with_hostile_ids(page: Page, bundled: LineageGraph) -> None:
    result = impact(bundled, LLAMA_CHAT)
    drawn = lineage_subgraph(bundled, result, direction="impact", max_nodes=32, max_per_depth=8)
    rendered = render_mermaid(page, graph_format("mermaid").render(drawn, title=result.title).decode())
    assert rendered["nodes"] == len(drawn.nodes)
    assert rendered["edges"] == len(drawn.edges)
    assert LLAMA_CHAT in str(rendered["text"])

    hostile = make_hostile_drawn()
    rendered = render_mermaid(page, graph_format("mermaid").render(hostile, title=HOSTILE_TITLE).decode())
    assert rendered["nodes"] == len(hostile.nodes) and rendered["scripts"] == 0
    text = str(rendered["text"])
    for shown in ("evil/<script>alert(1)</script>", 'evil/"quoted"\\back\\slash\\', "<b>html-like</b>",
                  "evil/{brace}|pipe<", "evil/line\\x0abreak\\N", 'we"ird\\rel<x>'):
        assert shown in text, shown
