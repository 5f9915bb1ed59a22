/* Dashboard: the new key once, the masked key and reissue requests, usage windows, the 30-day chart, the request
   log, example calls, the playground and the API reference. Every figure comes from the developer's own
   /auth/* routes with the session token; the playground calls the public API with an API key. */
(function () {
  "use strict";
  var M = window.Marquee;
  var el = M.el;

  // logCursors[n - 1] is the cursor page n was read with (null: page 1, the newest); logNext the page after it.
  var state = { me: null, justShownKey: null, logCursors: [null], logNext: null, logPages: 1, chart: null, usage: null };

  /* ---------- the new key, shown once ---------- */
  function showNewKey(rawKey) {
    var panel = document.querySelector("[data-new-key]");
    panel.querySelector("[data-new-key-value]").value = rawKey;
    panel.classList.remove("d-none");
    state.justShownKey = rawKey;
    var keyInput = document.querySelector("[data-pg-key]");
    if (keyInput && !keyInput.value) keyInput.value = rawKey;
    panel.focus();
  }

  function takeHandedOverKey() {
    var raw = null;
    try {
      raw = window.sessionStorage.getItem("marquee.newKey");
      window.sessionStorage.removeItem("marquee.newKey");
    } catch (e) {
      raw = null;
    }
    if (raw) showNewKey(raw);
  }

  function bindCopy() {
    document.querySelector("[data-copy-key]").addEventListener("click", async function () {
      var value = document.querySelector("[data-new-key-value]").value;
      var status = document.querySelector("[data-copy-status]");
      try {
        await M.copyText(value);
        status.textContent = "Copied to the clipboard.";
      } catch (e) {
        document.querySelector("[data-new-key-value]").select();
        status.textContent = "Copy failed: the key is selected, press Ctrl+C (or \u2318C).";
      }
    });
  }

  /* ---------- profile and key ---------- */
  function text(selector, value) {
    var node = document.querySelector(selector);
    if (node) node.textContent = value === null || value === undefined || value === "" ? "\u2014" : String(value);
  }

  function keyBlock(key) {
    function row(label, attr, value) {
      var dd = el("dd", { className: "col-8" + (attr === "data-key-masked" ? " key-value small" : "") });
      dd.setAttribute(attr, "");
      dd.textContent = value === null || value === undefined || value === "" ? "\u2014" : String(value);
      if (attr === "data-key-masked" && value) {
        // The key's last group only (…-••••••••9869): the whole 36-character mask wrapped in the middle of the
        // half-width card; the full shape stays in the tooltip.
        dd.textContent = "\u2026" + String(value).slice(-13);
        dd.title = String(value);
      }
      return [el("dt", { className: "col-4", text: label }), dd];
    }
    var rows = [].concat(
      row("Key", "data-key-masked", key.masked),
      row("Plan", "data-key-plan", key.plan),
      row("Status", "data-key-status", key.status),
      row("Created", "data-key-created", M.formatTime(key.created_at)),
      row("Last used", "data-key-used", key.last_used_at ? M.formatTime(key.last_used_at) : "never")
    );
    return el("dl", { className: "row mb-2 small", "data-key": String(key.id) }, rows);
  }

  function keyLabel(key) {
    return "\u2026" + key.last4 + " (" + key.plan + ", " + key.status + ")";
  }

  async function loadMe() {
    var me = (await M.api("/auth/me", { auth: true })).data;
    state.me = me;
    document.querySelector("[data-welcome]").textContent = "Signed in as " + me.name + " (" + me.email + ").";
    var box = document.querySelector("[data-keys]");
    box.replaceChildren();
    var keys = me.keys || [];
    if (!keys.length) {
      box.append(el("p", { className: "small", "data-key-masked": "", text: me.key ? "No key in use" : "No key yet" }));
    }
    keys.forEach(function (key) {
      box.append(keyBlock(key));
    });
    // Several keys (an admin can give you more): a reissue request says which one it replaces.
    var choice = document.querySelector("[data-key-choice]");
    var select = document.querySelector("[data-key-choice-select]");
    select.replaceChildren();
    keys.forEach(function (key) {
      select.append(el("option", { value: String(key.id), text: keyLabel(key) }));
    });
    choice.classList.toggle("d-none", keys.length < 2);
    select.disabled = keys.length < 2;
    renderExamples();
  }

  /* ---------- reissue requests ---------- */
  async function loadKeyRequests() {
    var list = document.querySelector("[data-key-requests]");
    var requests = (await M.api("/auth/key-requests", { auth: true })).data.results || [];
    list.replaceChildren();
    requests.forEach(function (request) {
      var item = el("li", { className: "list-group-item px-0", "data-key-request": String(request.id) }, [
        el("div", { className: "d-flex justify-content-between gap-2" }, [
          el("span", { text: M.formatTime(request.created_at) }),
          el("span", { className: "badge text-bg-" + badgeFor(request), text: labelFor(request) }),
        ]),
        el("div", { className: "text-body-secondary text-break", text: request.reason, "data-key-request-reason": "" }),
      ]);
      var about = keyById(request.key_id);
      if (about) item.append(el("div", { className: "small", "data-key-request-key": "", text: "Key \u2026" + about.last4 }));
      if (request.decision_note) item.append(el("div", { className: "fst-italic", text: request.decision_note }));
      if (request.status === "approved" && !request.fulfilled_at) {
        var reveal = el("button", { type: "button", className: "btn btn-sm btn-success mt-1", text: "Reveal my new key" });
        reveal.addEventListener("click", async function () {
          reveal.disabled = true;
          var claimed;
          try {
            claimed = (await M.api("/auth/key-requests/" + request.id + "/claim", { method: "POST", auth: true })).data;
          } catch (error) {
            reveal.disabled = false;
            pageError(error);
            return;
          }
          // Revealed: the button stays off (a key is revealed once), whatever the reloads below meet.
          showNewKey(claimed.api_key);
          await refresh([loadMe(), loadKeyRequests(), loadUsage(), loadLog([null])]);  // the windows of the new key
        });
        item.append(reveal);
      }
      list.append(item);
    });
    var open = requests.some(function (r) {
      return r.status === "pending" || (r.status === "approved" && !r.fulfilled_at);
    });
    if (open) document.querySelector("[data-key-request-box]").open = true;
  }

  function keyById(id) {
    var me = state.me || {};
    var known = (me.keys || []).concat(me.key ? [me.key] : []);
    return known.filter(function (key) { return key.id === id; })[0] || null;
  }

  function labelFor(request) {
    if (request.status === "approved") return request.fulfilled_at ? "replaced" : "approved";
    return request.status;
  }

  function badgeFor(request) {
    return { pending: "secondary", approved: "success", denied: "danger" }[request.status] || "secondary";
  }

  function bindKeyRequestForm() {
    var form = document.querySelector("[data-key-request-form]");
    M.bindForm(form, async function (values) {
      var body = { reason: values.reason.trim() };
      if (values.key_id) body.key_id = Number(values.key_id);
      await M.api("/auth/key-requests", { method: "POST", auth: true, body: body });
      form.reset();
      await loadKeyRequests();
    });
  }

  /* ---------- usage windows ---------- */
  var WINDOW_LABELS = { day: ["Today (UTC)", "Requests used today"], minute: ["This minute", "Requests used this minute"] };

  function windowBox(name, window_) {
    var fill = el("div", { className: "progress-bar" + (name === "minute" ? " bg-info" : "") });
    var bar = el("div", {
      className: "progress", role: "progressbar", "aria-label": WINDOW_LABELS[name][1],
      "aria-valuemin": "0", "aria-valuenow": "0", "aria-valuemax": "100", "data-window-bar": "",
    }, [fill]);
    var textNode = el("span", { "data-window-text": "", text: "\u2014" });
    var reset = el("div", { className: "small text-body-secondary", "data-window-reset": "" });
    var box = el("div", { className: "mb-3", "data-window": name }, [
      el("div", { className: "d-flex justify-content-between small" }, [el("span", { text: WINDOW_LABELS[name][0] }), textNode]),
      bar,
      reset,
    ]);
    if (!window_) {
      textNode.textContent = "No key";
      return box;
    }
    if (window_.limit === null || window_.limit === undefined) {
      textNode.textContent = window_.used.toLocaleString() + " used \u00b7 no cap";
      fill.style.width = "0%";
    } else {
      var percent = window_.limit > 0 ? Math.min(100, Math.round((window_.used / window_.limit) * 100)) : 100;
      textNode.textContent =
        window_.used.toLocaleString() + " of " + window_.limit.toLocaleString() + " (" + window_.remaining.toLocaleString() + " left)";
      fill.style.width = percent + "%";
      fill.classList.toggle("bg-danger", percent >= 90);
      bar.setAttribute("aria-valuenow", String(percent));
      bar.setAttribute("aria-valuetext", window_.used + " of " + window_.limit + " requests used");
    }
    reset.textContent = window_.reset_at ? "Resets " + M.formatTime(window_.reset_at) : "";
    return box;
  }

  async function loadUsage() {
    var usage = (await M.api("/auth/usage", { auth: true })).data;
    state.usage = usage;
    var box = document.querySelector("[data-key-windows]");
    box.replaceChildren();
    var keys = usage.keys || [];
    if (!keys.length) {
      box.append(windowBox("day", null), windowBox("minute", null));
    }
    keys.forEach(function (entry) {
      // Each key has its own limits: its windows are what its own GET /usage and rate-limit headers say.
      var block = el("div", { "data-key-usage": String(entry.key.id) });
      if (keys.length > 1) block.append(el("h3", { className: "h6 key-value small", text: "Key \u2026" + entry.key.last4 }));
      block.append(windowBox("day", entry.windows.day), windowBox("minute", entry.windows.minute));
      box.append(block);
    });
    text("[data-requests-today]", Number(usage.requests_today || 0).toLocaleString());
    text("[data-total-requests]", Number(usage.total_requests || 0).toLocaleString());
    renderChart();
  }

  /* ---------- 30-day chart ---------- */
  var PALETTE = ["#0d6efd", "#20c997", "#fd7e14", "#6f42c1", "#d63384", "#198754", "#0dcaf0", "#ffc107", "#6c757d", "#dc3545"];
  var OUTCOME_COLORS = { "2xx": "#198754", "4xx": "#fd7e14", "429": "#dc3545" };
  // The API's "2xx" outcome counts free 304 Not Modified answers too: labelled as the admin overview labels it.
  var OUTCOME_LABELS = { "2xx": "2xx/3xx" };

  function chartBy() {
    var checked = document.querySelector('input[name="chart-by"]:checked');
    return checked ? checked.value : "endpoints";
  }

  function renderChart() {
    var usage = state.usage;
    if (!usage || !window.Chart) return;
    var series = usage.series || { days: [], endpoints: {}, outcomes: {} };
    var group = series[chartBy()] || {};
    var names = Object.keys(group);
    var datasets = names.map(function (name, index) {
      var color = OUTCOME_COLORS[name] || PALETTE[index % PALETTE.length];
      var label = chartBy() === "outcomes" ? OUTCOME_LABELS[name] || name : name;
      return { label: label, data: group[name], backgroundColor: color, borderColor: color, stack: "requests" };
    });
    var total = names.reduce(function (sum, name) {
      return sum + group[name].reduce(function (a, b) { return a + b; }, 0);
    }, 0);
    document.querySelector("[data-chart-summary]").textContent =
      total.toLocaleString() + (total === 1 ? " request" : " requests") + " answered in the last 30 days" + (names.length ? " across " + datasets.map(function (d) { return d.label; }).join(", ") + "." : ".");
    var dark = document.documentElement.getAttribute("data-bs-theme") === "dark";
    window.Chart.defaults.color = dark ? "#dee2e6" : "#212529";
    window.Chart.defaults.borderColor = dark ? "rgba(255,255,255,0.12)" : "rgba(0,0,0,0.1)";
    var labels = (series.days || []).map(function (day) { return day.slice(5); });
    if (state.chart) state.chart.destroy();
    state.chart = new window.Chart(document.querySelector("[data-usage-chart]"), {
      type: "bar",
      data: { labels: labels, datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
        plugins: { legend: { position: "bottom" } },
      },
    });
  }

  /* ---------- request log ---------- */
  function statusBadge(status) {
    var tone = status >= 500 ? "danger" : status === 429 ? "warning" : status >= 400 ? "secondary" : "success";
    return el("span", { className: "badge text-bg-" + tone, text: String(status) });
  }

  /* Older pages by cursor: each starts right after the previous page's last row, so requests made while the
     developer reads do not push rows of the page they saw onto the next one. `cursors` is the stack of pages read
     (page n was read with cursors[n - 1]); Newer goes back to the cursor of the page before. */
  async function loadLog(cursors) {
    var cursor = cursors[cursors.length - 1];
    var query = cursor ? { cursor: cursor, per_page: 20 } : { per_page: 20 };
    var data = (await M.api("/auth/requests", { auth: true, query: query })).data;
    state.logCursors = cursors;
    state.logNext = data.next_cursor || null;
    state.logPages = Math.max(cursors.length, data.total_pages);
    var body = document.querySelector("[data-request-log] tbody");
    body.replaceChildren();
    if (!data.results.length) {
      body.append(el("tr", {}, [el("td", { colspan: "4", className: "text-body-secondary", text: "No requests yet. Try the playground below." })]));
    }
    data.results.forEach(function (row) {
      body.append(
        el("tr", { "data-log-row": "" }, [
          el("td", { text: M.formatTime(row.time) }),
          el("td", { text: row.method }),
          el("td", {}, [el("code", { text: row.endpoint })]),
          el("td", {}, [statusBadge(row.status)]),
        ])
      );
    });
    document.querySelector("[data-log-page]").textContent = "Page " + cursors.length + " of " + state.logPages;
    document.querySelector("[data-log-newer]").disabled = cursors.length <= 1;
    document.querySelector("[data-log-older]").disabled = !state.logNext;
  }

  function bindLogPager() {
    document.querySelector("[data-log-newer]").addEventListener("click", function () {
      loadLog(state.logCursors.length > 1 ? state.logCursors.slice(0, -1) : [null]).catch(pageError);
    });
    document.querySelector("[data-log-older]").addEventListener("click", function () {
      if (state.logNext) loadLog(state.logCursors.concat([state.logNext])).catch(pageError);
    });
  }

  /* ---------- example calls ---------- */
  function renderExamples() {
    var key = state.me && state.me.keys && state.me.keys.length ? state.me.keys[0].masked : "YOUR_API_KEY";
    var path = document.querySelector("[data-example-endpoint]").value;
    var url = (M.apiBase || window.location.origin) + path;
    var samples = {
      curl: 'curl -H "X-API-KEY: ' + key + '" \\\n  "' + url + '"',
      js:
        "// Node.js 18+ (or any server). Browsers refuse it from other sites (CORS: the API answers the portal's\n" +
        "// origin only), and a key in a web page is anyone's: call Marquee from your server.\n" +
        'const response = await fetch("' + url + '", {\n  headers: { "X-API-KEY": "' + key + '" },\n});\n' +
        "if (!response.ok) throw new Error((await response.json()).detail);\nconst data = await response.json();\nconsole.log(data.results);",
      python:
        "import requests\n\nresponse = requests.get(\n    \"" + url + "\",\n    headers={\"X-API-KEY\": \"" + key + "\"},\n    timeout=10,\n)\nresponse.raise_for_status()\nprint(response.json()[\"results\"])",
    };
    Object.keys(samples).forEach(function (name) {
      document.querySelector('[data-example="' + name + '"]').textContent = samples[name];
    });
  }

  /* ---------- playground ---------- */
  /* The endpoints and their parameters come from the API's own OpenAPI document, so the playground offers every
     GET route the API serves, with the parameters it declares (a hand-kept list once missed /movies/now_playing). */
  var ENDPOINTS = [];

  function isInteger(schema) {
    schema = schema || {};
    return schema.type === "integer" || (schema.anyOf || []).some(function (s) { return s.type === "integer"; });
  }

  function endpointsFrom(doc) {
    var list = [];
    Object.keys(doc.paths || {}).forEach(function (path) {
      var get = doc.paths[path].get;
      if (!get) return;
      var endpoint = { path: path, params: [], numeric: {}, required: {}, summary: get.summary || "" };
      (get.parameters || []).forEach(function (p) {
        if (p.in !== "path" && p.in !== "query") return;
        endpoint.params.push(p.name);
        if (isInteger(p.schema)) endpoint.numeric[p.name] = true;
        if (p.in === "path") endpoint.required[p.name] = true;
      });
      list.push(endpoint);
    });
    return list;
  }

  function currentEndpoint() {
    var select = document.querySelector("[data-pg-endpoint]");
    return ENDPOINTS[Number(select.value)] || ENDPOINTS[0] || { path: "", params: [], numeric: {}, required: {} };
  }

  function renderParams() {
    var holder = document.querySelector("[data-pg-params]");
    var endpoint = currentEndpoint();
    holder.replaceChildren();
    endpoint.params.forEach(function (name) {
      var id = "pg-param-" + name;
      var input = el("input", { id: id, name: "param:" + name, className: "form-control form-control-sm", autocomplete: "off" });
      if (endpoint.numeric[name]) {
        input.setAttribute("inputmode", "numeric");
      }
      if (endpoint.required[name]) input.setAttribute("required", "");
      if (name === "title") {
        input.setAttribute("list", "pg-title-suggestions");
        input.setAttribute("data-pg-title", "");
        input.addEventListener("input", suggestTitles);
      }
      holder.append(
        el("div", { className: "col-6 col-md-3" }, [
          el("label", { for: id, className: "form-label small mb-0", text: name + (endpoint.required[name] ? " (required)" : "") }),
          input,
        ])
      );
    });
  }

  var suggestTimer = null;
  function suggestTitles(event) {
    var value = event.target.value.trim();
    var key = document.querySelector("[data-pg-key]").value.trim();
    window.clearTimeout(suggestTimer);
    if (value.length < 2 || !key) return;
    suggestTimer = window.setTimeout(async function () {
      try {
        var response = await fetch(M.apiUrl("/search/suggest?q=" + encodeURIComponent(value)), {
          headers: { "X-API-KEY": key, Accept: "application/json" },
          credentials: "omit",
        });
        if (!response.ok) return;
        var data = await response.json();
        var list = document.querySelector("[data-pg-suggestions]");
        list.replaceChildren();
        (data.results || []).forEach(function (movie) {
          list.append(el("option", { value: movie.title, label: movie.title + (movie.year ? " (" + movie.year + ")" : "") }));
        });
      } catch (e) {
        /* suggestions are a convenience: the form works without them */
      }
    }, 250);
  }

  function buildUrl(values) {
    var endpoint = currentEndpoint();
    var path = endpoint.path;
    var query = new URLSearchParams();
    var problems = [];
    endpoint.params.forEach(function (name) {
      var value = (values["param:" + name] || "").trim();
      if (endpoint.required[name]) {
        if (endpoint.numeric[name] && !/^[1-9]\d*$/.test(value)) {
          problems.push({ name: "param:" + name, reason: "Enter the " + name + " (a whole number, e.g. 1)." });
        } else if (!value) {
          problems.push({ name: "param:" + name, reason: "Enter the " + name + "." });
        }
        path = path.replace("{" + name + "}", encodeURIComponent(value));
      } else if (value) {
        query.append(name, value);
      }
    });
    if (problems.length) throw new M.ApiError(422, { detail: problems[0].reason, errors: problems });
    var qs = query.toString();
    return M.apiUrl(path) + (qs ? "?" + qs : "");
  }

  async function loadEndpoints() {
    var select = document.querySelector("[data-pg-endpoint]");
    var response = await fetch(M.apiUrl("/openapi.json"), { headers: { Accept: "application/json" }, credentials: "omit" });
    if (!response.ok) throw new Error("HTTP " + response.status);
    ENDPOINTS = endpointsFrom(await response.json());
    ENDPOINTS.forEach(function (endpoint, index) {
      select.append(el("option", { value: String(index), text: "GET " + endpoint.path, title: endpoint.summary }));
    });
    renderParams();
  }

  function bindPlayground() {
    var select = document.querySelector("[data-pg-endpoint]");
    select.addEventListener("change", renderParams);
    loadEndpoints().catch(function (error) {
      var alert = document.querySelector("[data-playground-form] [data-form-alert]");
      alert.textContent = "The API's endpoint list (" + M.apiUrl("/openapi.json") + ") could not be loaded: " +
        ((error && error.message) || "unreachable") + ". Reload the page to try again.";
      alert.classList.remove("d-none");
    });
    var keyInput = document.querySelector("[data-pg-key]");
    var toggle = document.querySelector("[data-pg-key-toggle]");
    toggle.addEventListener("click", function () {
      var show = keyInput.type === "password";
      keyInput.type = show ? "text" : "password";
      toggle.textContent = show ? "Hide" : "Show";
      toggle.setAttribute("aria-pressed", String(show));
    });
    var form = document.querySelector("[data-playground-form]");
    M.bindForm(form, async function (values) {
      // The previous call's response goes first: a request refused here (no key, a bad parameter) or that never
      // reached the API would otherwise leave the last answer on screen, read as this request's.
      clearResult();
      var key = (values.key || "").trim();
      if (!key) {
        throw new M.ApiError(422, { detail: "Paste your API key first.", errors: [{ name: "key", reason: "Paste your API key first." }] });
      }
      var url = buildUrl(values);
      var started = performance.now();
      var response;
      try {
        response = await fetch(url, { headers: { "X-API-KEY": key, Accept: "application/json" }, credentials: "omit", cache: "no-store" });
      } catch (e) {
        throw new M.ApiError(0, { detail: "The API at " + M.apiBase + " could not be reached." });
      }
      var elapsed = Math.round(performance.now() - started);
      var body = await response.text();
      showResult(response, url, body, elapsed);
      refreshAfterCall();
    });
  }

  function clearResult() {
    var result = document.querySelector("[data-pg-result]");
    result.classList.add("d-none");
    ["[data-pg-status]", "[data-pg-url]", "[data-pg-time]", "[data-pg-headers]", "[data-pg-body]"].forEach(function (selector) {
      result.querySelector(selector).textContent = "";
    });
    result.querySelector("[data-pg-status]").className = "badge";
  }

  function showResult(response, url, body, elapsed) {
    var result = document.querySelector("[data-pg-result]");
    var status = result.querySelector("[data-pg-status]");
    status.textContent = response.status + " " + (response.statusText || "");
    status.className = "badge text-bg-" + (response.ok ? "success" : response.status === 429 ? "warning" : "danger");
    result.querySelector("[data-pg-url]").textContent = url;
    result.querySelector("[data-pg-time]").textContent = elapsed + " ms";
    var lines = [];
    response.headers.forEach(function (value, name) {
      lines.push(name + ": " + value);
    });
    result.querySelector("[data-pg-headers]").textContent = lines.sort().join("\n");
    var pretty = body;
    try {
      pretty = JSON.stringify(JSON.parse(body), null, 2);
    } catch (e) {
      /* not JSON: shown as it came */
    }
    result.querySelector("[data-pg-body]").textContent = pretty;
    result.classList.remove("d-none");
  }

  function refreshAfterCall() {
    refresh([loadUsage(), loadLog([null]), loadMe(), loadKeyRequests()]);
  }

  /* A refresh of every card whose reads all succeeded takes away the alert an earlier failed one left: "The
     database is unavailable" stayed on screen above figures that had since loaded. (A page of the request log alone
     does not: it would take away what another card's failure said.) */
  function refresh(reads) {
    return Promise.all(reads).then(clearPageAlert, pageError);
  }

  /* ---------- API reference ---------- */
  function loadReference() {
    var openapi = M.apiUrl("/openapi.json");
    document.querySelector("[data-openapi-link]").href = openapi;
    if (!window.SwaggerUIBundle) return;
    window.SwaggerUIBundle({ url: openapi, dom_id: "#swagger-ui", deepLinking: false, tryItOutEnabled: false });
  }

  /* ---------- page ---------- */
  function pageAlert(message) {
    var alert = document.querySelector("[data-page-alert]");
    alert.textContent = message;
    alert.classList.remove("d-none");
  }

  function clearPageAlert() {
    var alert = document.querySelector("[data-page-alert]");
    alert.textContent = "";
    alert.classList.add("d-none");
  }

  function pageError(error) {
    if (error && error.status === 401) return; // redirected to sign-in
    pageAlert((error && error.message) || "Something went wrong.");
  }

  /* ---------- deleting the account: DELETE /auth/me with the password, then signed out for good ---------- */
  function bindDeleteForm() {
    var form = document.querySelector("[data-delete-form]");
    M.bindForm(form, async function (values) {
      await M.api("/auth/me", { method: "DELETE", auth: true, body: { password: values.password } });
      M.session.clear();
      window.location.replace("login.html?deleted=1");
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!M.requireSession()) return;
    bindCopy();
    bindKeyRequestForm();
    bindDeleteForm();
    bindLogPager();
    bindPlayground();
    takeHandedOverKey();
    document.querySelector("[data-example-endpoint]").addEventListener("change", renderExamples);
    document.querySelectorAll('input[name="chart-by"]').forEach(function (radio) {
      radio.addEventListener("change", renderChart);
    });
    document.addEventListener("marquee:theme", renderChart);
    renderExamples();
    refresh([loadMe(), loadUsage(), loadLog([null]), loadKeyRequests()]);
    loadReference();
  });
})();
