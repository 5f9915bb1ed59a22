"""The sync service against a fake TMDB server on loopback and the real (embedded) PostgreSQL."""

from __future__ import annotations

import dataclasses
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from marquee_local.fake_tmdb import FakeTmdb
from movie_common.db import tmdb
from movie_common.errors import SyncAlreadyRunningError, TmdbNotConfiguredError
from movie_sync.services import purge_tmdb_data, run_sync
from movie_sync.settings import SyncSettings

FIGHT_CLUB, MATRIX, GODFATHER, FORREST_GUMP, INTERSTELLAR = 550, 603, 238, 13, 157336
BREAKING_BAD, GAME_OF_THRONES, ADULT_FILM, PROJECT_HAIL_MARY = 1396, 1399, 999001, 687163
# All but Project Hail Mary are in the bundled catalogue too (without TMDB ids).
MOVIE_IDS = {FIGHT_CLUB, MATRIX, GODFATHER, FORREST_GUMP, INTERSTELLAR, PROJECT_HAIL_MARY}
TV_IDS = {BREAKING_BAD, GAME_OF_THRONES}
DAY = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)


def clock(moment: datetime) -> Any:
    return lambda: moment


def row(conn: Any, media_type: str, tmdb_id: int) -> dict[str, Any]:
    found = conn.execute(
        "SELECT * FROM movies WHERE media_type = %s AND tmdb_id = %s", (media_type, tmdb_id)
    ).fetchone()
    assert found is not None, f"{media_type} {tmdb_id} is not in the catalogue"
    return dict(found)


def tmdb_rows(conn: Any) -> int:
    return int(conn.execute("SELECT count(*) AS n FROM movies WHERE tmdb_id IS NOT NULL").fetchone()["n"])


def details_requests(fake: FakeTmdb, media_type: str, tmdb_id: int) -> int:
    return len(fake.requests_to(rf"^/{media_type}/{tmdb_id}$"))


@pytest.mark.slow
def test_first_run_maps_lists_and_details_into_the_catalogue(
    conn: Any, fake_tmdb: FakeTmdb, sync_settings: SyncSettings
) -> None:
    before = int(conn.execute("SELECT count(*) AS n FROM movies").fetchone()["n"])

    run = run_sync(conn, settings=sync_settings, triggered_by="cli", now=clock(DAY))

    assert run.status == "succeeded", run.message
    counts = run.counts
    # Five of the films are in the bundled catalogue: they are matched, not duplicated.
    assert (counts.titles_new, counts.titles_updated, counts.titles_unchanged) == (3, 5, 0)
    assert counts.titles_skipped == 0 and counts.titles_gone == 0 and counts.error_count == 0
    assert counts.pages == 6  # one page of each list
    assert counts.queued == 0
    assert int(conn.execute("SELECT count(*) AS n FROM movies").fetchone()["n"]) == before + 3
    assert tmdb_rows(conn) == 8

    film = row(conn, "movie", PROJECT_HAIL_MARY)
    assert film["title"] == "Project Hail Mary"
    assert film["year"] == 2026
    assert film["release_date"] == date(2026, 3, 20)
    assert film["genre"] == ["Science Fiction", "Adventure"]
    assert film["director"] == "Phil Lord, Christopher Miller"
    assert film["actors"] == ["Ryan Gosling", "Sandra Hüller", "Lionel Boyce"]
    assert film["plot"].startswith("Science teacher Ryland Grace")
    assert film["poster_url"] == "https://image.tmdb.org/t/p/w500/yihdXomYb5kTeSivtFndMy5iDmf.jpg"
    assert film["imdb_id"] == "tt12042730"
    assert film["runtime"] == 156
    assert film["rating"] == Decimal("8.2")
    assert film["popularity"] == pytest.approx(250.25)
    assert film["original_language"] == "en"
    assert film["media_type"] == "movie"
    assert film["source"] == "tmdb"
    assert film["tmdb_fetched_at"] == DAY
    assert film["tmdb_gone_at"] is None

    # Each title was fetched once, with credits and external ids in the same request.
    for tmdb_id in MOVIE_IDS:
        assert details_requests(fake_tmdb, "movie", tmdb_id) == 1
    detail = fake_tmdb.requests_to(rf"^/movie/{MATRIX}$")[0]
    assert detail.query["append_to_response"] == "credits,external_ids"
    assert detail.authorization == f"Bearer {fake_tmdb.token}"

    assert tmdb.list_ranks(conn, list_name="popular", media_type="movie") == [
        GODFATHER,
        FIGHT_CLUB,
        MATRIX,
        FORREST_GUMP,
    ]
    assert tmdb.list_ranks(conn, list_name="popular", media_type="tv") == [GAME_OF_THRONES, BREAKING_BAD]
    assert tmdb.list_ranks(conn, list_name="upcoming", media_type="movie") == [PROJECT_HAIL_MARY]
    stored = conn.execute("SELECT * FROM sync_runs WHERE id = %s", (run.id,)).fetchone()
    assert stored["status"] == "succeeded" and stored["finished_at"] is not None
    assert (stored["titles_new"], stored["titles_updated"], stored["pages"]) == (3, 5, 6)
    assert stored["requests"] == len(fake_tmdb.requests)


@pytest.mark.slow
def test_bundled_catalogue_film_gains_its_tmdb_id_and_keeps_its_own_values(
    conn: Any, fake_tmdb: FakeTmdb, sync_settings: SyncSettings
) -> None:
    bundled = dict(conn.execute("SELECT * FROM movies WHERE title = 'Fight Club' AND year = 1999").fetchone())
    assert bundled["tmdb_id"] is None and bundled["runtime"] is None

    run_sync(conn, settings=sync_settings, triggered_by="cli", now=clock(DAY))

    adopted = row(conn, "movie", FIGHT_CLUB)
    assert adopted["id"] == bundled["id"]
    assert conn.execute("SELECT count(*) AS n FROM movies WHERE title_norm = 'fight club'").fetchone()["n"] == 1
    assert adopted["source"] == "csv"
    # The catalogue's own values stay; TMDB fills what the row lacked.
    for column in ("genre", "director", "actors", "plot"):
        assert adopted[column] == bundled[column]
    assert adopted["runtime"] == 139
    assert adopted["imdb_id"] == "tt0137523"
    assert adopted["rating"] == Decimal("8.4")
    assert adopted["release_date"] == date(1999, 10, 15)
    assert "runtime" in adopted["tmdb_filled"] and "genre" not in adopted["tmdb_filled"]
    # The Matrix's catalogue row had no director: TMDB's fills it.
    matrix = row(conn, "movie", MATRIX)
    assert matrix["director"] == "Lana Wachowski, Lilly Wachowski"
    assert matrix["genre"] == ["Science Fiction", "Action"]  # the catalogue's


