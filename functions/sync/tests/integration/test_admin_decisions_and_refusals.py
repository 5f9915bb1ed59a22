"""What the TMDB sync must not undo or ask again, through the real handlers (SyncFunction on EventBridge events,
AdminFunction on API Gateway events), the fake TMDB on loopback and PostgreSQL: a title an admin deleted stays
deleted until an admin allows it again, and a title refused for another row's title + year is not fetched again
every run while TMDB's lists show it unchanged."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from marquee_local import events
from marquee_local.fake_tmdb import FakeTmdb
from marquee_local.lambda_context import LocalLambdaContext

FUNCTIONS = Path(__file__).resolve().parents[3]
INTERSTELLAR, PROJECT_HAIL_MARY, BREAKING_BAD = 157336, 687163, 1396


@pytest.fixture
def admin(conn: Any) -> Callable[..., tuple[int, Any]]:
    """admin(method, path) -> (status, JSON body) through AdminFunction's handler with a signed-in admin."""
    from movie_admin.handler import handler
    from movie_common import sessions
    from movie_common.db import admins

    account = admins.insert_admin(conn, email="ops@marquee.test", hashed_password="$2b$12$" + "x" * 53)
    assert account is not None
    token = sessions.start_session(conn, role="admin", subject_id=account.id).access_token
    base = json.loads((FUNCTIONS / "admin" / "events" / "list_keys.json").read_text())

    def call(method: str, path: str, query: dict[str, str] | None = None) -> tuple[int, Any]:
        event = events.adjust(
            base, method=method, path=path, query=query or {}, headers={"Authorization": f"Bearer {token}"}, body=None
        )
        response = handler(event, LocalLambdaContext(function_name="AdminFunction"))
        text = response.get("body") or ""
        return response["statusCode"], json.loads(text) if text else None

    return call


def held(conn: Any, media_type: str, tmdb_id: int) -> int | None:
    found = conn.execute(
        "SELECT id FROM movies WHERE media_type = %s AND tmdb_id = %s", (media_type, tmdb_id)
    ).fetchone()
    return None if found is None else int(found["id"])


def details_requests(fake: FakeTmdb, media_type: str, tmdb_id: int) -> int:
    return len(fake.requests_to(rf"^/{media_type}/{tmdb_id}$"))


@pytest.mark.slow
def test_a_title_an_admin_deleted_stays_deleted_until_an_admin_allows_it_again(
    conn: Any, fake_tmdb: FakeTmdb, sync: Callable[[], dict[str, Any]], admin: Callable[..., tuple[int, Any]]
) -> None:
    assert sync()["status"] == "succeeded"
    movie_id = held(conn, "movie", PROJECT_HAIL_MARY)  # TMDB's own row, on the upcoming list
    show_id = held(conn, "tv", BREAKING_BAD)
    assert movie_id is not None and show_id is not None

    assert admin("DELETE", f"/admin/movies/{movie_id}")[0] == 204
    assert admin("DELETE", f"/admin/movies/{show_id}")[0] == 204
    status, blocked = admin("GET", "/admin/movies/blocked")
    assert status == 200 and blocked["total_results"] == 2
    assert {(b["media_type"], b["tmdb_id"], b["movie_id"]) for b in blocked["results"]} == {
        ("movie", PROJECT_HAIL_MARY, movie_id),
        ("tv", BREAKING_BAD, show_id),
    }
    assert {b["title"] for b in blocked["results"]} == {"Project Hail Mary", "Breaking Bad"}
    status, audit = admin("GET", "/admin/audit", {"action": "movie.delete"})
    assert status == 200
    assert {e["target_id"] for e in audit["results"]} == {str(movie_id), str(show_id)}

    # The lists still show both: the next runs neither add them again nor ask TMDB for them.
    before = details_requests(fake_tmdb, "movie", PROJECT_HAIL_MARY)
    for _ in range(2):
        run = sync()
        assert run["status"] == "succeeded" and run["errors"] == []
    assert held(conn, "movie", PROJECT_HAIL_MARY) is None and held(conn, "tv", BREAKING_BAD) is None
    assert details_requests(fake_tmdb, "movie", PROJECT_HAIL_MARY) == before

    # Allowing it again is audited, and the next run adds it back; the other stays deleted.
    assert admin("DELETE", f"/admin/movies/blocked/movie/{PROJECT_HAIL_MARY}")[0] == 204
    status, problem = admin("DELETE", f"/admin/movies/blocked/movie/{PROJECT_HAIL_MARY}")
    assert status == 404 and problem["code"] == "not_found"
    status, audit = admin("GET", "/admin/audit", {"action": "tmdb_title.allow"})
    assert status == 200
    [entry] = audit["results"]
    assert entry["target_type"] == "tmdb_title" and entry["target_id"] == f"movie:{PROJECT_HAIL_MARY}"
    assert sync()["titles"]["new"] == 1
    assert held(conn, "movie", PROJECT_HAIL_MARY) is not None and held(conn, "tv", BREAKING_BAD) is None
    assert admin("GET", "/admin/movies/blocked")[1]["total_results"] == 1


