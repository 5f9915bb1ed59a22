/* Overview: the analytics of GET /admin/overview as Chart.js charts (requests per day by outcome, busiest endpoints,
   active developers and signups per day) and headline figures, for a 7-, 30- or 90-day window. */
(function () {
  "use strict";
  var M = window.Marquee;
  var A = window.MarqueeAdmin;
  var el = M.el;
  var charts = {};

  function css(name) {
    return window.getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  function draw(name, config) {
    if (charts[name]) charts[name].destroy();
    var canvas = document.querySelector('[data-chart="' + name + '"]');
    config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, config.options || {});
    charts[name] = new window.Chart(canvas, config);
  }

  function render(data) {
    var days = data.days;
    var sum = function (field) { return days.reduce(function (total, day) { return total + day[field]; }, 0); };
    var figures = {
      requests: sum("requests"), status_4xx: sum("status_4xx"), limited: sum("limited"),
      server_errors: sum("server_errors"), active_developers: data.active_developers, signups: sum("signups"),
      verified_signups: sum("verified_signups"),
    };
    Object.keys(figures).forEach(function (name) {
      document.querySelector('[data-kpi="' + name + '"]').textContent = A.number(figures[name]);
    });
    document.querySelector("[data-overview-note]").textContent =
      A.number(data.developers) + (data.developers === 1 ? " developer" : " developers") + " in all; " +
      A.number(data.active_keys) + (data.active_keys === 1 ? " key" : " keys") + " used in the window. Days before " +
      data.open_from + " come from the daily rollups; today is read live.";
    var labels = days.map(function (day) { return day.day.slice(5); });
    var grid = { color: css("--bs-border-color") };
    var ticks = { color: css("--bs-body-color") };
    draw("requests", {
      type: "bar",
      data: {
        labels: labels,
        datasets: [
          { label: "2xx/3xx", data: days.map(function (d) { return d.ok; }), backgroundColor: css("--bs-success") },
          { label: "4xx", data: days.map(function (d) { return d.client_errors; }), backgroundColor: css("--bs-warning") },
          { label: "429", data: days.map(function (d) { return d.limited; }), backgroundColor: css("--bs-orange") || css("--bs-danger") },
          { label: "5xx", data: days.map(function (d) { return d.server_errors; }), backgroundColor: css("--bs-danger") },
        ],
      },
      options: { scales: { x: { stacked: true, grid: grid, ticks: ticks }, y: { stacked: true, beginAtZero: true, grid: grid, ticks: ticks } },
                 plugins: { legend: { labels: { color: css("--bs-body-color") } } } },
    });
    draw("people", {
      type: "line",
      data: {
        labels: labels,
        datasets: [
          { label: "Active developers", data: days.map(function (d) { return d.active_developers; }), borderColor: css("--bs-primary"), backgroundColor: css("--bs-primary"), tension: 0.2 },
          { label: "Signups", data: days.map(function (d) { return d.signups; }), borderColor: css("--bs-info"), backgroundColor: css("--bs-info"), tension: 0.2 },
        ],
      },
      options: { scales: { x: { grid: grid, ticks: ticks }, y: { beginAtZero: true, grid: grid, ticks: ticks } },
                 plugins: { legend: { labels: { color: css("--bs-body-color") } } } },
    });
    draw("endpoints", {
      type: "bar",
      data: {
        labels: data.endpoints.map(function (e) { return e.endpoint; }),
        datasets: [{ label: "Requests", data: data.endpoints.map(function (e) { return e.requests; }), backgroundColor: css("--bs-primary") }],
      },
      options: { indexAxis: "y", scales: { x: { beginAtZero: true, grid: grid, ticks: ticks }, y: { grid: grid, ticks: ticks } },
                 plugins: { legend: { display: false } } },
    });
    var rows = document.querySelector("[data-endpoint-rows]");
    rows.replaceChildren();
    data.endpoints.forEach(function (e) {
      rows.append(el("tr", {}, [
        el("td", { className: "font-monospace small", text: e.endpoint }),
        el("td", { className: "text-end", text: A.number(e.requests) }),
        el("td", { className: "text-end", text: A.number(e.client_errors + e.limited) }),
        el("td", { className: "text-end", text: A.number(e.limited) }),
      ]));
    });
    if (!data.endpoints.length) rows.append(el("tr", {}, [el("td", { colspan: "4", className: "text-body-secondary", text: "No traffic in this window." })]));
  }

  var loads = 0;  // the latest load: an earlier window's answer arriving after it (90 days is slower) is dropped

  async function load() {
    var days = document.querySelector("#days").value;
    var generation = ++loads;
    // The window is kept in the page's URL, as the lists keep their filters: a reload or a shared link shows it.
    var url = new URL(window.location.href);
    url.searchParams.set("days", days);
    window.history.replaceState(null, "", url);
    try {
      var data = (await A.api("/admin/overview", { query: { days: days } })).data;
      if (generation !== loads) return;
      render(data);
      document.querySelector("main").setAttribute("data-loaded", days);
    } catch (error) {
      if (generation === loads) A.pageAlert(A.problemMessage(error));
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!A.requireSession()) return;
    var select = document.querySelector("#days");
    var asked = new URLSearchParams(window.location.search).get("days");
    if (Array.prototype.some.call(select.options, function (o) { return o.value === asked; })) select.value = asked;
    select.addEventListener("change", load);
    document.addEventListener("marquee:theme", function () { if (Object.keys(charts).length) load(); });
    load();
  });
})();
