"""Use cases of the developer portal (sign-up, verification, sessions, passwords, dashboard data, key reissue);
framework-free: the routes call these, SQL stays in movie_common.db."""

from __future__ import annotations

import logging
import math
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from typing import Any, Protocol

from email_validator import EmailNotValidError, validate_email

from movie_auth import messages
from movie_auth.settings import AuthSettings
from movie_common import access, attempt_limits, log_cursors, portal_mail
from movie_common.attempt_limits import AttemptLimit, Lockout, SignInLockout
from movie_common.database import Connection
from movie_common.db import (
    api_keys,
    developer_logins,
    developer_usage,
    developers,
    key_requests,
    one_time_tokens,
    plans,
)
from movie_common.db.developers import Developer
from movie_common.db.key_requests import KeyRequest
from movie_common.email_rules import canonical_or_none, check_developer_email
from movie_common.errors import (
    AccountSuspendedError,
    CurrentPasswordWrongError,
    DefaultPlanMissingError,
    EmailNotVerifiedError,
    EmailTakenError,
    InvalidCredentialsError,
    InvalidEmailError,
    InvalidParameter,
    InvalidTokenError,
    KeyAlreadyRevealedError,
    KeyRequestNotApprovedError,
    KeyRequestPendingError,
    MailUnavailableError,
    NoApiKeyError,
    NotFoundError,
    RequestValidationError,
    TokenExpiredError,
    TokenUsedError,
    WrongPasswordError,
)
from movie_common.mail import MailSender
from movie_common.names import clean_name, clean_note
from movie_common.one_time_tokens import hash_token, new_token
from movie_common.password_policy import check_password
from movie_common.passwords import hash_password, verify_password
from movie_common.sessions import Role, SessionToken, end_all_sessions, end_session, start_session

logger = logging.getLogger("movie_auth")

DEVELOPER: Role = "developer"
VERIFICATION_TTL = timedelta(hours=24)
RESET_TTL = timedelta(hours=1)
USAGE_DAYS = 30
NAME_MAX = 100

# Limits: per client IP against floods and enumeration, per address against mail bombing and guessing.
SIGNUP_PER_IP = AttemptLimit("signup_ip", limit=10, window=timedelta(hours=1))
SIGNUP_PER_ACCOUNT = AttemptLimit("signup_account", limit=5, window=timedelta(hours=1))
# Sign-in: failures are counted per account and client address, so that whoever knows a developer's email cannot
# lock the developer out (the design of the admins' sign-in, migration 0015). LOGIN_LOCKOUT locks the account for
# the address the failures came from (subject "<canonical email>|<address>"); LOGIN_ACCOUNT_LOCKOUT (failures from
# all addresses) and LOGIN_PER_ACCOUNT (attempts from all addresses) refuse only addresses the developer has not
# signed in from within KNOWN_FOR (developer_login_addresses, migration 0018).
LOGIN_PER_IP = AttemptLimit("login_ip", limit=30, window=timedelta(minutes=15))
LOGIN_PER_ACCOUNT = AttemptLimit("login_account", limit=20, window=timedelta(minutes=15))
LOGIN_LOCKOUT = Lockout(
    "login_failure_address", failures=5, window=timedelta(minutes=15), duration=timedelta(minutes=15)
)
LOGIN_ACCOUNT_LOCKOUT = Lockout(
    "login_failure_account", failures=20, window=timedelta(minutes=15), duration=timedelta(minutes=15)
)
KNOWN_FOR = timedelta(days=90)
RESEND_PER_IP = AttemptLimit("resend_ip", limit=10, window=timedelta(hours=1))
RESEND_PER_ACCOUNT = AttemptLimit("resend_account", limit=3, window=timedelta(hours=1))
FORGOT_PER_IP = AttemptLimit("forgot_ip", limit=10, window=timedelta(hours=1))
FORGOT_PER_ACCOUNT = AttemptLimit("forgot_account", limit=3, window=timedelta(hours=1))
RESET_PER_IP = AttemptLimit("reset_ip", limit=20, window=timedelta(minutes=15))
RESET_PER_ACCOUNT = AttemptLimit("reset_account", limit=5, window=timedelta(minutes=15))
VERIFY_PER_IP = AttemptLimit("verify_ip", limit=30, window=timedelta(minutes=15))
VERIFY_PER_ACCOUNT = AttemptLimit("verify_account", limit=10, window=timedelta(minutes=15))

RESEND_SENT = (
    "If an unconfirmed account uses this address, a new confirmation link is on its way. It works for 24 hours."
)
FORGOT_SENT = "If an account uses this address, a password-reset link is on its way. It works for 1 hour."


