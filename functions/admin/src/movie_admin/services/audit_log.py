"""Admin use cases for the audit log: filtered pages and the CSV export."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from movie_admin.audit import Actor, record
from movie_admin.exports import ExportStore, StoredExport
from movie_admin.moments import in_utc
from movie_admin.pages import Page, offset_of
from movie_common.database import Connection
from movie_common.db import admin_audit_log
from movie_common.db.admin_audit_log import AuditEntry, AuditFilters
from movie_common.errors import InvalidParameter, RequestValidationError
from movie_common.timestamps import rfc3339

SORTS = tuple(admin_audit_log.SORTS)


def _check(filters: AuditFilters) -> AuditFilters:
    """The filters with their times in UTC (movie_admin.moments), or RequestValidationError naming what is wrong."""
    moments = in_utc(
        {"since": filters.since, "until": filters.until}, detail="The audit filters are not valid.", naive_is_utc=True
    )
    filters = replace(filters, since=moments["since"], until=moments["until"])
    if filters.since and filters.until and filters.since >= filters.until:
        raise RequestValidationError(
            "The audit filters are not valid.", [InvalidParameter("until", "query", "must be later than since")]
        )
    return filters


def list_entries(conn: Connection, *, filters: AuditFilters, sort: str, page: int, per_page: int) -> Page[AuditEntry]:
    """Entries matching `filters`, newest first by default, one page of `per_page`."""
    filters = _check(filters)
    rows, total = admin_audit_log.list_entries(
        conn, filters=filters, sort=sort, limit=per_page, offset=offset_of(page, per_page)
    )
    return Page(rows, page, per_page, total)


def export_entries(
    conn: Connection,
    actor: Actor,
    store: ExportStore,
    *,
    filters: AuditFilters,
    sort: str,
    statement_timeout_ms: int | None = None,
) -> StoredExport:
    """Every matching entry as CSV, streamed into `store`; the export itself is audited (`audit_log.export`)."""
    filters = _check(filters)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    stored = store.store(
        f"audit-{stamp}.csv",
        admin_audit_log.export_csv(conn, filters=filters, sort=sort, statement_timeout_ms=statement_timeout_ms),
    )
    described = {
        k: (rfc3339(v) if isinstance(v, datetime) else v) for k, v in filters.__dict__.items() if v is not None
    }
    with conn.transaction():
        record(
            conn,
            actor,
            action="audit_log.export",
            target_type="audit_log",
            target_id=None,
            after={"filters": described, "sort": sort, "bytes": stored.bytes, "file": stored.name},
        )
    return stored
