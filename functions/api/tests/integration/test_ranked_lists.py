"""TMDB's lists through the API's real handler: empty before any sync, ranked after one, `type=tv`, attribution."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from movie_common.db import tmdb
from movie_common.db.movies import TMDB_NOTICE
from movie_common.db.tmdb import TmdbTitle

Event = Callable[..., dict[str, Any]]
Invoke = Callable[[dict[str, Any]], dict[str, Any]]
LISTS = ("trending", "popular", "upcoming", "now_playing")


@pytest.fixture
def key(make_key: Callable[..., str]) -> str:
    return make_key("pro")


def ranked(load_event: Event, list_name: str, *, key: str, query: dict[str, str] | None = None) -> dict[str, Any]:
    path = f"/movies/{list_name}"
    return load_event("api", "trending_movies", key=key, query=query or None, resource=path, path=path)


def title(media_type: str, tmdb_id: int, name: str, year: int) -> TmdbTitle:
    return TmdbTitle(
        media_type=media_type,
        tmdb_id=tmdb_id,
        title=name,
        year=year,
        release_date=None,
        genre=["Drama"],
        director="Someone",
        actors=["A", "B"],
        plot="A plot.",
        poster_url=f"https://image.tmdb.org/t/p/w500/{tmdb_id}.jpg",
        imdb_id=None,
        runtime=100,
        rating=Decimal("7.5"),
        popularity=50.0,
        original_language="en",
    )


@pytest.mark.slow
@pytest.mark.parametrize("list_name", LISTS)
def test_lists_answer_an_empty_page_before_any_sync(
    conn: Any, load_event: Event, invoke: Invoke, key: str, list_name: str
) -> None:
    conn.execute("DELETE FROM tmdb_list_ranks")
    response = invoke(ranked(load_event, list_name, key=key))
    assert response["statusCode"] == 200
    assert response["json"] == {
        "page": 1,
        "per_page": 20,
        "results": [],
        "total_results": 0,
        "total_pages": 0,
        "total_results_exact": True,
        "next_cursor": None,
    }


@pytest.mark.slow
def test_lists_serve_the_latest_ranks_in_order_with_tmdb_attribution(
    conn: Any, load_event: Event, invoke: Invoke, key: str
) -> None:
    fetched = datetime(2026, 11, 20, tzinfo=UTC)
    for n in range(1, 13):
        tmdb.upsert_title(conn, title("movie", 9_000 + n, f"Ranked Film {n}", 2025), fetched_at=fetched)
    tmdb.upsert_title(conn, title("tv", 9_001, "Ranked Show", 2024), fetched_at=fetched)  # same id, other space
    order = [9_000 + n for n in (12, 3, 7, 1, 2, 4, 5, 6, 8, 9, 10, 11)]
    tmdb.replace_list_ranks(conn, list_name="popular", media_type="movie", tmdb_ids=[*order, 123_456])
    tmdb.replace_list_ranks(conn, list_name="popular", media_type="tv", tmdb_ids=[9_001])
    tmdb.mark_gone(conn, media_type="movie", tmdb_id=9_005, at=fetched)

    first = invoke(ranked(load_event, "popular", key=key, query={"page": "1", "per_page": "5"}))
    second = invoke(ranked(load_event, "popular", key=key, query={"page": "2", "per_page": "5"}))

    assert first["statusCode"] == 200
    body = first["json"]
    # 123456 has no details yet and 9005 is gone from TMDB: neither is listed.
    assert (body["total_results"], body["total_pages"]) == (11, 3)
    assert [m["tmdb_id"] for m in body["results"]] == [9_012, 9_003, 9_007, 9_001, 9_002]
    assert [m["tmdb_id"] for m in second["json"]["results"]] == [9_004, 9_006, 9_008, 9_009, 9_010]
    assert 'rel="next"' in first["headers"]["link"]
    movie = body["results"][0]
    assert movie["attribution"] == {
        "source": "TMDB",
        "notice": TMDB_NOTICE,
        "url": "https://www.themoviedb.org/movie/9012",
    }
    assert movie["original_language"] == "en"

    tv = invoke(ranked(load_event, "popular", key=key, query={"type": "tv"}))
    assert [(m["title"], m["media_type"]) for m in tv["json"]["results"]] == [("Ranked Show", "tv")]
    assert tv["json"]["results"][0]["attribution"]["url"] == "https://www.themoviedb.org/tv/9001"


@pytest.mark.parametrize("list_name", ["upcoming", "now_playing"])
def test_film_only_lists_refuse_type_tv_naming_the_parameter(
    load_event: Event, invoke: Invoke, key: str, list_name: str
) -> None:
    response = invoke(ranked(load_event, list_name, key=key, query={"type": "tv"}))
    assert response["statusCode"] == 422
    problem = response["json"]
    assert problem["code"] == "validation_error"
    assert [e["name"] for e in problem["errors"]] == ["type"]


def test_catalogue_rows_without_tmdb_data_carry_no_attribution(
    conn: Any, load_event: Event, invoke: Invoke, key: str
) -> None:
    movie_id = conn.execute("SELECT id FROM movies WHERE tmdb_id IS NULL LIMIT 1").fetchone()["id"]
    response = invoke(load_event("api", "get_movie", key=key, path_params={"id": str(movie_id)}))
    assert response["json"]["attribution"] is None
