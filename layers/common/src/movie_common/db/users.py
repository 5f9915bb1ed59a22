"""SQL for users (developers)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import sql

from movie_common.database import Connection, fetch_all, fetch_one, fetch_required, translate_errors


def ensure_user(conn: Connection, *, name: str, email: str, canonical_email: str, verified: bool) -> int:
    """The id of the user with this canonical email, created if missing."""
    row = fetch_required(
        conn,
        """INSERT INTO users (name, email, canonical_email, verified) VALUES (%s, %s, %s, %s)
           ON CONFLICT (canonical_email) DO UPDATE SET canonical_email = excluded.canonical_email
           RETURNING id""",
        (name, email, canonical_email, verified),
    )
    return int(row["id"])


# ---------------------------------------------------------------- the admin's view of developers (issue 9)

_DEVELOPER_COLUMNS = sql.SQL(
    """u.id, u.name, u.email::text AS email, u.status, u.verified, u.created_at, u.signed_up_at,
       coalesce(k.keys, 0) AS keys, coalesce(k.active_keys, 0) AS active_keys, coalesce(k.plans, '{}') AS plans,
       coalesce(k.usage_today, 0) AS usage_today, coalesce(k.total_requests, 0) AS total_requests,
       k.last_active_at"""
)
# Per developer: the keys they hold (counts, plans), and over every key they were issued, deleted ones included
# (issued_api_keys, migration 0012: deleting a key does not undo its requests), today's admitted requests, the
# lifetime total and the last use.
_DEVELOPER_FROM = sql.SQL(
    """FROM users u LEFT JOIN LATERAL (
           SELECT count(*) FILTER (WHERE a.deleted_at IS NULL) AS keys,
                  count(*) FILTER (WHERE a.deleted_at IS NULL AND a.status = 'active') AS active_keys,
                  array_agg(DISTINCT a.plan ORDER BY a.plan) FILTER (WHERE a.deleted_at IS NULL) AS plans,
                  sum(CASE WHEN a.usage_day = (now() AT TIME ZONE 'UTC')::date THEN a.usage_count ELSE 0 END)
                      AS usage_today,
                  sum(a.total_count) AS total_requests, max(a.last_used_at) AS last_active_at
           FROM issued_api_keys a WHERE a.owner_id = u.id
       ) k ON true"""
)
DEVELOPER_SORTS: dict[str, sql.Composable] = {
    "created.desc": sql.SQL("u.created_at DESC, u.id DESC"),
    "created.asc": sql.SQL("u.created_at ASC, u.id ASC"),
    "name.asc": sql.SQL("lower(u.name) ASC, u.id ASC"),
    "name.desc": sql.SQL("lower(u.name) DESC, u.id DESC"),
    "email.asc": sql.SQL("u.email ASC, u.id ASC"),
    "email.desc": sql.SQL("u.email DESC, u.id DESC"),
    "last_active.desc": sql.SQL("k.last_active_at DESC NULLS LAST, u.id DESC"),
    "last_active.asc": sql.SQL("k.last_active_at ASC NULLS FIRST, u.id ASC"),
    "usage_today.desc": sql.SQL("usage_today DESC, u.id DESC"),
    "total.desc": sql.SQL("total_requests DESC, u.id DESC"),
}


@dataclass(frozen=True)
class Developer:
    """A developer account with a summary of their keys (counts, plans, requests today and in total, last use)."""

    id: int
    name: str
    email: str
    status: str  # active | suspended
    verified: bool
    created_at: datetime
    signed_up_at: datetime | None  # None: named by an admin or the CLI (created_at), not a self-serve sign-up
    keys: int
    active_keys: int
    plans: list[str]
    usage_today: int
    total_requests: int
    last_active_at: datetime | None


@dataclass(frozen=True)
class DeveloperFilters:
    """Filters of the admin developer list; None means not filtered."""

    status: str | None = None
    verified: bool | None = None
    plan: str | None = None  # holds at least one key on this plan
    search: str | None = None  # substring of the name or the email


def _developer_where(filters: DeveloperFilters) -> tuple[sql.Composable, dict[str, Any]]:
    clauses: list[sql.Composable] = []
    params: dict[str, Any] = {}
    if filters.status is not None:
        clauses.append(sql.SQL("u.status = %(status)s"))
        params["status"] = filters.status
    if filters.verified is not None:
        clauses.append(sql.SQL("u.verified = %(verified)s"))
        params["verified"] = filters.verified
    if filters.plan is not None:
        clauses.append(sql.SQL("EXISTS (SELECT 1 FROM api_keys p WHERE p.owner_id = u.id AND p.plan = %(plan)s)"))
        params["plan"] = filters.plan
    if filters.search:
        term = filters.search.strip().lower()
        params["like"] = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        # The same expression as the trigram index users_search_trgm_idx (migration 0007).
        clauses.append(sql.SQL("lower(u.email::text || ' ' || u.name) LIKE %(like)s"))
    if not clauses:
        return sql.SQL(""), params
    return sql.SQL("WHERE ") + sql.SQL(" AND ").join(clauses), params


def list_developers(
    conn: Connection, *, filters: DeveloperFilters, sort: str, limit: int, offset: int
) -> tuple[list[Developer], int]:
    """One page of developers and how many match; `sort` is a DEVELOPER_SORTS name."""
    where, params = _developer_where(filters)
    rows = fetch_all(
        conn,
        sql.SQL(
            """SELECT {columns}, count(*) OVER () AS total {source} {where}
               ORDER BY {order} LIMIT %(limit)s OFFSET %(offset)s"""
        ).format(columns=_DEVELOPER_COLUMNS, source=_DEVELOPER_FROM, where=where, order=DEVELOPER_SORTS[sort]),
        {**params, "limit": limit, "offset": offset},
    )
    if not rows:
        count = fetch_one(conn, sql.SQL("SELECT count(*) AS total FROM users u {}").format(where), params)
        return [], int(count["total"]) if count else 0
    return [Developer(**{k: v for k, v in row.items() if k != "total"}) for row in rows], int(rows[0]["total"])


def get_developer(conn: Connection, *, user_id: int, lock: bool = False) -> Developer | None:
    """One developer with their key summary; `lock` holds the user row until the transaction ends."""
    if lock:
        fetch_one(conn, "SELECT id FROM users WHERE id = %s FOR UPDATE", (user_id,))
    row = fetch_one(
        conn,
        sql.SQL("SELECT {columns} {source} WHERE u.id = %s").format(columns=_DEVELOPER_COLUMNS, source=_DEVELOPER_FROM),
        (user_id,),
    )
    return None if row is None else Developer(**row)


def set_user_status(conn: Connection, *, user_id: int, status: str) -> None:
    """active or suspended (a suspended developer cannot sign in and their keys are refused)."""
    with translate_errors():
        conn.execute("UPDATE users SET status = %s WHERE id = %s", (status, user_id))


def find_user_by_email(conn: Connection, *, canonical_email: str) -> int | None:
    row = fetch_one(conn, "SELECT id FROM users WHERE canonical_email = %s", (canonical_email,))
    return None if row is None else int(row["id"])


@dataclass(frozen=True)
class TimelineEvent:
    """One dated event in a developer's history: what (`kind`), when, and a short human description."""

    at: datetime
    # signup | verified | key_created | key_revoked | key_deleted | key_used | key_request | admin_action
    kind: str
    summary: str
    key_id: int | None
    ref: str | None  # the audit entry or key request id, when there is one


