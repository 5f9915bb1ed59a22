/* Reissue requests: listed by GET /admin/key-requests (pending first by default); approve (the old key is revoked
   now, the developer reveals the new one once) or deny with a reason; both confirmed. */
(function () {
  "use strict";
  var M = window.Marquee;
  var A = window.MarqueeAdmin;
  var el = M.el;
  var list;
  var denying = null;

  function row(r) {
    var actions = el("div", { className: "d-flex gap-1" });
    if (r.status === "pending") {
      actions.append(A.actionButton("Approve", { className: "btn-outline-success", attrs: { "data-action": "approve" },
        confirm: ["Approve this request?", "The key \u2026" + (r.key_last4 || "????") + " of " + r.developer_email +
                  " is revoked now; they reveal the new key once in their dashboard.", "Approve"], danger: false,
        action: function () { return A.api("/admin/key-requests/" + r.id + "/approve", { method: "POST" }); },
        done: function () { return list.load(); } }));
      var deny = el("button", { type: "button", className: "btn btn-sm btn-outline-danger", text: "Deny", "data-action": "deny" });
      deny.addEventListener("click", function () {
        denying = r.id;
        window.bootstrap.Modal.getOrCreateInstance(document.querySelector("#deny-modal")).show();
      });
      actions.append(deny);
    }
    return el("tr", { "data-request-id": String(r.id) }, [
      el("td", { text: A.time(r.created_at) }),
      el("td", {}, [el("a", { href: "developer.html?id=" + r.user_id, text: r.developer_email })]),
      el("td", {}, [r.key_last4 ? A.masked(r.key_last4) : "\u2014", r.key_status && r.key_status !== "active" ?
                    el("span", { className: "ms-1", "data-key-status": "" }, [A.badge(r.key_status)]) : ""]),
      el("td", { text: r.reason }),
      el("td", {}, [A.badge(r.status), r.fulfilled_at ? el("span", { className: "small ms-1", text: "revealed" }) : ""]),
      el("td", { className: "small", text: r.decided_at ? A.time(r.decided_at) + (r.decided_by_email ? " by " + r.decided_by_email : "") +
                 (r.decision_note ? ": " + r.decision_note : "") : "\u2014" }),
      el("td", {}, [actions]),
    ]);
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!A.requireSession()) return;
    list = new A.ListPage({ path: "/admin/key-requests", form: "[data-filters]", tbody: "[data-rows]", pager: "[data-pager]",
                            summary: "[data-summary]", noun: ["request", "requests"], row: row });
    list.load();
    M.bindForm(document.querySelector("[data-deny-form]"), async function (values, form) {
      await A.api("/admin/key-requests/" + denying + "/deny", { method: "POST", body: { reason: values.reason } });
      window.bootstrap.Modal.getOrCreateInstance(document.querySelector("#deny-modal")).hide();
      form.reset();
      await list.load();
    });
  });
})();
