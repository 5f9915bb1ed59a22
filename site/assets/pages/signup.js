/* Sign-up page: POST /auth/signup, then "check your inbox". Refusals appear under the field they concern.

   The API answers one refusal per request (the name first, then the address, then the password), so an empty form
   would show one problem per try. The page checks first what needs no server, for every field at once: a name
   (1 to maxlength printable characters, as POST /auth/signup counts them), an address of the form x@y.z (not which
   providers are accepted: that, disposable domains and a taken address are the API's), a password of minlength
   characters to data-max-bytes bytes of UTF-8 (not how guessable it is). The limits are the inputs' attributes,
   kept equal to the API's (tests/test_site_server.py). The API stays the authority: what passes here is sent. */
(function () {
  "use strict";
  var M = window.Marquee;

  var CONTROL_OR_FORMAT = /\p{C}/u; // Unicode category C, as the API's name check (unicodedata "C*")
  var ADDRESS = /^[^\s@]+@[^\s@]+\.[^\s@]+$/; // stricter checks (and the providers) are the API's

  function characters(text) {
    return Array.from(text).length; // code points, as Python's len()
  }

  /* [{name, reason}] for each field that cannot be right, in the form's order. */
  function problemsOf(form, values) {
    var problems = [];
    var nameMax = Number(form.elements.namedItem("name").getAttribute("maxlength"));
    var name = values.name.split(/\s+/).filter(Boolean).join(" ");
    if (!name || characters(name) > nameMax || CONTROL_OR_FORMAT.test(name)) {
      problems.push({ name: "name", reason: "Enter your name: 1 to " + nameMax + " printable characters." });
    }
    var email = values.email.trim();
    if (!email) {
      problems.push({ name: "email", reason: "Enter your email address." });
    } else if (!ADDRESS.test(email)) {
      problems.push({ name: "email", reason: "This is not an email address: it reads like jane.doe@gmail.com." });
    }
    var field = form.elements.namedItem("password");
    var minimum = Number(field.getAttribute("minlength"));
    var maxBytes = Number(field.getAttribute("data-max-bytes"));
    if (!values.password) {
      problems.push({ name: "password", reason: "Choose a password: at least " + minimum + " characters." });
    } else if (characters(values.password) < minimum) {
      problems.push({ name: "password", reason: "Use at least " + minimum + " characters." });
    } else if (new TextEncoder().encode(values.password).length > maxBytes) {
      problems.push({ name: "password", reason: "Use at most " + maxBytes + " bytes (about " + maxBytes + " plain characters)." });
    }
    return problems;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("[data-signup-form]");
    M.bindForm(form, async function (values) {
      var problems = problemsOf(form, values);
      if (problems.length) throw new M.ApiError(422, { detail: problems[0].reason, errors: problems });
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
