/* Follows a background import: polls its status every two seconds and reloads the page when
 * the check or the write has finished. */
(function () {
  "use strict";
  var box = document.getElementById("import-job");
  if (!box || (box.dataset.state !== "checking" && box.dataset.state !== "writing")) return;
  var bar = document.getElementById("import-progress");
  function poll() {
    fetch(box.dataset.statusUrl, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        if (bar) { bar.value = s.percent; bar.textContent = s.percent + "%"; }
        if (s.state !== box.dataset.state) { window.location.reload(); return; }
        window.setTimeout(poll, 2000);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
})();