class EventPublisher(Protocol):
    def put(self, entry: dict[str, Any]) -> str:
        """Put one PutEvents entry on its bus; returns the event id. MailUnavailableError when it is not taken."""
        ...


@dataclass(frozen=True)
class Portal:
    """What the use cases need besides the connection: settings, the mail backend and the event bus that carries
    the mails asked for by address ("resend confirmation", "forgot password") out of the request path."""

    settings: AuthSettings
    mail: MailSender
    events: EventPublisher


# ---------- input checks ----------


def _clean_name(name: str) -> str:
    cleaned = clean_name(name, max_chars=NAME_MAX)
    if cleaned is None:
        raise RequestValidationError(
            "Check the name.",
            [InvalidParameter("name", "body", f"Enter your name: 1 to {NAME_MAX} printable characters.")],
        )
    return cleaned


def _address_key(email: str) -> str:
    """The per-account subject for limits: the canonical mailbox when the address could have an account, the
    lower-cased address otherwise; InvalidEmailError only for bad syntax (which reveals nothing)."""
    try:
        valid = validate_email(email.strip(), check_deliverability=False, allow_smtputf8=False, strict=True)
    except EmailNotValidError as error:
        raise InvalidEmailError(str(error)) from None
    return canonical_or_none(valid.normalized) or valid.normalized.lower()


def _send(portal: Portal, message: EmailMessage, *, purpose: str) -> None:
    try:
        portal.mail.send(message)
    except Exception as error:
        # The account and token are saved; the person can ask again. The address is not logged.
        logger.error("mail backend failed", extra={"purpose": purpose, "error": type(error).__name__})
        raise MailUnavailableError(
            "We could not send the email just now. Your request is saved; ask for a new link in a few minutes."
        ) from error


def _issue_token(conn: Connection, table: one_time_tokens.TokenTable, developer: Developer, ttl: timedelta) -> str:
    raw, digest = new_token()
    email = developer.email if table == "email_verifications" else None
    one_time_tokens.insert_token(conn, table, user_id=developer.id, token_hash=digest, ttl=ttl, email=email)
    return raw


def _spend(conn: Connection, table: one_time_tokens.TokenTable, token: str) -> one_time_tokens.TokenRecord:
    """The token's row, locked; InvalidTokenError, TokenUsedError or TokenExpiredError if it cannot be used."""
    record = one_time_tokens.find_token(conn, table, token_hash=hash_token(token))
    if record is None:
        raise InvalidTokenError("This link is not valid. Open the latest email we sent you, or ask for a new link.")
    if record.used_at is not None:
        raise TokenUsedError("This link was already used. Each link works once.")
    if record.expired:
        raise TokenExpiredError("This link has expired. Ask for a new one.")
    return record


# ---------- sign-up and verification ----------


@dataclass(frozen=True)
class SignupReceipt:
    email: str  # the address the link went to, as normalised


def signup(conn: Connection, portal: Portal, *, name: str, email: str, password: str, client_ip: str) -> SignupReceipt:
    """Create an unverified account and email its confirmation link. Refusals, in this order: too many sign-ups
    from the IP (429), the name (422), the address (invalid_email, disposable_email, email_domain_not_allowed),
    too many for the address (429), the password (weak_password, password_like_email, password_too_long), a
    verified or suspended account on the same mailbox (email_taken, 409). An unverified account on the same
    mailbox is taken over: only the mailbox's owner can finish by clicking the link."""
    attempt_limits.hit(conn, SIGNUP_PER_IP, client_ip, what="sign-ups from your network")
    clean_name = _clean_name(name)
    accepted = check_developer_email(email)
    attempt_limits.hit(conn, SIGNUP_PER_ACCOUNT, accepted.canonical, what="sign-ups for this address")
    check_password(password, user_inputs=(clean_name,), email=accepted.address)
    hashed = hash_password(password)
    with conn.transaction():
        user_id = developers.create_developer(
            conn, name=clean_name, email=accepted.address, canonical_email=accepted.canonical, hashed_password=hashed
        )
        if user_id is None:
            existing = developers.find_by_canonical_email(conn, canonical_email=accepted.canonical, lock=True)
            if existing is None or existing.verified or existing.status != "active":
                raise EmailTakenError("An account already uses this email address. Sign in, or reset your password.")
            developers.restart_signup(
                conn, user_id=existing.id, name=clean_name, email=accepted.address, hashed_password=hashed
            )
            # The earlier links confirmed the earlier sign-up's credentials: clicking one now must not verify an
            # account whose password was just set by someone else.
            one_time_tokens.discard_tokens(conn, "email_verifications", user_id=existing.id)
            user_id = existing.id
        developer = developers.get_developer(conn, user_id=user_id)
        if developer is None:  # just written in this transaction
            raise RuntimeError("the new account vanished")
        token = _issue_token(conn, "email_verifications", developer, VERIFICATION_TTL)
    _send(portal, _verification_message(portal, developer, token), purpose="verification")
    return SignupReceipt(email=accepted.address)


