"""The `Link` header of every list route, through the API function's real Lambda entry point: its URLs carry the
parameters the route recognised, in the form it parsed them, never the request's own query string. A tester found
that every link echoed the whole query: `GET /search?title=god&utm=<6,000 x's>&per_page=1` answered ~19 KB of
headers (Node reads 16 KB at most), and `genre=Drama,Drama,…` 3,000 times was accepted and gave a 72 KB `link`
line (Python's http.client refuses lines past 64 KB)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from movie_api.services import MAX_GENRES, MAX_LINK_QUERY
from movie_common.db import tmdb
from movie_common.db.tmdb import TmdbTitle

Event = Callable[..., dict[str, Any]]
Invoke = Callable[[dict[str, Any]], dict[str, Any]]

# What a list's headers may weigh whatever the request holds (rate-limit, CORS, request id and the links); a few KB.
HEADERS_BOUND = 3000
EVENT_HOST = "1234567890.execute-api.us-east-1.amazonaws.com"  # the Host of the events in functions/api/events
# Parameters no route reads and that resemble none it does (those spelt like one, `genre[]` or `Title`, are a 422
# naming the one meant since the twelfth session: test_parameters_and_pages).
JUNK = [("utm", "x" * 6000), ("utm", "y"), ("colour[]", "red"), ("X" * 300, "1"), ("Language", "en-US")]


@pytest.fixture
def key(make_key: Callable[..., str]) -> str:
    return make_key("unlimited")


def _headers_size(response: dict[str, Any]) -> int:
    return sum(len(name) + len(value) + 4 for name, value in response["headers"].items())


def _links(response: dict[str, Any]) -> dict[str, str]:
    header = response["headers"].get("link", "")
    return {rel: url for url, rel in re.findall(r'<([^>]*)>; rel="(\w+)"', header)}


def _query(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)


def _raw_query(url: str) -> str:
    return urlsplit(url).query


def _without_paging(url: str) -> list[tuple[str, str]]:
    return [(name, value) for name, value in _query(url) if name not in ("page", "cursor")]


# ------------------------------------------------------------------------------------------ the tester's instances


def test_an_unknown_parameter_is_not_echoed_so_the_headers_stay_small(
    load_event: Event, invoke: Invoke, key: str
) -> None:
    response = invoke(
        load_event("api", "search", key=key, query=[("title", "god"), ("utm", "x" * 6000), ("per_page", "1")])
    )
    assert response["statusCode"] == 200
    links = _links(response)
    assert set(links) == {"first", "next", "last"}
    assert "utm" not in response["headers"]["link"] and "xxx" not in response["headers"]["link"]
    for rel, url in links.items():
        assert _without_paging(url) == [("title", "god"), ("per_page", "1")], rel
    assert _headers_size(response) < HEADERS_BOUND  # was about 19 KB


def test_three_thousand_repeats_of_a_genre_are_refused_after_the_tenth_with_small_headers(
    load_event: Event, invoke: Invoke, key: str
) -> None:
    response = invoke(load_event("api", "search", key=key, query=[("genre", ",".join(["Drama"] * 3000))]))
    assert response["statusCode"] == 422, response["body"][:300]
    problem = response["json"]
    assert problem["code"] == "validation_error"
    assert [(e["name"], e["reason"]) for e in problem["errors"]] == [
        ("genre", f"at most {MAX_GENRES} genres, each repeat counted")
    ]
    assert "link" not in response["headers"]
    assert _headers_size(response) < HEADERS_BOUND and len(response["body"]) < 1000  # was a 72 KB link line


@pytest.mark.slow
def test_a_genre_repeated_as_three_thousand_parameters_is_refused_too(
    load_event: Event, invoke: Invoke, key: str
) -> None:
    response = invoke(load_event("api", "search", key=key, query=[("genre", "Drama")] * 3000))
    assert response["statusCode"] == 422
    assert response["json"]["code"] == "validation_error"
    assert {e["name"] for e in response["json"]["errors"]} == {"genre"}
    assert _headers_size(response) < HEADERS_BOUND


def test_repeats_count_towards_the_genre_limit(load_event: Event, invoke: Invoke, key: str) -> None:
    def search(genres: list[str]) -> dict[str, Any]:
        return invoke(load_event("api", "search", key=key, query=[("genre", ",".join(genres)), ("per_page", "1")]))

    ten = search(["Drama"] * MAX_GENRES)
    assert ten["statusCode"] == 200 and ten["json"]["total_results"] > 0
    assert _query(_links(ten)["first"])[0] == ("genre", "Drama")
    assert search(["Drama"] * (MAX_GENRES + 1))["statusCode"] == 422
    assert search(["Drama", "", " ", *["Drama"] * (MAX_GENRES - 1), ""])["statusCode"] == 200  # blanks do not count


@pytest.mark.slow
def test_links_carry_the_canonical_genre_list(load_event: Event, invoke: Invoke, key: str) -> None:
    sent = [("genre", "Drama"), ("genre", " Comedy ,Drama,"), ("genre", "Dr\u200bama"), ("utm", "x"), ("per_page", "5")]
    response = invoke(load_event("api", "search", key=key, query=sent))
    assert response["statusCode"] == 200
    links = _links(response)
    assert set(links) == {"first", "next", "last"}
    for url in links.values():
        assert _raw_query(url).startswith("genre=Drama,Comedy&per_page=5&")  # once each, in the order first sent
    comma = invoke(load_event("api", "search", key=key, query=[("genre", "Drama,Comedy"), ("per_page", "5")]))
    assert response["json"]["results"] == comma["json"]["results"]
    assert response["headers"]["link"] == comma["headers"]["link"]  # the same search, the same links and cursor
    following = invoke(load_event("api", "search", key=key, query=_raw_query(links["next"])))
    assert following["statusCode"] == 200 and following["json"]["page"] == 2
    readme = [("genre", "Drama"), ("genre", "Comedy,Drama"), ("utm", "x"), ("per_page", "5")]  # README's example
    first = _links(invoke(load_event("api", "search", key=key, query=readme)))["first"]
    assert first.endswith("/prod/search?genre=Drama,Comedy&per_page=5&page=1")


def test_texts_go_into_links_as_the_search_read_them_and_the_cursor_still_fits(
    load_event: Event, invoke: Invoke, key: str
) -> None:
    sent = [("title", "  god\u200b  father "), ("year_from", "1970"), ("sort", "relevance"), ("per_page", "1")]
    response = invoke(load_event("api", "search", key=key, query=sent))
    assert response["statusCode"] == 200
    links = _links(response)
    assert _without_paging(links["next"]) == [("title", "god father"), ("year_from", "1970"), ("per_page", "1")]
    following = invoke(load_event("api", "search", key=key, query=_raw_query(links["next"])))
    assert following["statusCode"] == 200, following["body"]  # the cursor belongs to the query the link names
    assert following["json"]["page"] == 2


@pytest.mark.parametrize(
    ("name", "composed", "decomposed"),
    [("title", "café", "cafe\u0301"), ("q", "café", "cafe\u0301"), ("director", "François", "Franc\u0327ois")],
)
def test_a_decomposed_accent_is_the_same_text_its_links_and_cursors_those_of_the_composed_one(
    load_event: Event, invoke: Invoke, key: str, name: str, composed: str, decomposed: str
) -> None:
    """`e` + U+0301 is `é` by Unicode's definition (NFC); macOS and some keyboards send it so. A cursor of one was
    refused on the other as another query, and the links repeated the decomposed form. Found by the twenty-first
    tester."""
    first = invoke(load_event("api", "search", key=key, query=[(name, composed), ("per_page", "1")]))
    assert first["statusCode"] == 200 and first["json"]["next_cursor"], first["json"]
    other = invoke(load_event("api", "search", key=key, query=[(name, decomposed), ("per_page", "1")]))
    assert other["json"] == first["json"]
    assert _links(other) == _links(first)
    assert (name, composed) in _without_paging(_links(other)["next"])
    cursor = [(name, decomposed), ("per_page", "1"), ("cursor", first["json"]["next_cursor"])]
    following = invoke(load_event("api", "search", key=key, query=cursor))
    assert following["statusCode"] == 200, following["json"]
    assert following["json"]["page"] == 2


@pytest.mark.parametrize(
    ("name", "first_text", "other_text"),
    [
        ("title", "godfather", "GODFATHER"),
        ("q", "star", "STAR"),
        ("director", "spielberg", "Spielberg"),
        ("title", "godfather", "\uff47odfather"),  # a full-width g, as an IME types it
        ("title", "cafe", "Café"),
    ],
)
def test_a_cursor_fits_the_same_text_in_another_case_or_form(
    load_event: Event, invoke: Invoke, key: str, name: str, first_text: str, other_text: str
) -> None:
    """Search folds case, width and accents: `title=GODFATHER` finds what `title=godfather` finds, but a cursor of one
    was refused on the other as another query. Found by the twenty-first tester."""
    first = invoke(load_event("api", "search", key=key, query=[(name, first_text), ("per_page", "1")]))
    assert first["statusCode"] == 200 and first["json"]["next_cursor"], first["json"]
    cursor = [(name, other_text), ("per_page", "1"), ("cursor", first["json"]["next_cursor"])]
    following = invoke(load_event("api", "search", key=key, query=cursor))
    assert following["statusCode"] == 200, following["json"]
    assert following["json"]["page"] == 2
    direct = invoke(load_event("api", "search", key=key, query=[(name, other_text), ("per_page", "1"), ("page", "2")]))
    assert following["json"]["results"] == direct["json"]["results"]


def test_a_cursor_fits_the_same_genres_in_another_case_or_order(load_event: Event, invoke: Invoke, key: str) -> None:
    # genres match whatever their case: a cursor of genre=Drama was refused on genre=drama (the eleventh tester)
    response = invoke(load_event("api", "search", key=key, query=[("genre", "Drama,Comedy"), ("per_page", "1")]))
    cursor = response["json"]["next_cursor"]
    assert cursor
    again = invoke(
        load_event("api", "search", key=key, query=[("genre", "comedy,DRAMA"), ("per_page", "1"), ("cursor", cursor)])
    )
    assert again["statusCode"] == 200, again["body"]
    other = invoke(
        load_event("api", "search", key=key, query=[("genre", "Horror"), ("per_page", "1"), ("cursor", cursor)])
    )
    assert other["statusCode"] == 422  # other genres are another query


def test_sort_and_type_are_in_links_unless_they_are_the_default(load_event: Event, invoke: Invoke, key: str) -> None:
    def first(route: str, pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
        response = invoke(load_event("api", route, key=key, query=pairs))
        assert response["statusCode"] == 200, response["body"]
        return _without_paging(_links(response)["first"])

    assert first("list_movies", [("sort", "popularity.desc")]) == [("per_page", "20")]
    assert first("list_movies", [("type", "movie"), ("sort", "year.desc"), ("per_page", "3")]) == [
        ("per_page", "3"),
        ("sort", "year.desc"),
        ("type", "movie"),
    ]
    # Without title or q, relevance is popularity, the default; with title, popularity is not the default.
    assert first("search", [("genre", "Drama"), ("sort", "relevance")]) == [("genre", "Drama"), ("per_page", "20")]
    assert first("search", [("title", "love"), ("sort", "popularity.desc")]) == [
        ("title", "love"),
        ("per_page", "20"),
        ("sort", "popularity.desc"),
    ]


def test_a_search_too_long_for_its_links_is_refused_before_it_runs(load_event: Event, invoke: Invoke, key: str) -> None:
    # 200 characters (title's limit) of 4-byte UTF-8 are 2,400 bytes percent-encoded: four links of them were
    # 10 KB. Refused, naming `query`, before the database reads the title.
    emoji = invoke(load_event("api", "search", key=key, query=[("title", "\U0001f600" * 200)]))
    assert emoji["statusCode"] == 422
    assert [e["name"] for e in emoji["json"]["errors"]] == ["query"]
    assert f"at most {MAX_LINK_QUERY}" in emoji["json"]["errors"][0]["reason"]
    # Long titles in other scripts and every filter at once still fit.
    accents = "\u00e9" * 100
    accepted = invoke(
        load_event(
            "api",
            "search",
            key=key,
            query=[("title", accents), ("director", "d" * 100), ("actor", "a" * 100), ("genre", "Drama,Comedy")],
        )
    )
    assert accepted["statusCode"] == 200, accepted["body"]


# ------------------------------------------------------------------------------------------- every list route


def _ranked_titles(conn: Any) -> None:
    fetched = datetime(2026, 11, 20, tzinfo=UTC)
    for media_type in ("movie", "tv"):
        ids = [70_000 + n for n in range(12)]
        for tmdb_id in ids:
            tmdb.upsert_title(
                conn,
                TmdbTitle(
                    media_type=media_type,
                    tmdb_id=tmdb_id,
                    title=f"Linked {media_type} {tmdb_id}",
                    year=2025,
                    release_date=None,
                    genre=["Drama"],
                    director="Someone",
                    actors=["A"],
                    plot="A plot.",
                    poster_url=None,
                    imdb_id=None,
                    runtime=100,
                    rating=Decimal("7.0"),
                    popularity=10.0,
                    original_language="en",
                ),
                fetched_at=fetched,
            )
        for list_name in ("trending", "popular", "upcoming", "now_playing"):
            if media_type == "tv" and list_name in ("upcoming", "now_playing"):
                continue
            tmdb.replace_list_ranks(conn, list_name=list_name, media_type=media_type, tmdb_ids=ids)


# (event, path, the parameters sent that the route knows, what its links carry before page or cursor)
ROUTES = [
    ("list_movies", "/movies", [("sort", "year.desc"), ("type", "movie"), ("per_page", "3")],
     [("per_page", "3"), ("sort", "year.desc"), ("type", "movie")]),
    ("search", "/search", [("genre", "Drama,Drama"), ("year_from", "1990"), ("q", "love"), ("per_page", "3")],
     [("genre", "Drama"), ("year_from", "1990"), ("q", "love"), ("per_page", "3")]),
    ("similar_movies", None, [("per_page", "3")], [("per_page", "3")]),
    ("trending_movies", "/movies/trending", [("type", "tv"), ("per_page", "3")], [("per_page", "3"), ("type", "tv")]),
    ("trending_movies", "/movies/popular", [("per_page", "3")], [("per_page", "3")]),
    ("trending_movies", "/movies/upcoming", [("type", "movie"), ("per_page", "3")], [("per_page", "3")]),
    ("trending_movies", "/movies/now_playing", [("per_page", "3")], [("per_page", "3")]),
]  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize(
    ("event", "path", "sent", "carried"), ROUTES, ids=[r[1] or "/movies/{id}/similar" for r in ROUTES]
)
def test_every_list_route_links_only_what_it_recognised_on_number_and_cursor_pages(
    conn: Any,
    load_event: Event,
    invoke: Invoke,
    key: str,
    event: str,
    path: str | None,
    sent: list[tuple[str, str]],
    carried: list[tuple[str, str]],
) -> None:
    """Unknown, repeated-unknown, oversized and miscased parameters around the known ones, on the first page, a
    page reached by the `next` link (a cursor page on the lists that have cursors), and the last numbered page."""
    if event == "trending_movies":
        _ranked_titles(conn)
    where: dict[str, Any] = {"resource": path, "path": path} if path else {}
    if event == "similar_movies":
        movie = conn.execute("SELECT id FROM movies WHERE title = 'The Godfather' AND year = 1972").fetchone()["id"]
        where = {"path": f"/movies/{movie}/similar", "path_params": {"id": str(movie)}}

    def links_of(pairs: list[tuple[str, str]], *, required: set[str], allowed: set[str]) -> dict[str, str]:
        response = invoke(load_event("api", event, key=key, query=[*JUNK, *pairs, *JUNK], **where))
        assert response["statusCode"] == 200, response["body"][:300]
        assert _headers_size(response) < HEADERS_BOUND
        links = _links(response)
        assert required <= set(links) <= allowed, response["headers"].get("link")
        for rel, url in links.items():
            assert urlsplit(url).path == "/prod" + where["path"], rel
            assert _without_paging(url) == carried, rel
            assert [name for name, _ in _query(url)][-1] in ("page", "cursor"), rel
        return links

    every = {"first", "prev", "next", "last"}
    first = links_of(sent, required={"first", "next", "last"}, allowed={"first", "next", "last"})
    by_cursor = "cursor" in dict(_query(first["next"]))
    assert by_cursor == (event != "trending_movies")  # TMDB's ranked lists page by number only
    # A cursor page has no `prev`; a numbered page 2 has one.
    second = links_of(
        _query(first["next"]),
        required={"first", "next", "last"} | (set() if by_cursor else {"prev"}),
        allowed=every - ({"prev"} if by_cursor else set()),
    )
    if by_cursor:
        assert "cursor" in dict(_query(second["next"]))
    links_of(_query(first["last"]), required={"first", "prev", "last"}, allowed=every)


# --------------------------------------------------------------------------------------- what clients rely on today

README = Path(__file__).resolve().parents[4] / "README.md"
EXAMPLE = re.compile(
    r'curl -i -H "X-API-KEY: \$MARQUEE_KEY" "http://127\.0\.0\.1:8000(/[^"]+)"\n```\n\n```http\n(.*?)\n\n', re.S
)


@pytest.mark.slow
def test_the_readme_link_examples_come_out_byte_for_byte(load_event: Event, invoke: Invoke, key: str) -> None:
    """The README's captured examples (same bundled catalogue): their `link` lines, cursors included, unchanged."""
    checked = 0
    for url, head in EXAMPLE.findall(README.read_text()):
        expected = re.search(r"^link: (.*)$", head, re.M)
        if expected is None:
            continue
        parts = urlsplit(url)
        where: dict[str, Any] = {"path": parts.path, "query": parts.query}
        if parts.path.endswith("/similar"):
            event, where["path_params"] = "similar_movies", {"id": parts.path.split("/")[2]}
        else:
            event = {"/movies": "list_movies", "/search": "search"}[parts.path]
        link = invoke(load_event("api", event, key=key, **where))["headers"]["link"]
        assert link.replace(f"https://{EVENT_HOST}/prod", "http://127.0.0.1:8000") == expected.group(1), url
        checked += 1
    assert checked >= 8
