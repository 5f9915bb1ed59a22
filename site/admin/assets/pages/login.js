/* Admin sign-in: POST /admin/login, the token kept for this tab, then the page asked for (same site only). */
(function () {
  "use strict";
  var M = window.Marquee;
  var A = window.MarqueeAdmin;

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("[data-login-form]");
    M.bindForm(form, async function (values) {
      var grant = (await A.api("/admin/login", { method: "POST", body: { email: values.email, password: values.password } })).data;
      A.session.set(grant, values.email);
      var next = new URLSearchParams(window.location.search).get("next");
      window.location.assign(M.safeNext(next, "index.html"));
    });
    form.elements.namedItem("email").focus();
  });
})();
