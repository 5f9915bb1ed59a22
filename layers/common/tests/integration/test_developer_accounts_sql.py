"""Migration 0006 and its SQL: developers, single-use tokens (hashes only), key requests, attempt counters."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import psycopg
import psycopg.rows
import pytest

from movie_common import access, attempt_limits
from movie_common.attempt_limits import AttemptLimit, Lockout
from movie_common.db import auth_attempts, developer_logins, developers, key_requests, one_time_tokens
from movie_common.errors import AccountLockedError, InvalidTokenError, TooManyAttemptsError
from movie_common.one_time_tokens import hash_token, new_token


def _developer(conn: Any, canonical: str = "janedoe@gmail.com") -> int:
    user_id = developers.create_developer(
        conn, name="Jane", email="Jane.Doe@gmail.com", canonical_email=canonical, hashed_password="$2b$12$x"
    )
    assert user_id is not None
    return user_id


def test_a_canonical_duplicate_is_not_created(conn: Any) -> None:
    first = _developer(conn)
    again = developers.create_developer(
        conn, name="Other", email="j.a.n.e.doe@gmail.com", canonical_email="janedoe@gmail.com", hashed_password="x"
    )
    assert again is None
    found = developers.find_by_canonical_email(conn, canonical_email="janedoe@gmail.com")
    assert found is not None and found.id == first and found.name == "Jane" and not found.verified


def test_restart_signup_only_touches_unverified_accounts(conn: Any) -> None:
    user_id = _developer(conn)
    assert developers.restart_signup(
        conn, user_id=user_id, name="Jane B", email="jane.doe@gmail.com", hashed_password="y"
    )
    developers.mark_verified(conn, user_id=user_id)
    assert not developers.restart_signup(
        conn, user_id=user_id, name="Mallory", email="x@gmail.com", hashed_password="z"
    )
    found = developers.get_developer(conn, user_id=user_id)
    assert found is not None and found.name == "Jane B" and found.verified and found.verified_at is not None


def test_tokens_are_stored_as_sha256_only(conn: Any) -> None:
    user_id = _developer(conn)
    raw, digest = new_token()
    one_time_tokens.insert_token(
        conn, "email_verifications", user_id=user_id, token_hash=digest, ttl=timedelta(hours=24), email="x@gmail.com"
    )
    stored = conn.execute("SELECT token, expires_at - created_at AS ttl FROM email_verifications").fetchone()
    assert bytes(stored["token"]) == digest and raw.encode() not in bytes(stored["token"])
    assert stored["ttl"] == timedelta(hours=24)
    with pytest.raises(psycopg.errors.CheckViolation):
        conn.execute(
            "INSERT INTO email_verifications (user_id, token, email, expires_at) VALUES (%s, %s, 'x', now() + '1h')",
            (user_id, raw.encode()),
        )


def test_find_spend_and_expiry(conn: Any) -> None:
    user_id = _developer(conn)
    raw, digest = new_token()
    one_time_tokens.insert_token(conn, "password_resets", user_id=user_id, token_hash=digest, ttl=timedelta(hours=1))
    record = one_time_tokens.find_token(conn, "password_resets", token_hash=hash_token(raw))
    assert record is not None and record.user_id == user_id and record.used_at is None and not record.expired
    assert one_time_tokens.spend_tokens(conn, "password_resets", user_id=user_id) == 1
    assert one_time_tokens.spend_tokens(conn, "password_resets", user_id=user_id) == 0
    spent = one_time_tokens.find_token(conn, "password_resets", token_hash=digest)
    assert spent is not None and spent.used_at is not None
    conn.execute(
        "UPDATE password_resets SET created_at = now() - interval '2 hours', expires_at = now() - interval '1 hour'"
    )
    expired = one_time_tokens.find_token(conn, "password_resets", token_hash=digest)
    assert expired is not None and expired.expired
    assert one_time_tokens.find_token(conn, "password_resets", token_hash=new_token()[1]) is None


@pytest.mark.parametrize("mangled", ["", "short", "x" * 44, "a" * 42 + "=", "a" * 42 + "!"])
def test_mangled_tokens_never_reach_the_database(mangled: str) -> None:
    with pytest.raises(InvalidTokenError):
        hash_token(mangled)


def test_one_open_key_request_per_developer(conn: Any) -> None:
    user_id = _developer(conn)
    issued = access.issue_key(conn, owner_id=user_id, plan="free")
    first = key_requests.file_request(conn, user_id=user_id, api_key_id=issued.key_id, reason="Lost my laptop")
    assert first is not None and first.status == "pending"
    assert key_requests.file_request(conn, user_id=user_id, api_key_id=issued.key_id, reason="again") is None
    approved = key_requests.decide_request(conn, request_id=first.id, approve=True, admin_id=1, note="ok")
    assert approved is not None and approved.status == "approved" and approved.decided_at is not None
    assert key_requests.decide_request(conn, request_id=first.id, approve=False, admin_id=1) is None
    # Approved but not yet revealed: still open.
    assert key_requests.file_request(conn, user_id=user_id, api_key_id=issued.key_id, reason="again") is None
    key_requests.mark_fulfilled(conn, request_id=first.id, new_api_key_id=issued.key_id)
    second = key_requests.file_request(conn, user_id=user_id, api_key_id=issued.key_id, reason="lost it again")
    assert second is not None
    assert [r.id for r in key_requests.list_requests(conn, user_id=user_id)] == [second.id, first.id]


def test_a_request_is_invisible_to_another_developer(conn: Any) -> None:
    jane = _developer(conn)
    bob = _developer(conn, "bob@gmail.com")
    filed = key_requests.file_request(conn, user_id=jane, api_key_id=None, reason="lost")
    assert filed is not None
    assert key_requests.get_request(conn, request_id=filed.id, user_id=bob) is None
    assert key_requests.get_request(conn, request_id=filed.id, user_id=jane) is not None


def test_key_request_reason_must_not_be_blank(conn: Any) -> None:
    user_id = _developer(conn)
    with pytest.raises(psycopg.errors.CheckViolation):
        key_requests.file_request(conn, user_id=user_id, api_key_id=None, reason="   ")


def test_attempt_window_counts_and_restarts(conn: Any) -> None:
    window = timedelta(minutes=10)
    for expected in (1, 2, 3):
        count = auth_attempts.count_attempt(conn, scope="t", subject="1.2.3.4", window=window)
        assert count.attempts == expected
    conn.execute("UPDATE auth_attempts SET window_start = now() - interval '11 minutes'")
    assert auth_attempts.count_attempt(conn, scope="t", subject="1.2.3.4", window=window).attempts == 1
    assert auth_attempts.count_attempt(conn, scope="t", subject="5.6.7.8", window=window).attempts == 1


def test_limit_refuses_past_the_limit_with_retry_after(conn: Any) -> None:
    limit = AttemptLimit("signup_ip", limit=2, window=timedelta(minutes=10))
    attempt_limits.hit(conn, limit, "10.0.0.1", what="sign-ups")
    attempt_limits.hit(conn, limit, "10.0.0.1", what="sign-ups")
    with pytest.raises(TooManyAttemptsError) as refused:
        attempt_limits.hit(conn, limit, "10.0.0.1", what="sign-ups")
    assert refused.value.code == "too_many_attempts" and refused.value.status == 429
    assert 590 <= refused.value.retry_after <= 600
    attempt_limits.hit(conn, limit, "10.0.0.2", what="sign-ups")  # another subject is not affected


def test_lockout_after_repeated_failures_and_cleared_by_success(conn: Any) -> None:
    lockout = Lockout("login_failure", failures=3, window=timedelta(minutes=15), duration=timedelta(minutes=15))
    attempt_limits.ensure_unlocked(conn, lockout, "janedoe@gmail.com")
    attempt_limits.record_failure(conn, lockout, "janedoe@gmail.com")
    attempt_limits.clear_failures(conn, lockout, "janedoe@gmail.com")
    attempt_limits.record_failure(conn, lockout, "janedoe@gmail.com")
    attempt_limits.record_failure(conn, lockout, "janedoe@gmail.com")
    with pytest.raises(AccountLockedError) as locked:
        attempt_limits.record_failure(conn, lockout, "janedoe@gmail.com")
    assert locked.value.code == "account_locked" and 890 <= locked.value.retry_after <= 900
    with pytest.raises(AccountLockedError):
        attempt_limits.ensure_unlocked(conn, lockout, "janedoe@gmail.com")
    conn.execute("UPDATE auth_attempts SET locked_until = now() - interval '1 second'")
    attempt_limits.ensure_unlocked(conn, lockout, "janedoe@gmail.com")


def test_a_reserved_attempt_counts_before_the_check_and_the_lock_holds_until_it_ends(conn: Any) -> None:
    lockout = Lockout("login_failure_address", failures=2, window=timedelta(minutes=15), duration=timedelta(minutes=15))
    pair = "janedoe@gmail.com|192.0.2.1"
    assert attempt_limits.reserve_attempt(conn, lockout, pair) == 1
    attempt_limits.forgive(conn, lockout, pair)  # a right password: forgiven
    assert attempt_limits.reserve_attempt(conn, lockout, pair) == 1
    assert attempt_limits.confirm_failure(conn, lockout, pair, 1) is None
    assert attempt_limits.reserve_attempt(conn, lockout, pair) == 2
    lock = attempt_limits.confirm_failure(conn, lockout, pair, 2)  # the failure that reaches the limit locks
    assert lock is not None and lock.code == "account_locked" and lock.retry_after == 900
    with pytest.raises(AccountLockedError):
        attempt_limits.reserve_attempt(conn, lockout, pair)
    attempt_limits.reserve_attempt(conn, lockout, pair, enforce=False)  # counted, not refused
    attempt_limits.forgive(conn, lockout, pair)  # a right password elsewhere lifts no lock
    with pytest.raises(AccountLockedError):
        attempt_limits.ensure_unlocked(conn, lockout, pair)
    # A third attempt reserved before the second's check (parallel guesses) is refused and locks at once.
    other = "janedoe@gmail.com|192.0.2.2"
    attempt_limits.reserve_attempt(conn, lockout, other)
    attempt_limits.reserve_attempt(conn, lockout, other)
    with pytest.raises(AccountLockedError):
        attempt_limits.reserve_attempt(conn, lockout, other)
    # Every address's lock of one account goes at once; another account's stays.
    attempt_limits.record_failure(conn, lockout, "janedoe@gmail.com.au|192.0.2.1")
    assert attempt_limits.clear_failures_prefixed(conn, lockout, "janedoe@gmail.com|") == 2
    attempt_limits.ensure_unlocked(conn, lockout, pair)
    assert (
        auth_attempts.attempts_in_window(
            conn, scope=lockout.scope, subject="janedoe@gmail.com.au|192.0.2.1", window=lockout.window
        )
        == 1
    )


def test_an_address_is_known_after_a_sign_in_from_it_for_a_while(conn: Any) -> None:
    user_id = _developer(conn)
    week = timedelta(days=7)
    assert not developer_logins.is_known(conn, canonical_email="janedoe@gmail.com", address="192.0.2.1", within=week)
    developer_logins.record_known(conn, user_id=user_id, address="192.0.2.1")
    developer_logins.record_known(conn, user_id=user_id, address="192.0.2.1")  # again: one row, later
    assert developer_logins.is_known(conn, canonical_email="janedoe@gmail.com", address="192.0.2.1", within=week)
    assert not developer_logins.is_known(conn, canonical_email="janedoe@gmail.com", address="192.0.2.2", within=week)
    assert not developer_logins.is_known(conn, canonical_email="other@gmail.com", address="192.0.2.1", within=week)
    conn.execute("UPDATE developer_login_addresses SET last_login_at = now() - interval '8 days'")
    assert not developer_logins.is_known(conn, canonical_email="janedoe@gmail.com", address="192.0.2.1", within=week)
    conn.execute("DELETE FROM users WHERE id = %s", (user_id,))  # the account's addresses go with it
    assert conn.execute("SELECT count(*) AS n FROM developer_login_addresses").fetchone()["n"] == 0


def test_purge_removes_only_stale_counters(conn: Any) -> None:
    auth_attempts.count_attempt(conn, scope="t", subject="old", window=timedelta(minutes=1))
    auth_attempts.count_attempt(conn, scope="t", subject="new", window=timedelta(minutes=1))
    conn.execute("UPDATE auth_attempts SET window_start = now() - interval '3 days' WHERE subject = 'old'")
    assert auth_attempts.purge_stale(conn, older_than=timedelta(days=1)) == 1
    assert [r["subject"] for r in conn.execute("SELECT subject FROM auth_attempts WHERE scope = 't'")] == ["new"]


def test_purge_deletes_a_bounded_batch(conn: Any) -> None:
    for i in range(5):
        auth_attempts.count_attempt(conn, scope="t", subject=f"old{i}", window=timedelta(minutes=1))
    conn.execute("UPDATE auth_attempts SET window_start = now() - interval '3 days' WHERE scope = 't'")
    assert auth_attempts.purge_stale(conn, older_than=timedelta(days=1), limit=2) == 2
    assert auth_attempts.purge_stale(conn, older_than=timedelta(days=1)) == 3


@pytest.mark.commit
def test_a_fresh_lock_says_its_own_duration_across_transactions(database_url: str) -> None:
    """Deployed, each attempt is its own transaction, so the count's clock and the lock's differ by a few
    microseconds: a 15-minute lock said "16 minutes" and Retry-After 901."""
    lockout = Lockout("lock_clock_test", failures=2, window=timedelta(minutes=15), duration=timedelta(minutes=15))
    with psycopg.connect(database_url, autocommit=True, row_factory=psycopg.rows.dict_row) as conn:
        try:
            attempt_limits.record_failure(conn, lockout, "clock@gmail.com")
            with pytest.raises(AccountLockedError) as locked:
                attempt_limits.record_failure(conn, lockout, "clock@gmail.com")
            assert locked.value.retry_after == 900
            assert "locked for 15 minutes" in locked.value.detail
        finally:
            conn.execute("DELETE FROM auth_attempts WHERE scope = 'lock_clock_test'")
