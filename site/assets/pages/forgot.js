/* Forgot-password page: POST /auth/password/forgot. The answer never says whether the address has an account. */
(function () {
  "use strict";
  var M = window.Marquee;
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("[data-forgot-form]");
    M.bindForm(form, async function (values) {
      var response = await M.api("/auth/password/forgot", { method: "POST", body: { email: values.email.trim() } });
      var done = document.querySelector("[data-done]");
      done.textContent = response.data.detail;
      done.classList.remove("d-none");
      done.focus();
    });
  });
})();
