"""Use cases of the public API; framework-free (no FastAPI), SQL stays in movie_common.db."""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from movie_api.paging import LinkQuery, ListBody, encode_query, envelope, link_query, position, query_digest
from movie_common import access
from movie_common.database import Connection
from movie_common.db import movie_search, movies
from movie_common.db.movie_search import MovieFilters
from movie_common.errors import (
    InvalidParameter,
    NotFoundError,
    RequestValidationError,
)

SEARCH_FILTERS = ("title", "genre", "year", "year_from", "year_to", "director", "actor", "q")

# What one search may ask for (each refused with a 422 naming the parameter): the cost of a search grows with these,
# and a query of negations alone cannot use the full-text index at all.
MAX_TITLE_WORDS = 20
MAX_TEXT_TERMS = 10
MAX_NEGATED_TERMS = 3
MAX_GENRES = 10  # genres as sent, each comma-separated one and each repeat counted
# Bytes of a search's canonical query once percent-encoded, as its Link URLs carry it (four of them at most): the
# characters limits above allow far more bytes than that only in percent-encoded non-ASCII or punctuation, and a
# response's headers must stay small whatever the client sends (Node reads 16 KB of headers at most).
MAX_LINK_QUERY = 1000
MAX_UNRECOGNISED_NAMED = 10  # unknown parameters a 422 names; it says how many more there were
MAX_NAME_ECHO = 100  # characters of an unknown parameter's name echoed back


@dataclass(frozen=True)
class PageRequest:
    """How a list request pages: `page` (1-based, None when not sent), `per_page`, or a `cursor` from next_cursor."""

    per_page: int
    page: int | None = None
    cursor: str | None = None


def get_movie(conn: Connection, movie_id: int) -> tuple[str, str]:
    """The movie as JSON text and its strong ETag (a digest of exactly those bytes)."""
    doc = movies.get_movie_json(conn, movie_id=movie_id)
    if doc is None:
        raise NotFoundError(f"No movie has id {movie_id}.")
    return doc, '"' + hashlib.blake2b(doc.encode(), digest_size=16).hexdigest() + '"'


