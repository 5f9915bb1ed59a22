"""The database connection: one per execution environment (per thread), opened lazily, reopened when broken.

Lambda runs one request at a time per environment, so a pool would only hold idle connections; the local gateway
runs a fixed set of worker threads, each of which behaves like one warm environment.
"""

from __future__ import annotations

import select
import threading
import weakref
from collections.abc import Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import abc, generators, pq
from psycopg.adapt import Transformer
from psycopg.rows import DictRow, TupleRow, dict_row, tuple_row

from movie_common.errors import (
    DatabaseUnavailableError,
    LockTimeoutError,
    QueryTimeoutError,
    StatementFailedError,
    TransactionConflictError,
)
from movie_common.secrets import database_url_from_secret_string, fetch_secret_string
from movie_common.settings import Settings, check_database_url, get_settings

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
            _resolved_url = check_database_url(
                database_url_from_secret_string(fetch_secret_string(secret_arn)), source="the database secret's URL"
            )
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
    """This environment's connection, opened on first use and reopened after it broke. A statement sent ahead
    (send_early) is read first, so whoever asks for the connection finds it idle."""
    early: _Early | None = getattr(_state, "early", None)
    if early is not None and not early.read:
        early.read_answer()
    if _override is not None:
        return _override
    conn: Connection | None = getattr(_state, "conn", None)
    if conn is None or conn.closed or conn.broken or _lost_while_idle(conn):
        if conn is not None:
            conn.close()
        conn = connect()
        _state.conn = conn
    return conn


def _lost_while_idle(conn: Connection) -> bool:
    """True if the server ended this idle connection since its last statement (PostgreSQL restarted, failed over,
    or the backend was terminated): the server's last words are waiting on its socket. Without this look (one
    poll of the socket, about a microsecond) the first statement of every warm environment after a restart was a
    503, minutes later, with the database long back (found by the sixth tester)."""
    pgconn = conn.pgconn
    if pgconn.transaction_status != pq.TransactionStatus.IDLE:
        return False
    # Anything readable counts: an idle session of Marquee's gets nothing unasked (no LISTEN), and the goodbye
    # (FATAL 57P01) may come a moment before the end of file; a new connection costs less than a 503.
    try:
        return bool(select.select([pgconn.socket], [], [], 0)[0])
    except (OSError, ValueError, psycopg.Error):
        return True


def open_connection() -> Connection | None:
    """The connection `get_connection()` would return if one is already open and usable; None otherwise (nothing is
    opened: a caller that only wants to get ahead must not pay for a connect, nor wait twice on a database that is
    away)."""
    conn: Connection | None = _override if _override is not None else getattr(_state, "conn", None)
    if conn is None or conn.closed or conn.broken:
        return None
    return conn


@dataclass(eq=False)
class _Early:
    """A statement sent ahead (send_early) and, once read, its rows or the error it ended with."""

    conn: Connection
    tag: Hashable
    statement: str
    rows: list[tuple[Any, ...]] | None = None
    error: BaseException | None = None
    read: bool = False

    def read_answer(self) -> None:
        """Wait for the statement's answer and keep it (never raises: an error is kept for take_early)."""
        self.read = True
        try:
            results = self.conn.wait(generators.fetch_many(self.conn.pgconn))
            result = results[0]
            if result.status != pq.ExecStatus.TUPLES_OK:
                self.error = psycopg.errors.error_from_result(result, encoding=self.conn.info.encoding)
                if isinstance(self.error, psycopg.errors.InvalidSqlStatementName):
                    # The statement is gone (DEALLOCATE, a pooler's reset): prepared again next time. Any other
                    # error (a statement timeout on a locked key row, a cancel) leaves it prepared on the server;
                    # forgetting it then made every later send fail to prepare it again ("already exists"), so
                    # the connection never sent ahead again and paid that failed round trip on every request.
                    _prepared_on(self.conn).pop(self.statement, None)
                return
            # One transformer per connection and statement: its column loaders are looked up once, not per answer.
            # It is made from the connection's adapters, not the connection (the registry holds connections only
            # weakly), so it decodes text as UTF-8: kept only when that is the connection's encoding.
            kept = _prepared_on(self.conn)
            transformer = kept.get(self.statement)
            if transformer is not None:
                transformer.set_pgresult(result, set_loaders=False)
            elif self.conn.info.encoding == "utf-8":
                transformer = kept[self.statement] = Transformer(self.conn.adapters)
                transformer.set_pgresult(result)
            else:
                transformer = Transformer(self.conn)
                transformer.set_pgresult(result)
            self.rows = transformer.load_rows(0, result.ntuples, tuple)
        except Exception as error:  # kept, and the statement is then run the ordinary way
            self.error = error


