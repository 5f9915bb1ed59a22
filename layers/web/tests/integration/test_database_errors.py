"""Database errors keep their meaning (movie_common.database.translate_errors): only a connection that is gone or
cannot be had is 503 `database_unavailable`; a statement the database refused while it was answering is not an
outage. Each error here is a real one from the real (embedded) PostgreSQL, through a web app's problem handlers, as
every HTTP function (API, portal, admin) answers them; the log names the SQLSTATE."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from movie_common.database import connect, fetch_all, fetch_one, is_unavailable, translate_errors
from movie_common.errors import (
    DatabaseUnavailableError,
    LockTimeoutError,
    QueryTimeoutError,
    StatementFailedError,
    TransactionConflictError,
)
from movie_web.app import create_app

LOCK = 7_340_001  # an advisory lock id no Marquee code takes


class _Logger:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def _log(self, level: str, msg: object, *args: Any) -> None:
        self.lines.append((level, str(msg) % args if args else str(msg)))

    def info(self, msg: object, *args: Any, **kwargs: Any) -> None:
        self._log("info", msg, *args)

    def warning(self, msg: object, *args: Any, **kwargs: Any) -> None:
        self._log("warning", msg, *args)

    def exception(self, msg: object, *args: Any, **kwargs: Any) -> None:
        self._log("exception", msg, *args)

    def append_keys(self, **keys: Any) -> None:
        pass


@pytest.fixture
def client(database_url: str) -> Iterator[tuple[TestClient, _Logger]]:
    router = APIRouter()

    @router.get("/statement-timeout")
    def statement_timeout() -> None:
        with connect(database_url, statement_timeout_ms=100) as conn:  # a request path's timeout, made short
            fetch_one(conn, "SELECT pg_sleep(3)")

    @router.get("/lock-timeout")
    def lock_timeout() -> None:
        with connect(database_url) as conn:
            conn.execute("SET lock_timeout = 50")
            fetch_one(conn, "SELECT pg_advisory_lock(%s)", (LOCK,))

    @router.get("/program-limit")
    def program_limit() -> None:
        with connect(database_url) as conn:
            conn.execute("CREATE TEMP TABLE wide (v text)")
            conn.execute("CREATE INDEX ON wide (v)")
            # 9,600 random hex digits: no compression brings them under a btree row's 2,704 bytes (SQLSTATE 54000).
            fetch_all(
                conn,
                "INSERT INTO wide SELECT string_agg(md5(random()::text), '') FROM generate_series(1, 300) RETURNING 1",
            )

    @router.get("/terminated")
    def terminated() -> None:
        with connect(database_url) as conn:
            fetch_one(conn, "SELECT pg_terminate_backend(pg_backend_pid())")  # FATAL 57P01 admin_shutdown

    logger = _Logger()
    app = create_app(
        title="Test", description="Database errors.", routers=[router], cors_allow_origin="*", logger=logger,
        security_schemes={},
        public_paths=["/statement-timeout", "/lock-timeout", "/program-limit", "/terminated"],
    )  # fmt: skip
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client, logger


@pytest.mark.slow
def test_a_statement_timeout_is_a_504_query_timeout(client: tuple[TestClient, _Logger]) -> None:
    # the client's query was too broad: the database is there (not 503 database_unavailable), and it is logged
    test_client, logger = client
    response = test_client.get("/statement-timeout")
    assert (response.status_code, response.json()["code"]) == (504, "query_timeout")
    problem = response.json()
    assert problem["status"] == 504 and "narrow it" in problem["detail"] and "retry-after" not in response.headers
    assert ("warning", "query_timeout (SQLSTATE 57014) on GET /statement-timeout: canceling statement due to "
            "statement timeout") in logger.lines  # fmt: skip


def test_a_lock_timeout_is_a_503_lock_timeout_not_an_outage(
    client: tuple[TestClient, _Logger], database_url: str
) -> None:
    test_client, logger = client
    with psycopg.connect(database_url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (LOCK,))
        response = test_client.get("/lock-timeout")
    problem = response.json()
    assert (response.status_code, problem["code"]) == (503, "lock_timeout")
    assert "unavailable" not in problem["detail"] and response.headers["retry-after"] == "5"
    assert any(level == "warning" and "lock_timeout (SQLSTATE 55P03)" in line for level, line in logger.lines)


def test_a_program_limit_is_a_500_logged_with_its_sqlstate(client: tuple[TestClient, _Logger]) -> None:
    test_client, logger = client
    response = test_client.get("/program-limit")
    problem = response.json()
    assert (response.status_code, problem["code"], problem["title"]) == (500, "internal_error", "Internal error")
    assert "unavailable" not in problem["detail"] and "SQLSTATE 54000" in problem["detail"]
    assert "retry-after" not in response.headers
    assert any(
        level == "exception" and "internal_error (SQLSTATE 54000) on GET /program-limit: index row" in line
        for level, line in logger.lines
    ), logger.lines


def test_a_terminated_session_is_503_database_unavailable(client: tuple[TestClient, _Logger]) -> None:
    test_client, _ = client
    response = test_client.get("/terminated")
    assert (response.status_code, response.json()["code"]) == (503, "database_unavailable")
    assert response.headers["retry-after"] == "5"


def test_a_deadlock_is_a_transaction_conflict(database_url: str) -> None:
    """Two sessions each holding the lock the other wants: PostgreSQL ends one with 40P01."""
    import threading

    with psycopg.connect(database_url) as first, psycopg.connect(database_url) as second:
        first.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK,))
        second.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK + 1,))
        outcome: dict[str, BaseException] = {}

        def wait_for_the_second() -> None:
            try:
                with translate_errors():
                    first.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK + 1,))
            except BaseException as error:
                outcome["first"] = error

        waiting = threading.Thread(target=wait_for_the_second)
        waiting.start()
        try:
            with translate_errors():
                second.execute("SET deadlock_timeout = 50")
                second.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK,))
        except BaseException as error:
            outcome["second"] = error
        second.rollback()
        waiting.join(10)
        first.rollback()
    assert len(outcome) == 1
    (error,) = outcome.values()
    assert isinstance(error, TransactionConflictError) and error.status == 503
    assert isinstance(error.__cause__, psycopg.errors.DeadlockDetected)


@pytest.mark.parametrize(
    ("error", "unavailable"),
    [
        (psycopg.OperationalError("connection is lost"), True),  # no SQLSTATE: no connection at all
        (psycopg.errors.ConnectionFailure(), True),  # 08006
        (psycopg.errors.SqlclientUnableToEstablishSqlconnection(), True),  # 08001
        (psycopg.errors.AdminShutdown(), True),  # 57P01
        (psycopg.errors.CrashShutdown(), True),  # 57P02
        (psycopg.errors.CannotConnectNow(), True),  # 57P03
        (psycopg.errors.TooManyConnections(), True),  # 53300
        (psycopg.errors.QueryCanceled(), False),  # 57014
        (psycopg.errors.LockNotAvailable(), False),  # 55P03
        (psycopg.errors.ProgramLimitExceeded(), False),  # 54000
        (psycopg.errors.DiskFull(), False),  # 53100: the database answers; writes fail
        (psycopg.errors.DeadlockDetected(), False),  # 40P01
    ],
)
def test_which_errors_mean_unavailable(error: psycopg.Error, unavailable: bool) -> None:
    assert is_unavailable(error) is unavailable


@pytest.mark.parametrize(
    ("error", "translated"),
    [
        (psycopg.errors.AdminShutdown(), DatabaseUnavailableError),
        (psycopg.errors.TooManyConnections(), DatabaseUnavailableError),
        (psycopg.errors.QueryCanceled(), QueryTimeoutError),
        (psycopg.errors.LockNotAvailable(), LockTimeoutError),
        (psycopg.errors.SerializationFailure(), TransactionConflictError),
        (psycopg.errors.ProgramLimitExceeded(), StatementFailedError),
        (psycopg.errors.StatementTooComplex(), StatementFailedError),
        # Short of a resource for now: a 503 to retry, where it was a 500 saying that retrying would not help.
        (psycopg.errors.DiskFull(), DatabaseUnavailableError),  # 53100
        (psycopg.errors.OutOfMemory(), DatabaseUnavailableError),  # 53200
        (psycopg.errors.InsufficientResources(), DatabaseUnavailableError),  # 53000
        (psycopg.errors.ConfigurationLimitExceeded(), StatementFailedError),  # 53400
    ],
)
def test_each_kind_translates_to_its_own_error(error: psycopg.Error, translated: type[Exception]) -> None:
    with pytest.raises(translated) as raised, translate_errors():
        raise error
    assert raised.value.__cause__ is error
