"""Response models of the public API: they document the OpenAPI schema that clients and schemathesis read."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field


class Attribution(BaseModel):
    """Where a movie's data came from, as TMDB's terms ask: present when the row carries TMDB data."""

    source: Literal["TMDB"]
    notice: str
    url: str = Field(description="the title's page on themoviedb.org")


class Movie(BaseModel):
    id: int
    title: str
    year: int | None
    genre: list[str]
    director: str | None
    actors: list[str]
    plot: str | None
    poster_url: str | None
    media_type: Literal["movie", "tv"]
    release_date: date | None
    runtime: int | None = Field(description="minutes")
    rating: float | None = Field(description="0 to 10")
    popularity: float
    tmdb_id: int | None
    imdb_id: str | None
    original_language: str | None = Field(description="ISO 639-1 code, from TMDB")
    updated_at: datetime
    attribution: Attribution | None


class MovieList(BaseModel):
    """TMDB's list envelope, plus whether the total is exact and the cursor of the next page."""

    page: int | None = Field(
        description="This page's number in pages of `per_page`; null on a page read by a cursor that does not start"
        " where such a page starts (a cursor reused with another per_page)."
    )
    per_page: int
    results: list[Movie]
    total_results: int = Field(description="Exact up to 1,000; past that an estimate (see total_results_exact).")
    total_pages: int = Field(description="Pages reachable by number: at most 500 (follow next_cursor past them).")
    total_results_exact: bool = Field(description="false: total_results is the database's estimate.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class Suggestion(BaseModel):
    id: int
    title: str
    year: int | None


class SuggestionList(BaseModel):
    results: list[Suggestion]


class Genre(BaseModel):
    name: str
    count: int


class GenreList(BaseModel):
    genres: list[Genre]


class LimitWindow(BaseModel):
    name: Literal["minute", "day"]
    limit: int
    used: int
    remaining: int
    resets_at: datetime


class Usage(BaseModel):
    key_id: int
    plan: str
    status: Literal["active", "suspended", "revoked"]
    expires_at: datetime | None
    daily_quota: int | None = Field(description="null: no daily cap")
    per_minute: int
    total_requests: int
    windows: list[LimitWindow]


class Health(BaseModel):
    status: Literal["ok"]
    database: Literal["ok"]
    movies: int = Field(description="about how many movies the catalogue holds (PostgreSQL's estimate)")
