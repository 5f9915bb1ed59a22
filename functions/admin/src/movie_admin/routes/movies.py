"""Admin routes for the catalogue: list, search, sort, create, edit and delete movies (the CSV ingest's rules)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response

from movie_admin.routes.deps import (
    ADMIN_DEPENDENCIES,
    ADMIN_RESPONSES,
    STALE,
    ActingAdmin,
    IfMatch,
    PageNumber,
    PerPage,
    Search,
)
from movie_admin.schemas import BlockedTitleOut, MovieBody, MovieOut, PageOut
from movie_admin.services import movies
from movie_common.database import get_connection
from movie_common.db.movies import AdminMovie, AdminMovieFilters
from movie_web.params import PLAIN_INTEGER

router = APIRouter(prefix="/admin/movies", tags=["movies"], dependencies=ADMIN_DEPENDENCIES, responses=ADMIN_RESPONSES)
MovieId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The movie's id."), PLAIN_INTEGER]
MovieSort = Literal[
    "title.asc",
    "title.desc",
    "year.desc",
    "year.asc",
    "updated.desc",
    "updated.asc",
    "popularity.desc",
    "id.desc",
    "id.asc",
]


@router.get("", response_model=PageOut[MovieOut], summary="List movies")
async def list_movies(
    q: Search = None,
    year: Annotated[int | None, Query(ge=1870, le=2100), PLAIN_INTEGER] = None,
    media_type: Annotated[Literal["movie", "tv"] | None, Query(alias="type")] = None,
    source: Annotated[Literal["csv", "tmdb", "admin"] | None, Query()] = None,
    genre: Annotated[str | None, Query(max_length=100)] = None,
    sort: MovieSort = "updated.desc",
    page: PageNumber = 1,
    per_page: PerPage = 20,
) -> PageOut[MovieOut]:
    """Movies with every column; `q` is a substring of the title (accents and case ignored)."""
    found = movies.list_movies(
        get_connection(),
        filters=AdminMovieFilters(search=q, year=year, media_type=media_type, source=source, genre=genre),
        sort=sort,
        page=page,
        per_page=per_page,
    )
    return PageOut[MovieOut](
        page=found.page,
        per_page=found.per_page,
        results=[MovieOut.model_validate(m) for m in found.results],
        total_results=found.total_results,
        total_pages=found.total_pages,
    )


@router.post("", response_model=MovieOut, status_code=201, summary="Add a movie")
async def create_movie(body: MovieBody, actor: ActingAdmin, response: Response) -> MovieOut:
    """Validated by the CSV ingest's row rules (each bad field named in `errors`); a title and year already in
    the catalogue is refused with 409 `duplicate_movie`. The `ETag` names the version created."""
    values = body.model_dump(exclude_unset=True)
    return _tagged(response, movies.create_movie(get_connection(), actor, values=values))


@router.get("/blocked", response_model=PageOut[BlockedTitleOut], summary="TMDB titles deleted by admins")
async def list_blocked(page: PageNumber = 1, per_page: PerPage = 20) -> PageOut[BlockedTitleOut]:
    """Deleting a movie that has a TMDB id blocks it from the TMDB sync, so that a TMDB list still showing it does
    not bring it back; these are the blocked titles, the latest deletion first."""
    found = movies.list_blocked_titles(get_connection(), page=page, per_page=per_page)
    return PageOut[BlockedTitleOut](
        page=found.page,
        per_page=found.per_page,
        results=[BlockedTitleOut.model_validate(b) for b in found.results],
        total_results=found.total_results,
        total_pages=found.total_pages,
    )


@router.delete("/blocked/{media_type}/{tmdb_id}", status_code=204, summary="Let the TMDB sync add a title again")
async def allow_blocked(
    media_type: Annotated[Literal["movie", "tv"], Path(description="movie or tv")],
    tmdb_id: Annotated[int, Path(ge=1, le=2**31 - 1, description="The title's TMDB id."), PLAIN_INTEGER],
    actor: ActingAdmin,
) -> Response:
    """Undo a deletion's block (audited as `tmdb_title.allow`): the next sync adds the title again if a TMDB list
    shows it. 404 `not_found` when it is not blocked."""
    movies.allow_tmdb_title(get_connection(), actor, media_type=media_type, tmdb_id=tmdb_id)
    return Response(status_code=204)


@router.get("/{movie_id}", response_model=MovieOut, summary="One movie")
async def get_movie(movie_id: MovieId, response: Response) -> MovieOut:
    """The movie, with its version as `ETag`: send it back as `If-Match` when editing or deleting it."""
    return _tagged(response, movies.get_movie(get_connection(), movie_id=movie_id))


@router.patch("/{movie_id}", response_model=MovieOut, responses=STALE, summary="Edit a movie")
async def update_movie(
    movie_id: MovieId, body: MovieBody, actor: ActingAdmin, response: Response, if_match: IfMatch = None
) -> MovieOut:
    """Change the fields given; the whole movie is validated again. With `If-Match`, only if nobody changed the
    movie since it was read (else 412 `precondition_failed`, nothing written)."""
    changes = body.model_dump(exclude_unset=True)
    updated = movies.update_movie(get_connection(), actor, movie_id=movie_id, changes=changes, if_match=if_match)
    return _tagged(response, updated)


@router.delete("/{movie_id}", status_code=204, responses=STALE, summary="Delete a movie")
async def delete_movie(movie_id: MovieId, actor: ActingAdmin, if_match: IfMatch = None) -> Response:
    """With `If-Match`, only if nobody changed the movie since it was read (else 412 `precondition_failed`)."""
    movies.delete_movie(get_connection(), actor, movie_id=movie_id, if_match=if_match)
    return Response(status_code=204)


def _tagged(response: Response, movie: AdminMovie) -> MovieOut:
    response.headers["ETag"] = movies.version_tag(movie)
    return MovieOut.model_validate(movie)