@pytest.mark.slow
def test_a_title_queued_before_its_deletion_is_not_added_by_a_later_run(
    conn: Any, fake_tmdb: FakeTmdb, sync: Callable[[], dict[str, Any]], admin: Callable[..., tuple[int, Any]]
) -> None:
    assert sync()["status"] == "succeeded"
    movie_id = held(conn, "movie", INTERSTELLAR)
    assert movie_id is not None
    assert admin("DELETE", f"/admin/movies/{movie_id}")[0] == 204
    # A change feed or an older queue entry may still name it: the run drops it, nothing is written.
    conn.execute(
        "INSERT INTO tmdb_sync_queue (media_type, tmdb_id, reason) VALUES ('movie', %s, 'list')", (INTERSTELLAR,)
    )
    run = sync()
    assert run["status"] == "succeeded"
    assert held(conn, "movie", INTERSTELLAR) is None
    assert conn.execute("SELECT count(*) AS n FROM tmdb_sync_queue").fetchone()["n"] == 0


def test_bad_block_routes_are_problems_not_errors(admin: Callable[..., tuple[int, Any]]) -> None:
    for path in ("/admin/movies/blocked/film/1", "/admin/movies/blocked/movie/0", "/admin/movies/blocked/movie/9e99"):
        status, problem = admin("DELETE", path)
        assert status in (400, 422) and problem["code"] == "validation_error", (path, status, problem)
    status, page = admin("GET", "/admin/movies/blocked")
    assert (status, page["total_results"], page["results"]) == (200, 0, [])


@pytest.mark.slow
def test_a_title_refused_for_another_rows_title_and_year_is_not_fetched_every_run(
    conn: Any, fake_tmdb: FakeTmdb, sync: Callable[[], dict[str, Any]]
) -> None:
    # Another film of the bundled catalogue's title and year (another director): TMDB's is refused once.
    fake_tmdb.add_movie(777001, "Heat", release_date="1995-12-15", directors=["Some One Else"], imdb_id="tt9999991")
    fake_tmdb.set_list("/movie/popular", [777001])
    assert (
        conn.execute("SELECT count(*) AS n FROM movies WHERE title_norm = 'heat' AND year = 1995").fetchone()["n"] == 1
    )

    first = sync()
    assert first["titles"]["skipped"] == 1
    [error] = [e for e in first["errors"] if e.get("tmdb_id") == 777001]
    assert "title 'Heat' and year 1995" in error["reason"]
    assert details_requests(fake_tmdb, "movie", 777001) == 1

    for _ in range(2):
        again = sync()
        assert again["errors"] == [] and again["titles"]["skipped"] == 0
    assert details_requests(fake_tmdb, "movie", 777001) == 1

    # TMDB renames it: fetched again, and now written.
    fake_tmdb.add_movie(777001, "Heat Wave", release_date="1995-12-15", directors=["Some One Else"])
    assert sync()["titles"]["new"] == 1
    assert details_requests(fake_tmdb, "movie", 777001) == 2
    assert held(conn, "movie", 777001) is not None
    assert conn.execute("SELECT count(*) AS n FROM tmdb_refused_titles").fetchone()["n"] == 0


