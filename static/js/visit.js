/* The visit form on the phone: fill in the position from GPS when the page opens, so the
 * server can check it against the household's grid. A visit without a position is still
 * saved (indoors the phone often cannot locate itself). */
(function () {
  "use strict";
  var form = document.getElementById("visit-form");
  if (!form) return;
  var status = document.getElementById("visit-position");
  function t(zh, en) {
    return document.documentElement.lang === "en" ? en : zh;
  }
  if (!navigator.geolocation) {
    status.textContent = t("此设备无法定位，走访将不带位置保存。", "This device cannot locate itself; the visit is saved without a position.");
    return;
  }
  navigator.geolocation.getCurrentPosition(
    function (p) {
      form.querySelector("[name=lon]").value = p.coords.longitude.toFixed(6);
      form.querySelector("[name=lat]").value = p.coords.latitude.toFixed(6);
      status.textContent = t("已定位", "Position found") + " (±" + Math.round(p.coords.accuracy) + " m)";
    },
    function () {
      status.textContent = t("定位失败，走访将不带位置保存。", "Could not locate; the visit is saved without a position.");
    },
    { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
  );
})();
