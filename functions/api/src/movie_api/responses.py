"""Response helpers of the public API's routes: the list envelope with its RFC 8288 Link header."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response

from movie_api.services import ListBody
from movie_web.paths import base_path
from movie_web.schemas import problem_response

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: problem_response("No such movie (`not_found`).")}


def json_list(request: Request, body: ListBody) -> Response:
    return Response(body.body, media_type="application/json", headers=_link_header(request, body))


def _link_header(request: Request, body: ListBody) -> dict[str, str]:
    """RFC 8288 links to the first, previous, next and last pages."""
    if body.total_pages == 0:
        return {}
    links = {"first": 1, "last": body.total_pages}
    if body.page > 1:
        links["prev"] = min(body.page - 1, body.total_pages)
    if body.page < body.total_pages:
        links["next"] = body.page + 1
    url = request.url.replace(path=base_path(request) + request.url.path)
    parts = [f'<{url.include_query_params(page=number)}>; rel="{rel}"' for rel, number in links.items()]
    return {"Link": ", ".join(parts)}
