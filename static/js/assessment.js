/* Monthly assessment pages: progress of a month being computed, the 12-month trend chart,
   the print button. No inline scripts (CSP). */
(function () {
  "use strict";

  function pollProgress(box) {
    var url = box.getAttribute("data-progress-url");
    var bar = box.querySelector("progress");
    var percent = box.querySelector(".assess-percent");
    var step = box.querySelector(".assess-step");
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (data) {
          bar.value = data.progress;
          percent.textContent = data.progress;
          if (data.step) { step.textContent = data.step; }
          if (data.status !== "computing") {
            window.location.reload();
            return;
          }
          window.setTimeout(tick, 1500);
        })
        .catch(function () { window.setTimeout(tick, 5000); });
    }
    window.setTimeout(tick, 1000);
  }

  function trendChart(el) {
    var source = document.getElementById("assess-trend-data");
    if (!source || !window.echarts) { return; }
    var data = JSON.parse(source.textContent);
    if (!data.length) { el.hidden = true; return; }
    var chart = window.echarts.init(el);
    chart.setOption({
      tooltip: { trigger: "axis" },
      legend: { top: 0, data: [el.dataset.scoreLabel, el.dataset.rankLabel] },
      grid: { left: 48, right: 48, top: 40, bottom: 28 },
      xAxis: { type: "category", data: data.map(function (d) { return d.month; }) },
      yAxis: [
        { type: "value", name: el.dataset.scoreLabel, min: 0 },
        { type: "value", name: el.dataset.rankLabel, inverse: true, min: 1, minInterval: 1 }
      ],
      series: [
        {
          name: el.dataset.scoreLabel, type: "bar", barMaxWidth: 28, itemStyle: { color: "#b4232a" },
          label: { show: true, position: "top" },
          data: data.map(function (d) { return d.score; })
        },
        {
          name: el.dataset.rankLabel, type: "line", yAxisIndex: 1, symbolSize: 8,
          itemStyle: { color: "#1f5fa8" }, data: data.map(function (d) { return d.rank; })
        }
      ]
    });
    window.addEventListener("resize", function () { chart.resize(); });
    el.setAttribute("data-ready", "1");
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-progress-url]").forEach(pollProgress);
    var trend = document.getElementById("assess-trend");
    if (trend) { trendChart(trend); }
    var print = document.getElementById("print-button");
    if (print) { print.addEventListener("click", function () { window.print(); }); }
  });
})();
