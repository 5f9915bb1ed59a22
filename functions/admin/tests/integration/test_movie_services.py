"""The admin's catalogue use cases against PostgreSQL: the ingest's row rules, duplicates refused, audit entries."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from movie_admin.audit import Actor
from movie_admin.services import movies
from movie_common.db import tmdb
from movie_common.db.movies import AdminMovieFilters
from movie_common.db.tmdb import TmdbTitle
from movie_common.errors import DuplicateMovieError, NotFoundError, RequestValidationError

FORM = {
    "title": "Zzyzx Road Revisited",
    "year": "1994",
    "genre": "Crime, Drama",
    "director": "Ann Example",
    "actors": ["Bo Example", "Cy Example"],
    "runtime": "142 min",
    "rating": "8.5",
    "poster_url": "https://image.example.org/zzyzx.jpg",
    "imdb_id": "tt0111161",
    "release_date": "1994-09-23",
}


def test_create_reads_values_as_the_ingest_does(conn: Any, actor: Actor, audit_rows: Callable[..., Any]) -> None:
    created = movies.create_movie(conn, actor, values=FORM)
    assert (created.title, created.year, created.genre, created.runtime, created.rating) == (
        "Zzyzx Road Revisited",
        1994,
        ["Crime", "Drama"],
        142,
        Decimal("8.5"),
    )
    assert (created.source, created.media_type, created.release_date) == ("admin", "movie", date(1994, 9, 23))
    assert movies.get_movie(conn, movie_id=created.id).actors == ["Bo Example", "Cy Example"]
    [entry] = audit_rows(action="movie.create")
    assert entry["target_id"] == str(created.id) and entry["after"]["runtime"] == 142 and entry["before"] is None


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"title": ""}, {"title"}),
        ({"year": "1700"}, {"year"}),
        ({"poster_url": "ftp://example.org/x.jpg", "imdb_id": "nm0000001"}, {"poster_url", "imdb_id"}),
        ({"runtime": "forever", "rating": "11"}, {"runtime", "rating"}),
        ({"media_type": "podcast"}, {"media_type"}),
        ({"tmdb_id": 550, "popularity": 3.5}, {"tmdb_id", "popularity"}),
    ],
)
def test_every_bad_field_is_named_and_nothing_is_written(
    conn: Any, actor: Actor, changes: dict[str, Any], fields: set[str]
) -> None:
    with pytest.raises(RequestValidationError) as refused:
        movies.create_movie(conn, actor, values={**FORM, **changes})
    assert {e.name for e in refused.value.errors} == fields
    assert all(e.location == "body" and ": " in e.reason for e in refused.value.errors)
    found = movies.list_movies(conn, filters=AdminMovieFilters(search="zzyzx"), sort="id.asc", page=1, per_page=5)
    assert found.total_results == 0


def test_a_duplicate_title_and_year_is_refused_with_the_existing_id(conn: Any, actor: Actor) -> None:
    first = movies.create_movie(conn, actor, values=FORM)
    # the same title with a letterless invisible character (zero-width space, soft hyphen, BOM) is the same title
    for title in (
        "Zzyzx Road Revisited",
        "ZZYZX  road revisited",
        "Zzýzx Road Revisited",
        "Zzyzx Road Re\u200bvisited",
        "\ufeffZzyzx Road Revisited\u00ad",
    ):
        with pytest.raises(DuplicateMovieError) as refused:
            movies.create_movie(conn, actor, values={**FORM, "title": title})
        assert refused.value.existing_id == first.id and refused.value.status == 409
    other = movies.create_movie(conn, actor, values={**FORM, "year": "1995"})
    with pytest.raises(DuplicateMovieError):
        movies.update_movie(conn, actor, movie_id=other.id, changes={"year": 1994})
    assert movies.get_movie(conn, movie_id=other.id).year == 1995


def test_update_changes_only_what_is_given_and_validates_the_whole(
    conn: Any, actor: Actor, audit_rows: Callable[..., Any]
) -> None:
    created = movies.create_movie(conn, actor, values=FORM)
    edited = movies.update_movie(conn, actor, movie_id=created.id, changes={"plot": "A road.", "rating": 9})
    assert (edited.plot, edited.rating, edited.runtime, edited.genre) == (
        "A road.",
        Decimal("9.0"),
        142,
        ["Crime", "Drama"],
    )
    assert edited.updated_at >= created.updated_at
    with pytest.raises(RequestValidationError):
        movies.update_movie(conn, actor, movie_id=created.id, changes={"year": "not a year"})
    with pytest.raises(NotFoundError):
        movies.update_movie(conn, actor, movie_id=2**62, changes={"plot": "x"})
    [entry] = audit_rows(action="movie.update")
    assert (entry["before"]["plot"], entry["after"]["plot"]) == (None, "A road.")
    assert (entry["before"]["rating"], entry["after"]["rating"]) == (8.5, 9.0)


def test_clearing_the_year_leaves_a_title_that_ends_in_a_year_as_it_is(conn: Any, actor: Actor) -> None:
    """The seventh tester's case: `X (2020)` stored with another year, then {"year": null}, renamed the movie `X` and
    set 2020. A title the edit leaves as stored is not read again for a year; a title the edit gives still is."""
    # Stored before the form read a title's year beside a year (the form now makes `Cleared Twice` of 2019 of it),
    # or by the TMDB sync, which keeps TMDB's titles as they are.
    stored = conn.execute(
        "INSERT INTO movies (title, year, source) VALUES ('Cleared Twice (2020)', 2019, 'admin') RETURNING id"
    ).fetchone()
    created = movies.get_movie(conn, movie_id=stored["id"])
    assert (created.title, created.year) == ("Cleared Twice (2020)", 2019)
    cleared = movies.update_movie(conn, actor, movie_id=created.id, changes={"year": None})
    assert (cleared.title, cleared.year) == ("Cleared Twice (2020)", None)
    retitled = movies.update_movie(conn, actor, movie_id=created.id, changes={"title": "Cleared Thrice (2021)"})
    assert (retitled.title, retitled.year) == ("Cleared Thrice", 2021)


@pytest.mark.parametrize("title", ["N/A", "NULL", "\\N", "#N/A", "-", "None"])
def test_the_form_refuses_a_title_that_is_only_a_null_marker_as_the_ingest_does(
    conn: Any, actor: Actor, title: str
) -> None:
    with pytest.raises(RequestValidationError) as refused:
        movies.create_movie(conn, actor, values={**FORM, "title": title})
    assert [(e.name, e.reason) for e in refused.value.errors] == [
        ("title", f"required: a title is required ({title} is written for no value)")
    ]


def test_the_form_reads_a_title_with_its_year_or_article_as_the_ingest_does(conn: Any, actor: Actor) -> None:
    inverted = movies.create_movie(conn, actor, values={**FORM, "title": "Zzyzx Road, The", "year": "1994"})
    assert (inverted.title, inverted.year) == ("The Zzyzx Road", 1994)
    dated = movies.create_movie(conn, actor, values={**FORM, "title": "Zzyzx Road Again (1994)", "year": "1994"})
    assert (dated.title, dated.year) == ("Zzyzx Road Again", 1994)
    with pytest.raises(RequestValidationError) as refused:
        movies.create_movie(conn, actor, values={**FORM, "title": "Zzyzx Road Again (1994)", "year": "2004"})
    assert [(e.name, e.reason.split(":")[0]) for e in refused.value.errors] == [("title", "year_mismatch")]


def test_year_and_release_date_are_checked_together_on_the_whole_movie(conn: Any, actor: Actor) -> None:
    """The tester's case (year 1994, release 2031-01-01) is refused on create and on an edit of either value; a
    festival year apart is kept; a cleared year is taken from the release date."""
    with pytest.raises(RequestValidationError) as refused:
        movies.create_movie(conn, actor, values={**FORM, "release_date": "2031-01-01"})
    assert [(e.name, e.reason.split(":")[0]) for e in refused.value.errors] == [("release_date", "year_mismatch")]
    created = movies.create_movie(conn, actor, values={**FORM, "release_date": "1995-02-01"})
    assert (created.year, created.release_date) == (1994, date(1995, 2, 1))
    for changes in ({"release_date": "2031-01-01"}, {"year": 1997}, {"year": "1970", "plot": "A road."}):
        with pytest.raises(RequestValidationError) as refused:
            movies.update_movie(conn, actor, movie_id=created.id, changes=changes)
        assert [(e.name, e.reason.split(":")[0]) for e in refused.value.errors] == [("release_date", "year_mismatch")]
    unchanged = movies.get_movie(conn, movie_id=created.id)
    assert (unchanged.year, unchanged.release_date, unchanged.plot) == (1994, date(1995, 2, 1), None)
    moved = movies.update_movie(conn, actor, movie_id=created.id, changes={"year": None, "release_date": "2031-01-01"})
    assert (moved.year, moved.release_date) == (2031, date(2031, 1, 1))


@pytest.mark.slow
def test_list_searches_filters_sorts_and_pages(conn: Any, actor: Actor) -> None:
    for year in (1994, 1996, 1995):
        movies.create_movie(conn, actor, values={**FORM, "year": str(year), "release_date": f"{year}-09-23"})
    mine = AdminMovieFilters(search="zzyzx road")

    def years(sort: str, **filters: Any) -> list[int | None]:
        page = movies.list_movies(
            conn, filters=AdminMovieFilters(**{"search": "zzyzx road", **filters}), sort=sort, page=1, per_page=10
        )
        return [m.year for m in page.results]

    assert years("year.desc") == [1996, 1995, 1994]
    assert years("year.asc", year=1995) == [1995]
    assert years("year.asc", source="admin", genre="drama") == [1994, 1995, 1996]
    assert years("year.asc", media_type="tv") == []
    assert years("id.desc") == [1995, 1996, 1994]
    second = movies.list_movies(conn, filters=mine, sort="year.asc", page=2, per_page=2)
    assert [m.year for m in second.results] == [1996] and (second.total_results, second.total_pages) == (3, 2)

    def titles(term: str) -> list[str]:
        page = movies.list_movies(conn, filters=AdminMovieFilters(search=term), sort="id.asc", page=1, per_page=5)
        return [m.title for m in page.results]

    assert titles("44/100% d") == ["99 and 44/100% Dead"]  # from the bundled catalogue
    assert titles("44/100%d") == []  # % is a character here, not a wildcard
    # Read as the public title search reads a title (through title_search's trigram index, since migration 0023):
    # punctuation, case and accents aside, and numerals either way.
    for title in ("Spider-Man: Zzyzx Returns", "Zzyzx Road II", "Zzyzx !?!?"):
        movies.create_movie(conn, actor, values={"title": title, "year": "2001"})
    assert titles("SPIDERMAN: zzyzx") == ["Spider-Man: Zzyzx Returns"]
    assert titles("zzyzx road 2") == ["Zzyzx Road II"]
    assert titles("!?!?") == ["Zzyzx !?!?"]  # punctuation alone: matched in the normalised title


def test_delete_removes_the_movie_and_audits_what_it_was(
    conn: Any, actor: Actor, audit_rows: Callable[..., Any]
) -> None:
    created = movies.create_movie(conn, actor, values=FORM)
    assert movies.delete_movie(conn, actor, movie_id=created.id).title == FORM["title"]
    with pytest.raises(NotFoundError):
        movies.get_movie(conn, movie_id=created.id)
    with pytest.raises(NotFoundError):
        movies.delete_movie(conn, actor, movie_id=created.id)
    [entry] = audit_rows(action="movie.delete")
    assert entry["before"]["title"] == FORM["title"] and entry["after"] is None


def _tmdb_title(**changes: Any) -> TmdbTitle:
    values: dict[str, Any] = {
        "media_type": "movie",
        "tmdb_id": 987_654_321,
        "title": "Zzyzx Sync Feature",
        "year": 2001,
        "release_date": date(2001, 5, 1),
        "genre": ["Drama"],
        "director": "Di Rector",
        "actors": ["Al One"],
        "plot": "TMDB's plot.",
        "poster_url": "https://image.tmdb.org/t/p/w500/zzyzx.jpg",
        "imdb_id": "tt7654321",
        "runtime": 100,
        "rating": Decimal("7.1"),
        "popularity": 12.5,
        "original_language": "en",
    }
    return TmdbTitle(**{**values, **changes})


def test_an_edited_tmdb_row_keeps_the_admins_fields_and_the_sync_keeps_the_rest(
    conn: Any, actor: Actor, audit_rows: Callable[..., Any]
) -> None:
    with conn.transaction():
        assert tmdb.upsert_title(conn, _tmdb_title(), fetched_at=datetime.now(UTC)) == "new"
    movie_id = conn.execute("SELECT id FROM movies WHERE tmdb_id = 987654321").fetchone()["id"]
    same = movies.update_movie(conn, actor, movie_id=movie_id, changes={"runtime": "100 min", "genre": "Drama"})
    assert (same.source, same.tmdb_filled) == ("tmdb", []) and audit_rows(action="movie.update") == []

    edited = movies.update_movie(
        conn, actor, movie_id=movie_id, changes={"runtime": "95 min", "title": "Zzyzx Sync Feature (Director's Cut)"}
    )
    assert (edited.source, edited.runtime, edited.tmdb_id) == ("admin", 95, 987_654_321)
    assert edited.tmdb_filled == [c for c in tmdb.FILLABLE if c != "runtime"]
    [entry] = audit_rows(action="movie.update")
    assert (entry["before"]["source"], entry["after"]["source"]) == ("tmdb", "admin")
    assert entry["before"]["tmdb_filled"] == [] and "runtime" not in entry["after"]["tmdb_filled"]

    later = _tmdb_title(title="Zzyzx Sync Feature Renamed", runtime=101, plot="TMDB's new plot.", popularity=40.0)
    with conn.transaction():
        assert tmdb.upsert_title(conn, later, fetched_at=datetime.now(UTC)) == "updated"
    synced = movies.get_movie(conn, movie_id=movie_id)
    assert (synced.title, synced.runtime) == ("Zzyzx Sync Feature (Director's Cut)", 95)  # the admin's
    assert (synced.plot, synced.popularity, synced.source) == ("TMDB's new plot.", 40.0, "admin")  # still TMDB's


def test_a_row_whose_media_type_changes_leaves_its_tmdb_id_behind(conn: Any, actor: Actor) -> None:
    """The nineteenth tester: a movie an admin re-typed as a TV series kept its movie's TMDB id, so the sync's
    refresh fetched /tv/{that id} (an unrelated series, TMDB numbers the two apart) and filled its data in."""
    with conn.transaction():
        assert tmdb.upsert_title(conn, _tmdb_title(), fetched_at=datetime.now(UTC)) == "new"
    movie_id = conn.execute("SELECT id FROM movies WHERE tmdb_id = 987654321").fetchone()["id"]

    edited = movies.update_movie(conn, actor, movie_id=movie_id, changes={"media_type": "tv"})

    assert (edited.media_type, edited.tmdb_id, edited.source) == ("tv", None, "admin")
    stored = conn.execute("SELECT tmdb_fetched_at, tmdb_gone_at FROM movies WHERE id = %s", (movie_id,)).fetchone()
    assert (stored["tmdb_fetched_at"], stored["tmdb_gone_at"]) == (None, None)
    unrelated = _tmdb_title(
        media_type="tv", title="An Unrelated Series", year=2015, release_date=date(2015, 1, 1), imdb_id="tt0000303"
    )
    with conn.transaction():
        assert tmdb.upsert_title(conn, unrelated, fetched_at=datetime.now(UTC)) == "new"
    assert movies.get_movie(conn, movie_id=movie_id).title == "Zzyzx Sync Feature"

    kept = movies.update_movie(conn, actor, movie_id=movie_id, changes={"runtime": "96 min"})
    assert kept.tmdb_id is None  # nothing else moves it


def test_a_field_tmdb_filled_in_is_the_admins_once_edited(conn: Any, actor: Actor) -> None:
    created = movies.create_movie(conn, actor, values={**FORM, "runtime": None, "plot": None})
    conn.execute(
        "UPDATE movies SET runtime = 120, plot = 'From TMDB.', tmdb_id = 987654322, tmdb_filled = %s WHERE id = %s",
        (["plot", "runtime"], created.id),
    )
    edited = movies.update_movie(conn, actor, movie_id=created.id, changes={"runtime": "2h 5m"})
    assert (edited.runtime, edited.tmdb_filled, edited.source) == (125, ["plot"], "admin")