def _verification_message(portal: Portal, developer: Developer, token: str) -> EmailMessage:
    link = messages.portal_link(portal.settings.portal_url, "verify.html", token)
    return messages.verification_email(sender=portal.settings.mail.sender, to=developer.email, link=link)


@dataclass(frozen=True)
class Verified:
    """The new key (raw, this once) and a session, so the dashboard opens with the key on it."""

    api_key: str
    key: developer_usage.OwnerKey
    session: SessionToken


def verify_email(conn: Connection, portal: Portal, *, token: str, password: str, client_ip: str) -> Verified:
    """Spend a verification token with the password of the sign-up it was issued for: the account becomes
    verified, every other link of it is spent, a UUIDv4 key is issued (only its hash and last four characters are
    stored) and a session starts.

    The link proves the mailbox, the password proves who chose the account's credentials: a sign-up that took
    over the pending account (someone else's, for the same mailbox) cannot be confirmed by the mailbox's owner
    clicking the link it mailed them, because the owner does not know that password (the owner signs up again
    with their own, which voids the other's link, and confirms with it). The password is checked with bcrypt
    (constant time); a wrong one spends nothing and counts as a failed sign-in of the account from `client_ip`
    (LOGIN_LOCKOUT, LOGIN_ACCOUNT_LOCKOUT); the right one makes `client_ip` a known address of the account, as a
    sign-in does. Refusals, in this order: too_many_attempts (VERIFY_PER_IP, then VERIFY_PER_ACCOUNT), account_locked
    (a sign-in lock that applies to `client_ip`, see login), invalid_token, token_used, token_expired,
    account_suspended, token_used (already confirmed), wrong_password (or account_locked, when it is the failure that
    locks)."""
    attempt_limits.hit(conn, VERIFY_PER_IP, client_ip, what="confirmation attempts from your network")
    # Counted per account before the transaction, so that a refused try still counts.
    owner = one_time_tokens.token_owner(conn, "email_verifications", token_hash=hash_token(token))
    if owner is not None:
        attempt_limits.hit(conn, VERIFY_PER_ACCOUNT, owner, what="confirmation attempts for this account")
        _ensure_sign_in_unlocked(conn, owner, client_ip)
    with conn.transaction():
        record = _spend(conn, "email_verifications", token)
        developer = developers.get_developer(conn, user_id=record.user_id, lock=True)
        if developer is None:
            raise InvalidTokenError("This link is not valid. Open the latest email we sent you, or ask for a new link.")
        if developer.status != "active":
            raise AccountSuspendedError("This account is suspended; contact support.")
        if developer.verified:
            raise TokenUsedError("This address is already confirmed. Sign in to see your dashboard.")
        # Under the row lock: a sign-up that takes over meanwhile waits, then voids this link.
        if verify_password(password, developer.hashed_password):
            plan = default_plan(conn, portal)  # before anything is written: a refusal leaves the link usable
            developers.mark_verified(conn, user_id=developer.id)
            one_time_tokens.spend_tokens(conn, "email_verifications", user_id=developer.id)
            issued = access.issue_key(conn, owner_id=developer.id, plan=plan)
            session = start_session(conn, role=DEVELOPER, subject_id=developer.id)
            key = developer_usage.owner_key(conn, owner_id=developer.id)
            if key is None:
                raise RuntimeError("the new key vanished")
            attempt_limits.sign_in_succeeded(conn, _lockouts(), developer.canonical_email, client_ip)
            developer_logins.record_known(conn, user_id=developer.id, address=client_ip)
            return Verified(api_key=issued.raw_key, key=key, session=session)
    # Outside the transaction: nothing was written, and the failure must stay counted.
    _record_sign_in_failure(conn, developer.canonical_email, client_ip)
    raise WrongPasswordError(
        "This is not the password chosen at the sign-up this link confirms. Enter the password you chose when you "
        "signed up (the latest sign-up for this address, if there were several). If you did not sign up with a "
        "password you know, sign up again with this address: that voids this link, and the new email confirms your "
        "own password."
    )


_reported_missing_plans: set[str] = set()  # DEFAULT_PLAN values already logged by this (warm) container


