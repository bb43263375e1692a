"""The HTML explorer in a real browser: Debian's chromium (installed by ``scripts/run``), driven by
Playwright without any browser download. Loads the file, checks that the models are drawn, clicks
one, reads the panel, filters and searches, and saves a screenshot under ``outputs/``."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright
from test_formats import HOSTILE_TITLE, make_hostile_drawn

from analyses import impact
from ptmgraph.formats import graph_format, lineage_subgraph
from ptmgraph.graph import LineageGraph

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
LLAMA_CHAT = "meta-llama/Llama-2-7b-chat-hf"
SCREENSHOT = Path(__file__).resolve().parents[1] / "outputs" / "explorer-screenshot.png"


@pytest.fixture(scope="module")
def page_file(bundled: LineageGraph, tmp_path_factory: pytest.TempPathFactory) -> Path:
    result = impact(bundled, LLAMA_CHAT)
    drawn = lineage_subgraph(bundled, result, direction="impact", max_nodes=60)
    target = tmp_path_factory.mktemp("explorer") / "impact.html"
    target.write_bytes(graph_format("html").render(drawn, title=result.title))
    return target


@pytest.fixture
def page(tmp_path: Path) -> Page:
    assert Path(CHROMIUM).is_file() or shutil.which("chromium"), (
        "chromium is not installed: 'bash scripts/run test' installs it (apt-get install chromium)"
    )
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, args=FLAGS,
            viewport={"width": 1400, "height": 860},
        )
        try:
            yield context.new_page()
        finally:
            context.close()


def test_the_explorer_draws_the_models_and_shows_a_clicked_models_record(page: Page, page_file: Path) -> None:
    problems: list[str] = []
    requests: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("request", lambda r: requests.append(r.url))

    page.goto(page_file.as_uri())
    page.wait_for_selector("body[data-ready=true]", timeout=30_000)
    data = json.loads(page.inner_text("#graph-data") or page.eval_on_selector("#graph-data", "e => e.textContent"))
    assert page.evaluate("window.ptmgraphExplorer.nodes().length") == len(data["nodes"]) == 1 + 60 + sum(
        1 for n in data["nodes"] if n["kind"] == "more")
    assert page.evaluate("window.ptmgraphExplorer.edges().length") == len(data["edges"])
    canvas = page.locator("#cy canvas").first.bounding_box()
    assert canvas and canvas["width"] > 500 and canvas["height"] > 500

    # the models on screen, as the browser drew them: pick one whose box lies inside the view
    on_screen = page.evaluate("""() => {
        const cy = window.ptmgraphExplorer, box = document.getElementById('cy').getBoundingClientRect();
        return cy.nodes().filter(n => n.data('kind') === 'model').map(n => {
            const p = n.renderedPosition();
            return [n.id(), p.x + box.left, p.y + box.top];
        }).filter(([, x, y]) => x > box.left + 20 && x < box.right - 20 && y > box.top + 20 && y < box.bottom - 20);
    }""")
    assert len(on_screen) >= 5, on_screen
    model_id, x, y = on_screen[0]
    page.mouse.click(x, y)
    page.wait_for_function("document.querySelector('#panel h2') !== null")
    panel = page.inner_text("#panel")
    assert panel.splitlines()[0] == model_id
    assert "Open on the Hugging Face Hub" in panel and "Edges in" in panel
    edge = next(e for e in data["edges"] if e["target"] == model_id)
    assert f"{edge['source']} → {model_id}" in panel
    assert f"rule: {edge['relation_rule']}" in panel
    assert f"parent confidence: {edge['parent_confidence']}" in panel
    assert f"relation confidence: {edge['relation_confidence']}" in panel
    assert all(ev["kind"] in panel for ev in edge.get("evidence", []))
    link = page.get_attribute("#panel a", "href")
    assert link == "https://huggingface.co/" + model_id
    assert page.evaluate("window.ptmgraphExplorer.elements('.path').length") == 3  # focus, edge, model

    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))
    assert SCREENSHOT.stat().st_size > 10_000

    # search by id
    org = model_id.split("/")[0]
    page.fill("#search", org.upper())
    expected = sum(1 for n in data["nodes"] if org.lower() in n["id"].lower())
    assert expected and page.inner_text("#search-count") == f"{expected} found"
    # filter by relation: hide the quantized ones
    page.uncheck("#relations input[data-relation=quantized]")
    hidden = page.evaluate("window.ptmgraphExplorer.nodes().filter(n => n.style('display') === 'none').length")
    assert hidden == sum(1 for n in data["nodes"] if n.get("relation") == "quantized")
    # filter by depth: depth 1 only
    page.check("#relations input[data-relation=quantized]")
    page.fill("#depth", "1")
    page.dispatch_event("#depth", "input")
    shown = page.evaluate("window.ptmgraphExplorer.nodes().filter(n => n.style('display') !== 'none').length")
    assert shown == sum(1 for n in data["nodes"] if n["depth"] <= 1)

    assert not [r for r in requests if not r.startswith("file:")], requests  # nothing fetched
    assert not [p for p in problems if not re.search(r"deprecated", p)], problems  # CSP and script errors


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
