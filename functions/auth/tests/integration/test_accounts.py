"""Developer-account use cases against the real PostgreSQL: every sign-up, verification, session, password,
limit and reissue rule, with mail captured by a recording backend."""

from __future__ import annotations

import email
import email.policy
import json
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from marquee_local.events import eventbridge_event
from movie_auth import accounts
from movie_auth.accounts import Portal
from movie_auth.settings import AuthSettings
from movie_common import access, passwords, portal_mail
from movie_common.attempt_limits import Lockout
from movie_common.database import connect
from movie_common.db import key_requests
from movie_common.errors import (
    AccountLockedError,
    AccountSuspendedError,
    DisposableEmailError,
    EmailDomainNotAllowedError,
    EmailNotVerifiedError,
    EmailTakenError,
    InvalidApiKeyError,
    InvalidCredentialsError,
    InvalidEmailError,
    InvalidTokenError,
    KeyAlreadyRevealedError,
    KeyRequestNotApprovedError,
    KeyRequestPendingError,
    KeyRevokedError,
    MailUnavailableError,
    NoApiKeyError,
    NotFoundError,
    RequestValidationError,
    TokenExpiredError,
    TokenUsedError,
    TooManyAttemptsError,
    WeakPasswordError,
    WrongPasswordError,
)
from movie_common.mail import MailSettings, OutboxSender
from movie_common.sessions import verify_session

PASSWORD = "velvet-orbit-canyon-42"
NEW_PASSWORD = "amber-tundra-pelican-77"
IP = "203.0.113.7"


@dataclass
class RecordingMail:
    """A mail backend that keeps what it was given (and can be told to fail like an unreachable relay)."""

    sent: list[EmailMessage] = field(default_factory=list)
    fail: bool = False

    def send(self, message: EmailMessage) -> str:
        if self.fail:
            raise ConnectionRefusedError("relay down")
        self.sent.append(message)
        return str(len(self.sent))

    def last_link(self, page: str) -> str:
        text = self.sent[-1].get_body(preferencelist=("plain",))
        assert text is not None
        match = re.search(rf"https?://\S+/{page}\?token=([A-Za-z0-9_-]+)", text.get_content())
        assert match, text.get_content()
        return match.group(1)


def _settings(tmp_path: Path) -> AuthSettings:
    mail = MailSettings(
        backend="outbox",
        sender="Marquee <no-reply@marquee.local>",
        outbox_dir=tmp_path / "outbox",
        smtp_host="",
        smtp_port=587,
        smtp_security="starttls",
        smtp_username=None,
        smtp_password=None,
        ses_region=None,
        ses_configuration_set=None,
    )
    return AuthSettings(portal_url="http://127.0.0.1:8080", default_plan="free", mail=mail)


@pytest.fixture
def mail() -> RecordingMail:
    return RecordingMail()


@dataclass
class LocalBus:
    """EventBridge and the PortalMailRequested rule as the use cases see them: keeps each PutEvents entry and hands
    it to the rule's target (deliver_requested_mail, on its own connection's turn) once the put has answered, or,
    with `hold`, when `deliver()` is called. A failed delivery is kept in `failures` (Lambda would retry it); it
    never reaches the request that put the event."""

    conn: Any
    portal: Portal | None = None
    entries: list[dict[str, Any]] = field(default_factory=list)
    pending: list[dict[str, Any]] = field(default_factory=list)
    failures: list[Exception] = field(default_factory=list)
    hold: bool = False
    fail: bool = False

    def put(self, entry: dict[str, Any]) -> str:
        if self.fail:
            raise MailUnavailableError("We could not send the email just now. Ask again in a few minutes.")
        self.entries.append(entry)
        self.pending.append(entry)
        if not self.hold:
            self.deliver()
        return f"event-{len(self.entries)}"

    def deliver(self) -> list[bool]:
        assert self.portal is not None
        sent = []
        while self.pending:
            entry = self.pending.pop(0)
            event = eventbridge_event(entry["Source"], entry["DetailType"], json.loads(entry["Detail"]))
            request = portal_mail.read_mail_request(event)
            assert request is not None, event
            try:
                sent.append(accounts.deliver_requested_mail(self.conn, self.portal, request))
            except Exception as error:
                self.failures.append(error)
        return sent


@pytest.fixture
def bus(conn: Any) -> LocalBus:
    return LocalBus(conn)


def _portal(tmp_path: Path, mail: Any, bus: LocalBus) -> Portal:
    portal = Portal(settings=_settings(tmp_path), mail=mail, events=bus)
    bus.portal = portal
    return portal


@pytest.fixture
def portal(tmp_path: Path, mail: RecordingMail, bus: LocalBus) -> Portal:
    return _portal(tmp_path, mail, bus)


def _signup(conn: Any, portal: Portal, email: str = "Jane.Doe@gmail.com", *, ip: str = IP) -> None:
    accounts.signup(conn, portal, name="Jane Doe", email=email, password=PASSWORD, client_ip=ip)


def _verified(conn: Any, portal: Portal, mail: RecordingMail, email: str = "Jane.Doe@gmail.com") -> accounts.Verified:
    _signup(conn, portal, email)
    return accounts.verify_email(conn, portal, token=mail.last_link("verify.html"), password=PASSWORD, client_ip=IP)


# ---------- sign-up ----------


