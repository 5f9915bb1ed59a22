"""HTTP routes for search: filtered, ranked search and title autocomplete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from movie_api import services
from movie_api.params import MediaType, PageNumber, PerPage, SearchSort
from movie_api.responses import json_list
from movie_api.schemas import MovieList, SuggestionList
from movie_common.database import get_connection
from movie_web.key_auth import KEYED_RESPONSES, admitted_key

router = APIRouter(tags=["search"], dependencies=[Depends(admitted_key)], responses=KEYED_RESPONSES)

Text = Annotated[str | None, Query(min_length=1, max_length=200)]
Year = Annotated[int | None, Query(ge=1870, le=2100)]


@router.get("/search", response_model=MovieList, summary="Search movies")
async def search(
    request: Request,
    title: Annotated[str | None, Query(min_length=1, max_length=200, description="Typo-tolerant title.")] = None,
    genre: Annotated[
        str | None,
        Query(min_length=1, max_length=200, description="Genres, comma-separated; all must match."),
    ] = None,
    year: Year = None,
    year_from: Year = None,
    year_to: Year = None,
    director: Annotated[
        str | None, Query(min_length=1, max_length=200, description="Part of a director's name.")
    ] = None,
    actor: Annotated[str | None, Query(min_length=1, max_length=200, description="Part of an actor's name.")] = None,
    q: Annotated[
        str | None, Query(min_length=1, max_length=200, description="Free text over title, people and plot.")
    ] = None,
    sort: SearchSort = "relevance",
    page: PageNumber = 1,
    per_page: PerPage = 20,
    media_type: MediaType = None,
) -> Response:
    """Any combination of filters (at least one). `relevance` ranks close title matches first — typos are
    forgiven — then free-text matches; without `title` or `q` it falls back to popularity."""
    params = {
        "title": title,
        "genre": genre,
        "year": year,
        "year_from": year_from,
        "year_to": year_to,
        "director": director,
        "actor": actor,
        "q": q,
    }
    body = services.search(
        get_connection(), params=params, sort=sort, page=page, per_page=per_page, media_type=media_type
    )
    return json_list(request, body)


@router.get("/search/suggest", response_model=SuggestionList, summary="Autocomplete titles")
async def suggest(
    q: Annotated[str, Query(min_length=1, max_length=100, description="The start of a title or of a word in it.")],
) -> Response:
    """Up to 10 `{id, title, year}` for a search box: titles starting with `q` first, then titles with a word
    starting with `q`, popular ones first."""
    results = services.suggest(get_connection(), q=q, limit=10)
    return Response(
        SuggestionList.model_validate({"results": results}).model_dump_json(), media_type="application/json"
    )