def _entity_tags(field: str) -> list[str]:
    """The entity-tags of an If-Match or If-None-Match list (RFC 9110: `"*"` alone, or `#entity-tag`), each as sent
    (`W/"x"` or `"x"`); members that are not entity-tags (`W/*`, a `*` inside a list, an unquoted value) are none."""
    tags = []
    for member in field.split(","):
        tag = member.strip(" \t")
        opaque = tag.removeprefix("W/")
        if len(opaque) >= 2 and opaque[0] == opaque[-1] == '"' and '"' not in opaque[1:-1]:
            tags.append(tag)
    return tags


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Whether If-None-Match holds the movie's `etag` by the weak comparison (`W/"x"` matches `"x"`), or is `*`
    (the movie exists) alone; `W/*` or a `*` among tags is no entity-tag and matches nothing (RFC 9110 13.1.2)."""
    if not if_none_match:
        return False
    if if_none_match.strip(" \t") == "*":
        return True
    return etag in (tag.removeprefix("W/") for tag in _entity_tags(if_none_match))


def if_match_fails(if_match: str | None, etag: str) -> bool:
    """Whether an If-Match precondition is false for the movie whose strong entity tag is `etag` (RFC 9110 13.1.1):
    None (no header) and `*` (the movie exists) hold; otherwise one of its tags must be `etag` by the strong
    comparison (a weak `W/"x"` never matches)."""
    if if_match is None or if_match.strip(" \t") == "*":
        return False
    return etag not in _entity_tags(if_match)


DEFAULT_LIST_SORT = "popularity.desc"


def list_movies(conn: Connection, *, paging: PageRequest, sort: str, media_type: str | None) -> ListBody:
    """The catalogue a page at a time; RequestValidationError for a bad cursor or page with cursor."""
    digest = query_digest("/movies", {"sort": sort, "type": media_type})
    start = position(page=paging.page, per_page=paging.per_page, cursor=paging.cursor, digest=digest, orderings=(sort,))
    result = movie_search.list_movies(conn, media_type=media_type, sort=sort, paging=start.paging)
    query = link_query(
        per_page=paging.per_page, sort=None if sort == DEFAULT_LIST_SORT else sort, media_type=media_type
    )
    return envelope(result, start=start, per_page=paging.per_page, digest=digest, query=query)


# TMDB's lists the sync ranks, by route; upcoming and now-playing are lists of films only.
RANKED_LISTS: dict[str, tuple[str, ...]] = {
    "trending": ("movie", "tv"),
    "popular": ("movie", "tv"),
    "upcoming": ("movie",),
    "now_playing": ("movie",),
}


def ranked_list(
    conn: Connection, *, list_name: str, page: int | None, per_page: int, media_type: str | None
) -> ListBody:
    """TMDB's trending, popular, upcoming or now-playing titles in the order of the latest sync (films unless
    `media_type` is 'tv'); an empty list before any sync. RequestValidationError for a list TMDB has no TV for.
    These lists are short (TMDB's first pages): page numbers only, exact totals."""
    kind = "movie" if media_type is None else media_type  # `type=` (empty) is a bad value, as on every list
    kinds = RANKED_LISTS[list_name]
    if kind == "tv" and kind not in kinds:
        raise RequestValidationError(
            f"TMDB has no {list_name.replace('_', '-')} list for TV; only type=movie.",
            [InvalidParameter("type", "query", f"{list_name} is a list of movies only")],
        )
    if kind not in kinds:
        raise RequestValidationError(
            f"type must be {' or '.join(kinds)}.", [InvalidParameter("type", "query", f"must be {' or '.join(kinds)}")]
        )
    digest = query_digest(f"/movies/{list_name}", {"type": kind})
    start = position(page=page, per_page=per_page, cursor=None, digest=digest, orderings=())
    result = movie_search.ranked_movies(
        conn, list_name=list_name, media_type=kind, limit=per_page, offset=start.paging.offset
    )
    query = link_query(per_page=per_page, media_type=None if kind == "movie" else kind)
    return envelope(result, start=start, per_page=per_page, digest=digest, query=query)


# Characters nobody sees: control characters (C0, C1) and format characters (zero-width spaces and joiners, soft
# hyphens, bidirectional marks, the BOM...). A search text is read without them.
_INVISIBLE_CATEGORIES = frozenset(("Cc", "Cf"))


def normalise_text(value: str) -> str:
    """A text parameter as search reads it: invisible characters (Unicode categories Cc and Cf) removed, runs of
    whitespace made one space, no space at either end, composed (NFC: `cafe\u0301`, as macOS and some keyboards
    send it, is `café`, the same text by Unicode's definition, so its links and cursors are those of `café`). ""
    means it was empty or blank (a 422 on every route)."""
    visible = "".join(ch for ch in value if ch.isspace() or unicodedata.category(ch) not in _INVISIBLE_CATEGORIES)
    return unicodedata.normalize("NFC", " ".join(visible.split()))


# U+FFFD, the replacement character, is what percent-encoded bytes that are not UTF-8 decode to (`am%E9lie`, Latin-1
# for amélie, arrives as `am\ufffdlie`, in API Gateway as in the local gateway). No title or name holds it, and
# searching for what is left of the text found other titles (`q=am%E9lie` gave True Lies): a 422 that says how.
NOT_UTF8_REASON = "holds bytes that are not UTF-8 (U+FFFD): percent-encode the text's UTF-8 bytes, é as %C3%A9, not %E9"


def _text_error(value: str) -> str | None:
    """Why a text parameter cannot be searched for as sent, if it cannot: NUL, or bytes that were not UTF-8."""
    if "\x00" in value:
        return "must not contain NUL characters"
    if "\ufffd" in value:
        return NOT_UTF8_REASON
    return None


def _clean(name: str, value: str | None, errors: list[InvalidParameter]) -> str | None:
    """A search text normalised (normalise_text); None, with the reason in `errors`, when it holds NUL or bytes that
    were not UTF-8 (_text_error), or is empty once normalised (spaces, control and format characters such as
    U+200B alone)."""
    if value is None:
        return None
    if (reason := _text_error(value)) is not None:
        errors.append(InvalidParameter(name, "query", reason))
        return None
    text = normalise_text(value)
    if not text:
        errors.append(
            InvalidParameter(name, "query", "must not be empty or blank (spaces and invisible characters alone)")
        )
        return None
    return text


def _pieces(value: str) -> Iterator[str]:
    """The comma-separated pieces of `value`, one at a time (a split would make them all first)."""
    start = 0
    while (comma := value.find(",", start)) != -1:
        yield value[start:comma]
        start = comma + 1
    yield value[start:]


def _genres(values: Sequence[str] | None, errors: list[InvalidParameter]) -> list[str] | None:
    """Every genre of every `genre` value (repeated, comma-separated, or both), normalised (normalise_text), each
    once in the order first sent: `genre=Drama,Comedy&genre=Drama` gives ["Drama", "Comedy"] (the same text once
    normalised is the same genre; `drama` is another text, which matches the same movies). None when no genre was
    sent. Blank pieces (`genre=Drama,`) are skipped; every other genre sent counts towards MAX_GENRES, a repeat
    included, and reading stops at the first past it (an error naming `genre`): a value of 3,000 `Drama,` is
    refused after reading 11 of them, not normalised and deduplicated whole. [] with the reason in `errors` when
    refused."""
    if values is None:
        return None
    genres: dict[str, None] = {}
    sent = 0
    for value in values:
        if (reason := _text_error(value)) is not None:
            errors.append(InvalidParameter("genre", "query", reason))
            return []
        for piece in _pieces(value):
            genre = normalise_text(piece)
            if not genre:
                continue
            sent += 1
            if sent > MAX_GENRES:
                errors.append(InvalidParameter("genre", "query", f"at most {MAX_GENRES} genres, each repeat counted"))
                return []
            genres[genre] = None
    if not genres:
        errors.append(InvalidParameter("genre", "query", "must name at least one genre"))
    return list(genres)


def _check_cost(conn: Connection, text: dict[str, str | None], errors: list[InvalidParameter]) -> None:
    """Refuse what would make one search dear: too many title words, too many or only negated free-text terms."""
    title = text["title"]
    if title is not None and len(title.split()) > MAX_TITLE_WORDS:
        errors.append(InvalidParameter("title", "query", f"at most {MAX_TITLE_WORDS} words"))
    q = text["q"]
    if q is None:
        return
    shape = movie_search.text_query_shape(conn, q)
    if shape.terms == 0:
        errors.append(InvalidParameter("q", "query", "must contain a word to search for"))
    elif shape.negated > MAX_NEGATED_TERMS:
        errors.append(
            InvalidParameter(
                "q", "query", f"at most {MAX_NEGATED_TERMS} negated (-word) terms (it has {shape.negated})"
            )
        )
    elif shape.terms > MAX_TEXT_TERMS:
        errors.append(InvalidParameter("q", "query", f"at most {MAX_TEXT_TERMS} search terms (it has {shape.terms})"))
    elif not shape.indexable:
        errors.append(
            InvalidParameter("q", "query", "needs a word that is not negated (-word), in every `or` alternative")
        )


def _search_link_query(
    params: dict[str, Any],
    text: dict[str, str | None],
    genres: list[str] | None,
    *,
    sort: str | None,
    paging: PageRequest,
    media_type: str | None,
    errors: list[InvalidParameter],
) -> LinkQuery:
    """What a search's links carry (link_query): its filters as read (`text` normalised, `genres` once each and
    comma-separated), per_page, the sort when not the default (None) and the type. An error naming `query` in
    `errors` when that takes more than MAX_LINK_QUERY bytes percent-encoded."""
    canonical = {**params, **text, "genre": ",".join(genres) if genres else None}
    query = link_query(
        filters=[(name, str(canonical[name])) for name in SEARCH_FILTERS if canonical.get(name) is not None],
        per_page=paging.per_page,
        sort=sort,
        media_type=media_type,
    )
    size = len(encode_query(query))
    if size > MAX_LINK_QUERY:
        reason = f"the search parameters take {size} bytes once percent-encoded; at most {MAX_LINK_QUERY}"
        errors.append(InvalidParameter("query", "query", reason))
    return query


def search(
    conn: Connection,
    *,
    params: dict[str, Any],
    sort: str | None,
    paging: PageRequest,
    media_type: str | None,
    unrecognised: Sequence[str] = (),
) -> ListBody:
    """Any combination of the filters; at least one is required. `params` holds the filters as sent (`genre` a
    list of every value); `unrecognised` names query parameters the route does not know, which the 422 for a
    search without a filter lists (`genre[]=Drama` is not `genre=Drama`). RequestValidationError names each bad
    parameter, and `query` for a search whose links would be too long (MAX_LINK_QUERY); the list's links carry the
    filters as read (texts normalised, genres once each, comma-separated), never the request's text."""
    errors: list[InvalidParameter] = []
    text = {name: _clean(name, params.get(name), errors) for name in ("title", "director", "actor", "q")}
    genres = _genres(params.get("genre"), errors)
    year_from, year_to = params.get("year_from"), params.get("year_to")
    if year_from is not None and year_to is not None and year_from > year_to:
        errors.append(InvalidParameter("year_to", "query", "must not be before year_from"))
    has_text = text["title"] is not None or text["q"] is not None
    default_sort = "relevance" if has_text else "popularity.desc"
    # Relevance needs a text to be relevant to: the default with title or q, popularity otherwise.
    sort = default_sort if sort is None or sort == "relevance" else sort
    query: LinkQuery = ()
    if not errors:
        link_sort = None if sort == default_sort else sort
        query = _search_link_query(
            params, text, genres, sort=link_sort, paging=paging, media_type=media_type, errors=errors
        )
    if not errors:
        _check_cost(conn, text, errors)
    if errors:
        raise RequestValidationError("Some search parameters are invalid.", errors)
    if all(params.get(name) is None for name in SEARCH_FILTERS):
        detail = "Give at least one filter: " + ", ".join(SEARCH_FILTERS) + "."
        problems = [InvalidParameter("query", "query", "no search filter given")]
        if unrecognised:
            # Named up to a bound: a request with thousands of made-up parameters must not get a body that echoes
            # them all (nor each name capped: a name may be as long as the URL allows).
            shown = [name[:MAX_NAME_ECHO] for name in unrecognised[:MAX_UNRECOGNISED_NAMED]]
            more = len(unrecognised) - len(shown)
            detail += " Not search parameters, so ignored: " + ", ".join(shown)
            detail += f" and {more} more." if more else "."
            problems += [
                InvalidParameter(name, "query", "not a search parameter; ignored (repeat a list: genre=A&genre=B)")
                for name in shown
            ]
        raise RequestValidationError(detail, problems)
    filters = MovieFilters(
        title=text["title"],
        genres=genres or [],
        year=params.get("year"),
        year_from=year_from,
        year_to=year_to,
        director=text["director"],
        actor=text["actor"],
        text=text["q"],
        media_type=media_type,
    )
    # The filters as read (texts normalised, genres once each): what the links carry, so a cursor they carry fits.
    # Genres match whatever their case and order, so a cursor does too (a cursor of genre=Drama was refused on
    # genre=drama: the eleventh tester).
    same_genres = sorted({genre.casefold() for genre in genres or []})
    digest = query_digest("/search", {**params, **text, "genre": same_genres, "sort": sort, "type": media_type})
    # Relevance is read ranked or broad (movie_search.search_movies says which); any other sort in its own order.
    orderings = (movie_search.RANKED, movie_search.BROAD) if sort == "relevance" else (sort,)
    start = position(
        page=paging.page, per_page=paging.per_page, cursor=paging.cursor, digest=digest, orderings=orderings
    )
    result = movie_search.search_movies(conn, filters=filters, sort=sort, paging=start.paging)
    return envelope(result, start=start, per_page=paging.per_page, digest=digest, query=query)


def suggest(conn: Connection, *, q: str, limit: int) -> list[dict[str, Any]]:
    errors: list[InvalidParameter] = []
    text = _clean("q", q, errors)
    if text is None:
        raise RequestValidationError("q is invalid.", errors)
    return movie_search.suggest_titles(conn, prefix=text, limit=limit)


def genres(conn: Connection) -> list[dict[str, Any]]:
    return movies.genre_counts(conn)


def similar(conn: Connection, *, movie_id: int, paging: PageRequest) -> ListBody:
    """Movies like this one; NotFoundError when it does not exist. Past the end, the totals are still real."""
    if not movies.movie_exists(conn, movie_id=movie_id):
        raise NotFoundError(f"No movie has id {movie_id}.")
    digest = query_digest(f"/movies/{movie_id}/similar", {})
    start = position(
        page=paging.page,
        per_page=paging.per_page,
        cursor=paging.cursor,
        digest=digest,
        orderings=(movie_search.SIMILAR_ORDERING,),
    )
    result = movie_search.similar_movies(conn, movie_id=movie_id, paging=start.paging)
    query = link_query(per_page=paging.per_page)
    return envelope(result, start=start, per_page=paging.per_page, digest=digest, query=query)


def usage(conn: Connection, raw_key: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The caller's quota state and its rate-limit headers. Reading it does not count against the quota, but it has
    a limit of its own (access.USAGE_READS_PER_MINUTE; RateLimitedError past it)."""
    standing, windows = access.read_usage(conn, raw_key)
    body = {
        "key_id": standing.key_id,
        "plan": standing.plan,
        "status": standing.status,
        "expires_at": standing.expires_at,
        "daily_quota": standing.daily_quota,
        "per_minute": standing.per_minute,
        "total_requests": standing.total_count,
        "windows": [
            {"name": w.name, "limit": w.limit, "used": w.used, "remaining": w.remaining, "resets_at": w.reset_at}
            for w in windows.all()
        ],
    }
    return body, access.limit_headers(windows, standing.now)


def health(conn: Connection) -> dict[str, Any]:
    """Liveness: one catalogue lookup proves the database answers; the movie count is the planner's estimate
    (counting a million rows on every probe would make the probe the heaviest request)."""
    return {"status": "ok", "database": "ok", "movies": movies.estimate_movies(conn)}
