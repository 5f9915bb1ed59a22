"""Query and path parameter types shared by the public API's routes (what OpenAPI documents for each)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Path, Query
from pydantic import WithJsonSchema

from movie_api.paging import MAX_PAGE
from movie_web.params import PLAIN_INTEGER

PageNumber = Annotated[
    int | None,
    Query(
        ge=1,
        le=MAX_PAGE,
        description=f"1-based page number (at most {MAX_PAGE}; past it, follow `next_cursor`). Default 1. Not with"
        " cursor (both: a 422).",
    ),
    PLAIN_INTEGER,
]
# TMDB's ranked lists are its first pages: numbered pages only (their `next_cursor` is always null).
RankedPageNumber = Annotated[
    int | None,
    Query(ge=1, le=MAX_PAGE, description=f"1-based page number (at most {MAX_PAGE}). Default 1."),
    PLAIN_INTEGER,
]
Cursor = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=1000,
        description="`next_cursor` of the previous page (with the same filters, sort and type): the next page at"
        " the same cost at any depth. Any other value is a 422. Not with page (both: a 422).",
    ),
]
PerPage = Annotated[int, Query(ge=1, le=100, description="Results per page, 1-100."), PLAIN_INTEGER]
MediaType = Annotated[Literal["movie", "tv"] | None, Query(alias="type", description="Only movies or only TV.")]
# The lists TMDB keeps for films only (upcoming, now playing): `movie` is the one value they take. Any other is read
# by the service, so that `type=tv` gets the 422 that says why, and the document declares only what is accepted.
FilmType = Annotated[
    str | None,
    Query(alias="type", description="Only `movie`: a list of films (`type=tv` is a 422 saying TMDB has no TV list)."),
    WithJsonSchema({"type": "string", "enum": ["movie"]}),
]
MovieId = Annotated[int, Path(ge=1, le=2**63 - 1, description="Marquee movie id."), PLAIN_INTEGER]
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
