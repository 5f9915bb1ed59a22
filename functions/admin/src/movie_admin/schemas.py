"""The admin API's request and response models (pydantic), as the OpenAPI document at /admin/openapi.json shows
them. Response models read the services' dataclasses by attribute."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from movie_web.fields import cut_to

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
    # Any email and any password over its length are a wrong sign-in, answered and counted as one (invalid_credentials,
    # with the locks): longer values are cut to one character more (movie_web.fields), never a validation_error.
    email: Annotated[str, cut_to(320)] = Field(examples=["ops@example.com"], json_schema_extra={"maxLength": 320})
    password: Annotated[str, cut_to(1024)] = Field(json_schema_extra={"maxLength": 1024})


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
    # Longer values are cut to one character more (movie_web.fields), which the service refuses with its own reason,
    # the one a shorter bad value gets: one kind of mistake, one reason, over the bound and under it.
    owner_email: Annotated[str | None, cut_to(320)] = Field(default=None, json_schema_extra={"maxLength": 320})
    owner_name: Annotated[str | None, cut_to(200)] = Field(default=None, json_schema_extra={"maxLength": 200})
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
    signed_up_at: datetime | None = Field(
        description="When the developer signed up on the portal; null for an account an admin or the CLI named "
        "as a key's owner (created_at is then when that happened)."
    )
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
    key_status: Literal["active", "suspended", "revoked", "deleted"] | None = Field(
        description="the status of the key the request replaces, now (a suspended key's request cannot be approved)"
    )
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
    signups: int = Field(
        description="Developer accounts that signed themselves up that day (the portal's sign-up form); owners made "
        "by an admin or `marquee create-key --owner` are not signups"
    )
    verified_signups: int = Field(description="Of those signups, the ones that have confirmed their address since")


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


class BlockedTitleOut(Out):
    """A TMDB title an admin deleted: the sync does not add it again until an admin allows it."""

    media_type: str
    tmdb_id: int
    title: str = Field(description="The deleted movie's title")
    year: int | None
    movie_id: int = Field(description="The deleted movie's id (its movie.delete audit entry holds the rest)")
    blocked_by: int | None = Field(description="The admin who deleted it (None for the CLI or a deleted admin)")
    actor: str
    blocked_at: datetime


class RefusedTitleOut(Out):
    """A TMDB title the sync could not write and remembers: a TMDB list showing it with the same title and year does
    not queue it again (see `kind`) until an admin forgets it (DELETE /admin/sync/refused/{media_type}/{tmdb_id})."""

    media_type: str
    tmdb_id: int
    kind: Literal["title_year_taken", "malformed", "given_up", "not_found"] = Field(
        description="title_year_taken: another row holds its title + year (fetched again once TMDB lists another "
        "title or year, or that row is gone); malformed: TMDB's details could not be read; given_up: its details "
        "failed TMDB_MAX_ATTEMPTS runs; not_found: a list shows it but its details answer 404 (these three fetched "
        "again once TMDB lists another title or year, or after TMDB_REFRESH_AFTER_DAYS)"
    )
    reason: str = Field(description="Why it was not written, as the run reported it")
    title: str | None = Field(description="The title as TMDB listed it (None when a change feed or refresh queued it)")
    year: int | None = Field(description="The year as TMDB listed it")
    times: int = Field(description="How many runs fetched it and could not write it")
    first_refused_at: datetime
    refused_at: datetime = Field(description="The last time a run could not write it")


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


# ---------------------------------------------------------------- CSV uploads (the ingest jobs of issue 10)


class UploadBody(Body):
    file_name: str = Field(
        min_length=1,
        max_length=255,
        description="The file's name (.csv, .tsv or .txt, optionally .gz).",
        examples=["movies.csv"],
    )
    mode: Literal["upsert", "replace", "validate"] = Field(
        default="upsert",
        description="upsert: add and update by title + year; replace: the file becomes the whole catalogue; "
        "validate: a dry run that reports what an upsert would do.",
    )
    keep_tmdb: bool = Field(
        default=True, description="replace only: keep the movies that came from TMDB (false: replace them too)."
    )


class PresignedUploadOut(BaseModel):
    url: str = Field(description="Where to send the file.")
    method: Literal["POST", "PUT"]
    fields: dict[str, str] = Field(description="POST: the form fields to send before the file (S3's presigned POST).")
    headers: dict[str, str] = Field(description="PUT: the headers to send with the file.")
    expires_in: int = Field(description="Seconds the signature stays valid.")


class JobFailureOut(BaseModel):
    code: str
    detail: str | None


class JobTimingsOut(BaseModel):
    queued_seconds: float | None
    reading_seconds: float | None
    loading_seconds: float | None
    total_seconds: float | None


class IngestJobOut(BaseModel):
    """One ingest job: its file, mode, status and counts (rows = valid + invalid; valid = inserted + updated +
    unchanged + duplicates). While it runs, `rows` and `bytes_read` (of `size_bytes`) grow."""

    id: int
    status: Literal["queued", "validating", "loading", "done", "failed"]
    mode: Literal["upsert", "replace", "validate"]
    keep_tmdb: bool
    origin: str = Field(description="upload (this portal), s3, drop_folder, cli or catalogue.")
    file_name: str | None
    bucket: str | None
    key: str | None = Field(description="The object key of the upload.")
    version: str | None
    size_bytes: int | None
    bytes_read: int
    encoding: str | None = Field(description="The encoding the file was read with (null until it is read).")
    delimiter: str | None = Field(description="The delimiter the file was read with (null until it is read).")
    read_options: str = Field(
        description="How the file was asked to be read (an upload's x-amz-meta-delimiter and x-amz-meta-encoding, "
        "or a drop-folder file's metadata sidecar): `delimiter=semicolon encoding=cp1252`; empty when both are "
        "detected; `unusable metadata: …` when the metadata could not be used (the job then failed)."
    )
    columns: dict[str, list[str]] = Field(description="Movie field -> the file's column(s) read into it.")
    unknown_columns: list[str]
    warnings: list[str]
    rows: int
    valid: int
    invalid: int
    duplicates: int
    inserted: int
    updated: int
    unchanged: int
    deleted: int
    error_count: int = Field(description="Rows reported (the table below, and the error report).")
    error: JobFailureOut | None = Field(description="Why the job failed (null unless status is failed).")
    report_key: str | None = Field(description="The error report's object key (null: no rows were reported).")
    requested_by: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    timings: JobTimingsOut


class RowErrorOut(BaseModel):
    line: int | None = Field(description="Line of the file where the record starts (1 is the header).")
    column: str | None = Field(description="The file's column name.")
    value: str | None = Field(description="The value as read (cut to 200 characters).")
    reason: str
    code: str


class ErrorsPageOut(BaseModel):
    page: int
    per_page: int
    total_pages: int


class IngestJobDetailOut(IngestJobOut):
    errors: list[RowErrorOut] = Field(description="One page of the reported rows, in line order.")
    errors_page: ErrorsPageOut


class UploadTicketOut(BaseModel):
    """A queued job and how to upload its file; the job runs when the upload lands."""

    job: IngestJobOut
    key: str = Field(description="The object key the file is uploaded to.")
    upload: PresignedUploadOut


class ReportLinkOut(BaseModel):
    download_url: str = Field(
        description="A short-lived URL of the error report (CSV: line, column, value, reason, code)."
    )
    file: str
    error_count: int
    expires_at: datetime


# ---------------------------------------------------------------- TMDB sync runs (issue 11)


class SyncTitlesOut(BaseModel):
    new: int
    updated: int
    unchanged: int
    skipped: int
    gone: int = Field(description="No longer on TMDB (kept, flagged).")


class SyncRunOut(BaseModel):
    """One TMDB sync run (`sync_runs`): its trigger, status, TMDB requests and pages, titles, and errors."""

    id: int
    triggered_by: Literal["schedule", "startup", "admin", "cli"] = Field(
        description="What started the run: the daily schedule, `marquee run` at start-up (no success in the last "
        "day), an admin's Run now, or `marquee sync`."
    )
    status: Literal["running", "succeeded", "partial", "failed"]
    started_at: datetime
    finished_at: datetime | None
    requests: int = Field(description="Requests sent to TMDB.")
    pages: int = Field(description="List and changes pages read.")
    titles: SyncTitlesOut
    queued: int = Field(
        description="Titles in the fetch queue: while the run is running, those it has still to fetch (it or the "
        "next run); once it ended, those left for the next run (a run stops before its time budget ends)."
    )
    error_count: int
    errors: list[dict[str, Any]] = Field(
        description="The first 100 errors: {stage, reason, media_type?, tmdb_id?, list?, page?} (`list` and `page`: "
        "a list page TMDB did not serve); a failed title never stops a run."
    )
    message: str | None


class SyncStatusOut(BaseModel):
    configured: bool = Field(description="Whether a TMDB read token is configured (false: runs cannot be requested).")
    running: SyncRunOut | None = Field(description="The run in progress, if any.")
    last_succeeded_at: datetime | None = Field(description="When the latest successful run started.")


class SyncRequestOut(BaseModel):
    event_id: str = Field(description='The EventBridge id of the "Sync Requested" event.')
    requested_at: datetime
    requested_by: str
    detail: str