def default_plan(conn: Connection, portal: Portal) -> str:
    """The plan a new key gets (DEFAULT_PLAN), checked against `plans` when a key is about to be issued. A value
    naming no plan made every confirmation a 500 with a traceback (the key's plan refers to no row). It is checked
    here, on use, rather than at cold start: the plans are rows (an admin may add the missing one, so no deploy is
    needed to mend it), a cold-start query would tie the whole portal (sign-in, dashboards) to the check, and only
    issuing keys needs the plan. DefaultPlanMissingError (503 `default_plan_missing`, naming the setting) rolls the
    confirmation back, so the link still works once the setting is mended; the operator's log gets one error per
    container and value, not one per attempt."""
    wanted = portal.settings.default_plan
    known = plans.plan_ids(conn)
    if wanted in known:
        return wanted
    if wanted not in _reported_missing_plans:
        _reported_missing_plans.add(wanted)
        logger.error(
            "DEFAULT_PLAN is %r, which is not a plan (plans: %s): no API key can be issued on a confirmation until "
            "AuthFunction's DEFAULT_PLAN names one of them, or the plan is added",
            wanted,
            ", ".join(known),
            extra={"setting": "DEFAULT_PLAN", "default_plan": wanted, "plans": known},
        )
    raise DefaultPlanMissingError(
        "Your address cannot be confirmed right now: the service's DEFAULT_PLAN setting names no plan, so no API key "
        "can be issued. The operators have been told; nothing was used up, so the same link works once it is mended."
    )


def resend_verification(conn: Connection, portal: Portal, *, email: str, client_ip: str) -> str:
    """Ask for a new confirmation link for the address; the same answer, and the same work, either way (the returned
    sentence): after the limits (per IP and per address, 429) the request puts one "Portal Mail Requested" event on
    the bus, whether or not an account uses the address, and deliver_requested_mail does the rest after the answer.
    mail_unavailable (503) when the bus does not take the event."""
    attempt_limits.hit(conn, RESEND_PER_IP, client_ip, what="confirmation emails from your network")
    subject = _address_key(email)
    attempt_limits.hit(conn, RESEND_PER_ACCOUNT, subject, what="confirmation emails for this address")
    portal.events.put(portal_mail.mail_requested_entry(portal_mail.MailRequest("verification", subject)))
    return RESEND_SENT


def deliver_requested_mail(conn: Connection, portal: Portal, request: portal_mail.MailRequest) -> bool:
    """The asynchronous half of resend_verification and forgot_password (a "Portal Mail Requested" event): look the
    address up and, if the rules say so, issue the link and send the mail. Returns whether a mail was sent; a failed
    send raises (MailUnavailableError), so that the invocation fails and the event is retried."""
    developer = developers.find_by_canonical_email(conn, canonical_email=request.address)
    if developer is None or developer.status != "active":
        return False
    if request.purpose == "verification":
        if developer.verified:
            return False
        with conn.transaction():
            token = _issue_token(conn, "email_verifications", developer, VERIFICATION_TTL)
        _send(portal, _verification_message(portal, developer, token), purpose="verification")
        return True
    if developer.verified:
        with conn.transaction():
            one_time_tokens.spend_tokens(conn, "password_resets", user_id=developer.id)
            token = _issue_token(conn, "password_resets", developer, RESET_TTL)
        link = messages.portal_link(portal.settings.portal_url, "reset.html", token)
        message = messages.password_reset_email(
            sender=portal.settings.mail.sender, to=developer.email, name=developer.name, link=link
        )
        _send(portal, message, purpose="password_reset")
        return True
    # Not confirmed yet: no password to reset, but the page promised an email. It says how to start over.
    link = f"{portal.settings.portal_url.rstrip('/')}/signup.html"
    message = messages.unconfirmed_reset_email(sender=portal.settings.mail.sender, to=developer.email, link=link)
    _send(portal, message, purpose="password_reset_unconfirmed")
    return True


# ---------- sessions ----------


def _lockouts() -> SignInLockout:
    """The sign-in lockout of movie_common.attempt_limits, with LOGIN_LOCKOUT per address (subject
    "<canonical email>|<address>") and LOGIN_ACCOUNT_LOCKOUT account-wide (read when called, so tests can swap one)."""
    return SignInLockout(address=LOGIN_LOCKOUT, account=LOGIN_ACCOUNT_LOCKOUT)


def _known(conn: Connection, subject: str, client_ip: str) -> bool:
    return developer_logins.is_known(conn, canonical_email=subject, address=client_ip, within=KNOWN_FOR)


def _ensure_sign_in_unlocked(conn: Connection, subject: str, client_ip: str) -> None:
    """AccountLockedError while a sign-in lock applies to the account at `client_ip`: the address's own lock, or the
    account-wide one unless the address is known."""
    attempt_limits.ensure_sign_in_unlocked(
        conn, _lockouts(), subject, client_ip, known=_known(conn, subject, client_ip)
    )


def _record_sign_in_failure(conn: Connection, subject: str, client_ip: str) -> None:
    """Count a failed sign-in (the verify page's wrong password) for the address and the account; AccountLockedError
    when it sets a lock that applies to `client_ip`."""
    attempt_limits.record_sign_in_failure(conn, _lockouts(), subject, client_ip, known=_known(conn, subject, client_ip))


