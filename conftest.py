"""Test fixtures shared by every test folder: a real (embedded) PostgreSQL with a fresh database per session,
migrated and seeded with the bundled catalogue; per-test connections rolled back at the end; keys; events."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from marquee_local import events, stack
from marquee_local.lambda_context import LocalLambdaContext
from marquee_local.postgres import EmbeddedPostgres, pg_ctl_start, pg_ctl_stop, start_embedded

REPO = Path(__file__).resolve().parent
# The test suite's PostgreSQL data folders (MARQUEE_TEST_HOME lets a test run a whole suite on folders of its own).
TEST_HOME = Path(os.environ.get("MARQUEE_TEST_HOME") or REPO / ".marquee" / "test")
_server: EmbeddedPostgres | None = None
_admin_url: str | None = None
_test_db = f"marquee_test_{os.getpid()}"
_stop_at_exit: set[Path] = set()


def _with_database(url: str, name: str) -> str:
    return psycopg.conninfo.make_conninfo(url, dbname=name)


def _template_name() -> str:
    """The name of the template database holding a migrated, seeded catalogue for exactly this code and data: a
    digest of the migrations, the common layer, the ingest that loads the catalogue, the local bootstrap and the
    catalogue itself, and the month (usage-log partitions are made for the months ahead of it). Anything else
    changing keeps the template; any of these changing builds a new one."""
    digest = hashlib.sha256(datetime.now(UTC).strftime("%Y-%m").encode())
    sources = [
        *sorted((REPO / "layers" / "common" / "src" / "movie_common").rglob("*.[ps][yq]*")),
        *sorted((REPO / "functions" / "ingest" / "src").rglob("*.py")),
        REPO / "local" / "marquee_local" / "stack.py",
        stack.CATALOGUE,
    ]
    for path in sources:
        digest.update(str(path.relative_to(REPO) if path.is_relative_to(REPO) else path).encode())
        digest.update(path.read_bytes())
    return f"marquee_template_{digest.hexdigest()[:16]}"


def pytest_configure(config: pytest.Config) -> None:
    """Start PostgreSQL before collection, so the handlers' settings (read once, at import) see the test DB.

    The session's database is a copy of a template kept between runs (migrating and seeding takes ~12 s; copying
    ~1 s) when one exists for this exact code and data; otherwise it starts empty and `database_url` fills it."""
    global _server, _admin_url
    if os.environ.get("MARQUEE_TEST_DATABASE_URL"):
        _admin_url = os.environ["MARQUEE_TEST_DATABASE_URL"]
    else:
        _server = start_embedded(TEST_HOME / "pgdata")
        _admin_url = _server.url
    template = _template_name()
    with psycopg.connect(_admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{_test_db}" WITH (FORCE)')
        found = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (template,)).fetchone()
        if found:
            admin.execute(f'CREATE DATABASE "{_test_db}" TEMPLATE "{template}" STRATEGY FILE_COPY')
        else:
            admin.execute(f'CREATE DATABASE "{_test_db}"')
    os.environ.pop("DATABASE_SECRET_ARN", None)
    os.environ["MARQUEE_ENV"] = "local"
    stack.configure_environment(_with_database(_admin_url, _test_db))


def pytest_unconfigure(config: pytest.Config) -> None:
    for pgdata in _stop_at_exit:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            pg_ctl_stop(pgdata)
    if _admin_url is None:
        return
    from movie_common.database import close_connection

    close_connection()
    with psycopg.connect(_admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{_test_db}" WITH (FORCE)')


@pytest.fixture(scope="session")
def database_url() -> str:
    """The session's database, migrated and holding the bundled catalogue."""
    url = os.environ["DATABASE_URL"]
    with psycopg.connect(url, autocommit=True) as probe:
        ready = probe.execute("SELECT to_regclass('movies') IS NOT NULL").fetchone()
    if not (ready and ready[0]):
        with stack.connect_admin(url) as conn:
            stack.prepare(conn)
        _keep_as_template(url)
    return url


def _keep_as_template(url: str) -> None:
    """Copy the freshly prepared database into this code's template (and forget older templates). A copy needs
    the source to have no other session; if one is open, or another run made the template first, skip it."""
    if _admin_url is None:
        return
    template = _template_name()
    with psycopg.connect(_admin_url, autocommit=True) as admin:
        stale = admin.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE 'marquee\\_template\\_%%' AND datname <> %s",
            (template,),
        ).fetchall()
        for (name,) in stale:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        with contextlib.suppress(psycopg.errors.ObjectInUse, psycopg.errors.DuplicateDatabase):
            admin.execute(f'CREATE DATABASE "{template}" TEMPLATE "{psycopg.conninfo.conninfo_to_dict(url)["dbname"]}"')


