"""`marquee psql` (psql on the stack's database) and `marquee reset` (the local data deleted, the virtual
environments kept), run as a user runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import psycopg
import pytest

from marquee_local import cli, postgres

MARQUEE = Path(sys.executable).with_name("marquee")
# What the test session's own stack set in this process's environment (stack.configure_environment): a `marquee`
# started from here must work out its own.
STACK_VARIABLES = {
    "DATABASE_URL",
    "OUTBOX_DIR",
    "UPLOADS_LOCAL_ROOT",
    "CORS_ALLOW_ORIGIN",
    "PORTAL_URL",
    "USAGE_PLAN_KEYS",
}


def _marquee(*args: str, home: Path | None = None, database_url: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if name not in STACK_VARIABLES}
    if home is not None:
        env["MARQUEE_HOME"] = str(home)
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    return subprocess.run(
        [str(MARQUEE), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        stdin=subprocess.DEVNULL,  # no terminal: what `marquee reset` cannot ask on
    )


def _postgres_of(home: Path) -> list[psutil.Process]:
    return [p for p in psutil.process_iter(["cmdline"]) if str(home) in " ".join(p.info["cmdline"] or [])]


def test_psql_opens_the_database_of_database_url(database_url: str) -> None:
    done = _marquee("psql", "-tAc", "SELECT count(*) FROM movies", database_url=database_url)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.strip()) > 30_000


def test_psql_reports_a_failing_statement_with_psqls_status(database_url: str) -> None:
    done = _marquee("psql", "-v", "ON_ERROR_STOP=1", "-c", "SELECT * FROM no_such_table", database_url=database_url)
    assert done.returncode == 1 and 'relation "no_such_table" does not exist' in done.stderr


@pytest.mark.slow
def test_psql_on_the_embedded_database_starts_it_and_stops_it_after(tmp_path: Path) -> None:
    done = _marquee("psql", "-tAc", "SELECT current_setting('server_version_num')::int >= 180000", home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "t"
    assert postgres.server_pid(tmp_path / "pgdata") is None and _postgres_of(tmp_path) == []


@pytest.mark.slow
def test_reset_deletes_the_stacks_data_and_keeps_the_tests_and_benchmarks(tmp_path: Path) -> None:
    assert _marquee("create-key", "--owner", "reset@example.com", home=tmp_path).returncode == 0
    (tmp_path / "demo-key").write_text("a key\n")
    (tmp_path / "test").mkdir()
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "results.json").write_text("{}")

    unconfirmed = _marquee("reset", home=tmp_path)  # no terminal to ask on: refused, nothing deleted
    assert unconfirmed.returncode == 1
    assert "Run `marquee reset --yes` to confirm" in unconfirmed.stderr
    assert (tmp_path / "pgdata" / "PG_VERSION").exists() and (tmp_path / "demo-key").exists()

    done = _marquee("reset", "--yes", home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "the next `marquee run` starts from an empty database" in done.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bench", "test"]
    assert (tmp_path / "bench" / "results.json").exists()
    assert _postgres_of(tmp_path) == []
    # And the stack starts again from nothing.
    again = _marquee("psql", "-tAc", "SELECT to_regclass('movies') IS NULL", home=tmp_path)
    assert again.stdout.strip() == "t"


def test_reset_leaves_a_database_url_alone(database_url: str, tmp_path: Path) -> None:
    (tmp_path / "demo-key").write_text("a key\n")
    done = _marquee("reset", "--yes", home=tmp_path, database_url=database_url)
    assert done.returncode == 1
    assert done.stderr.startswith("marquee reset: DATABASE_URL is set, and marquee reset only deletes the embedded")
    assert (tmp_path / "demo-key").exists()


@pytest.fixture
def keys_owner(database_url: str) -> Iterator[str]:
    email = f"keys-cli-{os.getpid()}@example.com"
    yield email
    with psycopg.connect(database_url) as conn:
        conn.execute("DELETE FROM users WHERE email = %s", (email,))


def _new_key(owner: str, capsys: pytest.CaptureFixture[str], plan: str = "free") -> str:
    assert cli.main(["create-key", "--plan", plan, "--owner", owner]) == 0
    return capsys.readouterr().out.strip().splitlines()[-1]


def test_keys_list_shows_an_owners_keys_masked(keys_owner: str, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = _new_key(keys_owner, capsys), _new_key(keys_owner, capsys, plan="pro")
    assert cli.main(["keys", "list", "--owner", keys_owner]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["ID", "KEY", "OWNER", "PLAN", "STATUS", "TODAY", "TOTAL", "LAST", "USED", "CREATED"]
    assert (
        [line.split()[1:5] for line in lines[1:]]
        == [
            ["…" + second[-4:], keys_owner, "pro", "active"],  # newest first
            ["…" + first[-4:], keys_owner, "free", "active"],
        ]
    )
    assert first not in "\n".join(lines) and second not in "\n".join(lines)


def test_keys_suspend_reactivate_and_revoke_change_what_the_api_admits(
    database_url: str, keys_owner: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from movie_common import access
    from movie_common.database import connect
    from movie_common.errors import KeyRevokedError, KeySuspendedError

    key = _new_key(keys_owner, capsys)

    def check() -> None:
        with connect(database_url) as conn:
            access.check_key(conn, key)

    assert cli.main(["keys", "suspend", key]) == 0
    assert capsys.readouterr().out.endswith(f"({chr(8230)}{key[-4:]}, {keys_owner}): suspended, plan free\n")
    with pytest.raises(KeySuspendedError):
        check()
    key_id = _key_id(database_url, key)
    assert cli.main(["keys", "reactivate", str(key_id)]) == 0  # by id, as `keys list` shows it
    check()
    assert cli.main(["keys", "revoke", key]) == 0
    with pytest.raises(KeyRevokedError):
        check()
    capsys.readouterr()
    assert cli.main(["keys", "reactivate", key]) == 1
    assert capsys.readouterr().err.strip() == (
        f"marquee keys: key {key_id} is revoked, and a revoked key stays revoked; create a new one"
    )


def _key_id(database_url: str, key: str) -> int:
    from movie_common import access

    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT id FROM api_keys WHERE key = %s", (access.hash_key(key),)).fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("999999999", "there is no key 999999999; see `marquee keys list`"),
        ("not-a-key", "'not-a-key' is neither a key id nor an API key; see `marquee keys list`"),
        ("3f2b8a9e-5c1d-4e7f-9a0b-1c2d3e4f5a6b", "no API key matches the one given; see `marquee keys list`"),
    ],
)
def test_keys_actions_on_an_unknown_key_say_so(
    ref: str, message: str, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["keys", "suspend", ref]) == 1
    assert capsys.readouterr().err.strip() == f"marquee keys: {message}"
