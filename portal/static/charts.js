// Draws the portal's charts with the vendored uPlot: every `.chart-plot[data-chart]` element, on load and
// in content htmx swaps in. The data (portal/charts.py): {unit, currency, zone, time_label, labels, x, ys};
// x in Unix seconds, shown in the viewer's time zone; values formatted in the page's language.
(function () {
  "use strict";
  var COLOURS = ["#0a5c7a", "#c0571a", "#2e7d32", "#6a3d9a", "#a4262c", "#5f6b00"];
  var HEIGHT = 220;

  function language() {
    return document.documentElement.lang || "en";
  }

  function formatter(spec) {
    var lang = language();
    if (spec.unit === "percent") {
      var percent = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 });
      return function (v) { return percent.format(v) + "%"; };
    }
    if (spec.unit === "money") {
      var money = new Intl.NumberFormat(lang, { style: "currency", currency: spec.currency });
      return function (v) { return money.format(v); };
    }
    var number = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 });
    var units = ["B/s", "kB/s", "MB/s", "GB/s", "TB/s"];
    return function (v) {
      var i = 0;
      while (Math.abs(v) >= 1000 && i < units.length - 1) { v /= 1000; i += 1; }
      return number.format(v) + " " + units[i];
    };
  }

  var DAY = 86400;

  // Times on the x axis and in the legend: the page's language, the viewer's zone. Steps of a day or more
  // (earnings per day) show dates only, with ticks on whole days; charts over more than a day show the date
  // with the time; charts over minutes show seconds.
  function timeFormats(spec) {
    var lang = language();
    var span = spec.x.length ? spec.x[spec.x.length - 1] - spec.x[0] : 0;
    var step = spec.x.length > 1 ? spec.x[1] - spec.x[0] : 0;
    var daily = step >= DAY;
    var tick = daily ? { month: "numeric", day: "numeric" } : { hour: "2-digit", minute: "2-digit" };
    if (!daily && span > DAY) {
      tick.month = "numeric";
      tick.day = "numeric";
    } else if (!daily && span < 900) {
      tick.second = "2-digit";
    }
    tick.timeZone = spec.zone;
    var full = daily ? { year: "numeric", month: "short", day: "numeric" }
      : { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" };
    full.timeZone = spec.zone;
    return {
      daily: daily,
      tick: new Intl.DateTimeFormat(lang, tick),
      full: new Intl.DateTimeFormat(lang, full),
    };
  }

  // Money ticks on whole cents (or whole units of larger steps): never two ticks that read the same.
  var MONEY_STEPS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4,
    2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 1e7, 1e8];
  var DAY_STEPS = [DAY, 2 * DAY, 7 * DAY, 14 * DAY, 30 * DAY, 91 * DAY, 182 * DAY, 365 * DAY];

  function draw(element) {
    if (element.getAttribute("data-drawn") || typeof uPlot === "undefined") {
      return;
    }
    var spec = JSON.parse(element.getAttribute("data-chart"));
    var format = formatter(spec);
    var times = timeFormats(spec);
    var series = [{
      label: spec.time_label,
      value: function (u, ts) { return ts == null ? "–" : times.full.format(new Date(ts * 1e3)); },
    }];
    spec.labels.forEach(function (label, i) {
      var colour = COLOURS[i % COLOURS.length];
      series.push({
        label: label,
        stroke: colour,
        width: 2,
        fill: spec.labels.length === 1 ? colour + "22" : undefined,
        value: function (u, v) { return v == null ? "–" : format(v); },
        spanGaps: false,
      });
    });
    var xAxis = {
      values: function (u, splits) {
        return splits.map(function (ts) { return times.tick.format(new Date(ts * 1e3)); });
      },
      space: 60,
    };
    if (times.daily) {
      xAxis.incrs = DAY_STEPS;
    }
    var yAxis = { values: function (u, splits) { return splits.map(format); }, size: 70 };
    if (spec.unit === "money") {
      yAxis.incrs = MONEY_STEPS;
    }
    var options = {
      width: Math.max(element.clientWidth, 200),
      height: HEIGHT,
      series: series,
      scales: spec.unit === "percent" ? { y: { range: [0, 100] } } : {},
      axes: [xAxis, yAxis],
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1e3), spec.zone); },
      cursor: { drag: { x: false, y: false } },
    };
    var plot = new uPlot(options, [spec.x].concat(spec.ys), element);
    element.setAttribute("data-drawn", "1");
    if (typeof ResizeObserver !== "undefined") {
      new ResizeObserver(function () {
        plot.setSize({ width: Math.max(element.clientWidth, 200), height: HEIGHT });
      }).observe(element);
    }
  }

  function drawIn(root) {
    var elements = root.querySelectorAll(".chart-plot[data-chart]");
    for (var i = 0; i < elements.length; i += 1) {
      draw(elements[i]);
    }
  }

  document.addEventListener("DOMContentLoaded", function () { drawIn(document); });
  document.addEventListener("htmx:afterSwap", function (event) { drawIn(event.target); });
})();
