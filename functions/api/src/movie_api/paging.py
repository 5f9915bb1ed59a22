"""Pages of the public API's lists, framework-free: page numbers or cursors in, TMDB's envelope out.

Page numbers reach MAX_PAGE (TMDB's own limit); `total_pages` and every page-numbered link stay within it. Past it,
and for any walk at constant cost, a list is read by cursor: each page says `next_cursor` (an opaque token holding
the sort key of the page's last row), and the `Link` header's `next` carries it whenever there is one, so a client
following `next` walks by keyset and sees no row twice while the catalogue changes. A page's `page` is its number
in pages of its `per_page` (null for a cursor page that does not start on such a page: a cursor reused with another
`per_page`).

The links are built from the list's canonical query (`link_query`): the parameters its route recognised, as it
parsed them, never the request's text, so a response's headers stay small whatever a client sends.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from movie_common.db.movie_search import Page, Paging, valid_key
from movie_common.errors import InvalidParameter, RequestValidationError

MAX_PAGE = 500
_CURSOR_VERSION = 1


@dataclass(frozen=True)
class Position:
    """Where a request starts: `paging` for the repository, and how many rows come before the page (`skipped`)."""

    paging: Paging
    skipped: int


LinkQuery = tuple[tuple[str, str], ...]


def link_query(
    *,
    per_page: int,
    filters: Sequence[tuple[str, str]] = (),
    sort: str | None = None,
    media_type: str | None = None,
) -> LinkQuery:
    """The query a list's links carry, before their `page` or `cursor`: `filters` (name, value) as the route parsed
    them, then `per_page` (always: page numbers are counted in it), then `sort` and `type` when given (None: the
    route's default, left out). Shape: (("genre", "Drama,Comedy"), ("per_page", "20"), ("sort", "year.desc")).
    Only what the route recognised goes in, so a link never repeats an unknown or repeated parameter of the
    request."""
    query = [*filters, ("per_page", str(per_page))]
    if sort is not None:
        query.append(("sort", sort))
    if media_type is not None:
        query.append(("type", media_type))
    return tuple(query)


def encode_query(query: Sequence[tuple[str, str | int]]) -> str:
    """A link's query string: percent-encoded as a form (spaces as `+`), commas kept (`genre=Drama,Comedy`)."""
    return urlencode(query, safe=",")


@dataclass(frozen=True)
class ListBody:
    """A TMDB-style list envelope, already serialised, with what the Link header needs: the list's canonical query
    (`link_query`) and where the other pages are."""

    body: str
    query: LinkQuery  # what every link carries before its page or cursor
    page: int | None  # None: a cursor page that does not start where a page of its per_page would
    total_pages: int
    next_page: int | None  # the next page by number, when it is within MAX_PAGE
    next_cursor: str | None  # the next page by cursor, when there is one
    by_cursor: bool  # the request came with a cursor


def _folded(value: Any) -> Any:
    """A text as search compares it, near enough for a digest: case folded, compatibility forms and accents dropped
    (`GODFATHER`, a full-width `godfather` and `godfather`; `Amelie` and `Amélie`, as marquee_normalize has it)."""
    if not isinstance(value, str):
        return value
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def query_digest(route: str, query: dict[str, Any]) -> str:
    """A short digest of a list's query (its filters, sort and type; not its paging), so that a cursor is only used
    with the query that gave it. Texts are folded (_folded): searches that find the same movies share cursors."""
    canonical = json.dumps(
        [route, sorted((k, _folded(v)) for k, v in query.items() if v not in (None, []))], default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def encode_cursor(*, digest: str, ordering: str, key: list[Any], skipped: int) -> str:
    raw = json.dumps([_CURSOR_VERSION, digest, ordering, key, skipped], separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _bad_cursor(reason: str) -> RequestValidationError:
    return RequestValidationError(
        "The cursor is not valid for this request.", [InvalidParameter("cursor", "query", reason)]
    )


def decode_cursor(cursor: str, *, digest: str, orderings: Collection[str]) -> tuple[str, list[Any], int]:
    """(ordering, key, rows skipped) of a cursor this API gave for the same query; RequestValidationError naming
    `cursor` otherwise (malformed, tampered with, or from another query). `orderings` are those the request can be
    read in (its sort; relevance is ranked or broad): a cursor naming another would have its key compared with the
    columns of a sort it was not made in."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        version, cursor_digest, ordering, key, skipped = json.loads(raw)
    except (ValueError, TypeError, binascii.Error):
        raise _bad_cursor("not a cursor this API gave; pass next_cursor back unchanged") from None
    if version != _CURSOR_VERSION or not isinstance(ordering, str) or not isinstance(skipped, int) or skipped < 0:
        raise _bad_cursor("not a cursor this API gave; pass next_cursor back unchanged")
    if cursor_digest != digest:
        raise _bad_cursor("belongs to another query; keep the same filters, sort and type while following it")
    if ordering not in orderings or not valid_key(ordering, key):
        raise _bad_cursor("not a cursor this API gave; pass next_cursor back unchanged")
    return ordering, key, skipped


def position(
    *, page: int | None, per_page: int, cursor: str | None, digest: str, orderings: Collection[str]
) -> Position:
    """The paging of a request from its `page` or its `cursor` (not both: RequestValidationError names them); a
    cursor must name one of `orderings`, those the request can be read in (decode_cursor)."""
    if cursor is not None:
        if page is not None:
            raise RequestValidationError(
                "Send page or cursor, not both.",
                [
                    InvalidParameter("page", "query", "not allowed with cursor"),
                    InvalidParameter("cursor", "query", "not allowed with page"),
                ],
            )
        ordering, key, skipped = decode_cursor(cursor, digest=digest, orderings=orderings)
        return Position(Paging(limit=per_page, after=key, ordering=ordering), skipped)
    number = page or 1
    return Position(Paging(limit=per_page, offset=(number - 1) * per_page), (number - 1) * per_page)


def envelope(result: Page, *, start: Position, per_page: int, digest: str, query: LinkQuery) -> ListBody:
    """TMDB's envelope, plus `total_results_exact` (false: `total_results` is an estimate past the exact-count
    bound) and `next_cursor` (null on the last page); `query` is what the page's links carry (`link_query`)."""
    total_pages = min(math.ceil(result.total / per_page), MAX_PAGE) if result.total else 0
    # A cursor remembers how many rows came before it; a page number is only true when they fill whole pages of
    # this per_page (a cursor reused with another per_page starts mid-page: no number then, rather than a wrong one).
    page_number = start.skipped // per_page + 1 if start.skipped % per_page == 0 else None
    seen = start.skipped + len(result.results)
    # A short page is the last one whatever the total says: an estimate (past the exact-count bound) can be far
    # above the real count, and a `next` from a short page would only lead to an empty one.
    more = len(result.results) == per_page and (seen < result.total or not result.exact)
    next_cursor = None
    if more and result.last_key is not None:
        next_cursor = encode_cursor(digest=digest, ordering=result.ordering, key=result.last_key, skipped=seen)
    by_cursor = start.paging.after is not None
    next_page = None
    if more and not by_cursor and page_number is not None and page_number + 1 <= total_pages:
        next_page = page_number + 1
    body = (
        f'{{"page":{json.dumps(page_number)},"per_page":{per_page},"results":[{",".join(result.results)}],'
        f'"total_results":{result.total},"total_pages":{total_pages},'
        f'"total_results_exact":{"true" if result.exact else "false"},'
        f'"next_cursor":{json.dumps(next_cursor)}}}'
    )
    return ListBody(body, query, page_number, total_pages, next_page, next_cursor, by_cursor)
