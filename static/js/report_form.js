/* The report form: position from GPS or a tap on the map, a searchable category list, the
 * "handled on the spot" section, and a draft kept in localStorage so a lost connection or a
 * reload never loses a half-typed report (photos cannot be kept and must be re-attached). */
(function () {
  "use strict";
  var form = document.getElementById("report-form");
  if (!form) return;
  var lon = form.querySelector("[name=lon]");
  var lat = form.querySelector("[name=lat]");
  var source = form.querySelector("[name=location_source]");
  var status = document.getElementById("position-status");
  var draftStatus = document.getElementById("draft-status");
  var draftKey = form.dataset.draftKey;
  var marker = null;
  var map = null;

  function t(zh, en) {
    return document.documentElement.lang === "en" ? en : zh;
  }

  function setPosition(lng, la, how, quiet) {
    lon.value = lng.toFixed(7);
    lat.value = la.toFixed(7);
    source.value = how;
    if (map) {
      var ll = window.govgridDatum.toDisplay(L.latLng(la, lng));
      if (marker) marker.setLatLng(ll);
      else marker = L.marker(ll).addTo(map);
      map.setView(ll, Math.max(map.getZoom(), 16));
    }
    status.textContent = t("已定位：", "Position: ") + la.toFixed(5) + ", " + lng.toFixed(5);
    if (!quiet) saveDraft();
  }

  window.govgridReportMap = function (m) {
    map = m;
    var cfgEl = document.getElementById("map-config");
    window.govgridBasemap(map, cfgEl ? JSON.parse(cfgEl.textContent) : null);
    // The grids (or, zoomed out, the larger areas) the user may report in, as context for a pick.
    if (window.govgridOutlineTiles) {
      window.govgridOutlineTiles(map, {
        minZoom: 11,
        style: function () { return { color: "#1f5fa8", weight: 1.5, dashArray: "4 3", fillOpacity: 0.04 }; },
      });
    }
    map.on("click", function (e) {
      var w = window.govgridDatum.fromDisplay(e.latlng);  // stored coordinates stay WGS-84
      setPosition(w.lng, w.lat, "map");
    });
    if (lon.value && lat.value) setPosition(parseFloat(lon.value), parseFloat(lat.value), source.value || "map", true);
    else {
      // Start on the user's own grids when the server says where they are.
      fetch("/api/me/area-bounds/", { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (b) {
          // Only when nothing was picked meanwhile (the GPS may answer first).
          if (b && b.bbox && !marker) map.fitBounds([[b.bbox[1], b.bbox[0]], [b.bbox[3], b.bbox[2]]]);
        })
        .catch(function () {});
    }
  };

  var gps = document.getElementById("use-gps");
  if (gps) {
    gps.addEventListener("click", function () {
      if (!navigator.geolocation) {
        status.textContent = t("此设备无法定位，请在地图上点选。", "This device cannot locate itself; tap the map.");
        return;
      }
      status.textContent = t("正在定位…", "Locating…");
      navigator.geolocation.getCurrentPosition(
        function (p) { setPosition(p.coords.longitude, p.coords.latitude, "gps"); },
        function () { status.textContent = t("定位失败，请在地图上点选位置。", "Could not locate; tap the map instead."); },
        { enableHighAccuracy: true, timeout: 15000, maximumAge: 30000 }
      );
    });
  }

  // Category search: hide options that do not match (their optgroup label counts too).
  var filter = document.getElementById("category-filter");
  var select = form.querySelector("[name=category]");
  if (filter && select) {
    filter.addEventListener("input", function () {
      var q = filter.value.trim();
      var first = null;
      Array.prototype.forEach.call(select.options, function (o) {
        var group = o.parentNode.label || "";
        var show = !q || o.text.indexOf(q) >= 0 || group.indexOf(q) >= 0 || !o.value;
        o.hidden = !show;
        if (show && o.value && !first) first = o;
      });
      if (first && q) select.value = first.value;
    });
  }

  // "Handled on the spot" reveals the result and evidence fields.
  var selfBox = form.querySelector("[name=is_self_handled]");
  var selfSection = document.getElementById("self-handled");
  function toggleSelf() { if (selfSection) selfSection.hidden = !(selfBox && selfBox.checked); }
  if (selfBox) selfBox.addEventListener("change", toggleSelf);
  toggleSelf();

  // Draft: every text field, kept on each change.
  var KEEP = "input:not([type=file]):not([type=hidden]):not([type=search]), textarea, select, input[name=lon], input[name=lat], input[name=location_source]";
  function saveDraft() {
    if (!draftKey) return;
    var data = {};
    form.querySelectorAll(KEEP).forEach(function (el) {
      if (!el.name || el.name === "csrfmiddlewaretoken") return;
      data[el.name] = el.type === "checkbox" ? el.checked : el.value;
    });
    try {
      localStorage.setItem(draftKey, JSON.stringify(data));
      if (draftStatus) draftStatus.textContent = t("草稿已保存在本机。", "Draft kept on this device.");
    } catch (e) { /* storage full or disabled: nothing to do */ }
  }
  function restoreDraft() {
    if (!draftKey || form.querySelector(".field-error, .form-errors")) return;
    var raw = localStorage.getItem(draftKey);
    if (!raw) return;
    var data;
    try { data = JSON.parse(raw); } catch (e) { return; }
    form.querySelectorAll(KEEP).forEach(function (el) {
      if (!(el.name in data)) return;
      if (el.type === "checkbox") el.checked = !!data[el.name];
      else el.value = data[el.name];
    });
    toggleSelf();
    if (draftStatus) draftStatus.textContent = t("已恢复未提交的草稿。", "Your unsent draft was restored.");
  }
  restoreDraft();
  form.addEventListener("input", saveDraft);
  form.addEventListener("change", saveDraft);
  form.dataset.ready = "1"; // for tests and for styles that wait for the script
})();
