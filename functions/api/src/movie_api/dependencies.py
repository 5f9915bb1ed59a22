"""FastAPI dependencies shared by the keyed routes: the key check that admits, counts and logs the request."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Path, Query, Request
from starlette.routing import Route

from movie_common import access
from movie_common.access import Grant
from movie_common.database import get_connection

MAX_PAGE = 500

PageNumber = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"1-based page number (at most {MAX_PAGE}).")]
PerPage = Annotated[int, Query(ge=1, le=100, description="Results per page, 1-100.")]
MediaType = Annotated[Literal["movie", "tv"] | None, Query(alias="type", description="Only movies or only TV.")]
MovieId = Annotated[int, Path(ge=1, le=2**63 - 1, description="Marquee movie id.")]
ListSort = Literal[
    "popularity.desc",
    "popularity.asc",
    "year.desc",
    "year.asc",
    "title.asc",
    "title.desc",
    "rating.desc",
    "rating.asc",
    "id.asc",
]
SearchSort = Literal[
    "relevance",
    "popularity.desc",
    "popularity.asc",
    "year.desc",
    "year.asc",
    "title.asc",
    "title.desc",
    "rating.desc",
    "rating.asc",
    "id.asc",
]


async def admitted_key(request: Request) -> Grant:
    """Admit, count and log this request against the caller's key (one database round trip)."""
    route = request.scope.get("route")
    endpoint = route.path if isinstance(route, Route) else request.url.path
    grant = access.admit(get_connection(), access.read_key(request.headers), endpoint=endpoint)
    request.state.grant = grant
    return grant
