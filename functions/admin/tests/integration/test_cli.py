"""`marquee keys …` and `marquee create-admin` on the test database: same services, audit entries, one-line errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from marquee_local import cli, stack
from movie_common import access
from movie_common.database import connect
from movie_common.errors import KeySuspendedError

OWNER = "cli-keys@gmail.com"
ADMIN = "cli-admin@marquee.example"


@pytest.fixture
def committed(database_url: str) -> Iterator[tuple[int, str]]:
    """A committed free key of OWNER (the CLI runs on its own connection); removed with its audit rows after."""
    with connect(database_url) as conn:
        issued = stack.create_key(conn, owner_email=OWNER, plan="free")
    yield issued.key_id, issued.raw_key
    with connect(database_url) as conn:
        conn.execute(
            "DELETE FROM admin_audit_log WHERE target_type = 'api_key' AND target_id = %s", (str(issued.key_id),)
        )
        conn.execute("DELETE FROM users WHERE canonical_email = %s", (OWNER,))


def _status(database_url: str, key_id: int) -> dict[str, Any]:
    with connect(database_url) as conn:
        row = conn.execute("SELECT status, plan, usage_count FROM api_keys WHERE id = %s", (key_id,)).fetchone()
        assert row is not None
        return dict(row)


@pytest.mark.slow
@pytest.mark.commit
def test_keys_commands_change_the_key_and_audit_each_change(
    database_url: str, committed: tuple[int, str], capsys: pytest.CaptureFixture[str]
) -> None:
    key_id, raw = committed
    assert cli.main(["keys", "suspend", raw]) == 0
    assert f"key {key_id} (…{raw[-4:]}, {OWNER}): suspended" in capsys.readouterr().out
    assert _status(database_url, key_id)["status"] == "suspended"
    with connect(database_url) as conn, pytest.raises(KeySuspendedError):
        access.check_key(conn, raw)
    assert cli.main(["keys", "reactivate", str(key_id)]) == 0
    assert cli.main(["keys", "set-plan", str(key_id), "pro"]) == 0
    with connect(database_url) as conn:
        conn.execute("UPDATE api_keys SET usage_count = 7 WHERE id = %s", (key_id,))
    assert cli.main(["keys", "reset-usage", str(key_id)]) == 0
    assert _status(database_url, key_id) == {"status": "active", "plan": "pro", "usage_count": 0}
    assert cli.main(["keys", "revoke", raw]) == 0
    assert _status(database_url, key_id)["status"] == "revoked"
    with connect(database_url) as conn:
        rows = conn.execute(
            "SELECT action, source, actor FROM admin_audit_log WHERE target_id = %s ORDER BY id", (str(key_id),)
        ).fetchall()
    assert [r["action"] for r in rows] == [
        "api_key.suspend",
        "api_key.reactivate",
        "api_key.set_plan",
        "api_key.reset_usage",
        "api_key.revoke",
    ]
    assert {r["source"] for r in rows} == {"cli"} and all(r["actor"].startswith("cli:") for r in rows)


@pytest.mark.commit
def test_keys_list_shows_masked_keys_with_filters(
    committed: tuple[int, str], capsys: pytest.CaptureFixture[str]
) -> None:
    key_id, raw = committed
    assert cli.main(["keys", "list", "--owner", OWNER.upper()]) == 0
    out, err = capsys.readouterr()
    header, row = out.splitlines()
    assert header.split()[:4] == ["ID", "KEY", "OWNER", "PLAN"]
    assert row.split()[:5] == [str(key_id), "…" + raw[-4:], OWNER, "free", "active"]
    assert raw not in out and "1 key matches" in err
    assert cli.main(["keys", "list", "--search", OWNER, "--never-used", "--json"]) == 0
    [line] = capsys.readouterr().out.splitlines()
    listed = json.loads(line)
    assert listed["id"] == key_id and listed["last4"] == raw[-4:] and "key" not in listed
    assert cli.main(["keys", "list", "--search", OWNER, "--status", "revoked"]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == []


@pytest.mark.commit
def test_keys_list_past_the_last_page_says_there_is_no_such_page(
    committed: tuple[int, str], capsys: pytest.CaptureFixture[str]
) -> None:
    # `marquee keys list --page 99` printed "page 99 of 1" over an empty table, as if the keys had gone.
    for extra in ([], ["--json"]):
        assert cli.main(["keys", "list", "--owner", OWNER, "--page", "99", *extra]) == 1
        out, err = capsys.readouterr()
        assert out == ""
        assert err == "marquee: there is no page 99: 1 key matches, on 1 page (the last is --page 1)\n"
    assert cli.main(["keys", "list", "--owner", OWNER, "--page", "1"]) == 0
    assert "page 1 of 1; 1 key matches" in capsys.readouterr().err


@pytest.mark.commit
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["keys", "suspend", "nonsense"], "is neither a key id nor an API key"),
        (["keys", "suspend", "00000000-0000-4000-8000-000000000000"], "No API key matches"),
        (["keys", "revoke", "999999999999"], "There is no API key with id 999999999999"),
        (["keys", "set-plan", "1", "platinum"], "There is no plan 'platinum'"),
        (["keys", "list", "--plan", "platinum"], "There is no plan 'platinum'"),
        (["create-admin", "--email", "nope"], "is not a valid email address"),
        (["create-admin", "--email", "short@marquee.example", "--password", "short"], "at least 12 characters"),
        (["reset-admin-password", "--email", "nobody@marquee.example"], "There is no admin with the email"),
    ],
)
def test_mistakes_are_one_line_and_exit_1(
    database_url: str, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(argv) == 1
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1 and message in err and err.startswith("marquee: ")


@pytest.fixture
def admin_cleanup(database_url: str) -> Iterator[None]:
    yield
    with connect(database_url) as conn:
        conn.execute(
            "DELETE FROM admin_audit_log WHERE action IN ('admin.create', 'admin.password_reset') "
            "AND after->>'email' = %s",
            (ADMIN,),
        )
        conn.execute("DELETE FROM admins WHERE email = %s", (ADMIN,))


@pytest.mark.slow
@pytest.mark.commit
def test_create_admin_prints_a_generated_password_once(
    database_url: str, admin_cleanup: None, capsys: pytest.CaptureFixture[str]
) -> None:
    from movie_admin.services import admins

    assert cli.main(["create-admin", "--email", ADMIN]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"admin {ADMIN} created") and "shown once" in lines[1]
    password = lines[2]
    with connect(database_url) as conn:
        assert admins.authenticate(conn, client_ip="192.0.2.1", email=ADMIN, password=password).email == ADMIN
    assert cli.main(["create-admin", "--email", ADMIN, "--password", "another long password"]) == 1
    assert "exists already" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.commit
def test_a_locked_out_admin_gets_back_in_with_reset_admin_password(
    database_url: str, admin_cleanup: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """Anyone who knows an admin's address can keep the account locked by failing its logins: the operator's way
    back is a new password, which lifts the lock and ends the admin's sessions (a token that leaked with the old
    password stops too)."""
    from movie_admin.services import admins
    from movie_common import sessions
    from movie_common.errors import AccountLockedError, InvalidCredentialsError, SessionRevokedError

    assert cli.main(["create-admin", "--email", ADMIN, "--password", "the first long password"]) == 0
    with connect(database_url) as conn:
        admin = admins.authenticate(conn, client_ip="192.0.2.1", email=ADMIN, password="the first long password")
        token = sessions.start_session(conn, role="admin", subject_id=admin.id).access_token
        for _ in range(5):
            with pytest.raises((InvalidCredentialsError, AccountLockedError)):
                admins.authenticate(conn, client_ip="192.0.2.1", email=ADMIN, password="a wrong guess of a password")
        with pytest.raises(AccountLockedError):
            admins.authenticate(conn, client_ip="192.0.2.1", email=ADMIN, password="the first long password")
    capsys.readouterr()

    assert cli.main(["reset-admin-password", "--email", ADMIN.upper()]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "lockout lifted, sessions ended" in lines[0] and "shown once" in lines[1]
    new_password = lines[2]
    with connect(database_url) as conn:
        assert admins.authenticate(conn, client_ip="192.0.2.1", email=ADMIN, password=new_password).email == ADMIN
        with pytest.raises(InvalidCredentialsError):
            admins.authenticate(conn, client_ip="192.0.2.1", email=ADMIN, password="the first long password")
        with pytest.raises(SessionRevokedError):
            sessions.verify_session(conn, token, role="admin")
        entry = conn.execute(
            "SELECT source, after FROM admin_audit_log WHERE action = 'admin.password_reset' ORDER BY id DESC LIMIT 1"
        ).fetchone()
    assert entry["source"] == "cli" and entry["after"]["sessions_ended"] == 1


def test_keys_help_says_what_each_action_does(capsys: pytest.CaptureFixture[str]) -> None:
    """`marquee keys --help` said "reset usage a key" (found by the tenth tester)."""
    with pytest.raises(SystemExit) as done:
        cli.main(["keys", "--help"])
    assert done.value.code == 0
    shown = " ".join(capsys.readouterr().out.split())
    assert "reset usage a key" not in shown
    assert "reset a key's usage: today's and this minute's counts start over" in shown
    for action in ("suspend a key", "reactivate a key", "revoke a key"):
        assert action in shown
