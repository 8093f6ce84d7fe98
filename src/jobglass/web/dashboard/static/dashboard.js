// jobglass dashboard: draws the charts with uPlot from the JSON each page carries.
// Pages work without this file: the server draws the same series as SVG.
(function () {
  "use strict";
  var COLOURS = { ok: "#1a7f37", bad: "#cf222e", warn: "#d4a72c", p50: "#2f6fde", p95: "#8250df", p99: "#cf222e" };

  function fmt(unit, v) {
    if (v == null) return "–";
    if (unit === "s") return v < 1 ? Math.round(v * 1000) + "ms" : (+v.toFixed(1)) + "s";
    return String(Math.round(v * 10) / 10);
  }

  function draw(fig) {
    if (typeof uPlot === "undefined") return;
    var script = fig.querySelector("script.chart-data");
    var target = fig.querySelector(".plot");
    if (!script || !target || target.childElementCount) return;
    var data = JSON.parse(script.textContent);
    var series = [{}];
    var columns = [data.x];
    data.series.forEach(function (s) {
      series.push({ label: s.label, stroke: COLOURS[s.css] || "#555", width: 1.6,
                    points: { show: false }, spanGaps: data.unit === "s",
                    value: function (u, v) { return fmt(data.unit, v); } });
      columns.push(s.values);
    });
    var width = Math.max(300, target.clientWidth || fig.clientWidth - 24);
    var opts = {
      width: width, height: 150, series: series, legend: { live: true },
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"); },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: function (u, min, max) { return [0, Math.max(max || 0, data.unit === "s" ? 0.01 : 1)]; } } },
      axes: [{ stroke: "#6b7280", grid: { stroke: "#eff1f3" } },
             { stroke: "#6b7280", grid: { stroke: "#eff1f3" }, size: 64,
               values: function (u, vals) { return vals.map(function (v) { return fmt(data.unit, v); }); } }]
    };
    new uPlot(opts, columns, target);
    fig.classList.add("js");
  }

  function drawAll() {
    document.querySelectorAll("figure.chart").forEach(function (fig) {
      try { draw(fig); } catch (e) { /* the SVG stays */ }
    });
  }

  // keep a tailed log scrolled to the bottom when it already was
  document.addEventListener("htmx:beforeSwap", function (evt) {
    var log = evt.detail.target && evt.detail.target.closest(".log");
    if (log) log.dataset.stick = (log.scrollTop + log.clientHeight >= log.scrollHeight - 8) ? "1" : "";
  });
  document.addEventListener("htmx:afterSettle", function (evt) {
    document.querySelectorAll(".log[data-stick='1']").forEach(function (l) { l.scrollTop = l.scrollHeight; });
  });

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", drawAll);
  else drawAll();
})();