@pytest.mark.slow
def test_tv_series_is_mapped_from_tv_fields(conn: Any, fake_tmdb: FakeTmdb, sync_settings: SyncSettings) -> None:
    run_sync(conn, settings=sync_settings, triggered_by="cli", now=clock(DAY))

    show = row(conn, "tv", BREAKING_BAD)
    assert show["title"] == "Breaking Bad"
    assert show["year"] == 2008 and show["release_date"] == date(2008, 1, 20)
    assert show["director"] == "Vince Gilligan"  # the creators
    assert show["actors"] == ["Bryan Cranston", "Aaron Paul", "Anna Gunn"]
    assert show["genre"] == ["Drama", "Crime"]
    assert show["runtime"] == 45  # the first episode run time
    assert show["imdb_id"] == "tt0903747"  # from external_ids: TV details have no top-level imdb_id
    assert show["poster_url"] == f"https://image.tmdb.org/t/p/w500/tvposter{BREAKING_BAD}.jpg"
    got = row(conn, "tv", GAME_OF_THRONES)
    assert got["director"] == "David Benioff, D. B. Weiss"
    assert got["genre"] == ["Sci-Fi & Fantasy", "Drama", "Action & Adventure"]
    assert got["runtime"] is None  # TMDB gave no episode run time
    assert details_requests(fake_tmdb, "tv", BREAKING_BAD) == 1


@pytest.mark.slow
def test_adult_titles_are_skipped_unless_configured(
    conn: Any, fake_tmdb: FakeTmdb, sync_settings: SyncSettings
) -> None:
    run_sync(conn, settings=sync_settings, triggered_by="cli", now=clock(DAY))
    assert details_requests(fake_tmdb, "movie", ADULT_FILM) == 0
    assert tmdb.list_ranks(conn, list_name="trending", media_type="movie") == [INTERSTELLAR, MATRIX]

    run = run_sync(
        conn, settings=dataclasses.replace(sync_settings, include_adult=True), triggered_by="cli", now=clock(DAY)
    )
    assert run.counts.titles_new == 1
    assert row(conn, "movie", ADULT_FILM)["title"] == "Something For Grown-Ups"


@pytest.mark.slow
def test_a_held_title_tmdb_later_marks_adult_is_flagged_reported_once_and_left_out_of_lists(
    conn: Any, fake_tmdb: FakeTmdb, sync_settings: SyncSettings
) -> None:
    """The nineteenth tester: a title the catalogue held that TMDB later marked adult was skipped in silence (no
    error, no flag): the row went on being served with its old data, ranked, and fetched again by every run."""
    run_sync(conn, settings=sync_settings, triggered_by="cli", now=clock(DAY))
    fake_tmdb.state.titles[("movie", PROJECT_HAIL_MARY)].doc["adult"] = True
    fake_tmdb.add_changes("movie", DAY.date(), [PROJECT_HAIL_MARY])

    later = DAY + timedelta(days=1)
    run = run_sync(conn, settings=sync_settings, triggered_by="cli", now=clock(later))

    assert run.status == "succeeded", run
    assert run.counts.titles_skipped == 1
    assert [(e["tmdb_id"], e["reason"].split(":")[0]) for e in run.counts.errors] == [
        (PROJECT_HAIL_MARY, "TMDB now marks this title adult and TMDB_INCLUDE_ADULT is off")
    ]
    held = row(conn, "movie", PROJECT_HAIL_MARY)
    assert held["tmdb_gone_at"] == later and held["title"] == "Project Hail Mary"  # kept, flagged

    asked = details_requests(fake_tmdb, "movie", PROJECT_HAIL_MARY)
    again = run_sync(conn, settings=sync_settings, triggered_by="cli", now=clock(later + timedelta(days=1)))
    assert again.counts.error_count == 0 and details_requests(fake_tmdb, "movie", PROJECT_HAIL_MARY) == asked


@pytest.mark.slow
def test_rerun_on_the_same_day_changes_nothing(conn: Any, fake_tmdb: FakeTmdb, sync_settings: SyncSettings) -> None:
    run_sync(conn, settings=sync_settings, triggered_by="cli", now=clock(DAY))
    snapshot = conn.execute("SELECT id, updated_at, tmdb_fetched_at FROM movies ORDER BY id").fetchall()
    sent = len(fake_tmdb.requests)

    again = run_sync(conn, settings=sync_settings, triggered_by="schedule", now=clock(DAY + timedelta(hours=3)))

    assert again.status == "succeeded"
    c = again.counts
    assert (c.titles_new, c.titles_updated, c.titles_unchanged, c.titles_skipped, c.titles_gone) == (0, 0, 0, 0, 0)
    assert conn.execute("SELECT id, updated_at, tmdb_fetched_at FROM movies ORDER BY id").fetchall() == snapshot
    second = fake_tmdb.requests[sent:]
    # The configuration and genre lists are cached; only the lists are read again.
    assert sorted({r.path for r in second}) == sorted(
        ["/trending/movie/day", "/trending/tv/day", "/movie/popular", "/tv/popular", "/movie/upcoming",
         "/movie/now_playing"]
    )  # fmt: skip


@pytest.mark.slow
def test_incremental_run_fetches_the_held_titles_that_changed(
    conn: Any, fake_tmdb: FakeTmdb, sync_settings: SyncSettings
) -> None:
    run_sync(conn, settings=sync_settings, triggered_by="schedule", now=clock(DAY))
    assert tmdb.changes_through(conn, media_type="movie") == DAY.date() - timedelta(days=1)
    fake_tmdb.state.titles[("movie", PROJECT_HAIL_MARY)].doc["overview"] = "Ryland Grace meets Rocky."
    fake_tmdb.state.titles[("movie", MATRIX)].doc["vote_average"] = 8.7
    fake_tmdb.add_changes("movie", DAY.date(), [PROJECT_HAIL_MARY, MATRIX, 424242])  # 424242 is not held
    fake_tmdb.add_changes("tv", DAY.date(), [BREAKING_BAD])

    run = run_sync(conn, settings=sync_settings, triggered_by="schedule", now=clock(DAY + timedelta(days=1)))

    assert run.status == "succeeded"
    assert (run.counts.titles_new, run.counts.titles_updated, run.counts.titles_unchanged) == (0, 2, 1)
    film = row(conn, "movie", PROJECT_HAIL_MARY)
    assert film["plot"] == "Ryland Grace meets Rocky."
    assert film["tmdb_fetched_at"] == DAY + timedelta(days=1)
    assert row(conn, "movie", MATRIX)["rating"] == Decimal("8.7")  # TMDB filled it, so TMDB keeps it current
    assert details_requests(fake_tmdb, "movie", MATRIX) == 2
    assert details_requests(fake_tmdb, "movie", 424242) == 0
    assert details_requests(fake_tmdb, "movie", GODFATHER) == 1  # unchanged titles are not fetched again
    changes = fake_tmdb.requests_to(r"^/movie/changes$")
    assert [(r.query["start_date"], r.query["page"]) for r in changes] == [(DAY.date().isoformat(), "1")]
    assert tmdb.changes_through(conn, media_type="movie") == DAY.date()
    assert tmdb.changes_through(conn, media_type="tv") == DAY.date()


