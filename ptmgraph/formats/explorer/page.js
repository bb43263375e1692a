// What both explorers (explorer.js, snapshot.js) show text with; inlined before either. Every string from
// the data goes through el (textContent, never markup) and visible.
var ptmgraphPage = (function () {
  "use strict";
  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (attrs) Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }
  function visible(text) {  // bidi controls shown as code points, so no id can reorder what is around it
    return String(text).replace(/[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, function (c) {
      return "[U+" + c.charCodeAt(0).toString(16).toUpperCase() + "]";
    });
  }
  function hubLink(url) {  // the model's Hub page, as written into the data (_url; null for a local id)
    var link = el("a", "Open on the Hugging Face Hub", { rel: "noopener noreferrer", target: "_blank" });
    link.href = url;
    return link;
  }
  return { el: el, visible: visible, hubLink: hubLink };
})();