_SQLSTATE = pq.DiagnosticField.SQLSTATE
_DUPLICATE_PREPARED = b"42P05"  # duplicate_prepared_statement

# The statements send_early prepared on each connection, each with the transformer that loads its answers (None
# until the first answer).
_PREPARED: weakref.WeakKeyDictionary[Connection, dict[str, abc.Transformer | None]] = weakref.WeakKeyDictionary()


def _prepared_on(conn: Connection) -> dict[str, abc.Transformer | None]:
    return _PREPARED.setdefault(conn, {})


def send_early(
    conn: Connection,
    *,
    tag: Hashable,
    name: str,
    query: str,
    param_types: Sequence[int],
    params: Sequence[bytes],
    param_formats: Sequence[pq.Format],
) -> bool:
    """Send `query` (a statement with $1, $2… placeholders, prepared once per connection as `name`, unless the
    connection prepares nothing: prepare_threshold None) and return without waiting for its answer, so that
    PostgreSQL works on it while this process does something else; the answer is read by take_early(tag), or by
    the next get_connection(), whichever comes first. `params` are the parameters as PostgreSQL's wire format has
    them (`param_formats`: text or binary), `param_types` their type OIDs. One statement may be ahead per thread.

    Only on an idle connection (autocommit, as request paths use): inside a transaction a statement that failed
    would spoil the transaction for the ordinary path. Returns False, having sent nothing, if it could not be sent
    (a statement already ahead, a connection in a transaction or lost, a failed prepare): the caller then runs the
    statement the ordinary way. The statement must be one that is safe to run again when it fails (it then wrote
    nothing)."""
    if getattr(_state, "early", None) is not None and not _state.early.read:
        return False
    pgconn = conn.pgconn
    if conn.broken or pgconn.transaction_status != pq.TransactionStatus.IDLE:  # a closed one is not IDLE either
        return False
    try:
        if conn.prepare_threshold is None:
            # Prepared statements are off (DB_PREPARE_THRESHOLD=none: RDS Proxy pins a session that prepares one,
            # and PgBouncer in transaction mode may run it on another server connection): sent unnamed, parsed
            # each time, as psycopg then sends every statement.
            pgconn.send_query_params(query.encode(), params, param_types=param_types, param_formats=param_formats)
        else:
            prepared = _prepared_on(conn)
            if name not in prepared:
                pgconn.send_prepare(name.encode(), query.encode(), param_types=param_types)
                result = conn.wait(generators.execute(pgconn))[0]
                if result.status != pq.ExecStatus.COMMAND_OK and result.error_field(_SQLSTATE) != _DUPLICATE_PREPARED:
                    return False
                prepared[name] = None  # prepared now, or already (the same name always holds the same statement)
            pgconn.send_query_prepared(name.encode(), params, param_formats=param_formats)
        if pgconn.flush():  # not all of it went out at once: wait until the socket takes the rest
            conn.wait(generators.send(pgconn))
    except Exception:  # getting ahead is an optimisation; the ordinary path reports the problem
        return False
    _state.early = _Early(conn, tag, name)
    return True


def _settle() -> _Early | None:
    """The statement sent ahead on this thread, its answer read, and the thread's slot emptied; None if none."""
    early: _Early | None = getattr(_state, "early", None)
    if early is not None:
        if not early.read:
            early.read_answer()
        _state.early = None
    return early


def take_early(conn: Connection, tag: Hashable) -> list[tuple[Any, ...]] | None:
    """The rows of the statement sent ahead with this tag on `conn` (waiting for them if need be), once; None if
    none was sent, or it ended in an error (the caller then runs the statement the ordinary way). QueryTimeoutError
    if the statement timeout cancelled it: it already waited the whole timeout, and running it again would wait as
    long once more (a locked key row: twice DB_STATEMENT_TIMEOUT_MS is the API function's whole Timeout, so the
    client got the gateway's 502, not the 504)."""
    early: _Early | None = getattr(_state, "early", None)
    if early is None or early.conn is not conn or early.tag != tag:
        return None
    _settle()
    if isinstance(early.error, psycopg.errors.QueryCanceled):
        with translate_errors():
            raise early.error
    return early.rows if early.error is None else None