@pytest.mark.slow
def test_change_feed_pages_are_all_read_before_the_watermark_moves(
    conn: Any, fake_tmdb: FakeTmdb, sync_settings: SyncSettings
) -> None:
    run_sync(conn, settings=sync_settings, triggered_by="schedule", now=clock(DAY))
    # 250 changed ids on the day (three pages of 100); the held one is on the last page.
    fake_tmdb.add_changes("movie", DAY.date(), [*range(700_000, 700_249), GODFATHER])
    fake_tmdb.state.titles[("movie", GODFATHER)].doc["popularity"] = 99.5
    fake_tmdb.fault(r"^/movie/changes$", "status", status=503, times=99)  # TMDB's change feed is down
    settings = dataclasses.replace(sync_settings, max_retries=1)

    failed_feed = run_sync(conn, settings=settings, triggered_by="schedule", now=clock(DAY + timedelta(days=1)))

    assert failed_feed.status == "succeeded"  # the lists and other titles still went through
    assert failed_feed.counts.error_count == 1
    assert failed_feed.counts.errors[0]["stage"] == "changes"
    assert tmdb.changes_through(conn, media_type="movie") == DAY.date() - timedelta(days=1)  # not moved
    fake_tmdb.clear_faults()

    run = run_sync(conn, settings=sync_settings, triggered_by="schedule", now=clock(DAY + timedelta(days=1, hours=1)))

    pages = [r.query["page"] for r in fake_tmdb.requests_to(r"^/movie/changes$") if r.status == 200]
    assert pages == ["1", "2", "3"]
    assert run.counts.titles_updated == 1
    assert row(conn, "movie", GODFATHER)["popularity"] == pytest.approx(99.5)
    assert tmdb.changes_through(conn, media_type="movie") == DAY.date()


@pytest.mark.slow
def test_gap_longer_than_tmdb_keeps_changes_refetches_older_titles(
    conn: Any, fake_tmdb: FakeTmdb, sync_settings: SyncSettings
) -> None:
    run_sync(conn, settings=sync_settings, triggered_by="schedule", now=clock(DAY))
    later = DAY + timedelta(days=20)

    run = run_sync(conn, settings=sync_settings, triggered_by="schedule", now=clock(later))

    assert run.status == "succeeded"
    # Every title fetched before the 14 days TMDB still reports is fetched again: 6 movies and 2 shows.
    assert run.counts.titles_unchanged == 8
    # The days TMDB still keeps are read one by one (only days that can matter: rows were fetched before them).
    days = [r.query["start_date"] for r in fake_tmdb.requests_to(r"^/movie/changes$")]
    assert days == [(later.date() - timedelta(days=n)).isoformat() for n in range(14, 0, -1)]
    assert tmdb.changes_through(conn, media_type="movie") == later.date() - timedelta(days=1)


@pytest.mark.slow
def test_title_gone_from_tmdb_is_flagged_kept_and_reported(
    conn: Any, fake_tmdb: FakeTmdb, sync_settings: SyncSettings
) -> None:
    run_sync(conn, settings=sync_settings, triggered_by="schedule", now=clock(DAY))
    fake_tmdb.remove("movie", FORREST_GUMP)
    fake_tmdb.set_list("/movie/popular", [GODFATHER, FIGHT_CLUB, MATRIX])
    fake_tmdb.set_list("/movie/now_playing", [])
    fake_tmdb.add_changes("movie", DAY.date(), [FORREST_GUMP])

    run = run_sync(conn, settings=sync_settings, triggered_by="schedule", now=clock(DAY + timedelta(days=1)))

    assert run.status == "succeeded"
    assert run.counts.titles_gone == 1
    gone = row(conn, "movie", FORREST_GUMP)
    assert gone["title"] == "Forrest Gump"  # kept
    assert gone["tmdb_gone_at"] == DAY + timedelta(days=1)
    assert tmdb.queue_length(conn) == 0


@pytest.mark.slow
def test_a_gone_title_a_list_still_shows_is_counted_once_and_not_asked_again_until_stale(
    conn: Any, fake_tmdb: FakeTmdb, sync_settings: SyncSettings
) -> None:
    run_sync(conn, settings=sync_settings, triggered_by="schedule", now=clock(DAY))
    fake_tmdb.remove("movie", FORREST_GUMP)  # its details answer 404, but a list still shows it
    fake_tmdb.set_list("/movie/popular", [GODFATHER, FIGHT_CLUB, MATRIX, FORREST_GUMP])
    fake_tmdb.add_changes("movie", DAY.date(), [FORREST_GUMP])
    first = run_sync(conn, settings=sync_settings, triggered_by="schedule", now=clock(DAY + timedelta(days=1)))
    assert first.counts.titles_gone == 1
    asked = len(fake_tmdb.requests_to(rf"^/movie/{FORREST_GUMP}$"))

    again = run_sync(conn, settings=sync_settings, triggered_by="schedule", now=clock(DAY + timedelta(days=2)))
    assert again.counts.titles_gone == 0  # found gone yesterday: not new
    assert len(fake_tmdb.requests_to(rf"^/movie/{FORREST_GUMP}$")) == asked  # and not asked again
    assert row(conn, "movie", FORREST_GUMP)["tmdb_gone_at"] == DAY + timedelta(days=1)  # the first finding

    later = DAY + timedelta(days=2 + sync_settings.refresh_after_days)
    stale = run_sync(conn, settings=sync_settings, triggered_by="schedule", now=clock(later))
    assert len(fake_tmdb.requests_to(rf"^/movie/{FORREST_GUMP}$")) == asked + 1  # re-checked once it is stale
    assert stale.counts.titles_gone == 0 and row(conn, "movie", FORREST_GUMP)["tmdb_gone_at"] == DAY + timedelta(days=1)


@pytest.mark.slow
def test_failing_title_does_not_abort_the_run_and_is_retried_then_given_up(
    conn: Any, fake_tmdb: FakeTmdb, sync_settings: SyncSettings
) -> None:
    fake_tmdb.fault(rf"^/movie/{FORREST_GUMP}$", "status", status=500)  # always
    fake_tmdb.fault(rf"^/movie/{INTERSTELLAR}$", "malformed")  # a 200 that is not JSON
    settings = dataclasses.replace(sync_settings, max_retries=2)

    run = run_sync(conn, settings=settings, triggered_by="schedule", now=clock(DAY))

    assert run.status == "succeeded"
    assert run.counts.titles_new == 3  # Project Hail Mary and the two shows
    assert run.counts.titles_updated == 3  # catalogue films matched
    assert run.counts.titles_skipped == 1  # the malformed one is dropped at once
    assert run.counts.queued == 1  # Forrest Gump waits for the next run
    reasons = {e["tmdb_id"]: e["reason"] for e in run.counts.errors}
    assert "not JSON" in reasons[INTERSTELLAR]
    assert "HTTP 500" in reasons[FORREST_GUMP] and "tried again next run" in reasons[FORREST_GUMP]
    # 500s were retried with backoff: the first try and max_retries more.
    assert details_requests(fake_tmdb, "movie", FORREST_GUMP) == 3

    for hours in (1, 2):
        last = run_sync(conn, settings=settings, triggered_by="schedule", now=clock(DAY + timedelta(hours=hours)))
    assert last.counts.queued == 0
    reasons = {e["tmdb_id"]: e["reason"] for e in last.counts.errors}
    assert "given up after 3 runs" in reasons[FORREST_GUMP]
    # Still on a list, but remembered as malformed: not fetched (nor reported) again until the list shows it with
    # another title or year, or TMDB_REFRESH_AFTER_DAYS pass.
    assert INTERSTELLAR not in reasons and details_requests(fake_tmdb, "movie", INTERSTELLAR) == 1
    assert last.counts.titles_skipped == 1
    assert conn.execute("SELECT 1 FROM movies WHERE tmdb_id = %s", (FORREST_GUMP,)).fetchone() is None


