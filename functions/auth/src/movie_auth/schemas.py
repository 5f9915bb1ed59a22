"""Request and response bodies of the developer portal's routes (they are the OpenAPI document's schemas)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from movie_web.fields import cut_to

_BODY = ConfigDict(extra="forbid", str_max_length=2000)

# Every string of these bodies is checked by the service, which refuses anything over these lengths with its own
# code (name: validation_error naming it; email: invalid_email; password: password_too_long for a new one, the
# wrong-password answer otherwise; token: invalid_token; reason: validation_error naming it). Longer values are cut
# to one character more (movie_web.fields), so the code is the service's whatever the length.
Name = Annotated[str, cut_to(200)]
Email = Annotated[str, cut_to(320)]
Password = Annotated[str, cut_to(200)]
Token = Annotated[str, cut_to(200)]
Reason = Annotated[str, cut_to(1000)]


def _limit(n: int) -> dict[str, Any]:
    return {"maxLength": n}


class SignupRequest(BaseModel):
    model_config = _BODY
    name: Name = Field(examples=["Jane Doe"], json_schema_extra=_limit(200))
    email: Email = Field(examples=["jane.doe@gmail.com"], json_schema_extra=_limit(320))
    password: Password = Field(examples=["velvet-orbit-canyon-42"], json_schema_extra=_limit(200))


class SignupAccepted(BaseModel):
    status: str = Field(examples=["verification_sent"])
    email: str = Field(description="The address the confirmation link went to.")
    detail: str


class VerifyRequest(BaseModel):
    model_config = _BODY
    token: Token = Field(description="The token from the emailed link.", json_schema_extra=_limit(200))
    password: Password = Field(
        json_schema_extra=_limit(200),
        description="The password chosen at the sign-up the link was issued for: the link proves the mailbox, the "
        "password proves who chose the account's credentials.",
        examples=["velvet-orbit-canyon-42"],
    )


class EmailRequest(BaseModel):
    model_config = _BODY
    email: Email = Field(examples=["jane.doe@gmail.com"], json_schema_extra=_limit(320))


class LoginRequest(BaseModel):
    model_config = _BODY
    email: Email = Field(json_schema_extra=_limit(320))
    password: Password = Field(json_schema_extra=_limit(200))


class DeleteAccountRequest(BaseModel):
    model_config = _BODY
    password: Password = Field(json_schema_extra=_limit(200), description="Your current password, to confirm.")


class ResetRequest(BaseModel):
    model_config = _BODY
    token: Token = Field(json_schema_extra=_limit(200))
    password: Password = Field(json_schema_extra=_limit(200))


class SessionGrant(BaseModel):
    access_token: str
    token_type: str = Field(examples=["bearer"])
    expires_in: int = Field(description="Seconds until the session ends.")


class Accepted(BaseModel):
    detail: str


class KeyInfo(BaseModel):
    """A key as the portal shows it: never the key itself, only its last four characters."""

    id: int = Field(description="The key's id: name it as `key_id` when asking to replace it.")
    masked: str
    last4: str
    plan: str
    status: str = Field(description="active, suspended or revoked")
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None


class Verified(SessionGrant):
    api_key: str = Field(description="The new key, shown this once: only its hash is stored.")
    key: KeyInfo


class PlanInfo(BaseModel):
    id: str
    name: str
    daily_quota: int | None = Field(description="Requests per UTC day; null: no daily cap.")
    per_minute: int


class PlanList(BaseModel):
    results: list[PlanInfo]


class Me(BaseModel):
    id: int
    name: str
    email: str
    verified: bool
    status: str
    created_at: datetime
    plan: PlanInfo | None = Field(description="The plan of `key`.")
    key: KeyInfo | None = Field(description="Your newest key, whatever its status (null before verification).")
    keys: list[KeyInfo] = Field(
        description="Every key of yours that is not revoked (active or suspended), newest first: an admin can give "
        "you more than one."
    )


class UsageWindow(BaseModel):
    used: int
    limit: int | None = Field(description="null: no cap in this window")
    remaining: int | None
    reset_at: datetime


class UsageWindows(BaseModel):
    day: UsageWindow | None
    minute: UsageWindow | None


class UsageSeries(BaseModel):
    days: list[str] = Field(description="The last 30 UTC days, oldest first.")
    endpoints: dict[str, list[int]] = Field(description="Route template -> requests per day.")
    outcomes: dict[str, list[int]] = Field(description="2xx, 4xx, 429, 5xx -> requests per day.")


class KeyUsage(BaseModel):
    """One key's own windows (what its `GET /usage` and rate-limit headers say) and lifetime total."""

    key: KeyInfo
    windows: UsageWindows
    total_requests: int


class Usage(BaseModel):
    plan: str | None = Field(description="The newest key's plan (see `keys` for each key's).")
    key_status: str | None = Field(description="The newest key's status.")
    windows: UsageWindows = Field(description="The newest key's windows (see `keys` for each key's).")
    keys: list[KeyUsage] = Field(description="Every key of yours that is not revoked, newest first, with its windows.")
    requests_today: int = Field(description="Requests counted today (UTC) across every key of yours.")
    total_requests: int = Field(description="All-time requests across every key of yours.")
    series: UsageSeries


class LoggedRequest(BaseModel):
    time: datetime
    method: str
    endpoint: str
    status: int


class RequestLog(BaseModel):
    page: int | None = Field(description="The page number asked for; null on a page asked for by `cursor`.")
    per_page: int
    results: list[LoggedRequest]
    total_results: int
    total_pages: int
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next, older page: it starts right after this page's last row, "
        "whatever was logged meanwhile (null: no older requests)."
    )


class KeyRequestBody(BaseModel):
    model_config = _BODY
    # Checked by the service (one message whether empty, blank or too long); the document states the limits.
    reason: Reason = Field(
        examples=["My laptop with the key was stolen."], json_schema_extra={"minLength": 1, "maxLength": 1000}
    )
    key_id: int | None = Field(
        default=None,
        ge=1,
        le=2**62,
        description="The key to replace (its `id` in `/auth/me`); needed only when you have more than one.",
    )


class KeyRequestInfo(BaseModel):
    id: int
    key_id: int | None = Field(description="The key this request replaces (revoked once an admin approves).")
    reason: str
    status: str = Field(description="pending, approved or denied")
    created_at: datetime
    decided_at: datetime | None
    decision_note: str | None
    fulfilled_at: datetime | None = Field(description="When the new key was revealed (it is shown once).")


class KeyRequestList(BaseModel):
    results: list[KeyRequestInfo]


class NewKey(BaseModel):
    api_key: str = Field(description="The new key, shown this once; the old key no longer works.")
    key: KeyInfo
