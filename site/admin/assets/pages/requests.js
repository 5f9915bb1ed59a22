/* Request log: filtered by key, developer, endpoint, status class and time range on the server, newest first, in
   cursor pages (the log is too long to count); the CSV export holds every matching row. */
(function () {
  "use strict";
  var M = window.Marquee;
  var A = window.MarqueeAdmin;
  var el = M.el;

  function row(r) {
    var cls = r.status >= 500 ? "text-danger" : r.status === 429 ? "text-warning" : r.status >= 400 ? "text-warning-emphasis" : "";
    return el("tr", {}, [
      el("td", { text: A.time(r.timestamp) }),
      el("td", {}, [r.key_last4 ? A.masked(r.key_last4) : el("span", { className: "text-body-secondary", text: "deleted " + r.api_key_id })]),
      el("td", {}, [r.owner_id ? el("a", { href: "developer.html?id=" + r.owner_id, text: r.owner_email }) : "\u2014"]),
      el("td", { className: "font-monospace", text: r.method + " " + r.endpoint }),
      el("td", { className: cls, text: String(r.status) }),
    ]);
  }

  document.addEventListener("DOMContentLoaded", async function () {
    if (!A.requireSession()) return;
    var list = new A.ListPage({ path: "/admin/requests", form: "[data-filters]", tbody: "[data-rows]", pager: "[data-pager]",
                                summary: "[data-summary]", noun: ["request", "requests"], row: row, cursor: true });
    try {
      var endpoints = (await A.api("/admin/endpoints")).data.results;
      var select = document.querySelector("[data-endpoints]");
      var wanted = new URLSearchParams(window.location.search).get("endpoint");
      endpoints.forEach(function (e) { select.append(el("option", { value: e, text: e })); });
      if (wanted) select.value = wanted;
    } catch (error) {
      A.pageAlert(A.problemMessage(error));
    }
    list.load();
    var button = document.querySelector("[data-export]");
    button.addEventListener("click", async function () {
      button.disabled = true;
      try {
        var query = list.query();
        delete query.per_page;
        await A.exportCsv("/admin/requests.csv", query);
      } catch (error) {
        A.pageAlert(A.problemMessage(error));
      } finally {
        button.disabled = false;
      }
    });
  });
})();
