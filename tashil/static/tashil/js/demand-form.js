// The map of a demand: on the staff intake form a tap marks the place and
// picks the neighbourhood under it; on the demand page it shows the point.
//
// An element with [data-demand-map] reads:
//   data-geojson     id of a <script type="application/json"> FeatureCollection
//   data-lat/-lng    a point to show (optional)
//   data-lat-input, data-lng-input, data-area-input
//                    ids of the form inputs it fills (the intake form only)
//   data-tile-url    optional tile server; without one only the GeoJSON is drawn
//   data-lazy        build the map when the surrounding <details> opens, so the
//                    form stays fast on a phone when nobody needs the map
(function () {
  "use strict";

  var readJSON = window.Tashil.readJSON;
  var textNode = window.Tashil.textNode;
  var contains = window.Tashil.contains;

  function init(el) {
    if (el.dataset.ready || typeof L === "undefined") return;
    el.dataset.ready = "1";
    var collection = readJSON(el.dataset.geojson) || { type: "FeatureCollection", features: [] };
    var map = L.map(el, { scrollWheelZoom: false, attributionControl: !!el.dataset.tileUrl });
    map.setView([31.32, 48.67], 11);
    if (el.dataset.tileUrl) {
      L.tileLayer(el.dataset.tileUrl, { attribution: el.dataset.tileAttribution || "", maxZoom: 19 }).addTo(map);
    }
    var layers = {};
    var areas = L.geoJSON(collection, {
      style: { color: "#0f6b5c", weight: 1.5, fillColor: "#0f6b5c", fillOpacity: 0.12 },
      onEachFeature: function (feature, layer) {
        var p = feature.properties || {};
        if (p.code) layers[p.code] = layer;
        if (p.name) layer.bindTooltip(textNode(p.name), { sticky: true, direction: "top" });
      },
    }).addTo(map);
    var bounds = areas.getLayers().length ? areas.getBounds() : null;

    var marker = null;
    function place(lat, lng) {
      if (marker) marker.setLatLng([lat, lng]);
      else {
        marker = L.circleMarker([lat, lng], {
          radius: 9, color: "#fff", weight: 3, fillColor: "#dc3545", fillOpacity: 1,
        }).addTo(map);
      }
    }
    if (el.dataset.lat && el.dataset.lng) {
      var point = L.latLng(Number(el.dataset.lat), Number(el.dataset.lng));
      place(point.lat, point.lng);
      if (bounds) map.fitBounds(L.latLngBounds(bounds.getSouthWest(), bounds.getNorthEast()).extend(point), { padding: [12, 12], maxZoom: 16 });
      else map.setView(point, 16);
    } else if (bounds) {
      map.fitBounds(bounds, { padding: [12, 12], maxZoom: 16 });
    }

    var latInput = document.getElementById(el.dataset.latInput || "");
    var lngInput = document.getElementById(el.dataset.lngInput || "");
    var areaInput = document.getElementById(el.dataset.areaInput || "");
    var status = document.getElementById(el.id + "-status");
    if (!latInput || !lngInput) return;

    function say(text) { if (status) status.textContent = text || ""; }

    function choose(lat, lng) {
      place(lat, lng);
      latInput.value = lat.toFixed(6);
      lngInput.value = lng.toFixed(6);
      var found = null;
      (collection.features || []).forEach(function (f) {
        if (!found && contains(f.geometry, lat, lng)) found = f.properties || {};
      });
      if (found && areaInput) {
        areaInput.value = found.code;
        say((el.dataset.foundLabel || "") + " " + (found.name || ""));
      } else {
        say(el.dataset.outsideLabel || "");
      }
    }

    map.on("click", function (e) { choose(e.latlng.lat, e.latlng.lng); });
    if (latInput.value && lngInput.value) {
      place(Number(latInput.value), Number(lngInput.value));
      map.setView([Number(latInput.value), Number(lngInput.value)], 16);
    }
    if (areaInput) {
      areaInput.addEventListener("change", function () {
        var layer = layers[areaInput.value];
        if (layer && layer.getBounds) map.fitBounds(layer.getBounds(), { padding: [12, 12], maxZoom: 17 });
      });
    }
    var clear = document.getElementById(el.id + "-clear");
    if (clear) {
      clear.addEventListener("click", function () {
        if (marker) { map.removeLayer(marker); marker = null; }
        latInput.value = "";
        lngInput.value = "";
        say("");
      });
    }
    var locate = document.getElementById(el.id + "-locate");
    if (locate && navigator.geolocation) {
      locate.hidden = false;
      locate.addEventListener("click", function () {
        navigator.geolocation.getCurrentPosition(function (pos) {
          choose(pos.coords.latitude, pos.coords.longitude);
          map.setView([pos.coords.latitude, pos.coords.longitude], 17);
        }, function () { say(el.dataset.noLocationLabel || ""); }, { enableHighAccuracy: true, timeout: 10000 });
      });
    }
  }

  function setup() {
    document.querySelectorAll("[data-demand-map]").forEach(function (el) {
      var holder = el.dataset.lazy && el.closest("details");
      if (holder && !holder.open) {
        holder.addEventListener("toggle", function () { if (holder.open) init(el); });
      } else {
        init(el);
      }
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setup);
  else setup();
})();
