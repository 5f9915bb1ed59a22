"""Admin routes for API keys: list (filters, search, sort, pages), create (shown once), suspend, reactivate,
revoke, reset usage, change plan, delete."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response

from movie_admin.pages import Page
from movie_admin.routes.deps import (
    ADMIN_DEPENDENCIES,
    ADMIN_RESPONSES,
    ActingAdmin,
    PageNumber,
    PerPage,
    Search,
)
from movie_admin.schemas import CreatedKeyOut, CreateKeyBody, KeyOut, PageOut, PlanBody
from movie_admin.services import keys
from movie_common.database import get_connection
from movie_common.db.api_keys import AdminKey, KeyFilters
from movie_web.params import PLAIN_INTEGER

router = APIRouter(prefix="/admin/keys", tags=["keys"], dependencies=ADMIN_DEPENDENCIES, responses=ADMIN_RESPONSES)
KeyId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The key's id."), PLAIN_INTEGER]
KeySort = Literal[
    "created.desc",
    "created.asc",
    "usage_today.desc",
    "usage_today.asc",
    "total.desc",
    "total.asc",
    "last_used.desc",
    "last_used.asc",
]


def _page(page: Page[AdminKey]) -> PageOut[KeyOut]:
    return PageOut[KeyOut](
        page=page.page,
        per_page=page.per_page,
        results=[KeyOut.model_validate(k) for k in page.results],
        total_results=page.total_results,
        total_pages=page.total_pages,
    )


@router.get("", response_model=PageOut[KeyOut], summary="List keys")
async def list_keys(
    owner_id: Annotated[int | None, Query(ge=1, description="Only this developer's keys."), PLAIN_INTEGER] = None,
    owner_email: Annotated[str | None, Query(max_length=320, description="Only this owner's keys.")] = None,
    plan: Annotated[str | None, Query(max_length=32)] = None,
    status: Annotated[Literal["active", "suspended", "revoked"] | None, Query()] = None,
    never_used: Annotated[bool | None, Query(description="true: never used; false: used at least once.")] = None,
    q: Search = None,
    sort: KeySort = "created.desc",
    page: PageNumber = 1,
    per_page: PerPage = 20,
) -> PageOut[KeyOut]:
    """Keys, filtered and sorted on the server. `q` matches the owner's email or name, the key's last four
    characters, or its id. Keys are masked: the raw key is never shown again after creation."""
    filters = KeyFilters(
        owner_id=owner_id, owner_email=owner_email, plan=plan, status=status, never_used=never_used, search=q
    )
    return _page(keys.list_keys(get_connection(), filters=filters, sort=sort, page=page, per_page=per_page))


@router.post("", response_model=CreatedKeyOut, status_code=201, summary="Create a key")
async def create_key(body: CreateKeyBody, actor: ActingAdmin) -> CreatedKeyOut:
    """Issue a key to a developer (`developer_id`) or to a named owner (`owner_email`, made a verified account if
    new). The answer carries the key itself, once: only its SHA-256 is stored."""
    created = keys.create_key(
        get_connection(),
        actor,
        plan=body.plan,
        developer_id=body.developer_id,
        owner_email=body.owner_email,
        owner_name=body.owner_name,
        expires_at=body.expires_at,
    )
    return CreatedKeyOut(key=KeyOut.model_validate(created.key), api_key=created.raw_key)


@router.get("/{key_id}", response_model=KeyOut, summary="One key")
async def get_key(key_id: KeyId) -> KeyOut:
    """One key with its owner and counters (masked)."""
    return KeyOut.model_validate(keys.get_key(get_connection(), key_id=key_id))


@router.post("/{key_id}/suspend", response_model=KeyOut, summary="Suspend a key")
async def suspend_key(key_id: KeyId, actor: ActingAdmin) -> KeyOut:
    """Refuse the key from its very next request (403 `key_suspended`) until it is reactivated."""
    return KeyOut.model_validate(keys.suspend_key(get_connection(), actor, key_id=key_id))


@router.post("/{key_id}/reactivate", response_model=KeyOut, summary="Reactivate a key")
async def reactivate_key(key_id: KeyId, actor: ActingAdmin) -> KeyOut:
    """Let a suspended key through again (409 `key_state_conflict` for a revoked one)."""
    return KeyOut.model_validate(keys.reactivate_key(get_connection(), actor, key_id=key_id))


@router.post("/{key_id}/revoke", response_model=KeyOut, summary="Revoke a key")
async def revoke_key(key_id: KeyId, actor: ActingAdmin) -> KeyOut:
    """Refuse the key for good (403 `key_revoked`)."""
    return KeyOut.model_validate(keys.revoke_key(get_connection(), actor, key_id=key_id))


@router.post("/{key_id}/reset-usage", response_model=KeyOut, summary="Reset a key's usage")
async def reset_usage(key_id: KeyId, actor: ActingAdmin) -> KeyOut:
    """Start the key's day and minute windows over at zero (its lifetime total stays)."""
    return KeyOut.model_validate(keys.reset_usage(get_connection(), actor, key_id=key_id))


@router.post("/{key_id}/plan", response_model=KeyOut, summary="Change a key's plan")
async def set_plan(key_id: KeyId, body: PlanBody, actor: ActingAdmin) -> KeyOut:
    """Move the key to another plan; its limits apply from its next request."""
    return KeyOut.model_validate(keys.set_plan(get_connection(), actor, key_id=key_id, plan=body.plan))


@router.delete("/{key_id}", status_code=204, summary="Delete a key")
async def delete_key(key_id: KeyId, actor: ActingAdmin) -> Response:
    """Delete the key; its request history stays in the logs."""
    keys.delete_key(get_connection(), actor, key_id=key_id)
    return Response(status_code=204)
