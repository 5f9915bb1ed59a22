"""Every public route through the real Lambda entry point, with the event JSON of functions/api/events/."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

Event = Callable[..., dict[str, Any]]
Invoke = Callable[[dict[str, Any]], dict[str, Any]]
MOVIE_FIELDS = {
    "id",
    "title",
    "year",
    "genre",
    "director",
    "actors",
    "plot",
    "poster_url",
    "media_type",
    "release_date",
    "runtime",
    "rating",
    "popularity",
    "tmdb_id",
    "imdb_id",
    "original_language",
    "updated_at",
    "attribution",
}


@pytest.fixture
def key(make_key: Callable[..., str]) -> str:
    return make_key("pro")


def _movie_id(conn: Any, title: str, year: int) -> int:
    row = conn.execute("SELECT id FROM movies WHERE title = %s AND year = %s", (title, year)).fetchone()
    assert row is not None, f"{title} ({year}) is not in the bundled catalogue"
    return int(row["id"])


def test_list_movies_uses_the_tmdb_envelope_with_links(load_event: Event, invoke: Invoke, key: str) -> None:
    response = invoke(load_event("api", "list_movies", key=key))  # page 1, per_page 5, year.desc
    assert response["statusCode"] == 200
    body = response["json"]
    assert (body["page"], body["per_page"], len(body["results"])) == (1, 5, 5)
    # 36,243 movies: past the exact-count bound, so an estimate, and page numbers stop at 500.
    assert body["total_results"] > 30000 and body["total_results_exact"] is False
    assert body["total_pages"] == 500 and body["next_cursor"]
    years = [m["year"] for m in body["results"]]
    assert years == sorted(years, reverse=True)
    assert set(body["results"][0]) == MOVIE_FIELDS
    link = response["headers"]["link"]
    assert 'rel="next"' in link and 'rel="last"' in link and 'rel="prev"' not in link
    assert "https://1234567890.execute-api.us-east-1.amazonaws.com/prod/movies?" in link


def test_list_movies_can_filter_by_type(load_event: Event, invoke: Invoke, key: str) -> None:
    response = invoke(load_event("api", "list_movies", key=key, query={"type": "tv"}))
    assert response["statusCode"] == 200
    assert response["json"]["total_results"] == 0 and response["json"]["results"] == []


def test_get_movie_returns_the_movie_with_etag(conn: Any, load_event: Event, invoke: Invoke, key: str) -> None:
    movie_id = _movie_id(conn, "The Godfather", 1972)
    response = invoke(load_event("api", "get_movie", key=key, path_params={"id": str(movie_id)}))
    assert response["statusCode"] == 200
    movie = response["json"]
    assert movie["title"] == "The Godfather" and movie["year"] == 1972
    assert "Crime" in movie["genre"] and "Marlon Brando" in movie["actors"]
    assert response["headers"]["etag"].startswith('"')
    assert response["headers"]["cache-control"] == "private, max-age=300"
    # Times as every other response writes them (UTC with Z), and the moment the row holds.
    stored = conn.execute("SELECT updated_at FROM movies WHERE id = %s", (movie_id,)).fetchone()["updated_at"]
    assert movie["updated_at"].endswith("Z") and "+" not in movie["updated_at"]
    assert datetime.fromisoformat(movie["updated_at"]) == stored


def test_unknown_movie_is_a_404_problem(load_event: Event, invoke: Invoke, key: str) -> None:
    response = invoke(load_event("api", "get_movie", key=key, path_params={"id": "999999999"}))
    assert response["statusCode"] == 404
    assert response["headers"]["content-type"] == "application/problem+json"
    problem = response["json"]
    assert problem["code"] == "not_found" and problem["status"] == 404
    # The path the client asked for, under the stage (https://…/prod/movies/999999999): `/movies/999999999` alone
    # would resolve to a URL outside the API.
    assert problem["instance"] == "/prod/movies/999999999" and problem["request_id"]


def test_matching_if_none_match_gets_a_304(load_event: Event, invoke: Invoke, key: str, conn: Any) -> None:
    path = {"id": str(_movie_id(conn, "Casablanca", 1942))}
    first = invoke(load_event("api", "get_movie", key=key, path_params=path))
    etag = first["headers"]["etag"]
    again = invoke(
        load_event("api", "get_movie", key=key, path_params=path, headers={"If-None-Match": f'W/{etag}, "x"'})
    )
    assert again["statusCode"] == 304 and not again.get("body")
    assert again["headers"]["etag"] == etag
    stale = invoke(load_event("api", "get_movie", key=key, path_params=path, headers={"If-None-Match": '"stale"'}))
    assert stale["statusCode"] == 200


def test_search_is_typo_tolerant_and_ranked(load_event: Event, invoke: Invoke, key: str) -> None:
    response = invoke(load_event("api", "search", key=key, query={"title": "godfater"}))
    assert response["statusCode"] == 200
    titles = [m["title"] for m in response["json"]["results"]]
    assert titles[0] == "The Godfather"
    assert "The Godfather Part II" in titles[:5]


def test_search_combines_genre_and_year_range(load_event: Event, invoke: Invoke, key: str) -> None:
    query = {"genre": "western", "year_from": "1950", "year_to": "1959", "per_page": "100"}
    body = invoke(load_event("api", "search", key=key, query=query))["json"]
    assert body["total_results"] > 50
    assert all(1950 <= m["year"] <= 1959 and "Western" in m["genre"] for m in body["results"])


def test_search_by_exact_year(load_event: Event, invoke: Invoke, key: str) -> None:
    body = invoke(load_event("api", "search", key=key, query={"year": "1999", "per_page": "100"}))["json"]
    assert body["total_results"] > 100 and {m["year"] for m in body["results"]} == {1999}


def test_search_by_actor_ignores_case_and_accents(load_event: Event, invoke: Invoke, key: str) -> None:
    body = invoke(load_event("api", "search", key=key, query={"actor": "TOM HANKS", "per_page": "100"}))["json"]
    titles = {m["title"] for m in body["results"]}
    assert {"Forrest Gump", "Cast Away"} <= titles
    assert all(any("tom hanks" in a.lower() for a in m["actors"]) for m in body["results"])


def test_search_by_director(load_event: Event, invoke: Invoke, key: str) -> None:
    body = invoke(load_event("api", "search", key=key, query={"director": "hitchcock", "per_page": "100"}))["json"]
    assert body["total_results"] >= 10
    assert all("Hitchcock" in (m["director"] or "") for m in body["results"])


def test_free_text_searches_plot_and_people(load_event: Event, invoke: Invoke, key: str) -> None:
    body = invoke(load_event("api", "search", key=key, query={"q": "police chief hunts a great white shark"}))["json"]
    assert "Jaws" in [m["title"] for m in body["results"][:5]]


def test_search_sorts_and_pages(load_event: Event, invoke: Invoke, key: str) -> None:
    query = {"genre": "Comedy", "year": "1985", "sort": "title.asc", "page": "2", "per_page": "3"}
    body = invoke(load_event("api", "search", key=key, query=query))["json"]
    assert body["page"] == 2 and len(body["results"]) == 3
    titles = [m["title"].lower() for m in body["results"]]
    assert titles == sorted(titles)


def test_suggest_returns_up_to_ten_prefix_matches_first(load_event: Event, invoke: Invoke, key: str) -> None:
    response = invoke(load_event("api", "suggest", key=key, query={"q": "star w"}))
    assert response["statusCode"] == 200
    results = response["json"]["results"]
    assert 1 <= len(results) <= 10 and set(results[0]) == {"id", "title", "year"}
    # The first significant words start with it: "Star Wars", "The Star Witness".
    assert all(r["title"].lower().removeprefix("the ").startswith("star w") for r in results[:3])
    words = invoke(load_event("api", "suggest", key=key, query={"q": "godfa"}))["json"]["results"]
    assert "The Godfather" in [r["title"] for r in words]


@pytest.mark.slow
def test_genres_come_with_counts(load_event: Event, invoke: Invoke, key: str) -> None:
    genres = invoke(load_event("api", "genres", key=key))["json"]["genres"]
    counts = [g["count"] for g in genres]
    assert counts == sorted(counts, reverse=True) and counts[0] > 1000
    assert "Drama" in {g["name"] for g in genres}


@pytest.mark.slow  # over 0.35 s (README: the fast tier)
def test_genres_spelled_in_another_case_count_as_one(conn: Any, load_event: Event, invoke: Invoke, key: str) -> None:
    # an admin's form or a CSV may say `drama`; genre=Drama finds it, so /genres must not list a second Drama
    before = {g["name"]: g["count"] for g in invoke(load_event("api", "genres", key=key))["json"]["genres"]}
    conn.execute("INSERT INTO movies (title, year, genre) VALUES ('Lowercase Genre Film', 2001, ARRAY['drama'])")
    genres = invoke(load_event("api", "genres", key=key))["json"]["genres"]
    assert [g["count"] for g in genres if g["name"].lower() == "drama"] == [before["Drama"] + 1]
    assert next(g["name"] for g in genres if g["name"].lower() == "drama") == "Drama"


@pytest.mark.slow
def test_similar_movies_share_genres_or_people(conn: Any, load_event: Event, invoke: Invoke, key: str) -> None:
    movie_id = _movie_id(conn, "The Godfather", 1972)
    response = invoke(load_event("api", "similar_movies", key=key, path_params={"id": str(movie_id)}))
    assert response["statusCode"] == 200
    results = response["json"]["results"]
    assert results and movie_id not in [m["id"] for m in results]
    assert "The Godfather Part II" in [m["title"] for m in results]


def test_similar_for_an_unknown_movie_is_404(load_event: Event, invoke: Invoke, key: str) -> None:
    response = invoke(load_event("api", "similar_movies", key=key, path_params={"id": "999999999"}))
    assert response["statusCode"] == 404 and response["json"]["code"] == "not_found"


@pytest.mark.slow
def test_usage_reports_quota_without_counting(
    conn: Any, load_event: Event, invoke: Invoke, make_key: Callable[..., str]
) -> None:
    key = make_key("free")
    invoke(load_event("api", "genres", key=key))
    first = invoke(load_event("api", "usage", key=key))
    second = invoke(load_event("api", "usage", key=key))
    assert first["statusCode"] == 200 and first["json"] == second["json"]
    usage = first["json"]
    assert usage["plan"] == "free" and usage["daily_quota"] == 100 and usage["per_minute"] == 30
    assert {w["name"]: (w["used"], w["remaining"]) for w in usage["windows"]} == {"minute": (1, 29), "day": (1, 99)}
    assert first["headers"]["x-ratelimit-remaining"] == "29" and '"day";r=99' in first["headers"]["ratelimit"]


def test_health_needs_no_key_and_reports_the_database(load_event: Event, invoke: Invoke) -> None:
    response = invoke(load_event("api", "health"))
    assert response["statusCode"] == 200
    assert response["json"]["status"] == "ok" and response["json"]["movies"] > 30000


def test_openapi_documents_every_route_and_the_key_schemes(load_event: Event, invoke: Invoke) -> None:
    spec = invoke(load_event("api", "openapi"))["json"]
    assert set(spec["paths"]) == {
        "/movies",
        "/movies/{id}",
        "/movies/{id}/similar",
        "/movies/trending",
        "/movies/popular",
        "/movies/upcoming",
        "/movies/now_playing",
        "/search",
        "/search/suggest",
        "/genres",
        "/usage",
        "/health",
    }
    assert set(spec["components"]["securitySchemes"]) == {"ApiKeyHeader", "BearerKey"}
    assert "security" in spec["paths"]["/movies"]["get"] and "security" not in spec["paths"]["/health"]["get"]


@pytest.mark.slow
def test_routes_without_parameters_document_no_422_and_ignore_what_is_sent(
    load_event: Event, invoke: Invoke, key: str
) -> None:
    spec = invoke(load_event("api", "openapi"))["json"]
    for path in ("/genres", "/usage", "/health"):
        assert "422" not in spec["paths"][path]["get"]["responses"], path
        assert "parameters" not in spec["paths"][path]["get"], path
    assert "422" in spec["paths"]["/movies/{id}"]["get"]["responses"]
    query = [("page", "-1"), ("page", "2"), ("type", "film")]
    for event in (load_event("api", "genres", key=key, query=query), load_event("api", "usage", key=key, query=query)):
        assert invoke(event)["statusCode"] == 200
    assert invoke(load_event("api", "health", query=query))["statusCode"] == 200


def test_docs_load_the_spec_under_the_stage(load_event: Event, invoke: Invoke) -> None:
    response = invoke(load_event("api", "docs"))
    assert response["statusCode"] == 200 and "text/html" in response["headers"]["content-type"]
    assert "/prod/openapi.json" in response["body"]


@pytest.mark.slow
def test_every_response_has_a_request_id_and_cors(load_event: Event, invoke: Invoke, key: str) -> None:
    for response in (invoke(load_event("api", "health")), invoke(load_event("api", "genres", key=key))):
        assert response["headers"]["x-request-id"] == "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
        assert response["headers"]["access-control-allow-origin"] == "http://127.0.0.1:8080"
        assert "X-RateLimit-Remaining" in response["headers"]["access-control-expose-headers"]


@pytest.mark.slow
def test_keyed_responses_carry_rate_limit_headers(
    load_event: Event, invoke: Invoke, make_key: Callable[..., str]
) -> None:
    headers = invoke(load_event("api", "genres", key=make_key("free")))["headers"]
    # After one request the minute window (29 of 30 left) bites before the day (99 of 100).
    assert headers["x-ratelimit-limit"] == "30" and headers["x-ratelimit-remaining"] == "29"
    assert int(headers["x-ratelimit-reset"]) > 0
    assert headers["ratelimit-policy"] == '"minute";q=30;w=60, "day";q=100;w=86400'
    assert headers["ratelimit"].startswith('"minute";r=29;t=') and '"day";r=99;t=' in headers["ratelimit"]
