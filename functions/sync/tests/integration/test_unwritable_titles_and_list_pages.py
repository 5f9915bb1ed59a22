"""What the TMDB sync remembers and keeps, through SyncFunction's real handler on an admin's "Sync Requested" event,
the fake TMDB on loopback and PostgreSQL: a listed title whose details are malformed, or that failed
TMDB_MAX_ATTEMPTS runs, is not fetched and reported again every run (only once TMDB's list shows it with another
title or year, or TMDB_REFRESH_AFTER_DAYS have passed); a list whose later page fails still queues the titles of
its good pages (its ranks stay the previous ones) and the run says which page failed; a running run reports what
it has still to fetch."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from marquee_local.fake_tmdb import FakeTmdb

FUNCTIONS = Path(__file__).resolve().parents[3]
BROKEN = 880001  # a film whose details TMDB serves malformed


def details_requests(fake: FakeTmdb, media_type: str, tmdb_id: int) -> int:
    return len(fake.requests_to(rf"^/{media_type}/{tmdb_id}$"))


def errors_about(summary: dict[str, Any], tmdb_id: int) -> list[str]:
    return [e["reason"] for e in summary["errors"] if e.get("tmdb_id") == tmdb_id]


def age_memory(conn: Any, tmdb_id: int, days: int) -> None:
    conn.execute(
        "UPDATE tmdb_refused_titles SET refused_at = refused_at - make_interval(days => %s) WHERE tmdb_id = %s",
        (days, tmdb_id),
    )


@pytest.mark.slow
def test_a_listed_title_with_malformed_details_is_fetched_and_reported_once(
    conn: Any, fake_tmdb: FakeTmdb, sync: Callable[[], dict[str, Any]]
) -> None:
    fake_tmdb.add_movie(BROKEN, "Leap Day Movie", release_date="2026-02-30")  # not a date
    fake_tmdb.set_list("/movie/upcoming", [BROKEN])

    first = sync()
    assert first["titles"]["skipped"] == 1
    [reason] = errors_about(first, BROKEN)
    assert "release_date is not a date" in reason and "asked again when a TMDB list shows" in reason
    assert details_requests(fake_tmdb, "movie", BROKEN) == 1

    for _ in range(2):
        again = sync()
        assert errors_about(again, BROKEN) == [] and again["titles"]["skipped"] == 0
    assert details_requests(fake_tmdb, "movie", BROKEN) == 1

    # TMDB_REFRESH_AFTER_DAYS later it is asked again; still the same malformed title: skipped, not reported again.
    age_memory(conn, BROKEN, 31)
    later = sync()
    assert details_requests(fake_tmdb, "movie", BROKEN) == 2
    assert later["titles"]["skipped"] == 1 and errors_about(later, BROKEN) == []
    assert sync()["titles"]["skipped"] == 0 and details_requests(fake_tmdb, "movie", BROKEN) == 2

    # TMDB's list shows it changed (another title): fetched at once, and now written.
    fake_tmdb.add_movie(BROKEN, "Leap Year Movie", release_date="2026-02-28")
    assert sync()["titles"]["new"] == 1
    assert details_requests(fake_tmdb, "movie", BROKEN) == 3
    assert conn.execute("SELECT count(*) AS n FROM tmdb_refused_titles").fetchone()["n"] == 0


@pytest.mark.slow
def test_a_cast_entry_without_a_name_is_malformed_and_remembered(
    conn: Any, fake_tmdb: FakeTmdb, sync: Callable[[], dict[str, Any]]
) -> None:
    fake_tmdb.add_movie(BROKEN, "Nameless Cast", release_date="2024-05-01", cast=["Somebody"])
    with fake_tmdb.state.lock:
        fake_tmdb.state.titles[("movie", BROKEN)].credits["cast"][0]["name"] = None
    fake_tmdb.set_list("/movie/now_playing", [BROKEN])
    first = sync()
    assert first["titles"]["skipped"] == 1 and len(errors_about(first, BROKEN)) == 1
    assert sync()["titles"]["skipped"] == 0
    assert details_requests(fake_tmdb, "movie", BROKEN) == 1
    stored = conn.execute("SELECT kind, title, year FROM tmdb_refused_titles WHERE tmdb_id = %s", (BROKEN,)).fetchone()
    assert (stored["kind"], stored["title"], stored["year"]) == ("malformed", "Nameless Cast", 2024)


@pytest.mark.slow
def test_a_title_given_up_stays_given_up_until_the_list_changes_or_time_passes(
    conn: Any, fake_tmdb: FakeTmdb, sync: Callable[[], dict[str, Any]]
) -> None:
    fake_tmdb.add_movie(BROKEN, "Always Failing", release_date="2025-01-01")
    fake_tmdb.set_list("/movie/upcoming", [BROKEN])
    fake_tmdb.fault(rf"^/movie/{BROKEN}$", "status", status=400)  # an error status TMDB's client does not retry

    runs = [sync() for _ in range(3)]  # TMDB_MAX_ATTEMPTS (3) runs
    assert ["tried again next run" in r for s in runs[:2] for r in errors_about(s, BROKEN)] == [True, True]
    [given_up] = errors_about(runs[2], BROKEN)
    assert "given up after 3 runs" in given_up
    assert details_requests(fake_tmdb, "movie", BROKEN) == 3

    for _ in range(2):  # the give-up holds: not queued again from the list, not reported again
        again = sync()
        assert errors_about(again, BROKEN) == [] and again["queued"] == 0
    assert details_requests(fake_tmdb, "movie", BROKEN) == 3

    age_memory(conn, BROKEN, 31)  # TMDB_REFRESH_AFTER_DAYS later, or ...
    sync()
    assert details_requests(fake_tmdb, "movie", BROKEN) == 4
    fake_tmdb.clear_faults()
    fake_tmdb.add_movie(BROKEN, "Always Failing", release_date="2026-01-01")  # ... the list shows another year
    assert sync()["titles"]["new"] == 1


@pytest.mark.slow
def test_a_failed_list_page_keeps_what_the_good_pages_gave(
    conn: Any, fake_tmdb: FakeTmdb, sync: Callable[[], dict[str, Any]]
) -> None:
    first_page = list(range(890001, 890021))  # 20: TMDB's page size
    for i in [*first_page, 890021]:
        fake_tmdb.add_movie(i, f"Popular Film {i}", release_date="2020-01-01")
    before = sync()
    assert before["errors"] == []
    ranks = [r["tmdb_id"] for r in conn.execute(
        "SELECT tmdb_id FROM tmdb_list_ranks WHERE list = 'popular' AND media_type = 'movie' ORDER BY rank"
    ).fetchall()]  # fmt: skip

    fake_tmdb.set_list("/movie/popular", [*first_page, 890021])
    fake_tmdb.fault(r"^/movie/popular$", "status", status=400, query={"page": "2"})
    run = sync()

    [error] = [e for e in run["errors"] if e["stage"] == "list"]
    assert (error["list"], error["media_type"], error["page"]) == ("popular", "movie", 2)
    assert "/movie/popular page 2 failed" in error["reason"] and "titles of page 1 are queued" in error["reason"]
    # Page 1's titles were queued and fetched in this run; the ranks are still the previous (complete) list's.
    assert run["titles"]["new"] == 20
    held = conn.execute("SELECT count(*) AS n FROM movies WHERE tmdb_id = ANY(%s)", (first_page,)).fetchone()
    assert held["n"] == 20
    assert 890021 not in [r["tmdb_id"] for r in conn.execute("SELECT tmdb_id FROM movies WHERE tmdb_id = 890021")]
    assert [r["tmdb_id"] for r in conn.execute(
        "SELECT tmdb_id FROM tmdb_list_ranks WHERE list = 'popular' AND media_type = 'movie' ORDER BY rank"
    ).fetchall()] == ranks  # fmt: skip

    fake_tmdb.clear_faults()
    after = sync()
    assert after["errors"] == [] and after["titles"]["new"] == 1  # page 2's title, once TMDB serves it


@pytest.mark.slow
def test_a_running_run_reports_what_it_has_still_to_fetch(
    conn: Any, fake_tmdb: FakeTmdb, sync: Callable[[], dict[str, Any]]
) -> None:
    """The run's row, read while it fetches, says how many titles are queued (it was 0 until the run ended)."""
    fake_tmdb.fault(r"^/(movie|tv)/\d+$", "slow", delay=0.3)
    seen: list[int] = []
    done = threading.Event()
    result: list[dict[str, Any]] = []

    def run() -> None:
        try:
            result.append(sync())
        finally:
            done.set()

    worker = threading.Thread(target=run)
    worker.start()
    # The handler runs on `conn` (the test's transaction): read the row between its statements, as the admin does.
    while not done.wait(0.05):
        row = conn.execute("SELECT queued FROM sync_runs WHERE status = 'running'").fetchone()
        if row is not None:
            seen.append(int(row["queued"]))
    worker.join()
    assert result[0]["status"] == "succeeded" and result[0]["queued"] == 0
    assert max(seen, default=0) >= 8  # the fill_catalogue's eight listed titles, queued after the lists were read


