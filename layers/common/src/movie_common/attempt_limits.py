"""Per-IP and per-account limits for the portals' sensitive actions (sign-up, login, resend, reset) and lockouts
after repeated failed logins, counted in PostgreSQL (auth_attempts) so every Lambda environment sees one count."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from movie_common.database import Connection
from movie_common.db import auth_attempts
from movie_common.errors import AccountLockedError, TooManyAttemptsError


@dataclass(frozen=True)
class AttemptLimit:
    """At most `limit` attempts per `window` for one subject of `scope`."""

    scope: str
    limit: int
    window: timedelta


DEVELOPER_LOCK_ADVICE = "You can reset your password meanwhile."


@dataclass(frozen=True)
class Lockout:
    """After `failures` failed attempts within `window`, the subject is locked for `duration`. `advice` ends the
    refusal's detail (the developers can reset their own password; the admins cannot)."""

    scope: str
    failures: int
    window: timedelta
    duration: timedelta
    advice: str = DEVELOPER_LOCK_ADVICE


# Counters outlive their windows; one attempt in PURGE_EVERY also deletes a bounded batch of stale ones, so the
# table stays small without a scheduled job.
PURGE_EVERY = 200
STALE_AFTER = timedelta(days=2)


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, math.ceil((moment - now).total_seconds()))


def hit(conn: Connection, limit: AttemptLimit, subject: str, *, what: str) -> None:
    """Count one attempt of `subject`; TooManyAttemptsError (429, Retry-After) once the window's limit is passed.
    `what` names the action in the detail ("sign-ups from this network", "verification emails")."""
    if random.randrange(PURGE_EVERY) == 0:  # noqa: S311 - a sampling choice, not a secret
        auth_attempts.purge_stale(conn, older_than=STALE_AFTER)
    count = auth_attempts.count_attempt(conn, scope=limit.scope, subject=subject, window=limit.window)
    if count.attempts > limit.limit:
        reset_at = count.window_start + limit.window
        retry = _seconds_until(reset_at, count.now)
        raise TooManyAttemptsError(
            f"Too many {what}; try again in {_human(retry)}.", limit=limit.limit, retry_after=retry, reset_at=reset_at
        )


def ensure_unlocked(conn: Connection, lockout: Lockout, subject: str) -> None:
    """AccountLockedError (429, Retry-After) while a lock on `subject` is in force."""
    until, now = auth_attempts.locked_until(conn, scope=lockout.scope, subject=subject)
    if until is not None:
        raise _locked(lockout, until, now)


def _locked(lockout: Lockout, until: datetime, now: datetime) -> AccountLockedError:
    # A lock that starts now lasts its duration, not that plus the instants between the count's clock and the
    # lock's (which made a 15-minute lock read "16 minutes", Retry-After 901).
    retry = min(_seconds_until(until, now), math.ceil(lockout.duration.total_seconds()))
    advice = f" {lockout.advice}" if lockout.advice else ""
    return AccountLockedError(
        f"Too many failed sign-in attempts; this account is locked for {_human(retry)}.{advice}",
        limit=lockout.failures,
        retry_after=retry,
        reset_at=until,
    )


def record_failure(conn: Connection, lockout: Lockout, subject: str) -> None:
    """Count a failure; the one that reaches the threshold locks the subject and raises AccountLockedError."""
    count = auth_attempts.count_attempt(conn, scope=lockout.scope, subject=subject, window=lockout.window)
    if count.attempts >= lockout.failures:
        until = auth_attempts.lock(conn, scope=lockout.scope, subject=subject, duration=lockout.duration)
        raise _locked(lockout, until, count.now)


def reserve_attempt(conn: Connection, lockout: Lockout, subject: str, *, enforce: bool = True) -> int:
    """Count one attempt of `subject` as a failure *before* its password is checked, so that N parallel guesses are
    N counted failures and none gets past the lock; returns this attempt's number in the window (itself included),
    for confirm_failure after a wrong password (forgive after a right one).

    AccountLockedError (429, Retry-After) while a lock on `subject` is in force, or when this attempt passes
    `lockout.failures` (which locks it). With `enforce` False nothing is refused (the lock is set all the same): the
    account-wide lock that does not apply to the caller's address."""
    count = auth_attempts.count_attempt(conn, scope=lockout.scope, subject=subject, window=lockout.window)
    until = count.locked_until if count.locked_until is not None and count.locked_until > count.now else None
    if until is None and count.attempts > lockout.failures:
        until = auth_attempts.lock(conn, scope=lockout.scope, subject=subject, duration=lockout.duration)
    if until is not None and enforce:
        raise _locked(lockout, until, count.now)
    return count.attempts


def confirm_failure(conn: Connection, lockout: Lockout, subject: str, attempt: int) -> AccountLockedError | None:
    """After a wrong password, for the `attempt` reserve_attempt returned: when it reached `lockout.failures`, lock
    `subject` and return the error to answer (the caller raises it if the lock applies to it); else None."""
    if attempt < lockout.failures:
        return None
    until = auth_attempts.lock(conn, scope=lockout.scope, subject=subject, duration=lockout.duration)
    return _locked(lockout, until, until - lockout.duration)


def forgive(conn: Connection, lockout: Lockout, subject: str) -> None:
    """After a right password: the failures counted for `subject` are forgiven, but a lock in force stays."""
    auth_attempts.forgive(conn, scope=lockout.scope, subject=subject)


def clear_failures(conn: Connection, lockout: Lockout, subject: str) -> None:
    """Forget the subject's failures and lift its lock."""
    auth_attempts.clear(conn, scope=lockout.scope, subject=subject)


def clear_limit(conn: Connection, limit: AttemptLimit, subject: str) -> None:
    """Forget the subject's attempts of `limit`."""
    auth_attempts.clear(conn, scope=limit.scope, subject=subject)