def login(conn: Connection, *, email: str, password: str, client_ip: str) -> SessionToken:
    """Check the password (bcrypt) and start a session; `client_ip` is the address API Gateway saw (sourceIp, never
    X-Forwarded-For), and a sign-in makes it a known address of the account for KNOWN_FOR.

    Refusals, in this order: too_many_attempts (LOGIN_PER_IP), account_locked (LOGIN_ACCOUNT_LOCKOUT.failures
    failures of the account from all addresses, unless this one is known), too_many_attempts (LOGIN_PER_ACCOUNT,
    unless this address is known), account_locked (LOGIN_LOCKOUT.failures failures of the account from this
    address; every lock lasts its duration, holds even for the right password, and the failure that reaches a limit
    answers account_locked too), invalid_credentials (same answer, and the same bcrypt check, for an unknown address
    and a wrong password), then, only with the right password, account_suspended or email_not_verified. Each attempt
    is counted as a failure before its password is checked (and forgiven by the right password), so parallel guesses
    cannot get past a lock."""
    attempt_limits.hit(conn, LOGIN_PER_IP, client_ip, what="sign-in attempts from your network")
    subject = _address_key(email)
    lockouts = _lockouts()
    known = _known(conn, subject, client_ip)
    attempt = attempt_limits.reserve_sign_in(
        conn, lockouts, subject, client_ip, known=known, per_account=LOGIN_PER_ACCOUNT
    )
    developer = developers.find_by_canonical_email(conn, canonical_email=subject)
    # With no account, verify_password still spends a bcrypt check: a wrong address costs what a wrong password does.
    matches = verify_password(password, developer.hashed_password if developer is not None else None)
    if developer is None or not matches:
        lock = attempt_limits.sign_in_failed(conn, lockouts, attempt)
        if lock is not None:  # the failure that reaches a limit answers account_locked already
            raise lock
        raise InvalidCredentialsError("The email or the password is wrong.")
    attempt_limits.sign_in_succeeded(conn, lockouts, subject, client_ip)
    if developer.status != "active":
        raise AccountSuspendedError("This account is suspended; contact support.")
    if not developer.verified:
        raise EmailNotVerifiedError("Confirm your email address first: use the link we sent, or ask for a new one.")
    with conn.transaction():
        developers.record_login(conn, user_id=developer.id)
        developer_logins.record_known(conn, user_id=developer.id, address=client_ip)
        return start_session(conn, role=DEVELOPER, subject_id=developer.id)


def logout(conn: Connection, *, session_id: uuid.UUID) -> None:
    """End this session server-side: its token is refused from now on, even before it expires."""
    end_session(conn, session_id=session_id, reason="logout")


def delete_account(conn: Connection, *, user_id: int, password: str, client_ip: str) -> None:
    """Delete the signed-in developer's account for good, confirmed with their password: every key stops working at
    once, every session ends, and the account, its keys, tokens and reissue requests are gone (the request log keeps
    its rows, naming a key id only). The address may sign up again afterwards.

    The password is checked as a sign-in checks it, and a wrong one counts as a failed sign-in of the account from
    `client_ip` (so this route cannot be used to guess past the lockout). Refusals: account_locked (429),
    current_password_wrong (403), not_found (the account is already gone)."""
    developer = developers.get_developer(conn, user_id=user_id)
    if developer is None:
        raise NotFoundError("This account no longer exists.")
    subject = developer.canonical_email
    _ensure_sign_in_unlocked(conn, subject, client_ip)
    if not verify_password(password, developer.hashed_password):
        _record_sign_in_failure(conn, subject, client_ip)
        raise CurrentPasswordWrongError("That is not your password; your account is not deleted.")
    with conn.transaction():
        if developers.get_developer(conn, user_id=user_id, lock=True) is None:
            raise NotFoundError("This account no longer exists.")
        ended = end_all_sessions(conn, role=DEVELOPER, subject_id=user_id, reason="account_deleted")
        developers.delete_developer(conn, user_id=user_id)
    logger.info("account deleted", extra={"user_id": user_id, "sessions_ended": ended})


# ---------- passwords ----------


def forgot_password(conn: Connection, portal: Portal, *, email: str, client_ip: str) -> str:
    """Ask for a reset link (1 hour, single use; older links of the account are spent) for the address: a verified,
    active account gets one; an unconfirmed, active account gets a mail saying how to sign up again instead (it has
    no password to reset). The same answer, and the same work, either way: after the limits (per IP and per address,
    429) one "Portal Mail Requested" event goes on the bus, and deliver_requested_mail does the rest after the
    answer. mail_unavailable (503) when the bus does not take the event."""
    attempt_limits.hit(conn, FORGOT_PER_IP, client_ip, what="password-reset emails from your network")
    subject = _address_key(email)
    attempt_limits.hit(conn, FORGOT_PER_ACCOUNT, subject, what="password-reset emails for this address")
    portal.events.put(portal_mail.mail_requested_entry(portal_mail.MailRequest("password_reset", subject)))
    return FORGOT_SENT