@pytest.mark.slow
def test_signup_stores_an_unverified_account_and_emails_a_link_in_both_parts(
    conn: Any, portal: Portal, mail: RecordingMail, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(accounts, "hash_password", passwords.hash_password)  # the production cost, here
    receipt = accounts.signup(
        conn, portal, name="  Jane   Doe ", email="Jane.Doe+movies@GMAIL.com", password=PASSWORD, client_ip=IP
    )
    assert receipt.email == "Jane.Doe+movies@gmail.com"
    row = conn.execute("SELECT * FROM users WHERE canonical_email = 'janedoe@gmail.com'").fetchone()
    assert row["name"] == "Jane Doe" and not row["verified"] and row["hashed_password"].startswith("$2b$12$")
    assert PASSWORD not in row["hashed_password"]
    assert conn.execute("SELECT count(*) AS n FROM api_keys WHERE owner_id = %s", (row["id"],)).fetchone()["n"] == 0
    message = mail.sent[-1]
    assert message["To"] == "Jane.Doe+movies@gmail.com"
    token = mail.last_link("verify.html")
    html = message.get_body(preferencelist=("html",))
    assert html is not None and f"verify.html?token={token}" in html.get_content()
    stored = conn.execute("SELECT token, expires_at - created_at AS ttl FROM email_verifications").fetchone()
    assert stored["ttl"] == timedelta(hours=24)
    assert bytes(stored["token"]) != token.encode()


def test_mail_to_an_unconfirmed_address_carries_no_words_of_whoever_signed_up(
    conn: Any, portal: Portal, mail: RecordingMail
) -> None:
    """Anyone may sign up with anyone's address, and the name is theirs to type: "Hello <name>" put a stranger's
    text, links included, into mail Marquee sent to that mailbox (found by the tenth tester). The confirmation and
    the unconfirmed account's reset answer greet no one by name; a confirmed account's reset mail uses its name."""
    lure = "Security team: your account is locked, restore it at https://evil.example/restore"
    accounts.signup(conn, portal, name=lure, email="victim.person@gmail.com", password=PASSWORD, client_ip=IP)
    accounts.forgot_password(conn, portal, email="victim.person@gmail.com", client_ip=IP)
    for message in mail.sent[-2:]:
        for part in (message.get_body(("plain",)), message.get_body(("html",))):
            assert part is not None
            content = part.get_content()
            assert "Hello," in content and "evil.example" not in content and "locked" not in content
    _verified(conn, portal, mail)
    accounts.forgot_password(conn, portal, email="jane.doe@gmail.com", client_ip=IP)
    plain = mail.sent[-1].get_body(("plain",))
    assert plain is not None and plain.get_content().startswith("Hello Jane Doe,")


@pytest.mark.parametrize(
    ("address", "error"),
    [
        ("jane@example.com", EmailDomainNotAllowedError),
        ("jane@protonmail.com", EmailDomainNotAllowedError),
        ("jane@mailinator.com", DisposableEmailError),
        ("not-an-address", InvalidEmailError),
    ],
)
def test_signup_refuses_addresses_outside_the_rules(
    conn: Any, portal: Portal, mail: RecordingMail, address: str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        _signup(conn, portal, address)
    assert mail.sent == []
    assert conn.execute("SELECT count(*) AS n FROM users").fetchone()["n"] == 0


@pytest.mark.parametrize("password", ["short", "password1234", "qwertyuiop123"])
def test_signup_refuses_weak_passwords(conn: Any, portal: Portal, password: str) -> None:
    with pytest.raises(WeakPasswordError):
        accounts.signup(conn, portal, name="Jane", email="jane@gmail.com", password=password, client_ip=IP)


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "Jane\x00Doe"])
def test_signup_refuses_a_bad_name_naming_the_field(conn: Any, portal: Portal, name: str) -> None:
    with pytest.raises(RequestValidationError) as refused:
        accounts.signup(conn, portal, name=name, email="jane@gmail.com", password=PASSWORD, client_ip=IP)
    assert [e.name for e in refused.value.errors] == ["name"]


@pytest.mark.parametrize("duplicate", ["janedoe@gmail.com", "j.a.n.e.d.o.e+x@googlemail.com", "JANE.DOE@gmail.com"])
def test_a_canonical_duplicate_of_a_verified_account_is_email_taken(
    conn: Any, portal: Portal, mail: RecordingMail, duplicate: str
) -> None:
    _verified(conn, portal, mail)
    with pytest.raises(EmailTakenError) as refused:
        _signup(conn, portal, duplicate)
    assert refused.value.status == 409


def test_outlook_and_yahoo_tags_are_duplicates_too(conn: Any, portal: Portal, mail: RecordingMail) -> None:
    _verified(conn, portal, mail, "jane.doe@outlook.com")
    with pytest.raises(EmailTakenError):
        _signup(conn, portal, "jane.doe+news@outlook.com")
    _verified(conn, portal, mail, "janedoe@yahoo.com")
    with pytest.raises(EmailTakenError):
        _signup(conn, portal, "janedoe-shopping@yahoo.com")


def test_signing_up_again_before_verifying_takes_over_the_pending_account(
    conn: Any, portal: Portal, mail: RecordingMail
) -> None:
    _signup(conn, portal, "jane.doe@gmail.com")
    first_link = mail.last_link("verify.html")
    accounts.signup(conn, portal, name="Real Jane", email="janedoe@gmail.com", password=NEW_PASSWORD, client_ip=IP)
    assert conn.execute("SELECT count(*) AS n FROM users").fetchone()["n"] == 1
    verified = accounts.verify_email(
        conn, portal, token=mail.last_link("verify.html"), password=NEW_PASSWORD, client_ip=IP
    )
    assert verified.api_key
    # The squatter's password is gone; the new one works.
    with pytest.raises(InvalidCredentialsError):
        accounts.login(conn, email="janedoe@gmail.com", password=PASSWORD, client_ip=IP)
    assert accounts.login(conn, email="janedoe@gmail.com", password=NEW_PASSWORD, client_ip=IP).access_token
    with pytest.raises(InvalidTokenError):  # discarded by the takeover
        accounts.verify_email(conn, portal, token=first_link, password=NEW_PASSWORD, client_ip=IP)


OWNER = {"name": "Owner", "email": "owner.one@outlook.com", "password": "velvet-orbit-canyon-42"}
SQUAT = {"name": "Squat", "email": "owner.one+x@outlook.com", "password": "amber-tundra-pelican-77"}


def _attempts(conn: Any, scope: str) -> int:
    row = conn.execute("SELECT coalesce(sum(attempts), 0) AS n FROM auth_attempts WHERE scope = %s", (scope,))
    return int(row.fetchone()["n"])


def test_a_squatter_cannot_get_in_through_the_owners_mailbox(conn: Any, portal: Portal, mail: RecordingMail) -> None:
    # The tester's report: the owner signs up; before they confirm, an attacker signs up for the same mailbox
    # (an Outlook tag) with their own password, which takes the pending account over and mails a link to the
    # owner's inbox.
    accounts.signup(conn, portal, **OWNER, client_ip=IP)
    owners_link = mail.last_link("verify.html")
    accounts.signup(conn, portal, **SQUAT, client_ip="198.51.100.9")
    newest_link = mail.last_link("verify.html")
    assert mail.sent[-1]["To"] == SQUAT["email"]  # delivered to the owner's mailbox
    # The owner's own link, with the password the account now has (the attacker's): voided by the takeover.
    with pytest.raises(InvalidTokenError):
        accounts.verify_email(conn, portal, token=owners_link, password=SQUAT["password"], client_ip=IP)
    # The owner clicks the newest link; the page asks for the password they chose: theirs is not this sign-up's.
    with pytest.raises(WrongPasswordError) as refused:
        accounts.verify_email(conn, portal, token=newest_link, password=OWNER["password"], client_ip=IP)
    assert refused.value.status == 401 and "sign up again" in refused.value.detail
    # Nothing was confirmed or spent, and the attacker still cannot sign in.
    row = conn.execute("SELECT verified FROM users").fetchone()
    assert row["verified"] is False
    assert conn.execute("SELECT count(*) AS n FROM email_verifications WHERE used_at IS NOT NULL").fetchone()["n"] == 0
    assert conn.execute("SELECT count(*) AS n FROM api_keys").fetchone()["n"] == 0
    with pytest.raises(EmailNotVerifiedError):
        accounts.login(conn, email=SQUAT["email"], password=SQUAT["password"], client_ip="198.51.100.9")
    # What the owner does: sign up again with their own password (taking the account back, which voids the
    # attacker's link), then confirm with it.
    accounts.signup(conn, portal, **OWNER, client_ip=IP)
    with pytest.raises(InvalidTokenError):
        accounts.verify_email(conn, portal, token=newest_link, password=SQUAT["password"], client_ip=IP)
    verified = accounts.verify_email(
        conn, portal, token=mail.last_link("verify.html"), password=OWNER["password"], client_ip=IP
    )
    assert verified.api_key
    account = conn.execute("SELECT name, email, verified FROM users").fetchone()
    assert (account["name"], account["email"], account["verified"]) == ("Owner", OWNER["email"], True)
    assert accounts.login(conn, email=OWNER["email"], password=OWNER["password"], client_ip=IP).access_token
    with pytest.raises(InvalidCredentialsError):
        accounts.login(conn, email=SQUAT["email"], password=SQUAT["password"], client_ip="198.51.100.9")
    # Once confirmed, the attacker cannot squat again.
    with pytest.raises(EmailTakenError):
        accounts.signup(conn, portal, **SQUAT, client_ip="198.51.100.9")


