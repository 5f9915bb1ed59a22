"""HTTP routes for movies: list, one movie (with ETag), and similar movies."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Header, Request, Response

from movie_api import services
from movie_api.params import (
    Cursor,
    FilmType,
    ListSort,
    MediaType,
    MovieId,
    PageNumber,
    PerPage,
    RankedPageNumber,
)
from movie_api.responses import NOT_FOUND, json_list
from movie_api.schemas import Movie, MovieList
from movie_common.database import get_connection
from movie_common.errors import PreconditionFailedError
from movie_web.key_auth import KEYED_RESPONSES, admitted_key
from movie_web.problems import problem
from movie_web.query import filters_of, misspelt_parameters, single_valued_parameters
from movie_web.schemas import problem_response

router = APIRouter(tags=["movies"], dependencies=[Depends(admitted_key)], responses=KEYED_RESPONSES)
# Only the routes with query parameters check them for repeats and misspellings: GET /movies/{id} is the hot path
# and takes none.
# A /search filter sent to a list is a 422 pointing at /search: `/movies?year=1999` listed the whole catalogue.
LIST_DEPENDENCIES = [
    Depends(single_valued_parameters),
    Depends(misspelt_parameters),
    Depends(filters_of("/search", services.SEARCH_FILTERS)),
]

CACHE_CONTROL = "private, max-age=300"


@router.get("/movies", response_model=MovieList, summary="List movies", dependencies=LIST_DEPENDENCIES)
async def list_movies(
    request: Request,
    page: PageNumber = None,
    per_page: PerPage = 20,
    sort: ListSort = "popularity.desc",
    media_type: MediaType = None,
    cursor: Cursor = None,
) -> Response:
    """The catalogue, a page at a time, in TMDB's list envelope; a `Link` header points to the other pages.

    Page numbers reach page 500; `next_cursor` (and the `next` link past page 500) walks the whole catalogue."""
    paging = services.PageRequest(per_page=per_page, page=page, cursor=cursor)
    body = services.list_movies(get_connection(), paging=paging, sort=sort, media_type=media_type)
    return json_list(request, body)


def _ranked_route(list_name: str, path: str, summary: str, description: str) -> None:
    async def ranked(
        request: Request,
        page: RankedPageNumber = None,
        per_page: PerPage = 20,
        media_type: MediaType = None,
    ) -> Response:
        body = services.ranked_list(
            get_connection(), list_name=list_name, page=page, per_page=per_page, media_type=media_type
        )
        return json_list(request, body)

    async def films(
        request: Request,
        page: RankedPageNumber = None,
        per_page: PerPage = 20,
        media_type: FilmType = None,
    ) -> Response:
        body = services.ranked_list(
            get_connection(), list_name=list_name, page=page, per_page=per_page, media_type=media_type
        )
        return json_list(request, body)

    # Upcoming and now playing are TMDB lists of films: their `type` documents `movie` alone.
    endpoint = ranked if "tv" in services.RANKED_LISTS[list_name] else films
    endpoint.__name__ = f"{list_name}_movies"
    endpoint.__doc__ = description
    router.add_api_route(
        path, endpoint, methods=["GET"], response_model=MovieList, summary=summary, dependencies=LIST_DEPENDENCIES
    )


# Declared before /movies/{id}, which would otherwise take "trending" for an id.
_SYNC_NOTE = (
    " Ranked by TMDB and refreshed by the daily TMDB sync; an empty list before the first sync. Titles carry TMDB's"
    " attribution."
)
_ranked_route("trending", "/movies/trending", "Trending today", "TMDB's trending titles of the day." + _SYNC_NOTE)
_ranked_route("popular", "/movies/popular", "Popular", "TMDB's most popular titles." + _SYNC_NOTE)
_ranked_route(
    "upcoming", "/movies/upcoming", "Upcoming films", "Films about to open in cinemas (films only)." + _SYNC_NOTE
)
_ranked_route("now_playing", "/movies/now_playing", "Now playing", "Films in cinemas now (films only)." + _SYNC_NOTE)


@router.get(
    "/movies/{id}",
    response_model=Movie,
    summary="Get one movie",
    responses={
        **NOT_FOUND,
        304: {"description": "Not modified: the `If-None-Match` ETag still matches. Free: not counted."},
        412: problem_response(
            "The movie is no longer the version `If-Match` names (`precondition_failed`); its `ETag` is the current"
            " one."
        ),
    },
)
async def get_movie(
    request: Request,
    id: MovieId,
    # Conditional headers stay out of the document's parameters: any value of a declared header is "schema-valid",
    # yet a stale If-Match is rightly a 412 (the 304 and 412 answers and the operation's description say how).
    if_none_match: str | None = Header(default=None, include_in_schema=False),
    if_match: str | None = Header(default=None, include_in_schema=False),
) -> Response:
    """One movie by its Marquee id. Responses carry an `ETag`; send it back in `If-None-Match` to get a 304, which
    does not count against your quota. With `If-Match`, a 412 when the movie is no longer that version (RFC 9110:
    evaluated before `If-None-Match`)."""
    doc, etag = services.get_movie(get_connection(), id)
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if services.if_match_fails(if_match, etag):
        # The current ETag goes with the refusal (not Cache-Control: a refusal is not the movie to keep).
        return problem(
            request,
            status=PreconditionFailedError.status,
            code=PreconditionFailedError.code,
            title=PreconditionFailedError.title,
            detail=f"Movie {id} is no longer the version If-Match names ({(if_match or '').strip()[:80]}); its ETag"
            f" is now {etag}. Read it again.",
            headers={"ETag": etag},
        )
    if services.etag_matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    return Response(doc, media_type="application/json", headers=headers)


@router.get(
    "/movies/{id}/similar",
    response_model=MovieList,
    summary="Similar movies",
    responses=NOT_FOUND,
    dependencies=LIST_DEPENDENCIES,
)
async def similar_movies(
    request: Request,
    id: MovieId,
    page: PageNumber = None,
    per_page: PerPage = 20,
    cursor: Cursor = None,
) -> Response:
    """Content-based recommendations: movies that share genres, cast or director and come from a close era."""
    paging = services.PageRequest(per_page=per_page, page=page, cursor=cursor)
    body = services.similar(get_connection(), movie_id=id, paging=paging)
    return json_list(request, body)