def leftover_early() -> tuple[Hashable, list[tuple[Any, ...]] | None] | None:
    """The statement sent ahead on this thread that nobody took: its tag and rows (None if it failed), read and
    forgotten; None if there is none. For the end of a request, so that its answer never outlives it."""
    early = _settle()
    if early is None:
        return None
    return early.tag, early.rows if early.error is None else None


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
    _state.early = None


@contextmanager
def using_connection(conn: Connection) -> Iterator[Connection]:
    """Make every `get_connection()` return `conn` (tests run handlers inside a rolled-back transaction). A statement
    sent ahead (send_early) belongs to the thread that sent it: an autocommit `conn` must not serve handlers on two
    threads at once (inside a transaction nothing is sent ahead)."""
    global _override
    previous, _override = _override, conn
    try:
        yield conn
    finally:
        _override = previous


# SQLSTATEs that mean the session cannot go on, or could not be had: the database is unavailable (503). Class 08 is
# added by its prefix; 57P01-57P03 are an admin or crash shutdown and "cannot connect now"; 53300 too many
# connections. A statement error of a database that answers is never one of these.
UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300"})
# A database that answers but is short of a resource for now: insufficient resources, disk full, out of memory
# (53000, 53100, 53200). Not the client's fault and not a fault in the statement: a 503 with Retry-After, as an
# outage is, rather than a 500 saying that trying again will not help. The session itself goes on.
SHORT_OF_RESOURCES_SQLSTATES = frozenset({"53000", "53100", "53200"})


def is_unavailable(error: psycopg.Error, conn: Connection | None = None) -> bool:
    """Whether `error` means the database is unavailable, not that a statement failed: no SQLSTATE at all (no
    connection: refused, lost, closed), a connection-exception SQLSTATE (class 08), a shutdown (57P01-57P03),
    too many connections (53300), or a connection that is now broken or closed."""
    if conn is not None and (conn.broken or conn.closed):
        return True
    state = error.sqlstate
    return state is None or state.startswith("08") or state in UNAVAILABLE_SQLSTATES


@contextmanager
def translate_errors() -> Iterator[None]:
    """Turn a database error that is not the client's into Marquee's error for it, never a hang nor a misleading
    message: a lost or unreachable database (is_unavailable) -> DatabaseUnavailableError (503 `database_unavailable`);
    a statement cancelled by statement_timeout (57014) -> QueryTimeoutError (504 `query_timeout`: the database is
    there); a lock wait past lock_timeout (55P03) -> LockTimeoutError (503 `lock_timeout`); a deadlock or
    serialization failure (class 40) -> TransactionConflictError (503 `transaction_conflict`); a database short of
    memory or disk (53000, 53100, 53200) -> DatabaseUnavailableError (503); any other OperationalError (a program
    limit, class 54; a configuration limit, 53400; a wrong object state, class 55) ->
    StatementFailedError (500 `internal_error`, logged with its SQLSTATE). Other psycopg errors (integrity, data,
    programming) pass through unchanged for their callers to judge."""
    try:
        yield
    except psycopg.errors.QueryCanceled as error:
        raise QueryTimeoutError(
            "The query ran longer than this API allows and was cancelled: for a search, narrow it (fewer or more "
            "specific terms); otherwise try again shortly."
        ) from error
    except psycopg.OperationalError as error:
        conn: Connection | None = getattr(_state, "conn", None)
        if is_unavailable(error, conn if conn is not None else _override):
            # A broken connection is dropped here; the next request of this environment opens a new one.
            if conn is not None and (conn.broken or conn.closed):
                close_connection()
            raise DatabaseUnavailableError("The database is unavailable right now; try again shortly.") from error
        if error.sqlstate in SHORT_OF_RESOURCES_SQLSTATES:
            raise DatabaseUnavailableError(
                f"The database is short of memory or disk right now (SQLSTATE {error.sqlstate}); try again shortly."
            ) from error
        if isinstance(error, psycopg.errors.LockNotAvailable):
            raise LockTimeoutError(
                "Other work holds what this request needs and the wait for it timed out; try again shortly."
            ) from error
        if (error.sqlstate or "").startswith("40"):  # deadlock_detected, serialization_failure, ...
            raise TransactionConflictError(
                "A concurrent change got in the way and this one was rolled back; try again shortly."
            ) from error
        raise StatementFailedError(
            f"The database refused a statement (SQLSTATE {error.sqlstate}): a fault on our side, not an outage; "
            "trying again will not help. Quote the request_id if you contact support.",
            sqlstate=error.sqlstate,
        ) from error


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
