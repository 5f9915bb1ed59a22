/* Sign-up page: POST /auth/signup, then "check your inbox". Refusals appear under the field they concern. */
(function () {
  "use strict";
  var M = window.Marquee;
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("[data-signup-form]");
    M.bindForm(form, async function (values) {
      var response = await M.api("/auth/signup", {
        method: "POST",
        body: { name: values.name.trim(), email: values.email.trim(), password: values.password },
      });
      var done = document.querySelector("[data-signup-done]");
      done.querySelector("[data-sent-to]").textContent = response.data.email || values.email.trim();
      done.querySelector("[data-resend-link]").href = "resend.html?email=" + encodeURIComponent(values.email.trim());
      form.classList.add("d-none");
      done.classList.remove("d-none");
      done.focus();
    });
  });
})();
