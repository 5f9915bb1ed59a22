/* Marquee admin portal, shared by every admin page: the admin session (its own token, kept for the tab only), the
   admin API wrapper (problems shown by the portal's app.js helpers), the header, lists filtered/sorted/paged by the
   API, confirmations before every destructive action, and small formatters. Needs /assets/app.js (window.Marquee)
   and Bootstrap's bundle. */
(function () {
  "use strict";
  var M = window.Marquee;
  var el = M.el;
  var SESSION_KEY = "marquee.admin-session";

  /* ---------- the admin session: sessionStorage, so it ends with the tab ---------- */
  var session = {
    get: function () {
      try {
        var value = JSON.parse(window.sessionStorage.getItem(SESSION_KEY) || "null");
        if (!value || !value.token || Date.now() >= value.expiresAt) {
          window.sessionStorage.removeItem(SESSION_KEY);
          return null;
        }
        return value;
      } catch (e) {
        return null;
      }
    },
    set: function (grant, email) {
      window.sessionStorage.setItem(SESSION_KEY, JSON.stringify({
        token: grant.access_token,
        email: email,
        expiresAt: Date.now() + Math.max(0, Number(grant.expires_in) - 5) * 1000,
      }));
    },
    clear: function () {
      window.sessionStorage.removeItem(SESSION_KEY);
    },
  };

  function loginUrl() {
    var here = window.location.pathname.split("/").pop() + window.location.search;
    return "login.html?next=" + encodeURIComponent(here || "index.html");
  }

  /* A page drawn for one session must not outlive it: Back after signing out restores it from the browser's
     back/forward cache as it was (developers' addresses, keys, logs); it leaves for the sign-in page instead. */
  var pageToken = null;

  function requireSession() {
    var current = session.get();
    if (!current) window.location.replace(loginUrl());
    pageToken = current ? current.token : null;
    return current;
  }

  window.addEventListener("pageshow", function (event) {
    if (!event.persisted || pageToken === null) return;
    var current = session.get();
    if (current && current.token === pageToken) return;
    pageToken = null;
    document.body.replaceChildren();
    if (current) {
      window.location.reload();  // signed in again meanwhile: this page as that session sees it
    } else {
      window.location.replace(loginUrl());
    }
  });

  /* api(path, {method, body, query, accept, ifMatch}) -> {status, headers, data}; ApiError on a problem; signs out
     on 401. ifMatch: the ETag the write is conditional on (412 precondition_failed if the target changed). */
  async function api(path, options) {
    options = options || {};
    var headers = { Accept: options.accept || "application/json, application/problem+json" };
    if (options.ifMatch) headers["If-Match"] = options.ifMatch;
    var current = session.get();
    if (current) headers.Authorization = "Bearer " + current.token;
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    var url = M.apiUrl(path);
    if (options.query) {
      var params = new URLSearchParams();
      Object.keys(options.query).forEach(function (name) {
        var value = options.query[name];
        if (value !== undefined && value !== null && String(value) !== "") params.append(name, String(value));
      });
      if (params.toString()) url += "?" + params.toString();
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
      throw new M.ApiError(0, { title: "Network error", detail: "The Marquee API at " + M.apiBase + " could not be reached." });
    }
    var text = await response.text();
    var data = null;
    if (text && (response.headers.get("Content-Type") || "").indexOf("json") >= 0) {
      try { data = JSON.parse(text); } catch (e) { data = text; }
    }
    if (!response.ok) {
      if (response.status === 401 && path !== "/admin/login") {
        session.clear();
        window.location.replace(loginUrl());
      }
      throw new M.ApiError(response.status, data && typeof data === "object" ? data : { title: response.statusText }, response.headers);
    }
    return { status: response.status, headers: response.headers, data: data };
  }

  /* ---------- header ---------- */
  var PAGES = [
    ["index.html", "Overview"],
    ["keys.html", "Keys"],
    ["developers.html", "Developers"],
    ["key-requests.html", "Reissues"],
    ["requests.html", "Request log"],
    ["plans.html", "Plans"],
    ["movies.html", "Movies"],
    ["ingest.html", "Uploads"],
    ["sync.html", "Sync"],
    ["audit.html", "Audit"],
  ];

  function renderHeader() {
    var holder = document.querySelector("[data-admin-header]");
    if (!holder) return;
    var page = window.location.pathname.split("/").pop() || "index.html";
    var current = session.get();
    var items = el("ul", { className: "navbar-nav me-auto mb-2 mb-xxl-0" });
    if (current) {
      PAGES.forEach(function (entry) {
        var a = el("a", { className: "nav-link text-nowrap px-xxl-2", href: entry[0], text: entry[1] });
        if (entry[0] === page || (page === "developer.html" && entry[0] === "developers.html")) a.setAttribute("aria-current", "page");
        items.append(el("li", { className: "nav-item" }, [a]));
      });
    }
    var actions = el("div", { className: "d-flex flex-wrap flex-xxl-nowrap gap-2 align-items-center" });
    if (current) {
      actions.append(el("span", { className: "small text-body-secondary", text: current.email || "", "data-admin-email": "" }));
      var out = el("button", { type: "button", className: "btn btn-outline-primary btn-sm", text: "Sign out", "data-sign-out": "" });
      out.addEventListener("click", signOut);
      actions.append(out);
    }
    var theme = el("button", { type: "button", className: "btn btn-outline-secondary btn-sm text-nowrap order-xxl-last ms-xxl-2 me-2 me-xxl-0", "data-theme-toggle": "" });
    theme.addEventListener("click", M.toggleTheme);
    var toggler = el("button", {
      className: "navbar-toggler", type: "button", "data-bs-toggle": "collapse", "data-bs-target": "#admin-nav",
      "aria-controls": "admin-nav", "aria-expanded": "false", "aria-label": "Toggle navigation",
    }, [el("span", { className: "navbar-toggler-icon" })]);
    holder.replaceChildren(el("nav", { className: "navbar navbar-expand-xxl border-bottom bg-body-tertiary", "aria-label": "Admin" }, [
      el("div", { className: "container-fluid" }, [
        el("a", { className: "navbar-brand fw-bold me-auto me-xxl-3", href: "index.html", text: "Marquee admin" }),
        theme,
        toggler,
        el("div", { className: "collapse navbar-collapse", id: "admin-nav" }, [items, actions]),
      ]),
    ]));
    var stored = document.documentElement.getAttribute("data-bs-theme");
    theme.textContent = stored === "dark" ? "Light theme" : "Dark theme";
  }

  async function signOut() {
    try {
      await api("/admin/logout", { method: "POST" });
    } catch (e) {
      /* the token is dropped here whatever the API said */
    }
    session.clear();
    window.location.assign("login.html");
  }

  /* ---------- page messages ---------- */
  /* focus: the message answers something the admin just did (a row's button, far down the page): it is brought into
     view and focused, where it was shown above the fold with the focus left on the body, as if nothing happened. */
  function pageAlert(message, kind, focus) {
    var alert = document.querySelector("[data-page-alert]");
    if (!alert) return;
    alert.className = "alert alert-" + (kind || "danger");
    alert.textContent = message;
    alert.classList.remove("d-none");
    if (focus) {
      alert.setAttribute("tabindex", "-1");
      alert.scrollIntoView({ block: "nearest" });
      alert.focus({ preventScroll: true });
    }
  }

  function clearPageAlert() {
    var alert = document.querySelector("[data-page-alert]");
    if (alert) alert.classList.add("d-none");
  }

  function problemMessage(error) {
    var problem = (error && error.problem) || {};
    var text = problem.detail || problem.title || (error && error.message) || "Something went wrong.";
    if (Array.isArray(problem.errors) && problem.errors.length) {
      // Each field's sentence, without the stable code some reasons start with for programs (`not_a_number: …`).
      text += " " + problem.errors.map(function (e) {
        return e.name + ": " + String(e.reason || "").replace(/^[a-z][a-z0-9_]*: /, "");
      }).join("; ");
    }
    return text;
  }

  /* ---------- confirmation before every destructive action ---------- */
  function confirmAction(title, body, confirmLabel, danger) {
    return new Promise(function (resolve) {
      var modalEl = document.getElementById("confirm-modal");
      if (!modalEl) {
        modalEl = el("div", { className: "modal fade", id: "confirm-modal", tabindex: "-1", "aria-labelledby": "confirm-title", "aria-hidden": "true" }, [
          el("div", { className: "modal-dialog modal-dialog-centered" }, [
            el("div", { className: "modal-content" }, [
              el("div", { className: "modal-header" }, [
                el("h2", { className: "modal-title h5", id: "confirm-title" }),
                el("button", { type: "button", className: "btn-close", "data-bs-dismiss": "modal", "aria-label": "Close" }),
              ]),
              el("div", { className: "modal-body", "data-confirm-body": "" }),
              el("div", { className: "modal-footer" }, [
                el("button", { type: "button", className: "btn btn-outline-secondary", "data-bs-dismiss": "modal", text: "Cancel" }),
                el("button", { type: "button", className: "btn", "data-confirm-ok": "" }),
              ]),
            ]),
          ]),
        ]);
        document.body.append(modalEl);
      }
      modalEl.querySelector("#confirm-title").textContent = title;
      modalEl.querySelector("[data-confirm-body]").textContent = body;
      var ok = modalEl.querySelector("[data-confirm-ok]");
      ok.textContent = confirmLabel;
      ok.className = "btn " + (danger === false ? "btn-primary" : "btn-danger");
      var modal = window.bootstrap.Modal.getOrCreateInstance(modalEl);
      var confirmed = false;
      function onOk() {
        confirmed = true;
        modal.hide();
      }
      function onHidden() {
        ok.removeEventListener("click", onOk);
        modalEl.removeEventListener("hidden.bs.modal", onHidden);
        resolve(confirmed);
      }
      ok.addEventListener("click", onOk);
      modalEl.addEventListener("hidden.bs.modal", onHidden);
      modal.show();
    });
  }

  /* ---------- formatters ---------- */
  function time(iso) {
    return iso ? M.formatTime(iso) : "\u2014";
  }
  function number(n) {
    return n === null || n === undefined ? "\u2014" : Number(n).toLocaleString();
  }
  var STATUS_BADGES = { active: "success", suspended: "warning", revoked: "secondary", pending: "info", approved: "success", denied: "secondary" };
  function badge(status) {
    return el("span", { className: "badge text-bg-" + (STATUS_BADGES[status] || "secondary"), text: status });
  }
  function masked(last4) {
    return el("span", { className: "key-value", text: "\u2026" + last4 });
  }

  /* A time the page URL keeps in UTC (2030-01-01T09:00:00.000Z, as the API is sent it) as a datetime-local field
     holds it, in the browser's time: the field refused the UTC form, so a reload or a shared link of a filtered
     request log dropped its time range, silently, and listed every request. */
  function localInputValue(value) {
    var when = new Date(value);
    if (!value || isNaN(when.getTime())) return "";
    function pad(n) { return String(n).padStart(2, "0"); }
    return when.getFullYear() + "-" + pad(when.getMonth() + 1) + "-" + pad(when.getDate()) + "T" + pad(when.getHours()) +
      ":" + pad(when.getMinutes()) + (when.getSeconds() ? ":" + pad(when.getSeconds()) : "");
  }

  /* ---------- lists: filters in a form (mirrored in the page URL), sorting, pages; the API does the work ---------- */
  function ListPage(options) {
    this.options = options;
    this.form = document.querySelector(options.form);
    this.body = document.querySelector(options.tbody);
    this.pager = document.querySelector(options.pager);
    this.summary = document.querySelector(options.summary);
    this.page = 1;
    this.cursors = [];
    // Which load is the latest: an answer to an earlier one (a slow search, then a status chosen) arriving after it
    // must not draw its rows under the later filters.
    this.generation = 0;
    // The page number's name in the page URL: "page", or another when a page holds two lists (the sync page's runs
    // and refused titles), so that each keeps its own.
    this.pageParam = options.pageParam || "page";
    var self = this;
    var params = new URLSearchParams(window.location.search);
    // A page number from the URL is a whole number from 1 to the API's highest (1,000,000); anything else is 1.
    var asked = Number(params.get(this.pageParam));
    this.page = Number.isInteger(asked) && asked >= 1 ? Math.min(asked, 1000000) : 1;
    if (this.form) {
      Array.prototype.forEach.call(this.form.elements, function (field) {
        if (!field.name || !params.has(field.name)) return;
        if (field.type === "checkbox") field.checked = params.get(field.name) === (field.value === "on" ? "true" : field.value);
        else if (field.getAttribute("data-as") === "utc") field.value = localInputValue(params.get(field.name));
        else field.value = params.get(field.name);
      });
      this.form.addEventListener("submit", function (event) {
        event.preventDefault();
        self.page = 1;
        self.cursors = [];
        self.load();
      });
      this.form.addEventListener("change", function (event) {
        if (event.target && (event.target.tagName === "SELECT" || event.target.type === "checkbox")) {
          self.page = 1;
          self.cursors = [];
          self.load();
        }
      });
    }
    document.querySelectorAll(options.sortable || "[data-sort]").forEach(function (header) {
      var button = header.querySelector("button");
      if (!button) return;
      button.addEventListener("click", function () {
        var sortField = self.form.elements.namedItem("sort");
        var base = header.getAttribute("data-sort");
        var next = sortField.value === base + ".desc" ? base + ".asc" : base + ".desc";
        if (Array.prototype.some.call(sortField.options, function (o) { return o.value === next; })) sortField.value = next;
        self.page = 1;
        self.cursors = [];
        self.load();
      });
    });
  }

  ListPage.prototype.query = function () {
    var query = {};
    if (this.form) {
      Array.prototype.forEach.call(this.form.elements, function (field) {
        if (!field.name || field.disabled) return;
        if (field.type === "checkbox") {
          if (field.checked) query[field.name] = field.value === "on" ? "true" : field.value;
        } else if (field.value !== "") {
          query[field.name] = field.getAttribute("data-as") === "utc" ? new Date(field.value).toISOString() : field.value;
        }
      });
    }
    return query;
  };

  /* Whether the list's form narrows it: a field other than the sort and the page size holds a value (a box ticked, a
     status chosen, a search typed; the reissue requests' default "pending" is one). */
  ListPage.prototype.filtered = function () {
    var query = this.query();
    return Object.keys(query).some(function (name) { return name !== "sort" && name !== "per_page"; });
  };

  ListPage.prototype.load = async function () {
    var self = this;
    var query = this.query();
    var shown = Object.assign({}, query);
    if (this.options.cursor) {
      var cursor = this.cursors[this.cursors.length - 1];
      if (cursor) query.cursor = cursor;
    } else {
      query.page = this.page;
      if (this.page > 1) shown[this.pageParam] = this.page;
    }
    // The list's own parameters (its form's fields and the page) are rewritten; others the page keeps in its URL
    // stay (the uploads page's ?job=: a reload, or a job's link opened in a new tab, shows that job).
    var url = new URL(window.location.href);
    var params = new URLSearchParams(url.search);
    params.delete(this.pageParam);
    if (this.form) Array.prototype.forEach.call(this.form.elements, function (field) { if (field.name) params.delete(field.name); });
    Object.keys(shown).forEach(function (name) { params.set(name, shown[name]); });
    url.search = params.toString();
    window.history.replaceState(null, "", url);
    this.body.setAttribute("aria-busy", "true");
    clearPageAlert();
    var generation = ++this.generation;
    try {
      var data = (await api(this.options.path, { query: query })).data;
      if (generation !== this.generation) return;  // a later load (other filters, another page) is under way
      if (!this.options.cursor && !data.results.length && data.total_pages >= 1 && this.page > data.total_pages) {
        // Past the last page (an old link, or the last row of the last page just suspended, revoked or deleted
        // under a filter): the last page, not "Nothing matches." beside "3 keys match" and "Page 7 of 6".
        this.page = data.total_pages;
        return await this.load();
      }
      this.body.replaceChildren();
      if (!data.results.length) {
        var cols = this.body.closest("table").querySelectorAll("thead th").length;
        // "Nothing matches." only when a filter is set: an empty list with none (a fresh stack's sync runs) has no
        // rows yet, and saying they do not match sent a newcomer looking for a filter.
        var empty = this.filtered() ? "Nothing matches." : "No " + (this.options.noun || ["row", "rows"])[1] + " yet.";
        this.body.append(el("tr", {}, [el("td", { colspan: String(cols), className: "text-body-secondary", text: empty })]));
      }
      data.results.forEach(function (row) {
        self.body.append(self.options.row(row, self));
      });
      this.renderPager(data);
      this.markSort();
    } catch (error) {
      if (generation === this.generation) pageAlert(problemMessage(error));
    } finally {
      if (generation === this.generation) this.body.removeAttribute("aria-busy");
    }
  };

  ListPage.prototype.markSort = function () {
    var sortField = this.form && this.form.elements.namedItem("sort");
    if (!sortField) return;
    document.querySelectorAll("[data-sort]").forEach(function (header) {
      var base = header.getAttribute("data-sort");
      var value = sortField.value;
      header.setAttribute("aria-sort", value === base + ".asc" ? "ascending" : value === base + ".desc" ? "descending" : "none");
    });
  };

  ListPage.prototype.renderPager = function (data) {
    var self = this;
    if (!this.pager) return;
    this.pager.replaceChildren();
    function button(label, enabled, onClick, attr) {
      var b = el("button", { type: "button", className: "btn btn-outline-secondary btn-sm", text: label });
      if (attr) b.setAttribute(attr, "");
      b.disabled = !enabled;
      b.addEventListener("click", onClick);
      return b;
    }
    if (this.options.cursor) {
      this.pager.append(
        button("Newest", this.cursors.length > 0, function () { self.cursors = []; self.load(); }, "data-page-first"),
        button("Older \u2192", !!data.next_cursor, function () { self.cursors.push(data.next_cursor); self.load(); }, "data-page-next"),
      );
      if (this.summary) this.summary.textContent = this.counted(data.results.length) + " shown" + (data.next_cursor ? ", more follow" : "");
      return;
    }
    this.pager.append(
      button("\u2190 Previous", data.page > 1, function () { self.page -= 1; self.load(); }, "data-page-prev"),
      el("span", { className: "align-self-center small", "data-page-of": "", text: "Page " + data.page + " of " + Math.max(1, data.total_pages) }),
      button("Next \u2192", data.page < data.total_pages, function () { self.page += 1; self.load(); }, "data-page-next"),
    );
    if (this.summary) this.summary.textContent = this.counted(data.total_results) + (data.total_results === 1 ? " matches" : " match");
  };

  /* "1 key", "1,235 keys": the count line says what it counts (options.noun: [singular, plural]). */
  ListPage.prototype.counted = function (n) {
    var noun = this.options.noun || ["row", "rows"];
    return number(n) + " " + (n === 1 ? noun[0] : noun[1]);
  };

  /* An action button with its confirmation: runs `action`, then reloads the list (or calls `after`). */
  function actionButton(label, options) {
    var button = el("button", { type: "button", className: "btn btn-sm " + (options.className || "btn-outline-secondary"), text: label });
    Object.keys(options.attrs || {}).forEach(function (name) { button.setAttribute(name, options.attrs[name]); });
    button.addEventListener("click", async function () {
      if (options.confirm) {
        var ok = await confirmAction(options.confirm[0], options.confirm[1], options.confirm[2] || label, options.danger);
        if (!ok) return;
      }
      button.disabled = true;
      try {
        await options.action();
        if (options.done) await options.done();
      } catch (error) {
        // Refused because the row changed since it was drawn (another admin revoked the key: 409; deleted it: 404;
        // a movie edited: 412): the list is drawn again as it is now, then the reason is shown. The row kept
        // saying "active" with its Suspend button beside the message that the key is revoked.
        if (options.done && error.status >= 404 && error.status < 500 && error.status !== 429) {
          try { await options.done(); } catch (e) { /* the reason below is the message that matters */ }
        }
        pageAlert(problemMessage(error), "danger", true);
      } finally {
        button.disabled = false;
      }
    });
    return button;
  }

  /* Start an export and go to its file (S3 in AWS, the admin function locally): a navigation, not a fetch. */
  async function exportCsv(path, query) {
    var answer = (await api(path, { query: query, accept: "application/json" })).data;
    window.location.assign(answer.download_url);
    return answer;
  }

  document.addEventListener("DOMContentLoaded", renderHeader);

  window.MarqueeAdmin = {
    api: api,
    session: session,
    requireSession: requireSession,
    pageAlert: pageAlert,
    clearPageAlert: clearPageAlert,
    problemMessage: problemMessage,
    confirmAction: confirmAction,
    ListPage: ListPage,
    actionButton: actionButton,
    exportCsv: exportCsv,
    time: time,
    number: number,
    badge: badge,
    masked: masked,
    signOut: signOut,
  };
})();
