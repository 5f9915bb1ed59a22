"""Admin accounts: creation (the CLI, the first admin at deploy or first start) and sign-in with a lockout."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email

from movie_admin.audit import Actor, record, snapshot
from movie_common import attempt_limits
from movie_common.attempt_limits import AttemptLimit, Lockout, SignInLockout
from movie_common.database import Connection
from movie_common.db import admins
from movie_common.db.admins import Admin
from movie_common.errors import (
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
# auth_attempts scopes of the admin sign-in lockout (migration 0019): subjects "<email>|<address>" and "<email>".
ADDRESS_SCOPE = "admin_login_failure_address"
ACCOUNT_SCOPE = "admin_login_failure_account"


@dataclass(frozen=True)
class LoginPolicy:
    """`max_failures` wrong passwords from one client address within `window` lock the account for that address for
    `lock_for`; `account_max_failures` from all addresses together lock it for `lock_for` everywhere except the
    addresses the admin signed in from within `known_for`, so a guesser who knows the email cannot lock the admin
    out. At most `per_address` sign-in attempts per `window` from one address, whatever the account.

    Every count is kept per email as typed (normalised, lower-cased), whether or not an admin has it, so an unknown
    email is counted, locked and answered exactly like an admin's (movie_common.attempt_limits.SignInLockout)."""

    max_failures: int = 5
    account_max_failures: int = 50
    window: timedelta = timedelta(minutes=15)
    lock_for: timedelta = timedelta(minutes=15)
    known_for: timedelta = timedelta(days=90)
    per_address: int = 30

    @property
    def lockouts(self) -> SignInLockout:
        """The shared sign-in lockout with this policy's numbers (scopes ADDRESS_SCOPE and ACCOUNT_SCOPE)."""
        return SignInLockout(
            address=Lockout(ADDRESS_SCOPE, self.max_failures, self.window, self.lock_for, advice=""),
            account=Lockout(ACCOUNT_SCOPE, self.account_max_failures, self.window, self.lock_for, advice=""),
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
        attempt_limits.clear_sign_in_failures(conn, LoginPolicy().lockouts, _login_subject(admin.email))
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


def _login_subject(email: str) -> str:
    """The account key of the sign-in lockout: the email normalised like an admin's and lower-cased (admins.email is
    case-insensitive), or the text as typed, lower-cased, when it is no email at all."""
    try:
        address = validate_email(email.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        address = email.strip()
    return address.lower()


def authenticate(
    conn: Connection, *, email: str, password: str, client_ip: str, policy: LoginPolicy = LoginPolicy()
) -> Admin:
    """The admin with this email and password, signing in from `client_ip` (the address API Gateway saw).

    Refusals, in this order: TooManyAttemptsError (429 too_many_attempts) past `policy.per_address` attempts from
    the address, whatever the emails; AccountLockedError (429 account_locked, Retry-After) while the email is locked
    for every address but the admin's known ones (`policy.account_max_failures` failures from all addresses), or for
    this address (`policy.max_failures` failures from it), the lock holding even for the right password;
    InvalidCredentialsError (401) for a wrong password, an unknown email or a disabled account, never which. An
    unknown email is counted and locked exactly like an admin's, after the same bcrypt check, so neither the answer
    nor its time nor the moment the 429 comes tells whether an admin has the email. Each attempt counts as a failure
    before its password is checked (so parallel guesses cannot get past a lock); the failure that reaches a limit
    still answers 401, the next attempt 429. A success forgives the counted failures (not a lock in force) and makes
    `client_ip` a known address for `policy.known_for`."""
    attempt_limits.hit(conn, _per_address(policy), client_ip, what="admin sign-in attempts from your network")
    subject = _login_subject(email)
    lockouts = policy.lockouts
    known = admins.is_known_address(conn, email=subject, address=client_ip, within=policy.known_for)
    attempt = attempt_limits.reserve_sign_in(conn, lockouts, subject, client_ip, known=known)
    login = admins.find_login(conn, email=subject)
    # With no admin, verify_password still spends a bcrypt check: an unknown email costs what a wrong password does.
    matches = verify_password(password, login.hashed_password if login is not None else None)
    if login is None or not matches or login.status != "active":
        attempt_limits.sign_in_failed(conn, lockouts, attempt)  # may lock: the next attempt is refused
        raise InvalidCredentialsError("The email or the password is wrong.")
    attempt_limits.sign_in_succeeded(conn, lockouts, subject, client_ip)
    with conn.transaction():
        admins.record_login_success(conn, admin_id=login.id, address=client_ip)
        admin = admins.get_admin(conn, admin_id=login.id)
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
