"""Every integer a route reads from its path or query string, in every HTTP function, is read by one rule
(movie_web.params.PLAIN_INTEGER): plain decimal digits, so `/movies/01`, `/movies/+1`, `/movies/1.0` and
`/movies/1_0` (which was served as movie 10) are refused with a 422 naming the parameter, never served as a
second URL of a resource or as another number. The routes are enumerated from the apps the handlers serve."""

from __future__ import annotations

import types
from typing import Any, Union, get_args, get_origin

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from movie_web.params import PLAIN_INTEGER


def _apps() -> dict[str, FastAPI]:
    from movie_admin.handler import app as admin
    from movie_api.handler import app as api
    from movie_auth.handler import app as auth

    return {"api": api, "admin": admin, "auth": auth}


def _is_integer(annotation: Any) -> bool:
    if annotation is int:
        return True
    if get_origin(annotation) in (Union, types.UnionType):
        return any(_is_integer(arg) for arg in get_args(annotation))
    return False


def _routes(routes: list[Any]) -> list[APIRoute]:
    """Every APIRoute, including those of included routers (FastAPI keeps those as the router it was given)."""
    found = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):
            found.extend(_routes(route.original_router.routes))
    return found


def _integer_parameters() -> list[tuple[str, str, str, Any]]:
    found = []
    for name, app in _apps().items():
        for route in _routes(app.routes):
            stack = [route.dependant]
            while stack:
                dependant = stack.pop()
                stack.extend(dependant.dependencies)
                for field in [*dependant.path_params, *dependant.query_params]:
                    if _is_integer(field.field_info.annotation):
                        found.append((name, route.path, field.alias, field.field_info.metadata))
    return found


def test_every_integer_path_and_query_parameter_is_read_as_plain_decimal_digits() -> None:
    parameters = _integer_parameters()
    assert len(parameters) >= 20  # ids, pages, years, statuses... in three functions: the enumeration finds them
    assert {name for name, *_ in parameters} == {"api", "admin", "auth"}
    loose = [(name, path, alias) for name, path, alias, metadata in parameters if PLAIN_INTEGER not in metadata]
    assert loose == []


@pytest.mark.parametrize(
    ("spelling", "accepted"),
    [
        ("1", True),
        ("42", True),
        ("0", True),
        ("-3", True),
        ("01", False),
        ("+1", False),
        (" 1", False),
        ("1 ", False),
        ("1.0", False),
        ("1_0", False),
        ("1e3", False),
        ("0x10", False),
        ("\u0661", False),  # ARABIC-INDIC DIGIT ONE: int() reads it as 1
        ("", False),
    ],
)
def test_the_rule_itself(spelling: str, accepted: bool) -> None:
    from typing import Annotated

    from pydantic import TypeAdapter, ValidationError

    adapter = TypeAdapter(Annotated[int, PLAIN_INTEGER])
    if accepted:
        assert adapter.validate_python(spelling) == int(spelling)
    else:
        with pytest.raises(ValidationError, match="plain decimal digits"):
            adapter.validate_python(spelling)
