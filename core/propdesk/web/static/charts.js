// Draws every <canvas data-chart='{"type","labels","datasets":[{"label","data"}],"money"}'>
// with Chart.js, in the desk's colours; again after HTMX swaps a part of the page.
(function () {
  "use strict";
  function colours() {
    var css = getComputedStyle(document.documentElement);
    return [css.getPropertyValue("--primary").trim() || "#1F2A44",
            css.getPropertyValue("--accent").trim() || "#3B82F6",
            "#64748B", "#16A34A", "#DC2626", "#9333EA"];
  }
  function draw(canvas) {
    if (typeof Chart === "undefined") return;
    var spec = JSON.parse(canvas.dataset.chart);
    var palette = colours();
    var previous = Chart.getChart(canvas);
    if (previous) previous.destroy();
    spec.datasets.forEach(function (set, i) {
      var colour = set.color || palette[i % palette.length];
      set.data = set.data.map(function (v) { return v === null ? null : Number(v); });
      set.borderColor = set.borderColor || colour;
      set.backgroundColor = set.backgroundColor || (spec.type === "line" ? colour + "22" : colour);
      set.pointRadius = set.pointRadius === undefined ? 0 : set.pointRadius;
      set.borderDash = set.dash ? [6, 4] : undefined;
    });
    new Chart(canvas, {
      type: spec.type || "line",
      data: { labels: spec.labels, datasets: spec.datasets },
      options: {
        animation: false, responsive: true, maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        plugins: { legend: { display: spec.datasets.length > 1, position: "bottom" } },
        scales: spec.type === "doughnut" ? {} : {
          x: { ticks: { maxTicksLimit: 8, autoSkip: true } },
          y: { stacked: !!spec.stacked, beginAtZero: !!spec.zero },
        },
      },
    });
  }
  function drawAll(root) {
    (root || document).querySelectorAll("canvas[data-chart]").forEach(draw);
  }
  document.addEventListener("DOMContentLoaded", function () { drawAll(); });
  document.addEventListener("htmx:afterSettle", function (event) { drawAll(event.target); });
  // Countdowns: <span data-countdown="ISO time"> shows hh:mm:ss until then.
  function tick() {
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      var left = Math.max(0, Math.floor((Date.parse(el.dataset.countdown) - Date.now()) / 1000));
      var h = Math.floor(left / 3600), m = Math.floor(left % 3600 / 60), s = left % 60;
      el.textContent = h + "h " + String(m).padStart(2, "0") + "m " + String(s).padStart(2, "0") + "s";
    });
  }
  setInterval(tick, 1000);
  document.addEventListener("DOMContentLoaded", tick);
  document.addEventListener("htmx:afterSettle", tick);
})();