@pytest.mark.slow
def test_a_refused_title_is_fetched_again_once_the_other_row_is_gone(
    conn: Any, fake_tmdb: FakeTmdb, sync: Callable[[], dict[str, Any]], admin: Callable[..., tuple[int, Any]]
) -> None:
    fake_tmdb.add_tv(777002, "Heat", first_air_date="1995-01-01", creators=["Some Creator"])
    fake_tmdb.set_list("/tv/popular", [777002])
    assert sync()["titles"]["skipped"] == 1
    assert sync()["titles"]["skipped"] == 0
    assert details_requests(fake_tmdb, "tv", 777002) == 1

    film = conn.execute("SELECT id FROM movies WHERE title_norm = 'heat' AND year = 1995").fetchone()["id"]
    assert admin("DELETE", f"/admin/movies/{film}")[0] == 204  # a bundled row: no TMDB id, nothing blocked
    assert sync()["titles"]["new"] == 1
    assert held(conn, "tv", 777002) is not None


@pytest.mark.slow
def test_an_admin_sees_the_refused_titles_and_forgets_one_so_the_next_run_tries_it_again(
    conn: Any, fake_tmdb: FakeTmdb, sync: Callable[[], dict[str, Any]], admin: Callable[..., tuple[int, Any]]
) -> None:
    # One refused for the bundled Heat's title + year, one whose details are malformed (a cast entry without a name).
    fake_tmdb.add_movie(777001, "Heat", release_date="1995-12-15", directors=["Some One Else"], imdb_id="tt9999991")
    fake_tmdb.add_movie(880001, "Nameless Cast", release_date="2024-05-01", cast=["Somebody"])
    with fake_tmdb.state.lock:
        fake_tmdb.state.titles[("movie", 880001)].credits["cast"][0]["name"] = None
    fake_tmdb.set_list("/movie/popular", [777001])
    fake_tmdb.set_list("/movie/upcoming", [880001])
    first = sync()
    assert first["titles"]["skipped"] == 2
    assert sync()["titles"]["skipped"] == 0  # remembered: neither is fetched again

    status, page = admin("GET", "/admin/sync/refused")
    assert status == 200 and (page["total_results"], page["total_pages"]) == (2, 1)
    found = {r["tmdb_id"]: r for r in page["results"]}
    heat, leap = found[777001], found[880001]
    assert (heat["media_type"], heat["kind"], heat["title"], heat["year"], heat["times"]) == (
        "movie",
        "title_year_taken",
        "Heat",
        1995,
        1,
    )
    assert "title 'Heat' and year 1995" in heat["reason"]
    assert (leap["kind"], leap["title"], leap["year"], leap["times"]) == ("malformed", "Nameless Cast", 2024, 1)
    assert "cast" in leap["reason"]
    assert heat["first_refused_at"] == heat["refused_at"]

    # Newest first, paged: the malformed one remembered last is moved to the front.
    conn.execute("UPDATE tmdb_refused_titles SET refused_at = refused_at + interval '1 minute' WHERE tmdb_id = 880001")
    status, one = admin("GET", "/admin/sync/refused", {"per_page": "1"})
    assert status == 200 and one["total_pages"] == 2 and [r["tmdb_id"] for r in one["results"]] == [880001]
    status, two = admin("GET", "/admin/sync/refused", {"per_page": "1", "page": "2"})
    assert [r["tmdb_id"] for r in two["results"]] == [777001]

    # Forgetting Heat is audited; the next run fetches it again (and, still refused, reports it again, once).
    assert admin("DELETE", "/admin/sync/refused/movie/777001")[0] == 204
    status, problem = admin("DELETE", "/admin/sync/refused/movie/777001")
    assert status == 404 and problem["code"] == "not_found"
    assert problem["type"] and problem["title"] and problem["status"] == 404
    status, audit = admin("GET", "/admin/audit", {"action": "tmdb_title.retry"})
    assert status == 200
    [entry] = audit["results"]
    assert (entry["target_type"], entry["target_id"]) == ("tmdb_title", "movie:777001")
    assert entry["before"]["kind"] == "title_year_taken" and entry["before"]["title"] == "Heat"
    assert [r["tmdb_id"] for r in admin("GET", "/admin/sync/refused")[1]["results"]] == [880001]

    again = sync()
    assert details_requests(fake_tmdb, "movie", 777001) == 2
    assert details_requests(fake_tmdb, "movie", 880001) == 1  # not forgotten: still not asked
    assert [e["tmdb_id"] for e in again["errors"]] == [777001] and again["titles"]["skipped"] == 1
    assert admin("GET", "/admin/sync/refused")[1]["total_results"] == 2

    # TMDB fixes the cast, its list unchanged: still remembered until an admin forgets it; then written.
    with fake_tmdb.state.lock:
        fake_tmdb.state.titles[("movie", 880001)].credits["cast"][0]["name"] = "Somebody"
    assert sync()["titles"]["new"] == 0  # the list shows the same title and year: still remembered
    assert admin("DELETE", "/admin/sync/refused/movie/880001")[0] == 204
    assert sync()["titles"]["new"] == 1
    assert held(conn, "movie", 880001) is not None
    assert [r["tmdb_id"] for r in admin("GET", "/admin/sync/refused")[1]["results"]] == [777001]


