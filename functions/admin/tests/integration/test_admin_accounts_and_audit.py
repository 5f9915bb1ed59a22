"""Admin accounts (creation, sign-in, lockout) and the audit log's list and export, against PostgreSQL."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from movie_admin.audit import Actor, record, snapshot
from movie_admin.exports import FolderExportStore
from movie_admin.services import admins, audit_log, keys
from movie_admin.services.admins import LoginPolicy
from movie_common.database import connect
from movie_common.db.admin_audit_log import AuditFilters
from movie_common.errors import (
    AccountLockedError,
    AdminExistsError,
    InvalidCredentialsError,
    RequestValidationError,
    TooManyAttemptsError,
)

PASSWORD = "correct horse battery staple"


@pytest.mark.slow
def test_create_admin_with_a_generated_password_shown_once(conn: Any, audit_rows: Callable[..., Any]) -> None:
    created = admins.create_admin(conn, Actor.cli(), email="Boss@Marquee.Example")
    assert created.generated_password is not None and len(created.generated_password) >= 20
    stored = conn.execute("SELECT email, hashed_password FROM admins WHERE id = %s", (created.admin.id,)).fetchone()
    assert stored["email"] == "Boss@marquee.example" and stored["hashed_password"].startswith("$2b$12$")
    assert created.generated_password not in stored["hashed_password"]
    assert admins.authenticate(
        conn, client_ip="192.0.2.1", email="boss@marquee.example", password=created.generated_password
    ).id == (created.admin.id)
    [entry] = audit_rows(action="admin.create")
    assert entry["actor"].startswith("cli:") and entry["source"] == "cli" and entry["admin_id"] is None
    assert entry["after"] == {"id": created.admin.id, "email": "Boss@marquee.example", "status": "active"}
    with pytest.raises(AdminExistsError):
        admins.create_admin(conn, Actor.cli(), email="BOSS@marquee.example", password=PASSWORD)


@pytest.mark.parametrize(
    ("email", "password", "field"),
    [
        ("not-an-email", PASSWORD, "email"),
        ("a@marquee.example", "short", "password"),
        ("a@marquee.example", "é" * 40, "password"),
    ],
)
def test_create_admin_refuses_bad_input(conn: Any, email: str, password: str, field: str) -> None:
    with pytest.raises(RequestValidationError) as refused:
        admins.create_admin(conn, Actor.cli(), email=email, password=password)
    assert refused.value.errors[0].name == field


def test_the_first_admin_is_created_once(conn: Any) -> None:
    conn.execute("DELETE FROM admins")
    first = admins.ensure_first_admin(conn, Actor.cli(), email="first@marquee.example", password=PASSWORD)
    assert first is not None and first.generated_password is None
    assert admins.ensure_first_admin(conn, Actor.cli(), email="second@marquee.example", password=None) is None


@pytest.mark.slow
def test_wrong_email_and_wrong_password_read_the_same(conn: Any) -> None:
    admins.create_admin(conn, Actor.cli(), email="ops@marquee.example", password=PASSWORD)
    with pytest.raises(InvalidCredentialsError) as wrong_password:
        admins.authenticate(conn, client_ip="192.0.2.1", email="ops@marquee.example", password="not the password")
    with pytest.raises(InvalidCredentialsError) as wrong_email:
        admins.authenticate(conn, client_ip="192.0.2.1", email="nobody@marquee.example", password=PASSWORD)
    assert wrong_password.value.detail == wrong_email.value.detail


@pytest.mark.slow
def test_repeated_failures_lock_the_account_even_for_the_right_password(conn: Any) -> None:
    admins.create_admin(conn, Actor.cli(), email="ops@marquee.example", password=PASSWORD)
    policy = LoginPolicy(max_failures=3, window=timedelta(minutes=15), lock_for=timedelta(minutes=10))
    for _ in range(3):
        with pytest.raises(InvalidCredentialsError):
            admins.authenticate(
                conn, client_ip="192.0.2.1", email="ops@marquee.example", password="guess", policy=policy
            )
    with pytest.raises(AccountLockedError) as locked:
        admins.authenticate(conn, client_ip="192.0.2.1", email="ops@marquee.example", password=PASSWORD, policy=policy)
    assert 540 <= locked.value.retry_after <= 600
    # When the lock has passed, the right password works and the count starts over.
    conn.execute("UPDATE admin_login_addresses SET locked_until = now() - interval '1 second'")
    assert (
        admins.authenticate(
            conn, client_ip="192.0.2.1", email="ops@marquee.example", password=PASSWORD, policy=policy
        ).failed_logins
        == 0
    )


OPS = "ops@marquee.example"
DESK = "192.0.2.1"  # the admin's own address
GUESSER = "198.51.100.7"


@pytest.mark.slow
def test_failures_from_one_address_lock_the_admin_out_there_only(conn: Any) -> None:
    # Whoever knows an admin's email could keep that admin locked out by failing logins from anywhere: the lock was
    # the account's. It is now the account's for the address the failures came from.
    admins.create_admin(conn, Actor.cli(), email=OPS, password=PASSWORD)
    policy = LoginPolicy(max_failures=3)
    for _ in range(3):
        with pytest.raises(InvalidCredentialsError):
            admins.authenticate(conn, client_ip=GUESSER, email=OPS, password="guess", policy=policy)
    with pytest.raises(AccountLockedError):
        admins.authenticate(conn, client_ip=GUESSER, email=OPS, password=PASSWORD, policy=policy)
    assert admins.authenticate(conn, client_ip=DESK, email=OPS, password=PASSWORD, policy=policy).email == OPS
    with pytest.raises(AccountLockedError):  # the admin's success lifts nothing for the guesser
        admins.authenticate(conn, client_ip=GUESSER, email=OPS, password=PASSWORD, policy=policy)


@pytest.mark.slow
def test_failures_from_many_addresses_lock_the_account_except_where_the_admin_signs_in(conn: Any) -> None:
    admins.create_admin(conn, Actor.cli(), email=OPS, password=PASSWORD)
    policy = LoginPolicy(max_failures=3, account_max_failures=6)
    admins.authenticate(conn, client_ip=DESK, email=OPS, password=PASSWORD, policy=policy)  # a known address now
    for n in range(6):  # one guess from each of six addresses: no address reaches its own limit
        with pytest.raises(InvalidCredentialsError):
            admins.authenticate(conn, client_ip=f"198.51.100.{n}", email=OPS, password="guess", policy=policy)
    with pytest.raises(AccountLockedError) as locked:  # a seventh address, even with the right password
        admins.authenticate(conn, client_ip="203.0.113.9", email=OPS, password=PASSWORD, policy=policy)
    assert 840 <= locked.value.retry_after <= 900
    assert admins.authenticate(conn, client_ip=DESK, email=OPS, password=PASSWORD, policy=policy).email == OPS
    with pytest.raises(AccountLockedError):  # still locked for the others: the desk's sign-in lifted nothing
        admins.authenticate(conn, client_ip="198.51.100.1", email=OPS, password="guess", policy=policy)
    # An address the admin signed in from more than `known_for` ago is not known any more.
    conn.execute(
        "UPDATE admin_login_addresses SET last_login_at = now() - interval '91 days' WHERE address = %s", (DESK,)
    )
    with pytest.raises(AccountLockedError):
        admins.authenticate(conn, client_ip=DESK, email=OPS, password=PASSWORD, policy=policy)
    # The operator's way back in lifts every lock, the account's and each address's.
    admins.reset_password(conn, Actor.cli(), email=OPS, password=PASSWORD)
    for address in ("203.0.113.9", "198.51.100.1", DESK):
        assert admins.authenticate(conn, client_ip=address, email=OPS, password=PASSWORD, policy=policy).email == OPS


@pytest.mark.slow
def test_one_address_has_a_bound_on_sign_in_attempts_whatever_the_accounts(conn: Any) -> None:
    policy = LoginPolicy(per_address=4)
    for n in range(4):
        with pytest.raises(InvalidCredentialsError):
            admins.authenticate(
                conn, client_ip=GUESSER, email=f"nobody{n}@marquee.example", password="x", policy=policy
            )
    with pytest.raises(TooManyAttemptsError):
        admins.authenticate(conn, client_ip=GUESSER, email="nobody9@marquee.example", password="x", policy=policy)
    with pytest.raises(InvalidCredentialsError):  # another address is not affected
        admins.authenticate(conn, client_ip=DESK, email="nobody9@marquee.example", password="x", policy=policy)


@pytest.mark.slow
def test_a_success_forgives_earlier_failures(conn: Any) -> None:
    admins.create_admin(conn, Actor.cli(), email="ops@marquee.example", password=PASSWORD)
    policy = LoginPolicy(max_failures=2)
    for _ in range(2):
        with pytest.raises(InvalidCredentialsError):
            admins.authenticate(
                conn, client_ip="192.0.2.1", email="ops@marquee.example", password="guess", policy=policy
            )
        admins.authenticate(conn, client_ip="192.0.2.1", email="ops@marquee.example", password=PASSWORD, policy=policy)


@pytest.mark.slow
def test_a_disabled_admin_cannot_sign_in(conn: Any) -> None:
    created = admins.create_admin(conn, Actor.cli(), email="gone@marquee.example", password=PASSWORD)
    conn.execute("UPDATE admins SET status = 'disabled' WHERE id = %s", (created.admin.id,))
    with pytest.raises(InvalidCredentialsError):
        admins.authenticate(conn, client_ip="192.0.2.1", email="gone@marquee.example", password=PASSWORD)


@pytest.fixture
def committed_admin(database_url: str) -> Iterator[str]:
    with connect(database_url) as setup:
        admins.create_admin(setup, Actor.cli(), email="race@marquee.example", password=PASSWORD)
    yield "race@marquee.example"
    with connect(database_url) as cleanup:
        cleanup.execute(
            "DELETE FROM admin_audit_log WHERE target_type = 'admin' AND after->>'email' = %s",
            ("race@marquee.example",),
        )
        cleanup.execute("DELETE FROM admins WHERE email = %s", ("race@marquee.example",))


@pytest.mark.slow
@pytest.mark.commit
def test_parallel_guesses_cannot_get_past_the_lockout(database_url: str, committed_admin: str) -> None:
    policy = LoginPolicy(max_failures=3)

    def guess(attempt: int) -> str:
        with connect(database_url) as own:
            try:
                admins.authenticate(
                    own, client_ip="192.0.2.1", email=committed_admin, password=f"guess {attempt}", policy=policy
                )
            except (InvalidCredentialsError, AccountLockedError) as error:
                return error.code
        return "signed in"

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(guess, range(12)))
    # Only the first three guesses were checked against the password; every other one met the lock.
    assert outcomes.count("invalid_credentials") == 3 and outcomes.count("account_locked") == 9


def test_audit_list_filters_and_pages(conn: Any, make_developer: Callable[..., Any], actor: Actor) -> None:
    dev = make_developer(plans=("free", "free"))
    first, second = dev.keys
    keys.suspend_key(conn, actor, key_id=first)
    keys.revoke_key(conn, actor, key_id=second)
    keys.reset_usage(conn, Actor.cli(), key_id=first)

    def listed(**filters: Any) -> list[str]:
        page = audit_log.list_entries(
            conn, filters=AuditFilters(developer_id=dev.id, **filters), sort="occurred_at.desc", page=1, per_page=50
        )
        return [e.action for e in page.results]

    assert listed() == ["api_key.reset_usage", "api_key.revoke", "api_key.suspend"]
    assert listed(action="api_key.revoke") == ["api_key.revoke"]
    assert listed(target_id=str(first)) == ["api_key.reset_usage", "api_key.suspend"]
    assert listed(admin_id=actor.admin_id) == ["api_key.revoke", "api_key.suspend"]
    assert listed(search="cli:") == ["api_key.reset_usage"]
    page = audit_log.list_entries(
        conn, filters=AuditFilters(developer_id=dev.id), sort="occurred_at.asc", page=2, per_page=2
    )
    assert [e.action for e in page.results] == ["api_key.reset_usage"] and page.total_results == 3
    assert page.results[0].request_id is None and page.results[0].source == "cli"


def test_audit_export_is_csv_of_the_filtered_entries(
    conn: Any, make_developer: Callable[..., Any], actor: Actor, tmp_path: Path
) -> None:
    dev = make_developer()
    keys.suspend_key(conn, actor, key_id=dev.key_id)
    stored = audit_log.export_entries(
        conn,
        actor,
        FolderExportStore(tmp_path, "/x"),
        filters=AuditFilters(developer_id=dev.id),
        sort="occurred_at.asc",
    )
    rows = list(csv.DictReader(io.StringIO((tmp_path / stored.name).read_text())))
    assert [(r["action"], r["actor"], r["request_id"]) for r in rows] == [
        ("api_key.suspend", "ops@marquee.test", "req-admin-test")
    ]
    assert '"status": "suspended"' in rows[0]["after"] and rows[0]["occurred_at"].endswith("Z")


def test_snapshots_and_entries_never_carry_secrets(conn: Any, actor: Actor) -> None:
    with pytest.raises(ValueError, match="raw_key"):
        record(conn, actor, action="api_key.create", target_type="api_key", target_id=1, after={"raw_key": "x"})
    with pytest.raises(ValueError, match="key"):
        snapshot(_Leaky(id=1, key="secret"))
    with pytest.raises(Exception, match="admin_audit_log_after_check"):
        conn.execute(
            """INSERT INTO admin_audit_log (actor, source, action, target_type, after)
               VALUES ('x', 'api', 'api_key.create', 'api_key', '{"hashed_password": "h"}')"""
        )


@dataclass
class _Leaky:
    id: int
    key: str
