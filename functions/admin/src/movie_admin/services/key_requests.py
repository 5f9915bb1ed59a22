"""Admin use cases for key reissue requests: list, approve (old key revoked, new key waiting for its developer),
deny with a reason."""

from __future__ import annotations

from movie_admin.audit import Actor, record, snapshot
from movie_admin.pages import Page, offset_of
from movie_common.database import Connection
from movie_common.db import api_keys, key_requests, users
from movie_common.db.key_requests import AdminKeyRequest, KeyRequestFilters
from movie_common.errors import (
    DeveloperSuspendedError,
    InvalidParameter,
    KeyRequestDecidedError,
    KeyStateConflictError,
    NotFoundError,
    RequestValidationError,
)
from movie_common.names import clean_note

SORTS = tuple(key_requests.SORTS)
STATUSES = ("pending", "approved", "denied")
_AUDITED = ("id", "user_id", "developer_email", "api_key_id", "key_last4", "reason", "status", "decision_note")


def list_key_requests(
    conn: Connection, *, filters: KeyRequestFilters, sort: str, page: int, per_page: int
) -> Page[AdminKeyRequest]:
    """Requests matching `filters`, newest first by default, one page of `per_page`."""
    rows, total = key_requests.list_admin_key_requests(
        conn, filters=filters, sort=sort, limit=per_page, offset=offset_of(page, per_page)
    )
    return Page(rows, page, per_page, total)


def approve_key_request(conn: Connection, actor: Actor, *, request_id: int) -> AdminKeyRequest:
    """Approve a pending request: the key it names is revoked at once, and the developer reveals a new key on the
    old key's plan once in the portal (movie_auth's claim). The raw key is minted only when the developer is
    there to see it, so it is never stored anywhere.
    KeyRequestDecidedError unless pending; DeveloperSuspendedError for a suspended developer; KeyStateConflictError
    when the key it replaces is suspended (a reissue must not lift a suspension: reactivate the key first)."""
    with conn.transaction():
        before = _locked(conn, request_id)
        if before.status != "pending":
            raise KeyRequestDecidedError(f"Request {request_id} is {before.status} already.")
        developer = users.get_developer(conn, user_id=before.user_id)
        if developer is not None and developer.status == "suspended":
            raise DeveloperSuspendedError(f"{before.developer_email} is suspended; unsuspend them first.")
        if before.api_key_id is not None:
            key = api_keys.get_admin_key(conn, key_id=before.api_key_id, lock=True)
            if key is not None and key.status == "suspended":
                # A reissue replaces a lost or leaked key as it was; it must not turn a suspension into a fresh key.
                raise KeyStateConflictError(
                    f"The key ending {key.last4} is suspended: reactivate it first if {before.developer_email} "
                    "should have a working key again, or deny the request."
                )
            api_keys.set_key_status(conn, key_id=before.api_key_id, status="revoked")
        key_requests.decide_request(conn, request_id=request_id, approve=True, admin_id=actor.admin_id)
        return _audited(conn, actor, "key_request.approve", before)


def deny_key_request(conn: Connection, actor: Actor, *, request_id: int, reason: str) -> AdminKeyRequest:
    """Deny a pending request with a reason the developer will read; the old key stays as it is.
    RequestValidationError for an empty reason; KeyRequestDecidedError unless pending."""
    reason = clean_note(reason)  # the developer reads it: no direction overrides, nothing invisible-only
    if not reason:
        raise RequestValidationError(
            "Say why the request is denied.", [InvalidParameter("reason", "body", "must not be empty")]
        )
    with conn.transaction():
        before = _locked(conn, request_id)
        if before.status != "pending":
            raise KeyRequestDecidedError(f"Request {request_id} is {before.status} already.")
        key_requests.decide_request(conn, request_id=request_id, approve=False, admin_id=actor.admin_id, note=reason)
        return _audited(conn, actor, "key_request.deny", before)


def _locked(conn: Connection, request_id: int) -> AdminKeyRequest:
    found = key_requests.get_admin_key_request(conn, request_id=request_id, lock=True)
    if found is None:
        raise NotFoundError(f"There is no key request with id {request_id}.")
    return found


def _audited(conn: Connection, actor: Actor, action: str, before: AdminKeyRequest) -> AdminKeyRequest:
    after = key_requests.get_admin_key_request(conn, request_id=before.id)
    assert after is not None  # noqa: S101 - locked by this transaction
    record(
        conn,
        actor,
        action=action,
        target_type="key_request",
        target_id=before.id,
        developer_id=before.user_id,
        before=snapshot(before, fields=_AUDITED),
        after=snapshot(after, fields=_AUDITED),
    )
    return after