@pytest.mark.slow
def test_a_listed_title_whose_body_was_cut_short_once_is_written_not_remembered_as_malformed(
    conn: Any, fake_tmdb: FakeTmdb, sync: Callable[[], dict[str, Any]]
) -> None:
    fake_tmdb.add_movie(BROKEN, "Half A Body", release_date="2024-05-05")
    fake_tmdb.set_list("/movie/upcoming", [BROKEN])
    fake_tmdb.fault(rf"^/movie/{BROKEN}$", "cut_unsized", times=1)  # the connection closed mid-body, once

    summary = sync()

    assert summary["status"] == "succeeded" and errors_about(summary, BROKEN) == []
    assert details_requests(fake_tmdb, "movie", BROKEN) == 2
    assert conn.execute("SELECT title FROM movies WHERE tmdb_id = %s", (BROKEN,)).fetchone()["title"] == "Half A Body"
    assert conn.execute("SELECT count(*) AS n FROM tmdb_refused_titles").fetchone()["n"] == 0


@pytest.mark.slow
def test_a_listed_title_whose_details_are_not_found_is_reported_once_and_not_fetched_every_run(
    conn: Any, fake_tmdb: FakeTmdb, sync: Callable[[], dict[str, Any]]
) -> None:
    """TMDB's list shows a title its details answer 404 for (deleted after the list was built). The catalogue does
    not hold it, so there is nothing to flag gone: it was skipped in silence (a skipped count and no error) and
    fetched again by every run while the list showed it. It is remembered as not_found, as a malformed one is."""
    fake_tmdb.add_movie(BROKEN, "Deleted Soon", release_date="2024-05-05")
    fake_tmdb.set_list("/movie/upcoming", [BROKEN])
    fake_tmdb.remove("movie", BROKEN)  # the list page still shows it (as its own copy would)

    first = sync()
    assert first["status"] == "succeeded" and first["titles"]["skipped"] == 1
    [reason] = errors_about(first, BROKEN)
    assert "404" in reason and "asked again when a TMDB list shows" in reason
    refused = conn.execute("SELECT kind, title, year FROM tmdb_refused_titles WHERE tmdb_id = %s", (BROKEN,))
    assert dict(refused.fetchone()) == {"kind": "not_found", "title": None, "year": None}

    for _ in range(2):
        again = sync()
        assert errors_about(again, BROKEN) == [] and again["titles"]["skipped"] == 0
    assert details_requests(fake_tmdb, "movie", BROKEN) == 1

    # TMDB_REFRESH_AFTER_DAYS later it is asked again; still not found: skipped, not reported again.
    age_memory(conn, BROKEN, 31)
    later = sync()
    assert details_requests(fake_tmdb, "movie", BROKEN) == 2
    assert later["titles"]["skipped"] == 1 and errors_about(later, BROKEN) == []

    # TMDB has it again: written once the memory is old enough.
    fake_tmdb.add_movie(BROKEN, "Deleted Soon", release_date="2024-05-05")
    age_memory(conn, BROKEN, 31)
    assert sync()["titles"]["new"] == 1
    assert conn.execute("SELECT count(*) AS n FROM tmdb_refused_titles").fetchone()["n"] == 0


@pytest.mark.slow
def test_a_nameless_cast_entry_below_the_top_billed_does_not_make_a_huge_cast_malformed(
    conn: Any, fake_tmdb: FakeTmdb, sync: Callable[[], dict[str, Any]]
) -> None:
    """An ensemble's credits list hundreds of people; the sync keeps the top-billed TMDB_MAX_CAST (10). A nameless
    entry the sync never reads (the 400th) made the whole title malformed and kept it out for 90 days."""
    fake_tmdb.add_movie(
        BROKEN, "Cast Of Thousands", release_date="2024-05-01", cast=[f"Player {i}" for i in range(600)]
    )
    with fake_tmdb.state.lock:
        fake_tmdb.state.titles[("movie", BROKEN)].credits["cast"][400]["name"] = None
    fake_tmdb.set_list("/movie/now_playing", [BROKEN])

    summary = sync()

    assert summary["status"] == "succeeded" and errors_about(summary, BROKEN) == []
    actors = conn.execute("SELECT actors FROM movies WHERE tmdb_id = %s", (BROKEN,)).fetchone()["actors"]
    assert actors == [f"Player {i}" for i in range(10)]
