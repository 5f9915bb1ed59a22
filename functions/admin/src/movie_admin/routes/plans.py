"""Admin routes for plans: every plan's limits, and edits that hold from each key's next request."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from movie_admin.routes.deps import ADMIN_DEPENDENCIES, ADMIN_RESPONSES, ActingAdmin
from movie_admin.schemas import PlanChangesBody, PlanListOut, PlanOut
from movie_admin.services import plans
from movie_common.database import get_connection

router = APIRouter(prefix="/admin/plans", tags=["plans"], dependencies=ADMIN_DEPENDENCIES, responses=ADMIN_RESPONSES)
PlanId = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_-]{1,31}$", description="The plan's id, e.g. free.")]


@router.get("", response_model=PlanListOut, summary="List plans")
async def list_plans() -> PlanListOut:
    """Every plan with its limits and how many keys use it, smallest quota first."""
    return PlanListOut(results=[PlanOut.model_validate(p) for p in plans.list_plans(get_connection())])


@router.patch("/{plan_id}", response_model=PlanOut, summary="Edit a plan's limits")
async def update_plan(plan_id: PlanId, body: PlanChangesBody, actor: ActingAdmin) -> PlanOut:
    """Change the fields given (`daily_quota: null` removes the daily cap). Every key on the plan is held to the
    new limits from its next request."""
    changes = body.model_dump(exclude_unset=True)
    return PlanOut.model_validate(plans.update_plan(get_connection(), actor, plan_id=plan_id, changes=changes))
