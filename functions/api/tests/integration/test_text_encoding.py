"""Search texts percent-encoded in another charset than UTF-8, through the API function's real Lambda entry point.
`?title=am%E9lie` is amélie in Latin-1 (old forms and scripts still send it); decoded as UTF-8, as API Gateway and
the local gateway decode a query string, the lone byte becomes U+FFFD. The search used to look for what was left
(`q=am%E9lie` found True Lies and The Tower of Lies, `title=am%E9lie` Tillie and Gus): equivalent inputs answered
differently, in silence. Now a 422 names the parameter and says how to encode it. Found by the twenty-first
tester."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

Event = Callable[..., dict[str, Any]]
Invoke = Callable[[dict[str, Any]], dict[str, Any]]


@pytest.fixture
def key(make_key: Callable[..., str]) -> str:
    return make_key("unlimited")


@pytest.mark.parametrize(
    ("route", "latin1", "utf8", "name"),
    [
        ("search", "title=am%E9lie", "title=am%C3%A9lie", "title"),
        ("search", "q=am%E9lie", "q=am%C3%A9lie", "q"),
        ("search", "director=Fran%E7ois", "director=Fran%C3%A7ois", "director"),
        ("search", "actor=Pen%E9lope+Cruz", "actor=Pen%C3%A9lope+Cruz", "actor"),
        ("search", "genre=Drama&genre=Com%E9die", "genre=Drama&genre=Com%C3%A9die", "genre"),
        ("search", "genre=Drama,Com%E9die", "genre=Drama,Com%C3%A9die", "genre"),
        ("search", "title=%FF%FE", "title=%C3%BF%C3%BE", "title"),  # a UTF-16 byte order mark
        ("suggest", "q=caf%E9", "q=caf%C3%A9", "q"),
    ],
)
def test_a_text_not_encoded_as_utf8_is_a_422_naming_it_not_another_search(
    load_event: Event, invoke: Invoke, key: str, route: str, latin1: str, utf8: str, name: str
) -> None:
    assert invoke(load_event("api", route, key=key, query=utf8))["statusCode"] == 200
    response = invoke(load_event("api", route, key=key, query=latin1))
    assert response["statusCode"] == 422, response["json"]
    assert response["json"]["code"] == "validation_error"
    [error] = response["json"]["errors"]
    assert (error["name"], error["in"]) == (name, "query")
    assert "UTF-8" in error["reason"] and "%C3%A9" in error["reason"]
