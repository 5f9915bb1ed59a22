"""Admin accounts: creation (the CLI, the first admin at deploy or first start) and sign-in with a lockout."""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email

from movie_admin.audit import Actor, record, snapshot
from movie_common import attempt_limits
from movie_common.attempt_limits import AttemptLimit
from movie_common.database import Connection
from movie_common.db import admins
from movie_common.db.admins import Admin
from movie_common.errors import (
    AccountLockedError,
    AdminExistsError,
    InvalidCredentialsError,
    InvalidParameter,
    NotFoundError,
    RequestValidationError,
    SessionRevokedError,
)
from movie_common.passwords import hash_password, verify_password
from movie_common.sessions import end_all_sessions

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_BYTES = 72  # bcrypt reads no further
_AUDITED = ("id", "email", "status")


@dataclass(frozen=True)
class LoginPolicy:
    """`max_failures` wrong passwords from one client address within `window` lock the account for that address for
    `lock_for`; `account_max_failures` from all addresses together lock it for `lock_for` everywhere except the
    addresses the admin signed in from within `known_for`, so a guesser who knows the email cannot lock the admin
    out. At most `per_address` sign-in attempts per `window` from one address, whatever the account."""

    max_failures: int = 5
    account_max_failures: int = 50
    window: timedelta = timedelta(minutes=15)
    lock_for: timedelta = timedelta(minutes=15)
    known_for: timedelta = timedelta(days=90)
    per_address: int = 30

    @property
    def limits(self) -> admins.LoginLimits:
        return admins.LoginLimits(
            max_failures=self.max_failures,
            account_max_failures=self.account_max_failures,
            window=self.window,
            lock_for=self.lock_for,
            known_for=self.known_for,
        )


@dataclass(frozen=True)
class CreatedAdmin:
    """A new admin, and the generated password when none was given (show it once; only its bcrypt hash is kept)."""

    admin: Admin
    generated_password: str | None


def generate_password() -> str:
    """24 URL-safe characters from the OS's CSPRNG (144 bits)."""
    return secrets.token_urlsafe(18)


def check_password(password: str) -> None:
    """RequestValidationError unless the password has at least MIN_PASSWORD_LENGTH characters and fits bcrypt."""
    reasons = []
    if len(password) < MIN_PASSWORD_LENGTH:
        reasons.append(f"at least {MIN_PASSWORD_LENGTH} characters")
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        reasons.append(f"at most {MAX_PASSWORD_BYTES} bytes in UTF-8")
    if reasons:
        raise RequestValidationError(
            f"The password must have {' and '.join(reasons)}.",
            [InvalidParameter("password", "body", " and ".join(reasons))],
        )


def normalize_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise RequestValidationError(
            f"{email!r} is not a valid email address: {error}", [InvalidParameter("email", "body", str(error))]
        ) from None


def _chosen_password(password: str | None) -> tuple[str, str | None]:
    """The password to set and, when none was given, the same generated one to show once; checked either way."""
    generated = generate_password() if password is None else None
    chosen = generated or password or ""
    check_password(chosen)
    return chosen, generated


def create_admin(conn: Connection, actor: Actor, *, email: str, password: str | None = None) -> CreatedAdmin:
    """Create an admin with `password`, or with a generated one returned once. AdminExistsError if the email is
    taken; RequestValidationError for a bad email or a short password."""
    address = normalize_email(email)
    password, generated = _chosen_password(password)
    with conn.transaction():
        admin = admins.insert_admin(conn, email=address, hashed_password=hash_password(password))
        if admin is None:
            raise AdminExistsError(f"An admin with the email {address} exists already.")
        record(
            conn,
            actor,
            action="admin.create",
            target_type="admin",
            target_id=admin.id,
            after=snapshot(admin, fields=_AUDITED),
        )
    return CreatedAdmin(admin, generated)


