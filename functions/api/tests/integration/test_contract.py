"""The public API against its own OpenAPI document, through the real Lambda entry point: every documented enum value,
bound and default is what the API accepts and does, and just past each bound is a 422 naming the parameter; plus
the rules a schema cannot hold (paths, invisible characters, page numbers of cursor pages, `Link` walks)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from movie_api.handler import app
from movie_api.services import MAX_GENRES, SEARCH_FILTERS

Event = Callable[..., dict[str, Any]]
Invoke = Callable[[dict[str, Any]], dict[str, Any]]

DOCUMENT: dict[str, Any] = app.openapi()
# A cursor takes only the `next_cursor` this API gave (its description says so); tested by walking pages below.
OPAQUE = {"cursor"}
MOVIE_ID = "1"


def _schema(parameter: dict[str, Any]) -> dict[str, Any]:
    """The parameter's schema without the `null` alternative FastAPI adds to optional parameters."""
    schema: dict[str, Any] = parameter["schema"]
    options = [s for s in schema.get("anyOf", [schema]) if s.get("type") != "null"]
    return {**schema, **options[0]} if len(options) == 1 else schema


def _query_parameters() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path, operations in DOCUMENT["paths"].items():
        for parameter in operations.get("get", {}).get("parameters", []):
            if parameter["in"] == "query" and parameter["name"] not in OPAQUE:
                found.append((path, parameter))
    return found


PARAMETERS = _query_parameters()


