"""The one spelling of a moment in Marquee's responses: RFC 3339 in UTC with `Z` (pydantic's for datetimes, the CSV
exports', the movie documents' built in PostgreSQL), so that no client sees `+00:00` from one field and `Z` from the
next."""

from __future__ import annotations

from datetime import UTC, datetime


def rfc3339(moment: datetime) -> str:
    """`moment` in UTC as RFC 3339 with `Z`: `2026-12-01T00:00:00Z`, or `2026-11-30T13:05:33.898557Z` when it has
    microseconds. Raises ValueError for a naive datetime (its zone is unknown)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"a moment needs a time zone: {moment!r}")
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
