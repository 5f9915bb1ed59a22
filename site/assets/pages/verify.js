/* Verify page. Opening the link does nothing by itself (mail scanners fetch links before people do): one click
   sends POST /auth/verify with the token, which answers with the new API key (once) and a session. */
(function () {
  "use strict";
  var M = window.Marquee;
  document.addEventListener("DOMContentLoaded", function () {
    var token = new URLSearchParams(window.location.search).get("token") || "";
    var ready = document.querySelector("[data-verify-ready]");
    var help = document.querySelector("[data-verify-help]");
    if (!token) {
      document.querySelector("[data-verify-missing]").classList.remove("d-none");
      return;
    }
    ready.classList.remove("d-none");
    var form = document.querySelector("[data-verify-form]");
    M.bindForm(form, async function () {
      try {
        var response = await M.api("/auth/verify", { method: "POST", body: { token: token } });
        var data = response.data;
        M.session.set(data);
        // Handed to the dashboard, which shows it once and forgets it.
        window.sessionStorage.setItem("marquee.newKey", data.api_key);
        window.location.assign("dashboard.html");
      } catch (error) {
        help.classList.remove("d-none");
        var code = error.problem && error.problem.code;
        help.querySelector("[data-verify-login]").classList.toggle("d-none", code !== "token_used");
        help.querySelector("[data-verify-resend]").classList.toggle("d-none", code === "token_used");
        throw error;
      }
    });
  });
})();