def test_a_wrong_password_on_the_verify_page_spends_nothing_and_the_right_one_then_works(
    conn: Any, portal: Portal, mail: RecordingMail
) -> None:
    _signup(conn, portal)
    token = mail.last_link("verify.html")
    with pytest.raises(WrongPasswordError):
        accounts.verify_email(conn, portal, token=token, password=NEW_PASSWORD, client_ip=IP)
    # Counted as a failed sign-in of the account, from this address and from everywhere.
    assert _attempts(conn, "login_failure_address") == 1 and _attempts(conn, "login_failure_account") == 1
    assert accounts.verify_email(conn, portal, token=token, password=PASSWORD, client_ip=IP).api_key
    # The right password clears the failures, as a sign-in does.
    assert _attempts(conn, "login_failure_address") == 0 and _attempts(conn, "login_failure_account") == 0


def test_guessing_the_password_on_the_verify_page_locks_the_account(
    conn: Any, portal: Portal, mail: RecordingMail
) -> None:
    _signup(conn, portal)
    token = mail.last_link("verify.html")
    for _ in range(accounts.LOGIN_LOCKOUT.failures - 1):
        with pytest.raises(WrongPasswordError):
            accounts.verify_email(conn, portal, token=token, password=NEW_PASSWORD, client_ip=IP)
    with pytest.raises(AccountLockedError):
        accounts.verify_email(conn, portal, token=token, password=NEW_PASSWORD, client_ip=IP)
    # Locked for this address: even the right password waits (the lock is the login's: guesses here and there add
    # up).
    with pytest.raises(AccountLockedError) as locked:
        accounts.verify_email(conn, portal, token=token, password=PASSWORD, client_ip=IP)
    assert locked.value.retry_after > 0
    with pytest.raises(AccountLockedError):
        accounts.login(conn, email="jane.doe@gmail.com", password=PASSWORD, client_ip=IP)
    assert conn.execute("SELECT verified FROM users").fetchone()["verified"] is False
    # The owner, elsewhere, confirms: failures from one address lock the account for that address only.
    assert accounts.verify_email(conn, portal, token=token, password=PASSWORD, client_ip="192.0.2.44").api_key


def test_verify_attempts_are_limited_per_account(conn: Any, portal: Portal, mail: RecordingMail) -> None:
    _signup(conn, portal)
    token = mail.last_link("verify.html")
    for i in range(accounts.VERIFY_PER_ACCOUNT.limit):
        with pytest.raises((WrongPasswordError, AccountLockedError)):
            # Each from another network: the per-IP limit is not what stops this.
            accounts.verify_email(conn, portal, token=token, password=NEW_PASSWORD, client_ip=f"198.51.100.{i}")
    with pytest.raises(TooManyAttemptsError) as refused:
        accounts.verify_email(conn, portal, token=token, password=PASSWORD, client_ip="198.51.100.200")
    assert refused.value.retry_after > 0


@pytest.mark.slow
def test_signup_is_limited_per_ip(conn: Any, portal: Portal) -> None:
    for i in range(accounts.SIGNUP_PER_IP.limit):
        _signup(conn, portal, f"dev{i}@gmail.com", ip="198.51.100.1")
    with pytest.raises(TooManyAttemptsError) as refused:
        _signup(conn, portal, "one.more@gmail.com", ip="198.51.100.1")
    assert refused.value.retry_after > 0
    _signup(conn, portal, "other.network@gmail.com", ip="198.51.100.2")


def test_a_mail_failure_keeps_the_account_and_says_so(conn: Any, portal: Portal, mail: RecordingMail) -> None:
    mail.fail = True
    with pytest.raises(MailUnavailableError) as refused:
        _signup(conn, portal)
    assert refused.value.status == 503
    assert conn.execute("SELECT count(*) AS n FROM users").fetchone()["n"] == 1
    mail.fail = False
    assert accounts.resend_verification(conn, portal, email="jane.doe@gmail.com", client_ip=IP)
    assert len(mail.sent) == 1


# ---------- verification ----------


def test_verify_issues_a_uuid4_key_once_stores_only_its_hash_and_starts_a_session(
    conn: Any, portal: Portal, mail: RecordingMail
) -> None:
    verified = _verified(conn, portal, mail)
    raw = verified.api_key
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", raw)
    row = conn.execute("SELECT key, last4, plan, status FROM api_keys").fetchone()
    assert bytes(row["key"]) == access.hash_key(raw) and row["last4"] == raw[-4:]
    assert row["plan"] == "free" and row["status"] == "active"
    assert raw.encode() not in bytes(row["key"])
    assert verified.key.last4 == raw[-4:]
    session = verify_session(conn, verified.session.access_token, role="developer")
    assert session.subject_id == conn.execute("SELECT id FROM users").fetchone()["id"]
    assert access.check_key(conn, raw).status == "active"


def test_a_verification_link_works_once(conn: Any, portal: Portal, mail: RecordingMail) -> None:
    _signup(conn, portal)
    token = mail.last_link("verify.html")
    accounts.verify_email(conn, portal, token=token, password=PASSWORD, client_ip=IP)
    with pytest.raises(TokenUsedError):
        accounts.verify_email(conn, portal, token=token, password=PASSWORD, client_ip=IP)
    assert conn.execute("SELECT count(*) AS n FROM api_keys").fetchone()["n"] == 1


