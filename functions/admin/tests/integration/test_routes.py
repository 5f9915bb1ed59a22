"""The admin API through AdminFunction's real Lambda entry point: every route's answer, its problems, and the audit
entries it leaves, against the real PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from marquee_local.lambda_context import LocalLambdaContext
from movie_admin.audit import Actor
from movie_admin.services import admins
from movie_common import access, sessions
from movie_common.db import key_requests as key_request_rows

EVENTS = Path(__file__).resolve().parents[2] / "events"
PASSWORD = "correct horse battery staple"


@pytest.mark.slow
def test_login_event_from_events_gives_a_working_session(conn: Any, admin_api: Callable[..., Any]) -> None:
    from movie_admin.handler import handler

    admins.create_admin(conn, Actor.cli(), email="ops@example.com", password=PASSWORD)
    event = json.loads((EVENTS / "login.json").read_text())
    response = handler(event, LocalLambdaContext(function_name="AdminFunction"))
    assert response["statusCode"] == 200
    grant = json.loads(response["body"])
    assert grant["token_type"] == "bearer" and grant["expires_in"] > 0
    me = admin_api("GET", "/admin/me", token=grant["access_token"])
    assert me.status == 200 and me.json["email"] == "ops@example.com" and "hashed_password" not in me.body


def test_the_event_files_reach_their_routes(
    conn: Any, admin_token: str, make_developer: Callable[..., Any], load_event: Callable[..., Any]
) -> None:
    from movie_admin.handler import handler

    dev = make_developer()
    for name in ("list_keys", "suspend_key", "overview"):
        overrides: dict[str, Any] = {"headers": {"Authorization": f"Bearer {admin_token}"}}
        if name == "suspend_key":
            overrides["path_params"] = {"proxy": f"keys/{dev.key_id}/suspend"}
        response = handler(load_event("admin", name, **overrides), LocalLambdaContext(function_name="AdminFunction"))
        assert response["statusCode"] == 200, (name, response["body"])
        assert response["headers"]["access-control-allow-origin"]  # the portal origin, for the admin pages


@pytest.mark.slow
def test_wrong_passwords_are_401_then_the_lock_is_429_with_retry_after(
    conn: Any, admin_api: Callable[..., Any]
) -> None:
    admins.create_admin(conn, Actor.cli(), email="ops@example.com", password=PASSWORD)
    for _ in range(5):
        wrong = admin_api("POST", "/admin/login", body={"email": "ops@example.com", "password": "guess"})
        assert (wrong.status, wrong.json["code"]) == (401, "invalid_credentials")
    locked = admin_api("POST", "/admin/login", body={"email": "ops@example.com", "password": PASSWORD})
    assert (locked.status, locked.json["code"]) == (429, "account_locked")
    assert 800 <= int(locked.headers["retry-after"]) <= 900
    unknown = admin_api("POST", "/admin/login", body={"email": "nobody@example.com", "password": PASSWORD})
    assert (unknown.status, unknown.json["code"]) == (401, "invalid_credentials")
    assert unknown.json["detail"] == wrong.json["detail"]
    missing = admin_api("POST", "/admin/login", body={"email": "ops@example.com"})
    assert missing.status == 422 and [e["name"] for e in missing.json["errors"]] == ["password"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("email", "password"), [("o" * 330 + "@example.com", PASSWORD), ("ops@example.com", "p" * 1025)]
)
def test_an_email_or_a_password_of_any_length_is_a_wrong_sign_in_not_a_validation_error(
    conn: Any, admin_api: Callable[..., Any], email: str, password: str
) -> None:
    # Over the schema's bounds (320, 1,024 characters) the answer was 422 validation_error, under them 401.
    admins.create_admin(conn, Actor.cli(), email="ops@example.com", password=PASSWORD)
    wrong = admin_api("POST", "/admin/login", body={"email": email, "password": password})
    assert (wrong.status, wrong.json["code"]) == (401, "invalid_credentials")


@pytest.mark.slow
def test_from_one_address_an_unknown_email_gets_the_answers_an_admins_gets(
    conn: Any, admin_api: Callable[..., Any]
) -> None:
    # Email probing: the sixth wrong attempt from one address was 429 for an admin's email and 401 for a stranger's.
    admins.create_admin(conn, Actor.cli(), email="ops@example.com", password=PASSWORD)

    def answers(email: str) -> list[tuple[Any, ...]]:
        seen = []
        for _ in range(7):
            answer = admin_api("POST", "/admin/login", body={"email": email, "password": "guess"}, source_ip=GUESSER)
            retry = answer.headers.get("retry-after")
            problem = {k: v for k, v in answer.json.items() if k not in ("request_id", "reset_at")}
            seen.append((answer.status, problem, None if retry is None else int(retry)))
        return seen

    admin, stranger = answers("ops@example.com"), answers("nobody@example.com")
    assert [a[0] for a in admin] == [401] * 5 + [429] * 2
    assert [a[:2] for a in admin] == [a[:2] for a in stranger]  # status, the whole problem (code, detail, limit)
    for mine, theirs in zip(admin, stranger, strict=True):  # Retry-After on the same answers, the same seconds
        assert (mine[2] is None) == (theirs[2] is None) and abs((mine[2] or 0) - (theirs[2] or 0)) <= 1
    assert admin[5][1]["code"] == "account_locked" and 840 <= admin[5][2] <= 900


GUESSER = "198.51.100.7"


@pytest.mark.slow
def test_a_lock_from_one_client_address_leaves_the_admins_own_address_working(
    conn: Any, admin_api: Callable[..., Any]
) -> None:
    # The route reads the address API Gateway saw (requestContext.identity.sourceIp), never X-Forwarded-For.
    admins.create_admin(conn, Actor.cli(), email="ops@example.com", password=PASSWORD)

    def login(password: str, source_ip: str, forwarded_for: str | None = None) -> Any:
        body = {"email": "ops@example.com", "password": password}
        headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else None
        return admin_api("POST", "/admin/login", body=body, headers=headers, source_ip=source_ip)

    for _ in range(5):
        assert login("guess", "198.51.100.7").status == 401
    assert login(PASSWORD, "198.51.100.7", forwarded_for="192.0.2.1").json["code"] == "account_locked"
    assert login(PASSWORD, "192.0.2.1").status == 200


def test_logout_ends_the_session(conn: Any, admin_token: str, admin_api: Callable[..., Any]) -> None:
    assert admin_api("POST", "/admin/logout", token=admin_token).status == 204
    after = admin_api("GET", "/admin/me", token=admin_token)
    assert (after.status, after.json["code"]) == (401, "session_revoked")


def test_logout_is_204_whatever_the_session_and_ends_only_the_one_it_names(
    conn: Any, actor: Actor, admin_api: Callable[..., Any], developer_token: str
) -> None:
    assert actor.admin_id is not None
    admin_id = actor.admin_id

    def login() -> str:
        return sessions.start_session(conn, role="admin", subject_id=admin_id).access_token

    def logout(token: str | None = None, headers: dict[str, str] | None = None) -> None:
        answer = admin_api("POST", "/admin/logout", token=token, headers=headers)
        assert (answer.status, answer.body) == (204, ""), answer.body
        assert "set-cookie" not in answer.headers  # sessions are bearer tokens: no cookie to clear

    def open_(token: str) -> bool:
        return bool(admin_api("GET", "/admin/me", token=token).status == 200)

    token = login()
    logout(token)
    logout(token)  # the second sign-out of the same session
    ended = login()
    sessions.end_all_sessions(conn, role="admin", subject_id=admin_id, reason="test")
    logout(ended)
    expired = login()
    conn.execute(
        "UPDATE sessions SET expires_at = now() - interval '1 second' WHERE role = 'admin' AND revoked_at IS NULL"
    )
    assert admin_api("GET", "/admin/me", token=expired).json["code"] == "session_expired"
    logout(expired)
    kept = login()
    forged = kept[:-4] + ("AAAA" if not kept.endswith("AAAA") else "BBBB")
    logout()
    logout("nonsense")
    logout(forged)
    logout(headers={"Authorization": f"Basic {kept}"})
    logout(developer_token)  # a developer's session is not the admin portal's to end
    assert open_(kept)
    assert sessions.verify_session(conn, developer_token, role="developer") is not None
    conn.execute("UPDATE admins SET status = 'disabled' WHERE id = %s", (admin_id,))
    logout(kept)  # a disabled admin may still sign out
    conn.execute("UPDATE admins SET status = 'active' WHERE id = %s", (admin_id,))
    assert not open_(kept)


def test_suspend_then_reactivate_a_key_through_the_api(
    conn: Any,
    admin_token: str,
    admin_api: Callable[..., Any],
    make_developer: Callable[..., Any],
    call_movies: Callable[[str], tuple[int, Any]],
    audit_rows: Callable[..., Any],
) -> None:
    dev = make_developer()
    suspended = admin_api("POST", f"/admin/keys/{dev.key_id}/suspend", token=admin_token)
    assert suspended.status == 200 and suspended.json["status"] == "suspended"
    assert suspended.json["refusal"] == "key_suspended" and dev.raw_key not in suspended.body
    assert call_movies(dev.raw_key) == (403, "key_suspended")
    assert admin_api("POST", f"/admin/keys/{dev.key_id}/reactivate", token=admin_token).json["status"] == "active"
    assert call_movies(dev.raw_key) == (200, None)
    [entry] = audit_rows(action="api_key.suspend")
    assert entry["request_id"] == "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"  # the API Gateway request id of the event


def test_keys_list_filters_sorts_and_pages_on_the_server(
    conn: Any, admin_token: str, admin_api: Callable[..., Any], make_developer: Callable[..., Any]
) -> None:
    for i in range(3):
        make_developer(f"route{i}@gmail.com", plans=("pro",))
    first = admin_api(
        "GET",
        "/admin/keys",
        token=admin_token,
        query={"q": "route", "sort": "created.asc", "per_page": "2", "plan": "pro"},
    )
    assert first.status == 200
    assert (first.json["page"], first.json["per_page"], first.json["total_results"], first.json["total_pages"]) == (
        1,
        2,
        3,
        2,
    )
    assert [k["owner_email"] for k in first.json["results"]] == ["route0@gmail.com", "route1@gmail.com"]
    bad = admin_api("GET", "/admin/keys", token=admin_token, query={"sort": "price", "status": "lost", "per_page": "0"})
    assert bad.status == 422 and {e["name"] for e in bad.json["errors"]} == {"sort", "status", "per_page"}
    unknown_plan = admin_api("GET", "/admin/keys", token=admin_token, query={"plan": "platinum"})
    assert (unknown_plan.status, unknown_plan.json["errors"][0]["name"]) == (422, "plan")


def test_create_key_shows_it_once_and_reset_plan_revoke_delete(
    conn: Any,
    admin_token: str,
    admin_api: Callable[..., Any],
    make_developer: Callable[..., Any],
    call_movies: Callable[[str], tuple[int, Any]],
) -> None:
    dev = make_developer(plans=())
    created = admin_api("POST", "/admin/keys", token=admin_token, body={"plan": "free", "developer_id": dev.id})
    assert created.status == 201
    raw = created.json["api_key"]
    key_id = created.json["key"]["id"]
    assert created.json["key"]["last4"] == raw[-4:] and call_movies(raw) == (200, None)
    assert raw not in admin_api("GET", f"/admin/keys/{key_id}", token=admin_token).body
    assert admin_api("POST", f"/admin/keys/{key_id}/reset-usage", token=admin_token).json["usage_today"] == 0
    moved = admin_api("POST", f"/admin/keys/{key_id}/plan", token=admin_token, body={"plan": "pro"})
    assert moved.json["plan"] == "pro"
    assert admin_api("POST", f"/admin/keys/{key_id}/revoke", token=admin_token).json["status"] == "revoked"
    again = admin_api("POST", f"/admin/keys/{key_id}/reactivate", token=admin_token)
    assert (again.status, again.json["code"]) == (409, "key_state_conflict")
    assert admin_api("DELETE", f"/admin/keys/{key_id}", token=admin_token).status == 204
    gone = admin_api("GET", f"/admin/keys/{key_id}", token=admin_token)
    assert (gone.status, gone.json["code"]) == (404, "not_found")
    named = admin_api("POST", "/admin/keys", token=admin_token, body={"plan": "free", "owner_email": "not an email"})
    assert named.status == 422 and named.json["errors"][0]["name"] == "owner_email"
    extra = admin_api("POST", "/admin/keys", token=admin_token, body={"plan": "free", "owner_email": "a@b.org", "x": 1})
    assert extra.status == 422 and extra.json["errors"][0]["name"] == "x"


@pytest.mark.slow
def test_no_cache_may_keep_an_admin_answer(
    admin_token: str, admin_api: Callable[..., Any], make_developer: Callable[..., Any]
) -> None:
    # A new key in the clear, every developer's address, a session token: no browser or proxy cache may keep them.
    dev = make_developer(plans=())
    created = admin_api("POST", "/admin/keys", token=admin_token, body={"plan": "free", "developer_id": dev.id})
    listed = admin_api("GET", "/admin/developers", token=admin_token)
    refused = admin_api("GET", "/admin/developers")
    login = admin_api("POST", "/admin/login", body={"email": "nobody@example.com", "password": "wrong-wrong-wrong"})
    assert (created.status, listed.status, refused.status, login.status) == (201, 200, 401, 401)
    for answer in (created, listed, refused, login):
        assert answer.headers["cache-control"] == "no-store"
    document = admin_api("GET", "/admin/openapi.json").json
    assert document["paths"]["/admin/developers"]["get"]["responses"]["200"]["headers"]["Cache-Control"]


def test_developers_list_detail_suspend_and_unsuspend(
    conn: Any,
    admin_token: str,
    admin_api: Callable[..., Any],
    make_developer: Callable[..., Any],
    call_movies: Callable[[str], tuple[int, Any]],
) -> None:
    dev = make_developer("detail.route@gmail.com", name="Detail Route")
    listed = admin_api("GET", "/admin/developers", token=admin_token, query={"q": "detail.route"})
    assert [d["id"] for d in listed.json["results"]] == [dev.id]
    detail = admin_api("GET", f"/admin/developers/{dev.id}", token=admin_token)
    assert detail.status == 200 and len(detail.json["usage"]) == 30 and detail.json["keys"][0]["id"] == dev.key_id
    assert detail.json["timeline"][-1]["kind"] in ("signup", "key_created")
    assert admin_api("POST", f"/admin/developers/{dev.id}/suspend", token=admin_token).json["status"] == "suspended"
    assert call_movies(dev.raw_key) == (403, "key_suspended")
    assert admin_api("POST", f"/admin/developers/{dev.id}/unsuspend", token=admin_token).json["status"] == "active"
    assert call_movies(dev.raw_key) == (200, None)
    assert admin_api("GET", "/admin/developers/999999999", token=admin_token).status == 404


def test_the_developers_list_tells_sign_ups_from_owners_an_admin_named(
    conn: Any, admin_token: str, admin_api: Callable[..., Any], make_developer: Callable[..., Any]
) -> None:
    # A tester saw a "Signed up" date for owners an admin named with a key (marquee create-key --owner): they never
    # signed up. The list now gives signed_up_at, null for them.
    from movie_common.db import developers as developer_rows

    named = make_developer("named.owner@gmail.com", name="Named Owner")
    signed = developer_rows.create_developer(
        conn, name="Signed Up", email="signed.up@gmail.com", canonical_email="signedup@gmail.com", hashed_password="x"
    )
    listed = admin_api("GET", "/admin/developers", token=admin_token, query={"q": "gmail.com", "per_page": "100"})
    by_id = {d["id"]: d for d in listed.json["results"]}
    assert by_id[named.id]["signed_up_at"] is None and by_id[named.id]["created_at"]
    assert by_id[signed]["signed_up_at"] is not None
    detail = admin_api("GET", f"/admin/developers/{signed}", token=admin_token)
    assert detail.json["developer"]["signed_up_at"] == by_id[signed]["signed_up_at"]
    # Their timelines said the same: "Signed up as named.owner@gmail.com" under the page's "Added by an admin".
    assert detail.json["timeline"][-1]["summary"] == "Signed up as signed.up@gmail.com"
    named_detail = admin_api("GET", f"/admin/developers/{named.id}", token=admin_token)
    first = named_detail.json["timeline"][-1]
    assert first["summary"] == "Added as named.owner@gmail.com by an admin or the CLI, as a key's owner"
    assert not any("Signed up" in event["summary"] for event in named_detail.json["timeline"])


def test_reissue_requests_approve_and_deny(
    conn: Any,
    admin_token: str,
    admin_api: Callable[..., Any],
    make_developer: Callable[..., Any],
    call_movies: Callable[[str], tuple[int, Any]],
) -> None:
    first, second = make_developer(), make_developer()
    filed = [
        key_request_rows.file_request(conn, user_id=d.id, api_key_id=d.key_id, reason=r)
        for d, r in ((first, "leaked"), (second, "lost"))
    ]
    one, two = (f.id for f in filed if f is not None)
    pending = admin_api("GET", "/admin/key-requests", token=admin_token, query={"status": "pending"})
    assert {one, two} <= {r["id"] for r in pending.json["results"]}
    approved = admin_api("POST", f"/admin/key-requests/{one}/approve", token=admin_token)
    assert approved.json["status"] == "approved" and call_movies(first.raw_key) == (403, "key_revoked")
    no_reason = admin_api("POST", f"/admin/key-requests/{two}/deny", token=admin_token, body={"reason": ""})
    assert no_reason.status == 422 and no_reason.json["errors"][0]["name"] == "reason"
    denied = admin_api("POST", f"/admin/key-requests/{two}/deny", token=admin_token, body={"reason": "Not lost."})
    assert (denied.json["status"], denied.json["decision_note"]) == ("denied", "Not lost.")
    twice = admin_api("POST", f"/admin/key-requests/{two}/approve", token=admin_token)
    assert (twice.status, twice.json["code"]) == (409, "key_request_decided")


def test_plans_view_and_edit(
    conn: Any,
    admin_token: str,
    admin_api: Callable[..., Any],
    make_developer: Callable[..., Any],
    call_movies: Callable[[str], tuple[int, Any]],
) -> None:
    listed = admin_api("GET", "/admin/plans", token=admin_token)
    assert [p["id"] for p in listed.json["results"]] == ["free", "pro", "unlimited"]
    dev = make_developer()
    edited = admin_api("PATCH", "/admin/plans/free", token=admin_token, body={"per_minute": 1, "name": "Starter"})
    assert (edited.status, edited.json["per_minute"], edited.json["name"]) == (200, 1, "Starter")
    assert call_movies(dev.raw_key) == (200, None)
    assert call_movies(dev.raw_key) == (429, "rate_limited")
    uncapped = admin_api("PATCH", "/admin/plans/free", token=admin_token, body={"daily_quota": None})
    assert uncapped.json["daily_quota"] is None
    bad = admin_api("PATCH", "/admin/plans/free", token=admin_token, body={"per_minute": 0, "gateway_tier": "gold"})
    assert bad.status == 422 and {e["name"] for e in bad.json["errors"]} == {"per_minute", "gateway_tier"}
    assert admin_api("PATCH", "/admin/plans/gold", token=admin_token, body={"per_minute": 5}).status == 404


def test_a_plans_key_count_leaves_revoked_keys_out(
    conn: Any, admin_token: str, admin_api: Callable[..., Any], make_key: Callable[..., str]
) -> None:
    """The plans page said free had 102 keys where 98 were in use, and its confirmation that the new limits hold
    "from each key's next request" counted keys that make none (the thirty-fifth tester)."""

    def count() -> int:
        listed = admin_api("GET", "/admin/plans", token=admin_token).json["results"]
        return int(next(p["keys"] for p in listed if p["id"] == "pro"))

    before = count()
    make_key("pro", owner="plan-count-a@gmail.com")
    make_key("pro", status="suspended", owner="plan-count-b@gmail.com")
    make_key("pro", status="revoked", owner="plan-count-c@gmail.com")
    assert count() == before + 2


def test_a_stale_if_match_cannot_undo_another_admins_plan_edit(
    conn: Any, admin_token: str, admin_api: Callable[..., Any], make_developer: Callable[..., Any]
) -> None:
    # Two admins edit one plan: the second save silently put back what the first had changed (a lost update), as
    # movie edits did before their ETag (the twenty-fifth tester); the same kind, the same cure.
    read = admin_api("GET", "/admin/plans/pro", token=admin_token)
    assert read.status == 200 and read.json["id"] == "pro"
    tag = read.headers["etag"]
    assert tag.startswith('"') and tag.endswith('"')
    make_developer(plans=("pro",))  # a key issued on the plan is no change to its limits: the tag stays
    assert admin_api("GET", "/admin/plans/pro", token=admin_token).headers["etag"] == tag
    first = admin_api(
        "PATCH", "/admin/plans/pro", token=admin_token, body={"per_minute": 77}, headers={"If-Match": tag}
    )
    assert first.status == 200 and first.headers["etag"] != tag
    stale = admin_api("PATCH", "/admin/plans/pro", token=admin_token, body={"per_minute": 5}, headers={"If-Match": tag})
    assert stale.status == 412 and stale.json["code"] == "precondition_failed"
    assert admin_api("GET", "/admin/plans/pro", token=admin_token).json["per_minute"] == 77
    weak = admin_api(
        "PATCH", "/admin/plans/pro", token=admin_token, body={"per_minute": 5}, headers={"If-Match": "W/" + tag}
    )
    assert weak.status == 412
    fresh = admin_api(
        "PATCH",
        "/admin/plans/pro",
        token=admin_token,
        body={"per_minute": 60},
        headers={"If-Match": first.headers["etag"]},
    )
    assert fresh.status == 200 and fresh.json["per_minute"] == 60
    assert admin_api("GET", "/admin/plans/gold", token=admin_token).status == 404


@pytest.mark.slow
def test_request_log_pages_and_the_csv_export(
    conn: Any,
    admin_token: str,
    admin_api: Callable[..., Any],
    make_developer: Callable[..., Any],
    export_folder: Path,
) -> None:
    tmp_path = export_folder
    dev = make_developer(plans=("pro",))
    for _ in range(3):
        access.admit(conn, dev.raw_key, endpoint="/movies/{id}")
    query = {"key_id": str(dev.key_id), "per_page": "2"}
    first = admin_api("GET", "/admin/requests", token=admin_token, query=query)
    assert first.status == 200 and len(first.json["results"]) == 2 and first.json["next_cursor"]
    rest = admin_api("GET", "/admin/requests", token=admin_token, query={**query, "cursor": first.json["next_cursor"]})
    assert len(rest.json["results"]) == 1 and rest.json["next_cursor"] is None
    bad = admin_api("GET", "/admin/requests", token=admin_token, query={"cursor": "garbage", "status_class": "6xx"})
    assert bad.status == 422 and {e["name"] for e in bad.json["errors"]} >= {"status_class"}
    assert "/movies/{id}" in admin_api("GET", "/admin/endpoints", token=admin_token).json["results"]

    redirect = admin_api(
        "GET", "/admin/requests.csv", token=admin_token, query={"key_id": str(dev.key_id)}, headers={"Accept": "*/*"}
    )
    assert redirect.status == 303
    location = urlsplit(redirect.headers["location"])
    assert location.path.startswith("/prod/admin/exports/")  # the API's own URL, stage included, as the client sees it
    download = admin_api("GET", location.path.removeprefix("/prod"))  # no session: the random name is the credential
    assert download.status == 200 and download.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in download.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(download.body)))
    assert len(rows) == 3 and {r["endpoint"] for r in rows} == {"/movies/{id}"}
    for wrong in ("..%2F..%2Fetc%2Fpasswd", "AAAAAAAAAAAAAAAAAAAAAA-requests-20260101T000000Z.csv"):
        assert admin_api("GET", "/admin/exports/" + wrong).status == 404
    described = admin_api("GET", "/admin/requests.csv", token=admin_token, query={"key_id": str(dev.key_id)})
    assert described.status == 200 and "/prod/admin/exports/" in described.json["download_url"]
    assert described.json["bytes"] == len((tmp_path / described.json["file"]).read_bytes())
    files = len(list(tmp_path.iterdir()))
    head = admin_api("HEAD", "/admin/requests.csv", token=admin_token)
    assert head.status == 200 and head.body == "" and len(list(tmp_path.iterdir())) == files  # no export for HEAD


def test_overview_from_the_rollups(
    conn: Any, admin_token: str, admin_api: Callable[..., Any], make_developer: Callable[..., Any]
) -> None:
    dev = make_developer()
    access.admit(conn, dev.raw_key, endpoint="/t-overview")
    overview = admin_api("GET", "/admin/overview", token=admin_token, query={"days": "7"})
    assert overview.status == 200 and len(overview.json["days"]) == 7
    assert overview.json["days"][-1]["requests"] >= 1 and overview.json["days"][-1]["active_developers"] >= 1
    assert any(e["endpoint"] == "/t-overview" for e in overview.json["endpoints"])
    assert admin_api("GET", "/admin/overview", token=admin_token, query={"days": "31"}).status == 422


@pytest.mark.slow
def test_movies_through_the_api(conn: Any, admin_token: str, admin_api: Callable[..., Any]) -> None:
    body = {"title": "Route Movie Zq", "year": 2001, "genre": "Drama", "runtime": "95 min"}
    created = admin_api("POST", "/admin/movies", token=admin_token, body=body)
    assert created.status == 201 and created.json["runtime"] == 95 and created.json["source"] == "admin"
    movie_id = created.json["id"]
    duplicate = admin_api("POST", "/admin/movies", token=admin_token, body={**body, "title": "ROUTE movie zq"})
    assert (duplicate.status, duplicate.json["code"]) == (409, "duplicate_movie")
    bad = admin_api("POST", "/admin/movies", token=admin_token, body={"title": "", "year": "1700", "tmdb_id": 5})
    assert bad.status == 422 and {e["name"] for e in bad.json["errors"]} == {"title", "year", "tmdb_id"}
    edited = admin_api("PATCH", f"/admin/movies/{movie_id}", token=admin_token, body={"rating": "7.5"})
    assert edited.json["rating"] == 7.5 and edited.json["runtime"] == 95
    found = admin_api("GET", "/admin/movies", token=admin_token, query={"q": "route movie", "sort": "title.asc"})
    assert [m["id"] for m in found.json["results"]] == [movie_id]
    assert admin_api("DELETE", f"/admin/movies/{movie_id}", token=admin_token).status == 204
    assert admin_api("GET", f"/admin/movies/{movie_id}", token=admin_token).status == 404


def test_the_longest_plot_fits_the_admin_body_bound_and_more_is_a_413(
    admin_token: str, admin_api: Callable[..., Any]
) -> None:
    """A plot of the most characters allowed, each escaped in JSON (`\\u00e9`: 6 bytes), is about 120 KB."""
    plot = "\u00e9" * 20_000
    assert len(json.dumps({"plot": plot})) > 120_000
    created = admin_api("POST", "/admin/movies", token=admin_token, body={"title": "Body Bound Zq", "plot": plot})
    assert created.status == 201 and created.json["plot"] == plot
    big = admin_api("POST", "/admin/movies", token=admin_token, body={"title": "Body Bound Zr", "notes": "x" * 262_144})
    assert (big.status, big.json["code"]) == (413, "payload_too_large")


def test_a_stale_if_match_cannot_undo_another_admins_movie_edit_or_delete_it(
    conn: Any, admin_token: str, admin_api: Callable[..., Any], audit_rows: Callable[..., list[dict[str, Any]]]
) -> None:
    # Two admins open one movie; the second saves the genres first; the first, still holding the old version,
    # saved over them (a lost update): If-Match was ignored and no ETag was given to send.
    created = admin_api("POST", "/admin/movies", token=admin_token, body={"title": "Lost Update Zq", "genre": "Drama"})
    assert created.status == 201 and created.headers["etag"].startswith('"')
    movie_id = created.json["id"]
    read = admin_api("GET", f"/admin/movies/{movie_id}", token=admin_token)
    assert read.headers["etag"] == created.headers["etag"]
    first_read = read.headers["etag"]

    second = admin_api(
        "PATCH",
        f"/admin/movies/{movie_id}",
        token=admin_token,
        body={"genre": "Drama, Crime"},
        headers={"If-Match": first_read},
    )
    assert second.status == 200 and second.headers["etag"] != first_read
    stale = admin_api(
        "PATCH",
        f"/admin/movies/{movie_id}",
        token=admin_token,
        body={"genre": "Comedy"},
        headers={"If-Match": first_read},
    )
    assert (stale.status, stale.json["code"]) == (412, "precondition_failed")
    assert stale.json["title"] == "Changed since it was read" and f"Movie {movie_id} changed" in stale.json["detail"]
    gone = admin_api("DELETE", f"/admin/movies/{movie_id}", token=admin_token, headers={"If-Match": first_read})
    assert (gone.status, gone.json["code"]) == (412, "precondition_failed")
    for tag in ("W/" + second.headers["etag"], "nonsense", '""'):  # weak, malformed, empty: never a match
        refused = admin_api(
            "PATCH", f"/admin/movies/{movie_id}", token=admin_token, body={"plot": "x"}, headers={"If-Match": tag}
        )
        assert refused.status == 412, tag
    kept = admin_api("GET", f"/admin/movies/{movie_id}", token=admin_token)
    assert kept.json["genre"] == ["Drama", "Crime"] and kept.json["plot"] is None
    assert kept.headers["etag"] == second.headers["etag"]
    assert [r["action"] for r in audit_rows(target_type="movie", target_id=str(movie_id))] == [
        "movie.create",
        "movie.update",
    ]

    # The current tag, one of a list, or `*` passes; no If-Match at all keeps the old last-write-wins.
    listed = admin_api(
        "PATCH",
        f"/admin/movies/{movie_id}",
        token=admin_token,
        body={"plot": "Kept."},
        headers={"If-Match": f'"old", {second.headers["etag"]}'},
    )
    assert listed.status == 200 and listed.json["plot"] == "Kept."
    star = admin_api(
        "PATCH", f"/admin/movies/{movie_id}", token=admin_token, body={"rating": "7"}, headers={"If-Match": "*"}
    )
    assert star.status == 200
    assert admin_api("PATCH", f"/admin/movies/{movie_id}", token=admin_token, body={"runtime": "90"}).status == 200
    current = admin_api("GET", f"/admin/movies/{movie_id}", token=admin_token).headers["etag"]
    deleted = admin_api("DELETE", f"/admin/movies/{movie_id}", token=admin_token, headers={"If-Match": current})
    assert deleted.status == 204


def test_a_release_date_years_from_the_year_is_a_422_naming_it(
    conn: Any, admin_token: str, admin_api: Callable[..., Any]
) -> None:
    body = {"title": "Gap Movie Zq", "year": 1994, "release_date": "2031-01-01"}
    refused = admin_api("POST", "/admin/movies", token=admin_token, body=body)
    assert (refused.status, refused.json["code"]) == (422, "validation_error")
    assert refused.json["errors"] == [
        {
            "name": "release_date",
            "in": "body",
            "reason": "year_mismatch: the release date 2031-01-01 is 37 years from the year 1994; they may differ by "
            "at most 1 (a festival premiere the year before the release)",
        }
    ]
    assert admin_api("GET", "/admin/movies", token=admin_token, query={"q": "gap movie zq"}).json["results"] == []

    festival = admin_api("POST", "/admin/movies", token=admin_token, body={**body, "release_date": "1995-03-10"})
    assert festival.status == 201 and (festival.json["year"], festival.json["release_date"]) == (1994, "1995-03-10")
    movie_id = festival.json["id"]
    for change, year in (({"release_date": "2031-01-01"}, 1994), ({"year": 2010}, 2010)):
        edit = admin_api("PATCH", f"/admin/movies/{movie_id}", token=admin_token, body=change)
        assert edit.status == 422 and [e["name"] for e in edit.json["errors"]] == ["release_date"]
        assert edit.json["errors"][0]["reason"].startswith("year_mismatch: the release date")
        assert f"from the year {year};" in edit.json["errors"][0]["reason"]
    kept = admin_api("GET", f"/admin/movies/{movie_id}", token=admin_token).json
    assert (kept["year"], kept["release_date"]) == (1994, "1995-03-10")


def test_audit_list_and_export(
    conn: Any,
    admin_token: str,
    admin_api: Callable[..., Any],
    make_developer: Callable[..., Any],
    export_folder: Path,
) -> None:
    tmp_path = export_folder
    dev = make_developer()
    admin_api("POST", f"/admin/keys/{dev.key_id}/suspend", token=admin_token)
    listed = admin_api("GET", "/admin/audit", token=admin_token, query={"developer_id": str(dev.id)})
    [entry] = listed.json["results"]
    assert (entry["action"], entry["actor"], entry["target_id"]) == (
        "api_key.suspend",
        "ops@marquee.test",
        str(dev.key_id),
    )
    assert entry["before"]["status"] == "active" and entry["after"]["status"] == "suspended"
    exported = admin_api("GET", "/admin/audit.csv", token=admin_token, query={"developer_id": str(dev.id)})
    rows = list(csv.DictReader(io.StringIO((tmp_path / exported.json["file"]).read_text())))
    assert [r["action"] for r in rows] == ["api_key.suspend"]
    exports = admin_api("GET", "/admin/audit", token=admin_token, query={"action": "audit_log.export"})
    assert exports.json["total_results"] == 1


def test_a_local_download_expires_like_a_presigned_url(
    conn: Any, admin_token: str, admin_api: Callable[..., Any], export_folder: Path
) -> None:
    described = admin_api("GET", "/admin/audit.csv", token=admin_token)
    path = urlsplit(described.json["download_url"]).path.removeprefix("/prod")
    assert admin_api("GET", path).status == 200
    stale = time.time() - 2 * 3600
    os.utime(export_folder / described.json["file"], (stale, stale))
    gone = admin_api("GET", path)
    assert (gone.status, gone.json["code"]) == (404, "not_found")


@pytest.mark.slow
def test_logs_never_carry_a_key_a_token_or_a_password(
    conn: Any, admin_api: Callable[..., Any], make_developer: Callable[..., Any]
) -> None:
    from movie_admin.handler import logger

    admins.create_admin(conn, Actor.cli(), email="logs@example.com", password=PASSWORD)
    buffer = io.StringIO()
    stream = logger.registered_handler.setStream(buffer)  # what CloudWatch would receive, as Powertools writes it
    try:
        token = admin_api("POST", "/admin/login", body={"email": "logs@example.com", "password": PASSWORD}).json
        dev = make_developer(plans=())
        body = {"plan": "free", "developer_id": dev.id}
        created = admin_api("POST", "/admin/keys", token=token["access_token"], body=body)
        admin_api("POST", "/admin/login", body={"email": "logs@example.com", "password": "a wrong password here"})
    finally:
        logger.registered_handler.setStream(stream)
    logged = buffer.getvalue()
    lines = [json.loads(line) for line in logged.splitlines() if line.startswith("{")]
    assert {(line["route"], line["status"]) for line in lines} >= {("/admin/login", 200), ("/admin/keys", 201)}
    assert any(line.get("session_role") == "admin" for line in lines)  # the acting admin is on its lines
    for secret in (created.json["api_key"], token["access_token"], PASSWORD, "a wrong password here"):
        assert secret not in logged


@pytest.mark.parametrize(("path", "name"), [("/admin/keys", "page"), ("/admin/overview", "days")])
def test_a_repeated_parameter_is_a_422_naming_it_as_in_the_public_api(
    admin_token: str, admin_api: Callable[..., Any], path: str, name: str
) -> None:
    """`?page=1&page=2` quietly took one of the two (found by a tester)."""
    answer = admin_api("GET", path, token=admin_token, query=[(name, "1"), (name, "2")])
    assert answer.status == 422, answer.body
    assert answer.json["code"] == "validation_error"
    assert [e["name"] for e in answer.json["errors"]] == [name]


@pytest.mark.slow
def test_time_filters_with_any_offset_or_none_are_answered_never_a_500(
    conn: Any,
    admin_token: str,
    admin_api: Callable[..., Any],
    make_developer: Callable[..., Any],
    export_folder: Path,
) -> None:
    # Offsets Python accepts and PostgreSQL does not (over ±15:59) reached the exports' COPY as text (a 500); a
    # moment with no UTC equivalent, or a zone on one bound and none on the other, failed in Python (a 500).
    tmp_path = export_folder
    dev = make_developer(plans=("pro",))
    access.admit(conn, dev.raw_key, endpoint="/movies/{id}")
    admin_api("POST", f"/admin/keys/{dev.key_id}/suspend", token=admin_token)
    wide = {"since": "2000-01-01T12:00:00+22:30", "until": "2100-01-01T00:00:00-23:59"}
    for path, developer in (("/admin/requests", "owner_id"), ("/admin/audit", "developer_id")):
        query = {**wide, developer: str(dev.id)}
        listed = admin_api("GET", path, token=admin_token, query=query).json["results"]
        exported = admin_api("GET", path + ".csv", token=admin_token, query=query)
        assert exported.status == 200, exported.body
        rows = list(csv.DictReader(io.StringIO((tmp_path / exported.json["file"]).read_text())))
        assert listed and [int(r["id"]) for r in rows] == [e["id"] for e in listed]
        for path_ in (path, path + ".csv"):
            for bad in ({"since": "9999-12-31T23:59:59-01:00"}, {"until": "0001-01-01T00:00:00+01:00"}):
                answer = admin_api("GET", path_, token=admin_token, query=bad)
                assert answer.status == 422 and [e["name"] for e in answer.json["errors"]] == list(bad), answer.body
    mixed = {"since": "2000-01-01T00:00:00", "until": "2100-01-01T00:00:00Z"}
    for path_ in ("/admin/requests", "/admin/requests.csv"):
        answer = admin_api("GET", path_, token=admin_token, query=mixed)
        assert answer.status == 422 and [e["name"] for e in answer.json["errors"]] == ["since"]
    for path_ in ("/admin/audit", "/admin/audit.csv"):  # the audit log reads a time without a zone as UTC
        assert admin_api("GET", path_, token=admin_token, query={**mixed, "developer_id": str(dev.id)}).status == 200


def test_a_key_expiry_with_no_utc_equivalent_is_a_422_naming_it(
    conn: Any, admin_token: str, admin_api: Callable[..., Any]
) -> None:
    body = {"owner_email": "expiry.b3@example.com", "plan": "free"}
    for moment in ("9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00"):
        answer = admin_api("POST", "/admin/keys", token=admin_token, body={**body, "expires_at": moment})
        assert answer.status == 422 and [e["name"] for e in answer.json["errors"]] == ["expires_at"], answer.body
    made = admin_api("POST", "/admin/keys", token=admin_token, body={**body, "expires_at": "2030-01-01T00:00:00+22:30"})
    assert made.status == 201 and made.json["key"]["expires_at"] == "2029-12-31T01:30:00Z"


def test_a_key_that_would_be_born_expired_is_a_422_and_nothing_is_issued(
    conn: Any, admin_token: str, admin_api: Callable[..., Any]
) -> None:
    body = {"owner_email": "born.expired@example.com", "plan": "free"}
    keys_before = conn.execute("SELECT count(*) AS n FROM api_keys").fetchone()["n"]
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    for moment in (past, "2001-01-01T00:00:00Z", "2001-01-01T00:00:00"):
        answer = admin_api("POST", "/admin/keys", token=admin_token, body={**body, "expires_at": moment})
        assert answer.status == 422 and answer.json["code"] == "validation_error", answer.body
        assert [e["name"] for e in answer.json["errors"]] == ["expires_at"] and "past" in answer.json["detail"]
    assert conn.execute("SELECT count(*) AS n FROM api_keys").fetchone()["n"] == keys_before
    soon = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    assert admin_api("POST", "/admin/keys", token=admin_token, body={**body, "expires_at": soon}).status == 201


@pytest.mark.parametrize("base", ["/v1", "/admin"])
def test_the_greedy_admin_route_answers_behind_a_custom_domains_base_path(
    admin_api: Callable[..., Any], admin_token: str, base: str
) -> None:
    """Behind a custom domain mapped at `base`, API Gateway sends `path` with the base path (`/v1/admin/keys`) and
    `pathParameters.proxy` without it: the function routes the resource's path, whatever the base path spells."""
    from movie_admin.handler import handler

    direct = admin_api("GET", "/admin/keys", token=admin_token)
    assert direct.status == 200
    event = json.loads((Path(__file__).parents[2] / "events" / "list_keys.json").read_text())
    event["headers"]["Authorization"] = f"Bearer {admin_token}"
    event["multiValueHeaders"]["Authorization"] = [f"Bearer {admin_token}"]
    event["path"] = event["requestContext"]["path"] = base + "/admin/keys"
    response = handler(event, LocalLambdaContext(function_name="AdminFunction"))
    assert response["statusCode"] == 200, response["body"]
    assert json.loads(response["body"]) == direct.json


