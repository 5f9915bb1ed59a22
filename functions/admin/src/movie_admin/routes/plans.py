"""Admin routes for plans: every plan's limits, and edits that hold from each key's next request."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from movie_admin.routes.deps import ADMIN_DEPENDENCIES, ADMIN_RESPONSES, STALE, ActingAdmin, IfMatch
from movie_admin.schemas import PlanChangesBody, PlanListOut, PlanOut
from movie_admin.services import plans
from movie_common.database import get_connection
from movie_common.db.plans import Plan

router = APIRouter(prefix="/admin/plans", tags=["plans"], dependencies=ADMIN_DEPENDENCIES, responses=ADMIN_RESPONSES)
PlanId = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_-]{1,31}$", description="The plan's id, e.g. free.")]


@router.get("", response_model=PlanListOut, summary="List plans")
async def list_plans() -> PlanListOut:
    """Every plan with its limits and how many keys use it, smallest quota first."""
    return PlanListOut(results=[PlanOut.model_validate(p) for p in plans.list_plans(get_connection())])


@router.get("/{plan_id}", response_model=PlanOut, summary="One plan")
async def get_plan(plan_id: PlanId, response: Response) -> PlanOut:
    """The plan, with its version as `ETag`: send it back as `If-Match` when editing it."""
    return _tagged(response, plans.get_plan(get_connection(), plan_id=plan_id))


@router.patch("/{plan_id}", response_model=PlanOut, responses=STALE, summary="Edit a plan's limits")
async def update_plan(
    plan_id: PlanId, body: PlanChangesBody, actor: ActingAdmin, response: Response, if_match: IfMatch = None
) -> PlanOut:
    """Change the fields given (`daily_quota: null` removes the daily cap). Every key on the plan is held to the
    new limits from its next request. With `If-Match`, only if nobody changed the plan since it was read (else 412
    `precondition_failed`, nothing written)."""
    changes = body.model_dump(exclude_unset=True)
    updated = plans.update_plan(get_connection(), actor, plan_id=plan_id, changes=changes, if_match=if_match)
    return _tagged(response, updated)


def _tagged(response: Response, plan: Plan) -> PlanOut:
    response.headers["ETag"] = plans.version_tag(plan)
    return PlanOut.model_validate(plan)
