"""HTTP routes for search: filtered, ranked search and title autocomplete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from movie_api import services
from movie_api.params import Cursor, MediaType, PageNumber, PerPage, SearchSort
from movie_api.responses import json_list
from movie_api.schemas import MovieList, SuggestionList
from movie_api.services import MAX_GENRES, MAX_NEGATED_TERMS, MAX_TEXT_TERMS, MAX_TITLE_WORDS
from movie_common.database import get_connection
from movie_web.key_auth import KEYED_RESPONSES, admitted_key
from movie_web.params import PLAIN_INTEGER
from movie_web.query import misspelt_parameters, single_valued_parameters, unrecognised_query_names

router = APIRouter(
    tags=["search"],
    dependencies=[Depends(admitted_key), Depends(single_valued_parameters), Depends(misspelt_parameters)],
    responses=KEYED_RESPONSES,
)

Year = Annotated[int | None, Query(ge=1870, le=2100), PLAIN_INTEGER]
Name = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=100,
        description="A name or the start of one (any word of it), at most 100 characters; punctuation, spacing and"
        " accents do not matter, and middle names may be left out (`samuel jackson`). Empty once spaces and"
        " invisible characters are removed: a 422.",
    ),
]


@router.get("/search", response_model=MovieList, summary="Search movies")
async def search(
    request: Request,
    title: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            description=f"Title words: at most {MAX_TITLE_WORDS} words and 200 characters; typos, punctuation forgiven."
            " Empty once spaces and invisible characters are removed: a 422.",
        ),
    ] = None,
    genre: Annotated[
        list[str] | None,
        Query(
            min_length=1,
            max_length=MAX_GENRES,
            description="Genres, comma-separated or repeated (genre=Drama&genre=Comedy); all must match, in any case"
            " and under the spellings sources use for them (Animated is Animation, sci-fi is Science Fiction)."
            f" At most {MAX_GENRES} genres in all, counted as sent: each genre of a comma-separated value counts, and"
            " so does a repeat (`genre=Drama,Drama` is two, read once); blank ones (`genre=Drama,`) do not. At least"
            " one genre that is not blank (`genre=` or `genre=,` is a 422).",
        ),
    ] = None,
    year: Year = None,
    year_from: Year = None,
    year_to: Year = None,
    director: Name = None,
    actor: Name = None,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            description=f"Free text over title, people and plot, at most 200 characters: at most {MAX_TEXT_TERMS}"
            f" terms, at most {MAX_NEGATED_TERMS} negated (-word), and a word that is not negated in every `or`"
            " alternative (punctuation alone has none: a 422).",
        ),
    ] = None,
    sort: Annotated[
        SearchSort | None,
        Query(
            description="Order of the results. Default: `relevance` with `title` or `q`, else `popularity.desc`"
            " (and `relevance` without `title` or `q` is `popularity.desc`). Ties are broken by id."
        ),
    ] = None,
    page: PageNumber = None,
    per_page: PerPage = 20,
    media_type: MediaType = None,
    cursor: Cursor = None,
) -> Response:
    """Any combination of filters (at least one; none is a 422). `relevance` ranks a title equal to the query first
    (punctuation, spacing, case and sequel numerals aside), then close title matches (typos forgiven), then
    free-text matches; without `title` or `q` it falls back to popularity. Texts are read without invisible
    characters (control and format characters such as U+200B); one left empty by that is a 422."""
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
        get_connection(),
        params=params,
        sort=sort,
        paging=services.PageRequest(per_page=per_page, page=page, cursor=cursor),
        media_type=media_type,
        unrecognised=unrecognised_query_names(request),
    )
    return json_list(request, body)


@router.get("/search/suggest", response_model=SuggestionList, summary="Autocomplete titles")
async def suggest(
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=100,
            description="The start of a title or of a word in it, at most 100 characters. Empty once spaces and"
            " invisible characters are removed (as on /search): a 422.",
        ),
    ],
) -> Response:
    """Up to 10 `{id, title, year}` for a search box: titles whose first significant words start with `q` (an
    equal title first: `godfather` gives The Godfather), then titles with a later word starting with `q`, popular
    ones first."""
    results = services.suggest(get_connection(), q=q, limit=10)
    return Response(
        SuggestionList.model_validate({"results": results}).model_dump_json(), media_type="application/json"
    )
