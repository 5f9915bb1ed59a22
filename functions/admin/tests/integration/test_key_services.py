"""The admin's key use cases against the real PostgreSQL: filters, sorts, state rules, effects on the API, audit."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest

from movie_admin.audit import Actor
from movie_admin.services import keys
from movie_common import access
from movie_common.db.api_keys import KeyFilters
from movie_common.errors import (
    DeveloperSuspendedError,
    KeyStateConflictError,
    NotFoundError,
    RequestValidationError,
)


def _ids(page: Any) -> list[int]:
    return [k.id for k in page.results]


def test_list_filters_by_owner_plan_status_and_never_used(
    conn: Any, make_developer: Callable[..., Any], actor: Actor
) -> None:
    alice = make_developer("alice@gmail.com", plans=("free", "pro"))
    bob = make_developer("bob@yahoo.com", plans=("pro",))
    access.admit(conn, bob.raw_key, endpoint="/movies")
    alice_free, alice_pro = alice.keys
    keys.suspend_key(conn, actor, key_id=alice_pro)

    def listed(**filters: Any) -> list[int]:
        scoped = KeyFilters(**{"search": "@", **filters})  # only this test's owners (the catalogue has none)
        return sorted(_ids(keys.list_keys(conn, filters=scoped, sort="created.desc", page=1, per_page=100)))

    assert listed(owner_id=alice.id) == sorted(alice.keys)
    assert listed(owner_email="ALICE@gmail.com") == sorted(alice.keys)
    assert set(listed(plan="pro")) >= {alice_pro, bob.key_id}
    assert alice_free not in listed(plan="pro")
    assert listed(status="suspended", owner_id=alice.id) == [alice_pro]
    assert bob.key_id not in listed(never_used=True)
    assert bob.key_id in listed(never_used=False)
    assert alice_free in listed(never_used=True)


def test_search_matches_owner_email_name_last4_and_id(conn: Any, make_developer: Callable[..., Any]) -> None:
    carol = make_developer("carol.zed@outlook.com", name="Carol Zed")
    raw = carol.raw_key

    def found(term: str) -> list[int]:
        return _ids(keys.list_keys(conn, filters=KeyFilters(search=term), sort="created.desc", page=1, per_page=100))

    assert carol.key_id in found("zed@outl")
    assert carol.key_id in found("carol z")
    assert carol.key_id in found(raw[-4:])
    assert carol.key_id in found(str(carol.key_id))
    assert carol.key_id not in found("nobody-like-this")
    assert found("100%_") == []  # LIKE wildcards are searched for literally


def test_sorts_and_pages(conn: Any, make_developer: Callable[..., Any]) -> None:
    devs = [make_developer(f"sort{i}@gmail.com", plans=("pro",)) for i in range(3)]
    for count, dev in zip((2, 0, 5), devs, strict=True):
        for _ in range(count):
            access.admit(conn, dev.raw_key, endpoint="/movies")
    ours = KeyFilters(search="sort")
    by_usage = _ids(keys.list_keys(conn, filters=ours, sort="usage_today.desc", page=1, per_page=10))
    assert by_usage == [devs[2].key_id, devs[0].key_id, devs[1].key_id]
    by_total = _ids(keys.list_keys(conn, filters=ours, sort="total.asc", page=1, per_page=10))
    assert by_total == [devs[1].key_id, devs[0].key_id, devs[2].key_id]
    by_last_used = _ids(keys.list_keys(conn, filters=ours, sort="last_used.desc", page=1, per_page=10))
    assert by_last_used[-1] == devs[1].key_id  # never used: last
    newest = _ids(keys.list_keys(conn, filters=ours, sort="created.desc", page=1, per_page=10))
    assert newest == [d.key_id for d in reversed(devs)]
    first = keys.list_keys(conn, filters=ours, sort="created.asc", page=1, per_page=2)
    second = keys.list_keys(conn, filters=ours, sort="created.asc", page=2, per_page=2)
    assert (first.total_results, first.total_pages) == (3, 2)
    assert _ids(first) + _ids(second) == [d.key_id for d in devs]
    assert keys.list_keys(conn, filters=ours, sort="created.asc", page=9, per_page=2).total_results == 3


def test_an_unknown_plan_filter_is_refused(conn: Any) -> None:
    with pytest.raises(RequestValidationError) as refused:
        keys.list_keys(conn, filters=KeyFilters(plan="platinum"), sort="created.desc", page=1, per_page=10)
    assert refused.value.errors[0].name == "plan"


def test_create_for_a_developer_returns_the_key_once_and_stores_only_its_hash(
    conn: Any,
    make_developer: Callable[..., Any],
    actor: Actor,
    call_movies: Callable[[str], tuple[int, Any]],
    audit_rows: Callable[..., Any],
) -> None:
    dev = make_developer(plans=())
    created = keys.create_key(conn, actor, plan="pro", developer_id=dev.id)
    stored = conn.execute("SELECT key, last4, plan FROM api_keys WHERE id = %s", (created.key.id,)).fetchone()
    assert bytes(stored["key"]) == hashlib.sha256(created.raw_key.encode()).digest()
    assert (stored["last4"], stored["plan"]) == (created.raw_key[-4:], "pro")
    assert call_movies(created.raw_key)[0] == 200
    [entry] = audit_rows(action="api_key.create", target_id=str(created.key.id))
    assert entry["developer_id"] == dev.id and entry["admin_id"] == actor.admin_id
    assert entry["request_id"] == "req-admin-test" and entry["before"] is None
    assert entry["after"]["plan"] == "pro" and entry["after"]["last4"] == created.raw_key[-4:]
    text = json.dumps(entry["after"])
    assert created.raw_key not in text and bytes(stored["key"]).hex() not in text


def test_a_named_owner_is_the_developer_whose_mailbox_it_is(
    conn: Any, actor: Actor, make_developer: Callable[..., Any]
) -> None:
    conn.execute(
        """INSERT INTO users (name, email, canonical_email, verified)
           VALUES ('Jo', 'Jo.Ann+movies@gmail.com', 'joann@gmail.com', true)"""
    )
    created = keys.create_key(conn, actor, plan="free", owner_email="joann@googlemail.com")
    assert created.key.owner_email == "Jo.Ann+movies@gmail.com"  # the same mailbox: the same developer
    # Listed by any spelling of that mailbox, as it was issued (found by the sixth tester).
    for spelling in ("joann@googlemail.com", "JoAnn@gmail.com", "Jo.Ann+movies@gmail.com"):
        listed = keys.list_keys(
            conn, filters=KeyFilters(owner_email=spelling), sort="created.desc", page=1, per_page=10
        )
        assert [k.id for k in listed.results] == [created.key.id]
    assert (
        keys.list_keys(
            conn, filters=KeyFilters(owner_email="joann"), sort="created.desc", page=1, per_page=10
        ).total_results
        == 0
    )


def test_create_for_a_named_owner_makes_a_verified_account(conn: Any, actor: Actor) -> None:
    created = keys.create_key(conn, actor, plan="free", owner_email=" Partner@Example.org ", owner_name="Partner Ltd")
    owner = conn.execute("SELECT name, email, verified FROM users WHERE id = %s", (created.key.owner_id,)).fetchone()
    assert owner == {"name": "Partner Ltd", "email": "Partner@example.org", "verified": True}
    again = keys.create_key(conn, actor, plan="free", owner_email="partner@example.org")
    assert again.key.owner_id == created.key.owner_id  # the same owner, a second key


def test_a_named_owners_name_is_printable_text_on_one_line(conn: Any, actor: Actor) -> None:
    # `Bob \u202eevil\u202c` showed as `Bob live` on the developers page; a sign-up refuses such a name too.
    for name in ("Bob \u202eevil\u202c", "Bob\x00", "x" * 201):
        with pytest.raises(RequestValidationError) as refused:
            keys.create_key(conn, actor, plan="free", owner_email="named.owner@example.org", owner_name=name)
        assert [e.name for e in refused.value.errors] == ["owner_name"]
    created = keys.create_key(
        conn, actor, plan="free", owner_email="named.owner@example.org", owner_name="  Ann\n  Lee  "
    )
    owner = conn.execute("SELECT name FROM users WHERE id = %s", (created.key.owner_id,)).fetchone()
    assert owner == {"name": "Ann Lee"}


@pytest.mark.parametrize(
    ("arguments", "error", "field"),
    [
        ({"owner_email": "not-an-email"}, RequestValidationError, "owner_email"),
        ({"owner_email": ""}, RequestValidationError, "owner_email"),
        ({}, RequestValidationError, "developer_id"),
        ({"owner_email": "a@b.org", "developer_id": 1}, RequestValidationError, "developer_id"),
        ({"owner_email": "a@b.org", "plan": "platinum"}, RequestValidationError, "plan"),
    ],
)
def test_create_refuses_bad_input_and_writes_nothing(
    conn: Any,
    actor: Actor,
    arguments: dict[str, Any],
    error: type[Exception],
    field: str,
    audit_rows: Callable[..., Any],
) -> None:
    before = conn.execute("SELECT count(*) AS n FROM api_keys").fetchone()["n"]
    with pytest.raises(error) as refused:
        keys.create_key(conn, actor, **{"plan": "free", **arguments})
    assert refused.value.errors[0].name == field  # type: ignore[attr-defined]
    assert conn.execute("SELECT count(*) AS n FROM api_keys").fetchone()["n"] == before
    assert audit_rows(action="api_key.create") == []


def test_create_refuses_an_unknown_or_suspended_developer(
    conn: Any, make_developer: Callable[..., Any], actor: Actor
) -> None:
    with pytest.raises(NotFoundError):
        keys.create_key(conn, actor, plan="free", developer_id=2**62)
    dev = make_developer()
    conn.execute("UPDATE users SET status = 'suspended' WHERE id = %s", (dev.id,))
    with pytest.raises(DeveloperSuspendedError):
        keys.create_key(conn, actor, plan="free", developer_id=dev.id)


def test_suspend_refuses_the_next_request_and_reactivate_lets_it_through(
    conn: Any,
    make_developer: Callable[..., Any],
    actor: Actor,
    call_movies: Callable[[str], tuple[int, Any]],
    audit_rows: Callable[..., Any],
) -> None:
    dev = make_developer()
    assert call_movies(dev.raw_key) == (200, None)
    suspended = keys.suspend_key(conn, actor, key_id=dev.key_id)
    assert (suspended.status, suspended.refusal) == ("suspended", "key_suspended")
    assert call_movies(dev.raw_key) == (403, "key_suspended")
    assert keys.suspend_key(conn, actor, key_id=dev.key_id).status == "suspended"  # again: nothing changes
    reactivated = keys.reactivate_key(conn, actor, key_id=dev.key_id)
    assert reactivated.status == "active" and reactivated.refusal is None
    assert call_movies(dev.raw_key) == (200, None)
    entries = audit_rows(target_type="api_key", target_id=str(dev.key_id))
    assert [e["action"] for e in entries] == ["api_key.suspend", "api_key.reactivate"]
    assert entries[0]["before"]["status"] == "active" and entries[0]["after"]["status"] == "suspended"
    assert entries[1]["before"]["status"] == "suspended" and entries[1]["after"]["status"] == "active"


def test_revocation_is_final(
    conn: Any,
    make_developer: Callable[..., Any],
    actor: Actor,
    call_movies: Callable[[str], tuple[int, Any]],
    audit_rows: Callable[..., Any],
) -> None:
    dev = make_developer()
    assert keys.revoke_key(conn, actor, key_id=dev.key_id).status == "revoked"
    assert call_movies(dev.raw_key) == (403, "key_revoked")
    for action in (keys.reactivate_key, keys.suspend_key):
        with pytest.raises(KeyStateConflictError):
            action(conn, actor, key_id=dev.key_id)
    with pytest.raises(KeyStateConflictError):
        keys.set_plan(conn, actor, key_id=dev.key_id, plan="pro")
    assert [e["action"] for e in audit_rows(target_id=str(dev.key_id))] == ["api_key.revoke"]


def test_reset_usage_starts_the_day_over(
    conn: Any,
    make_developer: Callable[..., Any],
    actor: Actor,
    call_movies: Callable[[str], tuple[int, Any]],
    audit_rows: Callable[..., Any],
) -> None:
    dev = make_developer()
    conn.execute(
        """UPDATE api_keys SET usage_count = 100, usage_day = (now() AT TIME ZONE 'UTC')::date, total_count = 100
           WHERE id = %s""",
        (dev.key_id,),
    )
    assert call_movies(dev.raw_key) == (429, "daily_quota_exceeded")
    reset = keys.reset_usage(conn, actor, key_id=dev.key_id)
    assert reset.usage_today == 0 and reset.total_count == 100
    standing, _ = access.key_usage(conn, dev.raw_key)
    assert standing.day_used == 0 and standing.minute_used == 0
    assert call_movies(dev.raw_key) == (200, None)
    [entry] = audit_rows(action="api_key.reset_usage")
    assert entry["before"]["usage_today"] == 100 and entry["after"]["usage_today"] == 0


def test_a_new_plan_holds_from_the_next_request(
    conn: Any,
    make_developer: Callable[..., Any],
    actor: Actor,
    call_movies: Callable[[str], tuple[int, Any]],
    audit_rows: Callable[..., Any],
) -> None:
    dev = make_developer()
    conn.execute(
        "UPDATE api_keys SET usage_count = 100, usage_day = (now() AT TIME ZONE 'UTC')::date WHERE id = %s",
        (dev.key_id,),
    )
    assert call_movies(dev.raw_key)[1] == "daily_quota_exceeded"
    moved = keys.set_plan(conn, actor, key_id=dev.key_id, plan="pro")
    assert moved.plan == "pro"
    assert call_movies(dev.raw_key) == (200, None)
    with pytest.raises(RequestValidationError):
        keys.set_plan(conn, actor, key_id=dev.key_id, plan="platinum")
    assert keys.set_plan(conn, actor, key_id=dev.key_id, plan="pro").plan == "pro"  # no change, no entry
    [entry] = audit_rows(action="api_key.set_plan")
    assert (entry["before"]["plan"], entry["after"]["plan"]) == ("free", "pro")


def test_delete_removes_the_key_and_keeps_its_history(
    conn: Any,
    make_developer: Callable[..., Any],
    actor: Actor,
    call_movies: Callable[[str], tuple[int, Any]],
    audit_rows: Callable[..., Any],
) -> None:
    dev = make_developer()
    call_movies(dev.raw_key)
    deleted = keys.delete_key(conn, actor, key_id=dev.key_id)
    assert deleted.id == dev.key_id
    assert call_movies(dev.raw_key) == (403, "invalid_api_key")
    logged = conn.execute("SELECT count(*) AS n FROM usage_logs WHERE api_key_id = %s", (dev.key_id,)).fetchone()
    assert logged["n"] >= 1
    with pytest.raises(NotFoundError):
        keys.get_key(conn, key_id=dev.key_id)
    with pytest.raises(NotFoundError):
        keys.delete_key(conn, actor, key_id=dev.key_id)
    [entry] = audit_rows(action="api_key.delete")
    assert entry["before"]["id"] == dev.key_id and entry["after"] is None and entry["developer_id"] == dev.id


def test_an_action_whose_audit_entry_fails_changes_nothing(conn: Any, make_developer: Callable[..., Any]) -> None:
    dev = make_developer()
    nameless = Actor(admin_id=None, name=" ", source="api")  # the audit table refuses an empty actor
    with pytest.raises(Exception, match="admin_audit_log_actor_check"):
        keys.suspend_key(conn, nameless, key_id=dev.key_id)
    assert keys.get_key(conn, key_id=dev.key_id).status == "active"


def test_resolve_accepts_an_id_or_the_key_itself(conn: Any, make_developer: Callable[..., Any]) -> None:
    dev = make_developer()
    assert keys.resolve_key(conn, str(dev.key_id)) == dev.key_id
    assert keys.resolve_key(conn, dev.raw_key.upper()) == dev.key_id
    for unknown in ("nonsense", "00000000-0000-4000-8000-000000000000"):
        with pytest.raises(NotFoundError):
            keys.resolve_key(conn, unknown)
