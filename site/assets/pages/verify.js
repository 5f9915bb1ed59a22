/* Verify page. Opening the link does nothing by itself (mail scanners fetch links before people do): the person
   enters the password they chose at sign-up and submits, which sends POST /auth/verify {token, password}; it answers
   with the new API key (once) and a session. The password proves that whoever confirms the address chose the
   account's password (someone else may have signed up with this mailbox and had the link sent here). */
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
    M.bindForm(form, async function (values) {
      if (!values.password) {
        throw new M.ApiError(422, {
          detail: "Enter the password you chose to confirm.",
          errors: [{ name: "password", reason: "Enter the password you chose to confirm." }],
        });
      }
      try {
        var response = await M.api("/auth/verify", {
          method: "POST",
          body: { token: token, password: values.password },
        });
        var data = response.data;
        M.session.set(data);
        // Handed to the dashboard, which shows it once and forgets it.
        window.sessionStorage.setItem("marquee.newKey", data.api_key);
        window.location.assign("dashboard.html");
      } catch (error) {
        help.classList.remove("d-none");
        var code = error.problem && error.problem.code;
        var login = help.querySelector("[data-verify-login]");
        login.classList.toggle("d-none", code !== "token_used");
        // Already signed in (the link opened again after confirming): the way on is the dashboard, not signing in.
        var signedIn = !!M.session.get();
        login.textContent = signedIn ? "Open your dashboard" : "Sign in";
        login.href = signedIn ? "dashboard.html" : "login.html";
        // Not this sign-up's password: signing up again (with a password you know) voids this link and mails one
        // that confirms yours.
        help.querySelector("[data-verify-signup]").classList.toggle("d-none", code !== "wrong_password");
        help.querySelector("[data-verify-resend]").classList.toggle(
          "d-none",
          code === "token_used" || code === "wrong_password"
        );
        throw error;
      }
    });
  });
})();
