"""The admin's developer, reissue and plan use cases against the real PostgreSQL, seen through the API too."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from movie_admin.audit import Actor
from movie_admin.services import developers, key_requests, keys, plans
from movie_common import access, sessions
from movie_common.db import key_requests as key_request_rows
from movie_common.db.key_requests import KeyRequestFilters
from movie_common.db.users import DeveloperFilters
from movie_common.errors import (
    DeveloperSuspendedError,
    KeyRequestDecidedError,
    KeyStateConflictError,
    NotFoundError,
    RequestValidationError,
    SessionRevokedError,
)


def _filed(conn: Any, user_id: int, api_key_id: int, reason: str) -> int:
    filed = key_request_rows.file_request(conn, user_id=user_id, api_key_id=api_key_id, reason=reason)
    assert filed is not None
    return filed.id


def test_list_searches_filters_and_sorts_developers(conn: Any, make_developer: Callable[..., Any]) -> None:
    quiet = make_developer("quiet.one@gmail.com", name="Quiet One")
    busy = make_developer("busy.bee@gmail.com", name="Busy Bee", plans=("pro", "free"))
    unverified = make_developer("new.comer@gmail.com", name="New Comer", plans=(), verified=False)
    for _ in range(3):
        access.admit(conn, busy.raw_key, endpoint="/movies")

    def listed(sort: str = "created.desc", **filters: Any) -> list[int]:
        page = developers.list_developers(conn, filters=DeveloperFilters(**filters), sort=sort, page=1, per_page=100)
        return [d.id for d in page.results if d.id in {quiet.id, busy.id, unverified.id}]

    assert listed(search="BUSY.b") == [busy.id]
    assert listed(search="comer") == [unverified.id]
    assert listed(verified=False) == [unverified.id]
    assert listed(plan="pro") == [busy.id]
    assert listed() == [unverified.id, busy.id, quiet.id]
    assert listed(sort="usage_today.desc")[0] == busy.id
    assert listed(sort="name.asc") == [busy.id, unverified.id, quiet.id]
    page = developers.list_developers(
        conn, filters=DeveloperFilters(search="busy"), sort="name.asc", page=1, per_page=5
    )
    [row] = page.results
    assert (row.keys, row.active_keys, row.plans, row.usage_today, row.total_requests) == (2, 2, ["free", "pro"], 3, 3)
    assert row.last_active_at is not None and page.total_results == 1


def test_one_developer_shows_keys_usage_requests_and_a_timeline(
    conn: Any, make_developer: Callable[..., Any], actor: Actor
) -> None:
    dev = make_developer("whole.picture@gmail.com", plans=("free", "pro"))
    free_key, pro_key = dev.keys
    for _ in range(2):
        access.admit(conn, dev.keys[pro_key], endpoint="/movies/{id}")
    keys.suspend_key(conn, actor, key_id=free_key)
    _filed(conn, dev.id, pro_key, "laptop stolen")
    detail = developers.get_developer(conn, developer_id=dev.id)
    assert detail.developer.email == "whole.picture@gmail.com"
    assert {k.id: k.status for k in detail.keys} == {free_key: "suspended", pro_key: "active"}
    assert len(detail.usage) == developers.USAGE_DAYS
    assert detail.usage[-1].day == datetime.now(UTC).date() and detail.usage[-1].requests == 2
    assert sum(d.requests for d in detail.usage[:-1]) == 0
    assert [(r.endpoint, r.status, r.api_key_id) for r in detail.recent_requests] == [
        ("/movies/{id}", 200, pro_key)
    ] * 2
    assert [r.reason for r in detail.key_requests] == ["laptop stolen"]
    kinds = [event.kind for event in detail.timeline]
    assert {"signup", "key_created", "key_used", "key_request", "admin_action"} <= set(kinds)
    assert kinds[-1] == "signup" or detail.timeline[-1].at == detail.developer.created_at
    [action] = [e for e in detail.timeline if e.kind == "admin_action"]
    assert "api_key.suspend" in action.summary and action.key_id == free_key
    with pytest.raises(NotFoundError):
        developers.get_developer(conn, developer_id=2**62)


def test_suspending_a_developer_refuses_their_keys_ends_their_sessions_and_unsuspending_restores_them(
    conn: Any,
    make_developer: Callable[..., Any],
    actor: Actor,
    call_movies: Callable[[str], tuple[int, Any]],
    audit_rows: Callable[..., Any],
) -> None:
    dev = make_developer(plans=("free", "pro"))
    own_choice, kept = dev.keys
    keys.suspend_key(conn, actor, key_id=own_choice)  # suspended by an admin before, for its own reasons
    session = sessions.start_session(conn, role="developer", subject_id=dev.id)
    suspended = developers.suspend_developer(conn, actor, developer_id=dev.id)
    assert suspended.status == "suspended"
    assert call_movies(dev.keys[kept]) == (403, "key_suspended")  # the key policy reads the owner's status
    assert call_movies(dev.keys[own_choice])[0] == 403
    with pytest.raises(SessionRevokedError):
        sessions.verify_session(conn, session.access_token, role="developer")
    assert keys.get_key(conn, key_id=kept).refusal == "account_suspended"
    assert developers.suspend_developer(conn, actor, developer_id=dev.id).status == "suspended"  # no second entry
    restored = developers.unsuspend_developer(conn, actor, developer_id=dev.id)
    assert restored.status == "active" and restored.active_keys == 1
    assert call_movies(dev.keys[kept]) == (200, None)
    assert call_movies(dev.keys[own_choice]) == (403, "key_suspended")
    entries = audit_rows(target_type="developer", target_id=str(dev.id))
    assert [e["action"] for e in entries] == ["developer.suspend", "developer.unsuspend"]
    assert entries[0]["after"]["sessions_ended"] == 1
    assert (entries[0]["before"]["status"], entries[0]["after"]["status"]) == ("active", "suspended")


def test_approving_a_reissue_revokes_the_old_key_and_the_developer_sees_the_new_one_once(
    conn: Any,
    make_developer: Callable[..., Any],
    actor: Actor,
    call_movies: Callable[[str], tuple[int, Any]],
    audit_rows: Callable[..., Any],
    claim_key: Callable[[int, int], Any],
) -> None:
    dev = make_developer(plans=("pro",))
    request_id = _filed(conn, dev.id, dev.key_id, "leaked")
    early = claim_key(dev.id, request_id)
    assert (early.status, early.json["code"]) == (409, "key_request_not_approved")
    pending = key_requests.list_key_requests(
        conn, filters=KeyRequestFilters(status="pending", user_id=dev.id), sort="created.desc", page=1, per_page=10
    )
    assert [r.id for r in pending.results] == [request_id]
    approved = key_requests.approve_key_request(conn, actor, request_id=request_id)
    assert (approved.status, approved.decided_by, approved.decided_by_email) == ("approved", actor.admin_id, actor.name)
    assert call_movies(dev.raw_key) == (403, "key_revoked")  # the old key stops at approval
    revealed = claim_key(dev.id, request_id)
    assert revealed.status == 200 and revealed.json["key"]["plan"] == "pro"
    assert call_movies(revealed.json["api_key"]) == (200, None)
    again = claim_key(dev.id, request_id)
    assert (again.status, again.json["code"]) == (409, "key_already_revealed")  # shown once
    after = key_request_rows.get_admin_key_request(conn, request_id=request_id)
    assert after is not None and after.new_api_key_id is not None and after.fulfilled_at is not None
    with pytest.raises(KeyRequestDecidedError):
        key_requests.deny_key_request(conn, actor, request_id=request_id, reason="too late")
    [entry] = audit_rows(action="key_request.approve")
    assert entry["developer_id"] == dev.id and entry["after"]["status"] == "approved"


def test_denying_a_reissue_needs_a_reason_and_keeps_the_old_key(
    conn: Any, make_developer: Callable[..., Any], actor: Actor, call_movies: Callable[[str], tuple[int, Any]]
) -> None:
    dev = make_developer()
    request_id = _filed(conn, dev.id, dev.key_id, "lost")
    with pytest.raises(RequestValidationError) as refused:
        key_requests.deny_key_request(conn, actor, request_id=request_id, reason="  ")
    assert refused.value.errors[0].name == "reason"
    # The developer reads it: nothing invisible-only, no direction override.
    with pytest.raises(RequestValidationError):
        key_requests.deny_key_request(conn, actor, request_id=request_id, reason="\u200b\u2066\u2069")
    denied = key_requests.deny_key_request(conn, actor, request_id=request_id, reason="Use the key \u202eyou have.")
    assert (denied.status, denied.decision_note) == ("denied", "Use the key you have.")
    assert call_movies(dev.raw_key) == (200, None)
    with pytest.raises(KeyRequestDecidedError):
        key_requests.approve_key_request(conn, actor, request_id=request_id)
    with pytest.raises(NotFoundError):
        key_requests.approve_key_request(conn, actor, request_id=2**62)


def test_a_suspended_developers_reissue_cannot_be_approved(
    conn: Any, make_developer: Callable[..., Any], actor: Actor
) -> None:
    dev = make_developer()
    request_id = _filed(conn, dev.id, dev.key_id, "lost")
    developers.suspend_developer(conn, actor, developer_id=dev.id)
    with pytest.raises(DeveloperSuspendedError):
        key_requests.approve_key_request(conn, actor, request_id=request_id)


def test_a_reissue_of_a_suspended_key_cannot_lift_the_suspension(
    conn: Any,
    make_developer: Callable[..., Any],
    actor: Actor,
    call_movies: Callable[[str], tuple[int, Any]],
    claim_key: Callable[[int, int], Any],
) -> None:
    dev = make_developer()
    keys.suspend_key(conn, actor, key_id=dev.key_id)
    request_id = _filed(conn, dev.id, dev.key_id, "lost")
    with pytest.raises(KeyStateConflictError, match="reactivate it first"):
        key_requests.approve_key_request(conn, actor, request_id=request_id)
    pending = key_request_rows.get_admin_key_request(conn, request_id=request_id)
    assert pending is not None and (pending.status, pending.key_status) == ("pending", "suspended")
    assert call_movies(dev.raw_key) == (403, "key_suspended")
    # The admin decides the key may work again: then the reissue goes through as for any key.
    keys.reactivate_key(conn, actor, key_id=dev.key_id)
    approved = key_requests.approve_key_request(conn, actor, request_id=request_id)
    assert (approved.status, approved.key_status) == ("approved", "revoked")
    revealed = claim_key(dev.id, request_id)
    assert revealed.status == 200 and call_movies(revealed.json["api_key"]) == (200, None)


def test_plan_edits_hold_from_the_next_request(
    conn: Any,
    make_developer: Callable[..., Any],
    actor: Actor,
    call_movies: Callable[[str], tuple[int, Any]],
    audit_rows: Callable[..., Any],
) -> None:
    dev = make_developer()
    assert call_movies(dev.raw_key) == (200, None)
    plans.update_plan(conn, actor, plan_id="free", changes={"daily_quota": 1})
    assert call_movies(dev.raw_key) == (429, "daily_quota_exceeded")
    edited = plans.update_plan(conn, actor, plan_id="free", changes={"daily_quota": None, "per_minute": 2})
    assert (edited.daily_quota, edited.per_minute, edited.name) == (None, 2, "Free")
    assert call_movies(dev.raw_key) == (200, None)
    assert call_movies(dev.raw_key) == (429, "rate_limited")
    free = next(p for p in plans.list_plans(conn) if p.id == "free")
    assert free.keys >= 1 and free.per_minute == 2
    entries = audit_rows(action="plan.update", target_id="free")
    assert [(e["before"]["daily_quota"], e["after"]["daily_quota"]) for e in entries] == [(100, 1), (1, None)]
    plans.update_plan(conn, actor, plan_id="free", changes={"per_minute": 2})  # no change, no entry
    assert len(audit_rows(action="plan.update")) == 2


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"per_minute": 0}, ["per_minute"]),
        ({"daily_quota": -1, "gateway_tier": "gold"}, ["daily_quota", "gateway_tier"]),
        ({"name": ""}, ["name"]),
        # A plan's name is shown to developers: printable text on one line, and no other plan's (the fifteenth
        # tester: U+202E displayed `Pro` as `orP` on the landing page, and `Free` could be renamed `pro`).
        ({"name": "\u202eorP"}, ["name"]),
        ({"name": "Pro\u200b"}, ["name"]),
        ({"name": "x" * 61}, ["name"]),
        ({"name": 5}, ["name"]),
        ({"name": " free "}, ["name"]),
        ({"per_minute": "10"}, ["per_minute"]),
        ({"per_minute": True}, ["per_minute"]),
        ({"price": 10}, ["price"]),
    ],
)
def test_plan_edits_name_each_bad_field(conn: Any, actor: Actor, changes: dict[str, Any], fields: list[str]) -> None:
    with pytest.raises(RequestValidationError) as refused:
        plans.update_plan(conn, actor, plan_id="pro", changes=changes)
    assert sorted(e.name for e in refused.value.errors) == sorted(fields)
    with pytest.raises(NotFoundError):
        plans.update_plan(conn, actor, plan_id="platinum", changes={"per_minute": 5})


def test_a_plan_name_is_tidied_and_its_own_name_may_change_case(conn: Any, actor: Actor) -> None:
    assert plans.update_plan(conn, actor, plan_id="pro", changes={"name": " Pro \n  Plus "}).name == "Pro Plus"
    assert plans.update_plan(conn, actor, plan_id="pro", changes={"name": "PRO plus"}).name == "PRO plus"
    assert plans.update_plan(conn, actor, plan_id="pro", changes={"name": "Profi 東京"}).name == "Profi 東京"


def test_developer_timeline_keeps_actions_on_deleted_keys(
    conn: Any, make_developer: Callable[..., Any], actor: Actor
) -> None:
    dev = make_developer()
    keys.delete_key(conn, actor, key_id=dev.key_id)
    detail = developers.get_developer(conn, developer_id=dev.id)
    assert detail.keys == []
    assert any("api_key.delete" in e.summary for e in detail.timeline)
    assert detail.timeline[0].at >= datetime.now(UTC) - timedelta(minutes=5)


def test_a_reissue_shows_the_old_keys_revocation_and_then_the_new_key_on_the_timeline(
    conn: Any,
    make_developer: Callable[..., Any],
    actor: Actor,
    admin_api: Callable[..., Any],
    admin_token: str,
    claim_key: Callable[[int, int], Any],
) -> None:
    dev = make_developer(plans=("pro",))
    old_id, old_key = dev.key_id, dev.raw_key
    request_id = _filed(conn, dev.id, old_id, "leaked")
    # One test transaction has one now(): what happened earlier is moved back to when it would have happened.
    conn.execute("UPDATE users SET created_at = now() - interval '3 days' WHERE id = %s", (dev.id,))
    conn.execute("UPDATE api_keys SET created_at = now() - interval '3 days' WHERE id = %s", (old_id,))
    conn.execute("UPDATE key_requests SET created_at = now() - interval '2 hours' WHERE id = %s", (request_id,))
    approved = key_requests.approve_key_request(conn, actor, request_id=request_id)

    def timeline() -> list[tuple[str, str, str, int | None]]:
        answer = admin_api("GET", f"/admin/developers/{dev.id}", token=admin_token)
        assert answer.status == 200
        return [(e["at"], e["kind"], e["summary"], e["key_id"]) for e in answer.json["timeline"]]

    # Approved, not revealed yet: the old key's revocation is on top, at the approval's time, above the approval.
    revoked, approval, *_ = timeline()
    assert revoked[1:] == (
        "key_revoked",
        f"Key …{old_key[-4:]} revoked (reissue request {request_id} approved)",
        old_id,
    )
    assert approval[1] == "admin_action" and "key_request.approve" in approval[2]
    assert datetime.fromisoformat(revoked[0]) == approved.decided_at == datetime.fromisoformat(approval[0])

    # The developer reveals the new key an hour after the approval.
    conn.execute("UPDATE key_requests SET decided_at = decided_at - interval '1 hour' WHERE id = %s", (request_id,))
    conn.execute("UPDATE api_keys SET status_changed_at = now() - interval '1 hour' WHERE id = %s", (old_id,))
    conn.execute(
        "UPDATE admin_audit_log SET occurred_at = now() - interval '1 hour' WHERE developer_id = %s", (dev.id,)
    )
    revealed = claim_key(dev.id, request_id)
    assert revealed.status == 200
    fulfilled = key_request_rows.get_admin_key_request(conn, request_id=request_id)
    assert fulfilled is not None
    new_id = fulfilled.new_api_key_id
    events = timeline()
    assert [(kind, key_id) for _, kind, _, key_id in events] == [
        ("key_created", new_id),
        ("key_revoked", old_id),
        ("admin_action", None),  # the approval (its target is the request)
        ("key_request", old_id),
        ("key_created", old_id),
        ("signup", None),
    ]
    times = [datetime.fromisoformat(at) for at, *_ in events]
    assert times == sorted(times, reverse=True) and times[0] > times[1]
    assert events[0][2] == (
        f"Key …{revealed.json['api_key'][-4:]} created on the pro plan to replace …{old_key[-4:]}"
        f" (reissue request {request_id})"
    )


@pytest.mark.slow
def test_a_deleted_keys_history_stays_with_its_developer(
    conn: Any, make_developer: Callable[..., Any], actor: Actor, call_movies: Callable[[str], tuple[int, Any]]
) -> None:
    dev = make_developer(plans=("free", "pro"))
    gone, kept = dev.keys
    for _ in range(2):
        assert call_movies(dev.keys[gone]) == (200, None)
    assert call_movies(dev.keys[kept]) == (200, None)
    before = developers.get_developer(conn, developer_id=dev.id)
    keys.delete_key(conn, actor, key_id=gone)
    after = developers.get_developer(conn, developer_id=dev.id)
    assert [k.id for k in after.keys] == [kept] and (after.developer.keys, after.developer.active_keys) == (1, 1)
    assert after.developer.plans == ["pro"]
    was, now = before.developer, after.developer
    assert (now.usage_today, now.total_requests, now.last_active_at) == (
        was.usage_today,
        was.total_requests,
        was.last_active_at,
    )
    assert (now.usage_today, now.total_requests) == (3, 3)
    assert after.usage == before.usage and sum(d.requests for d in after.usage) == 3
    assert [r.id for r in after.recent_requests] == [r.id for r in before.recent_requests]
    assert {r.owner_id for r in after.recent_requests} == {dev.id}
    kinds = {(e.kind, e.key_id) for e in after.timeline}
    assert {("key_created", gone), ("key_used", gone), ("key_deleted", gone)} <= kinds


def test_a_key_deleted_with_its_account_leaves_nothing_behind(conn: Any, make_developer: Callable[..., Any]) -> None:
    dev = make_developer()
    conn.execute("DELETE FROM users WHERE id = %s", (dev.id,))
    left = conn.execute("SELECT count(*) AS n FROM issued_api_keys WHERE id = %s", (dev.key_id,)).fetchone()
    assert left["n"] == 0
