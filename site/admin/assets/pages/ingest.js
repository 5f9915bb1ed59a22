/* CSV uploads: POST /admin/ingest/uploads queues a job and signs the upload, the browser sends the file straight to
   the uploads bucket (S3's presigned POST; `marquee run`'s S3 stand-in locally), then the job is polled until it is
   done or failed: its counts, its reported rows (paged) and the error report's download. Below, every job. */
(function () {
  "use strict";
  var M = window.Marquee;
  var A = window.MarqueeAdmin;
  var el = M.el;
  var POLL_MS = 1000;
  var RUNNING = ["queued", "validating", "loading"];
  var BADGES = { queued: "secondary", validating: "info", loading: "info", done: "success", failed: "danger" };
  var COUNTS = [["rows", "Rows"], ["valid", "Valid"], ["invalid", "Invalid"], ["duplicates", "Duplicates"],
                ["inserted", "Inserted"], ["updated", "Updated"], ["unchanged", "Unchanged"], ["deleted", "Deleted"]];
  var list;
  var shown = { id: null, errorsPage: 1, timer: null };

  function statusBadge(status) {
    return el("span", { className: "badge text-bg-" + (BADGES[status] || "secondary"), "data-status": status, text: status });
  }

  /* The browser's upload to the signed URL: XMLHttpRequest, for its upload progress (fetch has none). */
  function sendFile(upload, file, onProgress) {
    return new Promise(function (resolve, reject) {
      var form = new FormData();
      Object.keys(upload.fields).forEach(function (name) { form.append(name, upload.fields[name]); });
      form.append("file", file);  // S3 reads every field after `file` as part of the file: it goes last
      var xhr = new XMLHttpRequest();
      xhr.open(upload.method, upload.url);
      xhr.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable) onProgress(event.loaded / event.total);
      });
      xhr.addEventListener("load", function () {
        if (xhr.status >= 200 && xhr.status < 300) return resolve();
        var reason = /<Message>([^<]*)<\/Message>/.exec(xhr.responseText || "");
        reject(new M.ApiError(xhr.status, { title: "Upload refused",
          detail: "The uploads bucket refused the file (HTTP " + xhr.status + ")" + (reason ? ": " + reason[1] : ".") }));
      });
      xhr.addEventListener("error", function () {
        reject(new M.ApiError(0, { title: "Upload failed", detail: "The uploads bucket at " + new URL(upload.url).origin + " could not be reached." }));
      });
      xhr.send(upload.method === "POST" ? form : file);
    });
  }

  function setProgress(fraction, label, done) {
    var box = document.querySelector("[data-job-progress]");
    var bar = box.querySelector(".progress-bar");
    var percent = Math.max(0, Math.min(100, Math.round(fraction * 100)));
    bar.style.width = percent + "%";
    bar.textContent = percent + "%";
    box.setAttribute("aria-valuenow", String(percent));
    bar.classList.toggle("progress-bar-animated", !done);
    bar.classList.toggle("progress-bar-striped", !done);
    document.querySelector("[data-job-stage]").textContent = label;
  }

  function showJobCard(title, file) {
    document.querySelector("[data-job]").classList.remove("d-none");
    document.querySelector("[data-job-title]").textContent = title;
    document.querySelector("[data-job-file]").textContent = file || "";
    document.querySelector("[data-job-reading]").textContent = "";
    document.querySelector("[data-job-status]").replaceChildren();
    document.querySelector("[data-job-failure]").classList.add("d-none");
    document.querySelector("[data-job-counts]").classList.add("d-none");
    document.querySelector("[data-job-errors]").classList.add("d-none");
  }

  function stage(job) {
    if (job.status === "queued") return "Waiting for the file to land in the bucket\u2026";
    if (RUNNING.indexOf(job.status) >= 0) {
      return (job.status === "validating" ? "Reading and checking rows: " : "Writing the catalogue: ") +
             A.number(job.rows) + " rows so far" + (job.size_bytes ? " (" + A.number(job.bytes_read) + " of " + A.number(job.size_bytes) + " bytes)" : "");
    }
    var took = job.started_at && job.finished_at ? " in " + ((new Date(job.finished_at) - new Date(job.started_at)) / 1000).toFixed(1) + " s" : "";
    return (job.status === "done" ? "Done" : "Failed") + took + (job.mode === "validate" ? " (validate: nothing was written)" : "") + ".";
  }

  function renderJob(job) {
    showJobCardHeader(job);
    var running = RUNNING.indexOf(job.status) >= 0;
    // The bar's first half is the upload (sendFile), the second the job reading the file.
    var fraction = job.status === "queued" ? 0.5 : running ? 0.5 + 0.45 * (job.size_bytes ? job.bytes_read / job.size_bytes : 0.5) : 1;
    setProgress(fraction, stage(job), !running);
    var failure = document.querySelector("[data-job-failure]");
    failure.classList.toggle("d-none", !job.error);
    if (job.error) {
      var said = job.error.detail || job.error.code;
      // Only where the detail does not say what became of the catalogue (an interrupted load may have written it all).
      failure.textContent = said + " (" + job.error.code + ")." + (/nothing was changed|changed nothing|or none of them/i.test(said) ? "" : " Nothing was changed.");
    }
    var counts = document.querySelector("[data-job-counts]");
    counts.replaceChildren();
    COUNTS.forEach(function (pair) {
      counts.append(el("div", { className: "col" }, [el("div", { className: "border rounded p-2 h-100" }, [
        el("dt", { className: "fw-normal text-body-secondary", text: pair[1] }),
        el("dd", { className: "mb-0 fs-5", "data-count": pair[0], text: A.number(job[pair[0]]) }),
      ])]));
    });
    counts.classList.toggle("d-none", job.status === "queued");
    renderErrors(job);
  }

  function showJobCardHeader(job) {
    document.querySelector("[data-job]").classList.remove("d-none");
    document.querySelector("[data-job-title]").textContent = "Job " + job.id + " \u00b7 " + job.mode;
    document.querySelector("[data-job-file]").textContent = (job.file_name || job.key || "") + (job.requested_by ? " \u00b7 by " + job.requested_by : "") +
      (job.warnings.length ? " \u00b7 " + job.warnings.join(" ") : "");
    document.querySelector("[data-job-status]").replaceChildren(statusBadge(job.status));
    document.querySelector("[data-job-reading]").textContent = reading(job);
  }

  /* How the file was asked to be read (its upload's x-amz-meta-delimiter / -encoding, or the drop folder's sidecar:
     the same file with other options is another job) and, once read, with what. */
  function reading(job) {
    var asked = job.read_options ? "Reading options: " + job.read_options : "Reading options: none (delimiter and encoding detected)";
    var read = job.encoding || job.delimiter
      ? "; read as " + [job.encoding, job.delimiter && job.delimiter + "-separated"].filter(Boolean).join(", ")
      : "";
    return asked + read + ".";
  }

  function renderErrors(job) {
    var holder = document.querySelector("[data-job-errors]");
    holder.classList.toggle("d-none", !job.errors.length);
    if (!job.errors.length) return;
    var body = document.querySelector("[data-error-rows]");
    body.replaceChildren();
    job.errors.forEach(function (e) {
      body.append(el("tr", {}, [
        el("td", { text: e.line === null ? "\u2014" : String(e.line) }),
        el("td", { text: e.column || "\u2014" }),
        el("td", { className: "font-monospace small text-break", text: e.value === null ? "\u2014" : e.value }),
        el("td", { text: e.reason }),
        el("td", { className: "font-monospace small", text: e.code }),
      ]));
    });
    document.querySelector("[data-errors-summary]").textContent = A.number(job.error_count) + " reported";
    document.querySelector("[data-report]").classList.toggle("d-none", !job.report_key);
    var pager = document.querySelector("[data-errors-pager]");
    pager.replaceChildren();
    if (job.errors_page.total_pages > 1) {
      var prev = el("button", { type: "button", className: "btn btn-outline-secondary btn-sm", text: "\u2190 Previous" });
      var next = el("button", { type: "button", className: "btn btn-outline-secondary btn-sm", text: "Next \u2192" });
      prev.disabled = job.errors_page.page <= 1;
      next.disabled = job.errors_page.page >= job.errors_page.total_pages;
      prev.addEventListener("click", function () { shown.errorsPage -= 1; follow(job.id); });
      next.addEventListener("click", function () { shown.errorsPage += 1; follow(job.id); });
      pager.append(prev, el("span", { className: "align-self-center small", text: "Page " + job.errors_page.page + " of " + job.errors_page.total_pages }), next);
    }
  }

  /* Show job `id` and poll it while it runs; the list is reloaded when it ends. */
  async function follow(id, keepPage) {
    if (shown.id !== id) shown.errorsPage = 1;
    shown.id = id;
    window.clearTimeout(shown.timer);
    var url = new URL(window.location.href);
    url.searchParams.set("job", String(id));
    window.history.replaceState(null, "", url);
    try {
      var job = (await A.api("/admin/ingest/jobs/" + id, { query: { errors_page: shown.errorsPage, errors_per_page: 20 } })).data;
      if (shown.id !== id) return;
      renderJob(job);
      if (RUNNING.indexOf(job.status) >= 0) {
        shown.timer = window.setTimeout(function () { follow(id, true); }, POLL_MS);
      } else if (keepPage) {
        list.load();
      }
    } catch (error) {
      A.pageAlert(A.problemMessage(error));
    }
  }

  function row(job) {
    var open = el("a", { href: "?job=" + job.id, text: String(job.id) });
    open.addEventListener("click", function (event) {
      event.preventDefault();
      follow(job.id);
      document.querySelector("[data-job]").scrollIntoView({ behavior: "smooth" });
    });
    return el("tr", { "data-job-id": String(job.id) }, [
      el("td", {}, [open]),
      el("td", { className: "small", text: job.file_name || job.key || "\u2014" }),
      el("td", { text: job.mode }),
      el("td", { className: "small", text: job.origin }),
      el("td", {}, [statusBadge(job.status)]),
      el("td", { text: A.number(job.rows) }),
      el("td", { text: A.number(job.inserted) }),
      el("td", { text: A.number(job.updated) }),
      el("td", { text: A.number(job.unchanged) }),
      el("td", { text: A.number(job.deleted) }),
      el("td", { text: A.number(job.error_count) }),
      el("td", { className: "small", text: job.requested_by || "\u2014" }),
      el("td", { className: "small", text: A.time(job.created_at) }),
    ]);
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!A.requireSession()) return;
    var form = document.querySelector("[data-upload-form]");
    var mode = form.elements.namedItem("mode");
    var keep = form.elements.namedItem("keep_tmdb");
    mode.addEventListener("change", function () { keep.disabled = mode.value !== "replace"; });
    list = new A.ListPage({ path: "/admin/ingest/jobs", form: "[data-filters]", tbody: "[data-rows]", pager: "[data-pager]",
                            summary: "[data-summary]", noun: ["job", "jobs"], row: row });
    list.load();
    var wanted = Number(new URLSearchParams(window.location.search).get("job"));
    if (wanted) follow(wanted);

    M.bindForm(form, async function (values) {
      var file = form.elements.namedItem("file_name").files[0];
      if (!file) throw new M.ApiError(422, { detail: "Choose a file to upload.", errors: [{ name: "file_name", reason: "Choose a file to upload." }] });
      if (!file.size) {  // the bucket's policy refuses 0 bytes: the job would stay queued for a file that never lands
        var empty = "\u201c" + file.name + "\u201d is empty (0 bytes): choose a CSV with a header row and at least one movie.";
        throw new M.ApiError(422, { detail: empty, errors: [{ name: "file_name", reason: empty }] });
      }
      if (mode.value === "replace") {
        var ok = await A.confirmAction("Replace the whole catalogue?",
          "Movies not in \u201c" + file.name + "\u201d are deleted" + (keep.checked ? " (TMDB movies are kept)" : ", TMDB movies included") +
          ". If too many rows are bad, nothing changes.", "Replace");
        if (!ok) return;
      }
      var ticket = (await A.api("/admin/ingest/uploads", { method: "POST",
        body: { file_name: file.name, mode: values.mode, keep_tmdb: mode.value === "replace" ? keep.checked : true } })).data;
      window.clearTimeout(shown.timer);
      shown.id = ticket.job.id;
      showJobCard("Job " + ticket.job.id + " \u00b7 " + ticket.job.mode, file.name + " (" + A.number(file.size) + " bytes)");
      setProgress(0, "Uploading\u2026", false);
      list.load();
      try {
        await sendFile(ticket.upload, file, function (fraction) {
          setProgress(fraction * 0.5, "Uploading: " + Math.round(fraction * 100) + "% of " + A.number(file.size) + " bytes", false);
        });
      } catch (error) {
        setProgress(0, "The upload did not reach the bucket; job " + ticket.job.id + " stays queued and runs if the file arrives.", true);
        throw error;
      }
      form.reset();
      keep.disabled = true;
      follow(ticket.job.id, true);
    });

    document.querySelector("[data-report]").addEventListener("click", async function (event) {
      var button = event.currentTarget;
      button.disabled = true;
      try {
        var link = (await A.api("/admin/ingest/jobs/" + shown.id + "/report", { accept: "application/json" })).data;
        window.location.assign(link.download_url);
      } catch (error) {
        A.pageAlert(A.problemMessage(error));
      } finally {
        button.disabled = false;
      }
    });
  });
})();
