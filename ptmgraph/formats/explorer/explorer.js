// The explorer: reads the node-link JSON of #graph-data and draws a model's lineage with cytoscape.
// Depths run left to right (ancestors left of the focus, descendants right of it); the models of one
// depth are grouped by the relation of their hop into cluster nodes ("adapter × 1,337") that open
// page by page when clicked, so a file with thousands of models starts with a few dozen elements.
// Every string from the data is shown with textContent, never parsed as markup.
(function () {
  "use strict";
  var doc = JSON.parse(document.getElementById("graph-data").textContent);
  var info = doc.graph || {};
  var PAGE = 25;          // models a click on a cluster opens
  var SMALL = 5;          // a group this small is drawn model by model from the start
  var COLUMN = 380;       // px between depths
  var ROW = 34;           // px between boxes of one depth
  var FONT = 12;          // label size; the first view's zoom keeps it at >= 11 px on screen
  var MIN_ZOOM_READABLE = 11 / FONT;
  var RELATION_ORDER = info.relation_order || [];

  var el = ptmgraphPage.el, visible = ptmgraphPage.visible;
  function fmt(n) { return Number(n).toLocaleString("en-US"); }
  function clip(text, n) { text = visible(text); return text.length > n ? text.slice(0, n - 1) + "\u2026" : text; }
  function relationRank(rel) {
    var i = RELATION_ORDER.indexOf(rel);
    return i < 0 ? RELATION_ORDER.length : i;
  }

  // --- the data: models by id, edges both ways ------------------------------------------------------
  var byId = {}, out = {}, inn = {}, edgeColor = {};
  doc.nodes.forEach(function (n) { n.id = String(n.id); byId[n.id] = n; out[n.id] = []; inn[n.id] = []; });
  doc.edges.forEach(function (e) {
    e.source = String(e.source); e.target = String(e.target);
    if (!byId[e.source] || !byId[e.target]) return;
    out[e.source].push(e); inn[e.target].push(e);
    if (!e.summary) edgeColor[String(e.relation)] = e._color;
  });
  function downloads(id) { var d = byId[id].downloads; return typeof d === "number" ? d : -1; }
  function modelOrder(a, b) { return downloads(b) - downloads(a) || (a < b ? -1 : a > b ? 1 : 0); }
  var initialFocus = String(info.focus);

  // --- a view: every model of the file placed at its depth from one focus -------------------------
  // Breadth first from the focus along the file's edges: below (base -> derived) with positive levels,
  // then above (derived -> base) with negative ones. For the file's own focus the levels are the depths
  // of the analysis (the file holds that analysis' models and the edges among them).
  var view;
  function buildView(focus) {
    var level = {}, via = {}, hop = {};
    level[focus] = 0;
    function walk(sign, next, far) {
      var frontier = [focus];
      while (frontier.length) {
        var following = [];
        frontier.sort(modelOrder).forEach(function (id) {
          next[id].forEach(function (e) {
            var other = e[far];
            if (other in level) return;
            level[other] = level[id] + sign; via[other] = id;
            hop[other] = e.summary ? "more" : String(e.relation);
            following.push(other);
          });
        });
        frontier = following;
      }
    }
    walk(1, out, "target");
    walk(-1, inn, "source");
    var groups = {}, members = [];
    Object.keys(level).forEach(function (id) {
      if (id === focus) return;
      var key = level[id] + "|" + hop[id];
      (groups[key] = groups[key] || { key: key, level: level[id], relation: hop[id], ids: [] }).ids.push(id);
      members.push(id);
    });
    Object.keys(groups).forEach(function (k) { groups[k].ids.sort(modelOrder); });
    var open = {};
    Object.keys(groups).forEach(function (k) { open[k] = groups[k].ids.length <= SMALL ? groups[k].ids.length : 0; });
    return { focus: focus, level: level, via: via, hop: hop, groups: groups, open: open, pinned: {},
             outside: doc.nodes.length - 1 - members.length };
  }
  function groupOf(id) { return view.groups[view.level[id] + "|" + view.hop[id]]; }
  function isShown(id) {
    if (id === view.focus) return true;
    var g = groupOf(id);
    return !!view.pinned[id] || g.ids.indexOf(id) < view.open[g.key];
  }
  function directionText(level) {
    if (level === 0) return "the focus";
    return "depth " + Math.abs(level) + (level > 0 ? " below the focus" : " above the focus");
  }

  // --- filters: relation and depth ------------------------------------------------------------------
  var hiddenRelations = {};
  var relationBox = document.getElementById("relations");
  relationBox.appendChild(el("span", "Relations: "));
  Object.keys(edgeColor).sort(function (a, b) { return relationRank(a) - relationRank(b) || (a < b ? -1 : 1); })
    .forEach(function (rel) {
      var label = el("label");
      var box = el("input", null, { type: "checkbox" });
      box.checked = true;
      box.dataset.relation = rel;
      box.addEventListener("change", function () { hiddenRelations[rel] = !box.checked; render(); });
      var swatch = el("span", null, { "class": "swatch" });
      swatch.style.borderTopColor = edgeColor[rel];
      label.appendChild(box); label.appendChild(swatch); label.appendChild(document.createTextNode(rel));
      relationBox.appendChild(label);
    });
  var depthInput = document.getElementById("depth");
  var depthValue = document.getElementById("depth-value");
  depthInput.addEventListener("input", function () { render(); });
  function setDepthRange() {
    var max = 0;
    Object.keys(view.level).forEach(function (id) { max = Math.max(max, Math.abs(view.level[id])); });
    depthInput.max = String(max); depthInput.value = String(max);
  }
  function visibleLevel(level) { return Math.abs(level) <= Number(depthInput.value); }

  // --- drawing: the shown models and the clusters of the rest, placed by depth --------------------
  var cy = cytoscape({
    container: document.getElementById("cy"),
    style: [
      { selector: "node", style: {
        "shape": "round-rectangle", "label": "data(shown)", "font-size": FONT, "text-valign": "center",
        "text-halign": "center", "height": 22, "width": "data(width)", "color": "#1b1b1b",
        "background-color": "data(fill)", "border-color": "data(outline)", "border-width": 2,
        "border-style": "data(border)", "min-zoomed-font-size": 0 } },
      { selector: "node[kind = 'focus']", style: { "border-width": 4, "font-weight": "bold" } },
      { selector: "node[kind = 'cluster']", style: { "shape": "round-tag", "height": 26, "font-weight": "bold",
        "border-width": 3, "background-color": "#FFFFFF" } },
      { selector: "node[kind = 'more']", style: { "shape": "rectangle", "border-style": "dashed", "color": "#333" } },
      { selector: "edge", style: {
        "curve-style": "bezier", "target-arrow-shape": "triangle", "arrow-scale": 0.8,
        "line-color": "data(color)", "target-arrow-color": "data(color)", "line-style": "data(line)",
        "width": "data(width)" } },
      { selector: ".match", style: { "overlay-color": "#D55E00", "overlay-opacity": 0.35, "overlay-padding": 5 } },
      { selector: ".path", style: { "underlay-color": "#D55E00", "underlay-opacity": 0.5, "underlay-padding": 5 } },
      { selector: "node:selected", style: { "border-color": "#D55E00", "border-width": 4 } }
    ],
    layout: { name: "preset" }, minZoom: 0.05, maxZoom: 4
  });
  window.ptmgraphExplorer = cy;  // for tests and the browser console

  function representative(id) {  // the element that stands for a model: itself, or its cluster
    if (!(id in view.level)) return null;
    if (!visibleLevel(view.level[id]) || (id !== view.focus && hiddenRelations[view.hop[id]])) return null;
    return isShown(id) ? "m:" + id : "c:" + groupOf(id).key;
  }

  function render() {
    depthValue.textContent = depthInput.value;
    var columns = {};
    Object.keys(view.groups).map(function (k) { return view.groups[k]; })
      .sort(function (a, b) { return relationRank(a.relation) - relationRank(b.relation) || (a.relation < b.relation ? -1 : 1); })
      .forEach(function (g) {
        if (!visibleLevel(g.level) || hiddenRelations[g.relation]) return;
        var column = columns[g.level] = columns[g.level] || [];
        var rest = 0;
        g.ids.forEach(function (id) { if (isShown(id)) column.push({ model: id }); else rest += 1; });
        if (rest) column.push({ cluster: g, rest: rest });
      });
    columns[0] = [{ model: view.focus }];
    var elements = [];
    Object.keys(columns).forEach(function (level) {
      var column = columns[level];
      column.forEach(function (item, i) {
        var y = (i - (column.length - 1) / 2) * ROW;
        var x = Number(level) * COLUMN;
        if (item.model) {
          var r = byId[item.model];
          var text = r.kind === "more" ? clip(r.label, 70) : clip(r.id, 48);
          elements.push({ group: "nodes", position: { x: x, y: y }, data: {
            id: "m:" + r.id, model: r.id, kind: r.id === view.focus ? "focus" : r.kind === "more" ? "more" : "model",
            shown: text, width: Math.max(60, text.length * 7 + 16), fill: r.id === view.focus ? "#FFE9A8" : r._fill,
            outline: r._outline, border: r.has_record === false ? "dashed" : "solid" } });
        } else {
          var g = item.cluster;
          var label = g.relation + " \u00d7 " + fmt(item.rest);
          elements.push({ group: "nodes", position: { x: x, y: y }, data: {
            id: "c:" + g.key, cluster: g.key, kind: "cluster", shown: label, width: label.length * 7.5 + 24,
            fill: "#FFFFFF", outline: edgeColor[g.relation] || "#9A9A9A", border: "solid" } });
        }
      });
    });
    var seen = {};
    doc.edges.forEach(function (e) {
      if (!byId[e.source] || !byId[e.target]) return;
      var s = representative(e.source), t = representative(e.target);
      if (!s || !t || s === t) return;
      var key = s + "\u0000" + t;
      if (seen[key]) { seen[key].data.count += 1; return; }
      seen[key] = { group: "edges", data: { id: "e:" + key, source: s, target: t, count: 1, record: e,
        color: e._color, line: e._line, width: e._width } };
      elements.push(seen[key]);
    });
    Object.keys(seen).forEach(function (k) {
      var d = seen[k].data;
      if (d.count > 1) d.width = Math.min(8, d.width + Math.log(d.count));
    });
    cy.batch(function () { cy.elements().remove(); cy.add(elements); });
    showSearch();
  }

  // --- moving the camera ------------------------------------------------------------------------------
  function fitAll() {  // everything in view, but a small graph no larger than life
    cy.fit(undefined, 24);
    if (cy.zoom() > 1.3) { cy.zoom(1.3); cy.center(); }
  }
  function firstView() {  // readable labels: if everything fits only when small, start at the focus
    cy.resize();  // the header above may have changed height
    fitAll();
    if (cy.zoom() < MIN_ZOOM_READABLE) {
      cy.zoom(1);
      var focus = cy.getElementById("m:" + view.focus);
      var size = { w: cy.width(), h: cy.height() };
      var fx = focus.position("x"), hasAbove = false, hasBelow = false;
      cy.nodes().forEach(function (n) {
        if (n.position("x") < fx - 1) hasAbove = true;
        if (n.position("x") > fx + 1) hasBelow = true;
      });
      // the focus a little in from the left when only descendants are drawn, centred otherwise
      var x = hasAbove && hasBelow ? size.w / 2 : hasBelow ? 40 + focus.width() / 2 : size.w - 40 - focus.width() / 2;
      cy.pan({ x: x - fx, y: size.h / 2 - focus.position("y") });
    }
  }
  document.getElementById("fit").addEventListener("click", fitAll);
  function bringIntoView(element) {
    cy.animate({ center: { eles: element }, zoom: Math.max(cy.zoom(), 1.2) }, { duration: 150 });
  }

  // --- search: every model of the file, by id ------------------------------------------------------
  var search = document.getElementById("search");
  var searchCount = document.getElementById("search-count");
  var matches = [], matchAt = 0;
  function showSearch() {
    cy.nodes().removeClass("match");
    matches.forEach(function (id) { cy.getElementById("m:" + id).addClass("match"); });
  }
  function goToMatch() {
    if (!matches.length) return;
    var id = matches[matchAt % matches.length];
    if (!(id in view.level)) return;
    for (var at = id; at !== view.focus; at = view.via[at]) view.pinned[at] = true;  // open it and its path
    var level = Math.abs(view.level[id]);
    if (Number(depthInput.value) < level) depthInput.value = String(level);
    if (hiddenRelations[view.hop[id]]) {
      hiddenRelations[view.hop[id]] = false;
      relationBox.querySelector("input[data-relation='" + CSS.escape(view.hop[id]) + "']").checked = true;
    }
    render();
    var node = cy.getElementById("m:" + id);
    cy.nodes().unselect(); node.select();
    showPanel(node); highlightPath(node);
    bringIntoView(node);
  }
  search.addEventListener("input", function () {
    var q = search.value.trim().toLowerCase();
    matches = []; matchAt = 0;
    if (q) {
      matches = Object.keys(view.level).filter(function (id) { return id.toLowerCase().indexOf(q) >= 0; });
      matches.sort(function (a, b) { return Math.abs(view.level[a]) - Math.abs(view.level[b]) || modelOrder(a, b); });
    }
    searchCount.textContent = q ? matches.length + " found" + (matches.length > 1 ? " (Enter: next)" : "") : "";
    showSearch();
    goToMatch();
  });
  search.addEventListener("keydown", function (evt) {
    if (evt.key === "Enter" && matches.length) { matchAt += 1; goToMatch(); }
  });

  // --- the panel ----------------------------------------------------------------------------------------
  var panel = document.getElementById("panel");
  var SKIP = { id: 1, label: 1, _fill: 1, _outline: 1, _url: 1, depth: 1, kind: 1 };
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
  function button(text, action, id) {
    var b = el("button", text, { type: "button" });
    if (id) b.id = id;
    b.addEventListener("click", action);
    return b;
  }
  function edgeSection(title, edges) {
    edges = edges.filter(function (e) { return !e.summary; });
    if (!edges.length) return;
    panel.appendChild(el("h3", title));
    edges.slice(0, 50).forEach(function (r) {
      var line = el("p");
      line.appendChild(el("b", visible(r.source) + " \u2192 " + visible(r.target)));
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
    if (edges.length > 50) panel.appendChild(el("p", "\u2026 and " + fmt(edges.length - 50) + " more", { "class": "hint" }));
  }
  function showModel(id) {
    var r = byId[id];
    panel.textContent = "";
    panel.appendChild(el("h2", visible(r.kind === "more" ? r.label : r.id)));
    panel.appendChild(el("p", directionText(view.level[id]) + (id === view.focus ? "" : " (" + visible(view.focus) + ")"),
      { "class": "where" }));
    if (r.kind !== "more") {
      if (r._url) panel.appendChild(ptmgraphPage.hubLink(r._url));
      if (id !== view.focus) panel.appendChild(button("Focus on this model", function () { refocus(id); }, "refocus"));
    } else {
      panel.appendChild(el("h3", "Hidden models"));
      var ul = el("ul");
      (r.hidden_ids || []).forEach(function (h) { ul.appendChild(el("li", h)); });
      panel.appendChild(ul);
    }
    panel.appendChild(el("h3", "Record"));
    panel.appendChild(table(r, r.kind === "more" ? { hidden_ids: 1, _fill: 1, _outline: 1 } : SKIP));
    edgeSection("Edges in", inn[id]);
    edgeSection("Edges out", out[id]);
  }
  function showCluster(key) {
    var g = view.groups[key];
    var hidden = g.ids.filter(function (id) { return !isShown(id); });
    panel.textContent = "";
    panel.appendChild(el("h2", g.relation + " \u00d7 " + fmt(g.ids.length)));
    panel.appendChild(el("p", directionText(g.level) + " (" + visible(view.focus) + "); " + fmt(hidden.length) +
      " not drawn yet, most downloaded first", { "class": "where" }));
    panel.appendChild(button("Show " + Math.min(PAGE, hidden.length) + " more", function () { expand(key); }, "expand"));
    if (view.open[key] || g.ids.some(function (id) { return view.pinned[id]; })) {
      panel.appendChild(button("Collapse", function () { collapse(key); }, "collapse"));
    }
    var ul = el("ul");
    hidden.slice(0, 200).forEach(function (id) { ul.appendChild(el("li", visible(id))); });
    panel.appendChild(ul);
    if (hidden.length > 200) panel.appendChild(el("p", "\u2026 " + fmt(hidden.length - 200) + " more; search finds them",
      { "class": "hint" }));
  }
  function showPanel(node) {
    if (node.data("cluster")) showCluster(node.data("cluster")); else showModel(node.data("model"));
  }

  function expand(key) {
    var g = view.groups[key];
    view.open[key] = Math.min(g.ids.length, view.open[key] + PAGE);
    render();
    var cluster = cy.getElementById("c:" + key);
    var opened = g.ids.slice(Math.max(0, view.open[key] - PAGE), view.open[key])
      .map(function (id) { return cy.getElementById("m:" + id); });
    var target = cluster.length ? cluster : opened[opened.length - 1];
    if (cluster.length) showCluster(key); else if (target) showPanel(target);
    if (target) cy.animate({ center: { eles: target }, zoom: Math.max(cy.zoom(), 1) }, { duration: 150 });
  }
  function collapse(key) {
    var g = view.groups[key];
    view.open[key] = 0;
    g.ids.forEach(function (id) { delete view.pinned[id]; });
    render();
    var cluster = cy.getElementById("c:" + key);
    if (cluster.length) { showCluster(key); bringIntoView(cluster); }
  }

  function highlightPath(node) {  // the drawn elements from the focus to this model, along its path
    cy.elements().removeClass("path");
    var id = node.data("model");
    if (!id || id === view.focus) return;
    var chain = [];
    for (var at = id; at !== undefined; at = view.via[at]) chain.push(representative(at));
    var previous = null;
    chain.forEach(function (rep) {
      if (!rep || rep === previous) return;
      cy.getElementById(rep).addClass("path");
      if (previous) {
        cy.getElementById("e:" + rep + "\u0000" + previous).addClass("path");
        cy.getElementById("e:" + previous + "\u0000" + rep).addClass("path");
      }
      previous = rep;
    });
  }

  // --- focus ---------------------------------------------------------------------------------------------
  var heading = document.getElementById("view-focus");
  var back = document.getElementById("back");
  function refocus(id) {
    view = buildView(id);
    setDepthRange();
    render();
    heading.textContent = id === initialFocus ? "" : "Focused on " + visible(id) + " (its ancestors and descendants in this file" +
      (view.outside ? "; " + fmt(view.outside) + " other models are outside its lineage" : "") + ")";
    back.hidden = id === initialFocus;
    firstView();
    var node = cy.getElementById("m:" + id);
    cy.nodes().unselect(); node.select(); showPanel(node); highlightPath(node);
    search.value = ""; matches = []; searchCount.textContent = "";
  }
  back.textContent = "Back to " + clip(initialFocus, 40);
  back.addEventListener("click", function () { refocus(initialFocus); });

  cy.on("tap", "node", function (evt) {
    var node = evt.target;
    if (node.data("cluster")) { expand(node.data("cluster")); return; }
    showPanel(node); highlightPath(node);
  });

  view = buildView(initialFocus);
  setDepthRange();
  render();
  firstView();
  document.body.dataset.firstRenderMs = String(Math.round(performance.now()));  // since navigation began
  document.body.dataset.ready = "true";
})();
