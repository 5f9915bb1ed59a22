"""The list envelope's `next_cursor` and `next` page, from a page of the repository (no database)."""

from __future__ import annotations

import json

from movie_api.paging import envelope, position
from movie_common.db.movie_search import Page


def _page(n: int, *, total: int, exact: bool) -> Page:
    return Page([json.dumps({"id": i}) for i in range(n)], total, exact, "relevance.broad", [1, 0.0, n])


def test_a_short_page_is_the_last_even_when_the_estimated_total_is_higher() -> None:
    # `q=love` on the bundled catalogue: 1,557 matches, estimated at 3,047; its page 16 holds the last 57.
    start = position(page=16, per_page=100, cursor=None, digest="d", orderings=("relevance.broad",))
    body = envelope(_page(57, total=3047, exact=False), start=start, per_page=100, digest="d", query=())
    assert body.next_cursor is None and body.next_page is None
    assert json.loads(body.body)["next_cursor"] is None


def test_a_full_page_under_an_estimate_still_points_on() -> None:
    start = position(page=1, per_page=100, cursor=None, digest="d", orderings=("relevance.broad",))
    body = envelope(_page(100, total=90, exact=False), start=start, per_page=100, digest="d", query=())
    assert body.next_cursor is not None


def test_an_exact_total_reached_by_a_full_page_ends_the_list() -> None:
    start = position(page=2, per_page=10, cursor=None, digest="d", orderings=("relevance.broad",))
    body = envelope(_page(10, total=20, exact=True), start=start, per_page=10, digest="d", query=())
    assert body.next_cursor is None and body.next_page is None
    body = envelope(_page(10, total=21, exact=True), start=start, per_page=10, digest="d", query=())
    assert body.next_cursor is not None and body.next_page == 3


def test_a_cursor_page_has_its_true_number_in_pages_of_its_per_page_or_none() -> None:
    # A cursor remembers the 20 rows before it (two pages of 10, or one of 20, or no whole number of pages of 50).
    for per_page, number in ((10, 3), (20, 2), (5, 5), (50, None), (15, None)):
        start = position(
            page=None, per_page=per_page, cursor=_cursor_after(20), digest="d", orderings=("relevance.broad",)
        )
        body = envelope(_page(per_page, total=1000, exact=True), start=start, per_page=per_page, digest="d", query=())
        assert body.page == number and json.loads(body.body)["page"] == number, per_page
        assert body.next_page is None and body.next_cursor is not None  # a cursor page goes on by cursor


def _cursor_after(rows: int) -> str:
    first = envelope(
        _page(rows, total=1000, exact=True),
        start=position(page=1, per_page=rows, cursor=None, digest="d", orderings=("relevance.broad",)),
        per_page=rows,
        digest="d",
        query=(),
    )
    assert first.next_cursor is not None
    return first.next_cursor
