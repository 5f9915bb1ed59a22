"""Times an admin sends (filters' `since` and `until`, a key's `expires_at`), taken to UTC as they come in.

A moment keeps the offset the admin typed (`+22:30`, `-23:59`), which Python accepts and PostgreSQL does not (at
most ±15:59): a statement that binds it as a parameter gets it in UTC, but the CSV exports' COPY merges its values
as text and failed with a 500. Near the ends of year 1 and year 9999 a moment may have no UTC equivalent at all
(`9999-12-31T23:59:59-01:00`), and a moment without a zone cannot be compared with one that has a zone. Each is now
a 422 naming the parameter, or a moment in UTC that every statement reads alike.
"""

from __future__ import annotations

from datetime import UTC, datetime

from movie_common.errors import InvalidParameter, RequestValidationError


def in_utc(
    moments: dict[str, datetime | None], *, detail: str, naive_is_utc: bool, location: str = "query"
) -> dict[str, datetime | None]:
    """Each moment of `moments` (by parameter name) in UTC, None as given. A moment without a zone is UTC when
    `naive_is_utc` (what the database's UTC session made of it), else refused. RequestValidationError with `detail`
    names every moment refused (no zone, or no UTC equivalent)."""
    converted: dict[str, datetime | None] = {}
    errors = []
    for name, moment in moments.items():
        if moment is not None and moment.tzinfo is None:
            if not naive_is_utc:
                errors.append(InvalidParameter(name, location, "give a time zone (e.g. 2026-11-30T00:00:00Z)"))
                continue
            moment = moment.replace(tzinfo=UTC)
        try:
            converted[name] = moment.astimezone(UTC) if moment is not None else None
        except OverflowError:
            errors.append(InvalidParameter(name, location, "out of range: give a time between the years 1 and 9999"))
    if errors:
        raise RequestValidationError(detail, errors)
    return converted
