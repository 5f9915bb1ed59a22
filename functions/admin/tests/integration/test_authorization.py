"""Every admin route but login (and logout, which answers 204 to anything: test_routes) refuses anonymous calls and
developer sessions: the routes are enumerated from the admin OpenAPI document (the one GET /admin/openapi.json
serves), each method of each path tried without a session, with a developer's session, with a forged token and with
an ended admin session, through the real Lambda handler."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from starlette.routing import Route

from movie_admin.audit import Actor
from movie_admin.handler import app
from movie_common import sessions
from movie_web.problems import _flat_routes

PUBLIC = {("POST", "/admin/login"), ("GET", "/admin/exports/1"), ("HEAD", "/admin/exports/1")}
# Takes a session (and is documented so) but never refuses: signing out without one is a 204 that changes nothing.
SIGN_OUT = ("POST", "/admin/logout")


# The document itself: public, like the API's, and not one of its own operations.
DOCUMENT = {("GET", "/admin/openapi.json"), ("HEAD", "/admin/openapi.json")}


def _filled(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def _documented() -> set[tuple[str, str]]:
    """(method, path) of every operation in the admin OpenAPI document, with path parameters filled in."""
    return {(m.upper(), _filled(path)) for path, operations in app.openapi()["paths"].items() for m in operations}


def _operations() -> list[tuple[str, str]]:
    """(method, path) of every route the admin app routes, from its routing table rather than from its OpenAPI
    document (a route left out of the schema is still served), with HEAD beside each GET (the middleware serves
    HEAD with the GET route, so it is as open as GET is)."""
    found = set()
    for route in _flat_routes(app.routes):
        for method in route.methods or set():
            found.add((method, _filled(route.path)))
            if method == "GET":
                found.add(("HEAD", _filled(route.path)))
    return sorted(found - DOCUMENT)


OPERATIONS = _operations()


def test_the_routing_table_is_what_is_enumerated_and_documented() -> None:
    """Every route of the app (a route added later too, hidden from the schema or not) is enumerated by the tests
    below, and the OpenAPI document hides none of them."""
    assert {op for op in OPERATIONS if op[0] != "HEAD"} == _documented()
    assert all(("HEAD", path) in OPERATIONS for method, path in OPERATIONS if method == "GET")
    mounted = [r for r in app.routes if not isinstance(r, Route) and getattr(r, "original_router", None) is None]
    assert not mounted, f"mounted apps the enumeration cannot see: {mounted}"


def test_the_openapi_document_lists_every_route_and_marks_all_but_login_as_needing_a_session(
    admin_api: Callable[..., Any],
) -> None:
    response = admin_api("GET", "/admin/openapi.json")
    document = response.json
    # The document these tests enumerate is the one served, with the server the request reached (the stage kept).
    assert {name: value for name, value in document.items() if name != "servers"} == app.openapi()
    assert document["servers"] == [{"url": "https://1234567890.execute-api.us-east-1.amazonaws.com/prod"}]
    assert document["info"]["title"] == "Marquee admin API"
    assert document["components"]["securitySchemes"]["SessionToken"]["scheme"] == "bearer"
    paths = document["paths"]
    assert len(OPERATIONS) >= 30 and all(path.startswith("/admin/") for _, path in OPERATIONS)
    for path, operations in paths.items():
        for method, operation in operations.items():
            if (method.upper(), re.sub(r"\{[^}]+\}", "1", path)) in PUBLIC:
                assert "security" not in operation
            else:
                assert operation["security"] == [{"SessionToken": []}], (method, path)


@pytest.mark.parametrize(("method", "path"), [op for op in OPERATIONS if op not in PUBLIC and op != SIGN_OUT])
def test_anonymous_calls_are_refused(admin_api: Callable[..., Any], method: str, path: str) -> None:
    answer = admin_api(method, path, body={} if method in ("POST", "PATCH") else None)
    assert answer.status == 401, answer.body
    assert answer.headers["content-type"] == "application/problem+json"
    if method == "HEAD":
        assert not answer.body  # the same refusal as GET's, without its body
        return
    assert answer.json["code"] == "not_authenticated"


@pytest.mark.parametrize(("method", "path"), [op for op in OPERATIONS if op not in PUBLIC and op != SIGN_OUT])
def test_developer_sessions_are_refused(
    admin_api: Callable[..., Any], developer_token: str, method: str, path: str
) -> None:
    answer = admin_api(method, path, token=developer_token, body={} if method in ("POST", "PATCH") else None)
    assert answer.status == 403, answer.body
    if method != "HEAD":
        assert answer.json["code"] == "forbidden"


@pytest.mark.parametrize(("method", "path"), [op for op in OPERATIONS if op not in PUBLIC and op != SIGN_OUT])
def test_forged_and_ended_sessions_are_refused(
    conn: Any, actor: Actor, admin_token: str, admin_api: Callable[..., Any], method: str, path: str
) -> None:
    body: dict[str, Any] | None = {} if method in ("POST", "PATCH") else None
    forged = admin_token[:-4] + ("AAAA" if not admin_token.endswith("AAAA") else "BBBB")
    refused = admin_api(method, path, token=forged, body=body)
    assert refused.status == 401 and (method == "HEAD" or refused.json["code"] == "invalid_session")
    assert actor.admin_id is not None
    sessions.end_all_sessions(conn, role="admin", subject_id=actor.admin_id, reason="test")
    answer = admin_api(method, path, token=admin_token, body=body)
    assert answer.status == 401 and (method == "HEAD" or answer.json["code"] == "session_revoked")


@pytest.mark.slow
@pytest.mark.parametrize(("method", "path"), [op for op in OPERATIONS if op not in PUBLIC])
def test_an_admin_session_gets_past_the_door(
    conn: Any, admin_token: str, method: str, path: str, admin_api: Callable[..., Any]
) -> None:
    answer = admin_api(method, path, token=admin_token, body={} if method in ("POST", "PATCH") else None)
    assert answer.status not in (401, 403), answer.body  # 2xx, or a 404/409/422 about the made-up id and body
    assert answer.status < 500, answer.body


def test_a_disabled_admins_session_is_refused(
    conn: Any, actor: Actor, admin_token: str, admin_api: Callable[..., Any]
) -> None:
    conn.execute("UPDATE admins SET status = 'disabled' WHERE id = %s", (actor.admin_id,))
    answer = admin_api("GET", "/admin/keys", token=admin_token)
    assert (answer.status, answer.json["code"]) == (401, "session_revoked")