@pytest.mark.slow
def test_transient_errors_and_slow_answers_are_retried(
    conn: Any, fake_tmdb: FakeTmdb, sync_settings: SyncSettings
) -> None:
    fake_tmdb.fault(rf"^/movie/{MATRIX}$", "status", status=502, times=2)
    fake_tmdb.fault(rf"^/movie/{GODFATHER}$", "slow", delay=1.5, times=1)  # longer than the read timeout
    settings = dataclasses.replace(sync_settings, read_timeout=0.5)

    run = run_sync(conn, settings=settings, triggered_by="schedule", now=clock(DAY))

    assert run.status == "succeeded" and run.counts.error_count == 0
    assert details_requests(fake_tmdb, "movie", MATRIX) == 3
    assert details_requests(fake_tmdb, "movie", GODFATHER) == 2
    assert row(conn, "movie", GODFATHER)["runtime"] == 175


@pytest.mark.slow
def test_time_budget_stops_cleanly_and_the_next_run_resumes(
    conn: Any, fake_tmdb: FakeTmdb, sync_settings: SyncSettings
) -> None:
    for n in range(40):
        fake_tmdb.add_movie(800_000 + n, f"Generated Picture {n}", release_date="2020-05-01", cast=["Someone"])
    fake_tmdb.set_list("/movie/popular", [800_000 + n for n in range(40)])
    fake_tmdb.fault(r"^/movie/8000\d\d$", "slow", delay=0.25)
    settings = dataclasses.replace(sync_settings, concurrency=2)

    cut = run_sync(conn, settings=settings, triggered_by="schedule", deadline=time.monotonic() + 1.5, now=clock(DAY))

    assert cut.status == "partial"
    assert "time budget" in (cut.message or "")
    assert cut.finished_at is not None
    c = cut.counts
    written = c.titles_new + c.titles_updated + c.titles_unchanged + c.titles_skipped
    total = 46  # the 40 on the popular list and the 6 other listed titles
    assert 0 < written < total
    assert c.queued == total - written
    assert tmdb.list_ranks(conn, list_name="popular", media_type="movie")[:2] == [800_000, 800_001]

    fake_tmdb.clear_faults()
    resumed = run_sync(conn, settings=settings, triggered_by="schedule", now=clock(DAY + timedelta(hours=1)))

    assert resumed.status == "succeeded"
    assert resumed.counts.queued == 0
    assert (
        conn.execute("SELECT count(*) AS n FROM movies WHERE tmdb_id BETWEEN 800000 AND 800039").fetchone()["n"] == 40
    )
    # Nothing was fetched twice: the second run took up where the first stopped.
    for n in range(40):
        assert details_requests(fake_tmdb, "movie", 800_000 + n) == 1


@pytest.mark.slow
def test_a_title_the_catalogue_cannot_hold_is_skipped_and_does_not_block_later_runs(
    conn: Any, fake_tmdb: FakeTmdb, sync_settings: SyncSettings
) -> None:
    # One word of 5,000 letters: more than a title may have, and too long for the title's search words (PostgreSQL
    # refuses the row). It used to end every run as "failed" with "the database is unavailable", and stayed queued.
    fake_tmdb.add_movie(999_998, "X" * 5000, release_date="2020-01-01")
    fake_tmdb.set_list("/movie/upcoming", [999_998, PROJECT_HAIL_MARY])

    run = run_sync(conn, settings=sync_settings, triggered_by="schedule", now=clock(DAY))

    assert run.status == "succeeded"
    assert run.counts.titles_skipped == 1
    reasons = {e["tmdb_id"]: e["reason"] for e in run.counts.errors}
    assert "at most 500 characters" in reasons[999_998]
    row(conn, "movie", PROJECT_HAIL_MARY)
    assert tmdb.queue_length(conn) == 0
    again = run_sync(conn, settings=sync_settings, triggered_by="schedule", now=clock(DAY + timedelta(hours=1)))
    assert again.status == "succeeded"


@pytest.mark.slow
def test_a_nul_byte_in_tmdbs_text_neither_aborts_the_run_nor_is_stored(
    conn: Any, fake_tmdb: FakeTmdb, sync_settings: SyncSettings
) -> None:
    # JSON may carry "\u0000", which PostgreSQL cannot store in text: one such overview ended the whole run as
    # failed ("PostgreSQL text fields cannot contain NUL (0x00) bytes"), and the title stayed queued, so every later
    # run failed the same way (found by the fifteenth tester).
    fake_tmdb.add_movie(
        999_997, "Nul Plot", release_date="2020-01-01", overview="bad\u0000byte", cast=["\u202eEvil", "Zero\u200bWidth"]
    )
    fake_tmdb.set_list("/movie/upcoming", [999_997, PROJECT_HAIL_MARY])

    run = run_sync(conn, settings=sync_settings, triggered_by="schedule", now=clock(DAY))

    assert run.status == "succeeded", run.message
    assert run.counts.error_count == 0
    film = row(conn, "movie", 999_997)
    assert (film["plot"], film["actors"]) == ("badbyte", ["Evil", "ZeroWidth"])
    row(conn, "movie", PROJECT_HAIL_MARY)
    assert tmdb.queue_length(conn) == 0


def test_a_title_postgresql_refuses_is_a_title_refused_error_not_a_crash(conn: Any) -> None:
    # Whatever value slips past the mapping, the database's refusal of one title is that title's (the run skips and
    # reports it), not a psycopg error that ends the run.
    title = tmdb.TmdbTitle(
        media_type="movie", tmdb_id=999_996, title="Refused", year=2020, release_date=None, genre=[],
        director=None, actors=[], plot="nul\u0000", poster_url=None, imdb_id=None, runtime=None, rating=None,
        popularity=1.0, original_language=None,
    )  # fmt: skip
    with pytest.raises(tmdb.TitleRefusedError, match="NUL"), conn.transaction():
        tmdb.upsert_title(conn, title, fetched_at=DAY)
    assert conn.execute("SELECT count(*) AS n FROM movies WHERE tmdb_id = 999996").fetchone()["n"] == 0