def test_an_expired_verification_link_is_refused_and_a_new_one_works(
    conn: Any, portal: Portal, mail: RecordingMail
) -> None:
    _signup(conn, portal)
    token = mail.last_link("verify.html")
    conn.execute(
        "UPDATE email_verifications"
        " SET created_at = now() - interval '25 hours', expires_at = now() - interval '1 hour'"
    )
    with pytest.raises(TokenExpiredError):
        accounts.verify_email(conn, portal, token=token, password=PASSWORD, client_ip=IP)
    accounts.resend_verification(conn, portal, email="jane.doe@gmail.com", client_ip=IP)
    assert accounts.verify_email(
        conn, portal, token=mail.last_link("verify.html"), password=PASSWORD, client_ip=IP
    ).api_key


@pytest.mark.parametrize("token", ["A" * 43, "garbage", ""])
def test_unknown_or_mangled_tokens_are_invalid(conn: Any, portal: Portal, token: str) -> None:
    with pytest.raises(InvalidTokenError):
        accounts.verify_email(conn, portal, token=token, password=PASSWORD, client_ip=IP)


def test_unverified_accounts_cannot_sign_in_and_have_no_key(conn: Any, portal: Portal) -> None:
    _signup(conn, portal)
    with pytest.raises(EmailNotVerifiedError):
        accounts.login(conn, email="jane.doe@gmail.com", password=PASSWORD, client_ip=IP)
    assert conn.execute("SELECT count(*) AS n FROM api_keys").fetchone()["n"] == 0


def test_resend_answers_the_same_for_any_address_and_mails_only_pending_accounts(
    conn: Any, portal: Portal, mail: RecordingMail
) -> None:
    _signup(conn, portal)
    answers = {
        accounts.resend_verification(conn, portal, email=address, client_ip=IP)
        for address in ("jane.doe@gmail.com", "nobody@gmail.com", "someone@example.com")
    }
    assert answers == {accounts.RESEND_SENT}
    assert len(mail.sent) == 2  # the sign-up and one resend, to Jane only
    assert all(m["To"] == "Jane.Doe@gmail.com" for m in mail.sent)


def test_resend_is_limited_per_address_whether_or_not_it_exists(conn: Any, portal: Portal) -> None:
    for address in ("nobody@gmail.com", "Jane.Doe@gmail.com"):
        for _ in range(accounts.RESEND_PER_ACCOUNT.limit):
            accounts.resend_verification(conn, portal, email=address, client_ip=IP)
        with pytest.raises(TooManyAttemptsError):
            accounts.resend_verification(conn, portal, email=address, client_ip="192.0.2.9")


# ---------- sessions ----------


def test_login_and_logout(conn: Any, portal: Portal, mail: RecordingMail) -> None:
    _verified(conn, portal, mail)
    token = accounts.login(conn, email="j.a.n.e.doe@gmail.com", password=PASSWORD, client_ip=IP)
    assert token.token_type == "bearer" and token.expires_in > 0
    session = verify_session(conn, token.access_token, role="developer")
    accounts.logout(conn, session_id=session.id)
    with pytest.raises(Exception) as refused:
        verify_session(conn, token.access_token, role="developer")
    assert getattr(refused.value, "status", None) == 401


@pytest.mark.slow
def test_wrong_password_and_unknown_address_get_the_same_answer(conn: Any, portal: Portal, mail: RecordingMail) -> None:
    _verified(conn, portal, mail)
    with pytest.raises(InvalidCredentialsError) as wrong_password:
        accounts.login(conn, email="jane.doe@gmail.com", password="not-the-password-1", client_ip=IP)
    with pytest.raises(InvalidCredentialsError) as unknown:
        accounts.login(conn, email="nobody.here@gmail.com", password="not-the-password-1", client_ip=IP)
    assert wrong_password.value.detail == unknown.value.detail


def test_repeated_failures_lock_the_account_with_retry_after(conn: Any, portal: Portal, mail: RecordingMail) -> None:
    _verified(conn, portal, mail)
    for _ in range(accounts.LOGIN_LOCKOUT.failures - 1):
        with pytest.raises(InvalidCredentialsError):
            accounts.login(conn, email="jane.doe@gmail.com", password="wrong-password-xyz", client_ip=IP)
    with pytest.raises(AccountLockedError) as locked:
        accounts.login(conn, email="jane.doe@gmail.com", password="wrong-password-xyz", client_ip=IP)
    assert locked.value.status == 429 and locked.value.retry_after > 0
    # Even the right password waits out the lock, from that address.
    with pytest.raises(AccountLockedError):
        accounts.login(conn, email="janedoe@gmail.com", password=PASSWORD, client_ip=IP)


@pytest.mark.slow  # 30 bcrypt checks at the production cost (unknown accounts use the fixed decoy hash)
def test_login_is_limited_per_ip(conn: Any, portal: Portal) -> None:
    for i in range(accounts.LOGIN_PER_IP.limit):
        with pytest.raises(InvalidCredentialsError):
            accounts.login(conn, email=f"guess{i}@gmail.com", password="whatever-123", client_ip="198.51.100.8")
    with pytest.raises(TooManyAttemptsError):
        accounts.login(conn, email="guess@gmail.com", password="whatever-123", client_ip="198.51.100.8")


def test_a_suspended_account_cannot_sign_in(conn: Any, portal: Portal, mail: RecordingMail) -> None:
    _verified(conn, portal, mail)
    conn.execute("UPDATE users SET status = 'suspended'")
    with pytest.raises(AccountSuspendedError):
        accounts.login(conn, email="jane.doe@gmail.com", password=PASSWORD, client_ip=IP)


# ---------- passwords ----------


def test_reset_by_email_link_changes_the_password_and_ends_every_session(
    conn: Any, portal: Portal, mail: RecordingMail
) -> None:
    verified = _verified(conn, portal, mail)
    other = accounts.login(conn, email="jane.doe@gmail.com", password=PASSWORD, client_ip=IP)
    assert accounts.forgot_password(conn, portal, email="janedoe@gmail.com", client_ip=IP) == accounts.FORGOT_SENT
    token = mail.last_link("reset.html")
    stored = conn.execute("SELECT expires_at - created_at AS ttl FROM password_resets").fetchone()
    assert stored["ttl"] == timedelta(hours=1)
    accounts.reset_password(conn, token=token, password=NEW_PASSWORD, client_ip=IP)
    for grant in (verified.session, other):
        with pytest.raises(Exception) as ended:
            verify_session(conn, grant.access_token, role="developer")
        assert getattr(ended.value, "status", None) == 401
    with pytest.raises(InvalidCredentialsError):
        accounts.login(conn, email="jane.doe@gmail.com", password=PASSWORD, client_ip=IP)
    assert accounts.login(conn, email="jane.doe@gmail.com", password=NEW_PASSWORD, client_ip=IP)
    with pytest.raises(TokenUsedError):
        accounts.reset_password(conn, token=token, password="another-fine-password-9", client_ip=IP)


