"""Fixtures of the sync tests: a fake TMDB server on loopback filled with a small catalogue, and settings for it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from marquee_local.fake_tmdb import FakeTmdb
from marquee_local.lambda_context import LocalLambdaContext
from movie_sync.settings import SyncSettings

# Real TMDB ids and facts for a few titles; the rest of a catalogue is generated.
FIGHT_CLUB = 550  # also in the bundled catalogue (Fight Club, 1999)
MATRIX = 603
GODFATHER = 238  # also in the bundled catalogue
FORREST_GUMP = 13
INTERSTELLAR = 157336
BREAKING_BAD = 1396
GAME_OF_THRONES = 1399
ADULT_FILM = 999001
PROJECT_HAIL_MARY = 687163  # not in the bundled catalogue (which ends in 2023)


def fill_catalogue(fake: FakeTmdb) -> None:
    """Seven movies (one adult) and two TV series with TMDB's shapes; the lists rank them."""
    fake.add_movie(
        FIGHT_CLUB,
        "Fight Club",
        release_date="1999-10-15",
        genres=["Drama", "Thriller"],
        directors=["David Fincher"],
        cast=["Edward Norton", "Brad Pitt", "Helena Bonham Carter", "Meat Loaf", "Jared Leto"],
        overview="A ticking-time-bomb insomniac and a slippery soap salesman channel primal male aggression.",
        runtime=139,
        vote_average=8.438,
        vote_count=30000,
        popularity=61.416,
        poster_path="/pB8BM7pdSp6B6Ih7QZ4DrQ3PmJK.jpg",
        imdb_id="tt0137523",
    )
    fake.add_movie(
        MATRIX,
        "The Matrix",
        release_date="1999-03-31",
        genres=["Action", "Science Fiction"],
        directors=["Lana Wachowski", "Lilly Wachowski"],
        cast=["Keanu Reeves", "Laurence Fishburne", "Carrie-Anne Moss"],
        overview="Set in the 22nd century, The Matrix tells the story of a computer hacker.",
        runtime=136,
        vote_average=8.2,
        vote_count=25000,
        popularity=80.5,
        imdb_id="tt0133093",
    )
    fake.add_movie(
        GODFATHER,
        "The Godfather",
        release_date="1972-03-14",
        genres=["Drama", "Crime"],
        directors=["Francis Ford Coppola"],
        cast=["Marlon Brando", "Al Pacino", "James Caan"],
        overview="Spanning the years 1945 to 1955, a chronicle of the fictional Italian-American Corleone family.",
        runtime=175,
        vote_average=8.7,
        vote_count=20000,
        popularity=120.0,
        imdb_id="tt0068646",
    )
    fake.add_movie(
        FORREST_GUMP,
        "Forrest Gump",
        release_date="1994-06-23",
        genres=["Comedy", "Drama", "Romance"],
        directors=["Robert Zemeckis"],
        cast=["Tom Hanks", "Robin Wright", "Gary Sinise"],
        overview="A man with a low IQ has accomplished great things in his life.",
        runtime=142,
        popularity=70.0,
        imdb_id="tt0109830",
    )
    fake.add_movie(
        INTERSTELLAR,
        "Interstellar",
        release_date="2014-11-05",
        genres=["Adventure", "Drama", "Science Fiction"],
        directors=["Christopher Nolan"],
        cast=["Matthew McConaughey", "Anne Hathaway", "Jessica Chastain"],
        overview="The adventures of a group of explorers who make use of a newly discovered wormhole.",
        runtime=169,
        popularity=150.0,
        imdb_id="tt0816692",
    )
    fake.add_movie(
        PROJECT_HAIL_MARY,
        "Project Hail Mary",
        release_date="2026-03-20",
        genres=["Science Fiction", "Adventure"],
        directors=["Phil Lord", "Christopher Miller"],
        cast=["Ryan Gosling", "Sandra Hüller", "Lionel Boyce"],
        overview="Science teacher Ryland Grace wakes up on a spaceship light years from home.",
        runtime=156,
        vote_average=8.15,
        vote_count=900,
        popularity=250.25,
        poster_path="/yihdXomYb5kTeSivtFndMy5iDmf.jpg",
        imdb_id="tt12042730",
    )
    fake.add_movie(ADULT_FILM, "Something For Grown-Ups", release_date="2020-01-01", adult=True)
    fake.add_tv(
        BREAKING_BAD,
        "Breaking Bad",
        first_air_date="2008-01-20",
        genres=["Drama", "Crime"],
        creators=["Vince Gilligan"],
        cast=["Bryan Cranston", "Aaron Paul", "Anna Gunn"],
        overview="Walter White, a New Mexico chemistry teacher, is diagnosed with Stage III cancer.",
        episode_run_time=[45, 47],
        vote_average=8.9,
        vote_count=14000,
        popularity=300.0,
        imdb_id="tt0903747",
    )
    fake.add_tv(
        GAME_OF_THRONES,
        "Game of Thrones",
        first_air_date="2011-04-17",
        genres=["Sci-Fi & Fantasy", "Drama", "Action & Adventure"],
        creators=["David Benioff", "D. B. Weiss"],
        cast=["Emilia Clarke", "Kit Harington", "Peter Dinklage"],
        overview="Seven noble families fight for control of the mythical land of Westeros.",
        popularity=400.0,
        imdb_id="tt0944947",
    )
    fake.set_list("/trending/movie/day", [INTERSTELLAR, MATRIX, ADULT_FILM])
    fake.set_list("/movie/popular", [GODFATHER, FIGHT_CLUB, MATRIX, FORREST_GUMP])
    fake.set_list("/movie/upcoming", [PROJECT_HAIL_MARY])
    fake.set_list("/movie/now_playing", [FORREST_GUMP])
    fake.set_list("/tv/popular", [GAME_OF_THRONES, BREAKING_BAD])
    fake.set_list("/trending/tv/day", [BREAKING_BAD])


