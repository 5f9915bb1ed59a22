/* Reset page: the emailed token plus a new password go to POST /auth/password/reset; every session ends, this
   browser's too (its token is cleared here), and the page says so. */
(function () {
  "use strict";
  var M = window.Marquee;
  var LINK_CODES = ["invalid_token", "token_expired", "token_used"];
  document.addEventListener("DOMContentLoaded", function () {
    var token = new URLSearchParams(window.location.search).get("token") || "";
    var form = document.querySelector("[data-reset-form]");
    if (!token) {
      document.querySelector("[data-reset-missing]").classList.remove("d-none");
      return;
    }
    form.classList.remove("d-none");
    var help = document.querySelector("[data-reset-help]");
    M.bindForm(form, async function (values) {
      if (values.password !== values.confirm) {
        throw new M.ApiError(422, {
          detail: "The two passwords differ.",
          errors: [{ name: "confirm", reason: "The two passwords differ." }],
        });
      }
      try {
        await M.api("/auth/password/reset", { method: "POST", body: { token: token, password: values.password } });
      } catch (error) {
        // A link that cannot work (damaged, expired, used) said "ask for a new one" with no way to, above a form
        // that would refuse every password: the way on is a new link, or signing in if this one did its work.
        var code = error.problem && error.problem.code;
        if (LINK_CODES.indexOf(code) >= 0) {
          help.classList.remove("d-none");
          help.querySelector("[data-reset-login]").classList.toggle("d-none", code !== "token_used");
        }
        throw error;
      }
      M.session.clear();
      form.classList.add("d-none");
      var done = document.querySelector("[data-done]");
      done.classList.remove("d-none");
      done.focus();
    });
  });
})();
