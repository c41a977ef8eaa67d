/* The centre's map dashboard (templates/dispatch/dashboard.html).
 *
 * - Outlines come as GeoJSON tiles (/api/tiles/areas/z/x/y.geojson), one level of the area
 *   tree per zoom; an outline that crosses tiles is drawn once and removed with its last tile.
 * - Incidents in the visible box come from /api/dashboard/incidents/ (points, clustered in
 *   the browser; or clusters made by the server when the box holds too many).
 * - A heat layer fills each outline by its number of matching cases (/api/dashboard/heat/).
 * - Counters and ECharts charts from /api/dashboard/stats/.
 * - Every few seconds each source is asked again with If-None-Match: unchanged data costs a
 *   304; a new case or a colour change shows up within one poll.
 * - Filters live in the URL (shareable); clicking a marker or an inbox row opens the case in
 *   the side panel, whose action forms post in place and refresh everything.
 */
(function () {
  "use strict";

  var OUTLINE_STYLE = { color: "#1f5fa8", weight: 1, opacity: 0.8, fillOpacity: 0 };
  var FILTERS = ["state", "category", "channel", "colour", "window", "area", "closed", "patrols"];

  function $(id) { return document.getElementById(id); }
  function readJSON(id) { var el = $(id); return el ? JSON.parse(el.textContent) : null; }
  var i18n = ($("dash-i18n") || {}).dataset || {};

  /* ---- filters <-> URL ------------------------------------------------------------- */
  var form = $("dash-filters");
  function filtersFromUrl() {
    var q = new URLSearchParams(window.location.search);
    FILTERS.forEach(function (name) {
      var el = form.elements[name];
      if (!el) return;
      if (name === "patrols") el.checked = q.get(name) !== "0";  // on unless turned off
      else if (el.type === "checkbox") el.checked = q.get(name) === "1";
      else if (q.get(name) !== null) el.value = q.get(name);
    });
  }
  function filterQuery() {
    var q = new URLSearchParams();
    FILTERS.forEach(function (name) {
      var el = form.elements[name];
      if (!el) return;
      if (name === "patrols") { if (!el.checked) q.set(name, "0"); }
      else if (el.type === "checkbox") { if (el.checked) q.set(name, "1"); }
      else if (el.value && !(name === "window" && el.value === "all")) q.set(name, el.value);
    });
    return q;
  }
  function filtersToUrl() {
    var q = filterQuery().toString();
    history.replaceState(null, "", window.location.pathname + (q ? "?" + q : ""));
  }

  /* ---- conditional polling --------------------------------------------------------- */
  var etags = {};
  function getJSON(key, url, force) {
    var headers = { Accept: "application/json" };
    if (!force && etags[key] && etags[key].url === url) headers["If-None-Match"] = etags[key].etag;
    return fetch(url, { credentials: "same-origin", headers: headers }).then(function (r) {
      if (r.status === 304) return null;
      if (!r.ok) throw new Error(url + " → " + r.status);
      etags[key] = { url: url, etag: r.headers.get("ETag") };
      return r.json();
    });
  }

  var map, datum, cfg;
  var status = $("dash-status");
  var live = $("dash-live");
  function setStatus(ok) {
    live.classList.toggle("is-off", !ok);
    status.textContent = ok ? (i18n.updated || "") + " " + new Date().toLocaleTimeString() : i18n.offline;
  }

  function levelForZoom(z) {
    var level = z >= 14 ? 5 : z >= 13 ? 4 : z >= 11 ? 3 : 2;
    return Math.max(level, cfg.rootLevel || 1);
  }
  function bboxParam() {
    var b = map.getBounds();
    var sw = datum.fromDisplay(b.getSouthWest());
    var ne = datum.fromDisplay(b.getNorthEast());
    var clamp = function (v, lo, hi) { return Math.min(hi, Math.max(lo, v)); };
    return [clamp(sw.lng, -180, 179.9), clamp(sw.lat, -89.9, 89), clamp(ne.lng, -179.9, 180), clamp(ne.lat, -89, 90)]
      .map(function (v) { return v.toFixed(5); }).join(",");
  }

  /* ---- outlines as tiles (outline_tiles.js), with the heat fill -------------------- */
  var outlines;          // govgridOutlineTiles
  var heat = {};         // code -> count
  var heatMax = 0;

  function heatStyle(code) {
    var n = heat[code] || 0;
    if (!n) return L.extend({}, OUTLINE_STYLE, { fillOpacity: 0 });
    var t = Math.log(1 + n) / Math.log(1 + Math.max(heatMax, 1));
    return L.extend({}, OUTLINE_STYLE, {
      fillColor: t > 0.66 ? "#b4232a" : t > 0.33 ? "#f08c00" : "#f7c948", fillOpacity: 0.12 + 0.38 * t,
    });
  }

  /* ---- incidents --------------------------------------------------------------------- */
  var points;   // L.markerClusterGroup
  var clusters; // L.layerGroup of server-side clusters
  var markers = {};

  function markerIcon(p) {
    return L.divIcon({
      className: "inc-marker key-" + p.key + (p.urgent ? " is-urgent" : ""),
      html: "<span></span>",
      iconSize: [18, 18],
    });
  }
  function drawIncidents(fc) {
    points.clearLayers();
    clusters.clearLayers();
    markers = {};
    var container = map.getContainer();
    container.setAttribute("data-clustered", fc.clustered ? "1" : "0");
    if (fc.clustered) {
      fc.features.forEach(function (f) {
        var ll = datum.toDisplay(L.latLng(f.geometry.coordinates[1], f.geometry.coordinates[0]));
        var n = f.properties.count;
        var size = n < 10 ? 28 : n < 100 ? 36 : n < 1000 ? 44 : 52;
        var m = L.marker(ll, {
          icon: L.divIcon({
            className: "srv-cluster key-" + f.properties.key,
            html: "<span>" + n + "</span>",
            iconSize: [size, size],
          }),
          title: i18n.clustered,
        });
        m.on("click", function () { map.setView(ll, Math.min(Math.floor(map.getZoom()) + 2, 18)); });
        clusters.addLayer(m);
      });
    } else {
      var list = fc.features.map(function (f) {
        var p = f.properties;
        var ll = datum.toDisplay(L.latLng(f.geometry.coordinates[1], f.geometry.coordinates[0]));
        var m = L.marker(ll, { icon: markerIcon(p), title: p.number + " · " + p.category, riseOnHover: true });
        m.options.key = p.key;
        m.on("click", function () { openPanel(f.id); });
        m.on("add", function () {
          var el = m.getElement();
          if (el) { el.setAttribute("data-incident", f.id); el.setAttribute("data-key", p.key); }
        });
        markers[f.id] = m;
        return m;
      });
      points.addLayers(list);
    }
    container.setAttribute("data-incidents", String(fc.features.length));
  }

  /* ---- patrols in progress ------------------------------------------------------------ */
  var patrols;  // L.layerGroup
  var patrolsFetched = 0;
  function loadPatrols(force) {
    if (!form.elements.patrols.checked) { patrols.clearLayers(); return Promise.resolve(); }
    // Positions come every few seconds while a patrol runs; 15 s is fresh enough here.
    if (!force && Date.now() - patrolsFetched < 15000) return Promise.resolve();
    patrolsFetched = Date.now();
    return fetch("/api/dashboard/patrols/?bbox=" + bboxParam(), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (fc) {
        if (!fc) return;
        patrols.clearLayers();
        fc.features.forEach(function (f) {
          var p = f.properties;
          var label = p.worker + " · " + p.grid + " · " + p.distance_m + " m";
          L.geoJSON(f, datum.geojsonOptions({
            style: { color: "#0f766e", weight: 3, dashArray: "6 4", opacity: 0.9 }, interactive: false,
          })).addTo(patrols);
          if (p.at) {
            var ll = datum.toDisplay(L.latLng(p.at.coordinates[1], p.at.coordinates[0]));
            L.marker(ll, {
              icon: L.divIcon({ className: "patrol-marker", html: "<span>巡</span>", iconSize: [22, 22] }),
              title: label, zIndexOffset: -100,
            }).bindTooltip(label).addTo(patrols);
          }
        });
        map.getContainer().setAttribute("data-patrols", String(fc.features.length));
      });
  }

  /* ---- counters and charts ------------------------------------------------------------- */
  var charts = {};
  function chart(id) {
    if (!charts[id]) charts[id] = echarts.init($(id), null, { renderer: "canvas" });
    return charts[id];
  }
  function drawStats(data) {
    var c = data.counters;
    document.querySelectorAll("[data-counter]").forEach(function (el) {
      var v = c[el.getAttribute("data-counter")];
      el.textContent = v === null || v === undefined ? "–" : v + (el.getAttribute("data-suffix") || "");
    });
    var ch = data.charts;
    chart("chart-trend").setOption({
      animation: false,
      grid: { left: 36, right: 12, top: 28, bottom: 24 },
      legend: { top: 0, data: [i18n.new, i18n.closed] },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: ch.days.map(function (d) { return d.slice(5); }) },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: i18n.new, type: "line", smooth: true, data: ch.new, itemStyle: { color: "#b4232a" } },
        { name: i18n.closed, type: "line", smooth: true, data: ch.closed, itemStyle: { color: "#16794c" } },
      ],
    });
    var roomy = $("chart-category").clientWidth > 380;
    chart("chart-category").setOption({
      animation: false,
      tooltip: { trigger: "item", formatter: "{b}: {c} ({d}%)" },
      series: [{
        type: "pie", radius: roomy ? ["35%", "70%"] : ["40%", "80%"], center: ["50%", "55%"],
        label: { show: roomy, formatter: "{b} {c}" },
        data: ch.open_by_category.length ? ch.open_by_category : [{ name: i18n.none, value: 0 }],
      }],
    });
    var units = ch.overdue_by_unit.slice().reverse();
    chart("chart-units").setOption({
      animation: false,
      grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis" },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: units.map(function (u) { return u.name; }) },
      series: [{ type: "bar", data: units.map(function (u) { return u.value; }), itemStyle: { color: "#dc2626" } }],
    });
  }

  /* ---- the side panel: inbox and incident ------------------------------------------------ */
  var inbox = $("dash-inbox");
  var panel = $("dash-panel");
  function loadInbox() {
    return fetch(inbox.getAttribute("data-url"), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) { if (html !== null) inbox.innerHTML = html; });
  }
  function showPanel(html) {
    panel.innerHTML = html;
    panel.hidden = false;
    inbox.hidden = true;
    $("dash-side").scrollTop = 0;
    var box = panel.querySelector(".incident-panel");
    if (box) {
      panel.setAttribute("data-incident", box.getAttribute("data-incident"));
      var ll = datum.toDisplay(L.latLng(parseFloat(box.getAttribute("data-lat")), parseFloat(box.getAttribute("data-lon"))));
      if (!map.getBounds().pad(-0.1).contains(ll)) map.panTo(ll);
      highlight(ll);
    }
  }
  var halo;
  function highlight(ll) {
    if (halo) map.removeLayer(halo);
    halo = L.circleMarker(ll, { radius: 16, color: "#111827", weight: 3, fill: false, interactive: false }).addTo(map);
  }
  function openPanel(id) {
    return fetch("/dispatch/incidents/" + encodeURIComponent(id) + "/panel/", { credentials: "same-origin" })
      .then(function (r) { return r.text(); })
      .then(showPanel);
  }
  function closePanel() {
    panel.hidden = true;
    panel.removeAttribute("data-incident");
    inbox.hidden = false;
    if (halo) { map.removeLayer(halo); halo = null; }
  }
  panel.addEventListener("click", function (e) {
    if (e.target.closest("[data-panel-close]")) closePanel();
  });
  panel.addEventListener("submit", function (e) {
    var f = e.target;
    if (!f.matches("form.action-form")) return;
    e.preventDefault();
    var button = f.querySelector("[type=submit]");
    if (button) button.disabled = true;
    // f.action would be the input named "action": read the attribute.
    fetch(f.getAttribute("action"), { method: "POST", body: new FormData(f), credentials: "same-origin" })
      .then(function (r) { return r.text(); })
      .then(function (html) { showPanel(html); refresh(true); })
      .catch(function () { if (button) button.disabled = false; setStatus(false); });
  });
  document.addEventListener("click", function (e) {
    var a = e.target.closest("#dash-inbox a[data-incident]");
    if (!a || e.ctrlKey || e.metaKey || e.shiftKey) return;
    e.preventDefault();
    openPanel(a.getAttribute("data-incident"));
  });

  /* ---- refresh cycle ------------------------------------------------------------------ */
  var busy = false;
  var again = false;
  function refresh(force) {
    if (busy && !force) { again = true; return Promise.resolve(); }
    busy = true;
    again = false;
    var q = filterQuery();
    var z = Math.floor(map.getZoom());  // half steps (zoomSnap 0.5): the server wants whole zooms
    var box = bboxParam();
    var iq = new URLSearchParams(q); iq.set("bbox", box); iq.set("zoom", String(z));
    var hq = new URLSearchParams(q); hq.set("bbox", box); hq.set("level", String(levelForZoom(z)));
    var sq = new URLSearchParams(); if (q.get("area")) sq.set("area", q.get("area"));
    var changed = false;
    return Promise.all([
      getJSON("incidents", "/api/dashboard/incidents/?" + iq, force).then(function (fc) {
        if (fc) { drawIncidents(fc); changed = true; }
      }),
      getJSON("heat", "/api/dashboard/heat/?" + hq, force).then(function (h) {
        if (!h) return;
        heat = h.counts; heatMax = 0;
        Object.keys(heat).forEach(function (k) { heatMax = Math.max(heatMax, heat[k]); });
        outlines.restyle();
      }),
      getJSON("stats", "/api/dashboard/stats/?" + sq, force).then(function (s) {
        if (s) { drawStats(s); changed = true; }
      }),
      loadPatrols(force),
    ])
      .then(function () {
        setStatus(true);
        map.getContainer().setAttribute("data-loaded", "1");
        if (changed || force) return loadInbox();
      })
      .catch(function () { setStatus(false); })
      .finally(function () {
        busy = false;
        if (again) refresh(false);
      });
  }

  /* ---- area focus: fit the map to the chosen area ---------------------------------------- */
  var focusLayer;
  function focusArea(code) {
    if (focusLayer) { map.removeLayer(focusLayer); focusLayer = null; }
    var option = code && form.elements.area.querySelector("option[value='" + CSS.escape(code) + "']");
    if (!option) return;
    var url = "/api/areas/" + encodeURIComponent(code) + "/outlines/?zoom=14&level=" + option.getAttribute("data-level");
    fetch(url, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (fc) {
        if (!fc || !fc.features.length) return;
        focusLayer = L.geoJSON(fc, datum.geojsonOptions({ style: { color: "#b4232a", weight: 3, fill: false }, interactive: false })).addTo(map);
        map.fitBounds(focusLayer.getBounds(), { padding: [16, 16] });
      });
  }

  window.govgridDashboard = function (leafletMap) {
    map = leafletMap;
    window.govgridDashboardMap = map;
    cfg = readJSON("dashboard-config") || {};
    datum = window.govgridBasemap(map, readJSON("map-config"));
    filtersFromUrl();

    // Half zoom steps, so the area fills a wall screen instead of a quarter of it.
    map.options.zoomSnap = 0.5;
    var area;
    if (cfg.bbox) {
      area = L.latLngBounds(
        datum.toDisplay(L.latLng(cfg.bbox[1], cfg.bbox[0])), datum.toDisplay(L.latLng(cfg.bbox[3], cfg.bbox[2]))
      );
      map.fitBounds(area, { padding: [8, 8] });
    }
    outlines = window.govgridOutlineTiles(map, {
      style: heatStyle,
      bounds: area && area.pad(0.05),
      tooltip: function (p) { return p.name + (heat[p.code] ? " · " + heat[p.code] + " " + i18n.cases : ""); },
    });

    points = L.markerClusterGroup({
      maxClusterRadius: 40, disableClusteringAtZoom: 17, chunkedLoading: true, showCoverageOnHover: false,
      iconCreateFunction: function (c) {
        // A cluster takes the colour of its hottest case.
        var hottest = 0;
        // Marker keys calm to hottest, the server's ranking (dispatch/dashboard.py).
        var rank = cfg.keyRank;
        c.getAllChildMarkers().forEach(function (m) {
          hottest = Math.max(hottest, rank.indexOf(m.options.key));
        });
        var n = c.getChildCount();
        return L.divIcon({
          className: "cli-cluster srv-cluster key-" + rank[hottest], html: "<span>" + n + "</span>", iconSize: [34, 34],
        });
      },
    }).addTo(map);
    clusters = L.layerGroup().addTo(map);
    patrols = L.layerGroup().addTo(map);

    var q = new URLSearchParams(window.location.search);
    if (q.get("area")) focusArea(q.get("area"));

    form.addEventListener("change", function (e) {
      filtersToUrl();
      if (e.target.name === "area") focusArea(e.target.value);
      refresh(true);
    });
    $("dash-reset").addEventListener("click", function () {
      form.reset();
      filtersToUrl();
      focusArea("");
      refresh(true);
    });
    map.on("moveend", function () { refresh(false); });
    refresh(true);
    setInterval(function () { if (!document.hidden) refresh(false); }, (cfg.pollSeconds || 5) * 1000);
    // Safety net: once a minute everything is fetched unconditionally.
    setInterval(function () { if (!document.hidden) refresh(true); }, 60000);
    window.addEventListener("resize", function () {
      Object.keys(charts).forEach(function (k) { charts[k].resize(); });
    });
  };
})();
