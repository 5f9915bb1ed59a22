"""Admin use cases for the request log: filtered cursor pages, and the CSV export of the whole filtered set."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from movie_admin.audit import Actor, record
from movie_admin.exports import ExportStore, StoredExport
from movie_admin.moments import in_utc
from movie_admin.pages import CursorPage
from movie_common.database import Connection
from movie_common.db import api_keys, usage
from movie_common.db.usage import LoggedRequest, RequestFilters
from movie_common.errors import InvalidParameter, RequestValidationError
from movie_common.log_cursors import decode_cursor, encode_cursor
from movie_common.timestamps import rfc3339

SORTS = tuple(usage.REQUEST_SORTS)
STATUS_CLASSES = tuple(usage.STATUS_CLASSES)


@dataclass(frozen=True)
class RequestQuery:
    """What an admin filters the request log by; None means not filtered. `since` inclusive, `until` exclusive."""

    key_id: int | None = None
    owner_id: int | None = None
    endpoint: str | None = None
    status_class: str | None = None  # 2xx | 3xx | 4xx | 5xx
    status: int | None = None
    since: datetime | None = None
    until: datetime | None = None

    def as_dict(self) -> dict[str, object]:
        return {k: (rfc3339(v) if isinstance(v, datetime) else v) for k, v in self.__dict__.items() if v is not None}


def _filters(conn: Connection, query: RequestQuery) -> RequestFilters:
    errors = []
    if query.status_class is not None and query.status_class not in STATUS_CLASSES:
        errors.append(InvalidParameter("status_class", "query", f"one of {', '.join(STATUS_CLASSES)}"))
    if query.status is not None and not 100 <= query.status <= 599:
        errors.append(InvalidParameter("status", "query", "an HTTP status, 100 to 599"))
    detail = "The request-log filters are not valid."
    try:
        moments = in_utc({"since": query.since, "until": query.until}, detail=detail, naive_is_utc=False)
    except RequestValidationError as refused:
        errors.extend(refused.errors)
        moments = {}
    since, until = moments.get("since"), moments.get("until")
    if since and until and since >= until:
        errors.append(InvalidParameter("until", "query", "must be later than since"))
    if errors:
        raise RequestValidationError(detail, errors)
    key_ids: list[int] | None = None
    if query.owner_id is not None:
        key_ids = api_keys.owner_key_ids(conn, owner_id=query.owner_id)
    if query.key_id is not None:
        key_ids = [query.key_id] if key_ids is None or query.key_id in key_ids else []
    return RequestFilters(
        key_ids=key_ids,
        endpoint=query.endpoint,
        status_class=query.status_class,
        status=query.status,
        since=since,
        until=until,
    )


def list_requests(
    conn: Connection, *, query: RequestQuery, sort: str, per_page: int, cursor: str | None
) -> CursorPage[LoggedRequest]:
    """One page of matching requests in `sort` order (newest first by default), after `cursor` if given."""
    filters = _filters(conn, query)
    if filters.key_ids == []:
        return CursorPage([], per_page, None)
    after = decode_cursor(cursor) if cursor else None
    rows, more = usage.list_requests(conn, filters=filters, sort=sort, limit=per_page, after=after)
    next_cursor = encode_cursor(rows[-1].timestamp, rows[-1].id) if more and rows else None
    return CursorPage(rows, per_page, next_cursor)


def export_requests(
    conn: Connection,
    actor: Actor,
    store: ExportStore,
    *,
    query: RequestQuery,
    sort: str,
    statement_timeout_ms: int | None = None,
) -> StoredExport:
    """Every matching request as CSV (no row cap), streamed from COPY into `store` in flat memory; the export is
    audited (`request_log.export`, with its filters) once it is stored."""
    filters = _filters(conn, query)  # an owner without keys gives key_ids [], which matches nothing: a header only
    query = replace(query, since=filters.since, until=filters.until)  # in UTC, as the audit entry describes them
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    stored = store.store(
        f"requests-{stamp}.csv",
        usage.export_requests_csv(conn, filters=filters, sort=sort, statement_timeout_ms=statement_timeout_ms),
    )
    with conn.transaction():
        record(
            conn,
            actor,
            action="request_log.export",
            target_type="request_log",
            target_id=None,
            developer_id=query.owner_id,
            after={"filters": query.as_dict(), "sort": sort, "bytes": stored.bytes, "file": stored.name},
        )
    return stored


def endpoints(conn: Connection, *, days: int = 90) -> list[str]:
    """Route templates with traffic in the last `days` days, for the endpoint filter."""
    return usage.endpoints_seen(conn, days=days)
