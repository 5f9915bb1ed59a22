"""Fixtures of the admin function's tests: an acting admin, developers with keys, requests through the API."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from marquee_local import events
from movie_admin.audit import Actor
from movie_common import access
from movie_common.db import admins, users


@dataclass
class Dev:
    """A developer made for a test: their id, email, and raw keys by key id."""

    id: int
    email: str
    keys: dict[int, str]

    @property
    def key_id(self) -> int:
        return next(iter(self.keys))

    @property
    def raw_key(self) -> str:
        return next(iter(self.keys.values()))


@pytest.fixture
def actor(conn: Any) -> Actor:
    """An admin acting through the API (the password hash is a placeholder: these tests never sign in)."""
    admin = admins.insert_admin(conn, email="ops@marquee.test", hashed_password="$2b$12$" + "x" * 53)
    assert admin is not None
    return Actor(admin_id=admin.id, name=admin.email, source="api", request_id="req-admin-test")


@pytest.fixture
def make_developer(conn: Any) -> Callable[..., Dev]:
    """make_developer(email, plans=("free",), name=None, verified=True) -> Dev with one key per plan."""
    count = 0

    def make(
        email: str | None = None, plans: tuple[str, ...] = ("free",), name: str | None = None, verified: bool = True
    ) -> Dev:
        nonlocal count
        count += 1
        address = email or f"dev{count}@gmail.com"
        user_id = users.ensure_user(
            conn, name=name or f"Dev {count}", email=address, canonical_email=address.lower(), verified=verified
        )
        keys = {}
        for plan in plans:
            issued = access.issue_key(conn, owner_id=user_id, plan=plan)
            keys[issued.key_id] = issued.raw_key
        return Dev(user_id, address, keys)

    return make


@pytest.fixture
def call_movies(
    load_event: Callable[..., dict[str, Any]], invoke: Callable[[dict[str, Any]], dict[str, Any]]
) -> Callable[[str], tuple[int, str | None]]:
    """GET /movies with a key through the API function's real handler; returns (status, problem code or None)."""

    def call(raw_key: str) -> tuple[int, str | None]:
        response = invoke(load_event("api", "list_movies", key=raw_key))
        body = response["json"] or {}
        return response["statusCode"], body.get("code")

    return call


@pytest.fixture
def audit_rows(conn: Any) -> Callable[..., list[dict[str, Any]]]:
    """audit_rows(column=value, ...) -> the matching audit entries, oldest first."""

    def rows(**where: Any) -> list[dict[str, Any]]:
        clauses = " AND ".join(f"{column} = %({column})s" for column in where) or "true"
        return conn.execute(f"SELECT * FROM admin_audit_log WHERE {clauses} ORDER BY id", where).fetchall()  # noqa: S608

    return rows


# ---------------------------------------------------------------- the admin API through its Lambda entry point

EVENTS = Path(__file__).resolve().parents[1] / "events"


@dataclass
class Answer:
    """A Lambda proxy response, parsed: status, lower-cased headers, and the JSON body (None if not JSON)."""

    status: int
    headers: dict[str, str]
    json: Any
    body: str


def admin_event(
    method: str,
    path: str,
    *,
    token: str | None = None,
    body: Any = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    source_ip: str | None = None,
) -> dict[str, Any]:
    """A REST proxy event as API Gateway sends it to AdminFunction through `/admin/{proxy+}` (the event toolkit,
    from events/list_keys.json): `token` as a bearer session, `body` as JSON, `source_ip` as the client address API
    Gateway saw (else the event's 203.0.113.7)."""
    base: dict[str, Any] = json.loads((EVENTS / "list_keys.json").read_text())
    changes: dict[str, str | None] = {"Authorization": None if token is None else f"Bearer {token}"}
    changes["Content-Type"] = None if body is None else "application/json"
    changes.update(headers or {})
    event = events.adjust(
        base, method=method, path=path, query=query, headers=changes, body=None if body is None else json.dumps(body)
    )
    if source_ip is not None:
        event["requestContext"]["identity"]["sourceIp"] = source_ip
    return event


def invoke_admin(event: dict[str, Any]) -> Answer:
    from marquee_local.lambda_context import LocalLambdaContext
    from movie_admin.handler import handler

    response = handler(event, LocalLambdaContext(function_name="AdminFunction"))
    headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    for k, values in (response.get("multiValueHeaders") or {}).items():
        headers[k.lower()] = ", ".join(values)
    text = response.get("body") or ""
    parsed = json.loads(text) if text and "json" in headers.get("content-type", "") else None
    return Answer(response["statusCode"], headers, parsed, text)


@pytest.fixture
def admin_api(conn: Any) -> Callable[..., Answer]:
    """admin_api(method, path, token=..., body=..., query=..., headers=..., source_ip=...) -> Answer, through
    AdminFunction's real handler inside the test's transaction."""

    def call(method: str, path: str, **options: Any) -> Answer:
        return invoke_admin(admin_event(method, path, **options))

    return call


@pytest.fixture
def admin_token(conn: Any, actor: Actor) -> str:
    """A session token of the test's acting admin (signed in without bcrypt: the login route has its own tests)."""
    from movie_common import sessions

    assert actor.admin_id is not None
    return sessions.start_session(conn, role="admin", subject_id=actor.admin_id).access_token


@pytest.fixture
def developer_token(conn: Any, make_developer: Callable[..., Dev]) -> str:
    """A developer's session token: valid, but the wrong kind for every admin route."""
    from movie_common import sessions

    return sessions.start_session(conn, role="developer", subject_id=make_developer().id).access_token


@pytest.fixture
def export_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Exports of the admin routes go to a fresh folder (EXPORT_FOLDER), downloaded from /admin/exports/."""
    from movie_admin.settings import admin_settings

    monkeypatch.setenv("EXPORT_FOLDER", str(tmp_path))
    admin_settings.cache_clear()
    yield tmp_path
    monkeypatch.undo()
    admin_settings.cache_clear()


@pytest.fixture
def claim_key(conn: Any, load_event: Callable[..., dict[str, Any]]) -> Callable[[int, int], Answer]:
    """claim_key(developer_id, request_id): the developer reveals an approved request's new key through
    AuthFunction's real handler (POST /auth/key-requests/{id}/claim, with their session)."""
    from marquee_local.lambda_context import LocalLambdaContext
    from movie_auth.handler import handler
    from movie_common import sessions

    def claim(developer_id: int, request_id: int) -> Answer:
        token = sessions.start_session(conn, role="developer", subject_id=developer_id).access_token
        event = load_event(
            "auth",
            "claim_key",
            path_params={"request_id": str(request_id)},
            headers={"Authorization": f"Bearer {token}"},
        )
        response = handler(event, LocalLambdaContext(function_name="AuthFunction"))
        text = response.get("body") or ""
        return Answer(
            response["statusCode"],
            {k.lower(): v for k, v in response["headers"].items()},
            json.loads(text) if text else None,
            text,
        )

    return claim