def reset_password(conn: Connection, *, token: str, password: str, client_ip: str) -> None:
    """Set a new password with a reset token: the token and every other reset link are spent, every session of
    the account ends, every sign-in lock of the account is lifted (each address's, the account-wide one and its
    per-account attempt count) and `client_ip` becomes a known address of the account (the link proves the mailbox,
    the new password the rest), so its owner can sign in from there while a guesser elsewhere keeps failing.
    Refusals: invalid_token, token_used, token_expired,
    weak_password, password_like_email, password_too_long (the token stays usable after a refused password),
    account_suspended (nothing changes), too_many_attempts (per IP, and per account: RESET_PER_ACCOUNT.limit tries
    per window)."""
    attempt_limits.hit(conn, RESET_PER_IP, client_ip, what="password resets from your network")
    # Counted per account too (before the transaction, so that a refused try still counts).
    owner = one_time_tokens.token_owner(conn, "password_resets", token_hash=hash_token(token))
    if owner is not None:
        attempt_limits.hit(conn, RESET_PER_ACCOUNT, owner, what="password resets for this account")
    with conn.transaction():
        record = _spend(conn, "password_resets", token)
        developer = developers.get_developer(conn, user_id=record.user_id, lock=True)
        if developer is None:
            raise InvalidTokenError("This link is not valid. Ask for a new one.")
        if developer.status != "active":  # the link was mailed before the suspension: the password stays as it is
            raise AccountSuspendedError("This account is suspended; contact support.")
        check_password(password, user_inputs=(developer.name,), email=developer.email)
        developers.set_password(conn, user_id=developer.id, hashed_password=hash_password(password))
        one_time_tokens.spend_tokens(conn, "password_resets", user_id=developer.id)
        end_all_sessions(conn, role=DEVELOPER, subject_id=developer.id, reason="password_reset")
        attempt_limits.clear_sign_in_failures(conn, _lockouts(), developer.canonical_email)
        attempt_limits.clear_limit(conn, LOGIN_PER_ACCOUNT, developer.canonical_email)
        developer_logins.record_known(conn, user_id=developer.id, address=client_ip)


# ---------- dashboard data ----------


@dataclass(frozen=True)
class Profile:
    developer: Developer
    key: developer_usage.OwnerKey | None  # the newest key, whatever its status
    keys: list[developer_usage.OwnerKey]  # every key not revoked (active or suspended), newest first
    plan: plans.Plan | None  # the newest key's plan


def profile(conn: Connection, *, user_id: int) -> Profile:
    """The developer, their newest key and every key of theirs still usable (an admin can give a developer more
    than one); NotFoundError for a deleted account."""
    developer = developers.get_developer(conn, user_id=user_id)
    if developer is None:
        raise NotFoundError("This account no longer exists.")
    key = developer_usage.owner_key(conn, owner_id=user_id)
    keys = developer_usage.owner_keys(conn, owner_id=user_id)
    plan_id = key.plan if key is not None else None
    plan = next((p for p in plans.list_plans(conn) if p.id == plan_id), None)
    return Profile(developer, key, keys, plan)


@dataclass(frozen=True)
class UsageWindow:
    used: int
    limit: int | None  # None: no cap (the unlimited plan's day)
    remaining: int | None
    reset_at: datetime


@dataclass(frozen=True)
class KeyUsage:
    """One key's own windows, as its GET /usage and rate-limit headers report them."""

    key: developer_usage.OwnerKey
    day: UsageWindow  # limit None: no daily cap
    minute: UsageWindow
    total_requests: int  # the key's lifetime total


@dataclass(frozen=True)
class UsageReport:
    plan: str | None  # plan, key_status, day, minute: the newest key's (keys[0] unless it was revoked)
    key_status: str | None
    day: UsageWindow | None
    minute: UsageWindow | None
    keys: list[KeyUsage]  # every key not revoked, newest first, each with its own windows
    requests_today: int  # admitted today (UTC) across every key of the developer
    total_requests: int  # all-time, every key of the developer
    days: list[str]  # the last USAGE_DAYS UTC days, oldest first (ISO dates)
    endpoints: dict[str, list[int]]  # endpoint -> requests per day (every outcome)
    outcomes: dict[str, list[int]]  # "2xx" | "4xx" | "429" | "5xx" -> requests per day