def test_a_link_mailed_before_a_suspension_changes_nothing(conn: Any, portal: Portal, mail: RecordingMail) -> None:
    # A tester reset a suspended account's password with an older link and was told to sign in with the new one.
    _verified(conn, portal, mail)
    accounts.forgot_password(conn, portal, email="jane.doe@gmail.com", client_ip=IP)
    token = mail.last_link("reset.html")
    hashed = conn.execute("SELECT hashed_password FROM users").fetchone()["hashed_password"]
    conn.execute("UPDATE users SET status = 'suspended'")
    with pytest.raises(AccountSuspendedError):
        accounts.reset_password(conn, token=token, password=NEW_PASSWORD, client_ip=IP)
    assert conn.execute("SELECT hashed_password FROM users").fetchone()["hashed_password"] == hashed


def test_a_refused_new_password_leaves_the_link_usable(conn: Any, portal: Portal, mail: RecordingMail) -> None:
    _verified(conn, portal, mail)
    accounts.forgot_password(conn, portal, email="jane.doe@gmail.com", client_ip=IP)
    token = mail.last_link("reset.html")
    with pytest.raises(WeakPasswordError):
        accounts.reset_password(conn, token=token, password="password123", client_ip=IP)
    accounts.reset_password(conn, token=token, password=NEW_PASSWORD, client_ip=IP)


def test_a_new_reset_link_spends_the_older_ones_and_links_expire(
    conn: Any, portal: Portal, mail: RecordingMail
) -> None:
    _verified(conn, portal, mail)
    accounts.forgot_password(conn, portal, email="jane.doe@gmail.com", client_ip=IP)
    first = mail.last_link("reset.html")
    accounts.forgot_password(conn, portal, email="jane.doe@gmail.com", client_ip=IP)
    second = mail.last_link("reset.html")
    with pytest.raises(TokenUsedError):
        accounts.reset_password(conn, token=first, password=NEW_PASSWORD, client_ip=IP)
    conn.execute(
        "UPDATE password_resets SET created_at = now() - interval '2 hours', expires_at = now() - interval '1 hour'"
    )
    with pytest.raises(TokenExpiredError):
        accounts.reset_password(conn, token=second, password=NEW_PASSWORD, client_ip=IP)


def test_forgot_answers_the_same_for_unknown_addresses_and_sends_nothing(
    conn: Any, portal: Portal, mail: RecordingMail
) -> None:
    assert accounts.forgot_password(conn, portal, email="nobody@gmail.com", client_ip=IP) == accounts.FORGOT_SENT
    assert accounts.forgot_password(conn, portal, email="x@example.com", client_ip=IP) == accounts.FORGOT_SENT
    assert mail.sent == []


def test_a_reset_lifts_a_login_lockout(conn: Any, portal: Portal, mail: RecordingMail) -> None:
    _verified(conn, portal, mail)
    with pytest.raises(AccountLockedError):
        for _ in range(accounts.LOGIN_LOCKOUT.failures):
            with pytest.raises(InvalidCredentialsError):
                accounts.login(conn, email="jane.doe@gmail.com", password="wrong-password-xyz", client_ip=IP)
    accounts.forgot_password(conn, portal, email="jane.doe@gmail.com", client_ip=IP)
    accounts.reset_password(conn, token=mail.last_link("reset.html"), password=NEW_PASSWORD, client_ip=IP)
    assert accounts.login(conn, email="jane.doe@gmail.com", password=NEW_PASSWORD, client_ip=IP)


JANE = "jane.doe@gmail.com"
GUESSER = "198.51.100.7"
WRONG = "wrong-password-xyz"
ELSEWHERE = "192.0.2.44"  # the owner, at an address never signed in from


def _guess(conn: Any, address: str, password: str = WRONG) -> type[Exception]:
    """One wrong sign-in of Jane's from `address`: the error's type."""
    with pytest.raises((InvalidCredentialsError, AccountLockedError, TooManyAttemptsError)) as refused:
        accounts.login(conn, email=JANE, password=password, client_ip=address)
    return refused.type


def test_failures_from_one_address_do_not_lock_the_owner_out_at_another(
    conn: Any, portal: Portal, mail: RecordingMail
) -> None:
    # The finding: five wrong passwords from anywhere locked the account for every address, so whoever knew a
    # developer's email could keep them out of the portal for good. The lock is now the account's *at the address*
    # the failures came from.
    _verified(conn, portal, mail)  # confirmed from IP: a known address
    assert [_guess(conn, GUESSER) for _ in range(accounts.LOGIN_LOCKOUT.failures)] == [InvalidCredentialsError] * (
        accounts.LOGIN_LOCKOUT.failures - 1
    ) + [AccountLockedError]
    assert _guess(conn, GUESSER, PASSWORD) is AccountLockedError  # the guesser's address: even the right password
    # The owner, at a known address and at one never used before, signs in.
    assert accounts.login(conn, email=JANE, password=PASSWORD, client_ip=IP).access_token
    assert accounts.login(conn, email="janedoe@gmail.com", password=PASSWORD, client_ip=ELSEWHERE).access_token
    assert _guess(conn, GUESSER, PASSWORD) is AccountLockedError  # the owner's sign-ins lift nothing for the guesser
    # The lock holds for a known address too: five failures from the owner's own address lock it there.
    for _ in range(accounts.LOGIN_LOCKOUT.failures):
        _guess(conn, IP)
    assert _guess(conn, IP, PASSWORD) is AccountLockedError
    assert accounts.login(conn, email=JANE, password=PASSWORD, client_ip=ELSEWHERE).access_token


def test_failures_from_many_addresses_lock_unknown_addresses_but_not_a_known_one(
    conn: Any, portal: Portal, mail: RecordingMail
) -> None:
    _verified(conn, portal, mail)  # IP is known: Jane confirmed (and so signed in) from it
    limit = accounts.LOGIN_ACCOUNT_LOCKOUT.failures
    # One guess from each of `limit` addresses: no address reaches its own lock; the last locks the account.
    outcomes = [_guess(conn, f"198.51.100.{n}") for n in range(limit)]
    assert outcomes == [InvalidCredentialsError] * (limit - 1) + [AccountLockedError]
    with pytest.raises(AccountLockedError) as locked:  # an address never signed in from, even the right password
        accounts.login(conn, email=JANE, password=PASSWORD, client_ip=ELSEWHERE)
    assert 840 <= locked.value.retry_after <= 900
    assert accounts.login(conn, email=JANE, password=PASSWORD, client_ip=IP).access_token  # the known address
    assert _guess(conn, ELSEWHERE, PASSWORD) is AccountLockedError  # the owner's sign-in lifted nothing for others
    # An address signed in from more than KNOWN_FOR ago is not known any more.
    conn.execute("UPDATE developer_login_addresses SET last_login_at = now() - %s", (accounts.KNOWN_FOR,))
    assert _guess(conn, IP, PASSWORD) is AccountLockedError


