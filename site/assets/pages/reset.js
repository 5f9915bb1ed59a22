/* Reset page: the emailed token plus a new password go to POST /auth/password/reset; every session ends, this
   browser's too (its token is cleared here), and the page says so. */
(function () {
  "use strict";
  var M = window.Marquee;
  document.addEventListener("DOMContentLoaded", function () {
    var token = new URLSearchParams(window.location.search).get("token") || "";
    var form = document.querySelector("[data-reset-form]");
    if (!token) {
      document.querySelector("[data-reset-missing]").classList.remove("d-none");
      return;
    }
    form.classList.remove("d-none");
    M.bindForm(form, async function (values) {
      if (values.password !== values.confirm) {
        throw new M.ApiError(422, {
          detail: "The two passwords differ.",
          errors: [{ name: "confirm", reason: "The two passwords differ." }],
        });
      }
      await M.api("/auth/password/reset", { method: "POST", body: { token: token, password: values.password } });
      M.session.clear();
      form.classList.add("d-none");
      var done = document.querySelector("[data-done]");
      done.classList.remove("d-none");
      done.focus();
    });
  });
})();