def _key_usage(conn: Connection, key: developer_usage.OwnerKey) -> KeyUsage | None:
    standing = api_keys.key_standing_by_id(conn, key_id=key.id)
    if standing is None:  # deleted meanwhile
        return None
    windows = access.limit_windows(standing)
    minute = UsageWindow(windows.minute.used, windows.minute.limit, windows.minute.remaining, windows.minute.reset_at)
    if windows.day is not None:
        day = UsageWindow(windows.day.used, windows.day.limit, windows.day.remaining, windows.day.reset_at)
    else:
        day = UsageWindow(standing.day_used, None, None, standing.day_reset)
    return KeyUsage(key, day, minute, standing.total_count)


def usage(conn: Connection, *, user_id: int) -> UsageReport:
    """The developer's quota windows, for each key not revoked (each key's own counters and resets, as the API's
    headers and GET /usage report them), today's and all-time totals across every key of theirs, and the 30-day
    series by endpoint and by outcome from the daily rollup (every key). `plan`, `key_status`, `day` and `minute`
    repeat the newest key's, for clients of the one-key answer."""
    newest = developer_usage.owner_key(conn, owner_id=user_id)
    keys = [u for u in (_key_usage(conn, k) for k in developer_usage.owner_keys(conn, owner_id=user_id)) if u]
    newest_usage = next((u for u in keys if newest is not None and u.key.id == newest.id), None)
    if newest_usage is None and newest is not None:  # the newest key is revoked (a reissue waiting to be revealed)
        newest_usage = _key_usage(conn, newest)
    totals = developer_usage.owner_totals(conn, owner_id=user_id)
    today = datetime.now(UTC).date()
    first = today - timedelta(days=USAGE_DAYS - 1)
    days = [first + timedelta(days=i) for i in range(USAGE_DAYS)]
    index = {day: i for i, day in enumerate(days)}
    endpoints: dict[str, list[int]] = {}
    outcomes: dict[str, list[int]] = {name: [0] * USAGE_DAYS for name in ("2xx", "4xx", "429", "5xx")}
    for row in developer_usage.daily_usage(conn, owner_id=user_id, since=first):
        i = index.get(row.day)
        if i is None:
            continue
        series = endpoints.setdefault(row.endpoint, [0] * USAGE_DAYS)
        series[i] += row.ok + row.client_errors + row.limited + row.server_errors
        outcomes["2xx"][i] += row.ok
        outcomes["4xx"][i] += row.client_errors
        outcomes["429"][i] += row.limited
        outcomes["5xx"][i] += row.server_errors
    return UsageReport(
        plan=newest_usage.key.plan if newest_usage is not None else None,
        key_status=newest_usage.key.status if newest_usage is not None else None,
        day=newest_usage.day if newest_usage is not None else None,
        minute=newest_usage.minute if newest_usage is not None else None,
        keys=keys,
        requests_today=totals.today,
        total_requests=totals.all_time,
        days=[d.isoformat() for d in days],
        endpoints=dict(sorted(endpoints.items())),
        outcomes=outcomes,
    )


@dataclass(frozen=True)
class RequestLogPage:
    page: int | None  # None on a cursor page
    per_page: int
    results: list[developer_usage.LoggedRequest]
    total_results: int
    total_pages: int
    next_cursor: str | None  # the page after this one (None: no older rows)


def request_log(
    conn: Connection, *, user_id: int, per_page: int, page: int | None = None, cursor: str | None = None
) -> RequestLogPage:
    """The developer's own requests over the last USAGE_DAYS days, newest first, in TMDB's list envelope plus
    `next_cursor`. A numbered `page` counts from the newest row now, so requests made meanwhile shift it; a
    `cursor` (the `next_cursor` of a previous page) continues strictly after that page's last row, so no row is
    shown twice or skipped. RequestValidationError for both at once or a cursor that is not one of ours."""
    if cursor is not None and page is not None:
        raise RequestValidationError(
            "Give page or cursor, not both.",
            [InvalidParameter("page", "query", "not with cursor: a cursor says where the page starts")],
        )
    after = log_cursors.decode_cursor(cursor) if cursor is not None else None
    today = datetime.now(UTC).date()
    first_day: date = today - timedelta(days=USAGE_DAYS - 1)
    since = datetime.combine(first_day, datetime.min.time(), tzinfo=UTC)
    total = developer_usage.request_count(conn, owner_id=user_id, since=first_day)
    number = None if after is not None else (page or 1)
    rows = developer_usage.request_log(
        conn,
        owner_id=user_id,
        since=since,
        limit=per_page + 1,  # one more: whether an older page exists
        offset=0 if number is None else (number - 1) * per_page,
        after=after,
    )
    shown = rows[:per_page]
    next_cursor = log_cursors.encode_cursor(shown[-1].time, shown[-1].id) if len(rows) > per_page else None
    return RequestLogPage(number, per_page, shown, total, math.ceil(total / per_page) if total else 0, next_cursor)


