// The whole-snapshot explorer: every model of #graph-data drawn with sigma.js (WebGL) at the positions
// computed when the file was written (_x, _y); coloured by the relation of the edge into it, sized by
// reach. Every string from the data is shown with textContent, never parsed as markup.
(function () {
  "use strict";
  var doc = JSON.parse(document.getElementById("graph-data").textContent);
  var SigmaClass = Sigma.Sigma || Sigma;
  var NO_RELATION = "#8A8A8A";

  var el = ptmgraphPage.el, visible = ptmgraphPage.visible;

  var graph = new graphology.Graph({ multi: false, type: "directed", allowSelfLoops: true });
  var byId = {}, relationOf = {}, colors = {};
  doc.edges.forEach(function (e) {
    if (e.summary) return;
    relationOf[String(e.target)] = relationOf[String(e.target)] || String(e.relation);
    colors[String(e.relation)] = e._color;
  });
  doc.nodes.forEach(function (n) {
    var id = String(n.id);
    byId[id] = n;
    var reach = typeof n.reach === "number" ? n.reach : 0;
    graph.addNode(id, { x: n._x, y: -n._y, label: visible(n.kind === "more" ? n.label : id),
      size: 2 + 2.2 * Math.log(1 + reach), color: colors[relationOf[id]] || NO_RELATION });
  });
  doc.edges.forEach(function (e) {
    var s = String(e.source), t = String(e.target);
    if (e.summary || !graph.hasNode(s) || !graph.hasNode(t) || graph.hasEdge(s, t)) return;
    graph.addDirectedEdge(s, t, { color: "#CCCCCC", size: 0.6 });
  });

  var matches = {}, selected = null;
  var renderer = new SigmaClass(graph, document.getElementById("cy"), {
    labelRenderedSizeThreshold: 9, labelSize: 12, defaultEdgeType: "arrow", renderEdgeLabels: false,
    zoomToSizeRatioFunction: function () { return 1; },  // sizes stay in screen pixels: zooming in separates
    nodeReducer: function (node, data) {
      var out = Object.assign({}, data);
      if (matches[node] || node === selected) { out.highlighted = true; out.forceLabel = true; out.zIndex = 1; }
      if (node === selected) out.color = "#D55E00";
      return out;
    }
  });
  window.ptmgraphExplorer = { sigma: renderer, graph: graph };  // for tests and the browser console

  // --- legend: the relations' colours -----------------------------------------------------------------
  var relationBox = document.getElementById("relations");
  relationBox.appendChild(el("span", "Colour: relation into the model; size: reach. "));
  Object.keys(colors).sort().forEach(function (rel) {
    var swatch = el("span", null, { "class": "dot" });
    swatch.style.background = colors[rel];
    var label = el("label");
    label.appendChild(swatch); label.appendChild(document.createTextNode(rel));
    relationBox.appendChild(label);
  });
  ["depth", "depth-value"].forEach(function (id) {  // no focus, no depth
    var node = document.getElementById(id);
    (node.closest("label") || node).hidden = true;
  });

  function centreOn(id, ratio) {
    var d = renderer.getNodeDisplayData(id);
    if (d) renderer.getCamera().animate({ x: d.x, y: d.y, ratio: ratio }, { duration: 200 });
  }
  document.getElementById("fit").addEventListener("click", function () {
    renderer.getCamera().animate({ x: 0.5, y: 0.5, ratio: 1 }, { duration: 200 });
  });

  // --- search -------------------------------------------------------------------------------------------
  var search = document.getElementById("search");
  var searchCount = document.getElementById("search-count");
  var found = [], at = 0;
  function goTo() {
    if (!found.length) return;
    var id = found[at % found.length];
    selected = id; showPanel(id); renderer.refresh(); centreOn(id, 0.08);
  }
  search.addEventListener("input", function () {
    var q = search.value.trim().toLowerCase();
    matches = {}; found = []; at = 0;
    if (q) {
      graph.forEachNode(function (id) { if (id.toLowerCase().indexOf(q) >= 0) { matches[id] = true; found.push(id); } });
      found.sort(function (a, b) { return (byId[b].downloads || -1) - (byId[a].downloads || -1) || (a < b ? -1 : 1); });
    }
    searchCount.textContent = q ? found.length + " found" + (found.length > 1 ? " (Enter: next)" : "") : "";
    renderer.refresh();
    goTo();
  });
  search.addEventListener("keydown", function (evt) { if (evt.key === "Enter" && found.length) { at += 1; goTo(); } });

  // --- the panel ------------------------------------------------------------------------------------------
  var panel = document.getElementById("panel");
  var SKIP = { id: 1, label: 1, _fill: 1, _outline: 1, _url: 1, _x: 1, _y: 1, depth: 1, kind: 1 };
  function showPanel(id) {
    var r = byId[id];
    panel.textContent = "";
    panel.appendChild(el("h2", visible(r.kind === "more" ? r.label : id)));
    if (r._url) panel.appendChild(ptmgraphPage.hubLink(r._url));
    panel.appendChild(el("h3", "Record"));
    var t = el("table");
    Object.keys(r).sort().forEach(function (k) {
      if (SKIP[k] || r[k] === null || r[k] === undefined) return;
      var row = el("tr");
      row.appendChild(el("td", k));
      row.appendChild(el("td", typeof r[k] === "object" ? JSON.stringify(r[k]) : r[k]));
      t.appendChild(row);
    });
    panel.appendChild(t);
    [["Bases", graph.inNeighbors(id)], ["Derived models", graph.outNeighbors(id)]].forEach(function (pair) {
      if (!pair[1].length) return;
      panel.appendChild(el("h3", pair[0] + " (" + pair[1].length + ")"));
      var ul = el("ul");
      pair[1].slice(0, 100).forEach(function (other) { ul.appendChild(el("li", visible(other))); });
      panel.appendChild(ul);
    });
  }
  renderer.on("clickNode", function (evt) { selected = evt.node; showPanel(evt.node); renderer.refresh(); });

  document.body.dataset.firstRenderMs = String(Math.round(performance.now()));
  document.body.dataset.ready = "true";
})();
