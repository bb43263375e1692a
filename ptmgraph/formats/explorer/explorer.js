// The explorer: reads the node-link JSON of #graph-data and draws it with cytoscape + dagre.
// Every string from the data is shown with textContent, never parsed as markup.
(function () {
  "use strict";
  var doc = JSON.parse(document.getElementById("graph-data").textContent);
  var info = doc.graph || {};
  var focusId = info.focus;

  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (attrs) Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }
  function hubUrl(id) {
    return "https://huggingface.co/" + String(id).split("/").map(encodeURIComponent).join("/");
  }
  function shortLabel(n) {
    var text = n.kind === "more" ? n.label : n.id;
    text = String(text);
    return text.length > 60 ? text.slice(0, 59) + "\u2026" : text;
  }

  var elements = [];
  doc.nodes.forEach(function (n) {
    elements.push({ group: "nodes", data: { id: String(n.id), kind: n.kind, shown: shortLabel(n), record: n } });
  });
  doc.edges.forEach(function (e, i) {
    elements.push({ group: "edges", data: { id: "e" + i, source: String(e.source), target: String(e.target),
      record: e } });
  });

  var cy = cytoscape({
    container: document.getElementById("cy"),
    elements: elements,
    style: [
      { selector: "node", style: {
        "shape": "round-rectangle", "label": "data(shown)", "font-size": 11, "text-valign": "center",
        "text-halign": "center", "padding": 6, "height": 16,
        "width": function (n) { return Math.max(40, n.data("shown").length * 6.4); },
        "background-color": function (n) { return n.data("record")._fill; },
        "border-color": function (n) { return n.data("record")._outline; },
        "border-width": 2,
        "border-style": function (n) { return n.data("record").has_record === false ? "dashed" : "solid"; } } },
      { selector: "node[kind = 'focus']", style: { "border-width": 4, "font-weight": "bold" } },
      { selector: "node[kind = 'more']", style: { "shape": "rectangle", "border-style": "dashed",
        "color": "#333" } },
      { selector: "edge", style: {
        "curve-style": "bezier", "target-arrow-shape": "triangle", "arrow-scale": 0.8,
        "line-color": function (e) { return e.data("record")._color; },
        "target-arrow-color": function (e) { return e.data("record")._color; },
        "line-style": function (e) { return e.data("record")._line; },
        "width": function (e) { return e.data("record")._width; } } },
      { selector: ".match", style: { "overlay-color": "#D55E00", "overlay-opacity": 0.35, "overlay-padding": 4 } },
      { selector: ".path", style: { "underlay-color": "#D55E00", "underlay-opacity": 0.5, "underlay-padding": 5 } },
      { selector: "node:selected", style: { "border-color": "#D55E00", "border-width": 4 } },
      { selector: ".faded", style: { "opacity": 0.25 } }
    ],
    layout: { name: "dagre", rankDir: info.rankdir || "LR",
      nodeSep: 8, rankSep: 60, animate: false }
  });
  window.ptmgraphExplorer = cy;  // for tests and the browser console

  // --- filters: relation and depth ---------------------------------------------------------------
  var relations = {};
  doc.edges.forEach(function (e) { if (!e.summary) relations[String(e.relation)] = e._color; });
  var hiddenRelations = {};
  var relationBox = document.getElementById("relations");
  relationBox.appendChild(el("span", "Relations: "));
  Object.keys(relations).sort().forEach(function (rel) {
    var label = el("label");
    var box = el("input", null, { type: "checkbox" });
    box.checked = true;
    box.dataset.relation = rel;
    box.addEventListener("change", function () { hiddenRelations[rel] = !box.checked; applyFilters(); });
    var swatch = el("span", null, { "class": "swatch" });
    swatch.style.borderTopColor = relations[rel];
    label.appendChild(box);
    label.appendChild(swatch);
    label.appendChild(document.createTextNode(rel));
    relationBox.appendChild(label);
  });
  var maxDepth = 0;
  doc.nodes.forEach(function (n) { if (typeof n.depth === "number" && n.depth > maxDepth) maxDepth = n.depth; });
  var depthInput = document.getElementById("depth");
  var depthValue = document.getElementById("depth-value");
  depthInput.max = String(maxDepth);
  depthInput.value = String(maxDepth);
  depthInput.addEventListener("input", applyFilters);

  function applyFilters() {
    var limit = Number(depthInput.value);
    depthValue.textContent = String(limit);
    cy.batch(function () {
      cy.nodes().forEach(function (n) {
        var r = n.data("record");
        var hide = r.kind !== "focus" && (r.depth > limit || (r.relation && hiddenRelations[r.relation]));
        n.style("display", hide ? "none" : "element");
      });
      cy.edges().forEach(function (e) {
        var r = e.data("record");
        e.style("display", !r.summary && hiddenRelations[r.relation] ? "none" : "element");
      });
    });
  }

  // --- search ------------------------------------------------------------------------------------
  var search = document.getElementById("search");
  var searchCount = document.getElementById("search-count");
  search.addEventListener("input", function () {
    var q = search.value.trim().toLowerCase();
    cy.nodes().removeClass("match");
    if (!q) { searchCount.textContent = ""; return; }
    var found = cy.nodes().filter(function (n) { return n.id().toLowerCase().indexOf(q) >= 0; });
    found.addClass("match");
    searchCount.textContent = found.length + " found";
    if (found.length) cy.animate({ center: { eles: found[0] }, duration: 200 });
  });
  function fitAll() {  // everything in view, but a small graph no larger than life
    cy.fit(undefined, 20);
    if (cy.zoom() > 1.2) { cy.zoom(1.2); cy.center(); }
  }
  document.getElementById("fit").addEventListener("click", fitAll);

  // --- the panel and the path from the focus -----------------------------------------------------
  var panel = document.getElementById("panel");
  var SKIP = { id: 1, label: 1, _fill: 1, _outline: 1 };

  function table(record, skip) {
    var t = el("table");
    Object.keys(record).sort().forEach(function (k) {
      if (skip[k]) return;
      var v = record[k];
      if (v === null || v === undefined) return;
      var row = el("tr");
      row.appendChild(el("td", k));
      row.appendChild(el("td", typeof v === "object" ? JSON.stringify(v) : v));
      t.appendChild(row);
    });
    return t;
  }

  function edgeSection(title, edges) {
    if (!edges.length) return;
    panel.appendChild(el("h3", title));
    edges.forEach(function (e) {
      var r = e.data("record");
      if (r.summary) return;
      var line = el("p");
      line.appendChild(el("b", r.source + " \u2192 " + r.target));
      var why = [r.relation_rule ? "rule: " + r.relation_rule : "", r.parent_confidence ? "parent confidence: " + r.parent_confidence : "",
                 r.relation_confidence ? "relation confidence: " + r.relation_confidence : ""]
        .filter(Boolean).join(", ");
      line.appendChild(document.createTextNode(" " + r.relation + (why ? " (" + why + ")" : "")));
      panel.appendChild(line);
      var list = el("ul");
      (r.evidence || []).forEach(function (ev) {
        list.appendChild(el("li", [ev.kind, ev.field, ev.source ? "@ " + ev.source : "", ev.raw ? "= " + ev.raw : ""]
          .filter(Boolean).join(" ")));
      });
      if (!(r.evidence || []).length && r.evidence_kinds) list.appendChild(el("li", "kinds: " + r.evidence_kinds.join(", ")));
      panel.appendChild(list);
    });
  }

  function showPanel(node) {
    var r = node.data("record");
    panel.textContent = "";
    panel.appendChild(el("h2", r.kind === "more" ? r.label : r.id));
    if (r.kind !== "more") {
      var link = el("a", "Open on the Hugging Face Hub", { rel: "noopener noreferrer", target: "_blank" });
      link.href = hubUrl(r.id);
      panel.appendChild(link);
    } else {
      panel.appendChild(el("h3", "Hidden models"));
      var ul = el("ul");
      (r.hidden_ids || []).forEach(function (id) { ul.appendChild(el("li", id)); });
      panel.appendChild(ul);
    }
    panel.appendChild(el("h3", "Record"));
    panel.appendChild(table(r, r.kind === "more" ? { hidden_ids: 1, _fill: 1, _outline: 1 } : SKIP));
    edgeSection("Edges in", node.incomers("edge"));
    edgeSection("Edges out", node.outgoers("edge"));
  }

  function highlightPath(node) {
    cy.elements().removeClass("path");
    var focus = cy.getElementById(focusId);
    if (!focus.length || node.id() === focusId) return;
    var found = cy.elements(":visible").aStar({ root: focus, goal: node, directed: false });
    if (found.found) found.path.addClass("path");
  }

  cy.on("tap", "node", function (evt) { showPanel(evt.target); highlightPath(evt.target); });
  applyFilters();
  fitAll();
  if (cy.zoom() < 0.6) {  // too many to read at once: start readable, at the focus ("Fit" shows all)
    cy.zoom(0.9);
    cy.center(cy.getElementById(focusId));
  }
  document.body.dataset.ready = "true";
})();
