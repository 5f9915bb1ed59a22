"""The web layer's app factory with a small app of its own: problems, HEAD, 405 with Allow, trailing slashes,
request ids, CORS, and the session dependencies against a real PostgreSQL."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from psycopg.adapt import PyFormat, Transformer

from movie_common import sessions
from movie_common.errors import NotFoundError
from movie_web.app import SESSION_SCHEMES, create_app
from movie_web.session_auth import CurrentAdmin, CurrentDeveloper

ORIGIN = "https://portal.example"


class _Logger:
    """Records what the web layer logs, and the keys it appends."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str, dict[str, Any]]] = []
        self.keys: dict[str, Any] = {}

    def _log(self, level: str, msg: object, *args: Any, **kwargs: Any) -> None:
        self.lines.append((level, str(msg) % args if args else str(msg), {**self.keys, **kwargs.get("extra", {})}))

    def info(self, msg: object, *args: Any, **kwargs: Any) -> None:
        self._log("info", msg, *args, **kwargs)

    def warning(self, msg: object, *args: Any, **kwargs: Any) -> None:
        self._log("warning", msg, *args, **kwargs)

    def exception(self, msg: object, *args: Any, **kwargs: Any) -> None:
        self._log("exception", msg, *args, **kwargs)

    def append_keys(self, **keys: Any) -> None:
        self.keys.update(keys)


router = APIRouter()


@router.get("/things")
async def list_things() -> dict[str, Any]:
    return {"things": [1, 2]}


@router.post("/things")
async def add_thing() -> dict[str, Any]:
    return {"added": True}


@router.get("/things/{name}")
async def get_thing(name: str) -> dict[str, Any]:
    if name == "missing":
        raise NotFoundError("No thing is called missing.")
    if name == "boom":
        raise RuntimeError("secret internal detail")
    return {"name": name}


def _store(text: str) -> None:
    """What psycopg does with a text parameter before sending it (it refuses NUL: PostgreSQL cannot store it)."""
    Transformer().get_dumper(text, PyFormat.TEXT).dump(text)


@router.get("/search-things")
async def search_things(q: str = "") -> dict[str, Any]:
    _store(q)
    return {"q": q}


@router.post("/notes")
async def add_note(note: dict[str, str]) -> dict[str, Any]:
    for value in note.values():
        _store(value)
    return {"added": True}


@router.get("/other-data-error")
async def other_data_error() -> dict[str, Any]:
    raise psycopg.DataError("value out of range for type integer")


@router.get("/mine")
async def mine(developer: CurrentDeveloper) -> dict[str, Any]:
    return {"developer": developer.subject_id}


@router.get("/admin-only")
async def admin_only(admin: CurrentAdmin) -> dict[str, Any]:
    return {"admin": admin.subject_id}


@pytest.fixture
def logger() -> _Logger:
    return _Logger()


@pytest.fixture
def client(conn: Any, logger: _Logger) -> Iterator[TestClient]:
    app = create_app(
        title="Test",
        description="A test app.",
        routers=[router],
        cors_allow_origin=ORIGIN,
        logger=logger,
        security_schemes=SESSION_SCHEMES,
        public_paths=["/things"],
    )
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_head_is_get_without_a_body(client: TestClient) -> None:
    get, head = client.get("/things/a"), client.head("/things/a")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"] != "0"


def test_a_wrong_method_is_405_with_every_allowed_method(client: TestClient) -> None:
    response = client.delete("/things")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, POST"
    problem = response.json()
    assert problem["code"] == "method_not_allowed" and "DELETE is not allowed on /things" in problem["detail"]
    assert client.put("/things/x").headers["allow"] == "GET, HEAD"


def test_a_trailing_slash_is_the_same_route(client: TestClient) -> None:
    response = client.get("/things/", follow_redirects=False)
    assert response.status_code == 200 and response.json() == {"things": [1, 2]}
    assert client.get("/things/a/", follow_redirects=False).json() == {"name": "a"}


def test_only_one_trailing_slash_is_the_same_route(client: TestClient) -> None:
    assert client.get("/things//", follow_redirects=False).status_code == 404
    assert client.get("/things/a//", follow_redirects=False).status_code == 404


@pytest.mark.parametrize(
    ("path", "name"), [("/things/a%2F", "a%2F"), ("/things/a%2Fb", "a%2Fb"), ("/things/a%2f%2F", "a%2F%2F")]
)
def test_an_encoded_slash_stays_inside_its_segment(client: TestClient, path: str, name: str) -> None:
    """`%2F` never separates segments nor is a trailing slash: the segment keeps it (encoded, so that no `{param}`
    can read one segment as two), and `/things/a%2F` is not `/things/a`."""
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 200 and response.json() == {"name": name}
    assert client.get("/things%2F", follow_redirects=False).status_code == 404