@pytest.mark.slow
def test_an_error_quoting_what_tmdb_sent_is_stored_shortened(
    conn: Any, fake_tmdb: FakeTmdb, sync_settings: SyncSettings
) -> None:
    # A reason quotes TMDB's own text (a value that is not a date, its status_message); 100 such reasons of a
    # megabyte each were one sync_runs row, and every page of the admin's run list carried them.
    fake_tmdb.add_movie(999_995, "Long Date", release_date="9" * 1_000_000)
    fake_tmdb.set_list("/movie/upcoming", [999_995, PROJECT_HAIL_MARY])

    run = run_sync(conn, settings=sync_settings, triggered_by="schedule", now=clock(DAY))

    assert run.status == "succeeded"
    (error,) = [e for e in run.counts.errors if e.get("tmdb_id") == 999_995]
    assert error["reason"].startswith("malformed details: release_date is not a date: '999")
    assert len(error["reason"]) == 500 and error["reason"].endswith("\u2026")


@pytest.mark.slow
def test_conflicting_title_is_skipped_and_reported(conn: Any, fake_tmdb: FakeTmdb, sync_settings: SyncSettings) -> None:
    # A second TMDB film with the title and year of one the catalogue already has from TMDB: the queue order
    # (TMDB id) decides which one the catalogue keeps.
    fake_tmdb.add_movie(999_999, "Project Hail Mary", release_date="2026-11-01", cast=["Nobody"])
    fake_tmdb.set_list("/movie/upcoming", [999_999, PROJECT_HAIL_MARY])

    run = run_sync(conn, settings=sync_settings, triggered_by="schedule", now=clock(DAY))

    assert run.status == "succeeded"
    assert run.counts.titles_skipped == 1
    assert run.counts.errors == [
        {
            "stage": "details",
            "reason": "another film already has the title 'Project Hail Mary' and year 2026",
            "media_type": "movie",
            "tmdb_id": 999_999,
        }
    ]
    assert row(conn, "movie", PROJECT_HAIL_MARY)["release_date"] == date(2026, 3, 20)
    assert tmdb.queue_length(conn) == 0


@pytest.mark.slow
def test_a_show_and_a_film_of_one_title_and_year_are_refused_in_words_for_what_each_is(
    conn: Any, fake_tmdb: FakeTmdb, sync_settings: SyncSettings
) -> None:
    # The catalogue's key is title + year, whatever the type: a TV show named and dated as a film is refused, and
    # so is a film named and dated as a show. The reason said "another movie" of the show, and of the film a show
    # held: it names what the other row and this title are.
    conn.execute("INSERT INTO movies (title, year, source) VALUES ('Breaker Series', 2015, 'csv')")
    conn.execute("INSERT INTO movies (title, year, media_type, source) VALUES ('Breaker Film', 2016, 'tv', 'csv')")
    fake_tmdb.add_tv(999_981, "Breaker Series", first_air_date="2015-04-01", overview="A show.")
    fake_tmdb.add_movie(999_982, "Breaker Film", release_date="2016-04-01", overview="A film.")
    fake_tmdb.set_list("/tv/popular", [999_981])
    fake_tmdb.set_list("/movie/popular", [999_982])

    run = run_sync(conn, settings=sync_settings, triggered_by="schedule", now=clock(DAY))

    assert run.status == "succeeded", run
    refused = {e["tmdb_id"]: e["reason"] for e in run.counts.errors}
    assert refused == {
        999_981: "a film already has the title 'Breaker Series' and year 2015, so this TV show cannot be added "
        "(the catalogue's key is title + year)",
        999_982: "a TV show already has the title 'Breaker Film' and year 2016, so this film cannot be added "
        "(the catalogue's key is title + year)",
    }
    remembered = conn.execute("SELECT tmdb_id, reason FROM tmdb_refused_titles WHERE tmdb_id > 999980").fetchall()
    assert {r["tmdb_id"]: r["reason"] for r in remembered} == refused
    assert conn.execute("SELECT count(*) AS n FROM movies WHERE tmdb_id > 999980").fetchone()["n"] == 0


def test_without_a_token_the_run_refuses_with_a_clear_message_and_changes_nothing(
    conn: Any, fake_tmdb: FakeTmdb, sync_settings: SyncSettings
) -> None:
    runs_before = conn.execute("SELECT count(*) AS n FROM sync_runs").fetchone()["n"]

    with pytest.raises(TmdbNotConfiguredError) as refused:
        run_sync(conn, settings=dataclasses.replace(sync_settings, api_token=None), triggered_by="cli")

    assert "TMDB_API_TOKEN" in refused.value.detail
    assert conn.execute("SELECT count(*) AS n FROM sync_runs").fetchone()["n"] == runs_before
    assert fake_tmdb.requests == []


def test_a_refused_token_fails_the_run_and_writes_no_title(
    conn: Any, fake_tmdb: FakeTmdb, sync_settings: SyncSettings
) -> None:
    run = run_sync(conn, settings=dataclasses.replace(sync_settings, api_token="wrong"), triggered_by="cli")

    assert run.status == "failed"
    assert "refused the API read token" in (run.message or "")
    assert tmdb_rows(conn) == 0
    assert len(fake_tmdb.requests) == 1  # a 401 is not retried


def test_runs_never_overlap(conn: Any, database_url: str, sync_settings: SyncSettings) -> None:
    from movie_common.db.sync_runs import SYNC_LOCK_ID

    with psycopg.connect(database_url, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s)", (SYNC_LOCK_ID,))
        with pytest.raises(SyncAlreadyRunningError):
            run_sync(conn, settings=sync_settings, triggered_by="admin")
        with pytest.raises(SyncAlreadyRunningError):
            purge_tmdb_data(conn)


@pytest.mark.slow
def test_purge_removes_tmdb_rows_and_fields(conn: Any, fake_tmdb: FakeTmdb, sync_settings: SyncSettings) -> None:
    bundled = dict(conn.execute("SELECT * FROM movies WHERE title = 'Fight Club' AND year = 1999").fetchone())
    run_sync(conn, settings=sync_settings, triggered_by="cli", now=clock(DAY))

    result = purge_tmdb_data(conn)

    assert result.deleted == 3
    assert result.cleared == 5  # the catalogue films TMDB matched
    assert tmdb_rows(conn) == 0
    assert conn.execute("SELECT count(*) AS n FROM movies WHERE source = 'tmdb'").fetchone()["n"] == 0
    restored = dict(conn.execute("SELECT * FROM movies WHERE id = %s", (bundled["id"],)).fetchone())
    for column in (
        "title",
        "year",
        "genre",
        "director",
        "actors",
        "plot",
        "poster_url",
        "runtime",
        "rating",
        "imdb_id",
        "release_date",
        "popularity",
        "original_language",
        "tmdb_id",
        "tmdb_fetched_at",
    ):
        assert restored[column] == bundled[column], column  # fmt: skip
    for table in ("tmdb_list_ranks", "tmdb_sync_queue", "tmdb_sync_state", "tmdb_cache"):
        assert conn.execute(f"SELECT count(*) AS n FROM {table}").fetchone()["n"] == 0  # noqa: S608


@pytest.mark.slow
def test_a_run_left_open_by_a_killed_invocation_is_closed_as_failed(
    conn: Any, fake_tmdb: FakeTmdb, sync_settings: SyncSettings
) -> None:
    killed = conn.execute("INSERT INTO sync_runs (triggered_by) VALUES ('schedule') RETURNING id").fetchone()["id"]

    run = run_sync(conn, settings=sync_settings, triggered_by="schedule", now=clock(DAY))

    assert run.status == "succeeded"
    closed = conn.execute("SELECT status, message, finished_at FROM sync_runs WHERE id = %s", (killed,)).fetchone()
    assert closed["status"] == "failed"
    assert closed["message"].startswith("interrupted")
    assert closed["finished_at"] is not None


