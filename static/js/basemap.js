/* Base layer from the deployment's MAP_TILE_PROVIDER setting, and the datum the map shows.
 *
 * tianditu: 天地图 vector tiles + labels (needs TIANDITU_KEY). Its web-mercator tiles are in
 *   WGS-84 (CGCS2000, the same to within centimetres), like the coordinates govgrid stores,
 *   so nothing is shifted.
 * amap: 高德 tiles, drawn in GCJ-02 (the "Mars" datum Chinese law requires of such maps).
 *   Stored WGS-84 points and outlines are shifted into GCJ-02 only for display, and a point
 *   picked on the map is shifted back to WGS-84 before it is used.
 * none (or no key): a blank background; outlines and markers are still drawn.
 *
 * window.govgridDatum.toDisplay(latlng) / fromDisplay(latlng) convert between the stored
 * datum and the map's; geojsonOptions() gives L.geoJSON the matching coordsToLatLng. */
(function () {
  "use strict";
  var A = 6378245.0;
  var EE = 0.00669342162296594323;

  function outOfChina(lat, lng) {
    return lng < 72.004 || lng > 137.8347 || lat < 0.8293 || lat > 55.8271;
  }
  function tLat(x, y) {
    var r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    r += (20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0 / 3.0;
    r += (20.0 * Math.sin(y * Math.PI) + 40.0 * Math.sin(y / 3.0 * Math.PI)) * 2.0 / 3.0;
    r += (160.0 * Math.sin(y / 12.0 * Math.PI) + 320 * Math.sin(y * Math.PI / 30.0)) * 2.0 / 3.0;
    return r;
  }
  function tLng(x, y) {
    var r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    r += (20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0 / 3.0;
    r += (20.0 * Math.sin(x * Math.PI) + 40.0 * Math.sin(x / 3.0 * Math.PI)) * 2.0 / 3.0;
    r += (150.0 * Math.sin(x / 12.0 * Math.PI) + 300.0 * Math.sin(x / 30.0 * Math.PI)) * 2.0 / 3.0;
    return r;
  }
  /* WGS-84 → GCJ-02 offset at a point (the published algorithm). */
  function offset(lat, lng) {
    var dLat = tLat(lng - 105.0, lat - 35.0);
    var dLng = tLng(lng - 105.0, lat - 35.0);
    var radLat = lat / 180.0 * Math.PI;
    var magic = 1 - EE * Math.sin(radLat) * Math.sin(radLat);
    var sqrtMagic = Math.sqrt(magic);
    dLat = (dLat * 180.0) / ((A * (1 - EE)) / (magic * sqrtMagic) * Math.PI);
    dLng = (dLng * 180.0) / (A / sqrtMagic * Math.cos(radLat) * Math.PI);
    return [dLat, dLng];
  }
  function wgsToGcj(lat, lng) {
    if (outOfChina(lat, lng)) return [lat, lng];
    var d = offset(lat, lng);
    return [lat + d[0], lng + d[1]];
  }
  /* GCJ-02 → WGS-84 by fixed-point iteration (error well under a centimetre). */
  function gcjToWgs(lat, lng) {
    if (outOfChina(lat, lng)) return [lat, lng];
    var wLat = lat, wLng = lng;
    for (var i = 0; i < 5; i++) {
      var g = wgsToGcj(wLat, wLng);
      wLat -= g[0] - lat;
      wLng -= g[1] - lng;
    }
    return [wLat, wLng];
  }

  var identity = {
    name: "wgs84",
    toDisplay: function (ll) { return L.latLng(ll); },
    fromDisplay: function (ll) { return L.latLng(ll); },
  };
  var gcj02 = {
    name: "gcj02",
    toDisplay: function (ll) { ll = L.latLng(ll); var g = wgsToGcj(ll.lat, ll.lng); return L.latLng(g[0], g[1]); },
    fromDisplay: function (ll) { ll = L.latLng(ll); var w = gcjToWgs(ll.lat, ll.lng); return L.latLng(w[0], w[1]); },
  };
  function withGeojson(datum) {
    datum.geojsonOptions = function (opts) {
      opts = opts || {};
      if (datum.name !== "wgs84") {
        opts.coordsToLatLng = function (c) { return datum.toDisplay(L.latLng(c[1], c[0])); };
      }
      return opts;
    };
    return datum;
  }
  window.govgridDatum = withGeojson(identity);
  window.govgridGcj = { wgsToGcj: wgsToGcj, gcjToWgs: gcjToWgs };

  function tianditu(layer, key) {
    return L.tileLayer(
      "https://t{s}.tianditu.gov.cn/" + layer + "_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0" +
        "&LAYER=" + layer + "&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=" +
        encodeURIComponent(key),
      { subdomains: "01234567", maxZoom: 18, attribution: "© 天地图" }
    );
  }
  window.govgridBasemap = function (map, cfg) {
    var provider = cfg && cfg.provider;
    if (provider === "tianditu" && cfg.tiandituKey) {
      tianditu("vec", cfg.tiandituKey).addTo(map);
      tianditu("cva", cfg.tiandituKey).addTo(map);
      window.govgridDatum = withGeojson(identity);
    } else if (provider === "amap") {
      L.tileLayer(
        "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
        { subdomains: "1234", maxZoom: 18, attribution: "© 高德地图" }
      ).addTo(map);
      window.govgridDatum = withGeojson(gcj02);
    } else {
      map.getContainer().classList.add("map-blank");
      window.govgridDatum = withGeojson(identity);
    }
    map.getContainer().setAttribute("data-datum", window.govgridDatum.name);
    return window.govgridDatum;
  };
})();
