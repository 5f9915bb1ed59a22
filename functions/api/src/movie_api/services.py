"""Use cases of the public API; framework-free (no FastAPI), SQL stays in movie_common.db."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any

from movie_common import access
from movie_common.database import Connection
from movie_common.db import movies
from movie_common.db.movies import MovieFilters, Page
from movie_common.errors import (
    InvalidParameter,
    NotFoundError,
    RequestValidationError,
)

SEARCH_FILTERS = ("title", "genre", "year", "year_from", "year_to", "director", "actor", "q")


@dataclass(frozen=True)
class ListBody:
    """A TMDB-style list envelope, already serialised, with what the Link header needs."""

    body: str
    page: int
    total_pages: int


def envelope(page: Page, *, page_number: int, per_page: int) -> ListBody:
    total_pages = math.ceil(page.total / per_page) if page.total else 0
    body = (
        f'{{"page":{page_number},"per_page":{per_page},"results":[{",".join(page.results)}],'
        f'"total_results":{page.total},"total_pages":{total_pages}}}'
    )
    return ListBody(body, page_number, total_pages)


def get_movie(conn: Connection, movie_id: int) -> tuple[str, str]:
    """The movie as JSON text and its strong ETag (a digest of exactly those bytes)."""
    doc = movies.get_movie_json(conn, movie_id=movie_id)
    if doc is None:
        raise NotFoundError(f"No movie has id {movie_id}.")
    return doc, '"' + hashlib.blake2b(doc.encode(), digest_size=16).hexdigest() + '"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in candidates or etag in candidates


def list_movies(conn: Connection, *, page: int, per_page: int, sort: str, media_type: str | None) -> ListBody:
    result = movies.list_movies(conn, media_type=media_type, sort=sort, limit=per_page, offset=(page - 1) * per_page)
    return envelope(result, page_number=page, per_page=per_page)


# TMDB's lists the sync ranks, by route; upcoming and now-playing are lists of films only.
RANKED_LISTS: dict[str, tuple[str, ...]] = {
    "trending": ("movie", "tv"),
    "popular": ("movie", "tv"),
    "upcoming": ("movie",),
    "now_playing": ("movie",),
}


def ranked_list(conn: Connection, *, list_name: str, page: int, per_page: int, media_type: str | None) -> ListBody:
    """TMDB's trending, popular, upcoming or now-playing titles in the order of the latest sync (films unless
    `media_type` is 'tv'); an empty list before any sync. RequestValidationError for a list TMDB has no TV for."""
    kind = media_type or "movie"
    if kind not in RANKED_LISTS[list_name]:
        raise RequestValidationError(
            f"TMDB has no {list_name.replace('_', '-')} list for TV; only type=movie.",
            [InvalidParameter("type", "query", f"{list_name} is a list of movies only")],
        )
    result = movies.ranked_movies(
        conn, list_name=list_name, media_type=kind, limit=per_page, offset=(page - 1) * per_page
    )
    return envelope(result, page_number=page, per_page=per_page)


def _clean(name: str, value: str | None, errors: list[InvalidParameter]) -> str | None:
    if value is None:
        return None
    text = " ".join(value.split())
    if not text:
        errors.append(InvalidParameter(name, "query", "must not be empty or blank"))
        return None
    if "\x00" in text:
        errors.append(InvalidParameter(name, "query", "must not contain NUL characters"))
        return None
    return text


def search(
    conn: Connection,
    *,
    params: dict[str, Any],
    sort: str,
    page: int,
    per_page: int,
    media_type: str | None,
) -> ListBody:
    """Any combination of the filters; at least one is required."""
    errors: list[InvalidParameter] = []
    text = {name: _clean(name, params.get(name), errors) for name in ("title", "director", "actor", "q", "genre")}
    genres = [g.strip() for g in (text["genre"] or "").split(",") if g.strip()]
    if text["genre"] is not None and not genres:
        errors.append(InvalidParameter("genre", "query", "must name at least one genre"))
    year_from, year_to = params.get("year_from"), params.get("year_to")
    if year_from is not None and year_to is not None and year_from > year_to:
        errors.append(InvalidParameter("year_to", "query", "must not be before year_from"))
    if errors:
        raise RequestValidationError("Some search parameters are invalid.", errors)
    if all(params.get(name) is None for name in SEARCH_FILTERS):
        raise RequestValidationError(
            "Give at least one filter: " + ", ".join(SEARCH_FILTERS) + ".",
            [InvalidParameter("query", "query", "no search filter given")],
        )
    if sort == "relevance" and text["title"] is None and text["q"] is None:
        sort = "popularity.desc"
    filters = MovieFilters(
        title=text["title"],
        genres=genres,
        year=params.get("year"),
        year_from=year_from,
        year_to=year_to,
        director=text["director"],
        actor=text["actor"],
        text=text["q"],
        media_type=media_type,
    )
    result = movies.search_movies(conn, filters=filters, sort=sort, limit=per_page, offset=(page - 1) * per_page)
    return envelope(result, page_number=page, per_page=per_page)


def suggest(conn: Connection, *, q: str, limit: int) -> list[dict[str, Any]]:
    errors: list[InvalidParameter] = []
    text = _clean("q", q, errors)
    if text is None:
        raise RequestValidationError("q is invalid.", errors)
    return movies.suggest_titles(conn, prefix=text, limit=limit)


def genres(conn: Connection) -> list[dict[str, Any]]:
    return movies.genre_counts(conn)


def similar(conn: Connection, *, movie_id: int, page: int, per_page: int) -> ListBody:
    result = movies.similar_movies(conn, movie_id=movie_id, limit=per_page, offset=(page - 1) * per_page)
    if not result.results and not movies.movie_exists(conn, movie_id=movie_id):
        raise NotFoundError(f"No movie has id {movie_id}.")
    return envelope(result, page_number=page, per_page=per_page)


def usage(conn: Connection, raw_key: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The caller's quota state and its rate-limit headers; reading it does not count against the quota."""
    standing, windows = access.key_usage(conn, raw_key)
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
