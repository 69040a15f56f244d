// Maps of areas, hazard zones and offices, drawn with Leaflet.
//
// Every element with [data-map] becomes a map. It reads:
//   data-geojson      id of a <script type="application/json"> FeatureCollection
//   data-geojson-url  or a URL that returns one
//   data-markers      id of a JSON list of offices {code,name,status,status_label,lat,lng,url}
//   data-labels       id of a JSON object of translated labels for the legend
//   data-tile-url     optional tile server; without one only the GeoJSON is drawn
//   data-tile-attribution
// Nothing is fetched from outside the site: the intranet may have no internet.
(function () {
  "use strict";

  var STATUS_COLOURS = {
    planned: "#6c757d",
    pilot: "#6f42c1",
    active: "#198754",
    suspended: "#fd7e14",
    closed: "#212529",
  };
  var HAZARD_COLOUR = "#dc3545";
  var MARGINAL_COLOUR = "#e0a800";

  var readJSON = window.Tashil.readJSON;

  function areaStyle(feature) {
    var p = feature.properties || {};
    if (p.kind === "hazard") {
      return { color: HAZARD_COLOUR, weight: 2, fillColor: HAZARD_COLOUR, fillOpacity: 0.35 };
    }
    if (p.level === "province") {
      return { color: "#0f6b5c", weight: 3, fill: false };
    }
    if (p.level === "county") {
      return { color: "#34495e", weight: 2, dashArray: "6 4", fill: false };
    }
    if (p.level === "city") {
      return { color: "#34495e", weight: 1.5, fillOpacity: 0.05 };
    }
    if (p.is_marginal) {
      return { color: "#b8860b", weight: 1.5, fillColor: MARGINAL_COLOUR, fillOpacity: 0.45 };
    }
    return { color: "#0f6b5c", weight: 1, fillColor: "#0f6b5c", fillOpacity: 0.15 };
  }

  // Leaflet reads a string tooltip, popup or layer name as HTML: names go in
  // as DOM nodes holding text.
  var text = window.Tashil.textNode;

  // Layer names go to L.control.layers, which also reads them as HTML.
  function escapeHTML(value) {
    var div = document.createElement("div");
    div.textContent = value == null ? "" : String(value);
    return div.innerHTML;
  }

  function popup(title, url, lines) {
    var box = document.createElement("div");
    box.setAttribute("dir", "auto");
    var head = document.createElement(url ? "a" : "strong");
    head.textContent = title || "";
    if (url) head.href = url;
    box.appendChild(head);
    (lines || []).forEach(function (line) {
      if (!line) return;
      var div = document.createElement("div");
      div.className = "small text-muted";
      div.textContent = line;
      box.appendChild(div);
    });
    return box;
  }

  function featureLines(p, labels) {
    var lines = [];
    if (p.kind === "hazard") {
      lines.push(p.hazard_type);
      if (labels.risk && p.risk_label) lines.push(labels.risk + ": " + p.risk_label);
    } else {
      if (labels[p.level]) lines.push(labels[p.level]);
      if (p.is_marginal && labels.marginal) lines.push(labels.marginal);
    }
    return lines;
  }

  // Only what is on this map gets a line in the legend.
  function legend(map, labels, present) {
    var control = L.control({ position: "bottomright" });
    control.onAdd = function () {
      // A <details> so that on a phone the legend folds away from the map.
      var wrap = L.DomUtil.create("details", "bg-white border rounded px-2 py-1 small shadow-sm");
      wrap.setAttribute("dir", document.documentElement.dir || "rtl");
      if (map.getContainer().clientWidth >= 576) wrap.open = true;
      var summary = document.createElement("summary");
      summary.textContent = labels.legend || "";
      wrap.appendChild(summary);
      var box = document.createElement("div");
      wrap.appendChild(box);
      function row(colour, text, round) {
        if (!text) return;
        var line = document.createElement("div");
        var swatch = document.createElement("span");
        swatch.className = round ? "rounded-circle" : "rounded-1";
        swatch.style.cssText = "display:inline-block;width:12px;height:12px;vertical-align:middle;background:" + colour;
        line.appendChild(swatch);
        line.appendChild(document.createTextNode(" " + text));
        box.appendChild(line);
      }
      if (present.marginal) row(MARGINAL_COLOUR, labels.marginal);
      if (present.neighbourhood) row("#0f6b5c", labels.plain_area);
      if (present.hazard) row(HAZARD_COLOUR, labels.hazard);
      Object.keys(STATUS_COLOURS).forEach(function (status) {
        if (present.statuses[status]) row(STATUS_COLOURS[status], labels["status_" + status], true);
      });
      if (!box.childNodes.length) wrap.hidden = true;
      L.DomEvent.disableClickPropagation(wrap);
      return wrap;
    };
    control.addTo(map);
  }

  // At province scale a neighbourhood is a few pixels wide: deprived ones
  // also get a dot, shown only while their outline is too small to see.
  function markSmallMarginal(map, areaLayer, labels) {
    var dots = L.layerGroup();
    areaLayer.eachLayer(function (lyr) {
      var p = lyr.feature && lyr.feature.properties || {};
      if (!p.is_marginal || !lyr.getBounds) return;
      var dot = L.circleMarker(lyr.getBounds().getCenter(), {
        radius: 5, color: "#8a6d00", weight: 1, fillColor: MARGINAL_COLOUR, fillOpacity: 0.9,
      });
      dot.bindPopup(popup(p.name, p.url, featureLines(p, labels)));
      dot.bindTooltip(text(p.name), { direction: "top" });
      dot._outline = lyr;
      dots.addLayer(dot);
    });
    function refresh() {
      dots.eachLayer(function (dot) {
        var b = dot._outline.getBounds();
        var ne = map.latLngToLayerPoint(b.getNorthEast());
        var sw = map.latLngToLayerPoint(b.getSouthWest());
        var small = Math.abs(ne.x - sw.x) < 12 && Math.abs(ne.y - sw.y) < 12;
        dot.setStyle({ opacity: small ? 1 : 0, fillOpacity: small ? 0.9 : 0 });
        if (dot._path) dot._path.style.pointerEvents = small ? "" : "none";
      });
    }
    dots.addTo(map);
    map.on("zoomend", refresh);
    map.whenReady(refresh);
  }

  function draw(el, map, collection, markers, labels) {
    var bounds = L.latLngBounds([]);
    var groups = { county: [], area: [], hazard: [] };
    var present = { statuses: {} };
    (collection && collection.features || []).forEach(function (feature) {
      var p = feature.properties || {};
      if (p.kind === "hazard") present.hazard = true;
      else if (p.is_marginal) present.marginal = true;
      else if (p.level === "neighbourhood") present.neighbourhood = true;
      var key = p.kind === "hazard" ? "hazard" : (p.level === "county" || p.level === "province") ? "county" : "area";
      groups[key].push(feature);
    });
    var overlays = {};
    function addLayer(features, name) {
      if (!features.length) return;
      var layer = L.geoJSON({ type: "FeatureCollection", features: features }, {
        style: areaStyle,
        onEachFeature: function (feature, lyr) {
          var p = feature.properties || {};
          lyr.bindPopup(popup(p.name, p.url, featureLines(p, labels)));
          if (p.name) lyr.bindTooltip(text(p.name), { sticky: true, direction: "top" });
        },
      }).addTo(map);
      bounds.extend(layer.getBounds());
      if (name) overlays[escapeHTML(name)] = layer;
      return layer;
    }
    // Wide outlines first so that neighbourhoods and hazards stay clickable on top.
    addLayer(groups.county, labels.counties);
    var areaLayer = addLayer(groups.area, labels.areas);
    addLayer(groups.hazard, labels.hazards);
    if (areaLayer) markSmallMarginal(map, areaLayer, labels);

    if (markers && markers.length) {
      var offices = L.layerGroup();
      markers.forEach(function (m) {
        var marker = L.circleMarker([m.lat, m.lng], {
          radius: 8,
          color: "#fff",
          weight: 2,
          fillColor: STATUS_COLOURS[m.status] || "#0d6efd",
          fillOpacity: 0.95,
        });
        marker.bindPopup(popup(m.name, m.url, [m.status_label]));
        marker.bindTooltip(text(m.name), { direction: "top" });
        marker.addTo(offices);
        present.statuses[m.status] = true;
        bounds.extend([m.lat, m.lng]);
      });
      offices.addTo(map);
      if (labels.offices) overlays[escapeHTML(labels.offices)] = offices;
    }
    if (Object.keys(overlays).length > 1) {
      L.control.layers(null, overlays, { collapsed: true }).addTo(map);
    }
    legend(map, labels, present);
    if (bounds.isValid()) {
      map.fitBounds(bounds, { padding: [16, 16], maxZoom: 15 });
      map.fire("zoomend");
    } else {
      var empty = document.getElementById(el.id + "-empty");
      if (empty) empty.hidden = false;
    }
  }

  function init(el) {
    if (el.dataset.mapReady || typeof L === "undefined") return;
    el.dataset.mapReady = "1";
    var labels = readJSON(el.dataset.labels) || {};
    var centre = (el.dataset.centre || "31.32,48.67").split(",").map(Number);
    var map = L.map(el, { scrollWheelZoom: false, attributionControl: !!el.dataset.tileUrl });
    map.setView(centre, Number(el.dataset.zoom || 8));
    if (el.dataset.tileUrl) {
      L.tileLayer(el.dataset.tileUrl, {
        attribution: el.dataset.tileAttribution || "",
        maxZoom: 19,
      }).addTo(map);
    }
    var markers = readJSON(el.dataset.markers);
    var inline = readJSON(el.dataset.geojson);
    if (inline || !el.dataset.geojsonUrl) {
      draw(el, map, inline, markers, labels);
      return;
    }
    fetch(el.dataset.geojsonUrl, { credentials: "same-origin", headers: { Accept: "application/geo+json, application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (collection) { draw(el, map, collection, markers, labels); })
      .catch(function () { draw(el, map, null, markers, labels); });
  }

  function initAll(root) {
    (root || document).querySelectorAll("[data-map]").forEach(init);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { initAll(); });
  } else {
    initAll();
  }
  document.addEventListener("htmx:afterSwap", function (e) { initAll(e.target); });
})();