@pytest.mark.parametrize(
    ("field", "under", "over"),
    [
        ("owner_email", "o" * 300 + "@example.com", "o" * 400 + "@example.com"),
        ("owner_name", "n" * 100 + "\x07" + "n" * 99, "n" * 400),
    ],
)
def test_an_owner_refused_over_the_schemas_bound_gets_the_problem_one_under_it_gets(
    conn: Any, admin_token: str, admin_api: Callable[..., Any], field: str, under: str, over: str
) -> None:
    # An owner_email over 320 characters was refused by the schema ("String should have at most 320 characters"),
    # one under it by the service ("The email address is too long (58 characters too many)"): one kind, two reasons.
    base = {"plan": "free", "owner_email": "long.owner@example.com"}
    keys_before = conn.execute("SELECT count(*) AS n FROM api_keys").fetchone()["n"]
    answers = [
        admin_api("POST", "/admin/keys", token=admin_token, body={**base, field: value}) for value in (under, over)
    ]
    seen = [(a.status, a.json["code"], a.json["detail"], a.json["errors"]) for a in answers]
    assert seen[0] == seen[1], seen
    assert seen[0][0] == 422 and [e["name"] for e in seen[0][3]] == [field]
    assert conn.execute("SELECT count(*) AS n FROM api_keys").fetchone()["n"] == keys_before
