/* Area outlines as GeoJSON tiles (/api/tiles/areas/z/x/y.geojson), shared by every map.
 *
 * The server sends one level of the area tree per zoom, only what the user may see. An
 * outline that crosses tiles arrives in each of them; it is drawn once and removed with the
 * last tile that carried it.
 *
 *   var outlines = govgridOutlineTiles(map, {
 *     style: function (code) { return {...}; },      // per-area style (called again on restyle())
 *     tooltip: function (props) { return "..."; },  // optional
 *     bounds: L.latLngBounds(...),                  // optional: no tiles outside
 *     minZoom: 8,
 *   });
 *   outlines.restyle();  // after the data behind style() changed
 */
(function () {
  "use strict";
  window.govgridOutlineTiles = function (map, opts) {
    opts = opts || {};
    var datum = window.govgridDatum;
    var group = L.featureGroup().addTo(map);
    var byCode = {};     // code -> {layer, tiles: {key: true}}
    var tileCodes = {};  // key -> [codes]
    var style = opts.style || function () { return { color: "#1f5fa8", weight: 1, fillOpacity: 0 }; };

    var Tiles = L.GridLayer.extend({
      createTile: function (coords, done) {
        var tile = document.createElement("div");
        var key = coords.z + "/" + coords.x + "/" + coords.y;
        fetch("/api/tiles/areas/" + key + ".geojson", { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : { features: [] }; })
          .then(function (fc) {
            var codes = [];
            fc.features.forEach(function (f) {
              var code = f.properties.code;
              codes.push(code);
              if (!byCode[code]) {
                var layer = L.geoJSON(f, datum.geojsonOptions({
                  style: function () { return style(code); },
                  interactive: !!opts.tooltip,
                }));
                if (opts.tooltip) layer.bindTooltip(function () { return opts.tooltip(f.properties); }, { sticky: true });
                byCode[code] = { layer: layer, tiles: {} };
                group.addLayer(layer);
                layer.bringToBack();
              }
              byCode[code].tiles[key] = true;
            });
            tileCodes[key] = codes;
            done(null, tile);
          })
          .catch(function (err) { done(err, tile); });
        return tile;
      },
    });
    var tileOpts = { tileSize: 256, minZoom: opts.minZoom || 8, maxZoom: 20, updateWhenZooming: false, keepBuffer: 1 };
    if (opts.bounds) tileOpts.bounds = opts.bounds;
    var tiles = new Tiles(tileOpts);
    tiles.on("tileunload", function (e) {
      var key = e.coords.z + "/" + e.coords.x + "/" + e.coords.y;
      (tileCodes[key] || []).forEach(function (code) {
        var entry = byCode[code];
        if (!entry) return;
        delete entry.tiles[key];
        if (!Object.keys(entry.tiles).length) { group.removeLayer(entry.layer); delete byCode[code]; }
      });
      delete tileCodes[key];
    });
    tiles.addTo(map);
    return {
      group: group,
      restyle: function () {
        Object.keys(byCode).forEach(function (code) { byCode[code].layer.setStyle(style(code)); });
      },
    };
  };
})();
