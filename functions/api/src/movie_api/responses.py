"""Response helpers of the public API's routes: the list envelope with its RFC 8288 Link header."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response

from movie_api.paging import ListBody, encode_query
from movie_web.paths import base_path
from movie_web.schemas import problem_response

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: problem_response("No such movie (`not_found`).")}


def json_list(request: Request, body: ListBody) -> Response:
    return Response(body.body, media_type="application/json", headers=_link_header(request, body))


def _link_header(request: Request, body: ListBody) -> dict[str, str]:
    """RFC 8288 links: `first`, `prev` and `last` by page number, all within the page numbers the API answers
    (total_pages); `next` carries the cursor whenever the page has a `next_cursor` (a keyset position: following it
    never repeats or skips a row while the catalogue changes), and a page number only on the lists that have no
    cursor (TMDB's ranked lists).

    Each link is this route's URL (stage prefix included) with the list's canonical query (`body.query`: what the
    route recognised, as parsed) and then `page` or `cursor`; nothing of the request's own query string is copied,
    so unknown parameters, repeats and spellings never reach the header, and its size is bounded by the limits of
    the route's parameters (movie_api.services.MAX_LINK_QUERY for a search), not by what the client sent. Shape:
    {"Link": '<https://host/search?title=alien&per_page=20&page=1>; rel="first", …'}, or {} with no link."""
    base = str(request.url.replace(path=base_path(request) + request.url.path, query="", fragment=""))

    def target(**paging: str | int) -> str:
        return base + "?" + encode_query([*body.query, *paging.items()])

    links: list[tuple[str, str]] = []
    if body.total_pages:
        links.append(("first", target(page=1)))
        if body.page is not None and body.page > 1 and not body.by_cursor:
            links.append(("prev", target(page=min(body.page - 1, body.total_pages))))
    if body.next_cursor is not None:
        links.append(("next", target(cursor=body.next_cursor)))
    elif body.next_page is not None:
        links.append(("next", target(page=body.next_page)))
    if body.total_pages:
        links.append(("last", target(page=body.total_pages)))
    if not links:
        return {}
    return {"Link": ", ".join(f'<{url}>; rel="{rel}"' for rel, url in links)}
