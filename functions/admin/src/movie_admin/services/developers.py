"""Admin use cases for developers: list and search, one developer's whole picture, suspend and unsuspend."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from movie_admin.audit import Actor, record, snapshot
from movie_admin.pages import Page, offset_of
from movie_common import sessions
from movie_common.database import Connection
from movie_common.db import admin_audit_log, api_keys, key_requests, usage, users
from movie_common.db.api_keys import AdminKey, KeyFilters
from movie_common.db.key_requests import AdminKeyRequest, KeyRequestFilters
from movie_common.db.usage import KeyDay, LoggedRequest, RequestFilters
from movie_common.db.users import Developer, DeveloperFilters, TimelineEvent
from movie_common.errors import NotFoundError

SORTS = tuple(users.DEVELOPER_SORTS)
STATUSES = ("active", "suspended")
USAGE_DAYS = 30
RECENT_REQUESTS = 20
TIMELINE_EVENTS = 100
_AUDITED = ("id", "name", "email", "status", "verified", "keys", "active_keys")


def list_developers(
    conn: Connection, *, filters: DeveloperFilters, sort: str, page: int, per_page: int
) -> Page[Developer]:
    """Developers matching `filters`, in `sort` order (one of SORTS), one page of `per_page`."""
    rows, total = users.list_developers(
        conn, filters=filters, sort=sort, limit=per_page, offset=offset_of(page, per_page)
    )
    return Page(rows, page, per_page, total)


@dataclass(frozen=True)
class DeveloperDetail:
    """One developer: the account, every key, admitted/refused requests per day over the last USAGE_DAYS days
    (oldest first, days without traffic included as zeros), the latest requests, reissue requests, and a timeline
    of signup, key events and admin actions (newest first)."""

    developer: Developer
    keys: list[AdminKey]
    usage: list[KeyDay]
    recent_requests: list[LoggedRequest]
    key_requests: list[AdminKeyRequest]
    timeline: list[TimelineEvent]


def get_developer(conn: Connection, *, developer_id: int) -> DeveloperDetail:
    """NotFoundError if there is no developer with this id."""
    developer = users.get_developer(conn, user_id=developer_id)
    if developer is None:
        raise NotFoundError(f"There is no developer with id {developer_id}.")
    keys, _ = api_keys.list_admin_keys(
        conn, filters=KeyFilters(owner_id=developer_id), sort="created.desc", limit=1000, offset=0
    )
    key_ids = api_keys.owner_key_ids(conn, owner_id=developer_id)
    today = datetime.now(UTC).date()
    first_day = today - timedelta(days=USAGE_DAYS - 1)
    recent: list[LoggedRequest] = []
    if key_ids:
        recent, _ = usage.list_requests(
            conn, filters=RequestFilters(key_ids=key_ids), sort="timestamp.desc", limit=RECENT_REQUESTS, after=None
        )
    requests, _ = key_requests.list_admin_key_requests(
        conn, filters=KeyRequestFilters(user_id=developer_id), sort="created.desc", limit=20, offset=0
    )
    return DeveloperDetail(
        developer=developer,
        keys=keys,
        usage=_every_day(usage.daily_usage(conn, key_ids=key_ids, first_day=first_day), first_day, today),
        recent_requests=recent,
        key_requests=requests,
        timeline=users.developer_timeline(conn, user_id=developer_id, limit=TIMELINE_EVENTS),
    )


def _every_day(days: list[KeyDay], first: date, last: date) -> list[KeyDay]:
    by_day = {d.day: d for d in days}
    return [
        by_day.get(first + timedelta(days=i), KeyDay(first + timedelta(days=i), 0, 0))
        for i in range((last - first).days + 1)
    ]


def suspend_developer(conn: Connection, actor: Actor, *, developer_id: int) -> Developer:
    """Block the developer: they cannot sign in, every session of theirs ends now, and every key of theirs is
    refused from its next request (403 account_suspended: the key policy reads the owner's status), while each
    key keeps its own status for when the developer is unsuspended. Suspending again changes nothing."""
    with conn.transaction():
        before = _locked(conn, developer_id)
        if before.status == "suspended":
            return before
        users.set_user_status(conn, user_id=developer_id, status="suspended")
        ended = sessions.end_all_sessions(conn, role="developer", subject_id=developer_id, reason="suspended")
        after = _audited(conn, actor, "developer.suspend", before, sessions_ended=ended)
    return after


def unsuspend_developer(conn: Connection, actor: Actor, *, developer_id: int) -> Developer:
    """Let the developer sign in again; their keys work again as their own statuses say (a key an admin suspended
    stays suspended). Unsuspending an active developer changes nothing."""
    with conn.transaction():
        before = _locked(conn, developer_id)
        if before.status == "active":
            return before
        users.set_user_status(conn, user_id=developer_id, status="active")
        after = _audited(conn, actor, "developer.unsuspend", before)
    return after


def recent_admin_actions(conn: Connection, *, developer_id: int, limit: int = 50) -> list[admin_audit_log.AuditEntry]:
    return admin_audit_log.developer_entries(conn, developer_id=developer_id, limit=limit)


def _locked(conn: Connection, developer_id: int) -> Developer:
    developer = users.get_developer(conn, user_id=developer_id, lock=True)
    if developer is None:
        raise NotFoundError(f"There is no developer with id {developer_id}.")
    return developer


def _audited(conn: Connection, actor: Actor, action: str, before: Developer, *, sessions_ended: int = 0) -> Developer:
    after = users.get_developer(conn, user_id=before.id)
    assert after is not None  # noqa: S101 - the row is locked by this transaction
    record(
        conn,
        actor,
        action=action,
        target_type="developer",
        target_id=before.id,
        developer_id=before.id,
        before=snapshot(before, fields=_AUDITED),
        after={**snapshot(after, fields=_AUDITED), "sessions_ended": sessions_ended},
    )
    return after