@pytest.fixture
def fake_tmdb() -> Iterator[FakeTmdb]:
    """A fake TMDB on 127.0.0.1 (a free port) holding fill_catalogue's titles."""
    with FakeTmdb() as fake:
        fill_catalogue(fake)
        yield fake


@pytest.fixture
def sync_settings(fake_tmdb: FakeTmdb) -> SyncSettings:
    """Settings pointed at the fake, with short waits so retries do not slow the tests down."""
    return SyncSettings(
        api_base=fake_tmdb.url,
        api_token=fake_tmdb.token,
        list_pages=3,
        concurrency=4,
        read_timeout=2.0,
        backoff_factor=0.05,
        backoff_jitter=0.05,
    )


@pytest.fixture
def sync(monkeypatch: pytest.MonkeyPatch, fake_tmdb: FakeTmdb) -> Iterator[Callable[[], dict[str, Any]]]:
    """Run SyncFunction's handler on an admin's "Sync Requested" event against the fake (two list pages, titles
    refreshed after 30 days); returns its summary."""
    from movie_sync.handler import handler
    from movie_sync.settings import clear_settings

    monkeypatch.setenv("TMDB_API_BASE", fake_tmdb.url)
    monkeypatch.setenv("TMDB_API_TOKEN", fake_tmdb.token)
    monkeypatch.setenv("TMDB_LIST_PAGES", "2")
    monkeypatch.setenv("TMDB_REFRESH_AFTER_DAYS", "30")
    clear_settings()
    event = json.loads((Path(__file__).resolve().parents[1] / "events" / "sync_requested.json").read_text())

    def run() -> dict[str, Any]:
        summary: dict[str, Any] = handler(event, LocalLambdaContext(function_name="SyncFunction", timeout_seconds=60))
        return summary

    yield run
    monkeypatch.undo()
    clear_settings()