def clear_failures_prefixed(conn: Connection, lockout: Lockout, prefix: str) -> int:
    """Forget the failures and lift the locks of every subject starting with `prefix`; returns how many."""
    return auth_attempts.clear_prefixed(conn, scope=lockout.scope, prefix=prefix)


# ---------- sign-in lockouts: per account and client address, and account-wide ----------


@dataclass(frozen=True)
class SignInLockout:
    """The sign-in lockout both portals use (the developers' and the admins'). Failures are counted per account *and*
    client address, so that whoever knows an email cannot lock its owner out: `address` failures of one account from
    one address lock the account for that address only (subject "<account key>|<address>", see address_subject);
    `account` failures from all addresses together lock it for every address that is not *known* (one the owner
    signed in from lately; the caller says which, from its own table).

    The account key is the email as the caller canonicalises it, whether or not an account has it: an unknown email
    is counted, locked and answered exactly like a registered one, so the moment a 429 comes says nothing about who
    has an account. Every attempt counts as a failure before its password is checked (reserve_sign_in) and is
    forgiven by the right one (sign_in_succeeded), so parallel guesses cannot get past a lock."""

    address: Lockout
    account: Lockout


@dataclass(frozen=True)
class SignInAttempt:
    """One reserved sign-in attempt: the account key, the client address, whether it is known, and this attempt's
    number among the failures counted for the address and for the account (itself included)."""

    subject: str
    client_ip: str
    known: bool
    attempt: int
    account_attempt: int


ACCOUNT_ATTEMPTS = "sign-in attempts for this account"


def address_subject(subject: str, client_ip: str) -> str:
    """The subject of SignInLockout.address: one account from one address (an address never holds "|")."""
    return f"{subject}|{client_ip}"


def reserve_sign_in(
    conn: Connection,
    lockouts: SignInLockout,
    subject: str,
    client_ip: str,
    *,
    known: bool,
    per_account: AttemptLimit | None = None,
) -> SignInAttempt:
    """Count one sign-in attempt of `subject` from `client_ip` as a failure before its password is checked.

    Refusals, in this order: AccountLockedError (429) while the account-wide lock is in force, unless `known`;
    TooManyAttemptsError (429) past `per_account` (if given, and unless `known`); AccountLockedError while the lock
    of this address is in force, or when this attempt passes `lockouts.address.failures` or (unless `known`)
    `lockouts.account.failures`, which locks. Otherwise the attempt, for sign_in_failed or sign_in_succeeded."""
    if not known:  # the account-wide lock and attempt limit: never the known addresses'
        ensure_unlocked(conn, lockouts.account, subject)
        if per_account is not None:
            hit(conn, per_account, subject, what=ACCOUNT_ATTEMPTS)
    attempt = reserve_attempt(conn, lockouts.address, address_subject(subject, client_ip))
    account_attempt = reserve_attempt(conn, lockouts.account, subject, enforce=not known)
    return SignInAttempt(subject, client_ip, known, attempt, account_attempt)


def sign_in_failed(conn: Connection, lockouts: SignInLockout, attempt: SignInAttempt) -> AccountLockedError | None:
    """After a wrong password (or no account): when the attempt reached a limit, lock (the address's, the account's)
    and return the refusal that applies to the attempt's address (the account-wide lock never applies to a known
    one); else None. The caller decides whether this failure already answers it or the next attempt does."""
    account_lock = confirm_failure(conn, lockouts.account, attempt.subject, attempt.account_attempt)
    address_lock = confirm_failure(
        conn, lockouts.address, address_subject(attempt.subject, attempt.client_ip), attempt.attempt
    )
    return address_lock or (None if attempt.known else account_lock)


def sign_in_succeeded(conn: Connection, lockouts: SignInLockout, subject: str, client_ip: str) -> None:
    """After a right password from `client_ip`: the failures counted for the address and the account are forgiven;
    a lock in force stays (another address may be guessing)."""
    forgive(conn, lockouts.address, address_subject(subject, client_ip))
    forgive(conn, lockouts.account, subject)


def ensure_sign_in_unlocked(
    conn: Connection, lockouts: SignInLockout, subject: str, client_ip: str, *, known: bool
) -> None:
    """AccountLockedError (429) while a sign-in lock applies to `subject` at `client_ip`, counting nothing: the
    address's own lock, or the account-wide one unless `known`."""
    ensure_unlocked(conn, lockouts.address, address_subject(subject, client_ip))
    if not known:
        ensure_unlocked(conn, lockouts.account, subject)


def record_sign_in_failure(
    conn: Connection, lockouts: SignInLockout, subject: str, client_ip: str, *, known: bool
) -> None:
    """Count a failed sign-in that was not reserved (a wrong password checked elsewhere, e.g. on a confirmation
    page) for the address and the account; AccountLockedError when it sets a lock that applies to `client_ip`."""
    account_lock: AccountLockedError | None = None
    try:
        record_failure(conn, lockouts.account, subject)
    except AccountLockedError as error:
        account_lock = None if known else error
    record_failure(conn, lockouts.address, address_subject(subject, client_ip))
    if account_lock is not None:
        raise account_lock


def clear_sign_in_failures(conn: Connection, lockouts: SignInLockout, subject: str) -> None:
    """Forget every failure of `subject` and lift every lock of it: each address's and the account-wide one (a
    password reset)."""
    clear_failures_prefixed(conn, lockouts.address, address_subject(subject, ""))
    clear_failures(conn, lockouts.account, subject)


def _human(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} seconds"
    minutes = math.ceil(seconds / 60)
    if minutes < 90:
        return f"{minutes} minutes"
    return f"{math.ceil(minutes / 60)} hours"