def test_the_per_account_attempt_limit_does_not_refuse_a_known_address(
    conn: Any, portal: Portal, mail: RecordingMail, monkeypatch: pytest.MonkeyPatch
) -> None:
    # LOGIN_PER_ACCOUNT alone (the account-wide lock set out of reach): its attempts from anywhere were a lever of
    # the same kind.
    out_of_reach = Lockout("login_failure_account", 1000, timedelta(minutes=15), timedelta(minutes=15))
    monkeypatch.setattr(accounts, "LOGIN_ACCOUNT_LOCKOUT", out_of_reach)
    _verified(conn, portal, mail)
    for n in range(accounts.LOGIN_PER_ACCOUNT.limit):
        assert _guess(conn, f"198.51.100.{n}") is InvalidCredentialsError
    assert _guess(conn, ELSEWHERE, PASSWORD) is TooManyAttemptsError
    assert accounts.login(conn, email=JANE, password=PASSWORD, client_ip=IP).access_token


@pytest.mark.slow
def test_a_reset_lifts_every_lock_and_makes_its_address_known(conn: Any, portal: Portal, mail: RecordingMail) -> None:
    _verified(conn, portal, mail)
    for _ in range(accounts.LOGIN_LOCKOUT.failures):  # the guesser's address locked
        _guess(conn, GUESSER)
    for n in range(accounts.LOGIN_PER_ACCOUNT.limit):  # the account locked, and its attempt limit spent
        _guess(conn, f"198.51.100.{100 + n}")
    assert _guess(conn, ELSEWHERE, PASSWORD) is AccountLockedError
    accounts.forgot_password(conn, portal, email=JANE, client_ip=ELSEWHERE)
    accounts.reset_password(conn, token=mail.last_link("reset.html"), password=NEW_PASSWORD, client_ip=ELSEWHERE)
    # Every lock is lifted: the guesser's address's, the account's, and the per-account attempt count.
    for address in (GUESSER, "198.51.100.100", "203.0.113.200"):
        assert accounts.login(conn, email=JANE, password=NEW_PASSWORD, client_ip=address).access_token
    # The address the reset was made from is known: a guesser who locks the account again does not keep the owner
    # out there.
    for n in range(accounts.LOGIN_ACCOUNT_LOCKOUT.failures):
        _guess(conn, f"198.51.100.{200 + n}")
    assert _guess(conn, "203.0.113.201", NEW_PASSWORD) in (AccountLockedError, TooManyAttemptsError)
    assert accounts.login(conn, email=JANE, password=NEW_PASSWORD, client_ip=ELSEWHERE).access_token


RACER = "racer.one@gmail.com"


@pytest.fixture
def committed_developer(database_url: str) -> Iterator[str]:
    with connect(database_url) as setup:
        setup.execute(
            """INSERT INTO users (name, email, canonical_email, hashed_password, verified)
               VALUES ('Racer', %s, %s, %s, true)""",
            (RACER, RACER, passwords.hash_password(PASSWORD, rounds=4)),
        )
    yield RACER
    with connect(database_url) as cleanup:
        cleanup.execute("DELETE FROM auth_attempts WHERE starts_with(subject, %s) OR subject = %s", (RACER, GUESSER))
        cleanup.execute("DELETE FROM users WHERE canonical_email = %s", (RACER,))


@pytest.mark.slow
@pytest.mark.commit
def test_parallel_guesses_cannot_get_past_the_lock_of_their_address(
    database_url: str, committed_developer: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked = []
    lock = threading.Lock()
    real_verify = accounts.verify_password

    def counting_verify(password: str, hashed: str | None) -> bool:
        with lock:
            checked.append(password)
        return real_verify(password, hashed)

    monkeypatch.setattr(accounts, "verify_password", counting_verify)

    def guess(attempt: int) -> str:
        with connect(database_url) as own:
            try:
                accounts.login(own, email=committed_developer, password=f"guess {attempt}", client_ip=GUESSER)
            except (InvalidCredentialsError, AccountLockedError) as error:
                return error.code
        return "signed in"

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(guess, range(12)))
    # Each attempt was counted before its password was checked: only five were checked at all, the fifth failure
    # locked the address, and every other attempt met the lock.
    assert len(checked) == accounts.LOGIN_LOCKOUT.failures
    assert outcomes.count("invalid_credentials") == accounts.LOGIN_LOCKOUT.failures - 1
    assert outcomes.count("account_locked") == 12 - accounts.LOGIN_LOCKOUT.failures + 1


# ---------- dashboard data ----------


def test_usage_reports_windows_and_a_30_day_series_of_the_developers_own_calls(
    conn: Any, portal: Portal, mail: RecordingMail
) -> None:
    jane = _verified(conn, portal, mail)
    bob = _verified(conn, portal, mail, "bob.smith@outlook.com")
    for _ in range(3):
        access.admit(conn, jane.api_key, endpoint="/movies")
    access.admit(conn, jane.api_key, endpoint="/search")
    access.admit(conn, bob.api_key, endpoint="/genres")
    jane_id = verify_session(conn, jane.session.access_token, role="developer").subject_id
    report = accounts.usage(conn, user_id=jane_id)
    assert report.day is not None and report.day.used == 4 and report.day.limit == 100 and report.day.remaining == 96
    assert report.minute is not None and report.minute.used == 4 and report.minute.limit == 30
    assert len(report.days) == 30
    assert set(report.endpoints) == {"/movies", "/search"}
    assert report.endpoints["/movies"][-1] == 3 and sum(report.endpoints["/movies"]) == 3
    assert report.outcomes["2xx"][-1] == 4 and sum(report.outcomes["429"]) == 0
    log = accounts.request_log(conn, user_id=jane_id, page=1, per_page=2)
    assert log.total_results == 4 and log.total_pages == 2
    assert [r.endpoint for r in log.results] == ["/search", "/movies"]  # newest first
    assert all(r.method == "GET" and r.status == 200 for r in log.results)


def test_the_request_log_counts_the_free_304s_it_shows(conn: Any, portal: Portal, mail: RecordingMail) -> None:
    """A 304 is logged (as 304) but counted in the rollup's `not_modified`, not `requests`: total_results left it
    out, so a log of one 200 and three 304s said 1 result while showing 4 (found by the eighth tester)."""
    jane = _verified(conn, portal, mail)
    grant = access.admit(conn, jane.api_key, endpoint="/movies/{id}")
    access.record_status(conn, grant, 200)
    for _ in range(3):
        access.refund_not_modified(
            conn, access.admit(conn, jane.api_key, endpoint="/movies/{id}"), endpoint="/movies/{id}"
        )
    jane_id = verify_session(conn, jane.session.access_token, role="developer").subject_id
    log = accounts.request_log(conn, user_id=jane_id, page=1, per_page=3)
    assert sorted(r.status for r in log.results) == [304, 304, 304]
    assert log.total_results == 4 and log.total_pages == 2