WALL_E, WONKA, WONKA_REMAKE, ON_IMDB, MATRIX_MOVED = 10681, 787699, 900021, 900022, 900023


@pytest.mark.slow
def test_a_catalogue_film_tmdb_spells_or_dates_otherwise_gains_its_tmdb_id_instead_of_a_twin(
    conn: Any, fake_tmdb: FakeTmdb, sync_settings: SyncSettings
) -> None:
    """The eighth tester's duplicates: TMDB's `WALL·E` beside the catalogue's `WALL-E`, a Wonka dated a year before
    the catalogue's, a csv row and a TMDB title of another year with one IMDb id, and The Matrix moved to a new TMDB
    id. Each is one row now; a film of the same title a year apart by another director is still its own."""

    def count(where: str, *args: Any) -> int:
        return int(conn.execute(f"SELECT count(*) AS n FROM movies WHERE {where}", args).fetchone()["n"])  # noqa: S608 - constant SQL of this test

    bundled_wall_e = conn.execute("SELECT id FROM movies WHERE title = 'WALL-E' AND year = 2008").fetchone()["id"]
    bundled_wonka = conn.execute("SELECT id, director FROM movies WHERE title = 'Wonka' AND year = 2023").fetchone()
    assert bundled_wonka["director"] == "Paul King"
    on_imdb = conn.execute(
        "INSERT INTO movies (title, year, imdb_id, source) VALUES ('Breaker Imdb Film', 2019, 'tt9999991', 'csv') "
        "RETURNING id"
    ).fetchone()["id"]
    fake_tmdb.add_movie(WALL_E, "WALL·E", release_date="2008-06-22", directors=["Andrew Stanton"])
    fake_tmdb.add_movie(WONKA, "Wonka", release_date="2022-12-30", directors=["Paul King"])
    fake_tmdb.add_movie(WONKA_REMAKE, "Wonka", release_date="2024-03-01", directors=["Someone Else"])
    fake_tmdb.add_movie(ON_IMDB, "Another Name Entirely", release_date="2018-05-01", imdb_id="tt9999991")
    fake_tmdb.set_list("/movie/popular", [GODFATHER, FIGHT_CLUB, MATRIX, FORREST_GUMP, WALL_E, WONKA, WONKA_REMAKE,
                                          ON_IMDB])  # fmt: skip

    run = run_sync(conn, settings=sync_settings, triggered_by="cli", now=clock(DAY))
    assert run.status == "succeeded", run

    assert row(conn, "movie", WALL_E)["id"] == bundled_wall_e
    assert count("title_lead = 'walle'") == 1
    assert row(conn, "movie", WONKA)["id"] == bundled_wonka["id"]
    assert row(conn, "movie", WONKA)["year"] == 2023  # the catalogue's own values stay
    remake = row(conn, "movie", WONKA_REMAKE)  # a year apart, another director: another film
    assert remake["id"] != bundled_wonka["id"] and remake["source"] == "tmdb"
    adopted = row(conn, "movie", ON_IMDB)
    assert (adopted["id"], adopted["title"], adopted["year"]) == (on_imdb, "Breaker Imdb Film", 2019)
    assert count("imdb_id = 'tt9999991'") == 1

    # TMDB moves The Matrix to a new id: once the old one is gone, the row takes the new one (same IMDb id).
    matrix = row(conn, "movie", MATRIX)
    conn.execute("UPDATE movies SET tmdb_gone_at = %s WHERE id = %s", (DAY, matrix["id"]))
    moved = dict(fake_tmdb.state.titles[("movie", MATRIX)].doc)
    fake_tmdb.remove("movie", MATRIX)
    fake_tmdb.add_movie(MATRIX_MOVED, moved["title"], release_date=moved["release_date"], imdb_id=moved["imdb_id"])
    fake_tmdb.set_list("/movie/popular", [MATRIX_MOVED])
    fake_tmdb.set_list("/trending/movie/day", [MATRIX_MOVED])
    run = run_sync(conn, settings=sync_settings, triggered_by="cli", now=clock(DAY + timedelta(days=1)))
    assert run.status == "succeeded", run
    assert row(conn, "movie", MATRIX_MOVED)["id"] == matrix["id"]
    assert count("title_norm = 'the matrix' AND year = 1999") == 1
    assert row(conn, "movie", MATRIX_MOVED)["tmdb_gone_at"] is None


OTHER_IMDB, OTHER_DIRECTOR, CO_DIRECTED, INITIALS = 900191, 900192, 900193, 900194


@pytest.mark.slow
def test_another_film_of_the_same_title_and_year_does_not_take_a_catalogue_row(
    conn: Any, fake_tmdb: FakeTmdb, sync_settings: SyncSettings
) -> None:
    """The nineteenth tester: a csv row matched any TMDB film of its title + year, even one whose IMDb id or
    directors named another film; that film's TMDB id, poster, plot, date and rating were written onto the row.
    Such a film is now refused (the title + year is the row's) and reported; a row whose directors share a name
    with TMDB's (TMDB lists a co-director the file left out) still gains its TMDB id."""

    def csv_row(title: str, year: int, director: str | None, imdb_id: str | None) -> int:
        return int(
            conn.execute(
                "INSERT INTO movies (title, year, director, imdb_id, source) VALUES (%s, %s, %s, %s, 'csv') "
                "RETURNING id",
                (title, year, director, imdb_id),
            ).fetchone()["id"]
        )

    by_imdb = csv_row("Breaker Twin Imdb", 2010, None, "tt0000101")
    by_director = csv_row("Breaker Twin Director", 2011, "Alice Dir", None)
    co_directed = csv_row("Breaker Codirected", 2012, "Joel Breaker", None)
    # The bundled catalogue writes initials spaced (Wikipedia's `D. W. Griffith`), TMDB joined (`D.W. Griffith`).
    initials = csv_row("Breaker Initials", 1915, "D. W. Breaker", None)
    fake_tmdb.add_movie(OTHER_IMDB, "Breaker Twin Imdb", release_date="2010-05-01", imdb_id="tt0000202",
                        overview="Another film.")  # fmt: skip
    fake_tmdb.add_movie(OTHER_DIRECTOR, "Breaker Twin Director", release_date="2011-05-01", directors=["Bob Other"],
                        overview="Another film.")  # fmt: skip
    fake_tmdb.add_movie(CO_DIRECTED, "Breaker Codirected", release_date="2012-05-01",
                        directors=["Joel Breaker", "Ethan Breaker"], overview="This film.")  # fmt: skip
    fake_tmdb.add_movie(INITIALS, "Breaker Initials", release_date="1915-02-08", directors=["D.W. Breaker"],
                        overview="Initials.")  # fmt: skip
    fake_tmdb.set_list("/movie/popular", [OTHER_IMDB, OTHER_DIRECTOR, CO_DIRECTED, INITIALS])

    run = run_sync(conn, settings=sync_settings, triggered_by="cli", now=clock(DAY))

    assert run.status == "succeeded", run
    for movie_id in (by_imdb, by_director):
        kept = dict(conn.execute("SELECT * FROM movies WHERE id = %s", (movie_id,)).fetchone())
        assert kept["tmdb_id"] is None and kept["tmdb_filled"] == [], kept
        assert (kept["plot"], kept["poster_url"], kept["release_date"]) == (None, None, None)
    refused = {e["tmdb_id"]: e["reason"] for e in run.counts.errors}
    assert refused == {
        OTHER_IMDB: "another film already has the title 'Breaker Twin Imdb' and year 2010",
        OTHER_DIRECTOR: "another film already has the title 'Breaker Twin Director' and year 2011",
    }
    adopted = row(conn, "movie", CO_DIRECTED)
    assert (adopted["id"], adopted["director"], adopted["plot"]) == (co_directed, "Joel Breaker", "This film.")
    assert (row(conn, "movie", INITIALS)["id"], row(conn, "movie", INITIALS)["plot"]) == (initials, "Initials.")


