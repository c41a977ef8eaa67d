/* "Show" beside a masked identity number, phone or sensitive record: asks the server for the
 * full value (the server checks the role and writes an audit row) and shows it in place. The
 * value is never stored in the page's storage and is gone on reload. */
(function () {
  "use strict";
  function t(zh, en) {
    return document.documentElement.lang === "en" ? en : zh;
  }
  function csrf() {
    var field = document.querySelector("[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }
  document.querySelectorAll("button.reveal").forEach(function (button) {
    button.addEventListener("click", function () {
      var target = document.querySelector('[data-reveal-target="' + button.dataset.revealFor + '"]');
      button.disabled = true;
      fetch(button.dataset.revealUrl, {
        method: "POST",
        headers: { "X-CSRFToken": csrf(), "X-Requested-With": "fetch" },
        credentials: "same-origin",
      })
        .then(function (r) {
          if (!r.ok) throw new Error(r.status);
          return r.json();
        })
        .then(function (data) {
          target.textContent = data.value;
          target.classList.add("revealed");
          button.remove();
        })
        .catch(function () {
          button.disabled = false;
          target.textContent = target.textContent + " " + t("（无法显示）", "(cannot show)");
        });
    });
  });
})();
