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


@pytest.mark.slow
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


# ---------------------------------------------------------------- genres named as pairs (migration 0014)
def _tv_show(conn: Any, title: str, genres: list[str]) -> int:
    row = conn.execute(
        "INSERT INTO movies (title, year, genre, media_type) VALUES (%s, 2031, %s, 'tv') RETURNING id",
        (title, genres),
    ).fetchone()
    return int(row["id"])


@pytest.mark.parametrize(
    ("stored", "typed"),
    [
        ("Sci-Fi & Fantasy", "Science Fiction"),
        ("Sci-Fi & Fantasy", "sci-fi"),
        ("Sci-Fi & Fantasy", "fantasy"),
        ("Action & Adventure", "Action"),
        ("Action & Adventure", "adventure"),
        ("War & Politics", "War"),
        ("War & Politics", "politics"),
        ("Action/Adventure", "action"),
        ("Sci-Fi & Fantasy", "Sci-Fi & Fantasy"),  # the pair itself: both of its genres
    ],
)
def test_a_genre_named_as_a_pair_is_found_under_each_of_its_parts(
    conn: Any, load_event: Event, invoke: Invoke, make_key: Callable[..., str], stored: str, typed: str
) -> None:
    # TMDB's TV genres: the sync and CSV ingest store them as given.
    _tv_show(conn, "The Pair Show", [stored, "Drama"])
    answer = invoke(
        load_event("api", "search", key=make_key("pro"), query={"title": "the pair show", "genre": typed, "type": "tv"})
    )
    assert answer["statusCode"] == 200, answer["body"]
    assert [m["genre"] for m in answer["json"]["results"]] == [[stored, "Drama"]]  # shown as stored


def test_a_pair_asks_for_both_of_its_genres(
    conn: Any, load_event: Event, invoke: Invoke, make_key: Callable[..., str]
) -> None:
    _tv_show(conn, "Only Fantasy Here", ["Fantasy"])
    _tv_show(conn, "Both Here", ["Science Fiction", "Fantasy"])
    answer = invoke(
        load_event("api", "search", key=make_key("pro"), query={"genre": "Sci-Fi & Fantasy", "year": "2031"})
    )
    assert [m["title"] for m in answer["json"]["results"]] == ["Both Here"]


def test_a_tv_show_of_a_pair_shares_genres_with_films_for_similar(
    conn: Any, load_event: Event, invoke: Invoke, make_key: Callable[..., str]
) -> None:
    show = _tv_show(conn, "Starship Pairs", ["Sci-Fi & Fantasy"])
    answer = invoke(load_event("api", "similar_movies", key=make_key("pro"), path_params={"id": str(show)}))
    assert answer["statusCode"] == 200, answer["body"]
    similar = answer["json"]["results"]
    assert similar, "a Sci-Fi & Fantasy show is like the catalogue's science-fiction and fantasy films"
    assert all({"Science Fiction", "Fantasy"} & set(m["genre"]) for m in similar[:20])


@pytest.mark.slow
def test_genres_lists_the_parts_of_a_pair_and_counts_each_movie_once(
    conn: Any, load_event: Event, invoke: Invoke, make_key: Callable[..., str]
) -> None:
    _tv_show(conn, "Pair One", ["Sci-Fi & Fantasy", "War & Politics"])
    _tv_show(conn, "Twice Named", ["Sci-Fi", "Science Fiction", "sci fi"])  # one genre, three names
    genres = invoke(load_event("api", "genres", key=make_key("free")))["json"]["genres"]
    names = {g["name"]: g["count"] for g in genres}
    assert not [name for name in names if "&" in name]
    assert names["Politics"] == 1  # named only by a pair: its key in title case
    for name, key in (("Science Fiction", "science fiction"), ("Fantasy", "fantasy"), ("War", "war")):
        movies = conn.execute("SELECT count(*) AS n FROM movies WHERE genre_keys @> ARRAY[%s]", (key,)).fetchone()
        assert names[name] == movies["n"], name
    assert sum(1 for g in genres if g["name"].lower() in {"sci-fi", "science fiction", "sci fi"}) == 1


def test_the_admins_genre_filter_reads_pairs(conn: Any) -> None:
    _tv_show(conn, "Admin Pair Show", ["Action & Adventure"])
    listed = admin_movies.list_movies(
        conn, filters=AdminMovieFilters(genre="adventure", search="admin pair show"), sort="id.asc", page=1, per_page=5
    )
    assert [m.title for m in listed.results] == ["Admin Pair Show"]
