"""HTTP routes about the API itself: genres, the caller's usage and health (the docs come from movie_web.docs)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from movie_api import services
from movie_api.schemas import GenreList, Health, Usage
from movie_common.database import get_connection
from movie_web.key_auth import KEYED_RESPONSES, admitted_key, request_key
from movie_web.schemas import COMMON_RESPONSES

router = APIRouter()
# These routes take no parameters and ignore any sent, so no request of theirs can be a 422: their documented answers
# leave it out, so that a client generated from /openapi.json has no error case that never happens.
KEYED_NO_PARAMETERS = {status: answer for status, answer in KEYED_RESPONSES.items() if status != 422}
NO_PARAMETERS = {status: answer for status, answer in COMMON_RESPONSES.items() if status != 422}


@router.get(
    "/genres",
    response_model=GenreList,
    tags=["movies"],
    summary="Genres with counts",
    dependencies=[Depends(admitted_key)],
    responses=KEYED_NO_PARAMETERS,
)
async def genres() -> Response:
    """Every genre in the catalogue with how many movies carry it, most common first."""
    return Response(
        GenreList.model_validate({"genres": services.genres(get_connection())}).model_dump_json(),
        media_type="application/json",
    )


@router.get("/usage", response_model=Usage, tags=["account"], summary="Your quota", responses=KEYED_NO_PARAMETERS)
async def usage(request: Request, response: Response) -> dict[str, Any]:
    """Your key's plan, limits and what is left in each window. Free: it does not count against your quota; it
    answers up to 60 requests per minute per key (then 429 `rate_limited`)."""
    body, headers = services.usage(get_connection(), request_key(request))
    response.headers.update(headers)
    return body


@router.get(
    "/health",
    response_model=Health,
    tags=["meta"],
    summary="Liveness",
    responses=NO_PARAMETERS,
)
async def health() -> Response:
    """Whether the API is up and reaches its database. Needs no key."""
    # Load balancers and uptime checks call this often: its three fields are written directly (Health documents
    # them), not validated through the response model on every probe.
    return Response(json.dumps(services.health(get_connection()), separators=(",", ":")), media_type="application/json")
