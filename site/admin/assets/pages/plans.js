/* Plans: every plan's limits as a form; a change is confirmed, then PATCHed, and holds from each key's next request.
   Each form shows the plan as GET /admin/plans/{id} gave it, and saves with that version's ETag as If-Match: an edit
   another admin saved meanwhile is a 412 shown in the form, never silently undone. */
(function () {
  "use strict";
  var M = window.Marquee;
  var A = window.MarqueeAdmin;
  var el = M.el;

  function input(plan, name, label, value, attrs) {
    var id = plan.id + "-" + name;
    return el("div", { className: "mb-2" }, [
      el("label", { className: "form-label small", for: id, text: label }),
      el("input", Object.assign({ id: id, name: name, className: "form-control form-control-sm", value: value === null ? "" : String(value) }, attrs || {})),
    ]);
  }

  function card(read) {
    var plan = read.plan;
    var tier = el("select", { id: plan.id + "-gateway_tier", name: "gateway_tier", className: "form-select form-select-sm" });
    ["free", "pro", "unlimited"].forEach(function (t) { tier.append(el("option", { value: t, text: t })); });
    tier.value = plan.gateway_tier;
    var form = el("form", { novalidate: "", "data-plan": plan.id }, [
      el("div", { className: "alert alert-danger d-none", role: "alert", "data-form-alert": "" }),
      input(plan, "name", "Name", plan.name),
      input(plan, "daily_quota", "Requests per UTC day (empty: no cap)", plan.daily_quota, { type: "number", min: "0" }),
      input(plan, "per_minute", "Requests per minute", plan.per_minute, { type: "number", min: "1" }),
      el("div", { className: "mb-2" }, [el("label", { className: "form-label small", for: plan.id + "-gateway_tier", text: "Gateway tier" }), tier]),
      el("button", { type: "submit", className: "btn btn-primary btn-sm", text: "Save " + plan.id }),
    ]);
    M.bindForm(form, async function (values) {
      var changes = { name: values.name, per_minute: Number(values.per_minute), gateway_tier: values.gateway_tier,
                      daily_quota: values.daily_quota === "" ? null : Number(values.daily_quota) };
      var ok = await A.confirmAction("Change the " + plan.id + " plan?", plan.keys + " key(s) use it; the new limits hold from each key's next request.", "Save", false);
      if (!ok) return;
      await A.api("/admin/plans/" + plan.id, { method: "PATCH", body: changes, ifMatch: read.etag });
      await load();
    });
    return el("div", { className: "col-12 col-md-6 col-xl-4" }, [el("section", { className: "card h-100" }, [el("div", { className: "card-body" }, [
      el("h2", { className: "h5 card-title", text: plan.name + " (" + plan.id + ")" }),
      el("p", { className: "small text-body-secondary", text: plan.keys + " key(s); changed " + A.time(plan.updated_at) }),
      form,
    ])])]);
  }

  async function load() {
    try {
      var plans = (await A.api("/admin/plans")).data.results;
      var reads = await Promise.all(plans.map(async function (listed) {
        var fresh = await A.api("/admin/plans/" + encodeURIComponent(listed.id));
        return { plan: fresh.data, etag: fresh.headers.get("ETag") };
      }));
      var holder = document.querySelector("[data-plans]");
      holder.replaceChildren.apply(holder, reads.map(card));
    } catch (error) {
      A.pageAlert(A.problemMessage(error));
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!A.requireSession()) return;
    load();
  });
})();
