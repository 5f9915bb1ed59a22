"""Query parameters as clients send them: a single-valued parameter sent twice is a 422 that names it (never its
last value silently), and the parameters a route does not know can be named back to the client."""

from __future__ import annotations

import types
from collections.abc import Awaitable, Callable, Collection, Iterator
from typing import Annotated, Any, Union, get_args, get_origin

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from movie_common.errors import InvalidParameter, RequestValidationError

_SEQUENCES = (list, tuple, set, frozenset)


def _is_list(annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin in _SEQUENCES:
        return True
    if origin is Annotated:
        return _is_list(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return any(_is_list(arg) for arg in get_args(annotation))
    return False


def _query_fields(dependant: Dependant) -> Iterator[tuple[str, bool]]:
    for field in dependant.query_params:
        yield field.alias, _is_list(field.field_info.annotation)
    for dependency in dependant.dependencies:
        yield from _query_fields(dependency)


def declared_query_names(request: Request) -> set[str]:
    """The query parameters the matched route declares (its own and its dependencies')."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return set()
    return {name for name, _ in _query_fields(route.dependant)}


def unrecognised_query_names(request: Request) -> list[str]:
    """The query parameters of the request that the matched route does not declare, in the order sent."""
    declared = declared_query_names(request)
    return [name for name in dict.fromkeys(request.query_params.keys()) if name not in declared]


async def single_valued_parameters(request: Request) -> None:
    """Refuse a repeated single-valued query parameter (`?year=1999&year=2000`) with a 422 naming it; list-valued
    parameters (declared as lists) take every value."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    repeated = [
        name
        for name, is_list in dict.fromkeys(_query_fields(route.dependant))
        if not is_list and len(request.query_params.getlist(name)) > 1
    ]
    if repeated:
        raise RequestValidationError(
            "Parameters sent more than once: " + ", ".join(repeated) + ". Each takes one value.",
            [InvalidParameter(name, "query", "sent more than once; it takes one value") for name in repeated],
        )


# What other movie APIs and common REST habits call a parameter the public API reads under another name (TMDB v3's
# discover and search, OMDb's one-letter names, limit/offset paging). Such a name, or a declared name in another
# case or separator style (`Page`, `perPage`, `per-page`, `genre[]`, `genres`), is a 422 pointing at the name the
# route reads: ignoring it would answer another question than the one asked (`sort_by=vote_average.desc` got the
# default popularity order, `Page=2` the first page). A name that resembles nothing the route reads is ignored, as
# TMDB and OMDb ignore theirs (`language=en-US`, `include_adult=false`, a cache buster `_=…`).
PARAMETER_ALIASES: dict[str, tuple[str, ...]] = {
    "sortby": ("sort",),
    "orderby": ("sort",),
    "order": ("sort",),
    "query": ("title", "q"),
    "search": ("q", "title"),
    "s": ("title",),
    "t": ("title",),
    "y": ("year",),
    "primaryreleaseyear": ("year",),
    "firstairdateyear": ("year",),
    "releaseyear": ("year",),
    "primaryreleasedategte": ("year_from",),
    "primaryreleasedatelte": ("year_to",),
    "releasedategte": ("year_from",),
    "releasedatelte": ("year_to",),
    "firstairdategte": ("year_from",),
    "firstairdatelte": ("year_to",),
    "withgenres": ("genre",),
    "withcast": ("actor",),
    "withcrew": ("director",),
    "withpeople": ("actor", "director"),
    "limit": ("per_page",),
    "pagesize": ("per_page",),
    "size": ("per_page",),
    "offset": ("page", "cursor"),
    "mediatype": ("type",),
}
MAX_MISSPELT_NAMED = 10  # names a 422 lists; it says how many more there were
_NAME_ECHO = 100  # characters of a name echoed back (a name may be as long as the URL allows)


def _folded(name: str) -> str:
    """A parameter name without case, separators or a PHP-style `[]`: `Per-Page[]` and `per_page` are `perpage`."""
    return "".join(c for c in name.removesuffix("[]").casefold() if c.isalnum())


def meant_parameters(name: str, declared: set[str]) -> tuple[str, ...]:
    """The declared parameters a query parameter the route does not read was most likely meant as: its name in
    another case or separator style (or the plural of one), or a name another API gives it (PARAMETER_ALIASES);
    () when it resembles none of them."""
    folded = _folded(name)
    by_spelling = tuple(sorted(d for d in declared if _folded(d) in (folded, folded.removesuffix("s"))))
    if by_spelling:
        return by_spelling
    return tuple(d for d in PARAMETER_ALIASES.get(folded, ()) if d in declared)


def _refuse_resembling(
    request: Request,
    candidates: set[str] | None,
    heading: str,
    hint: Callable[[str, str], str],
    reason: Callable[[str], str],
) -> None:
    """Raise RequestValidationError naming (at most MAX_MISSPELT_NAMED of) the query parameters the matched route
    does not read that resemble one of `candidates` (the route's own when None): the detail is `heading` and each
    `hint(name, meant)`, each error's reason `reason(meant)` (`meant`: the parameters joined with "or")."""
    declared = declared_query_names(request)
    found = [
        (name[:_NAME_ECHO], " or ".join(meant))
        for name in dict.fromkeys(request.query_params.keys())
        if name not in declared and (meant := meant_parameters(name, declared if candidates is None else candidates))
    ]
    if not found:
        return
    shown = found[:MAX_MISSPELT_NAMED]
    more = len(found) - len(shown)
    raise RequestValidationError(
        heading + "; ".join(hint(name, meant) for name, meant in shown) + (f"; and {more} more." if more else "."),
        [InvalidParameter(name, "query", reason(meant)) for name, meant in shown],
    )


async def misspelt_parameters(request: Request) -> None:
    """Refuse, with a 422 naming each and the parameter it was likely meant as, query parameters the matched route
    does not read but resembles one it does (meant_parameters). Raises RequestValidationError."""
    _refuse_resembling(
        request,
        None,
        "Parameters this route does not read, spelt like ones it does: ",
        lambda name, meant: f"{name} (did you mean {meant}?)",
        lambda meant: f"not a parameter of this route; did you mean {meant}?",
    )


def filters_of(where: str, names: Collection[str]) -> Callable[[Request], Awaitable[None]]:
    """A dependency refusing, with a 422 naming each, query parameters the matched route does not read that are (or
    are spelt like, meant_parameters) the filters `names` of the route `where`: `/movies?year=1999` listed the
    whole catalogue, as if filtered. Raises RequestValidationError."""
    filters = set(names)

    async def refuse_filters_of_another_route(request: Request) -> None:
        _refuse_resembling(
            request,
            filters,
            f"Filters this route does not take; they are {where}'s: ",
            lambda name, meant: f"{name} ({where}?{meant}=\u2026)",
            lambda meant: f"not a parameter of this route; {where} filters by {meant}",
        )

    return refuse_filters_of_another_route
