"""What a list's links may carry (no database): the genres a search reads are bounded before any is normalised, and
the largest `Link` header a search can get stays a few KB."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from starlette.requests import Request

from movie_api import services
from movie_api.paging import ListBody, encode_cursor, link_query
from movie_api.responses import json_list
from movie_common.errors import InvalidParameter


def test_genres_stop_being_read_at_the_first_past_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    read: list[str] = []

    def counting(value: str) -> str:
        read.append(value)
        return value.strip()

    monkeypatch.setattr(services, "normalise_text", counting)
    errors: list[InvalidParameter] = []
    assert services._genres(["Drama," * 3000], errors) == []
    assert len(read) == services.MAX_GENRES + 1
    assert [(e.name, e.reason) for e in errors] == [("genre", "at most 10 genres, each repeat counted")]


def test_genres_are_read_once_each_in_the_order_first_sent() -> None:
    errors: list[InvalidParameter] = []
    assert services._genres(["Drama", " Comedy ,Drama,", "", "Dr\u200bama,comedy"], errors) == [
        "Drama",
        "Comedy",
        "comedy",  # another text (matched as the same genre by the database): kept, and counted
    ]
    assert errors == []


def test_link_query_orders_filters_per_page_sort_and_type() -> None:
    assert link_query(filters=[("title", "a b"), ("year", "1999")], per_page=5, sort="year.desc", media_type="tv") == (
        ("title", "a b"),
        ("year", "1999"),
        ("per_page", "5"),
        ("sort", "year.desc"),
        ("type", "tv"),
    )
    assert link_query(per_page=20) == (("per_page", "20"),)


def _request(path: str) -> Request:
    host = b"1234567890.execute-api.us-east-1.amazonaws.com"
    scope: dict[str, Any] = {
        "type": "http",
        "method": "GET",
        "scheme": "https",
        "server": (host.decode(), 443),
        "path": path,
        "root_path": "",
        "query_string": b"utm=" + b"x" * 6000,
        "headers": [(b"host", host)],
        "aws.event": {"path": path, "requestContext": {"path": "/prod" + path}},
    }
    return Request(scope)


def test_the_largest_link_header_of_a_search_is_a_few_kb() -> None:
    # A query at the bound, of 4-byte characters (each 12 bytes percent-encoded), on a numbered page with all four
    # links, whose `next` cursor holds a 500-character title of 3-byte characters (the longest a movie may have).
    title = "\U0001f600" * ((services.MAX_LINK_QUERY - len("title=&per_page=100&sort=title.asc")) // 12)
    query = link_query(filters=[("title", title)], per_page=100, sort="title.asc")
    assert len(urlencode(query, safe=",")) <= services.MAX_LINK_QUERY
    cursor = encode_cursor(digest="0" * 16, ordering="title.asc", key=["\u6f22" * 500, 2**62], skipped=10_000)
    body = ListBody("{}", query, page=100, total_pages=500, next_page=None, next_cursor=cursor, by_cursor=False)
    link = json_list(_request("/search"), body).headers["link"]
    assert link.count("rel=") == 4 and "utm" not in link
    assert link.startswith("<https://1234567890.execute-api.us-east-1.amazonaws.com/prod/search?title=%F0%9F%98%80")
    assert len(link) < 7000, len(link)