YEAR_APART, DATE_MOVED = 900024, 900025


@pytest.mark.slow
def test_a_tmdb_date_the_rows_own_year_contradicts_is_not_written(
    conn: Any, fake_tmdb: FakeTmdb, sync_settings: SyncSettings
) -> None:
    """The eleventh tester: a row's year is its own (a file's or an admin's), so a TMDB release date more than a year
    from it left the movie's year and date disagreeing, and every later admin edit of it was refused (year_mismatch
    on release_date, a field the admin never touched). Such a date is not written; one TMDB filled in before goes."""
    apart = conn.execute(
        "INSERT INTO movies (title, year, imdb_id, source) VALUES ('Breaker Year Apart', 1990, 'tt9999992', 'csv') "
        "RETURNING id"
    ).fetchone()["id"]
    moved = conn.execute(
        "INSERT INTO movies (title, year, director, source) "
        "VALUES ('Breaker Date Moved', 1996, 'Breaker Dir', 'admin') RETURNING id"
    ).fetchone()["id"]
    fake_tmdb.add_movie(YEAR_APART, "Breaker Year Apart", release_date="1994-09-23", imdb_id="tt9999992", runtime=90)
    fake_tmdb.add_movie(DATE_MOVED, "Breaker Date Moved", release_date="1995-12-15", directors=["Breaker Dir"])
    fake_tmdb.set_list("/movie/popular", [YEAR_APART, DATE_MOVED])

    run = run_sync(conn, settings=sync_settings, triggered_by="cli", now=clock(DAY))
    assert run.status == "succeeded", run
    first = row(conn, "movie", YEAR_APART)
    assert first["id"] == apart and first["year"] == 1990
    assert first["release_date"] is None and "release_date" not in first["tmdb_filled"]
    assert first["runtime"] == 90  # the other empty columns are filled as before
    filled = row(conn, "movie", DATE_MOVED)
    assert filled["id"] == moved and filled["release_date"] == date(1995, 12, 15)  # a year apart: kept
    assert "release_date" in filled["tmdb_filled"]

    # TMDB dates it nine years later: the row keeps its year, and the date it no longer agrees with goes.
    fake_tmdb.state.titles[("movie", DATE_MOVED)].doc["release_date"] = "2005-01-01"
    conn.execute("UPDATE movies SET tmdb_fetched_at = %s WHERE id = %s", (DAY - timedelta(days=365), moved))
    run = run_sync(conn, settings=sync_settings, triggered_by="cli", now=clock(DAY + timedelta(days=1)))
    assert run.status == "succeeded", run
    later = row(conn, "movie", DATE_MOVED)
    assert (later["year"], later["release_date"]) == (1996, None)
    assert "release_date" not in later["tmdb_filled"]


LIST_PATHS = r"^/(trending/(movie|tv)/day|movie/(popular|upcoming|now_playing)|tv/popular)$"


@pytest.mark.slow
def test_a_run_whose_every_list_request_failed_is_failed_not_succeeded(
    conn: Any, fake_tmdb: FakeTmdb, sync_settings: SyncSettings
) -> None:
    fake_tmdb.fault(LIST_PATHS, "status", status=503)  # TMDB serves its configuration but never a list
    settings = dataclasses.replace(sync_settings, max_retries=0)

    run = run_sync(conn, settings=settings, triggered_by="schedule", now=clock(DAY))

    assert run.status == "failed"
    assert run.message is not None and "nothing was fetched" in run.message and "HTTP 503" in run.message
    assert run.counts.pages == 0 and run.counts.error_count == 6  # each list recorded as its own error
    assert {e["stage"] for e in run.counts.errors} == {"list"}
    assert tmdb_rows(conn) == 0
    assert fake_tmdb.requests_to(LIST_PATHS)  # the lists were asked for


@pytest.mark.slow
def test_a_run_with_some_failed_list_requests_succeeds_with_its_errors(
    conn: Any, fake_tmdb: FakeTmdb, sync_settings: SyncSettings
) -> None:
    fake_tmdb.fault(r"^/(trending/(movie|tv)/day|movie/popular)$", "status", status=503)  # three of six lists
    settings = dataclasses.replace(sync_settings, max_retries=0)

    run = run_sync(conn, settings=settings, triggered_by="schedule", now=clock(DAY))

    assert run.status == "succeeded"
    assert run.message is None
    assert run.counts.error_count == 3 and run.counts.pages == 3
    assert tmdb_rows(conn) > 0  # the titles of the lists that were read


@pytest.mark.slow
def test_a_run_whose_details_requests_all_failed_after_failed_lists_is_failed(
    conn: Any, fake_tmdb: FakeTmdb, sync_settings: SyncSettings
) -> None:
    settings = dataclasses.replace(sync_settings, max_retries=0)
    first = run_sync(conn, settings=settings, triggered_by="schedule", now=clock(DAY))
    assert first.status == "succeeded" and first.counts.queued == 0
    # The next day TMDB is down for everything but its (cached) configuration: the change feeds, the lists and the
    # details of the titles queued as stale all fail.
    fake_tmdb.add_changes("movie", (DAY + timedelta(days=1)).date(), [FIGHT_CLUB])
    fake_tmdb.fault(r"^/(movie|tv|trending)/", "status", status=500)
    later = dataclasses.replace(settings, refresh_after_days=0)

    run = run_sync(conn, settings=later, triggered_by="schedule", now=clock(DAY + timedelta(days=2)))

    assert run.status == "failed", run.counts.errors
    assert "nothing was fetched" in (run.message or "")
    assert run.counts.titles_new == run.counts.titles_updated == run.counts.titles_unchanged == 0


