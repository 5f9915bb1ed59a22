"""Pagination shapes of the admin lists: TMDB's numbered pages, and cursor pages for the request log."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from movie_common.errors import InvalidParameter, RequestValidationError

MAX_PER_PAGE = 100
T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list in TMDB's envelope: `page` is 1-based; `total_pages` is 0 when nothing matches."""

    results: list[T]
    page: int
    per_page: int
    total_results: int

    @property
    def total_pages(self) -> int:
        return -(-self.total_results // self.per_page)


def offset_of(page: int, per_page: int) -> int:
    return (page - 1) * per_page


@dataclass(frozen=True)
class CursorPage(Generic[T]):
    """One page of a list too long to count: `next_cursor` continues after the last row (None: no more rows)."""

    results: list[T]
    per_page: int
    next_cursor: str | None


def encode_cursor(timestamp: datetime, row_id: int) -> str:
    """An opaque cursor for the row at (timestamp, id): URL-safe base64 of `<ISO time>|<id>`."""
    return base64.urlsafe_b64encode(f"{timestamp.isoformat()}|{row_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """The (timestamp, id) inside a cursor; RequestValidationError (`cursor`, query) when it is not one of ours."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, _, row_id = text.partition("|")
        moment = datetime.fromisoformat(stamp)
        if moment.tzinfo is None:
            raise ValueError("naive time")
        return moment, int(row_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise RequestValidationError(
            "The cursor is not valid; use the next_cursor of a previous page.",
            [InvalidParameter("cursor", "query", "not a cursor returned by this API")],
        ) from None
