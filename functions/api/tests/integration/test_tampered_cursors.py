"""Cursors a client edited, through the API function's real Lambda entry point. A cursor is plain base64 JSON
(version, query digest, ordering, sort key, rows skipped), so anyone can decode one, change its key or its
ordering and send it back with the same query. Whatever they put there is a 422 naming `cursor`, never a 500:
values outside what the key's SQL type holds (PostgreSQL refused the CAST: integer out of range, real overflow or
underflow), text that is no UTF-8 (a lone surrogate, refused by the driver), and an ordering the route does not
read in (its key was compared with the columns of another sort). Found by the twenty-first tester."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest

Event = Callable[..., dict[str, Any]]
Invoke = Callable[[dict[str, Any]], dict[str, Any]]


@pytest.fixture
def key(make_key: Callable[..., str]) -> str:
    return make_key("unlimited")


def _decode(cursor: str) -> list[Any]:
    decoded: list[Any] = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    return decoded


def _encode(parts: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(parts).encode()).decode().rstrip("=")


def _godfather(conn: Any) -> dict[str, str]:
    movie = conn.execute("SELECT id FROM movies WHERE title = 'The Godfather' AND year = 1972").fetchone()
    return {"id": str(movie["id"])}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("route", "pairs", "ordering", "sort_key"),
    [
        # year keys are integer (int4): PostgreSQL's "integer out of range"
        ("list_movies", [("sort", "year.desc")], "year.desc", [2**40, 1]),
        ("list_movies", [("sort", "year.asc")], "year.asc", [-(2**40), 1]),
        # popularity is real (float4): overflow, underflow, an integer too large for it
        ("list_movies", [], "popularity.desc", [1e39, 1]),
        ("list_movies", [], "popularity.desc", [1e-300, 1]),
        ("list_movies", [("sort", "popularity.asc")], "popularity.asc", [10**200, 1]),
        # a lone surrogate: JSON can say "\ud800", UTF-8 cannot
        ("list_movies", [("sort", "title.asc")], "title.asc", ["\ud800", 1]),
        # relevance keys: a score (float8) and a popularity (real)
        ("search", [("title", "love")], "relevance.ranked", [1.0, 1e300, 1]),
        ("search", [("title", "love")], "relevance.ranked", [1.0, 1e-300, 1]),
        ("search", [("title", "the")], "relevance.broad", [2**40, 0.0, 1]),
        ("similar_movies", [], "relevance.ranked", [1.0, 1e39, 1]),
        # an ordering the request is not read in, with a key of that ordering's shape
        ("list_movies", [("sort", "year.desc")], "title.asc", ["x", 1]),
        ("list_movies", [], "relevance.ranked", [1.0, 0.0, 1]),
        ("search", [("genre", "Drama")], "title.asc", ["x", 1]),
        ("search", [("title", "love")], "popularity.desc", [1.0, 1]),
        ("similar_movies", [], "popularity.desc", [1.0, 1]),
        ("similar_movies", [], "title.asc", ["x", 1]),
    ],
)
def test_a_cursor_edited_by_the_client_is_a_422_naming_it_never_a_500(
    conn: Any,
    load_event: Event,
    invoke: Invoke,
    key: str,
    route: str,
    pairs: list[tuple[str, str]],
    ordering: str,
    sort_key: list[Any],
) -> None:
    path = {"path_params": _godfather(conn)} if route == "similar_movies" else {}
    first = invoke(load_event("api", route, key=key, query=[*pairs, ("per_page", "2")], **path))
    assert first["statusCode"] == 200 and first["json"]["next_cursor"], first["json"]
    version, digest, _ordering, _key, skipped = _decode(first["json"]["next_cursor"])
    edited = _encode([version, digest, ordering, sort_key, skipped])
    response = invoke(load_event("api", route, key=key, query=[*pairs, ("per_page", "2"), ("cursor", edited)], **path))
    assert response["statusCode"] == 422, response["json"]
    assert response["json"]["code"] == "validation_error"
    assert [e["name"] for e in response["json"]["errors"]] == ["cursor"]


@pytest.mark.parametrize(
    ("ordering", "sort_key", "valid"),
    [
        ("year.desc", [2**31 - 1, 1], True),
        ("year.desc", [2**31, 1], False),
        ("year.asc", [-(2**31), 1], True),
        ("year.asc", [-(2**31) - 1, 1], False),
        ("id.asc", [-(2**63)], True),
        ("id.asc", [2**63], False),
        ("popularity.desc", [3.4e38, 1], True),
        ("popularity.desc", [3.5e38, 1], False),
        ("popularity.desc", [1e-40, 1], True),  # a subnormal real: PostgreSQL keeps it
        ("popularity.desc", [1e-46, 1], False),  # rounds to zero: underflow
        ("popularity.desc", [0, 1], True),
        ("popularity.desc", [-0.0, 1], True),
        ("rating.desc", [1e300, 1], True),  # numeric holds it
        ("relevance.ranked", [1e300, 0.5, 1], True),  # float8 holds it
        ("title.asc", ["\udfff", 1], False),
        ("title.asc", ["é", 1], True),
    ],
)
def test_a_cursor_key_is_checked_against_what_its_sql_type_holds(
    conn: Any, ordering: str, sort_key: list[Any], valid: bool
) -> None:
    """The check (movie_search.valid_key) agrees with PostgreSQL at the edges: what it lets through casts."""
    from movie_common.db import movie_search

    assert movie_search.valid_key(ordering, sort_key) is valid
    if valid:
        types = [k.sql_type for k in movie_search.KEYS[ordering]]
        casts = ", ".join(f"CAST(%s AS {t})" for t in types)
        conn.execute(f"SELECT {casts}", sort_key)
