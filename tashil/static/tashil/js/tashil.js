// Behaviour every page shares that would otherwise be written inline, which
// the Content-Security-Policy forbids (no inline scripts, handlers or styles):
//   <form data-confirm="question">  asks before the form is sent
//   <div data-progress="42">        a progress bar's width, in percent
// Both also work on content htmx swaps in later.
//
// window.Tashil holds what the map scripts share (map.js, demand-form.js,
// submit.js): this file loads before them on every page.
window.Tashil = (function () {
  "use strict";

  // The JSON of a <script type="application/json"> element, or null.
  function readJSON(id) {
    var node = id && document.getElementById(id);
    if (!node) return null;
    try {
      return JSON.parse(node.textContent);
    } catch (e) {
      return null;
    }
  }

  // Leaflet reads a string tooltip, popup or layer name as HTML, and names are
  // typed by people: each is a DOM node holding text, never a string.
  function textNode(value) {
    var span = document.createElement("span");
    span.setAttribute("dir", "auto");
    span.textContent = value == null ? "" : String(value);
    return span;
  }

  // Ray casting over GeoJSON rings of [lng, lat]; holes subtract.
  function inRing(lng, lat, ring) {
    var inside = false;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      var xi = ring[i][0], yi = ring[i][1], xj = ring[j][0], yj = ring[j][1];
      if ((yi > lat) !== (yj > lat) && lng < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
    }
    return inside;
  }

  function inPolygon(lng, lat, rings) {
    if (!rings.length || !inRing(lng, lat, rings[0])) return false;
    for (var k = 1; k < rings.length; k++) if (inRing(lng, lat, rings[k])) return false;
    return true;
  }

  // Whether a Polygon or MultiPolygon geometry holds the point.
  function contains(geometry, lat, lng) {
    if (!geometry) return false;
    if (geometry.type === "Polygon") return inPolygon(lng, lat, geometry.coordinates);
    if (geometry.type === "MultiPolygon") {
      return geometry.coordinates.some(function (rings) { return inPolygon(lng, lat, rings); });
    }
    return false;
  }

  return { readJSON: readJSON, textNode: textNode, contains: contains };
})();

(function () {
  "use strict";

  // Capture phase: a refused confirmation stops the submit before htmx sees it.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form && form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopPropagation();
    }
  }, true);

  // Setting element.style from a script is not an inline style: CSP allows it.
  function widths(root) {
    if (!root || !root.querySelectorAll) return;
    var bars = Array.prototype.slice.call(root.querySelectorAll("[data-progress]"));
    if (root.matches && root.matches("[data-progress]")) bars.push(root);
    bars.forEach(function (bar) {
      var value = Math.max(0, Math.min(100, Number(bar.getAttribute("data-progress")) || 0));
      bar.style.width = value + "%";
    });
  }

  widths(document);
  document.addEventListener("htmx:load", function (event) { widths(event.target); });
})();
