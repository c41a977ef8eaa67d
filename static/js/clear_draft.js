/* After a report was filed, forget its draft (keys listed in data-clear-draft). */
(function () {
  "use strict";
  document.querySelectorAll("[data-clear-draft]").forEach(function (el) {
    el.dataset.clearDraft.split(" ").forEach(function (k) {
      try { localStorage.removeItem(k); } catch (e) { /* ignore */ }
    });
  });
})();