def _values(schema: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    """(values the document says are accepted, values just outside what it says) for one parameter's schema."""
    if "enum" in schema:
        return list(schema["enum"]), ["not-a-documented-value"]
    kind = schema.get("type")
    if kind == "integer":
        return [schema["minimum"], schema["maximum"]], [schema["minimum"] - 1, schema["maximum"] + 1]
    if kind == "string":
        low, high = schema.get("minLength", 1), schema["maxLength"]
        return ["a" * low, "a" * high], (["a" * (low - 1)] if low else []) + ["a" * (high + 1)]
    if kind == "array":
        low, high = schema.get("minItems", 1), schema["maxItems"]
        items = [f"Genre {n}" for n in range(high + 1)]
        return [items[:low], items[:high]], [items[: high + 1]]
    raise AssertionError(f"a parameter the contract test cannot read: {schema}")


def _request(path: str, name: str, value: Any) -> tuple[str, str, list[tuple[str, str]]]:
    """(path, resource, query pairs) of a request to `path` that is valid but for `name`=`value` (None: not sent)."""
    base: dict[str, str] = {}
    if path == "/search" and name not in SEARCH_FILTERS:
        base = {"year": "1999"}  # a search needs a filter
    if path == "/search/suggest" and name != "q":
        base = {"q": "star"}
    pairs = list(base.items())
    if value is not None:
        pairs += [(name, str(v)) for v in value] if isinstance(value, list) else [(name, str(value))]
    return path.replace("{id}", MOVIE_ID), path, pairs


def _get(invoke: Invoke, load_event: Event, key: str, target: tuple[str, str, list[tuple[str, str]]]) -> Any:
    path, resource, pairs = target
    return invoke(load_event("api", "list_movies", key=key, path=path, resource=resource, query=pairs or None))


@pytest.fixture
def key(make_key: Callable[..., str]) -> str:
    return make_key("unlimited")


@pytest.mark.parametrize(("path", "parameter"), PARAMETERS, ids=[f"{p} {q['name']}" for p, q in PARAMETERS])
def test_every_documented_value_is_accepted_and_just_past_each_bound_is_a_422_naming_it(
    load_event: Event, invoke: Invoke, key: str, path: str, parameter: dict[str, Any]
) -> None:
    name = parameter["name"]
    accepted, refused = _values(_schema(parameter))
    for value in accepted:
        response = _get(invoke, load_event, key, _request(path, name, value))
        assert response["statusCode"] == 200, (name, value, response["body"])
    for value in refused:
        response = _get(invoke, load_event, key, _request(path, name, value))
        assert response["statusCode"] == 422, (name, value, response["body"])
        assert name in [e["name"] for e in response["json"]["errors"]], response["body"]


DEFAULTS = [(p, q) for p, q in PARAMETERS if "default" in _schema(q)]


@pytest.mark.parametrize(("path", "parameter"), DEFAULTS, ids=[f"{p} {q['name']}" for p, q in DEFAULTS])
def test_a_documented_default_is_what_the_api_does_without_the_parameter(
    load_event: Event, invoke: Invoke, key: str, path: str, parameter: dict[str, Any]
) -> None:
    name = parameter["name"]
    without = _get(invoke, load_event, key, _request(path, name, None))
    explicit = _get(invoke, load_event, key, _request(path, name, _schema(parameter)["default"]))
    assert without["statusCode"] == explicit["statusCode"] == 200
    assert without["body"] == explicit["body"]


def _search(invoke: Invoke, load_event: Event, key: str, pairs: list[tuple[str, str]]) -> Any:
    return _get(invoke, load_event, key, ("/search", "/search", pairs))


def test_search_sort_documents_no_single_default_relevance_with_text_and_popularity_without(
    load_event: Event, invoke: Invoke, key: str
) -> None:
    sort = next(_schema(p) for path, p in PARAMETERS if path == "/search" and p["name"] == "sort")
    assert "default" not in sort and "popularity.desc" in sort["description"]
    for text in ([("title", "godfather")], [("q", "godfather")]):
        assert (
            _search(invoke, load_event, key, text)["body"]
            == _search(invoke, load_event, key, [*text, ("sort", "relevance")])["body"]
        )
    genre = [("genre", "Drama"), ("per_page", "50")]
    by_default = _search(invoke, load_event, key, genre)
    assert by_default["body"] == _search(invoke, load_event, key, [*genre, ("sort", "popularity.desc")])["body"]
    assert by_default["body"] == _search(invoke, load_event, key, [*genre, ("sort", "relevance")])["body"]


def test_the_documented_genre_limit_is_the_apis_limit_of_different_genres(
    load_event: Event, invoke: Invoke, key: str
) -> None:
    genre = next(_schema(p) for path, p in PARAMETERS if path == "/search" and p["name"] == "genre")
    assert genre["maxItems"] == MAX_GENRES
    many = ",".join(f"Genre {n}" for n in range(MAX_GENRES + 1))  # one value, 11 genres: beyond what maxItems says
    response = _search(invoke, load_event, key, [("genre", many)])
    assert response["statusCode"] == 422 and response["json"]["errors"][0]["name"] == "genre"
    assert f"at most {MAX_GENRES}" in response["json"]["errors"][0]["reason"]
    for blank in ("", ",", " , "):
        response = _search(invoke, load_event, key, [("genre", blank)])
        assert response["statusCode"] == 422 and response["json"]["errors"][0]["name"] == "genre"
    assert "`genre=`" in genre["description"]


def test_page_and_cursor_together_are_a_422_and_the_document_says_so(
    load_event: Event, invoke: Invoke, key: str
) -> None:
    first = _get(invoke, load_event, key, ("/movies", "/movies", [("per_page", "5")]))
    cursor = first["json"]["next_cursor"]
    both = _get(invoke, load_event, key, ("/movies", "/movies", [("page", "2"), ("cursor", cursor)]))
    assert both["statusCode"] == 422
    assert {e["name"] for e in both["json"]["errors"]} == {"page", "cursor"}
    parameters = {p["name"]: p for p in DOCUMENT["paths"]["/movies"]["get"]["parameters"]}
    assert "Not with cursor" in parameters["page"]["description"]
    assert "Not with page" in parameters["cursor"]["description"]


@pytest.mark.parametrize("list_name", ["upcoming", "now_playing"])
def test_film_only_lists_document_type_movie_alone_and_explain_a_tv(
    load_event: Event, invoke: Invoke, key: str, list_name: str
) -> None:
    path = f"/movies/{list_name}"
    parameters = {p["name"]: p for p in DOCUMENT["paths"][path]["get"]["parameters"]}
    assert _schema(parameters["type"])["enum"] == ["movie"]
    tv = _get(invoke, load_event, key, (path, path, [("type", "tv")]))
    assert tv["statusCode"] == 422
    assert tv["json"]["detail"] == f"TMDB has no {list_name.replace('_', '-')} list for TV; only type=movie."
    for value in ("film", ""):  # `type=` sent empty is refused as on /movies, trending and popular, not read as movie
        other = _get(invoke, load_event, key, (path, path, [("type", value)]))
        assert other["statusCode"] == 422 and other["json"]["errors"][0]["name"] == "type", value


# ------------------------------------------------------------------------------------------------ paths


@pytest.mark.parametrize("path", ["/movies/1%2F", "/movies/1%2F%2F", "/movies/1%2f", "/movies/1%2Fsimilar"])
def test_an_encoded_slash_is_part_of_its_segment_never_a_separator_or_a_trailing_slash(
    load_event: Event, invoke: Invoke, key: str, path: str
) -> None:
    response = invoke(load_event("api", "get_movie", key=key, path=path))
    assert response["statusCode"] == 422, response["body"]  # the id holds a slash: not a number
    assert [e["name"] for e in response["json"]["errors"]] == ["id"]
    assert invoke(load_event("api", "get_movie", key=key, path="/movies/1/"))["json"]["id"] == 1


# ------------------------------------------------------------------------------------------------ empty text

INVISIBLE = ["\u200b", "\u200b\u200d", "\u00ad", "\ufeff", " \u2060 ", "\u200e\u200f", "\x01", "\u3000"]


@pytest.mark.parametrize("value", INVISIBLE, ids=["+".join(f"U+{ord(c):04X}" for c in v) for v in INVISIBLE])
def test_a_text_empty_after_normalising_is_the_same_422_on_search_and_suggest(
    load_event: Event, invoke: Invoke, key: str, value: str
) -> None:
    answers = [_get(invoke, load_event, key, ("/search/suggest", "/search/suggest", [("q", value)]))]
    answers += [_search(invoke, load_event, key, [(name, value)]) for name in ("title", "q", "director", "actor")]
    for response in answers:
        assert response["statusCode"] == 422, response["body"]
        [error] = response["json"]["errors"]
        assert error["reason"].startswith("must not be empty or blank"), error
    genre = _search(invoke, load_event, key, [("genre", value)])
    assert genre["statusCode"] == 422 and genre["json"]["errors"][0]["name"] == "genre"


def test_invisible_characters_inside_a_text_do_not_matter(load_event: Event, invoke: Invoke, key: str) -> None:
    plain = _get(invoke, load_event, key, ("/search/suggest", "/search/suggest", [("q", "godfather")]))
    hidden = _get(invoke, load_event, key, ("/search/suggest", "/search/suggest", [("q", "god\u200bfa\u00adther")]))
    assert hidden["statusCode"] == 200 and hidden["json"] == plain["json"]
    assert plain["json"]["results"][0]["title"] == "The Godfather"


# ------------------------------------------------------------------------------------------------ cursor pages


def test_a_cursor_page_reports_its_true_number_or_null_never_a_wrong_one(
    load_event: Event, invoke: Invoke, key: str
) -> None:
    def movies(pairs: list[tuple[str, str]]) -> Any:
        return _get(invoke, load_event, key, ("/movies", "/movies", [("sort", "id.asc"), *pairs]))

    first = movies([("per_page", "20")])
    cursor = first["json"]["next_cursor"]  # 20 rows come before it
    same = movies([("per_page", "20"), ("cursor", cursor)])
    assert same["json"]["page"] == 2
    by_number = movies([("per_page", "20"), ("page", "2")])
    assert [m["id"] for m in same["json"]["results"]] == [m["id"] for m in by_number["json"]["results"]]
    smaller = movies([("per_page", "10"), ("cursor", cursor)])
    assert smaller["json"]["page"] == 3  # rows 21-30: page 3 of 10
    larger = movies([("per_page", "50"), ("cursor", cursor)])
    assert larger["statusCode"] == 200 and larger["json"]["page"] is None  # rows 21-70 are no page of 50
    assert 'rel="prev"' not in larger["headers"]["link"]


# ------------------------------------------------------------------------------------------------ Link walks


def _links(response: dict[str, Any]) -> dict[str, str]:
    return {rel: url for url, rel in re.findall(r'<([^>]*)>; rel="(\w+)"', response["headers"].get("link", ""))}


@pytest.mark.slow
def test_following_link_next_while_rows_are_inserted_sees_no_row_twice_and_misses_none(
    conn: Any, load_event: Event, invoke: Invoke, key: str
) -> None:
    genre = "Contract Walk"
    for n in range(23):
        conn.execute(
            "INSERT INTO movies (title, year, genre, popularity) VALUES (%s, 2001, ARRAY[%s], %s)",
            (f"Contract Walk {n}", genre, 100 + n),
        )
    existed = {r["id"] for r in conn.execute("SELECT id FROM movies WHERE %s = ANY(genre)", (genre,)).fetchall()}
    url = f"https://example.invalid/search?genre={genre.replace(' ', '+')}&per_page=5"
    seen: list[int] = []
    inserted = 0
    while url:
        query = url.split("?", 1)[1]
        response = invoke(load_event("api", "search", key=key, query=query))
        assert response["statusCode"] == 200, response["body"]
        seen += [m["id"] for m in response["json"]["results"]]
        links = _links(response)
        if response["json"]["next_cursor"] is not None:
            names = parse_qs(urlsplit(links["next"]).query)
            assert "cursor" in names and "page" not in names, links["next"]
        # Meanwhile a more popular one arrives: it sorts before every row read so far, and a page-number walk would
        # read the last row of this page again on the next.
        conn.execute(
            "INSERT INTO movies (title, year, genre, popularity) VALUES (%s, 2002, ARRAY[%s], 1000000)",
            (f"Contract Walk late {inserted}", genre),
        )
        inserted += 1
        url = links.get("next", "")
    assert len(seen) == len(set(seen)), "a row came twice"
    assert existed <= set(seen), "a row that existed throughout was missed"


def _problem_schema(response: dict[str, Any]) -> dict[str, Any]:
    """The schema a documented error response declares for the media type problems are sent with."""
    content = response["content"]
    assert "application/json" not in content, "a problem is never sent as application/json"
    ref: str = content["application/problem+json"]["schema"]["$ref"]
    schema: dict[str, Any] = DOCUMENT["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    return schema


def test_every_documented_error_declares_the_problem_schema_under_the_media_type_it_is_sent_with() -> None:
    for path, operations in DOCUMENT["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    assert _problem_schema(response)["title"] == "Problem", (method, path, status)


@pytest.mark.parametrize(
    ("path", "query", "status"),
    [("/movies/999999999", None, "404"), ("/movies/abc", None, "422"), ("/search", "title=x&page=0", "422")],
)
def test_a_problem_the_function_sends_is_what_the_document_declares_for_it(
    load_event: Event, invoke: Invoke, key: str, path: str, query: str | None, status: str
) -> None:
    route = "/movies/{id}" if path.startswith("/movies/") else path
    event = load_event("api", "get_movie", key=key, path=path, resource=route, query=query)
    response = invoke(event)
    assert str(response["statusCode"]) == status
    documented = DOCUMENT["paths"][route]["get"]["responses"][status]
    assert response["headers"]["content-type"] == "application/problem+json"
    assert "application/problem+json" in documented["content"]
    schema = _problem_schema(documented)
    assert set(schema["required"]) <= set(response["json"])
    assert set(response["json"]) <= set(schema["properties"])


GET_PATHS = sorted(path for path, operations in DOCUMENT["paths"].items() if "get" in operations)


def _declared(path: str, status: str) -> set[str]:
    response = DOCUMENT["paths"][path]["get"]["responses"][status]
    return {name.lower() for name in response.get("headers", {})}


@pytest.mark.slow
@pytest.mark.parametrize("path", GET_PATHS)
def test_every_header_the_document_declares_is_sent_and_the_sent_ones_are_declared(
    load_event: Event, invoke: Invoke, key: str, path: str
) -> None:
    # The document declared no response header at all, though the README and /docs promise ETag, Link, the rate
    # headers and X-Request-Id (the twenty-sixth tester read `.paths[].get.responses[].headers`: null everywhere).
    response = _get(invoke, load_event, key, _request(path, "-", None))
    assert response["statusCode"] == 200, response["body"]
    declared = _declared(path, "200")
    assert "x-request-id" in declared
    if (response["json"] or {}).get("total_pages") == 0:
        declared.discard("link")  # an empty list has no page to link to (the header's description says so)
    assert declared <= set(response["headers"]), (path, declared - set(response["headers"]))
    promised = {"etag", "link", "ratelimit", "ratelimit-policy", "x-ratelimit-remaining", "cache-control"}
    assert promised & set(response["headers"]) <= declared, (path, promised & set(response["headers"]) - declared)
    if "304" in DOCUMENT["paths"][path]["get"]["responses"]:
        target = path.replace("{id}", MOVIE_ID)
        event = load_event("api", "list_movies", key=key, path=target, resource=path)
        event["headers"]["If-None-Match"] = response["headers"]["etag"]
        event["multiValueHeaders"]["If-None-Match"] = [response["headers"]["etag"]]
        again = invoke(event)
        assert again["statusCode"] == 304
        assert _declared(path, "304") <= set(again["headers"]), (_declared(path, "304"), again["headers"])


def test_keyed_refusals_and_outages_declare_their_retry_after() -> None:
    for path in ("/movies", "/movies/{id}", "/search", "/usage"):
        assert {"retry-after", "ratelimit", "x-request-id"} <= _declared(path, "429"), path
        assert "retry-after" in _declared(path, "503"), path
    assert "link" in _declared("/search", "200") and "etag" in _declared("/movies/{id}", "200")


def _description(path: str, status: str, header: str) -> str:
    return str(DOCUMENT["paths"][path]["get"]["responses"][status]["headers"][header]["description"])


def test_the_rate_headers_mean_what_the_document_says_they_mean(
    load_event: Event, invoke: Invoke, make_key: Callable[..., str], conn: Any
) -> None:
    # The document said X-RateLimit-Reset was "Seconds until that window resets" while the API sends the moment it
    # resets in Unix time (GitHub's convention, the README's examples): a client generated from the document waited
    # ~56 years. Its RateLimit examples named the windows in another order than the API sends them.
    free = make_key("free")
    spent_today = make_key("free", owner="spent@gmail.com")
    conn.execute(
        "UPDATE api_keys SET usage_count = 100 WHERE id = (SELECT max(id) FROM api_keys)"
    )  # spent_today: its day is used up
    answers = []
    for _ in range(31):  # the 31st is the free plan's per-minute 429
        answers.append(invoke(load_event("api", "get_movie", key=free)))
    minute = answers[-1]
    day = invoke(load_event("api", "get_movie", key=spent_today))
    usage = invoke(load_event("api", "usage", key=free))
    assert (minute["json"]["code"], day["json"]["code"]) == ("rate_limited", "daily_quota_exceeded")
    for path in ("/movies/{id}", "/usage"):
        for status in ("200", "429"):
            assert "Unix time" in _description(path, status, "X-RateLimit-Reset"), (path, status)
    for refused in (minute, day):
        reset_at = datetime.fromisoformat(refused["json"]["reset_at"].replace("Z", "+00:00"))
        assert int(refused["headers"]["x-ratelimit-reset"]) == int(reset_at.timestamp())
    tightest = min(usage["json"]["windows"], key=lambda w: w["remaining"])
    resets_at = datetime.fromisoformat(tightest["resets_at"].replace("Z", "+00:00"))
    assert int(usage["headers"]["x-ratelimit-reset"]) == int(resets_at.timestamp())
    # The examples name the windows as the API sends them.
    sent_order = re.findall(r'"(\w+)";', minute["headers"]["ratelimit"])
    for header in ("RateLimit", "RateLimit-Policy"):
        example = re.search(r"`([^`]*)`", _description("/movies/{id}", "200", header))
        assert example is not None and re.findall(r'"(\w+)";', example.group(1)) == sent_order, header
    assert re.fullmatch(r'("\w+";r=\d+;t=\d+)(, "\w+";r=\d+;t=\d+)*', minute["headers"]["ratelimit"])