@pytest.fixture
def away_from_utc_midnight() -> None:
    """Daily windows roll over at UTC midnight; a burst that straddles it would see two windows. Wait it out."""
    now = datetime.now(UTC)
    to_midnight = (now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1) - now).total_seconds()
    if to_midnight < 30:
        time.sleep(to_midnight + 1)


@pytest.fixture
def outage_database(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[EmbeddedPostgres, str]]:
    """A second PostgreSQL that the test may stop and start; the handlers are pointed at it through the
    environment (settings are re-read). Yields the server and a pro key on it. Each test closes the connections
    its own handler threads opened."""
    from movie_common.settings import get_settings

    server = start_embedded(TEST_HOME / "outage-pgdata")
    with stack.connect_admin(server.url) as setup:
        setup.execute("DROP SCHEMA public CASCADE")
        setup.execute("CREATE SCHEMA public")
        stack.prepare(setup, catalogue=REPO / "data" / "movies.csv.gz")
        key = stack.create_key(setup, owner_email="outage@gmail.com", plan="pro").raw_key
    monkeypatch.setenv("DATABASE_URL", server.url)
    monkeypatch.setenv("DB_CONNECT_TIMEOUT", "2")
    get_settings.cache_clear()
    try:
        yield server, key
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
        with contextlib.suppress(RuntimeError):  # already running
            pg_ctl_start(server)
        # A server the test restarted with pg_ctl is not the wheel's to stop at exit: stop it when the run ends, or
        # it would outlive `make test`.
        _stop_at_exit.add(server.pgdata)


@pytest.fixture
def conn(database_url: str) -> Iterator[Any]:
    """A connection inside a transaction that is rolled back; every handler in the test uses it."""
    from movie_common.database import connect, using_connection

    connection = connect(database_url, autocommit=False)
    # Open the transaction now: on an idle connection psycopg's `conn.transaction()` would start (and COMMIT) a
    # transaction of its own, so code under test that opens one first would write for real; inside an open
    # transaction it is a savepoint, rolled back with everything else.
    connection.execute("SELECT 1")
    try:
        with using_connection(connection):
            yield connection
    finally:
        connection.rollback()
        connection.close()


@pytest.fixture
def make_key(conn: Any) -> Callable[..., str]:
    """Create a key in the test transaction; returns the raw key."""
    from movie_common import access
    from movie_common.db import users

    def make(
        plan: str = "free", *, status: str = "active", expires_at: datetime | None = None, owner: str = "dev@gmail.com"
    ) -> str:
        owner_id = users.ensure_user(conn, name="Dev", email=owner, canonical_email=owner, verified=True)
        issued = access.issue_key(conn, owner_id=owner_id, plan=plan, expires_at=expires_at)
        if status != "active":
            conn.execute("UPDATE api_keys SET status = %s WHERE id = %s", (status, issued.key_id))
        return issued.raw_key

    return make


@pytest.fixture
def load_event() -> Callable[..., dict[str, Any]]:
    """Load functions/<function>/events/<name>.json, rebuilt by the event toolkit with `overrides` applied
    (marquee_local.events.adjust): REST events take key= (X-API-KEY; None drops it), headers=, query=,
    path_params=, path=, method=, body=, authorizer=; S3 events key= (the object key), bucket=, size=, time=;
    scheduled events rule=, time=."""

    def load(function: str, name: str, **overrides: Any) -> dict[str, Any]:
        event: dict[str, Any] = json.loads((REPO / "functions" / function / "events" / f"{name}.json").read_text())
        return events.adjust(event, **overrides) if overrides else event

    return load


@pytest.fixture
def invoke(conn: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Call the API function's real Lambda entry point (inside the test's transaction); parse JSON into `json`."""
    from movie_api.handler import handler

    def call(event: dict[str, Any]) -> dict[str, Any]:
        response: dict[str, Any] = handler(event, LocalLambdaContext(function_name="ApiFunction"))
        headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
        for k, values in (response.get("multiValueHeaders") or {}).items():
            headers[k.lower()] = ", ".join(values)
        response["headers"] = headers
        body = response.get("body") or ""
        response["json"] = json.loads(body) if body and "json" in headers.get("content-type", "") else None
        return response

    return call


# ---------------------------------------------------------------- browsers (pytest-playwright, system Chromium)
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Playwright drives the operating system's Chromium (`make test` installs it with apt); it never downloads
    one. The flags keep Chromium from calling out to Google's services, which this network refuses."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Browser tests need Chromium: `apt-get install -y chromium` (make test does it when root).")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }
