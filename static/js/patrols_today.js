/* Today's patrol tracks on a map: running ones in red, finished ones in blue. */
(function () {
  "use strict";
  function readJSON(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }
  window.govgridPatrolsMap = function (map) {
    window.govgridBasemap(map, readJSON("map-config"));
    var url = document.getElementById("patrols-map-frame").dataset.tracksUrl;
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (fc) {
        var layer = L.geoJSON(fc, window.govgridDatum.geojsonOptions({
          style: function (f) {
            return { color: f.properties.running ? "#b4232a" : "#1f5fa8", weight: 4, opacity: 0.8 };
          },
          onEachFeature: function (f, l) {
            var p = f.properties;
            l.bindTooltip(p.worker + " · " + p.grid + " · " + p.distance_m + " m", { sticky: true });
          },
        })).addTo(map);
        map.getContainer().dataset.tracks = String(fc.features.length);
        if (fc.features.length) map.fitBounds(layer.getBounds(), { maxZoom: 17, padding: [20, 20] });
      });
  };
})();
