/* Movies: listed, searched, sorted and paged by GET /admin/movies; add and edit in one form (checked by the CSV
   ingest's rules, each problem shown at its field), delete after a confirmation. */
(function () {
  "use strict";
  var M = window.Marquee;
  var A = window.MarqueeAdmin;
  var el = M.el;
  var list;
  var blocked;
  var editing = null;
  var editingTag = null;  // the ETag of the version the form shows: the save is conditional on it (If-Match)
  var FIELDS = ["title", "year", "media_type", "genre", "director", "actors", "release_date", "runtime", "rating", "imdb_id", "poster_url", "plot"];

  /* The movie as stored now, and its version: an edit starts from it, not from the list's (maybe older) row, and
     saves only if nobody changed it meanwhile (else 412 precondition_failed, shown in the form). */
  async function editMovie(m) {
    try {
      var fresh = await A.api("/admin/movies/" + m.id);
      openForm(fresh.data, fresh.headers.get("ETag"));
    } catch (error) {
      A.pageAlert(A.problemMessage(error));
      if (error.status === 404) await list.load();
    }
  }

  /* Delete what the admin confirmed: if the movie changed after the list was read, nothing is deleted. */
  async function remove(m) {
    var fresh = await A.api("/admin/movies/" + m.id);
    if (fresh.data.updated_at !== m.updated_at) {
      throw new M.ApiError(412, { title: "Changed since it was read", code: "precondition_failed",
        detail: "Movie " + m.id + " was changed after this list was read; nothing was deleted. Look at it again before deleting it." });
    }
    return A.api("/admin/movies/" + m.id, { method: "DELETE", ifMatch: fresh.headers.get("ETag") });
  }

  function openForm(movie, tag) {
    editing = movie;
    editingTag = movie ? tag : null;
    var form = document.querySelector("[data-movie-form]");
    M.clearProblems(form);
    form.reset();
    document.querySelector("#movie-title").textContent = movie ? "Edit movie " + movie.id : "Add a movie";
    if (movie) {
      FIELDS.forEach(function (name) {
        var value = movie[name];
        if (Array.isArray(value)) value = value.join(", ");
        form.elements.namedItem(name).value = value === null || value === undefined ? "" : String(value);
      });
    }
    var note = document.querySelector("[data-provenance]");
    note.textContent = movie ? provenance(movie) : "";
    note.classList.toggle("d-none", !note.textContent);
    var modal = document.querySelector("#movie-modal");
    // Bootstrap's modal ignores autofocus: the title is where typing starts.
    modal.addEventListener("shown.bs.modal", function () { form.elements.namedItem("title").focus(); }, { once: true });
    window.bootstrap.Modal.getOrCreateInstance(modal).show();
  }

  // What the TMDB sync does with this movie, and what saving a change here does to that.
  function provenance(m) {
    var parts = [];
    if (m.source === "tmdb") {
      parts.push("From TMDB (id " + m.tmdb_id + ")" + (m.tmdb_fetched_at ? ", refreshed " + A.time(m.tmdb_fetched_at) : "") +
                 ". The sync mirrors TMDB's rows; saving a change makes this an admin movie: the fields you change " +
                 "stay as you set them and the sync keeps the others current.");
    } else if (m.tmdb_filled.length) {
      parts.push("Filled in by TMDB, kept current by the sync: " + m.tmdb_filled.join(", ") +
                 ". A field you change here is yours from then on.");
    }
    if (m.tmdb_gone_at) parts.push("TMDB no longer has this title (since " + A.time(m.tmdb_gone_at) + ").");
    return parts.join(" ");
  }

  function row(m) {
    var edit = el("button", { type: "button", className: "btn btn-sm btn-outline-secondary", text: "Edit", "data-action": "edit" });
    edit.addEventListener("click", function () { return editMovie(m); });
    return el("tr", { "data-movie-id": String(m.id) }, [
      el("td", { text: String(m.id) }),
      el("td", { text: m.title }),
      el("td", { text: m.year === null ? "\u2014" : String(m.year) }),
      el("td", { text: m.media_type }),
      el("td", { className: "small", text: m.genre.join(", ") }),
      el("td", { className: "small", text: m.director || "\u2014" }),
      el("td", { text: m.source }),
      el("td", { className: "small", text: A.time(m.updated_at) }),
      el("td", {}, [el("div", { className: "d-flex gap-1" }, [edit, A.actionButton("Delete", {
        className: "btn-outline-danger", attrs: { "data-action": "delete" },
        confirm: ["Delete this movie?", "Remove \u201c" + m.title + "\u201d (" + (m.year || "no year") + ") from the catalogue?" +
          (m.tmdb_id ? " The TMDB sync will not add it back; it is listed under \u201cTMDB titles deleted here\u201d " +
            "below, where Allow again lets the sync add it." : "")],
        action: function () { return remove(m); },
        done: function () { return Promise.all([list.load(), blocked.load()]); } })])]),
    ]);
  }

  /* A TMDB title an admin deleted (GET /admin/movies/blocked): the sync does not add it back until Allow again
     (DELETE /admin/movies/blocked/{type}/{id}). The page had no such list: the delete confirmation sent the admin
     to those routes by hand. */
  function blockedRow(b) {
    var named = b.title + (b.year === null ? "" : " (" + b.year + ")");
    var label = b.media_type + " " + b.tmdb_id;
    return el("tr", { "data-blocked": b.media_type + ":" + b.tmdb_id }, [
      el("td", { text: named }),
      el("td", { className: "text-nowrap", text: label }),
      el("td", { className: "small", text: b.actor }),
      el("td", { className: "small text-nowrap", text: A.time(b.blocked_at) }),
      el("td", { className: "text-nowrap" }, [A.actionButton("Allow again", {
        attrs: { "data-action": "allow", "aria-label": "Allow again: " + named },
        confirm: ["Let the sync add this title again?", "Let the TMDB sync add \u201c" + named + "\u201d (TMDB " + label +
          ") again? The next run adds it if a TMDB list shows it.", "Allow again"], danger: false,
        action: function () { return A.api("/admin/movies/blocked/" + b.media_type + "/" + b.tmdb_id, { method: "DELETE" }); },
        done: function () { return blocked.load(); } })]),
    ]);
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!A.requireSession()) return;
    list = new A.ListPage({ path: "/admin/movies", form: "[data-filters]", tbody: "[data-rows]", pager: "[data-pager]",
                            summary: "[data-summary]", noun: ["movie", "movies"], row: row });
    blocked = new A.ListPage({ path: "/admin/movies/blocked", tbody: "[data-blocked-rows]", pager: "[data-blocked-pager]",
                               summary: "[data-blocked-summary]", noun: ["deleted TMDB title", "deleted TMDB titles"],
                               row: blockedRow, pageParam: "blocked_page", sortable: "[data-blocked-sort]" });
    list.load();
    blocked.load();
    document.querySelector("[data-add-movie]").addEventListener("click", function () { openForm(null); });
    M.bindForm(document.querySelector("[data-movie-form]"), async function (values) {
      var body = {};
      FIELDS.forEach(function (name) {
        var value = values[name];
        if (editing) {
          var before = editing[name];
          if (Array.isArray(before)) before = before.join(", ");
          if (String(before === null || before === undefined ? "" : before) === value) return;
        }
        body[name] = value === "" ? null : value;
      });
      if (editing) await A.api("/admin/movies/" + editing.id, { method: "PATCH", body: body, ifMatch: editingTag });
      else await A.api("/admin/movies", { method: "POST", body: body });
      window.bootstrap.Modal.getOrCreateInstance(document.querySelector("#movie-modal")).hide();
      await list.load();
    });
  });
})();
