"""Pagination shapes of the admin lists: TMDB's numbered pages, and cursor pages for the request log."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

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
    """One page of a list too long to count: `next_cursor` continues after the last row (None: no more rows;
    movie_common.log_cursors makes and reads it)."""

    results: list[T]
    per_page: int
    next_cursor: str | None
