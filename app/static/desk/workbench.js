/* The workbench chart: my institution's cases per month, one stacked bar series per business type. */
(function () {
  "use strict";
  var el = document.getElementById("volume-chart");
  if (!el || !window.echarts) { return; }
  var chart = window.echarts.init(el);
  fetch(el.getAttribute("data-src"), {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (d) {
    chart.setOption({
      title: d.series.length ? undefined : {text: el.getAttribute("data-empty"), left: "center", top: "middle",
                                            textStyle: {color: "#999", fontSize: 14, fontWeight: "normal"}},
      tooltip: {trigger: "axis"}, legend: {type: "scroll"}, grid: {left: 40, right: 20, bottom: 30},
      xAxis: {type: "category", data: d.months}, yAxis: {type: "value", minInterval: 1},
      series: d.series.map(function (s) { return {name: s.name, type: "bar", stack: "all", data: s.data}; })
    });
    el.setAttribute("data-ready", "1");
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
