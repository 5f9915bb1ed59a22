"""Query and path parameter types shared by the public API's routes (what OpenAPI documents for each)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Path, Query

from movie_api.paging import MAX_PAGE
from movie_web.params import PLAIN_INTEGER

PageNumber = Annotated[
    int | None,
    Query(
        ge=1,
        le=MAX_PAGE,
        description=f"1-based page number (at most {MAX_PAGE}; past it, follow `next_cursor`). Default 1.",
    ),
    PLAIN_INTEGER,
]
Cursor = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=1000,
        description="`next_cursor` of the previous page: the next page at the same cost at any depth. Not with page.",
    ),
]
PerPage = Annotated[int, Query(ge=1, le=100, description="Results per page, 1-100."), PLAIN_INTEGER]
MediaType = Annotated[Literal["movie", "tv"] | None, Query(alias="type", description="Only movies or only TV.")]
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
