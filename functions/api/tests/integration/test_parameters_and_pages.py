"""Parameters and pages as clients send and follow them, through the API function's real Lambda entry point:
repeated parameters, unrecognised ones, LIKE wildcards in any width, links that never point at a refused page,
cursors that walk everything, and the real totals past the end on every list route."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

Event = Callable[..., dict[str, Any]]
Invoke = Callable[[dict[str, Any]], dict[str, Any]]


@pytest.fixture
def key(make_key: Callable[..., str]) -> str:
    return make_key("unlimited")


def _get(invoke: Invoke, load_event: Event, key: str, route: str, pairs: list[tuple[str, str]], **kw: Any) -> Any:
    """A request with these query pairs (a repeated name is a repeated parameter, as API Gateway passes it)."""
    return invoke(load_event("api", route, key=key, query=pairs, **kw))


def _ids(response: dict[str, Any]) -> list[int]:
    return [movie["id"] for movie in response["json"]["results"]]


def _links(response: dict[str, Any]) -> dict[str, str]:
    header = response["headers"].get("link", "")
    return {rel: url for url, rel in re.findall(r'<([^>]*)>; rel="(\w+)"', header)}


def _query_of(url: str) -> list[tuple[str, str]]:
    return [(k, v) for k, values in parse_qs(urlsplit(url).query).items() for v in values]


# ------------------------------------------------------------------------------------------------ repeated parameters


def test_a_repeated_genre_takes_every_value_like_the_comma_form(load_event: Event, invoke: Invoke, key: str) -> None:
    repeated = _get(invoke, load_event, key, "search", [("genre", "Drama"), ("genre", "Comedy"), ("per_page", "100")])
    comma = _get(invoke, load_event, key, "search", [("genre", "Drama,Comedy"), ("per_page", "100")])
    comedy = _get(invoke, load_event, key, "search", [("genre", "Comedy"), ("per_page", "100")])
    assert repeated["statusCode"] == 200
    assert repeated["json"]["total_results"] == comma["json"]["total_results"] > 0
    assert repeated["json"]["total_results"] < comedy["json"]["total_results"]  # not Comedy alone (the old bug)
    assert _ids(repeated) == _ids(comma)
    assert all({"Drama", "Comedy"} <= set(m["genre"]) for m in repeated["json"]["results"])


@pytest.mark.parametrize(
    ("route", "pairs", "name"),
    [
        ("search", [("year", "1999"), ("year", "2000")], "year"),
        ("search", [("title", "alien"), ("title", "aliens")], "title"),
        ("search", [("genre", "Drama"), ("sort", "year.desc"), ("sort", "year.asc")], "sort"),
        ("list_movies", [("per_page", "5"), ("per_page", "50")], "per_page"),
        ("list_movies", [("page", "1"), ("page", "2")], "page"),
        ("suggest", [("q", "star"), ("q", "war")], "q"),
    ],
)
def test_a_repeated_single_valued_parameter_is_a_422_naming_it(
    load_event: Event, invoke: Invoke, key: str, route: str, pairs: list[tuple[str, str]], name: str
) -> None:
    response = _get(invoke, load_event, key, route, pairs)
    assert response["statusCode"] == 422, response["body"]
    assert response["json"]["code"] == "validation_error"
    assert [e["name"] for e in response["json"]["errors"]] == [name]
    assert "more than once" in response["json"]["errors"][0]["reason"]


def test_a_search_without_a_recognised_filter_names_what_it_ignored(
    load_event: Event, invoke: Invoke, key: str
) -> None:
    response = _get(invoke, load_event, key, "search", [("colour", "red"), ("per_page", "5")])
    assert response["statusCode"] == 422
    problem = response["json"]
    assert "colour" in problem["detail"]
    names = {e["name"]: e["reason"] for e in problem["errors"]}
    assert set(names) == {"query", "colour"} and "not a search parameter" in names["colour"]


# A parameter the route reads under another spelling (case, separators, `[]`, a plural) or under the name another API
# gives it (TMDB's sort_by, OMDb's s/y, limit): ignoring it answered another question (the default order, page 1).
@pytest.mark.parametrize(
    ("route", "pairs", "name", "meant"),
    [
        ("list_movies", [("sort_by", "vote_average.desc")], "sort_by", "sort"),
        ("list_movies", [("Page", "2")], "Page", "page"),
        ("list_movies", [("perPage", "5")], "perPage", "per_page"),
        ("list_movies", [("per-page", "5")], "per-page", "per_page"),
        ("list_movies", [("limit", "5")], "limit", "per_page"),
        ("list_movies", [("media_type", "tv")], "media_type", "type"),
        ("trending_movies", [("PAGE", "2")], "PAGE", "page"),
        ("similar_movies", [("Per_Page", "5")], "Per_Page", "per_page"),
        ("search", [("title", "heat"), ("genre[]", "Drama")], "genre[]", "genre"),
        ("search", [("genres", "Drama")], "genres", "genre"),
        ("search", [("query", "heat")], "query", "title or q"),
        ("search", [("s", "heat")], "s", "title"),
        ("search", [("title", "heat"), ("primary_release_year", "1995")], "primary_release_year", "year"),
        ("search", [("title", "heat"), ("Year", "1995")], "Year", "year"),
        ("search", [("genre", "Drama"), ("with_cast", "Pacino")], "with_cast", "actor"),
        ("suggest", [("Q", "star")], "Q", "q"),
    ],
)
def test_a_parameter_spelt_like_one_the_route_reads_is_a_422_naming_the_one_meant(
    load_event: Event, invoke: Invoke, key: str, route: str, pairs: list[tuple[str, str]], name: str, meant: str
) -> None:
    response = _get(invoke, load_event, key, route, pairs)
    assert response["statusCode"] == 422, response["body"]
    problem = response["json"]
    assert problem["code"] == "validation_error"
    assert [(e["name"], e["in"]) for e in problem["errors"]] == [(name, "query")]
    assert problem["errors"][0]["reason"] == f"not a parameter of this route; did you mean {meant}?"
    assert f"{name} (did you mean {meant}?)" in problem["detail"]


@pytest.mark.parametrize(
    ("route", "pairs", "name", "meant"),
    [
        ("list_movies", [("year", "abc")], "year", "year"),
        ("list_movies", [("year", "1999")], "year", "year"),
        ("list_movies", [("genre", "Drama")], "genre", "genre"),
        ("list_movies", [("query", "heat")], "query", "title or q"),
        ("list_movies", [("with_genres", "18")], "with_genres", "genre"),
        ("trending_movies", [("Genre", "Drama")], "Genre", "genre"),
        ("similar_movies", [("director", "Mann")], "director", "director"),
    ],
)
def test_a_search_filter_sent_to_a_list_is_a_422_pointing_at_search(
    load_event: Event, invoke: Invoke, key: str, route: str, pairs: list[tuple[str, str]], name: str, meant: str
) -> None:
    """`/movies?year=1999` listed the whole catalogue, as if filtered (found by the thirty-fifth tester)."""
    response = _get(invoke, load_event, key, route, pairs)
    assert response["statusCode"] == 422, response["body"]
    problem = response["json"]
    assert [(e["name"], e["in"]) for e in problem["errors"]] == [(name, "query")]
    assert problem["errors"][0]["reason"] == f"not a parameter of this route; /search filters by {meant}"
    assert problem["detail"].startswith("Filters this route does not take; they are /search's: ")


def test_parameters_that_resemble_nothing_a_route_reads_are_ignored(
    load_event: Event, invoke: Invoke, key: str
) -> None:
    """TMDB's and OMDb's clients send what Marquee has no use for (a language, adult titles, a cache buster)."""
    plain = _get(invoke, load_event, key, "list_movies", [("per_page", "5")])
    habits = _get(
        invoke,
        load_event,
        key,
        "list_movies",
        [("per_page", "5"), ("language", "en-US"), ("include_adult", "false"), ("_", "1733140000000")],
    )
    assert plain["statusCode"] == habits["statusCode"] == 200
    assert _ids(habits) == _ids(plain)


def test_many_misspelt_parameters_name_ten_and_count_the_rest(load_event: Event, invoke: Invoke, key: str) -> None:
    query = [("Page" + "_" * i, "1") for i in range(25)] + [("P" + "-" * 5000 + "age", "1")]
    response = _get(invoke, load_event, key, "list_movies", query)
    assert response["statusCode"] == 422
    assert len(response["body"]) < 4000
    problem = response["json"]
    assert len(problem["errors"]) == 10
    assert problem["detail"].endswith("; and 16 more.")


def test_a_search_with_thousands_of_unknown_parameters_names_a_few_and_counts_the_rest(
    load_event: Event, invoke: Invoke, key: str
) -> None:
    """The 422 used to echo every name twice: 2,000 made-up parameters gave a 236 KB body."""
    query = [(f"p{i}", "1") for i in range(2000)] + [("x" * 5000, "1")]
    response = _get(invoke, load_event, key, "search", query)
    assert response["statusCode"] == 422
    problem = response["json"]
    assert len(response["body"]) < 4000
    assert problem["detail"].endswith("p0, p1, p2, p3, p4, p5, p6, p7, p8, p9 and 1991 more.")
    assert [e["name"] for e in problem["errors"]] == ["query"] + [f"p{i}" for i in range(10)]


# --------------------------------------------------------------------------------------------- LIKE wildcards


@pytest.mark.parametrize("wildcard", ["%", "\uff05", "_", "\uff3f", "\\", "\uff3c", "%%", "_%_"])
@pytest.mark.parametrize("name", ["director", "actor", "title"])
def test_like_wildcards_in_any_width_match_nothing_in_any_filter(
    load_event: Event, invoke: Invoke, key: str, wildcard: str, name: str
) -> None:
    # Full-width percent, low line and reverse solidus normalise to % _ \ ; escaping after normalising keeps them
    # literal (the full-width ones used to match every movie).
    response = _get(invoke, load_event, key, "search", [(name, wildcard)])
    assert response["statusCode"] == 200 and response["json"]["total_results"] == 0, response["body"]


def test_a_wildcard_inside_a_name_is_not_a_wildcard(load_event: Event, invoke: Invoke, key: str) -> None:
    assert _get(invoke, load_event, key, "search", [("director", "Coppola")])["json"]["total_results"] > 0
    for pattern in ("Cop\uff05la", "Cop%la", "C\uff3fppola", "C_ppola"):
        assert _get(invoke, load_event, key, "search", [("director", pattern)])["json"]["total_results"] == 0


@pytest.mark.parametrize("wildcard", ["%", "\uff05", "_", "\uff3f", "\\", "\uff3c"])
def test_suggest_treats_wildcards_alike_in_any_width(
    load_event: Event, invoke: Invoke, key: str, wildcard: str
) -> None:
    response = _get(invoke, load_event, key, "suggest", [("q", wildcard)])
    assert response["statusCode"] == 200 and response["json"]["results"] == []


# ------------------------------------------------------------------------------------------------------- pages


def test_no_link_or_total_pages_points_at_a_refused_page(load_event: Event, invoke: Invoke, key: str) -> None:
    first = _get(invoke, load_event, key, "list_movies", [("per_page", "20")])
    body = first["json"]
    assert body["total_pages"] == 500  # 36,243 movies would be 1,813 pages of 20; page numbers stop at 500
    last = _links(first)["last"]
    assert dict(_query_of(last))["page"] == "500"
    page_500 = invoke(load_event("api", "list_movies", key=key, query=_query_of(last)))
    assert page_500["statusCode"] == 200 and len(page_500["json"]["results"]) == 20
    links = _links(page_500)
    assert "page" not in dict(_query_of(links["next"])) and "cursor" in dict(_query_of(links["next"]))
    for rel, url in links.items():
        pairs = _query_of(url)
        assert int(dict(pairs).get("page", "1")) <= 500, (rel, url)
        assert invoke(load_event("api", "list_movies", key=key, query=pairs))["statusCode"] == 200, rel
    beyond = _get(invoke, load_event, key, "list_movies", [("page", "501")])
    assert beyond["statusCode"] == 422 and beyond["json"]["errors"][0]["name"] == "page"


def test_past_page_500_the_next_link_walks_on_by_cursor(load_event: Event, invoke: Invoke, key: str) -> None:
    page_500 = _get(invoke, load_event, key, "list_movies", [("per_page", "20"), ("page", "500"), ("sort", "id.asc")])
    after = invoke(load_event("api", "list_movies", key=key, query=_query_of(_links(page_500)["next"])))
    assert after["statusCode"] == 200
    assert after["json"]["page"] == 501 and len(after["json"]["results"]) == 20
    assert min(_ids(after)) > max(_ids(page_500)) and _ids(after) == sorted(_ids(after))
    assert after["json"]["next_cursor"]


@pytest.mark.slow
@pytest.mark.parametrize("sort", ["popularity.desc", "year.desc", "year.asc", "title.asc", "title.desc", "rating.desc"])
def test_following_next_cursor_walks_every_result_once_in_order(
    load_event: Event, invoke: Invoke, key: str, sort: str
) -> None:
    filters = [("genre", "Western"), ("year_from", "1958"), ("year_to", "1959"), ("sort", sort)]
    everything = _get(invoke, load_event, key, "search", [*filters, ("per_page", "100")])
    total = everything["json"]["total_results"]
    assert everything["json"]["total_results_exact"] and 30 < total <= 100
    walked: list[int] = []
    cursor: str | None = None
    for _ in range(20):
        pairs = [*filters, ("per_page", "7")] + ([("cursor", cursor)] if cursor else [])
        page = _get(invoke, load_event, key, "search", pairs)
        assert page["statusCode"] == 200 and page["json"]["total_results"] == total
        walked += _ids(page)
        cursor = page["json"]["next_cursor"]
        if cursor is None:
            break
    assert walked == _ids(everything)


def test_relevance_search_walks_by_cursor_too(load_event: Event, invoke: Invoke, key: str) -> None:
    everything = _get(invoke, load_event, key, "search", [("title", "love"), ("per_page", "100")])
    first = _get(invoke, load_event, key, "search", [("title", "love"), ("per_page", "40")])
    second = _get(
        invoke,
        load_event,
        key,
        "search",
        [("title", "love"), ("per_page", "60"), ("cursor", first["json"]["next_cursor"])],
    )
    assert _ids(first) + _ids(second) == _ids(everything)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("route", "pairs"),
    [
        ("list_movies", [("per_page", "100"), ("page", "400")]),
        ("search", [("genre", "Western"), ("page", "450")]),
        ("search", [("title", "godfather"), ("page", "300")]),
        ("similar_movies", [("page", "246")]),
    ],
)
def test_past_the_end_every_list_reports_the_real_totals(
    conn: Any, load_event: Event, invoke: Invoke, key: str, route: str, pairs: list[tuple[str, str]]
) -> None:
    path = {}
    if route == "similar_movies":
        movie = conn.execute("SELECT id FROM movies WHERE title = 'The Godfather' AND year = 1972").fetchone()
        path = {"path_params": {"id": str(movie["id"])}}
    first = _get(invoke, load_event, key, route, [p for p in pairs if p[0] != "page"], **path)
    past = _get(invoke, load_event, key, route, pairs, **path)
    assert past["statusCode"] == 200 and past["json"]["results"] == []
    assert first["json"]["total_results"] > 0  # /movies/1/similar?page=246 used to say 0 and 0
    for field in ("total_results", "total_pages", "total_results_exact"):
        assert past["json"][field] == first["json"][field], field
    assert past["json"]["next_cursor"] is None and "next" not in _links(past)


@pytest.mark.parametrize(
    ("pairs", "names"),
    [
        ([("page", "2"), ("cursor", "x")], {"page", "cursor"}),
        ([("cursor", "not-a-cursor")], {"cursor"}),
        ([("cursor", "eyJ2IjoxfQ")], {"cursor"}),
    ],
)
def test_a_bad_cursor_is_a_422_naming_it(
    load_event: Event, invoke: Invoke, key: str, pairs: list[tuple[str, str]], names: set[str]
) -> None:
    response = _get(invoke, load_event, key, "list_movies", pairs)
    assert response["statusCode"] == 422
    assert {e["name"] for e in response["json"]["errors"]} == names


def test_a_cursor_belongs_to_its_query(load_event: Event, invoke: Invoke, key: str) -> None:
    cursor = _get(invoke, load_event, key, "list_movies", [("sort", "year.desc")])["json"]["next_cursor"]
    other_sort = _get(invoke, load_event, key, "list_movies", [("sort", "year.asc"), ("cursor", cursor)])
    other_route = _get(invoke, load_event, key, "search", [("genre", "Drama"), ("cursor", cursor)])
    for response in (other_sort, other_route):
        assert response["statusCode"] == 422 and response["json"]["errors"][0]["name"] == "cursor"
        assert "another query" in response["json"]["errors"][0]["reason"]


# ------------------------------------------------------------------------------------------ integers as clients write


@pytest.mark.parametrize("spelling", ["01", "+1", "%201", "1.0", "1_0", "1e0", "%D9%A1"])
def test_a_movie_id_in_any_spelling_but_plain_digits_is_a_422_naming_id(
    load_event: Event, invoke: Invoke, key: str, spelling: str
) -> None:
    plain = invoke(load_event("api", "get_movie", key=key, path_params={"id": "1"}))
    assert plain["statusCode"] == 200 and plain["json"]["id"] == 1
    response = invoke(load_event("api", "get_movie", key=key, path_params={"id": spelling}))
    assert response["statusCode"] == 422, response["json"]
    assert response["json"]["code"] == "validation_error"
    [error] = response["json"]["errors"]
    assert (error["name"], error["in"]) == ("id", "path")
    assert "plain decimal digits" in error["reason"] and not error["reason"].startswith("Value error")


@pytest.mark.parametrize(
    ("route", "name", "spelling"),
    [
        ("list_movies", "page", "1_0"),
        ("list_movies", "per_page", "05"),
        ("search", "year", "1_999"),
        ("search", "per_page", "+5"),
        ("list_movies", "page", "2.0"),
    ],
)
def test_an_integer_query_parameter_in_any_spelling_but_plain_digits_is_a_422_naming_it(
    load_event: Event, invoke: Invoke, key: str, route: str, name: str, spelling: str
) -> None:
    response = _get(invoke, load_event, key, route, [(name, spelling)])
    assert response["statusCode"] == 422, response["json"]
    assert [(e["name"], e["in"]) for e in response["json"]["errors"]] == [(name, "query")]
