"""HTTP routes of the developer's dashboard (a developer session required; each answers only the caller's own
data), the key reissue requests, and the public list of plans."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status

from movie_auth import accounts
from movie_auth.routes.common import PORTAL_RESPONSES, client_ip, key_info, portal
from movie_auth.schemas import (
    DeleteAccountRequest,
    KeyRequestBody,
    KeyRequestInfo,
    KeyRequestList,
    KeyUsage,
    LoggedRequest,
    Me,
    NewKey,
    PlanInfo,
    PlanList,
    RequestLog,
    Usage,
    UsageSeries,
    UsageWindow,
    UsageWindows,
)
from movie_common.database import get_connection
from movie_common.db.key_requests import KeyRequest
from movie_web.params import PLAIN_INTEGER
from movie_web.schemas import COMMON_RESPONSES, problem_response
from movie_web.session_auth import SESSION_RESPONSES, CurrentDeveloper

router = APIRouter(prefix="/auth")


@router.get("/plans", response_model=PlanList, tags=["plans"], responses=COMMON_RESPONSES)
async def plans() -> PlanList:
    """The plans and their limits (no session needed): requests per UTC day (null: no cap) and per minute."""
    return PlanList(
        results=[
            PlanInfo(id=p.id, name=p.name, daily_quota=p.daily_quota, per_minute=p.per_minute)
            for p in accounts.list_plans(get_connection())
        ]
    )


@router.get("/me", response_model=Me, tags=["dashboard"], responses=SESSION_RESPONSES)
async def me(session: CurrentDeveloper) -> Me:
    """Your profile, your newest key and its plan, and every key of yours not revoked (masked: only the last four
    characters of a key are known after it was shown)."""
    found = accounts.profile(get_connection(), user_id=session.subject_id)
    dev, plan = found.developer, found.plan
    return Me(
        id=dev.id,
        name=dev.name,
        email=dev.email,
        verified=dev.verified,
        status=dev.status,
        created_at=dev.created_at,
        plan=None
        if plan is None
        else PlanInfo(id=plan.id, name=plan.name, daily_quota=plan.daily_quota, per_minute=plan.per_minute),
        key=None if found.key is None else key_info(found.key),
        keys=[key_info(k) for k in found.keys],
    )


@router.delete(
    "/me",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["dashboard"],
    responses={
        **SESSION_RESPONSES,
        403: problem_response("The password is not yours (`current_password_wrong`); nothing was deleted."),
        429: PORTAL_RESPONSES[429],
    },
)
async def delete_me(body: DeleteAccountRequest, session: CurrentDeveloper, request: Request) -> Response:
    """Delete your account for good, confirmed with your password: your keys stop working at once, every session of
    yours ends, and your account, keys and reissue requests are deleted (the request log keeps its rows, with a key
    id only). The address can sign up again. A wrong password counts as a failed sign-in. Codes:
    `current_password_wrong`, `account_locked`, `too_many_attempts`."""
    accounts.delete_account(
        get_connection(), user_id=session.subject_id, password=body.password, client_ip=client_ip(request)
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/usage", response_model=Usage, tags=["dashboard"], responses=SESSION_RESPONSES)
async def usage(session: CurrentDeveloper) -> Usage:
    """Each of your keys' day and minute windows (used, limit, remaining, reset time: what the key's own
    `GET /usage` says), today's and all-time requests across your keys, and the last 30 days of requests of every
    key by endpoint and by outcome (2xx, 4xx, 429, 5xx). `plan`, `key_status` and `windows` are your newest key's."""
    report = accounts.usage(get_connection(), user_id=session.subject_id)

    def window(value: accounts.UsageWindow | None) -> UsageWindow | None:
        if value is None:
            return None
        return UsageWindow(used=value.used, limit=value.limit, remaining=value.remaining, reset_at=value.reset_at)

    return Usage(
        plan=report.plan,
        key_status=report.key_status,
        windows=UsageWindows(day=window(report.day), minute=window(report.minute)),
        keys=[
            KeyUsage(
                key=key_info(k.key),
                windows=UsageWindows(day=window(k.day), minute=window(k.minute)),
                total_requests=k.total_requests,
            )
            for k in report.keys
        ],
        requests_today=report.requests_today,
        total_requests=report.total_requests,
        series=UsageSeries(days=report.days, endpoints=report.endpoints, outcomes=report.outcomes),
    )


