"""End to end in one process: the sync handler fills the catalogue from the fake TMDB, then the API's real handler
serves TMDB's lists and TV the way a client sees them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from marquee_local.fake_tmdb import FakeTmdb
from movie_sync.services import run_sync
from movie_sync.settings import SyncSettings

Event = Callable[..., dict[str, Any]]
Invoke = Callable[[dict[str, Any]], dict[str, Any]]


def list_event(load_event: Event, path: str, *, key: str, query: dict[str, str] | None = None) -> dict[str, Any]:
    return load_event("api", "trending_movies", key=key, query=query or None, resource=path, path=path)


@pytest.mark.slow
def test_lists_and_tv_after_a_sync(
    conn: Any,
    fake_tmdb: FakeTmdb,
    sync_settings: SyncSettings,
    load_event: Event,
    invoke: Invoke,
    make_key: Callable[..., str],
) -> None:
    # TMDB numbers films and shows separately: a show may share a film's id.
    fake_tmdb.add_tv(550, "Fight Club: The Series", first_air_date="2025-05-05", creators=["Somebody"])
    fake_tmdb.set_list("/tv/popular", [550, 1399, 1396])
    key = make_key("pro")
    assert invoke(list_event(load_event, "/movies/popular", key=key))["json"]["results"] == []
    run = run_sync(conn, settings=sync_settings, triggered_by="cli", now=lambda: datetime(2026, 11, 20, tzinfo=UTC))
    assert run.status == "succeeded"

    popular = invoke(list_event(load_event, "/movies/popular", key=key))["json"]
    assert [m["title"] for m in popular["results"]] == ["The Godfather", "Fight Club", "The Matrix", "Forrest Gump"]
    assert all(m["attribution"]["source"] == "TMDB" for m in popular["results"])

    tv = invoke(list_event(load_event, "/movies/popular", key=key, query={"type": "tv"}))["json"]
    assert [(m["title"], m["tmdb_id"]) for m in tv["results"]] == [
        ("Fight Club: The Series", 550),
        ("Game of Thrones", 1399),
        ("Breaking Bad", 1396),
    ]
    trending = invoke(list_event(load_event, "/movies/trending", key=key, query={"type": "tv"}))["json"]
    assert [m["title"] for m in trending["results"]] == ["Breaking Bad"]
    upcoming = invoke(list_event(load_event, "/movies/upcoming", key=key))["json"]
    assert [m["title"] for m in upcoming["results"]] == ["Project Hail Mary"]

    # Search finds TV with type=tv.
    found = invoke(load_event("api", "search", key=key, query={"title": "breaking bad", "type": "tv"}))["json"]
    assert [m["title"] for m in found["results"]] == ["Breaking Bad"]
