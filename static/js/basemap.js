/* Base layer from the deployment's MAP_TILE_PROVIDER setting.
 * tianditu: 天地图 vector tiles + labels (needs TIANDITU_KEY); none or no key: a blank
 * background, outlines still drawn. Stored coordinates are WGS-84, which is what 天地图's
 * web-mercator tiles use, so nothing is shifted here. */
(function () {
  "use strict";
  function tianditu(layer, key) {
    return L.tileLayer(
      "https://t{s}.tianditu.gov.cn/" + layer + "_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0" +
        "&LAYER=" + layer + "&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=" +
        encodeURIComponent(key),
      { subdomains: "01234567", maxZoom: 18, attribution: "© 天地图" }
    );
  }
  window.govgridBasemap = function (map, cfg) {
    if (cfg && cfg.provider === "tianditu" && cfg.tiandituKey) {
      tianditu("vec", cfg.tiandituKey).addTo(map);
      tianditu("cva", cfg.tiandituKey).addTo(map);
    } else {
      map.getContainer().classList.add("map-blank");
    }
  };
})();
