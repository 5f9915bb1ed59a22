/* Audit log: every admin action (API and CLI), filtered on the server, newest first, with what changed; CSV export. */
(function () {
  "use strict";
  var M = window.Marquee;
  var A = window.MarqueeAdmin;
  var el = M.el;

  function change(entry) {
    var before = entry.before || {};
    var after = entry.after || {};
    var names = Object.keys(Object.assign({}, before, after)).filter(function (k) {
      return JSON.stringify(before[k]) !== JSON.stringify(after[k]);
    });
    if (!entry.before) names = Object.keys(after);
    var lines = names.slice(0, 6).map(function (k) {
      var from = k in before ? JSON.stringify(before[k]) : "";
      var to = k in after ? JSON.stringify(after[k]) : "";
      return el("div", { className: "small font-monospace text-break", text: k + ": " + (entry.before ? from + " \u2192 " : "") + to });
    });
    var details = el("details", {}, [el("summary", { className: "small", text: "snapshots" }),
      el("pre", { className: "small pre-json mb-0", text: JSON.stringify({ before: entry.before, after: entry.after }, null, 2) })]);
    return el("div", {}, lines.concat([details]));
  }

  function row(e) {
    return el("tr", {}, [
      el("td", { className: "small", text: A.time(e.occurred_at) }),
      el("td", { className: "small", text: e.actor + (e.source === "cli" ? " (CLI)" : "") }),
      el("td", { className: "font-monospace small", text: e.action }),
      el("td", { className: "small" }, [e.developer_id ? el("a", { href: "developer.html?id=" + e.developer_id, text: e.target_type + " " + (e.target_id || "") })
                                                        : e.target_type + " " + (e.target_id || "")]),
      el("td", {}, [change(e)]),
      el("td", { className: "small font-monospace text-break", text: e.request_id || "\u2014" }),
    ]);
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!A.requireSession()) return;
    var list = new A.ListPage({ path: "/admin/audit", form: "[data-filters]", tbody: "[data-rows]", pager: "[data-pager]",
                                summary: "[data-summary]", noun: ["entry", "entries"], row: row });
    list.load();
    var button = document.querySelector("[data-export]");
    button.addEventListener("click", async function () {
      button.disabled = true;
      try {
        var query = list.query();
        delete query.per_page;
        await A.exportCsv("/admin/audit.csv", query);
      } catch (error) {
        A.pageAlert(A.problemMessage(error));
      } finally {
        button.disabled = false;
      }
    });
  });
})();
