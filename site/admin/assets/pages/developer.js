/* One developer (GET /admin/developers/{id}): account, keys, 30-day chart, latest requests, reissue requests and a
   timeline of signup, key events and admin actions; suspend or unsuspend, confirmed first. */
(function () {
  "use strict";
  var M = window.Marquee;
  var A = window.MarqueeAdmin;
  var el = M.el;
  var chart = null;
  var id = new URLSearchParams(window.location.search).get("id");

  function fill(selector, nodes) {
    var holder = document.querySelector(selector);
    holder.replaceChildren.apply(holder, nodes);
  }

  /* Today's requests as the usage chart counts them (admitted and refused): the keys' usage_today is what counts
     toward today's quota, which Reset usage sets to zero, so "Requests today: 0" stood beside a chart and a list of
     today's requests. */
  function requestsToday(usage) {
    var today = new Date().toISOString().slice(0, 10);
    var row = usage.filter(function (u) { return u.day === today; })[0];
    return row ? row.requests + row.rejected : 0;
  }

  function render(detail) {
    var d = detail.developer;
    document.title = d.name + " \u00b7 Marquee admin";
    document.querySelector("[data-dev-name]").textContent = d.name;
    document.querySelector("[data-dev-email]").textContent = d.email;
    var facts = [["Id", String(d.id)], ["Status", d.status], ["Email", d.verified ? "verified" : "not verified"],
                 d.signed_up_at ? ["Signed up", A.time(d.signed_up_at)] : ["Added by an admin", A.time(d.created_at)], ["Keys", d.active_keys + " active of " + d.keys],
                 ["Plans", d.plans.join(", ") || "\u2014"], ["Requests today (UTC)", A.number(requestsToday(detail.usage))],
                 ["Counted toward today's quota", A.number(d.usage_today)],
                 ["Requests in all", A.number(d.total_requests)], ["Last active", d.last_active_at ? A.time(d.last_active_at) : "never"]];
    fill("[data-profile]", facts.flatMap(function (f) {
      return [el("dt", { className: "col-5", text: f[0] }), el("dd", { className: "col-7", text: f[1], "data-fact": f[0] })];
    }));
    var actions = d.status === "active"
      ? A.actionButton("Suspend developer", { className: "btn-outline-danger", attrs: { "data-action": "suspend-developer" },
          confirm: ["Suspend " + d.email + "?", "They cannot sign in, their sessions end now, and every key of theirs is refused from its next request."],
          action: function () { return A.api("/admin/developers/" + d.id + "/suspend", { method: "POST" }); }, done: load })
      : A.actionButton("Unsuspend developer", { className: "btn-outline-success", attrs: { "data-action": "unsuspend-developer" },
          confirm: ["Unsuspend " + d.email + "?", "They can sign in again and their keys work as their own statuses say.", "Unsuspend"],
          danger: false, action: function () { return A.api("/admin/developers/" + d.id + "/unsuspend", { method: "POST" }); }, done: load });
    fill("[data-dev-actions]", [actions]);
    fill("[data-dev-keys]", detail.keys.length ? detail.keys.map(function (k) {
      return el("tr", {}, [el("td", { text: String(k.id) }), el("td", {}, [A.masked(k.last4)]), el("td", { text: k.plan }),
        el("td", {}, [A.badge(k.status)]), el("td", { className: "text-end", text: A.number(k.usage_today) }),
        el("td", { className: "text-end", text: A.number(k.total_count) }),
        el("td", { text: k.last_used_at ? A.time(k.last_used_at) : "never" }), el("td", { text: A.time(k.created_at) })]);
    }) : [el("tr", {}, [el("td", { colspan: "8", className: "text-body-secondary", text: "No keys." })])]);
    document.querySelector("[data-keys-link]").href = "keys.html?owner_id=" + d.id;
    document.querySelector("[data-requests-link]").href = "requests.html?owner_id=" + d.id;
    fill("[data-recent]", detail.recent_requests.length ? detail.recent_requests.map(function (r) {
      return el("tr", {}, [el("td", { text: A.time(r.timestamp) }), el("td", {}, [A.masked(r.key_last4 || "????")]),
        el("td", { className: "font-monospace", text: r.method + " " + r.endpoint }), el("td", { text: String(r.status) })]);
    }) : [el("tr", {}, [el("td", { colspan: "4", className: "text-body-secondary", text: "No requests yet." })])]);
    fill("[data-timeline]", detail.timeline.map(function (e) {
      return el("li", { className: "mb-1" }, [el("span", { className: "text-body-secondary", text: A.time(e.at) + " \u2014 " }),
        el("span", { text: e.summary })]);
    }));
    fill("[data-dev-requests]", detail.key_requests.length ? detail.key_requests.map(function (r) {
      return el("li", {}, [A.badge(r.status), " ", el("span", { text: A.time(r.created_at) + ": " + r.reason })]);
    }) : [el("li", { className: "text-body-secondary", text: "None." })]);
    var css = function (n) { return window.getComputedStyle(document.documentElement).getPropertyValue(n).trim(); };
    if (chart) chart.destroy();
    chart = new window.Chart(document.querySelector('[data-chart="usage"]'), {
      type: "bar",
      data: { labels: detail.usage.map(function (u) { return u.day.slice(5); }), datasets: [
        { label: "Admitted", data: detail.usage.map(function (u) { return u.requests; }), backgroundColor: css("--bs-success") },
        { label: "Refused", data: detail.usage.map(function (u) { return u.rejected; }), backgroundColor: css("--bs-danger") }] },
      options: { responsive: true, maintainAspectRatio: false, animation: false, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } },
    });
  }

  async function load() {
    try {
      render((await A.api("/admin/developers/" + encodeURIComponent(id || "0"))).data);
    } catch (error) {
      A.pageAlert(A.problemMessage(error));
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!A.requireSession()) return;
    load();
  });
})();