def list_plans(conn: Connection) -> list[plans.Plan]:
    return plans.list_plans(conn)


# ---------- key reissue ----------


def list_key_requests(conn: Connection, *, user_id: int) -> list[KeyRequest]:
    return key_requests.list_requests(conn, user_id=user_id)


def file_key_request(conn: Connection, *, user_id: int, reason: str, key_id: int | None = None) -> KeyRequest:
    """File a reissue request for one key of the developer: `key_id` (one of their keys not revoked), or, when it
    is not given, their only such key. Approval revokes that key at once; revealing the new key touches no other
    key of theirs. Refusals: validation_error (blank, or over 1,000 characters, once cleaned as a note:
    movie_common.names.clean_note removes controls, direction overrides and zero-width spaces; `key_id` not one of
    their keys not revoked, or not given while they have several), no_api_key (none issued yet: confirm the email
    first), key_request_pending (one is open). A verified developer with no key at all (an admin deleted it) files a
    request for a new key that replaces none."""
    cleaned = clean_note(reason)  # an admin reads it: a U+202E override showed "lost it" as "ti tsol"
    if not cleaned or len(cleaned) > 1000:
        raise RequestValidationError(
            "Check the reason.", [InvalidParameter("reason", "body", "Say why in 1 to 1,000 characters.")]
        )
    usable = developer_usage.owner_keys(conn, owner_id=user_id)
    if key_id is not None:
        key = next((k for k in usable if k.id == key_id), None)
        if key is None:
            raise RequestValidationError(
                "Check the key.",
                [InvalidParameter("key_id", "body", "Not one of your keys in use: pick one your dashboard lists.")],
            )
    elif len(usable) > 1:
        raise RequestValidationError(
            "Say which key to replace.",
            [
                InvalidParameter(
                    "key_id", "body", f"You have {len(usable)} keys: say which one to replace (its id in /auth/me)."
                )
            ],
        )
    else:
        # The only usable key; with none (every key revoked), the newest, as before several keys were possible.
        key = usable[0] if usable else developer_usage.owner_key(conn, owner_id=user_id)
    if key is None:
        developer = developers.get_developer(conn, user_id=user_id)
        if developer is None or not developer.verified:
            raise NoApiKeyError("You have no API key yet: confirm your email address first.")
        # Verified, and no key left (an admin deleted theirs): a request for a new key, on the default plan, which
        # replaces none. Without it the developer had no way back but to ask an admin outside the portal.
    filed = key_requests.file_request(conn, user_id=user_id, api_key_id=None if key is None else key.id, reason=cleaned)
    if filed is None:
        raise KeyRequestPendingError("You already have an open request; wait for its decision, or reveal its key.")
    return filed


def claim_key(
    conn: Connection, portal: Portal, *, user_id: int, request_id: int
) -> tuple[str, developer_usage.OwnerKey]:
    """Reveal the new key of an approved request, once: the key the request replaces is revoked (approval did it
    already; this repeats it for a request approved some other way) and a new key on its plan and with its expiry
    is issued, in one transaction. The developer's other keys (an extra key an admin gave them) are not touched.
    Refusals: not_found (unknown, or another developer's request), key_request_not_approved, key_already_revealed."""
    with conn.transaction():
        request = key_requests.get_request(conn, request_id=request_id, user_id=user_id, lock=True)
        if request is None:
            raise NotFoundError(f"You have no key request {request_id}.")
        if request.status != "approved":
            raise KeyRequestNotApprovedError(f"This request is {request.status}; only an approved one gives a new key.")
        if request.fulfilled_at is not None:
            raise KeyAlreadyRevealedError(
                "The key of this request was already shown; file a new request if it is lost."
            )
        old = None
        if request.api_key_id is not None:
            old = developer_usage.get_owner_key(conn, owner_id=user_id, key_id=request.api_key_id)
            developer_usage.revoke_owner_key(conn, owner_id=user_id, key_id=request.api_key_id)
        # The new key replaces the old one as it was: its plan and its end (a key given until a date, such as a
        # trial, is not made permanent by a reissue).
        issued = access.issue_key(
            conn,
            owner_id=user_id,
            plan=old.plan if old else default_plan(conn, portal),
            expires_at=old.expires_at if old else None,
        )
        key_requests.mark_fulfilled(conn, request_id=request.id, new_api_key_id=issued.key_id)
        key = developer_usage.get_owner_key(conn, owner_id=user_id, key_id=issued.key_id)
        if key is None:
            raise RuntimeError("the new key vanished")
    return issued.raw_key, key