def test_errors_are_problems_with_the_request_id_and_cors(client: TestClient) -> None:
    response = client.get("/things/missing")
    assert response.status_code == 404 and response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "not_found" and problem["instance"] == "/things/missing"
    assert problem["request_id"] == response.headers["x-request-id"]
    assert response.headers["access-control-allow-origin"] == ORIGIN


def test_an_unexpected_error_is_a_500_problem_without_details_and_is_logged(
    client: TestClient, logger: _Logger
) -> None:
    response = client.get("/things/boom")
    assert response.status_code == 500 and response.json()["code"] == "internal_error"
    assert "secret internal detail" not in response.text and "Traceback" not in response.text
    assert any(level == "exception" for level, _, _ in logger.lines)


def test_a_nul_character_in_a_query_parameter_is_a_422_naming_it_not_a_500(client: TestClient) -> None:
    response = client.get("/search-things", params={"q": "a\x00b", "page": "1"})
    assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "validation_error" and "NUL" in problem["detail"]
    assert problem["errors"] == [{"name": "q", "in": "query", "reason": "must not contain NUL characters (U+0000)"}]


def test_a_nul_character_in_a_json_body_is_a_422_about_the_body(client: TestClient) -> None:
    response = client.post("/notes", json={"text": "stolen \u0000 laptop"})
    assert response.status_code == 422 and response.json()["code"] == "validation_error"
    assert response.json()["errors"][0]["in"] == "body"


def test_a_body_that_is_not_json_is_named_as_the_body_with_what_is_wrong(client: TestClient) -> None:
    response = client.post("/notes", content='{"text": ', headers={"content-type": "application/json"})
    assert response.status_code == 422
    problem = response.json()
    assert problem["detail"] == "Invalid value for: body."
    [error] = problem["errors"]
    assert error["name"] == "body" and error["in"] == "body"
    assert error["reason"].startswith("not valid JSON: ") and "at character 9" in error["reason"]


def test_other_data_errors_stay_unexpected(client: TestClient) -> None:
    response = client.get("/other-data-error")
    assert response.status_code == 500 and response.json()["code"] == "internal_error"
    assert "out of range" not in response.text


def test_a_path_with_a_quote_still_gives_valid_json(client: TestClient) -> None:
    response = client.get('/nope"x')
    assert response.status_code == 404 and json.loads(response.text)["instance"] == '/nope"x'


def test_every_request_gets_one_access_line_with_its_request_id(client: TestClient, logger: _Logger) -> None:
    response = client.get("/things/a?token=should-not-be-logged")
    [line] = [line for line in logger.lines if line[1] == "request"]
    assert line[2]["request_id"] == response.headers["x-request-id"]
    assert line[2]["route"] == "/things/{name}" and line[2]["status"] == 200
    assert "should-not-be-logged" not in repr(logger.lines)


def test_the_openapi_document_declares_session_security_outside_public_paths(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"] == SESSION_SCHEMES
    assert "security" not in schema["paths"]["/things"]["get"]
    assert schema["paths"]["/mine"]["get"]["security"] == [{"SessionToken": []}]


def test_session_routes_need_a_session_of_their_role(conn: Any, client: TestClient) -> None:
    assert client.get("/mine").json()["code"] == "not_authenticated"
    assert client.get("/mine", headers={"Authorization": "Bearer nonsense"}).json()["code"] == "invalid_session"
    developer = sessions.start_session(conn, role="developer", subject_id=12).access_token
    admin = sessions.start_session(conn, role="admin", subject_id=3).access_token
    assert client.get("/mine", headers={"Authorization": f"Bearer {developer}"}).json() == {"developer": 12}
    refused = client.get("/admin-only", headers={"Authorization": f"Bearer {developer}"})
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    assert client.get("/admin-only", headers={"Authorization": f"Bearer {admin}"}).json() == {"admin": 3}
    assert client.get("/mine", headers={"Authorization": f"Bearer {admin}"}).status_code == 403


def test_no_stdlib_logging_is_needed(caplog: pytest.LogCaptureFixture, client: TestClient) -> None:
    with caplog.at_level(logging.DEBUG):
        client.get("/things/boom")
    assert not [r for r in caplog.records if r.name.startswith("movie_")]  # everything goes through the logger
