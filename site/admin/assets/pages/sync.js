/* TMDB sync: its status (configured, the run in progress, the last success), "Run the sync now" (POST
   /admin/sync/runs: a Sync Requested event on EventBridge, 202), the runs with their counts and errors, polled
   while a run is requested or in progress, and the titles the sync remembers it could not write (GET
   /admin/sync/refused), each with "Try again" (DELETE /admin/sync/refused/{type}/{id}). */
(function () {
  "use strict";
  var M = window.Marquee;
  var A = window.MarqueeAdmin;
  var el = M.el;
  var POLL_MS = 1500;
  var BADGES = { running: "info", succeeded: "success", partial: "warning", failed: "danger" };
  // What started a run: the daily schedule, `marquee run` at start-up, an admin's "Run the sync now", the CLI.
  var TRIGGERS = { schedule: "daily schedule", startup: "start-up", admin: "admin (Run now)", cli: "CLI (marquee sync)" };
  var list;
  var refused;
  // Why a title was not written, as the refused list's `kind` says.
  var KINDS = { title_year_taken: "title and year taken", malformed: "malformed details", given_up: "given up", not_found: "not found on TMDB" };
  var waiting = null;  // {polls, newestBefore: the newest run id when asked} after a request, until its run ends
  var timer = null;
  var polls = 0;  // in a row, while a run is going

  function done(run) {
    var t = run.titles;
    return t.new + t.updated + t.unchanged + t.skipped + t.gone;
  }

  /* A running run's queue is what it has still to fetch (it writes its counts as it goes); a finished run's is what
     it left for the next run. */
  function queuedCell(run) {
    if (run.status !== "running") return el("td", { "data-count": "queued", text: A.number(run.queued) });
    return el("td", { "data-count": "queued", title: "still to fetch (this run, or the next if it stops first)" },
              [el("span", { text: A.number(run.queued) }), el("div", { className: "small text-body-secondary", text: "to fetch" })]);
  }

  function took(run) {
    if (!run.finished_at) return "running for " + ((Date.now() - new Date(run.started_at)) / 1000).toFixed(0) + " s";
    return ((new Date(run.finished_at) - new Date(run.started_at)) / 1000).toFixed(1) + " s";
  }

  function errorsCell(run) {
    if (!run.error_count) return el("td", { text: "0" });
    var lines = run.errors.slice(0, 20).map(function (e) {
      var what = e.tmdb_id ? e.media_type + " " + e.tmdb_id + ": " : "";
      return el("li", { className: "small", text: "[" + e.stage + "] " + what + e.reason });
    });
    return el("td", {}, [el("details", {}, [el("summary", { text: A.number(run.error_count) }), el("ul", { className: "mb-0 ps-3" }, lines)])]);
  }

  function row(run) {
    var status = el("span", { className: "badge text-bg-" + (BADGES[run.status] || "secondary"), "data-status": run.status, text: run.status });
    // A run that succeeded past some errors (a list TMDB would not serve, a title skipped) says so beside its status:
    // green alone read as "all well".
    var flagged = run.status === "succeeded" && run.error_count
      ? [el("span", { className: "badge text-bg-warning ms-1", "data-with-errors": "", text: "with " + A.number(run.error_count) + (run.error_count === 1 ? " error" : " errors") })]
      : [];
    var cells = [
      el("td", { text: String(run.id) }),
      el("td", { text: (TRIGGERS[run.triggered_by] || run.triggered_by) }),
      el("td", {}, [status].concat(flagged, run.message ? [el("div", { className: "small text-body-secondary", text: run.message })] : [])),
      el("td", { className: "small", text: A.time(run.started_at) }),
      el("td", { className: "small", text: took(run) }),
      el("td", { "data-count": "requests", text: A.number(run.requests) }),
      el("td", { "data-count": "pages", text: A.number(run.pages) }),
      el("td", { "data-count": "new", text: A.number(run.titles.new) }),
      el("td", { "data-count": "updated", text: A.number(run.titles.updated) }),
      el("td", { "data-count": "unchanged", text: A.number(run.titles.unchanged) }),
      el("td", { "data-count": "skipped", text: A.number(run.titles.skipped) }),
      el("td", { "data-count": "gone", text: A.number(run.titles.gone) }),
      queuedCell(run),
      errorsCell(run),
    ];
    return el("tr", { "data-run-id": String(run.id) }, cells);
  }

  function refusedRow(r) {
    var named = (r.title || "(no title: not queued from a list)") + (r.year === null ? "" : " (" + r.year + ")");
    var label = r.media_type + " " + r.tmdb_id;
    var retry = A.actionButton("Try again", {
      attrs: { "data-action": "retry", "aria-label": "Try again: " + label },
      confirm: ["Try this title again?", "Forget that the sync could not write TMDB " + label + " (" + named + ")? " +
        "The next run fetches it again if a TMDB list shows it, and reports it again if it still cannot be written.", "Try again"],
      action: function () { return A.api("/admin/sync/refused/" + r.media_type + "/" + r.tmdb_id, { method: "DELETE" }); },
      done: function () { return refused.load(); },
    });
    return el("tr", { "data-refused": r.media_type + ":" + r.tmdb_id }, [
      el("td", {}, [el("div", { className: "text-nowrap", text: named }),
                    el("div", { className: "small text-body-secondary text-nowrap", text: label })]),
      el("td", {}, [el("span", { className: "badge text-bg-secondary", "data-kind": r.kind, text: KINDS[r.kind] || r.kind }),
                    el("div", { className: "small cell-sentence", text: r.reason })]),
      el("td", { "data-times": "", text: A.number(r.times) }),
      el("td", { className: "small text-nowrap", title: "first " + A.time(r.first_refused_at), text: A.time(r.refused_at) }),
      el("td", { className: "text-nowrap" }, [retry]),
    ]);
  }

  async function loadStatus() {
    var status = (await A.api("/admin/sync")).data;
    var line = document.querySelector("[data-sync-status]");
    var button = document.querySelector("[data-request-run]");
    if (!status.configured) {
      line.textContent = "The sync is not configured: give the stack a TMDB v3 read access token (the TmdbApiTokenSecretArn " +
                         "parameter in AWS; TMDB_API_TOKEN for marquee run).";
    } else if (status.running) {
      var r = status.running;
      line.textContent = "Run " + r.id + " is running (started " + A.time(r.started_at) + " by " +
        (TRIGGERS[r.triggered_by] || r.triggered_by) + "): " + A.number(r.pages) + " list and change pages read, " + A.number(done(r)) +
        " titles done so far, " + A.number(r.queued) + " queued to fetch.";
    } else {
      line.textContent = "Ready. " + (status.last_succeeded_at ? "Last successful run started " + A.time(status.last_succeeded_at) + "." : "No run has succeeded yet.");
    }
    button.disabled = !status.configured || !!status.running || !!waiting;
    return status;
  }

  /* Reload while a run is in progress; after a request, until a run newer than the request's has started (or two
     minutes pass) and then finished. */
  async function poll() {
    window.clearTimeout(timer);
    var again = false;
    try {
      var status = await loadStatus();
      await list.load();
      await refused.load();
      // The status and the list are two reads: a run may start between them, so the list's newest row is what
      // says whether a run is still going.
      var first = document.querySelector("[data-rows] tr[data-run-id]");
      var firstRunning = !!first && !!first.querySelector('[data-status="running"]');
      var going = !!status.running || firstRunning;
      polls = going ? polls + 1 : 0;
      again = going && polls < 600;  // a run lasts 15 minutes at most (its Lambda's timeout)
      if (waiting) {
        waiting.polls += 1;
        var started = !!first && Number(first.getAttribute("data-run-id")) > waiting.newestBefore;
        if ((started && !firstRunning) || waiting.polls > 80) {
          waiting = null;
          await loadStatus();
        } else if (!started) {
          again = true;  // the event is on its way: look again (for two minutes at most)
        }
      }
    } catch (error) {
      A.pageAlert(A.problemMessage(error));
    }
    if (again) timer = window.setTimeout(poll, POLL_MS);
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!A.requireSession()) return;
    list = new A.ListPage({ path: "/admin/sync/runs", form: "[data-filters]", tbody: "[data-rows]", pager: "[data-pager]",
                            summary: "[data-summary]", noun: ["run", "runs"], row: row });
    refused = new A.ListPage({ path: "/admin/sync/refused", tbody: "[data-refused-rows]", pager: "[data-refused-pager]",
                               summary: "[data-refused-summary]", noun: ["refused title", "refused titles"], row: refusedRow,
                               pageParam: "refused_page" });
    poll();
    var button = document.querySelector("[data-request-run]");
    button.addEventListener("click", async function () {
      button.disabled = true;
      A.clearPageAlert();
      try {
        var newest = document.querySelector("[data-rows] tr[data-run-id]");
        var before = newest ? Number(newest.getAttribute("data-run-id")) : 0;
        var answer = (await A.api("/admin/sync/runs", { method: "POST" })).data;
        waiting = { polls: 0, newestBefore: before };
        A.pageAlert("Sync requested (event " + answer.event_id + "). " + answer.detail, "info");
        poll();
      } catch (error) {
        A.pageAlert(A.problemMessage(error));
        await loadStatus().catch(function () {});
      }
    });
  });
})();