def test_no_key_means_empty_windows(conn: Any, portal: Portal) -> None:
    _signup(conn, portal)
    user_id = conn.execute("SELECT id FROM users").fetchone()["id"]
    report = accounts.usage(conn, user_id=user_id)
    assert report.day is None and report.minute is None and report.total_requests == 0
    profile = accounts.profile(conn, user_id=user_id)
    assert profile.key is None and not profile.developer.verified


def test_plans_list_the_limits(conn: Any) -> None:
    listed = {p.id: (p.daily_quota, p.per_minute) for p in accounts.list_plans(conn)}
    assert listed["free"] == (100, 30) and listed["pro"] == (50000, 600) and listed["unlimited"] == (None, 3000)


# ---------- key reissue ----------


def test_reissue_request_approval_and_reveal_once(conn: Any, portal: Portal, mail: RecordingMail) -> None:
    verified = _verified(conn, portal, mail)
    user_id = verify_session(conn, verified.session.access_token, role="developer").subject_id
    request = accounts.file_key_request(conn, user_id=user_id, reason="Lost my laptop")
    with pytest.raises(KeyRequestPendingError):
        accounts.file_key_request(conn, user_id=user_id, reason="again")
    with pytest.raises(KeyRequestNotApprovedError):
        accounts.claim_key(conn, portal, user_id=user_id, request_id=request.id)
    key_requests.decide_request(conn, request_id=request.id, approve=True, admin_id=None)
    new_key, key = accounts.claim_key(conn, portal, user_id=user_id, request_id=request.id)
    assert new_key != verified.api_key and key.last4 == new_key[-4:] and key.status == "active"
    with pytest.raises(KeyRevokedError):
        access.check_key(conn, verified.api_key)
    assert access.check_key(conn, new_key).status == "active"
    with pytest.raises(KeyAlreadyRevealedError):
        accounts.claim_key(conn, portal, user_id=user_id, request_id=request.id)


def test_a_reissued_key_keeps_the_end_of_the_key_it_replaces(conn: Any, portal: Portal, mail: RecordingMail) -> None:
    # An admin gave a pro key until a date (a trial); a "lost key" reissue must not make it permanent.
    verified = _verified(conn, portal, mail)
    user_id = verify_session(conn, verified.session.access_token, role="developer").subject_id
    until = conn.execute("SELECT now() + interval '7 days' AS t").fetchone()["t"]
    trial = access.issue_key(conn, owner_id=user_id, plan="pro", expires_at=until)
    request = accounts.file_key_request(conn, user_id=user_id, reason="lost the trial key", key_id=trial.key_id)
    key_requests.decide_request(conn, request_id=request.id, approve=True, admin_id=None)
    new_key, key = accounts.claim_key(conn, portal, user_id=user_id, request_id=request.id)
    assert (key.plan, key.expires_at) == ("pro", until)
    assert access.check_key(conn, new_key).expires_at == until


def test_a_denied_request_gives_no_key(conn: Any, portal: Portal, mail: RecordingMail) -> None:
    verified = _verified(conn, portal, mail)
    user_id = verify_session(conn, verified.session.access_token, role="developer").subject_id
    request = accounts.file_key_request(conn, user_id=user_id, reason="please")
    key_requests.decide_request(conn, request_id=request.id, approve=False, admin_id=None, note="Not convincing")
    with pytest.raises(KeyRequestNotApprovedError):
        accounts.claim_key(conn, portal, user_id=user_id, request_id=request.id)
    assert access.check_key(conn, verified.api_key).status == "active"


def test_another_developers_request_is_not_found(conn: Any, portal: Portal, mail: RecordingMail) -> None:
    jane = _verified(conn, portal, mail)
    bob = _verified(conn, portal, mail, "bob.smith@outlook.com")
    jane_id = verify_session(conn, jane.session.access_token, role="developer").subject_id
    bob_id = verify_session(conn, bob.session.access_token, role="developer").subject_id
    request = accounts.file_key_request(conn, user_id=jane_id, reason="lost")
    key_requests.decide_request(conn, request_id=request.id, approve=True, admin_id=None)
    with pytest.raises(NotFoundError):
        accounts.claim_key(conn, portal, user_id=bob_id, request_id=request.id)
    assert accounts.list_key_requests(conn, user_id=bob_id) == []
    with pytest.raises(InvalidApiKeyError):
        access.check_key(conn, "00000000-0000-4000-8000-000000000000")


def test_a_request_needs_a_key_and_a_reason(conn: Any, portal: Portal, mail: RecordingMail) -> None:
    _signup(conn, portal)
    user_id = conn.execute("SELECT id FROM users").fetchone()["id"]
    with pytest.raises(NoApiKeyError):
        accounts.file_key_request(conn, user_id=user_id, reason="lost")
    with pytest.raises(RequestValidationError):
        accounts.file_key_request(conn, user_id=user_id, reason="   ")


def test_a_requests_reason_is_stored_without_invisible_characters(
    conn: Any, portal: Portal, mail: RecordingMail
) -> None:
    # Admins read the reason: a direction override displayed it reversed, and zero-width spaces made an empty one.
    _verified(conn, portal, mail)
    user_id = conn.execute("SELECT id FROM users").fetchone()["id"]
    with pytest.raises(RequestValidationError):
        accounts.file_key_request(conn, user_id=user_id, reason="\u200b\u200b\u202e")
    request = accounts.file_key_request(conn, user_id=user_id, reason="Stolen \u202elaptop\r\nby a thief")
    assert request.reason == "Stolen laptop\nby a thief"


def test_the_outbox_backend_writes_the_verification_mail_readable_by_the_email_package(
    conn: Any, tmp_path: Path
) -> None:
    outbox = tmp_path / "box"
    portal = _portal(tmp_path, OutboxSender(outbox), LocalBus(conn))
    _signup(conn, portal)
    [eml] = list(outbox.glob("*.eml"))
    with eml.open("rb") as handle:
        message = email.message_from_binary_file(handle, policy=email.policy.default)
    assert message["To"] == "Jane.Doe@gmail.com" and message["Subject"] == "Confirm your email for Marquee"
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    link = re.search(r"http://127\.0\.0\.1:8080/verify\.html\?token=[A-Za-z0-9_-]{43}", plain.get_content())
    assert link and link.group(0) in html.get_content()


