"""Admin use cases for API keys: list, create (shown once), suspend, reactivate, revoke, reset usage, plan, delete.

Every change runs in one transaction with its audit entry; the admin routes and the `marquee keys` CLI call these.
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from email_validator import EmailNotValidError, validate_email

from movie_admin.audit import Actor, record, snapshot
from movie_admin.moments import in_utc
from movie_admin.pages import Page, offset_of
from movie_common import access
from movie_common.database import Connection
from movie_common.db import api_keys, plans, users
from movie_common.db.api_keys import AdminKey, KeyFilters
from movie_common.email_rules import canonical_address, provider_of
from movie_common.errors import (
    DeveloperSuspendedError,
    InvalidParameter,
    KeyStateConflictError,
    NotFoundError,
    RequestValidationError,
)
from movie_common.names import clean_name

SORTS = tuple(api_keys.KEY_SORTS)
STATUSES = ("active", "suspended", "revoked")
OWNER_NAME_MAX = 200  # CreateKeyBody.owner_name
# The longest address email-validator accepts (RFC 5321's 256-octet path, less its angle brackets). Longer ones are
# refused here with one reason whatever their length: CreateKeyBody cuts anything over 320 characters to 321 (an
# address cut so may have lost its @, and email-validator's reason would then be another), so one kind of mistake
# has one reason over the schema's bound and under it.
EMAIL_MAX_CHARS = 254
# What an audit entry keeps of a key: never its hash, let alone the key.
_AUDITED = ("id", "owner_id", "owner_email", "last4", "plan", "status", "usage_today", "total_count", "expires_at")


def list_keys(conn: Connection, *, filters: KeyFilters, sort: str, page: int, per_page: int) -> Page[AdminKey]:
    """Keys matching `filters`, in `sort` order (one of SORTS), one page of `per_page`."""
    if filters.plan is not None:
        _require_plan(conn, filters.plan, field="plan", location="query")
    if filters.owner_email is not None and filters.owner_mailbox is None:
        # The owner's keys whichever spelling of the mailbox is given: create_key gives J.Doe+x@gmail.com's keys to
        # the developer of jdoe@gmail.com, and listing by either address lists them (found by the sixth tester).
        with contextlib.suppress(RequestValidationError):  # not an address: matched as typed, which finds nothing
            filters = replace(filters, owner_mailbox=_valid_email(filters.owner_email, field="owner_email")[1])
    rows, total = api_keys.list_admin_keys(
        conn, filters=filters, sort=sort, limit=per_page, offset=offset_of(page, per_page)
    )
    return Page(rows, page, per_page, total)


def get_key(conn: Connection, *, key_id: int) -> AdminKey:
    """One key with its owner; NotFoundError if there is none with this id."""
    key = api_keys.get_admin_key(conn, key_id=key_id)
    if key is None:
        raise NotFoundError(f"There is no API key with id {key_id}.")
    return key


def resolve_key(conn: Connection, ref: str) -> int:
    """A key id from what an operator types: the numeric id, or the raw key itself (looked up by its hash)."""
    text = ref.strip()
    if text.isdigit():
        return int(text)
    try:
        uuid.UUID(text)
    except ValueError:
        raise NotFoundError(f"{ref!r} is neither a key id nor an API key.") from None
    found = api_keys.key_standing(conn, key_hash=access.hash_key(text))
    if found is None:
        raise NotFoundError("No API key matches the one given.")
    return found.key_id


@dataclass(frozen=True)
class CreatedKey:
    """A new key and its raw value, which exists only here: show it once, it is never stored."""

    key: AdminKey
    raw_key: str


def create_key(
    conn: Connection,
    actor: Actor,
    *,
    plan: str,
    developer_id: int | None = None,
    owner_email: str | None = None,
    owner_name: str | None = None,
    expires_at: datetime | None = None,
) -> CreatedKey:
    """Issue a key to an existing developer (`developer_id`) or to a named owner (`owner_email`, created as a
    verified account without a password if new). RequestValidationError for a bad email, both/neither owner, an
    owner_name that is not printable text on one line (movie_common.names), or an expiry that has passed;
    NotFoundError for an unknown developer; DeveloperSuspendedError for a suspended one."""
    if (developer_id is None) == (owner_email is None):
        raise RequestValidationError(
            "Give either developer_id or owner_email.",
            [InvalidParameter("developer_id", "body", "give exactly one of developer_id and owner_email")],
        )
    moments = in_utc({"expires_at": expires_at}, detail="The expiry is not valid.", naive_is_utc=True, location="body")
    expires_at = moments["expires_at"]
    if expires_at is not None and expires_at <= datetime.now(UTC):
        raise RequestValidationError(
            "The expiry is in the past: the key would be refused from its first request.",
            [InvalidParameter("expires_at", "body", "must be a moment in the future")],
        )
    with conn.transaction():
        _require_plan(conn, plan, field="plan", location="body")
        if developer_id is None:
            email, canonical = _valid_email(owner_email or "", field="owner_email")
            name = email.split("@")[0]
            if owner_name is not None and owner_name.strip():
                cleaned = clean_name(owner_name, max_chars=OWNER_NAME_MAX)
                if cleaned is None:
                    raise RequestValidationError(
                        "Check the owner's name.",
                        [
                            InvalidParameter(
                                "owner_name", "body", f"1 to {OWNER_NAME_MAX} printable characters on one line"
                            )
                        ],
                    )
                name = cleaned
            developer_id = users.ensure_user(conn, name=name, email=email, canonical_email=canonical, verified=True)
        developer = users.get_developer(conn, user_id=developer_id, lock=True)
        if developer is None:
            raise NotFoundError(f"There is no developer with id {developer_id}.")
        if developer.status == "suspended":
            raise DeveloperSuspendedError(f"{developer.email} is suspended; unsuspend them before issuing a key.")
        issued = access.issue_key(conn, owner_id=developer_id, plan=plan, expires_at=expires_at)
        key = get_key(conn, key_id=issued.key_id)
        record(
            conn,
            actor,
            action="api_key.create",
            target_type="api_key",
            target_id=key.id,
            developer_id=key.owner_id,
            after=snapshot(key, fields=_AUDITED),
        )
    return CreatedKey(key, issued.raw_key)


def suspend_key(conn: Connection, actor: Actor, *, key_id: int) -> AdminKey:
    """Refuse the key from its next request (403 key_suspended) until reactivated. KeyStateConflictError for a
    revoked key; suspending a suspended key again changes nothing."""
    with conn.transaction():
        before = _locked(conn, key_id)
        if before.status == "revoked":
            raise KeyStateConflictError(f"Key {key_id} is revoked; a revoked key cannot be suspended.")
        if before.status == "suspended":
            return before
        api_keys.set_key_status(conn, key_id=key_id, status="suspended")
        return _audited(conn, actor, "api_key.suspend", before)


def reactivate_key(conn: Connection, actor: Actor, *, key_id: int) -> AdminKey:
    """Let a suspended key through again. KeyStateConflictError for a revoked key (revocation is final). An active
    key stays as it is. While its developer is suspended the key stays refused (account_suspended) all the same."""
    with conn.transaction():
        before = _locked(conn, key_id)
        if before.status == "revoked":
            raise KeyStateConflictError(f"Key {key_id} is revoked; issue a new key instead.")
        if before.status == "active":
            return before
        api_keys.set_key_status(conn, key_id=key_id, status="active")
        return _audited(conn, actor, "api_key.reactivate", before)


def revoke_key(conn: Connection, actor: Actor, *, key_id: int) -> AdminKey:
    """Refuse the key for good (403 key_revoked). Revoking a revoked key changes nothing."""
    with conn.transaction():
        before = _locked(conn, key_id)
        if before.status == "revoked":
            return before
        api_keys.set_key_status(conn, key_id=key_id, status="revoked")
        return _audited(conn, actor, "api_key.revoke", before)


def reset_usage(conn: Connection, actor: Actor, *, key_id: int) -> AdminKey:
    """Start the key's day and minute windows over at zero (its lifetime total stays)."""
    with conn.transaction():
        before = _locked(conn, key_id)
        api_keys.reset_key_usage(conn, key_id=key_id)
        return _audited(conn, actor, "api_key.reset_usage", before)


