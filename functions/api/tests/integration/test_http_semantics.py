"""HTTP as clients expect it, through the API function's real Lambda entry point: HEAD, 405 with Allow, a trailing
slash, keys sent twice or in both headers, and logs that never hold a key."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest

from movie_api.handler import app

Event = Callable[..., dict[str, Any]]
Invoke = Callable[[dict[str, Any]], dict[str, Any]]


def test_head_answers_like_get_without_a_body(load_event: Event, invoke: Invoke, make_key: Callable[..., str]) -> None:
    key = make_key("pro")
    get = invoke(load_event("api", "get_movie", key=key))
    head = invoke(load_event("api", "get_movie", key=key, method="HEAD"))
    assert head["statusCode"] == 200 and head["body"] == ""
    assert head["headers"]["etag"] == get["headers"]["etag"]
    assert head["headers"]["content-length"] == get["headers"]["content-length"] != "0"
    assert head["headers"]["x-ratelimit-remaining"]


def test_a_wrong_method_is_405_with_allow_and_costs_nothing(
    load_event: Event, invoke: Invoke, make_key: Callable[..., str], conn: Any
) -> None:
    key = make_key("free")
    response = invoke(load_event("api", "get_movie", key=key, method="DELETE"))
    assert response["statusCode"] == 405
    assert response["headers"]["allow"] == "GET, HEAD"
    assert response["json"]["code"] == "method_not_allowed"
    used = conn.execute("SELECT total_count FROM api_keys ORDER BY id DESC LIMIT 1").fetchone()["total_count"]
    assert used == 0


def test_a_trailing_slash_is_the_same_route(load_event: Event, invoke: Invoke, make_key: Callable[..., str]) -> None:
    key = make_key("pro")
    plain = invoke(load_event("api", "list_movies", key=key))
    slashed = invoke(load_event("api", "list_movies", key=key, path="/movies/"))
    assert slashed["statusCode"] == 200
    assert json.loads(slashed["body"])["results"] == json.loads(plain["body"])["results"]
    assert "/prod/movies?" in slashed["headers"]["link"]  # links keep the stage prefix; no redirect loses it


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({"X-API-KEY": "{key}, 3f2b8a9e-5c1d-4e7f-9a0b-1c2d3e4f5a6b"}, "repeated_api_key_header"),
        (
            {"X-API-KEY": "{key}", "Authorization": "Bearer 3f2b8a9e-5c1d-4e7f-9a0b-1c2d3e4f5a6b"},
            "conflicting_api_keys",
        ),
        ({"Authorization": "Token {key}"}, "malformed_api_key"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "malformed_api_key"),
        ({"Authorization": "{key}"}, "malformed_api_key"),
    ],
)
def test_ambiguous_or_misformatted_keys_are_4xx_problems(
    load_event: Event, invoke: Invoke, make_key: Callable[..., str], headers: dict[str, str], code: str
) -> None:
    key = make_key("pro")
    event = load_event("api", "genres", key=None, headers={k: v.format(key=key) for k, v in headers.items()})
    response = invoke(event)
    assert response["statusCode"] == 403 and response["json"]["code"] == code


@pytest.mark.slow  # over 0.35 s (README: the fast tier)
def test_the_same_key_sent_twice_is_one_key(load_event: Event, invoke: Invoke, make_key: Callable[..., str]) -> None:
    key = make_key("pro")
    event = load_event("api", "genres", key=key)
    event["multiValueHeaders"]["X-API-KEY"] = [key, key]
    assert invoke(event)["statusCode"] == 200
    both = load_event("api", "genres", key=key, headers={"Authorization": f"Bearer {key}"})
    assert invoke(both)["statusCode"] == 200


def test_logs_carry_the_request_and_key_ids_and_never_the_key(
    load_event: Event, invoke: Invoke, make_key: Callable[..., str]
) -> None:
    from movie_api.handler import logger

    key = make_key("pro")
    buffer = io.StringIO()
    stream = logger.registered_handler.setStream(buffer)  # what CloudWatch would receive, as Powertools writes it
    try:
        response = invoke(load_event("api", "get_movie", key=key))
        refused = invoke(load_event("api", "get_movie", key="3f2b8a9e-5c1d-4e7f-9a0b-1c2d3e4f5a6b"))
    finally:
        logger.registered_handler.setStream(stream)
    output = buffer.getvalue()
    assert key not in output and "3f2b8a9e-5c1d-4e7f-9a0b-1c2d3e4f5a6b" not in output
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    [access] = [line for line in lines if line.get("route") == "/movies/{id}" and line["status"] == 200]
    assert access["request_id"] == response["headers"]["x-request-id"]
    assert access["key_id"] and access["function_request_id"]
    assert {line["status"] for line in lines if line.get("message") == "request"} == {200, 403}
    assert refused["statusCode"] == 403


def _with_headers(event: dict[str, Any], headers: dict[str, list[str]]) -> dict[str, Any]:
    """Every value of repeated headers, as API Gateway passes them (the single-value map keeps the last)."""
    for name, values in headers.items():
        event["headers"].pop(name, None)
        event["multiValueHeaders"].pop(name, None)
        event["headers"][name] = values[-1]
        event["multiValueHeaders"][name] = values
    return event


@pytest.mark.slow
@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({"X-API-KEY": ["{good}", "{good}"]}, 200, None),
        ({"X-API-KEY": ["{good}"], "Authorization": ["Bearer {good}"]}, 200, None),
        ({"X-API-KEY": ["{bad}", "{good}"]}, 403, "repeated_api_key_header"),
        ({"X-API-KEY": ["{good}", "{bad}"]}, 403, "repeated_api_key_header"),
        ({"X-API-KEY": ["{good}", "{other}"]}, 403, "repeated_api_key_header"),
        ({"Authorization": ["Bearer {good}", "Bearer {other}"]}, 403, "repeated_api_key_header"),
        ({"X-API-KEY": ["{good}"], "Authorization": ["Bearer {other}"]}, 403, "conflicting_api_keys"),
    ],
)
def test_repeated_key_headers_follow_one_rule_in_the_handler_as_in_the_authorizer(
    load_event: Event,
    invoke: Invoke,
    make_key: Callable[..., str],
    headers: dict[str, list[str]],
    status: int,
    code: str | None,
) -> None:
    from movie_auth.services import authorize

    keys = {"good": make_key("pro"), "other": make_key("pro", owner="other@gmail.com"), "bad": "not-a-key"}
    filled = {name: [v.format(**keys) for v in values] for name, values in headers.items()}
    response = invoke(_with_headers(load_event("api", "genres", key=None), filled))
    assert response["statusCode"] == status, response["body"]
    if code is not None:
        assert response["json"]["code"] == code
    decision = authorize(filled)  # the authorizer's decision from the same header values
    assert decision.allowed is (status == 200)
    assert decision.context.get("code") == code


def _behind_custom_domain(event: dict[str, Any], base: str) -> dict[str, Any]:
    """The event as API Gateway sends it for a request to https://api.example.com{base}/…, a custom domain whose
    base path mapping `base` ("" for the root) names the stage: `path` and `requestContext.path` both keep the base
    path (and no stage), while `resource` is the matched route."""
    event = json.loads(json.dumps(event))
    event["path"] = base + event["path"]
    event["requestContext"]["path"] = event["path"]
    event["requestContext"]["domainName"] = "api.example.com"
    event["requestContext"]["domainPrefix"] = "api"
    event["headers"]["Host"] = "api.example.com"
    event["multiValueHeaders"]["Host"] = ["api.example.com"]
    return event


@pytest.mark.parametrize("base", ["", "/v1", "/movies-api/v2"])
def test_every_route_answers_behind_a_custom_domains_base_path_and_links_keep_it(
    load_event: Event, invoke: Invoke, make_key: Callable[..., str], base: str
) -> None:
    key = make_key("pro")
    movie = invoke(_behind_custom_domain(load_event("api", "get_movie", key=key), base))
    assert movie["statusCode"] == 200, movie["body"]
    assert movie["json"]["id"] == 1
    similar = invoke(_behind_custom_domain(load_event("api", "similar_movies", key=key), base + ""))
    assert similar["statusCode"] == 200, similar["body"]
    slashed = load_event("api", "search", key=key, query="title=godfather&per_page=2")
    slashed = _behind_custom_domain(slashed, base)
    slashed["path"] += "/"
    slashed["requestContext"]["path"] = slashed["path"]
    search = invoke(slashed)
    assert search["statusCode"] == 200, search["body"]
    links = {rel: url for url, rel in re.findall(r'<([^>]*)>; rel="([^"]+)"', search["headers"]["link"])}
    assert links["next"].startswith(f"https://api.example.com{base}/search?title=godfather&per_page=2&cursor=")
    followed = load_event("api", "search", key=key, query=links["next"].split("?", 1)[1])
    assert invoke(_behind_custom_domain(followed, base))["statusCode"] == 200
    docs = invoke(_behind_custom_domain(load_event("api", "docs"), base))
    assert docs["statusCode"] == 200 and f'"{base}/openapi.json"' in docs["body"].replace("'", '"')
    wrong = invoke(_behind_custom_domain(load_event("api", "get_movie", key=key, method="DELETE"), base))
    assert wrong["statusCode"] == 405 and wrong["headers"]["allow"] == "GET, HEAD"


def _etag(load_event: Event, invoke: Invoke, key: str) -> str:
    return str(invoke(load_event("api", "get_movie", key=key))["headers"]["etag"])


@pytest.mark.parametrize(
    ("if_match", "status"),
    [
        ('"stale"', 412),  # another version
        ('"stale", "older"', 412),
        ("W/{etag}", 412),  # If-Match compares strongly: a weak tag never matches
        ("{etag}", 200),
        ('"stale", {etag}', 200),
        ("*", 200),  # the movie exists
    ],
)
def test_if_match_is_a_precondition_a_stale_version_gets_a_412_problem(
    load_event: Event, invoke: Invoke, make_key: Callable[..., str], conn: Any, if_match: str, status: int
) -> None:
    # The API let browsers send If-Match (the CORS preflight allows it) and then ignored it: a client asking for
    # "this version only" got whatever the movie had become (RFC 9110 13.1.1: the server MUST evaluate it).
    key = make_key("pro")
    etag = _etag(load_event, invoke, key)
    sent = if_match.format(etag=etag)
    for method in ("GET", "HEAD"):
        response = invoke(load_event("api", "get_movie", key=key, method=method, headers={"If-Match": sent}))
        assert response["statusCode"] == status, (method, sent, response["body"])
        assert response["headers"]["etag"] == etag
    if status == 412:
        refused = invoke(load_event("api", "get_movie", key=key, headers={"If-Match": sent, "If-None-Match": etag}))
        # Evaluated first: a stale If-Match is not rescued by a matching If-None-Match.
        assert refused["statusCode"] == 412
        assert refused["headers"]["content-type"] == "application/problem+json"
        assert refused["json"]["code"] == "precondition_failed" and etag in refused["json"]["detail"]
        assert "cache-control" not in refused["headers"] and refused["headers"]["x-ratelimit-remaining"]
        logged = conn.execute("SELECT status FROM usage_logs ORDER BY id DESC LIMIT 1").fetchone()
        assert logged["status"] == 412


@pytest.mark.parametrize("if_none_match", ["W/*", '"x", *', "*, {etag}x", '"*"', "{etag};", "{bare}"])
def test_if_none_match_star_counts_only_alone_and_malformed_tags_match_nothing(
    load_event: Event, invoke: Invoke, make_key: Callable[..., str], if_none_match: str
) -> None:
    # `W/*` and a `*` among tags are no entity-tags (RFC 9110: `*` alone, or a list of tags), yet they answered
    # 304 as `*` does: a client that sent a malformed list got no body for a movie it never held.
    key = make_key("pro")
    etag = _etag(load_event, invoke, key)
    sent = if_none_match.format(etag=etag, bare=etag.strip('"'))
    response = invoke(load_event("api", "get_movie", key=key, headers={"If-None-Match": sent}))
    assert response["statusCode"] == 200, sent
    assert response["json"]["id"] == 1
    for good in ("*", f" {etag} ", f'"x",{etag}', f"W/{etag}"):
        assert invoke(load_event("api", "get_movie", key=key, headers={"If-None-Match": good}))["statusCode"] == 304


@pytest.mark.parametrize("base", ["", "/v1", "/movies-api/v2"])
def test_the_openapi_document_names_the_server_as_the_client_reached_it(
    load_event: Event, invoke: Invoke, make_key: Callable[..., str], base: str
) -> None:
    # The document had no `servers`, which means the root of the host that served it: behind the stage prefix or a
    # base path, /docs' "Try it out" and every client generated from it called https://host/movies, API Gateway's
    # 403 Missing Authentication Token, instead of https://host/prod/movies.
    key = make_key("pro")
    staged = invoke(load_event("api", "openapi"))  # https://<api id>.execute-api…/prod/openapi.json
    assert staged["statusCode"] == 200 and staged["headers"]["content-type"] == "application/json"
    assert staged["json"]["servers"] == [{"url": "https://1234567890.execute-api.us-east-1.amazonaws.com/prod"}]
    assert {k: v for k, v in staged["json"].items() if k != "servers"} == app.openapi()
    document = invoke(_behind_custom_domain(load_event("api", "openapi"), base))["json"]
    server = document["servers"][0]["url"]
    assert server == f"https://api.example.com{base}"
    # Where a generated client sends GET /movies/{id}: the server's URL, then the operation's path.
    target = urlsplit(server + "/movies/{id}".replace("{id}", "1"))
    event = _behind_custom_domain(load_event("api", "get_movie", key=key), "")
    event["path"] = event["requestContext"]["path"] = target.path
    assert target.netloc == event["headers"]["Host"]
    assert invoke(event)["json"]["id"] == 1
    head = invoke(_behind_custom_domain(load_event("api", "openapi", method="HEAD"), base))
    assert head["statusCode"] == 200 and not head["body"]


@pytest.mark.parametrize("base", ["", "/v1", "/movies-api/v2"])
def test_a_problems_instance_is_the_path_the_client_asked_for_base_path_included(
    load_event: Event, invoke: Invoke, make_key: Callable[..., str], base: str
) -> None:
    # `instance` was the route's path without the base path (or stage): a URI reference that, resolved against the
    # request's URL as RFC 9457 says, named https://api.example.com/movies/999999999, which is not this API.
    key = make_key("pro")
    refusals = [
        (load_event("api", "get_movie", key=key, path_params={"id": "999999999"}), "/movies/999999999", 404),
        (load_event("api", "get_movie", key=key, path_params={"id": "01"}), "/movies/01", 422),
        (load_event("api", "get_movie", key=key, method="DELETE"), "/movies/1", 405),
        (load_event("api", "search", key=key, query="year=1999&year=2000"), "/search", 422),
        (load_event("api", "get_movie", key=key, headers={"If-Match": '"old"'}), "/movies/1", 412),
    ]
    for event, path, status in refusals:
        response = invoke(_behind_custom_domain(event, base))
        assert response["statusCode"] == status, response["body"]
        assert response["json"]["instance"] == base + path
    staged = invoke(load_event("api", "get_movie", key=key, path_params={"id": "999999999"}))
    assert staged["json"]["instance"] == "/prod/movies/999999999"  # the execute-api URL's stage
