// Scripts of the public pages: the map on the demand form and the board's
// map and charts. Both are progressive enhancement: the form submits and the
// board reads without them.
//
// Leaflet is loaded only when a map is actually shown, so the form stays
// light on a phone. No tiles unless the site configures a tile server: the
// neighbourhood outlines come from the site itself.
(function () {
  "use strict";

  var GREEN = "#0f6b5c";
  var leafletLoading = null;

  function loadLeaflet(src) {
    if (typeof L !== "undefined") return Promise.resolve();
    if (leafletLoading) return leafletLoading;
    leafletLoading = new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = src;
      script.onload = resolve;
      script.onerror = reject;
      document.head.appendChild(script);
    });
    return leafletLoading;
  }

  function fetchJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/geo+json, application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .catch(function () { return null; });
  }

  var readJSON = window.Tashil.readJSON;
  var textNode = window.Tashil.textNode;

  function baseMap(el) {
    var map = L.map(el, { scrollWheelZoom: false, attributionControl: !!el.dataset.tileUrl });
    map.setView([31.32, 48.67], 11);
    if (el.dataset.tileUrl) {
      L.tileLayer(el.dataset.tileUrl, { attribution: el.dataset.tileAttribution || "", maxZoom: 19 }).addTo(map);
    }
    return map;
  }

  function featureAt(features, lat, lng) {
    for (var i = 0; i < features.length; i++) {
      if (window.Tashil.contains(features[i].geometry, lat, lng)) return features[i];
    }
    return null;
  }

  // --- the demand form ----------------------------------------------------

  function initSubmitMap(details) {
    var form = details.closest("form");
    var el = details.querySelector("#submit-map");
    var latInput = form.querySelector("[name=latitude]");
    var lngInput = form.querySelector("[name=longitude]");
    var areaSelect = form.querySelector("[name=area]");
    var status = details.querySelector("[data-point-status]");
    var clearButton = details.querySelector("[data-clear-point]");
    var locateButton = details.querySelector("[data-locate]");
    var started = false;
    var map, marker, layer, features = [];

    function say(key) {
      status.textContent = status.dataset[key] || "";
      status.classList.toggle("text-danger", key === "textOutside" || key === "textDenied");
    }

    function announce() {
      document.body.dispatchEvent(new CustomEvent("point-changed"));
    }

    function setPoint(lat, lng, fromLocation) {
      latInput.value = lat.toFixed(6);
      lngInput.value = lng.toFixed(6);
      if (!marker) marker = L.marker([lat, lng], { keyboard: false }).addTo(map);
      else marker.setLatLng([lat, lng]);
      if (fromLocation) map.setView([lat, lng], 16);
      var hit = featureAt(features, lat, lng);
      if (hit && areaSelect) {
        areaSelect.value = hit.properties.code;
        say("textSet");
      } else {
        say(features.length ? "textOutside" : "textSet");
      }
      clearButton.hidden = false;
      announce();
    }

    function clearPoint() {
      latInput.value = "";
      lngInput.value = "";
      if (marker) { map.removeLayer(marker); marker = null; }
      clearButton.hidden = true;
      say("textHint");
      announce();
    }

    function fitArea(code) {
      if (!layer || !code) return;
      layer.eachLayer(function (lyr) {
        if (lyr.feature.properties.code === code) map.fitBounds(lyr.getBounds(), { padding: [12, 12], maxZoom: 16 });
      });
    }

    // Zoomed out, a neighbourhood is a few pixels wide: a dot stands in for
    // it, and tapping the dot chooses the neighbourhood and zooms to it.
    function addDots() {
      var dots = [];
      layer.eachLayer(function (lyr) {
        var code = lyr.feature.properties.code;
        var dot = L.circleMarker(lyr.getBounds().getCenter(), {
          radius: 7, color: "#fff", weight: 2, fillColor: GREEN, fillOpacity: 0.9,
        }).addTo(map);
        if (lyr.feature.properties.name) dot.bindTooltip(textNode(lyr.feature.properties.name), { direction: "top" });
        dot.on("click", function (e) {
          L.DomEvent.stopPropagation(e);
          if (areaSelect) {
            areaSelect.value = code;
            areaSelect.dispatchEvent(new Event("change", { bubbles: true }));
          }
          map.fitBounds(lyr.getBounds(), { padding: [12, 12], maxZoom: 16 });
        });
        dot._outline = lyr;
        dots.push(dot);
      });
      function refresh() {
        dots.forEach(function (dot) {
          var b = dot._outline.getBounds();
          var ne = map.latLngToLayerPoint(b.getNorthEast());
          var sw = map.latLngToLayerPoint(b.getSouthWest());
          var small = Math.abs(ne.x - sw.x) < 24 && Math.abs(ne.y - sw.y) < 24;
          if (small && !map.hasLayer(dot)) dot.addTo(map);
          if (!small && map.hasLayer(dot)) map.removeLayer(dot);
        });
      }
      map.on("zoomend", refresh);
      refresh();
    }

    function start() {
      if (started) return;
      started = true;
      loadLeaflet(details.dataset.leafletSrc).then(function () {
        map = baseMap(el);
        map.on("click", function (e) { setPoint(e.latlng.lat, e.latlng.lng, false); });
        return fetchJSON(details.dataset.geojsonUrl);
      }).then(function (collection) {
        features = (collection && collection.features) || [];
        layer = L.geoJSON({ type: "FeatureCollection", features: features }, {
          style: { color: GREEN, weight: 1.5, fillColor: GREEN, fillOpacity: 0.12 },
          onEachFeature: function (feature, lyr) {
            if (feature.properties.name) lyr.bindTooltip(textNode(feature.properties.name), { sticky: true, direction: "top" });
          },
        }).addTo(map);
        addDots();
        if (layer.getBounds().isValid()) map.fitBounds(layer.getBounds(), { padding: [12, 12] });
        if (latInput.value && lngInput.value) {
          setPoint(parseFloat(latInput.value), parseFloat(lngInput.value), true);
        } else if (areaSelect && areaSelect.value) {
          fitArea(areaSelect.value);
        }
      }).catch(function () { started = false; });
    }

    details.addEventListener("toggle", function () {
      if (details.open) {
        start();
        if (map) setTimeout(function () { map.invalidateSize(); }, 0);
      }
    });
    if (details.open) start();

    if (areaSelect) {
      areaSelect.addEventListener("change", function () {
        // A point in another neighbourhood than the one chosen would be refused.
        if (latInput.value && features.length) {
          var hit = featureAt(features, parseFloat(latInput.value), parseFloat(lngInput.value));
          if (!hit || hit.properties.code !== areaSelect.value) clearPoint();
        }
        fitArea(areaSelect.value);
      });
    }
    clearButton.addEventListener("click", clearPoint);
    locateButton.addEventListener("click", function () {
      if (!navigator.geolocation) { say("textDenied"); return; }
      details.open = true;
      start();
      navigator.geolocation.getCurrentPosition(function (pos) {
        loadLeaflet(details.dataset.leafletSrc).then(function () {
          var wait = setInterval(function () {
            if (!map) return;
            clearInterval(wait);
            setPoint(pos.coords.latitude, pos.coords.longitude, true);
          }, 50);
        });
      }, function () { say("textDenied"); }, { enableHighAccuracy: true, timeout: 10000 });
    });

    // One tap sends one demand: a double tap must not post twice (the
    // server would answer both with the same demand anyway).
    form.addEventListener("submit", function () {
      var button = form.querySelector("[type=submit]");
      if (button) setTimeout(function () { button.disabled = true; }, 0);
    });
  }

  // --- the board ----------------------------------------------------------

  function initBoardMap(el) {
    loadLeaflet(el.dataset.leafletSrc).then(function () {
      var map = baseMap(el);
      var cells = readJSON(el.dataset.cells) || [];
      var bounds = L.latLngBounds([]);
      fetchJSON(el.dataset.geojsonUrl).then(function (collection) {
        var outlines = L.geoJSON(collection || { type: "FeatureCollection", features: [] }, {
          style: { color: GREEN, weight: 1, fillColor: GREEN, fillOpacity: 0.06 },
          onEachFeature: function (feature, lyr) {
            if (feature.properties.name) lyr.bindTooltip(textNode(feature.properties.name), { sticky: true });
          },
        }).addTo(map);
        outlines.bringToBack();
        // At province scale neighbourhoods are specks: a small dot marks each.
        outlines.eachLayer(function (lyr) {
          var dot = L.circleMarker(lyr.getBounds().getCenter(), {
            radius: 3, color: GREEN, weight: 1, fillColor: "#fff", fillOpacity: 1, interactive: !!lyr.feature.properties.name,
          }).addTo(map);
          if (lyr.feature.properties.name) dot.bindTooltip(textNode(lyr.feature.properties.name), { direction: "top" });
          dot.bringToBack();
        });
        if (!bounds.isValid() && outlines.getBounds().isValid()) map.fitBounds(outlines.getBounds(), { padding: [12, 12] });
      });
      var max = cells.reduce(function (m, c) { return Math.max(m, c.count); }, 1);
      cells.forEach(function (cell) {
        var circle = L.circleMarker([cell.lat, cell.lng], {
          radius: 6 + 14 * Math.sqrt(cell.count / max),
          color: "#fff",
          weight: 1.5,
          fillColor: cell.open ? "#d9480f" : GREEN,
          fillOpacity: 0.8,
        }).addTo(map);
        var text = cell.count.toLocaleString(document.documentElement.lang) + " " + (el.dataset.labelCount || "") +
          " · " + cell.open.toLocaleString(document.documentElement.lang) + " " + (el.dataset.labelOpen || "");
        circle.bindTooltip(textNode(text), { direction: "top" });
        bounds.extend([cell.lat, cell.lng]);
      });
      if (bounds.isValid()) map.fitBounds(bounds, { padding: [24, 24], maxZoom: 15 });
    });
  }

  function initCharts() {
    if (typeof Chart === "undefined") return;
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var data = readJSON(canvas.dataset.chart);
      if (!data || !data.counts || !data.counts.length) { canvas.hidden = true; return; }
      var font = getComputedStyle(document.body).fontFamily;
      Chart.defaults.font.family = font;
      new Chart(canvas, {
        type: "bar",
        data: { labels: data.labels, datasets: [{ data: data.counts, backgroundColor: GREEN }] },
        options: {
          indexAxis: canvas.hasAttribute("data-horizontal") ? "y" : "x",
          plugins: { legend: { display: false } },
          locale: document.documentElement.lang === "fa" ? "fa-IR" : "en",
          scales: { x: { ticks: { precision: 0 } }, y: { ticks: { precision: 0 } } },
          animation: false,
        },
      });
    });
  }

  function init() {
    document.querySelectorAll("[data-submit-map]").forEach(initSubmitMap);
    document.querySelectorAll("[data-board-map]").forEach(initBoardMap);
    initCharts();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
