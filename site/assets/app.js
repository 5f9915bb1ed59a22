/* Marquee portal, shared by every page (developer and admin): configuration, theme, session token, the API fetch
   wrapper that turns RFC 9457 problems into messages next to the form fields, and the site header. Loaded in
   <head> without defer so the remembered theme applies before the first paint. */
(function () {
  "use strict";

  var config = window.MARQUEE_CONFIG || {};
  var apiBase = String(config.apiBase || "").replace(/\/+$/, "");

  /* ---------- theme: light / dark, remembered ---------- */
  var THEME_KEY = "marquee.theme";

  function storedTheme() {
    try {
      var value = window.localStorage.getItem(THEME_KEY);
      return value === "dark" || value === "light" ? value : null;
    } catch (e) {
      return null;
    }
  }

  function preferredTheme() {
    var stored = storedTheme();
    if (stored) return stored;
    return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }

  function applyTheme(theme) {
    document.documentElement.setAttribute("data-bs-theme", theme);
    document.querySelectorAll("[data-theme-toggle]").forEach(function (button) {
      var dark = theme === "dark";
      button.setAttribute("aria-pressed", String(dark));
      button.setAttribute("aria-label", dark ? "Switch to light theme" : "Switch to dark theme");
      button.textContent = dark ? "Light theme" : "Dark theme";
    });
    document.dispatchEvent(new CustomEvent("marquee:theme", { detail: { theme: theme } }));
  }

  function toggleTheme() {
    var next = document.documentElement.getAttribute("data-bs-theme") === "dark" ? "light" : "dark";
    try {
      window.localStorage.setItem(THEME_KEY, next);
    } catch (e) {
      /* private mode: the toggle still works for this page */
    }
    applyTheme(next);
  }

  applyTheme(preferredTheme());

  /* ---------- session: the bearer token from POST /auth/login (or /auth/verify) ---------- */
  var SESSION_KEY = "marquee.session";
  // Set when this page finds the session it kept has run out: the sign-in page it leaves for then says why.
  var sessionEnded = false;

  var session = {
    get: function () {
      try {
        var raw = window.localStorage.getItem(SESSION_KEY);
        if (!raw) return null;
        var value = JSON.parse(raw);
        if (!value || !value.token || Date.now() >= value.expiresAt) {
          if (value && value.token) sessionEnded = true;
          window.localStorage.removeItem(SESSION_KEY);
          return null;
        }
        return value;
      } catch (e) {
        return null;
      }
    },
    set: function (grant) {
      var value = {
        token: grant.access_token,
        expiresAt: Date.now() + Math.max(0, Number(grant.expires_in) - 5) * 1000,
      };
      window.localStorage.setItem(SESSION_KEY, JSON.stringify(value));
    },
    clear: function () {
      window.localStorage.removeItem(SESSION_KEY);
    },
  };

  /* The sign-in page, coming back here after. `ended`: a session this page had (or found kept) is over (run out,
     signed out in another tab, ended on the server), and the sign-in page says so: a developer sent there from the
     middle of the playground was told nothing. */
  function loginUrl(ended) {
    var here = window.location.pathname.replace(/^\//, "") + window.location.search;
    return "login.html?next=" + encodeURIComponent(here || "dashboard.html") + (ended ? "&ended=1" : "");
  }

  /* Leave for the sign-in page once: several reads ending at once (the playground's request and the refresh after
     it, both answered 401) each sent the page there, and the second navigation aborted the first. */
  var leaving = false;

  function leaveForLogin(ended) {
    if (leaving) return;
    leaving = true;
    window.location.replace(loginUrl(ended));
  }

  /* A page drawn for one session must not outlive it: signing out (or in as someone else) in another tab, or
     coming Back to the page after signing out (the browser's back/forward cache restores it as it was, the
     developer's data and a key shown once included), leaves the page for the sign-in page, or reloads it for the
     session now kept. */
  var pageToken = null;

  function leaveIfSessionChanged() {
    if (pageToken === null) return;
    var current = session.get();
    if (current && current.token === pageToken) return;
    pageToken = null;
    document.body.replaceChildren();  // nothing of it stays on screen meanwhile
    if (current) {
      window.location.reload();
    } else {
      leaveForLogin(true);
    }
  }

  function requireSession() {
    var current = session.get();
    if (!current) {
      leaveForLogin(sessionEnded);
      return null;
    }
    pageToken = current.token;
    return current;
  }

  window.addEventListener("storage", function (event) {
    if (event.key === SESSION_KEY || event.key === null) leaveIfSessionChanged();
  });
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    leaving = false;  // a page restored from the back/forward cache may have to leave again
    leaveIfSessionChanged();
  });

  /* Only same-site relative pages are followed after sign-in (no open redirect). */
  function safeNext(value, fallback) {
    if (value && /^[a-z0-9_-]+\.html([?#][^\s]*)?$/i.test(value)) return value;
    return fallback;
  }

  /* ---------- API ---------- */
  function ApiError(status, problem, headers) {
    this.name = "ApiError";
    this.status = status;
    this.problem = problem || {};
    this.headers = headers || null;
    this.message = this.problem.detail || this.problem.title || "Request failed (" + status + ")";
  }
  ApiError.prototype = Object.create(Error.prototype);
  ApiError.prototype.constructor = ApiError;

  function apiUrl(path) {
    return apiBase + path;
  }

  async function parseBody(response) {
    var type = response.headers.get("Content-Type") || "";
    var text = await response.text();
    if (type.indexOf("json") >= 0 && text) {
      try {
        return JSON.parse(text);
      } catch (e) {
        return text;
      }
    }
    return text || null;
  }

  /* api(path, {method, body, auth, apiKey, query}) -> {status, headers, data}; rejects with ApiError. */
  async function api(path, options) {
    options = options || {};
    var headers = { Accept: "application/json, application/problem+json" };
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    if (options.auth) {
      var current = session.get();
      if (!current) {
        leaveForLogin(sessionEnded);
        throw new ApiError(401, { title: "Signed out", detail: "Please sign in again." });
      }
      headers.Authorization = "Bearer " + current.token;
    }
    if (options.apiKey) headers["X-API-KEY"] = options.apiKey;
    var url = apiUrl(path);
    if (options.query) {
      var params = new URLSearchParams();
      Object.keys(options.query).forEach(function (name) {
        var value = options.query[name];
        if (value !== undefined && value !== null && String(value) !== "") params.append(name, String(value));
      });
      var qs = params.toString();
      if (qs) url += (url.indexOf("?") >= 0 ? "&" : "?") + qs;
    }
    var response;
    try {
      response = await fetch(url, {
        method: options.method || "GET",
        headers: headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        credentials: "omit",
        cache: "no-store",
      });
    } catch (e) {
      throw new ApiError(0, {
        title: "Network error",
        detail: "The Marquee API at " + (apiBase || "this site") + " could not be reached. Check your connection and try again.",
      });
    }
    var data = await parseBody(response);
    if (!response.ok && response.status !== 304) {
      if (response.status === 401 && options.auth) {
        session.clear();
        leaveForLogin(true);
      }
      var problem = data && typeof data === "object" ? data : { title: response.statusText, detail: String(data || "") };
      throw new ApiError(response.status, problem, response.headers);
    }
    return { status: response.status, headers: response.headers, data: data, url: url };
  }

  /* ---------- forms: problems shown where the field is ---------- */
  function fieldFeedback(field) {
    var id = field.id ? field.id + "-feedback" : "";
    var existing = id ? document.getElementById(id) : null;
    if (existing) return existing;
    var feedback = document.createElement("div");
    feedback.className = "invalid-feedback";
    if (id) feedback.id = id;
    var holder = field.closest(".input-group") || field;
    holder.insertAdjacentElement("afterend", feedback);
    return feedback;
  }

  function clearProblems(form) {
    form.querySelectorAll(".is-invalid").forEach(function (field) {
      field.classList.remove("is-invalid");
      field.removeAttribute("aria-invalid");
    });
    form.querySelectorAll(".invalid-feedback").forEach(function (node) {
      node.textContent = "";
      node.classList.remove("d-block");
    });
    var alert = form.querySelector("[data-form-alert]");
    if (alert) {
      alert.textContent = "";
      alert.classList.add("d-none");
    }
  }

  function markField(field, message) {
    field.classList.add("is-invalid");
    field.setAttribute("aria-invalid", "true");
    var feedback = fieldFeedback(field);
    feedback.textContent = message;
    // Bootstrap shows .invalid-feedback only beside an .is-invalid sibling; a field in an .input-group (the
    // playground's key) has its feedback after the group, which that rule never reaches: show it ourselves.
    feedback.classList.add("d-block");
    var described = (field.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    if (feedback.id && described.indexOf(feedback.id) < 0) {
      described.push(feedback.id);
      field.setAttribute("aria-describedby", described.join(" "));
    }
  }

  function formAlert(form, message) {
    var alert = form.querySelector("[data-form-alert]");
    if (!alert) {
      alert = document.createElement("div");
      alert.className = "alert alert-danger";
      alert.setAttribute("role", "alert");
      alert.setAttribute("data-form-alert", "");
      form.prepend(alert);
    }
    alert.textContent = message;
    alert.classList.remove("d-none");
    return alert;
  }

  /* A reason as people read it: the admin movie form's reasons start with the rule's stable code for programs
     (`not_a_duration: a runtime is written like 142…`), which the field shows without. */
  function sentence(reason) {
    var text = String(reason || "");
    var coded = /^[a-z][a-z0-9_]*: (.+)$/.exec(text);
    return coded ? coded[1] : text;
  }

  /* A problem's `errors` (422) name their fields; other codes map to a field through data-problem-codes. */
  function showProblem(form, error) {
    var problem = (error && error.problem) || {};
    var message = problem.detail || problem.title || (error && error.message) || "Something went wrong.";
    var first = null;
    if (Array.isArray(problem.errors)) {
      problem.errors.forEach(function (item) {
        var name = String(item.name || "").split(".").pop();
        var field = name && form.elements.namedItem(name);
        if (field && field.classList) {
          markField(field, sentence(item.reason) || message);
          first = first || field;
        }
      });
    }
    if (!first && problem.code) {
      var mapped = form.querySelector('[data-problem-codes~="' + problem.code + '"]');
      if (mapped) {
        markField(mapped, message);
        first = mapped;
      }
    }
    if (first) {
      first.focus();
    } else {
      var alert = formAlert(form, message);
      alert.setAttribute("tabindex", "-1");
      alert.focus();
    }
  }

  function setBusy(form, busy) {
    form.querySelectorAll("button[type=submit]").forEach(function (button) {
      button.disabled = busy;
      if (busy) {
        button.setAttribute("aria-busy", "true");
      } else {
        button.removeAttribute("aria-busy");
      }
    });
  }

  /* bindForm(form, async (values, form) => ...): clears old messages, shows the API's problems on failure. */
  function bindForm(form, handler) {
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      clearProblems(form);
      setBusy(form, true);
      try {
        var values = {};
        new FormData(form).forEach(function (value, name) {
          values[name] = typeof value === "string" ? value : "";
        });
        await handler(values, form);
      } catch (error) {
        showProblem(form, error);
      } finally {
        setBusy(form, false);
      }
    });
  }

  /* ---------- small helpers ---------- */
  function maskKey(last4) {
    return last4 ? "\u2022\u2022\u2022\u2022\u2022\u2022\u2022\u2022-\u2022\u2022\u2022\u2022-\u2022\u2022\u2022\u2022-\u2022\u2022\u2022\u2022-\u2022\u2022\u2022\u2022\u2022\u2022\u2022\u2022" + last4 : "";
  }

  function formatTime(iso) {
    if (!iso) return "";
    var date = new Date(iso);
    return isNaN(date.getTime()) ? String(iso) : date.toLocaleString();
  }

  async function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return;
    }
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "visually-hidden";
    document.body.appendChild(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") node.textContent = attrs[name];
      else if (name === "className") node.className = attrs[name];
      else node.setAttribute(name, attrs[name]);
    });
    (children || []).forEach(function (child) {
      node.append(child);
    });
    return node;
  }

  /* ---------- header ---------- */
  function link(href, text, current) {
    var a = el("a", { className: "nav-link", href: href, text: text });
    if (current) a.setAttribute("aria-current", "page");
    return el("li", { className: "nav-item" }, [a]);
  }

  /* Where the portal's pages are, as a prefix of their names: "" (beside this page), or what a page served from
     another folder says in data-site-root (the local outbox at /outbox/ says "/"). */
  var siteRoot = "";

  function renderHeader() {
    var holder = document.querySelector("[data-site-header]");
    if (!holder) return;
    siteRoot = holder.getAttribute("data-site-root") || "";
    var page = siteRoot ? "" : window.location.pathname.split("/").pop() || "index.html";
    var signedIn = !!session.get();
    var items = el("ul", { className: "navbar-nav me-auto mb-2 mb-md-0" }, [
      link(siteRoot + "index.html", "Home", page === "index.html"),
      link(siteRoot + "docs.html", "API reference", page === "docs.html"),
    ]);
    if (signedIn) items.append(link(siteRoot + "dashboard.html", "Dashboard", page === "dashboard.html"));
    var actions = el("div", { className: "d-flex flex-wrap gap-2 align-items-center" });
    var theme = el("button", { type: "button", className: "btn btn-outline-secondary btn-sm order-md-last ms-md-2 me-2 me-md-0", "data-theme-toggle": "" });
    theme.addEventListener("click", toggleTheme);
    if (signedIn) {
      var out = el("button", { type: "button", className: "btn btn-outline-primary btn-sm", text: "Sign out", "data-sign-out": "" });
      out.addEventListener("click", signOut);
      actions.append(out);
    } else {
      actions.append(el("a", { className: "btn btn-outline-primary btn-sm", href: siteRoot + "login.html", text: "Sign in" }));
      actions.append(el("a", { className: "btn btn-primary btn-sm", href: siteRoot + "signup.html", text: "Get an API key" }));
    }
    var toggler = el("button", {
      className: "navbar-toggler",
      type: "button",
      "data-bs-toggle": "collapse",
      "data-bs-target": "#site-nav",
      "aria-controls": "site-nav",
      "aria-expanded": "false",
      "aria-label": "Toggle navigation",
    }, [el("span", { className: "navbar-toggler-icon" })]);
    var nav = el("nav", { className: "navbar navbar-expand-md border-bottom bg-body-tertiary", "aria-label": "Main" }, [
      el("div", { className: "container" }, [
        el("a", { className: "navbar-brand fw-bold me-auto me-md-3", href: siteRoot + "index.html", text: "Marquee" }),
        theme,
        toggler,
        el("div", { className: "collapse navbar-collapse", id: "site-nav" }, [items, actions]),
      ]),
    ]);
    holder.replaceChildren(nav);
    applyTheme(document.documentElement.getAttribute("data-bs-theme") || preferredTheme());
  }

  async function signOut() {
    try {
      await api("/auth/logout", { method: "POST", auth: true });
    } catch (e) {
      /* the token is dropped locally whatever the API said */
    }
    session.clear();
    window.location.assign(siteRoot + "index.html");
  }

  document.addEventListener("DOMContentLoaded", renderHeader);

  window.Marquee = {
    config: config,
    apiBase: apiBase,
    apiUrl: apiUrl,
    api: api,
    ApiError: ApiError,
    session: session,
    requireSession: requireSession,
    safeNext: safeNext,
    bindForm: bindForm,
    showProblem: showProblem,
    clearProblems: clearProblems,
    formAlert: formAlert,
    maskKey: maskKey,
    formatTime: formatTime,
    copyText: copyText,
    el: el,
    toggleTheme: toggleTheme,
    signOut: signOut,
  };
})();