def set_plan(conn: Connection, actor: Actor, *, key_id: int, plan: str) -> AdminKey:
    """Move the key to another plan, effective on its next request. RequestValidationError; KeyStateConflictError for
    a revoked key. The same plan again changes nothing."""
    with conn.transaction():
        _require_plan(conn, plan, field="plan", location="body")
        before = _locked(conn, key_id)
        if before.status == "revoked":
            raise KeyStateConflictError(f"Key {key_id} is revoked; its plan cannot change.")
        if before.plan == plan:
            return before
        api_keys.set_key_plan(conn, key_id=key_id, plan=plan)
        return _audited(conn, actor, "api_key.set_plan", before)


def delete_key(conn: Connection, actor: Actor, *, key_id: int) -> AdminKey:
    """Delete the key (its request history stays in the logs); returns it as it was."""
    with conn.transaction():
        before = _locked(conn, key_id)
        api_keys.delete_key(conn, key_id=key_id)
        record(
            conn,
            actor,
            action="api_key.delete",
            target_type="api_key",
            target_id=key_id,
            developer_id=before.owner_id,
            before=snapshot(before, fields=_AUDITED),
        )
        return before


def _locked(conn: Connection, key_id: int) -> AdminKey:
    key = api_keys.get_admin_key(conn, key_id=key_id, lock=True)
    if key is None:
        raise NotFoundError(f"There is no API key with id {key_id}.")
    return key


def _audited(conn: Connection, actor: Actor, action: str, before: AdminKey) -> AdminKey:
    after = get_key(conn, key_id=before.id)
    record(
        conn,
        actor,
        action=action,
        target_type="api_key",
        target_id=before.id,
        developer_id=before.owner_id,
        before=snapshot(before, fields=_AUDITED),
        after=snapshot(after, fields=_AUDITED),
    )
    return after


def _require_plan(conn: Connection, plan: str, *, field: str, location: str) -> None:
    known = plans.plan_ids(conn)
    if plan not in known:
        raise RequestValidationError(
            f"There is no plan {plan!r}; plans: {', '.join(known)}.",
            [InvalidParameter(field, location, f"one of {', '.join(known)}")],
        )


def _valid_email(value: str, *, field: str) -> tuple[str, str]:
    """The address normalised by email-validator (syntax only; no DNS lookups), and the mailbox it reaches by the
    portal's rules (movie_common.email_rules: Gmail's dots and +tags, ...), so that a named owner who signed up in
    the portal is the same developer."""
    if len(value.strip()) > EMAIL_MAX_CHARS:
        reason = f"an email address is at most {EMAIL_MAX_CHARS} characters"
        raise RequestValidationError(
            f"The email address is too long: {reason}.", [InvalidParameter(field, "body", reason)]
        )
    try:
        valid = validate_email(value.strip(), check_deliverability=False)
        domain = valid.ascii_domain.lower()
        return valid.normalized, canonical_address(valid.local_part, domain, provider_of(domain) or "")
    except EmailNotValidError as error:
        raise RequestValidationError(
            f"{value!r} is not a valid email address: {error}", [InvalidParameter(field, "body", str(error))]
        ) from None
