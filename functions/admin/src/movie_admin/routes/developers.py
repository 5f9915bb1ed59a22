"""Admin routes for developers and their reissue requests: list, one developer's whole picture, suspend and
unsuspend; list requests, approve, deny with a reason."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from movie_admin.routes.deps import (
    ADMIN_DEPENDENCIES,
    ADMIN_RESPONSES,
    ActingAdmin,
    PageNumber,
    PerPage,
    Search,
)
from movie_admin.schemas import DenyBody, DeveloperDetailOut, DeveloperOut, KeyRequestOut, PageOut
from movie_admin.services import developers, key_requests
from movie_common.database import get_connection
from movie_common.db.key_requests import KeyRequestFilters
from movie_common.db.users import DeveloperFilters
from movie_web.params import PLAIN_INTEGER

router = APIRouter(prefix="/admin", dependencies=ADMIN_DEPENDENCIES, responses=ADMIN_RESPONSES)
DeveloperId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The developer's id."), PLAIN_INTEGER]
RequestId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The reissue request's id."), PLAIN_INTEGER]
DeveloperSort = Literal[
    "created.desc",
    "created.asc",
    "name.asc",
    "name.desc",
    "email.asc",
    "email.desc",
    "last_active.desc",
    "last_active.asc",
    "usage_today.desc",
    "total.desc",
]


@router.get("/developers", response_model=PageOut[DeveloperOut], tags=["developers"], summary="List developers")
async def list_developers(
    status: Annotated[Literal["active", "suspended"] | None, Query()] = None,
    verified: Annotated[bool | None, Query()] = None,
    plan: Annotated[str | None, Query(max_length=32, description="Holds at least one key on this plan.")] = None,
    q: Search = None,
    sort: DeveloperSort = "created.desc",
    page: PageNumber = 1,
    per_page: PerPage = 20,
) -> PageOut[DeveloperOut]:
    """Developers with a summary of their keys; `q` matches the name or the email."""
    found = developers.list_developers(
        get_connection(),
        filters=DeveloperFilters(status=status, verified=verified, plan=plan, search=q),
        sort=sort,
        page=page,
        per_page=per_page,
    )
    return PageOut[DeveloperOut](
        page=found.page,
        per_page=found.per_page,
        results=[DeveloperOut.model_validate(d) for d in found.results],
        total_results=found.total_results,
        total_pages=found.total_pages,
    )


@router.get(
    "/developers/{developer_id}", response_model=DeveloperDetailOut, tags=["developers"], summary="One developer"
)
async def get_developer(developer_id: DeveloperId) -> DeveloperDetailOut:
    """The account, every key, requests per day over 30 days, the latest requests, reissue requests, and a
    timeline of signup, key events and admin actions."""
    return DeveloperDetailOut.model_validate(developers.get_developer(get_connection(), developer_id=developer_id))


@router.post("/developers/{developer_id}/suspend", response_model=DeveloperOut, tags=["developers"], summary="Suspend")
async def suspend_developer(developer_id: DeveloperId, actor: ActingAdmin) -> DeveloperOut:
    """Block the developer: sign-in refused, every session ended now, every key refused from its next request."""
    return DeveloperOut.model_validate(developers.suspend_developer(get_connection(), actor, developer_id=developer_id))


@router.post(
    "/developers/{developer_id}/unsuspend", response_model=DeveloperOut, tags=["developers"], summary="Unsuspend"
)
async def unsuspend_developer(developer_id: DeveloperId, actor: ActingAdmin) -> DeveloperOut:
    """Let the developer sign in again; keys work again as their own statuses say."""
    found = developers.unsuspend_developer(get_connection(), actor, developer_id=developer_id)
    return DeveloperOut.model_validate(found)


@router.get(
    "/key-requests", response_model=PageOut[KeyRequestOut], tags=["key requests"], summary="List reissue requests"
)
async def list_key_requests(
    status: Annotated[Literal["pending", "approved", "denied"] | None, Query()] = None,
    developer_id: Annotated[int | None, Query(ge=1), PLAIN_INTEGER] = None,
    q: Search = None,
    sort: Literal["created.desc", "created.asc"] = "created.desc",
    page: PageNumber = 1,
    per_page: PerPage = 20,
) -> PageOut[KeyRequestOut]:
    """Requests for a new key; `q` matches the developer's name or email, or the reason."""
    found = key_requests.list_key_requests(
        get_connection(),
        filters=KeyRequestFilters(status=status, user_id=developer_id, search=q),
        sort=sort,
        page=page,
        per_page=per_page,
    )
    return PageOut[KeyRequestOut](
        page=found.page,
        per_page=found.per_page,
        results=[KeyRequestOut.model_validate(r) for r in found.results],
        total_results=found.total_results,
        total_pages=found.total_pages,
    )


@router.post(
    "/key-requests/{request_id}/approve", response_model=KeyRequestOut, tags=["key requests"], summary="Approve"
)
async def approve_key_request(request_id: RequestId, actor: ActingAdmin) -> KeyRequestOut:
    """Revoke the old key now; the developer reveals the new one, once, in the portal."""
    found = key_requests.approve_key_request(get_connection(), actor, request_id=request_id)
    return KeyRequestOut.model_validate(found)


@router.post("/key-requests/{request_id}/deny", response_model=KeyRequestOut, tags=["key requests"], summary="Deny")
async def deny_key_request(request_id: RequestId, body: DenyBody, actor: ActingAdmin) -> KeyRequestOut:
    """Deny with a reason the developer will read; the old key stays as it is."""
    found = key_requests.deny_key_request(get_connection(), actor, request_id=request_id, reason=body.reason)
    return KeyRequestOut.model_validate(found)
