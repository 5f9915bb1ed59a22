"""Query parameters as clients send them: a single-valued parameter sent twice is a 422 that names it (never its
last value silently), and the parameters a route does not know can be named back to the client."""

from __future__ import annotations

import types
from collections.abc import Iterator
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
