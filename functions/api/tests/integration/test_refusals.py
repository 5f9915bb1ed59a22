"""Every refusal a client can cause: bad keys, bad parameters and exhausted limits get a precise problem body."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from movie_common import access

Event = Callable[..., dict[str, Any]]
Invoke = Callable[[dict[str, Any]], dict[str, Any]]
UNKNOWN_KEY = "3f2b8a9e-5c1d-4e7f-9a0b-1c2d3e4f5a6b"


def _assert_problem(response: dict[str, Any], status: int, code: str) -> dict[str, Any]:
    assert response["statusCode"] == status, response.get("body")
    assert response["headers"]["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response["json"]
    assert problem["status"] == status and problem["code"] == code
    assert problem["type"].endswith("/" + code) and problem["title"] and problem["detail"]
    assert problem["request_id"] == response["headers"]["x-request-id"]
    assert "Traceback" not in response["body"]
    return problem


def test_missing_key_is_401(load_event: Event, invoke: Invoke) -> None:
    _assert_problem(invoke(load_event("api", "list_movies", key=None)), 401, "missing_api_key")


def test_malformed_key_is_403_malformed(load_event: Event, invoke: Invoke) -> None:
    _assert_problem(invoke(load_event("api", "list_movies", key="not-a-uuid")), 403, "malformed_api_key")


def test_non_bearer_authorization_is_403_malformed(load_event: Event, invoke: Invoke) -> None:
    event = load_event("api", "list_movies", key=None, headers={"Authorization": f"Token {UNKNOWN_KEY}"})
    _assert_problem(invoke(event), 403, "malformed_api_key")


def test_unknown_key_is_403_invalid(load_event: Event, invoke: Invoke) -> None:
    _assert_problem(invoke(load_event("api", "list_movies", key=UNKNOWN_KEY)), 403, "invalid_api_key")


@pytest.mark.parametrize(("status", "code"), [("suspended", "key_suspended"), ("revoked", "key_revoked")])
def test_suspended_and_revoked_keys_get_403(
    load_event: Event, invoke: Invoke, make_key: Callable[..., str], status: str, code: str
) -> None:
    _assert_problem(invoke(load_event("api", "list_movies", key=make_key(status=status))), 403, code)


@pytest.mark.parametrize("event", ["get_movie", "list_movies", "search", "genres", "usage"])
@pytest.mark.parametrize(
    ("setup", "code"), [({"status": "revoked"}, "key_revoked"), ({"expired": True}, "key_expired")]
)
def test_every_keyed_route_refuses_a_refused_key_itself(
    load_event: Event, invoke: Invoke, make_key: Callable[..., str], event: str, setup: dict[str, Any], code: str
) -> None:
    # Whatever the authorizer answered (it may have kept an Allow from before the key was refused), the function
    # checks the key of every request, /usage included.
    key = make_key(
        status=setup.get("status", "active"),
        expires_at=datetime.now(UTC) - timedelta(days=1) if setup.get("expired") else None,
    )
    _assert_problem(invoke(load_event("api", event, key=key)), 403, code)


def test_expired_key_gets_403(load_event: Event, invoke: Invoke, make_key: Callable[..., str]) -> None:
    key = make_key(expires_at=datetime.now(UTC) - timedelta(days=1))
    _assert_problem(invoke(load_event("api", "list_movies", key=key)), 403, "key_expired")


@pytest.mark.slow
def test_bearer_key_is_accepted(load_event: Event, invoke: Invoke, make_key: Callable[..., str]) -> None:
    event = load_event("api", "genres", key=None, headers={"Authorization": f"Bearer {make_key()}"})
    assert invoke(event)["statusCode"] == 200


@pytest.mark.parametrize(
    ("route", "query", "bad"),
    [
        ("list_movies", {"page": "-1"}, "page"),
        ("list_movies", {"page": "0"}, "page"),
        ("list_movies", {"page": "501"}, "page"),
        ("list_movies", {"per_page": "0"}, "per_page"),
        ("list_movies", {"per_page": "10000"}, "per_page"),
        ("list_movies", {"per_page": "ten"}, "per_page"),
        ("list_movies", {"sort": "rank.sideways"}, "sort"),
        ("list_movies", {"type": "radio"}, "type"),
        ("search", {"year": "abc"}, "year"),
        ("search", {"year": "99999999999999999999"}, "year"),
        ("search", {"year_from": "1800"}, "year_from"),
        ("search", {"title": "x", "sort": "nonsense"}, "sort"),
        ("search", {}, "query"),
        ("search", {"title": ""}, "title"),
        ("search", {"title": "   "}, "title"),
        ("search", {"genre": ",,,"}, "genre"),
        ("search", {"title": "x" * 201}, "title"),
        ("search", {"year_from": "2000", "year_to": "1990"}, "year_to"),
        ("suggest", {}, "q"),
        ("suggest", {"q": ""}, "q"),
        ("suggest", {"q": "  "}, "q"),
    ],
)
def test_bad_parameters_get_a_422_naming_them(
    load_event: Event, invoke: Invoke, make_key: Callable[..., str], route: str, query: dict[str, str], bad: str
) -> None:
    problem = _assert_problem(
        invoke(load_event("api", route, key=make_key("pro"), query=query)), 422, "validation_error"
    )
    assert bad in {error["name"] for error in problem["errors"]}, problem


@pytest.mark.parametrize("movie_id", ["abc", "0", "-5", "1.5", "99999999999999999999999"])
def test_bad_movie_ids_get_a_422(
    load_event: Event, invoke: Invoke, make_key: Callable[..., str], movie_id: str
) -> None:
    event = load_event("api", "get_movie", key=make_key("pro"), path_params={"id": movie_id})
    problem = _assert_problem(invoke(event), 422, "validation_error")
    assert problem["errors"][0]["name"] == "id" and problem["errors"][0]["in"] == "path"


def test_hostile_text_is_just_text(load_event: Event, invoke: Invoke, make_key: Callable[..., str]) -> None:
    for text in ("'; DROP TABLE movies; --", "100%_\\", "<script>", "\u0000x", "ünïcödé 🎬"):
        response = invoke(load_event("api", "search", key=make_key("pro"), query={"title": text, "q": text}))
        assert response["statusCode"] in (200, 422), (text, response["body"])


def test_bad_requests_are_logged_with_their_status(
    conn: Any, load_event: Event, invoke: Invoke, make_key: Callable[..., str]
) -> None:
    key = make_key("free")
    invoke(load_event("api", "list_movies", key=key, query={"per_page": "0"}))
    invoke(load_event("api", "get_movie", key=key, path_params={"id": "999999999"}))
    rows = conn.execute(
        """SELECT l.endpoint, l.status FROM usage_logs l JOIN api_keys k ON k.id = l.api_key_id
           WHERE k.key = %s ORDER BY l.id""",
        (access.hash_key(key),),
    ).fetchall()
    assert rows == [{"endpoint": "/movies", "status": 422}, {"endpoint": "/movies/{id}", "status": 404}]


def test_exhausted_daily_quota_is_429_with_reset_and_retry_after(
    conn: Any, load_event: Event, invoke: Invoke, make_key: Callable[..., str]
) -> None:
    key = make_key("free")
    conn.execute("UPDATE api_keys SET usage_count = 100 WHERE key = %s", (access.hash_key(key),))
    response = invoke(load_event("api", "genres", key=key))
    problem = _assert_problem(response, 429, "daily_quota_exceeded")
    midnight = (datetime.now(UTC) + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    assert datetime.fromisoformat(problem["reset_at"]) == midnight
    # One spelling of a moment everywhere (UTC with Z), in the member and in the detail that names it.
    assert problem["reset_at"] == midnight.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert problem["reset_at"] in problem["detail"]
    assert problem["limit"] == 100
    assert int(response["headers"]["retry-after"]) == problem["retry_after"] > 0
    assert response["headers"]["x-ratelimit-remaining"] == "0"
    assert response["headers"]["x-ratelimit-limit"] == "100"


def test_per_minute_limit_is_429_rate_limited(
    conn: Any, load_event: Event, invoke: Invoke, make_key: Callable[..., str]
) -> None:
    key = make_key("free")
    conn.execute(
        "UPDATE api_keys SET minute_count = 30, minute_start = date_trunc('minute', now()) WHERE key = %s",
        (access.hash_key(key),),
    )
    response = invoke(load_event("api", "genres", key=key))
    problem = _assert_problem(response, 429, "rate_limited")
    assert 1 <= int(response["headers"]["retry-after"]) <= 60
    assert "per minute" in problem["detail"]


def test_usage_is_free_even_when_the_quota_is_used_up(
    conn: Any, load_event: Event, invoke: Invoke, make_key: Callable[..., str]
) -> None:
    key = make_key("free")
    conn.execute("UPDATE api_keys SET usage_count = 100 WHERE key = %s", (access.hash_key(key),))
    usage = invoke(load_event("api", "usage", key=key))
    assert usage["statusCode"] == 200
    assert {w["name"]: w["remaining"] for w in usage["json"]["windows"]}["day"] == 0


def test_unknown_route_is_a_404_problem(load_event: Event, invoke: Invoke) -> None:
    event = load_event("api", "health")
    event["path"] = event["resource"] = "/nope"
    _assert_problem(invoke(event), 404, "not_found")
