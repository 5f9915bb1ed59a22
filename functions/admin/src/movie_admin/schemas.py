"""The admin API's request and response models (pydantic), as the OpenAPI document at /admin/openapi.json shows
them. Response models read the services' dataclasses by attribute."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PageOut(Out, Generic[T]):
    """TMDB's list envelope."""

    page: int
    per_page: int
    results: list[T]
    total_results: int
    total_pages: int


class CursorPageOut(Out, Generic[T]):
    """A page of a list too long to count: pass `next_cursor` as `cursor` for the next page (null: the last)."""

    per_page: int
    results: list[T]
    next_cursor: str | None


# ---------------------------------------------------------------- sign-in


class LoginBody(Body):
    email: str = Field(max_length=320, examples=["ops@example.com"])
    password: str = Field(max_length=1024)


class SessionOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"]
    expires_in: int = Field(description="Seconds until the token expires.")


class AdminOut(Out):
    id: int
    email: str
    status: str
    last_login_at: datetime | None
    created_at: datetime


# ---------------------------------------------------------------- keys


class KeyOut(Out):
    """An API key, masked: only its last four characters are ever shown after creation."""

    id: int
    owner_id: int
    owner_email: str
    owner_name: str
    owner_status: str
    last4: str
    plan: str
    status: Literal["active", "suspended", "revoked"]
    refusal: str | None = Field(description="Why its next request would be refused (null: it would not).")
    usage_today: int
    total_count: int
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    status_changed_at: datetime | None


class CreateKeyBody(Body):
    """Give `developer_id` (an existing developer) or `owner_email` (a named owner, created if new)."""

    plan: str = Field(examples=["pro"])
    developer_id: int | None = Field(default=None, ge=1)
    owner_email: str | None = Field(default=None, max_length=320)
    owner_name: str | None = Field(default=None, max_length=200)
    expires_at: datetime | None = None


class CreatedKeyOut(BaseModel):
    key: KeyOut
    api_key: str = Field(description="The new key. Shown this once: only its SHA-256 is stored.")


class PlanBody(Body):
    plan: str = Field(examples=["pro"])


# ---------------------------------------------------------------- developers


class DeveloperOut(Out):
    id: int
    name: str
    email: str
    status: Literal["active", "suspended"]
    verified: bool
    created_at: datetime
    keys: int
    active_keys: int
    plans: list[str]
    usage_today: int
    total_requests: int
    last_active_at: datetime | None


class KeyDayOut(Out):
    day: date
    requests: int = Field(description="Admitted requests (free 304 Not Modified answers included).")
    rejected: int = Field(description="Requests refused by a limit or the key's status.")


class LoggedRequestOut(Out):
    id: int
    timestamp: datetime
    api_key_id: int
    key_last4: str | None
    owner_id: int | None
    owner_email: str | None
    method: str
    endpoint: str
    status: int


class KeyRequestOut(Out):
    id: int
    user_id: int
    developer_email: str
    developer_name: str
    api_key_id: int | None
    key_last4: str | None
    key_plan: str | None
    reason: str
    status: Literal["pending", "approved", "denied"]
    created_at: datetime
    decided_at: datetime | None
    decided_by: int | None
    decided_by_email: str | None
    decision_note: str | None
    fulfilled_at: datetime | None
    new_api_key_id: int | None


class TimelineEventOut(Out):
    at: datetime
    kind: str
    summary: str
    key_id: int | None
    ref: str | None


class DeveloperDetailOut(Out):
    developer: DeveloperOut
    keys: list[KeyOut]
    usage: list[KeyDayOut]
    recent_requests: list[LoggedRequestOut]
    key_requests: list[KeyRequestOut]
    timeline: list[TimelineEventOut]


class DenyBody(Body):
    reason: str = Field(min_length=1, max_length=1000, examples=["Use the key you have; it is not lost."])


# ---------------------------------------------------------------- plans


class PlanOut(Out):
    id: str
    name: str
    daily_quota: int | None = Field(description="Requests per UTC day; null: no daily cap.")
    per_minute: int
    gateway_tier: Literal["free", "pro", "unlimited"]
    created_at: datetime
    updated_at: datetime
    keys: int


class PlanListOut(BaseModel):
    results: list[PlanOut]


class PlanChangesBody(Body):
    """The fields to change; a field left out keeps its value. `daily_quota: null` removes the daily cap."""

    name: str | None = Field(default=None, min_length=1, max_length=60)
    daily_quota: int | None = Field(default=None, ge=0, le=1_000_000_000)
    per_minute: int | None = Field(default=None, ge=1, le=1_000_000_000)
    gateway_tier: Literal["free", "pro", "unlimited"] | None = None


# ---------------------------------------------------------------- exports, analytics


class ExportOut(BaseModel):
    download_url: str = Field(description="A short-lived URL of the CSV file.")
    file: str
    bytes: int
    expires_at: datetime


class EndpointListOut(BaseModel):
    results: list[str]


class DayTrafficOut(Out):
    day: date
    requests: int
    ok: int = Field(description="2xx and 3xx")
    client_errors: int = Field(description="4xx other than 429 (refused keys included)")
    limited: int = Field(description="429")
    server_errors: int = Field(description="5xx")
    status_4xx: int
    active_developers: int
    active_keys: int
    signups: int


class EndpointTrafficOut(Out):
    endpoint: str
    requests: int
    client_errors: int
    limited: int
    server_errors: int


class OverviewOut(Out):
    days: list[DayTrafficOut]
    endpoints: list[EndpointTrafficOut]
    active_developers: int
    active_keys: int
    developers: int
    open_from: date = Field(description="Days before this came from the daily rollups; later ones were read live.")


# ---------------------------------------------------------------- movies


class MovieOut(Out):
    id: int
    title: str
    year: int | None
    genre: list[str]
    director: str | None
    actors: list[str]
    plot: str | None
    poster_url: str | None
    media_type: str
    release_date: date | None
    runtime: int | None
    rating: float | None = Field(description="0 to 10, a number as in the public API")
    popularity: float
    tmdb_id: int | None
    imdb_id: str | None
    source: str
    original_language: str | None
    tmdb_fetched_at: datetime | None = Field(description="When TMDB last answered for this title (the sync)")
    tmdb_gone_at: datetime | None = Field(description="When TMDB said the title no longer exists (kept, flagged)")
    tmdb_filled: list[str] = Field(
        description="Fields TMDB filled in on a csv or admin row; the sync keeps them current, and an admin edit "
        "of one makes it the admin's"
    )
    created_at: datetime
    updated_at: datetime


class MovieBody(BaseModel):
    """Movie fields as a person types them (validated by the same rules as CSV ingest rows): `genre` and `actors`
    as a list or a comma-separated text, `runtime` like `142 min`, `rating` 0-10, `year` 1870 to 20 years ahead."""

    model_config = ConfigDict(extra="allow")

    title: Any = None
    year: Any = None
    genre: Any = None
    director: Any = None
    actors: Any = None
    plot: Any = None
    poster_url: Any = None
    media_type: Any = None
    release_date: Any = None
    runtime: Any = None
    rating: Any = None
    imdb_id: Any = None


# ---------------------------------------------------------------- audit


class AuditEntryOut(Out):
    id: int
    occurred_at: datetime
    admin_id: int | None
    actor: str
    source: Literal["api", "cli"]
    action: str
    target_type: str
    target_id: str | None
    developer_id: int | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str | None