@router.get("/requests", response_model=RequestLog, tags=["dashboard"], responses=SESSION_RESPONSES)
async def requests(
    session: CurrentDeveloper,
    page: Annotated[
        int | None,
        Query(ge=1, le=1000, description="A page number (1 when neither it nor `cursor` is given)."),
        PLAIN_INTEGER,
    ] = None,
    per_page: Annotated[int, Query(ge=1, le=100), PLAIN_INTEGER] = 25,
    cursor: Annotated[
        str | None, Query(max_length=200, description="`next_cursor` of the previous page; not with `page`.")
    ] = None,
) -> RequestLog:
    """Your own requests of the last 30 days (time, method, endpoint, status), newest first, in TMDB's envelope
    plus `next_cursor`. Page on with `cursor=<next_cursor>`: a numbered page counts from the newest request at the
    time it is asked for, so on a log that grows it repeats rows; a cursor page starts right after the previous
    page's last row."""
    log = accounts.request_log(
        get_connection(), user_id=session.subject_id, page=page, per_page=per_page, cursor=cursor
    )
    return RequestLog(
        page=log.page,
        per_page=log.per_page,
        results=[
            LoggedRequest(time=r.time, method=r.method, endpoint=r.endpoint, status=r.status) for r in log.results
        ],
        total_results=log.total_results,
        total_pages=log.total_pages,
        next_cursor=log.next_cursor,
    )


def _request_info(request: KeyRequest) -> KeyRequestInfo:
    return KeyRequestInfo(
        id=request.id,
        key_id=request.api_key_id,
        reason=request.reason,
        status=request.status,
        created_at=request.created_at,
        decided_at=request.decided_at,
        decision_note=request.decision_note,
        fulfilled_at=request.fulfilled_at,
    )


@router.get("/key-requests", response_model=KeyRequestList, tags=["keys"], responses=SESSION_RESPONSES)
async def list_key_requests(session: CurrentDeveloper) -> KeyRequestList:
    """Your key reissue requests, newest first."""
    found = accounts.list_key_requests(get_connection(), user_id=session.subject_id)
    return KeyRequestList(results=[_request_info(r) for r in found])


@router.post(
    "/key-requests",
    status_code=status.HTTP_201_CREATED,
    response_model=KeyRequestInfo,
    tags=["keys"],
    responses={**SESSION_RESPONSES, 409: PORTAL_RESPONSES[409]},
)
async def file_key_request(body: KeyRequestBody, session: CurrentDeveloper) -> KeyRequestInfo:
    """Ask for a replacement of one key, saying why (`key_id`: which key, needed when you have more than one). An
    admin approves or denies it; approval revokes that key at once; then reveal the new key with
    `POST /auth/key-requests/{id}/claim`. Your other keys are not touched. Codes: `key_request_pending`,
    `no_api_key`, `validation_error`."""
    return _request_info(
        accounts.file_key_request(get_connection(), user_id=session.subject_id, reason=body.reason, key_id=body.key_id)
    )


@router.post(
    "/key-requests/{request_id}/claim",
    response_model=NewKey,
    tags=["keys"],
    responses={
        **SESSION_RESPONSES,
        404: problem_response("No such request of yours (`not_found`)."),
        409: PORTAL_RESPONSES[409],
    },
)
async def claim_key(
    request_id: Annotated[int, Path(ge=1, le=2**62), PLAIN_INTEGER], session: CurrentDeveloper
) -> NewKey:
    """Reveal the new key of an approved request, once, on the plan of the key it replaces (revoked when the
    request was approved); your other keys are not touched. Codes:
    `not_found`, `key_request_not_approved`, `key_already_revealed`."""
    raw, key = accounts.claim_key(get_connection(), portal(), user_id=session.subject_id, request_id=request_id)
    return NewKey(api_key=raw, key=key_info(key))
