/* Resend page: POST /auth/verify/resend. The answer is the same whether or not the address has an account. */
(function () {
  "use strict";
  var M = window.Marquee;
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("[data-resend-form]");
    var email = new URLSearchParams(window.location.search).get("email");
    if (email) form.elements.namedItem("email").value = email;
    M.bindForm(form, async function (values) {
      var response = await M.api("/auth/verify/resend", { method: "POST", body: { email: values.email.trim() } });
      var done = document.querySelector("[data-done]");
      done.textContent = response.data.detail;
      done.classList.remove("d-none");
      done.focus();
    });
  });
})();
