"""Genres that sources spell differently are one genre (migration 0013): the bundled catalogue's `Animated`, `Sport`
and `Historical` are TMDB's `Animation`, `Sports` and `History`, and `sci-fi` is `Science Fiction`, for `genre=`,
/genres, similar movies and the admin's filter; names are stored and shown as given."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from movie_admin.services import movies as admin_movies
from movie_common.db.movies import AdminMovieFilters

Event = Callable[..., dict[str, Any]]
Invoke = Callable[[dict[str, Any]], dict[str, Any]]


def _total(invoke: Invoke, load_event: Event, key: str, genre: str) -> int:
    answer = invoke(load_event("api", "search", key=key, query={"genre": genre, "per_page": "1"}))
    assert answer["statusCode"] == 200, answer["body"]
    return int(answer["json"]["total_results"])


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("animation", "Animated"),
        ("Animated", "Animated"),
        ("sci-fi", "Science Fiction"),
        ("SciFi", "Science Fiction"),
        ("sport", "Sports"),
        ("history", "Historical"),
    ],
)
def test_a_genre_is_found_under_each_of_its_spellings(
    conn: Any, load_event: Event, invoke: Invoke, make_key: Callable[..., str], typed: str, stored: str
) -> None:
    key = make_key("pro")
    expected = conn.execute(
        "SELECT count(*) AS n FROM movies WHERE %s = ANY(genre) OR (%s = 'Sports' AND 'Sport' = ANY(genre))",
        (stored, stored),
    ).fetchone()["n"]
    assert expected > 30  # the bundled catalogue has them
    assert _total(invoke, load_event, key, typed) == expected


def test_a_new_movie_in_tmdbs_spelling_is_found_with_the_catalogues(
    conn: Any, load_event: Event, invoke: Invoke, make_key: Callable[..., str]
) -> None:
    key = make_key("pro")
    before = _total(invoke, load_event, key, "Animated")
    conn.execute("INSERT INTO movies (title, year, genre) VALUES ('Spirited Away Again', 2031, ARRAY['Animation'])")
    assert _total(invoke, load_event, key, "Animated") == before + 1
    answer = invoke(load_event("api", "search", key=key, query={"title": "spirited away again", "genre": "animated"}))
    assert [m["genre"] for m in answer["json"]["results"]] == [["Animation"]]  # shown as stored


def test_genres_lists_each_genre_once_under_its_commonest_spelling(
    load_event: Event, invoke: Invoke, make_key: Callable[..., str]
) -> None:
    genres = invoke(load_event("api", "genres", key=make_key("free")))["json"]["genres"]
    names = {g["name"]: g["count"] for g in genres}
    assert "Sport" not in names and "Animation" not in names and "History" not in names
    assert names["Sports"] > 459  # the catalogue's Sports (459) with its Sport (39)
    assert "Animated" in names and "Historical" in names


def test_the_admins_genre_filter_reads_the_synonyms(conn: Any) -> None:
    listed = admin_movies.list_movies(
        conn, filters=AdminMovieFilters(genre="animation"), sort="id.asc", page=1, per_page=5
    )
    assert listed.total_results > 30
    assert listed.results and all("Animated" in m.genre or "Animation" in m.genre for m in listed.results)
