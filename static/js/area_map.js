/* Area map: draws the outlines listed in #area-map-sources and fits the view to them.
 * Each source is {url, style: "self" | "child" | "grid", link}; clicking a linked outline
 * opens that area's page. */
(function () {
  "use strict";
  var STYLES = {
    self: { color: "#b4232a", weight: 3, fill: false },
    child: { color: "#1f5fa8", weight: 2, fillColor: "#1f5fa8", fillOpacity: 0.06 },
    grid: { color: "#6b7785", weight: 1, dashArray: "3 3", fill: false, interactive: false },
  };

  function readJSON(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  window.govgridAreaMap = function (map) {
    window.govgridBasemap(map, readJSON("map-config"));
    var sources = readJSON("area-map-sources") || [];
    var bounds = L.latLngBounds([]);
    var pending = sources.length;
    sources.forEach(function (src) {
      fetch(src.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { features: [] }; })
        .then(function (fc) {
          var layer = L.geoJSON(fc, window.govgridDatum.geojsonOptions({
            style: STYLES[src.style] || STYLES.child,
            onEachFeature: function (f, l) {
              if (src.style === "grid") return;
              l.bindTooltip(f.properties.name, { sticky: true });
              if (src.link) {
                l.on("click", function () {
                  window.location.href = "/grids/areas/" + encodeURIComponent(f.properties.code) + "/";
                });
              }
            },
          })).addTo(map);
          if (src.style === "grid") layer.bringToBack();
          if (layer.getLayers().length) bounds.extend(layer.getBounds());
        })
        .finally(function () {
          pending -= 1;
          if (pending === 0 && bounds.isValid()) map.fitBounds(bounds, { padding: [12, 12] });
          if (pending === 0) map.getContainer().setAttribute("data-loaded", "1");
        });
    });
  };
})();
