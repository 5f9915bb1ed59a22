"""Admin use cases for plans: view every plan's limits and edit them (effective on each key's next request)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeGuard

from movie_admin.audit import Actor, record, snapshot
from movie_admin.versions import check_if_match, entity_tag
from movie_common.database import Connection
from movie_common.db import plans
from movie_common.db.plans import Plan
from movie_common.errors import InvalidParameter, NotFoundError, RequestValidationError
from movie_common.names import clean_name

GATEWAY_TIERS = ("free", "pro", "unlimited")
MAX_LIMIT = 1_000_000_000
MAX_NAME_CHARS = 60
_AUDITED = ("id", "name", "daily_quota", "per_minute", "gateway_tier")
EDITABLE = ("name", "daily_quota", "per_minute", "gateway_tier")


def list_plans(conn: Connection) -> list[Plan]:
    """Every plan with its limits and how many keys use it."""
    return plans.list_plans(conn)


def get_plan(conn: Connection, *, plan_id: str) -> Plan:
    plan = plans.get_plan(conn, plan_id=plan_id)
    if plan is None:
        raise NotFoundError(f"There is no plan {plan_id!r}.")
    return plan


def version_tag(plan: Plan) -> str:
    """The plan's strong entity tag (`ETag`): a digest of its editable limits and when they last changed (not of
    the number of keys on it, which moves with every key issued)."""
    return entity_tag([snapshot(plan, fields=_AUDITED), plan.updated_at])


def update_plan(
    conn: Connection, actor: Actor, *, plan_id: str, changes: Mapping[str, Any], if_match: str | None = None
) -> Plan:
    """Change some of a plan's `name`, `daily_quota` (None: no daily cap), `per_minute` and `gateway_tier`; names
    absent from `changes` keep their value. The admission statement reads the plan on every request, so each key
    on it is held to the new limits from its next request. RequestValidationError names each bad field;
    NotFoundError for an unknown plan; PreconditionFailedError when `if_match` (an If-Match header, see
    version_tag), checked under the plan's lock, is not its current version. Changing nothing writes nothing.

    The name is what developers read on the landing page, the dashboard and in /usage: printable text on one line,
    as a person's name is (movie_common.names: a bidirectional override such as U+202E displayed `Pro` as `orP`),
    and never another plan's (two plans both called `Pro` with different limits, side by side on the landing
    page)."""
    errors = [InvalidParameter(name, "body", "not a field of a plan") for name in changes if name not in EDITABLE]
    if "name" in changes:
        raw = changes["name"]
        name = clean_name(raw, max_chars=MAX_NAME_CHARS) if isinstance(raw, str) else None
        if name is None:
            errors.append(InvalidParameter("name", "body", f"1 to {MAX_NAME_CHARS} printable characters on one line"))
        else:
            changes = {**changes, "name": name}
            taken = [p for p in plans.list_plans(conn) if p.id != plan_id and p.name.casefold() == name.casefold()]
            if taken:
                errors.append(InvalidParameter("name", "body", f"the plan {taken[0].id!r} is named {taken[0].name!r}"))
    quota = changes.get("daily_quota")
    if quota is not None and not (_is_int(quota) and 0 <= quota <= MAX_LIMIT):
        errors.append(InvalidParameter("daily_quota", "body", f"0 to {MAX_LIMIT:,}, or null for no daily cap"))
    per_minute = changes.get("per_minute")
    if "per_minute" in changes and not (_is_int(per_minute) and 1 <= per_minute <= MAX_LIMIT):
        errors.append(InvalidParameter("per_minute", "body", f"1 to {MAX_LIMIT:,}"))
    tier = changes.get("gateway_tier")
    if "gateway_tier" in changes and tier not in GATEWAY_TIERS:
        errors.append(InvalidParameter("gateway_tier", "body", f"one of {', '.join(GATEWAY_TIERS)}"))
    if errors:
        raise RequestValidationError("The plan's new limits are not valid.", errors)
    with conn.transaction():
        before = plans.get_plan(conn, plan_id=plan_id, lock=True)
        if before is None:
            raise NotFoundError(f"There is no plan {plan_id!r}.")
        check_if_match(version_tag(before), if_match, what=f"Plan {plan_id!r}")
        merged = {**snapshot(before, fields=_AUDITED), **changes}
        if merged == snapshot(before, fields=_AUDITED):
            return before
        after = plans.update_plan(
            conn,
            plan_id=plan_id,
            name=str(merged["name"]),
            daily_quota=merged["daily_quota"],
            per_minute=merged["per_minute"],
            gateway_tier=merged["gateway_tier"],
        )
        assert after is not None  # noqa: S101 - locked by this transaction
        record(
            conn,
            actor,
            action="plan.update",
            target_type="plan",
            target_id=plan_id,
            before=snapshot(before, fields=_AUDITED),
            after=snapshot(after, fields=_AUDITED),
        )
    return after


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)
