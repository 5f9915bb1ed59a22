"""The database connection: one per execution environment (per thread), opened lazily, reopened when broken.

Lambda runs one request at a time per environment, so a pool would only hold idle connections; the local gateway
runs a fixed set of worker threads, each of which behaves like one warm environment.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import DictRow, TupleRow, dict_row, tuple_row

from movie_common.errors import DatabaseUnavailableError, QueryTimeoutError
from movie_common.secrets import database_url_from_secret_string, fetch_secret_string
from movie_common.settings import Settings, get_settings

Connection = psycopg.Connection[DictRow]

_state = threading.local()
_override: Connection | None = None
_url_lock = threading.Lock()
_resolved_url: str | None = None


def database_url(settings: Settings) -> str:
    """The URL from DATABASE_URL, or from the Secrets Manager secret (fetched once per environment)."""
    global _resolved_url
    if settings.database_url is not None:
        return settings.database_url
    with _url_lock:
        if _resolved_url is None:
            secret_arn = settings.database_secret_arn or ""  # load_settings guarantees one of the two
            _resolved_url = database_url_from_secret_string(fetch_secret_string(secret_arn))
        return _resolved_url


def connect(
    url: str | None = None,
    *,
    settings: Settings | None = None,
    autocommit: bool = True,
    statement_timeout_ms: int | None = None,
) -> Connection:
    """Open a new connection with Marquee's session settings; DatabaseUnavailableError if it cannot.

    Request paths keep the configured statement timeout; bulk work (migrations, seeding) passes 0 for none.
    """
    settings = settings or get_settings()
    timeout = settings.db_statement_timeout_ms if statement_timeout_ms is None else statement_timeout_ms
    options = (
        f"-c statement_timeout={timeout} "
        "-c idle_in_transaction_session_timeout=60000 -c TimeZone=UTC "
        "-c pg_trgm.similarity_threshold=0.3 -c pg_trgm.word_similarity_threshold=0.5"
    )
    if not settings.db_synchronous_commit:
        options += " -c synchronous_commit=off"
    try:
        conn: Connection = psycopg.connect(
            url or database_url(settings),
            autocommit=autocommit,
            row_factory=dict_row,
            connect_timeout=settings.db_connect_timeout,
            options=options,
            application_name="marquee",
            keepalives=1,
            keepalives_idle=30,
            tcp_user_timeout=settings.db_connect_timeout * 1000 + settings.db_statement_timeout_ms,
        )
    except psycopg.OperationalError as error:
        raise DatabaseUnavailableError("The database cannot be reached right now; try again shortly.") from error
    conn.prepare_threshold = settings.db_prepare_threshold
    return conn


def get_connection() -> Connection:
    """This environment's connection, opened on first use and reopened after it broke."""
    if _override is not None:
        return _override
    conn: Connection | None = getattr(_state, "conn", None)
    if conn is None or conn.closed or conn.broken:
        if conn is not None:
            conn.close()
        conn = connect()
        _state.conn = conn
    return conn


def kept_cursor(conn: Connection) -> psycopg.Cursor[TupleRow]:
    """A tuple-row cursor on `conn` kept for this thread, for the statements every request runs (the admission).

    A new cursor looks up its column loaders again on every result (about 15 µs for the admission's 16 columns
    here); a kept one reuses them. One per thread (cursors are not thread-safe, and tests may hand one connection
    to several threads), replaced when another connection asks (so a closed connection is never held for long)."""
    cursor: psycopg.Cursor[TupleRow] | None = getattr(_state, "cursor", None)
    if cursor is None or cursor.connection is not conn or cursor.closed:
        cursor = _state.cursor = conn.cursor(row_factory=tuple_row)
    return cursor


def close_connection() -> None:
    conn: Connection | None = getattr(_state, "conn", None)
    if conn is not None:
        conn.close()
        _state.conn = None
    _state.cursor = None


@contextmanager
def using_connection(conn: Connection) -> Iterator[Connection]:
    """Make every `get_connection()` return `conn` (tests run handlers inside a rolled-back transaction)."""
    global _override
    previous, _override = _override, conn
    try:
        yield conn
    finally:
        _override = previous


@contextmanager
def translate_errors() -> Iterator[None]:
    """Turn a lost or unreachable database into DatabaseUnavailableError (a 503), never a hang or a 500, and a
    statement cancelled by the statement timeout into QueryTimeoutError (a 504: the database is there)."""
    try:
        yield
    except psycopg.errors.QueryCanceled as error:
        raise QueryTimeoutError(
            "The query ran longer than this API allows and was cancelled; narrow it (fewer or more specific terms)."
        ) from error
    except psycopg.OperationalError as error:
        # A broken connection is dropped here; the next request of this environment opens a new one.
        conn: Connection | None = getattr(_state, "conn", None)
        if conn is not None and (conn.broken or conn.closed):
            close_connection()
        raise DatabaseUnavailableError("The database is unavailable right now; try again shortly.") from error


def fetch_one(conn: Connection, query: Any, params: Any = None) -> DictRow | None:
    with translate_errors():
        return conn.execute(query, params).fetchone()


def fetch_required(conn: Connection, query: Any, params: Any = None) -> DictRow:
    """For statements that always return a row (INSERT … RETURNING, aggregates)."""
    row = fetch_one(conn, query, params)
    if row is None:
        raise RuntimeError("the statement returned no row")
    return row


def fetch_all(conn: Connection, query: Any, params: Any = None) -> list[DictRow]:
    with translate_errors():
        return conn.execute(query, params).fetchall()


def copy_out(
    conn: Connection, query: Any, params: Any = None, *, statement_timeout_ms: int | None = None
) -> Iterator[bytes]:
    """Stream the output of a `COPY (SELECT …) TO STDOUT` statement in chunks of about 64 KiB, in flat memory.

    `params` are merged client-side (COPY takes no server-side parameters), as psycopg does safely for COPY.
    `statement_timeout_ms` replaces the request timeout for this statement only (bulk exports take longer).
    Stopping early is safe: the rest of the COPY is discarded and the connection stays usable.
    """
    buffer = bytearray()
    with translate_errors(), conn.transaction():
        if statement_timeout_ms is not None:
            conn.execute("SELECT set_config('statement_timeout', %s, true)", (str(statement_timeout_ms),))
        with conn.cursor() as cursor, cursor.copy(query, params) as copy:
            for chunk in copy:  # PostgreSQL sends one message per row
                buffer += chunk
                if len(buffer) >= 65536:
                    yield bytes(buffer)
                    buffer.clear()
    if buffer:
        yield bytes(buffer)