@pytest.mark.slow
def test_a_lock_timeout_during_a_run_fails_it_with_that_reason_not_an_outage(
    database_url: str, fake_tmdb: FakeTmdb, sync_settings: SyncSettings
) -> None:
    """A statement of the run waits past lock_timeout (another session holds TMDB's cached documents): the run is
    recorded failed with that reason and the error raised for the invocation's retry; the database was up all
    along, and the run says so. On a connection of its own (autocommit, as SyncFunction's), its row removed after."""
    from movie_common.database import connect
    from movie_common.errors import LockTimeoutError

    with connect(database_url) as sync_conn, psycopg.connect(database_url) as holder:
        sync_conn.execute("SET lock_timeout = '100ms'")
        holder.execute("LOCK TABLE tmdb_cache IN ACCESS EXCLUSIVE MODE")
        try:
            with pytest.raises(LockTimeoutError):
                run_sync(sync_conn, settings=sync_settings, triggered_by="cli", now=clock(DAY))
        finally:
            holder.rollback()
        run = sync_conn.execute("SELECT * FROM sync_runs ORDER BY id DESC LIMIT 1").fetchone()
        try:
            assert run is not None and run["status"] == "failed"
            assert run["message"].startswith("LockTimeoutError: ") and "unavailable" not in run["message"]
        finally:
            sync_conn.execute("DELETE FROM sync_runs WHERE id = %s", (run["id"],))
    assert fake_tmdb.requests == []  # it stopped at the cache, before asking TMDB anything


@pytest.mark.slow
def test_runs_during_a_tmdb_outage_do_not_count_towards_giving_titles_up(
    conn: Any, fake_tmdb: FakeTmdb, sync_settings: SyncSettings
) -> None:
    """A title is given up after failing three runs (max_attempts) because TMDB would not serve *it*; runs in which
    TMDB served nothing at all (an outage: those runs are 'failed') change nothing half-way and count for no title.
    Three Run nows during an outage used to give up every queued title and keep it out for 90 days."""
    settings = dataclasses.replace(sync_settings, max_retries=0)
    first = run_sync(conn, settings=settings, triggered_by="schedule", now=clock(DAY))
    assert first.status == "succeeded" and first.counts.queued == 0
    held = tmdb_rows(conn)
    fake_tmdb.fault(r"^/(movie|tv|trending)/", "status", status=503)  # down for all but the cached configuration
    stale = dataclasses.replace(settings, refresh_after_days=1)
    for hours in (30, 31, 32):
        run = run_sync(conn, settings=stale, triggered_by="admin", now=clock(DAY + timedelta(hours=hours)))
        assert run.status == "failed" and "nothing was fetched" in (run.message or "")
        assert run.counts.queued == held and run.counts.titles_skipped == 0
        details = [e for e in run.counts.errors if e["stage"] == "details"]
        assert len(details) == held and all("tried again next run" in e["reason"] for e in details), details
    assert conn.execute("SELECT count(*) AS n FROM tmdb_refused_titles").fetchone()["n"] == 0
    assert conn.execute("SELECT max(attempts) AS n FROM tmdb_sync_queue").fetchone()["n"] == 0

    fake_tmdb.clear_faults()  # TMDB is back: the next run refreshes every title the outage kept waiting
    back = run_sync(conn, settings=stale, triggered_by="schedule", now=clock(DAY + timedelta(hours=33)))
    assert back.status == "succeeded" and back.counts.queued == 0 and back.counts.error_count == 0
    assert back.counts.titles_unchanged == held


@pytest.mark.slow
def test_a_title_failing_in_runs_where_tmdb_answered_others_is_still_given_up(
    conn: Any, fake_tmdb: FakeTmdb, sync_settings: SyncSettings
) -> None:
    fake_tmdb.fault(rf"^/movie/{FORREST_GUMP}$", "status", status=503)
    settings = dataclasses.replace(sync_settings, max_retries=0)
    runs = [
        run_sync(conn, settings=settings, triggered_by="schedule", now=clock(DAY + timedelta(hours=h)))
        for h in (0, 1, 2)
    ]
    assert [r.status for r in runs] == ["succeeded"] * 3
    assert [r.counts.queued for r in runs] == [1, 1, 0]
    reasons = [{e["tmdb_id"]: e["reason"] for e in r.counts.errors}[FORREST_GUMP] for r in runs]
    assert "tried again next run" in reasons[0] and "tried again next run" in reasons[1]
    assert "given up after 3 runs" in reasons[2]


DOWNFALL, SPIRITED_AWAY, MONEY_HEIST = 613, 129, 71446


@pytest.mark.slow
def test_a_catalogue_row_under_the_original_title_gains_its_tmdb_id_instead_of_a_twin(
    conn: Any, fake_tmdb: FakeTmdb, sync_settings: SyncSettings
) -> None:
    """TMDB names a title in the sync's language (en-US: `Downfall`) and keeps its own name in original_title
    (`Der Untergang`; original_name for TV). A csv row holding the original title was not matched: the sync added
    the English-titled twin beside it. Matched by the original title too now, under the same guards (its year, no
    other IMDb id or director); a film of that original title by another director stays its own."""
    own = conn.execute(
        "INSERT INTO movies (title, year, director, source) VALUES "
        "('Der Untergang', 2004, 'Oliver Hirschbiegel', 'csv'), ('Sen to Chihiro no Kamikakushi', 2001, NULL, 'csv'),"
        "('Breaker Unrelated', 1999, NULL, 'csv') RETURNING id"
    ).fetchall()
    heist = conn.execute(
        "INSERT INTO movies (title, year, media_type, source) VALUES ('La casa de papel', 2017, 'tv', 'csv') "
        "RETURNING id"
    ).fetchone()["id"]
    downfall = fake_tmdb.add_movie(DOWNFALL, "Downfall", release_date="2004-09-16", directors=["Oliver Hirschbiegel"])
    downfall |= {"original_title": "Der Untergang", "original_language": "de"}
    spirited = fake_tmdb.add_movie(
        SPIRITED_AWAY, "Spirited Away", release_date="2001-07-20", directors=["Someone Else"]
    )
    spirited["original_title"] = "千と千尋の神隠し"  # not the csv row's romanised title: no match
    fake_tmdb.add_tv(MONEY_HEIST, "Money Heist", first_air_date="2017-05-02")["original_name"] = "La casa de papel"
    fake_tmdb.set_list("/movie/popular", [DOWNFALL, SPIRITED_AWAY])
    fake_tmdb.set_list("/tv/popular", [MONEY_HEIST])

    run = run_sync(conn, settings=sync_settings, triggered_by="cli", now=clock(DAY))
    assert run.status == "succeeded", run.counts.errors

    matched = row(conn, "movie", DOWNFALL)
    assert (matched["id"], matched["title"], matched["year"]) == (own[0]["id"], "Der Untergang", 2004)
    assert conn.execute("SELECT count(*) AS n FROM movies WHERE title = 'Downfall'").fetchone()["n"] == 0
    assert row(conn, "movie", SPIRITED_AWAY)["title"] == "Spirited Away"  # its own row
    assert conn.execute("SELECT tmdb_id FROM movies WHERE id = %s", (own[1]["id"],)).fetchone()["tmdb_id"] is None
    assert (row(conn, "tv", MONEY_HEIST)["id"], row(conn, "tv", MONEY_HEIST)["title"]) == (heist, "La casa de papel")
