// The SAO dashboard's two charts (templates/dashboards/sao.html), drawn by the vendored
// Chart.js from the figures the page embeds as JSON (#sao-chart-data). Every figure is in
// the tables below the charts too; the charts are a picture of them.
(function () {
  "use strict";

  function draw() {
    var source = document.getElementById("sao-chart-data");
    if (!source || typeof Chart === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    var names = data.sdrs.map(function (row) { return row.name; });
    var line = function (label, value, color) {
      return {type: "line", label: label, data: names.map(function () { return value; }), borderColor: color,
              borderDash: [6, 4], borderWidth: 2, pointRadius: 0, fill: false};
    };
    var common = {responsive: true, maintainAspectRatio: false, animation: false,
                  plugins: {legend: {position: "bottom"}}, scales: {y: {beginAtZero: true}}};

    new Chart(document.getElementById("sao-attainment-chart"), {
      type: "bar",
      data: {labels: names, datasets: [
        {label: "SAOs", data: data.sdrs.map(function (row) { return row.saos; }), backgroundColor: "#6b4fbb"},
        {label: "Quota", data: data.sdrs.map(function (row) { return row.quota; }), backgroundColor: "#c9bfe8"},
        {label: "Projection", data: data.sdrs.map(function (row) { return row.projection; }),
         backgroundColor: "#e8e2f7", borderColor: "#6b4fbb", borderWidth: 1}
      ]},
      options: common
    });
    new Chart(document.getElementById("sao-activity-chart"), {
      type: "bar",
      data: {labels: names, datasets: [
        {label: "Dials a day", data: data.sdrs.map(function (row) { return row.dials_per_day; }),
         backgroundColor: "#1f7a4d"},
        {label: "Emails a day", data: data.sdrs.map(function (row) { return row.emails_per_day; }),
         backgroundColor: "#2f6fbf"},
        line("Target: " + data.daily_dials + " a day", data.daily_dials, "#b3261e")
      ]},
      options: common
    });
    // A small chart per SDR in their table row: dials and emails on each day of the
    // period so far, against the daily target (the row's "by day" table has the numbers).
    document.querySelectorAll("canvas.spark").forEach(function (canvas) {
      var row = data.sdrs[Number(canvas.dataset.sdr)];
      if (!row) {
        return;
      }
      var days = row.days.map(function (day) { return day[0]; });
      var series = function (label, index, color) {
        return {label: label, data: row.days.map(function (day) { return day[index]; }), borderColor: color,
                borderWidth: 1.5, pointRadius: 0, fill: false, tension: 0.2};
      };
      new Chart(canvas, {
        type: "line",
        data: {labels: days, datasets: [
          series("Dials", 1, "#1f7a4d"), series("Emails", 2, "#2f6fbf"),
          {label: "Target", data: days.map(function () { return data.daily_dials; }), borderColor: "#b3261e",
           borderDash: [3, 3], borderWidth: 1, pointRadius: 0, fill: false}
        ]},
        options: {responsive: false, animation: false, events: [],
                  plugins: {legend: {display: false}, tooltip: {enabled: false}},
                  scales: {x: {display: false}, y: {display: false, beginAtZero: true}}}
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