@pytest.mark.slow
def test_a_refused_title_counts_the_runs_that_could_not_write_it(
    conn: Any, fake_tmdb: FakeTmdb, sync: Callable[[], dict[str, Any]], admin: Callable[..., tuple[int, Any]]
) -> None:
    fake_tmdb.add_movie(880001, "Leap Day Movie", release_date="2026-02-30")
    fake_tmdb.set_list("/movie/upcoming", [880001])
    sync()
    # TMDB_REFRESH_AFTER_DAYS later it is asked again, and still malformed.
    conn.execute(
        "UPDATE tmdb_refused_titles SET refused_at = refused_at - interval '31 days', first_refused_at = "
        "first_refused_at - interval '31 days'"
    )
    sync()
    assert details_requests(fake_tmdb, "movie", 880001) == 2
    [entry] = admin("GET", "/admin/sync/refused")[1]["results"]
    assert entry["times"] == 2 and entry["first_refused_at"] < entry["refused_at"]


def test_bad_refusal_routes_are_problems_not_errors(admin: Callable[..., tuple[int, Any]]) -> None:
    for path in ("/admin/sync/refused/film/1", "/admin/sync/refused/movie/0", "/admin/sync/refused/movie/9e99"):
        status, problem = admin("DELETE", path)
        assert status in (400, 422) and problem["code"] == "validation_error", (path, status, problem)
    status, page = admin("GET", "/admin/sync/refused")
    assert (status, page["total_results"], page["results"]) == (200, 0, [])
    status, problem = admin("GET", "/admin/sync/refused", {"per_page": "0"})
    assert status == 422 and problem["code"] == "validation_error"


@pytest.mark.slow
def test_an_admin_sees_a_listed_title_tmdb_no_longer_has_and_forgets_it(
    conn: Any, fake_tmdb: FakeTmdb, sync: Callable[[], dict[str, Any]], admin: Callable[..., tuple[int, Any]]
) -> None:
    fake_tmdb.set_list("/movie/upcoming", [880404])  # listed, but its details answer 404
    assert sync()["titles"]["skipped"] == 1

    status, page = admin("GET", "/admin/sync/refused")
    assert status == 200
    [gone] = page["results"]
    assert (gone["media_type"], gone["tmdb_id"], gone["kind"], gone["times"]) == ("movie", 880404, "not_found", 1)
    assert "HTTP 404" in gone["reason"]

    assert admin("DELETE", "/admin/sync/refused/movie/880404")[0] == 204
    fake_tmdb.add_movie(880404, "Back Again", release_date="2025-02-02")
    assert sync()["titles"]["new"] == 1 and held(conn, "movie", 880404) is not None
