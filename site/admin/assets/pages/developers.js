/* Developers: filtered, searched, sorted and paged by GET /admin/developers; each row opens the developer. */
(function () {
  "use strict";
  var M = window.Marquee;
  var A = window.MarqueeAdmin;
  var el = M.el;

  function row(d) {
    return el("tr", { "data-developer-id": String(d.id) }, [
      el("td", {}, [el("a", { href: "developer.html?id=" + d.id, text: d.name })]),
      el("td", { text: d.email }),
      el("td", {}, [A.badge(d.status), d.verified ? "" : el("span", { className: "small text-body-secondary ms-1", text: "unverified" })]),
      el("td", { text: d.active_keys + " / " + d.keys }),
      el("td", { text: d.plans.join(", ") || "\u2014" }),
      el("td", { className: "text-end", text: A.number(d.usage_today) }),
      el("td", { className: "text-end", text: A.number(d.total_requests) }),
      el("td", { text: d.last_active_at ? A.time(d.last_active_at) : "never" }),
      el("td", { text: d.signed_up_at ? A.time(d.signed_up_at) : "added by an admin " + A.time(d.created_at) }),
    ]);
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!A.requireSession()) return;
    new A.ListPage({ path: "/admin/developers", form: "[data-filters]", tbody: "[data-rows]", pager: "[data-pager]",
                     summary: "[data-summary]", noun: ["developer", "developers"], row: row }).load();
  });
})();