def reset_password(conn: Connection, actor: Actor, *, email: str, password: str | None = None) -> CreatedAdmin:
    """Give the admin with this email a new password (`password`, or a generated one returned once), lift any
    lockout and end every session the admin has: the way back in for an admin who is locked out (from a new address
    while a guesser keeps the account locked for unknown ones) or whose password is lost or was shown in a log.
    NotFoundError for an unknown email; RequestValidationError for a short password. Audited."""
    address = normalize_email(email)
    password, generated = _chosen_password(password)
    with conn.transaction():
        found = admins.find_admin(conn, email=address)
        if found is None:
            raise NotFoundError(f"There is no admin with the email {address}.")
        admin = admins.set_password(conn, admin_id=found.id, hashed_password=hash_password(password))
        assert admin is not None  # noqa: S101 - found in this transaction
        ended = end_all_sessions(conn, role="admin", subject_id=admin.id, reason="password_reset")
        record(
            conn,
            actor,
            action="admin.password_reset",
            target_type="admin",
            target_id=admin.id,
            after={**snapshot(admin, fields=_AUDITED), "sessions_ended": ended},
        )
    return CreatedAdmin(admin, generated)


def ensure_first_admin(conn: Connection, actor: Actor, *, email: str, password: str | None) -> CreatedAdmin | None:
    """Create the first admin when there is none (deploy, first local start); None when one exists already."""
    with conn.transaction():
        conn.execute("LOCK TABLE admins IN SHARE ROW EXCLUSIVE MODE")  # two cold starts create one admin, not two
        if admins.count_admins(conn) > 0:
            return None
        return create_admin(conn, actor, email=email, password=password)


def authenticate(
    conn: Connection, *, email: str, password: str, client_ip: str, policy: LoginPolicy = LoginPolicy()
) -> Admin:
    """The admin with this email and password, signing in from `client_ip` (the address API Gateway saw).
    TooManyAttemptsError (429 too_many_attempts) past `policy.per_address` attempts from the address;
    InvalidCredentialsError for a wrong email or password (never which), or a disabled account; AccountLockedError
    (429 account_locked, with the seconds to wait) after `policy.max_failures` failures from this address, or
    `policy.account_max_failures` from all addresses unless this one is known (LoginPolicy)."""
    attempt_limits.hit(conn, _per_address(policy), client_ip, what="admin sign-in attempts from your network")
    try:
        address = validate_email(email.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        address = email.strip()
    with conn.transaction():
        attempt = admins.reserve_login_attempt(conn, email=address, address=client_ip, limits=policy.limits)
    if attempt.locked_until is not None:
        wait = max(1, math.ceil((attempt.locked_until - attempt.now).total_seconds()))
        raise AccountLockedError(
            f"Too many failed logins; try again in {math.ceil(wait / 60)} minute(s).",
            limit=policy.max_failures,
            reset_at=attempt.locked_until,
            retry_after=wait,
        )
    if attempt.admin_id is None or attempt.hashed_password is None:
        verify_password(password, None)  # the same bcrypt time as a wrong password: timing tells nobody who exists
        raise InvalidCredentialsError("The email or the password is wrong.")
    if not verify_password(password, attempt.hashed_password) or attempt.status != "active":
        with conn.transaction():
            admins.lock_if_exhausted(conn, admin_id=attempt.admin_id, address=client_ip, limits=policy.limits)
        raise InvalidCredentialsError("The email or the password is wrong.")
    with conn.transaction():
        admins.record_login_success(conn, admin_id=attempt.admin_id, address=client_ip)
        admin = admins.get_admin(conn, admin_id=attempt.admin_id)
    assert admin is not None  # noqa: S101 - just signed in
    return admin


def _per_address(policy: LoginPolicy) -> AttemptLimit:
    return AttemptLimit("admin_login_ip", limit=policy.per_address, window=policy.window)


def acting_admin(conn: Connection, *, admin_id: int, request_id: str | None) -> Actor:
    """The Actor of a signed-in admin's request. SessionRevokedError when the account was disabled or removed since
    the session began (its sessions should have ended with it)."""
    admin = admins.get_admin(conn, admin_id=admin_id)
    if admin is None or admin.status != "active":
        raise SessionRevokedError("This admin account is disabled; its sessions have ended.")
    return Actor(admin_id=admin.id, name=admin.email, source="api", request_id=request_id)


def count(conn: Connection) -> int:
    """How many admin accounts exist."""
    return admins.count_admins(conn)


def get_admin(conn: Connection, *, admin_id: int) -> Admin:
    admin = admins.get_admin(conn, admin_id=admin_id)
    if admin is None:
        raise NotFoundError(f"There is no admin with id {admin_id}.")
    return admin