# Signup (or, for an owner an admin or the CLI named with a key, who never signed up, being added) and email
# confirmation; each key's creation (a reissued one names the key it replaces and the request),
# revocation (whoever revoked it: an admin, an approved reissue, or the reveal of a new key) and deletion, and its
# last use; reissue requests; every admin action on the developer or their keys (from the audit log). Keys come
# from issued_api_keys (migration 0012), so a deleted key's events stay. Newest first; events of one instant (one
# transaction: an approval and the revocation it makes, a reveal and the key it issues) are listed effect above
# cause: `step` orders them as they happened.
_TIMELINE = """
SELECT at, kind, summary, key_id, ref FROM (
    SELECT u.created_at AS at, 0 AS step, 'signup' AS kind,
           CASE WHEN u.signed_up_at IS NULL
                THEN 'Added as ' || u.email::text || ' by an admin or the CLI, as a key''s owner'
                ELSE 'Signed up as ' || u.email::text END AS summary,
           NULL::bigint AS key_id, NULL::text AS ref
    FROM users u WHERE u.id = %(user_id)s
    UNION ALL
    SELECT u.verified_at, 1, 'verified', 'Confirmed ' || u.email::text, NULL, NULL
    FROM users u WHERE u.id = %(user_id)s AND u.verified_at IS NOT NULL
    UNION ALL
    SELECT r.created_at, 2, 'key_request', 'Requested a new key: ' || r.reason, r.api_key_id, r.id::text
    FROM key_requests r WHERE r.user_id = %(user_id)s
    UNION ALL
    SELECT l.occurred_at, 3, 'admin_action', l.actor || ': ' || l.action || coalesce(' ' || l.target_type || ' '
           || l.target_id, ''), CASE WHEN l.target_type = 'api_key' THEN l.target_id::bigint END, l.id::text
    FROM admin_audit_log l WHERE l.developer_id = %(user_id)s
    UNION ALL
    SELECT a.status_changed_at, 4, 'key_revoked',
           'Key …' || a.last4 || ' revoked' || coalesce(' (reissue request ' || r.id || ' approved)', ''), a.id,
           r.id::text
    FROM issued_api_keys a
    LEFT JOIN LATERAL (
        SELECT q.id FROM key_requests q
        WHERE q.api_key_id = a.id AND q.status = 'approved' ORDER BY q.decided_at LIMIT 1
    ) r ON true
    WHERE a.owner_id = %(user_id)s AND a.status = 'revoked' AND a.status_changed_at IS NOT NULL
    UNION ALL
    SELECT a.deleted_at, 5, 'key_deleted', 'Key …' || a.last4 || ' deleted', a.id, NULL
    FROM deleted_api_keys a WHERE a.owner_id = %(user_id)s
    UNION ALL
    SELECT a.created_at, 6, 'key_created',
           'Key …' || a.last4 || ' created on the ' || a.plan || ' plan'
           || coalesce(' to replace …' || old.last4 || ' (reissue request ' || r.id || ')', ''), a.id, r.id::text
    FROM issued_api_keys a
    LEFT JOIN key_requests r ON r.new_api_key_id = a.id
    LEFT JOIN issued_api_keys old ON old.id = r.api_key_id
    WHERE a.owner_id = %(user_id)s
    UNION ALL
    SELECT a.last_used_at, 7, 'key_used', 'Key …' || a.last4 || ' last used', a.id, NULL
    FROM issued_api_keys a WHERE a.owner_id = %(user_id)s AND a.last_used_at IS NOT NULL
) t
ORDER BY at DESC, step DESC, key_id DESC NULLS LAST, ref DESC NULLS LAST LIMIT %(limit)s
"""


def developer_timeline(conn: Connection, *, user_id: int, limit: int) -> list[TimelineEvent]:
    """The developer's history, newest first, at most `limit` events."""
    return [TimelineEvent(**row) for row in fetch_all(conn, _TIMELINE, {"user_id": user_id, "limit": limit})]
