/* Sign-in page: POST /auth/login keeps the bearer token for this browser, then opens the dashboard (or `next`). */
(function () {
  "use strict";
  var M = window.Marquee;
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("[data-login-form]");
    var params = new URLSearchParams(window.location.search);
    if (params.get("email")) form.elements.namedItem("email").value = params.get("email");
    if (params.get("deleted")) document.querySelector("[data-deleted]").classList.remove("d-none");
    if (params.get("ended")) document.querySelector("[data-session-ended]").classList.remove("d-none");
    var unverified = document.querySelector("[data-unverified]");
    M.bindForm(form, async function (values) {
      unverified.classList.add("d-none");
      try {
        var response = await M.api("/auth/login", {
          method: "POST",
          body: { email: values.email.trim(), password: values.password },
        });
        M.session.set(response.data);
        window.location.assign(M.safeNext(params.get("next"), "dashboard.html"));
      } catch (error) {
        if (error.problem && error.problem.code === "email_not_verified") {
          unverified.querySelector("a").href = "resend.html?email=" + encodeURIComponent(values.email.trim());
          unverified.classList.remove("d-none");
        }
        throw error;
      }
    });
  });
})();
