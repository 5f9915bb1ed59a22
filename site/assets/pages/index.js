/* Landing page: plans and limits from GET /auth/plans, the example call with this deployment's API URL. */
(function () {
  "use strict";
  var M = window.Marquee;

  function formatLimit(value) {
    return value === null || value === undefined ? "No daily cap" : Number(value).toLocaleString();
  }

  async function loadPlans() {
    var body = document.querySelector("[data-plans] tbody");
    try {
      var response = await M.api("/auth/plans");
      var plans = response.data.results || [];
      body.replaceChildren();
      plans.forEach(function (plan) {
        body.append(
          M.el("tr", { "data-plan": plan.id }, [
            M.el("th", { scope: "row", text: plan.name }),
            M.el("td", { text: formatLimit(plan.daily_quota) }),
            M.el("td", { text: Number(plan.per_minute).toLocaleString() }),
          ])
        );
      });
    } catch (error) {
      body.replaceChildren(
        M.el("tr", {}, [M.el("td", { colspan: "3", className: "text-danger", text: "Plans could not be loaded: " + error.message })])
      );
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var example = document.querySelector("[data-example-curl]");
    if (example && M.apiBase) example.textContent = 'curl -H "X-API-KEY: YOUR_KEY" "' + M.apiBase + '/search?title=godfather"';
    loadPlans();
  });
})();