def test_reset_attempts_are_limited_per_account(conn: Any, portal: Portal, mail: RecordingMail) -> None:
    _verified(conn, portal, mail)
    accounts.forgot_password(conn, portal, email="jane.doe@gmail.com", client_ip=IP)
    token = mail.last_link("reset.html")
    for i in range(accounts.RESET_PER_ACCOUNT.limit):
        with pytest.raises(WeakPasswordError):
            accounts.reset_password(conn, token=token, password="password123", client_ip=f"192.0.2.{i}")
    with pytest.raises(TooManyAttemptsError) as refused:
        accounts.reset_password(conn, token=token, password=NEW_PASSWORD, client_ip="192.0.2.200")
    assert "this account" in refused.value.detail


def test_a_verified_developer_whose_only_key_an_admin_deleted_asks_for_a_new_one(
    conn: Any, portal: Portal, mail: RecordingMail
) -> None:
    """The eighth tester's dead end: after an admin deleted the only key, a request was refused (409 no_api_key,
    "confirm your email address first") and the portal offered no way back. It is now a request for a new key that
    replaces none: approved, the developer reveals a key on the default plan, and nothing else changes."""
    jane = _verified(conn, portal, mail)
    user_id = verify_session(conn, jane.session.access_token, role="developer").subject_id
    conn.execute("DELETE FROM api_keys WHERE owner_id = %s", (user_id,))
    request = accounts.file_key_request(conn, user_id=user_id, reason="my key was deleted")
    assert request.api_key_id is None and request.status == "pending"
    key_requests.decide_request(conn, request_id=request.id, approve=True, admin_id=None)
    raw, key = accounts.claim_key(conn, portal, user_id=user_id, request_id=request.id)
    assert access.check_key(conn, raw).key_id == key.id
    assert key.plan == portal.settings.default_plan


def test_forgot_for_an_unconfirmed_account_says_how_to_sign_up_again(
    conn: Any, portal: Portal, mail: RecordingMail
) -> None:
    """The eighth tester's case: the page said a link was on its way, and nothing came. An unconfirmed account has no
    password to reset; the mail sends its owner to sign up again, which replaces the earlier sign-up."""
    _signup(conn, portal)
    sent = len(mail.sent)
    assert accounts.forgot_password(conn, portal, email="jane.doe@gmail.com", client_ip=IP) == accounts.FORGOT_SENT
    [message] = mail.sent[sent:]
    assert message["Subject"] == "Finish signing up for Marquee" and message["To"] == "Jane.Doe@gmail.com"
    text = message.get_body(preferencelist=("plain",))
    assert text is not None and "/signup.html" in text.get_content() and "token=" not in text.get_content()
    assert conn.execute("SELECT count(*) AS n FROM password_resets").fetchone()["n"] == 0


# ---------- the same work for any address ----------


def _table_writes(conn: Any) -> dict[str, tuple[int, int, int]]:
    rows = conn.execute("SELECT relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_xact_user_tables").fetchall()
    return {r["relname"]: (r["n_tup_ins"], r["n_tup_upd"], r["n_tup_del"]) for r in rows}


def _writes_of(conn: Any, action: Any) -> tuple[Any, dict[str, tuple[int, int, int]]]:
    """What `action()` returned and the rows it inserted, updated and deleted per table: PostgreSQL's own counts of
    the test's transaction (pg_stat_xact_user_tables), after minus before."""
    before = _table_writes(conn)
    result = action()
    after = _table_writes(conn)
    changed = {
        table: tuple(a - b for a, b in zip(counts, before.get(table, (0, 0, 0)), strict=True))
        for table, counts in after.items()
    }
    return result, {table: counts for table, counts in changed.items() if any(counts)}  # type: ignore[misc]


@pytest.mark.parametrize("use_case", ["resend_verification", "forgot_password"])
def test_resend_and_forgot_do_the_same_work_for_an_account_and_for_no_account(
    conn: Any, portal: Portal, mail: RecordingMail, bus: LocalBus, use_case: str
) -> None:
    # Jane is pending (a resend mails her), Joe is confirmed (a forgot mails him), nobody has no account.
    _signup(conn, portal)
    _verified(conn, portal, mail, "Joe.Bloggs@gmail.com")
    mail.sent.clear()
    bus.hold = True
    run = getattr(accounts, use_case)
    seen = {}
    for address in ("Jane.Doe@gmail.com", "Joe.Bloggs@gmail.com", "nobody.here@gmail.com"):
        answer, writes = _writes_of(
            conn, lambda a=address: run(conn, portal, email=a, client_ip=f"192.0.2.{len(seen)}")
        )
        [entry] = bus.pending[-1:]
        detail = json.loads(entry["Detail"])
        # The request: the same answer, the same rows written (the limits' counters only), no mail, one event of the
        # same shape; nothing that depends on whether the address has an account.
        seen[address] = (answer, writes, {k: v for k, v in entry.items() if k != "Detail"}, sorted(detail))
        assert mail.sent == [] and len(bus.pending) == len(seen)
    assert len({json.dumps(v, sort_keys=True) for v in seen.values()}) == 1, seen
    assert set(seen["nobody.here@gmail.com"][1]) == {"auth_attempts"}
    # After the answer the rule's target looks each address up: only the account that can use the mail gets it.
    assert bus.deliver() == ([True, False, False] if use_case == "resend_verification" else [True, True, False])
    expected = {
        "resend_verification": ["Jane.Doe@gmail.com"],
        "forgot_password": ["Jane.Doe@gmail.com", "Joe.Bloggs@gmail.com"],
    }
    assert [m["To"] for m in mail.sent] == expected[use_case]


def test_a_mail_that_fails_after_the_answer_leaves_the_answer_alone_and_a_resend_works(
    conn: Any, portal: Portal, mail: RecordingMail, bus: LocalBus
) -> None:
    _verified(conn, portal, mail)
    mail.sent.clear()
    mail.fail = True
    assert accounts.forgot_password(conn, portal, email="jane.doe@gmail.com", client_ip=IP) == accounts.FORGOT_SENT
    [failure] = bus.failures
    assert isinstance(failure, MailUnavailableError)  # the invocation fails, so Lambda retries the event
    mail.fail = False
    accounts.forgot_password(conn, portal, email="jane.doe@gmail.com", client_ip=IP)
    assert (
        accounts.reset_password(conn, token=mail.last_link("reset.html"), password=NEW_PASSWORD, client_ip=IP) is None
    )


def test_a_bus_that_refuses_the_event_is_mail_unavailable_for_any_address(
    conn: Any, portal: Portal, bus: LocalBus
) -> None:
    _signup(conn, portal)
    bus.fail = True
    for address in ("jane.doe@gmail.com", "nobody.here@gmail.com"):
        with pytest.raises(MailUnavailableError) as refused:
            accounts.resend_verification(conn, portal, email=address, client_ip=IP)
        assert refused.value.status == 503
