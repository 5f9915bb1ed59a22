/* Keys: filtered, searched, sorted and paged by GET /admin/keys; create (the key shown once), suspend, reactivate,
   revoke, reset usage, change plan and delete, each confirmed first. */
(function () {
  "use strict";
  var M = window.Marquee;
  var A = window.MarqueeAdmin;
  var el = M.el;
  var list;
  var planKeyId = null;

  function actions(key) {
    var cell = el("div", { className: "d-flex flex-wrap gap-1" });  // wraps rather than running past the table's box at 1280 px
    var who = "key " + key.id + " (\u2026" + key.last4 + ") of " + key.owner_email;
    function post(path) { return function () { return A.api("/admin/keys/" + key.id + path, { method: "POST" }); }; }
    var reload = function () { return list.load(); };
    if (key.status === "active") {
      cell.append(A.actionButton("Suspend", { className: "btn-outline-warning", attrs: { "data-action": "suspend" },
        confirm: ["Suspend this key?", "Suspend " + who + "? Its next request is refused (403 key_suspended) until it is reactivated."],
        action: post("/suspend"), done: reload }));
    }
    if (key.status === "suspended") {
      cell.append(A.actionButton("Reactivate", { className: "btn-outline-success", attrs: { "data-action": "reactivate" },
        confirm: ["Reactivate this key?", "Let " + who + " through again?", "Reactivate"], danger: false,
        action: post("/reactivate"), done: reload }));
    }
    if (key.status !== "revoked") {
      cell.append(A.actionButton("Reset usage", { attrs: { "data-action": "reset-usage" },
        confirm: ["Reset this key's usage?", "Start the day and minute counters of " + who + " over at zero?", "Reset usage"],
        action: post("/reset-usage"), done: reload }));
      var plan = el("button", { type: "button", className: "btn btn-sm btn-outline-secondary", text: "Plan", "data-action": "plan" });
      plan.addEventListener("click", function () {
        planKeyId = key.id;
        document.querySelector("[data-plan-key]").textContent = "Key " + key.id + " (\u2026" + key.last4 + ") is on " + key.plan + ".";
        document.querySelector("#new-plan").value = key.plan;
        window.bootstrap.Modal.getOrCreateInstance(document.querySelector("#plan-modal")).show();
      });
      cell.append(plan);
      cell.append(A.actionButton("Revoke", { className: "btn-outline-danger", attrs: { "data-action": "revoke" },
        confirm: ["Revoke this key?", "Revoke " + who + " for good? It cannot be reactivated."],
        action: post("/revoke"), done: reload }));
    }
    cell.append(A.actionButton("Delete", { className: "btn-outline-danger", attrs: { "data-action": "delete" },
      confirm: ["Delete this key?", "Delete " + who + "? Its request history stays in the log."],
      action: function () { return A.api("/admin/keys/" + key.id, { method: "DELETE" }); }, done: reload }));
    return cell;
  }

  function row(key) {
    var status = el("td", {}, [A.badge(key.status)]);
    if (key.refusal && key.refusal !== "key_" + key.status) {
      status.append(" ", el("span", { className: "small text-body-secondary", text: key.refusal.replace(/_/g, " ") }));
    }
    return el("tr", { "data-key-id": String(key.id) }, [
      el("td", { text: String(key.id) }),
      el("td", {}, [A.masked(key.last4)]),
      el("td", {}, [el("a", { href: "developer.html?id=" + key.owner_id, text: key.owner_email })]),
      el("td", { text: key.plan }),
      status,
      el("td", { className: "text-end", text: A.number(key.usage_today), "data-usage-today": "" }),
      el("td", { className: "text-end", text: A.number(key.total_count) }),
      el("td", { text: key.last_used_at ? A.time(key.last_used_at) : "never" }),
      el("td", { text: A.time(key.created_at) }),
      el("td", {}, [actions(key)]),
    ]);
  }

  async function loadPlans() {
    var plans = (await A.api("/admin/plans")).data.results;
    document.querySelectorAll("[data-plan-options]").forEach(function (select) {
      var keep = select.value;
      plans.forEach(function (plan) {
        select.append(el("option", { value: plan.id, text: plan.name + " (" + plan.id + ")" }));
      });
      if (keep) select.value = keep;
    });
  }

  function showNewKey(raw) {
    var panel = document.querySelector("[data-new-key]");
    panel.querySelector("[data-new-key-value]").value = raw;
    panel.classList.remove("d-none");
    panel.focus();
  }

  document.addEventListener("DOMContentLoaded", async function () {
    if (!A.requireSession()) return;
    list = new A.ListPage({ path: "/admin/keys", form: "[data-filters]", tbody: "[data-rows]", pager: "[data-pager]",
                            summary: "[data-summary]", noun: ["key", "keys"], row: row });
    try {
      await loadPlans();
    } catch (error) {
      A.pageAlert(A.problemMessage(error));
    }
    var params = new URLSearchParams(window.location.search);
    if (params.get("plan")) document.querySelector("#plan").value = params.get("plan");
    list.load();

    M.bindForm(document.querySelector("[data-create-form]"), async function (values, form) {
      var body = { plan: values.plan };
      if (values.developer_id) body.developer_id = Number(values.developer_id);
      if (values.owner_email) body.owner_email = values.owner_email;
      if (values.owner_name) body.owner_name = values.owner_name;
      var created = (await A.api("/admin/keys", { method: "POST", body: body })).data;
      window.bootstrap.Modal.getOrCreateInstance(document.querySelector("#create-modal")).hide();
      form.reset();
      showNewKey(created.api_key);
      await list.load();
    });
    M.bindForm(document.querySelector("[data-plan-form]"), async function (values) {
      await A.api("/admin/keys/" + planKeyId + "/plan", { method: "POST", body: { plan: values.plan } });
      window.bootstrap.Modal.getOrCreateInstance(document.querySelector("#plan-modal")).hide();
      await list.load();
    });
    document.querySelector("[data-copy-key]").addEventListener("click", function () {
      M.copyText(document.querySelector("[data-new-key-value]").value);
    });
  });
})();
