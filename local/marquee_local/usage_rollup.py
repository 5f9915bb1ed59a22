"""The one-machine stand-in for UsageRollupFunction's EventBridge schedule, a service of `marquee run`: it invokes
UsageRollupFunction in its local execution environment (the template's environment, the real handler) with a
real-shaped "Scheduled Event" once at start and then daily at 00:15 UTC, so the admin analytics read closed days
from the rollups locally as they do deployed."""

from __future__ import annotations

from datetime import time
from typing import Any

from marquee_local.run import RunContext
from marquee_local.scheduler import DailySync

FUNCTION = "UsageRollupFunction"
RULE = "marquee-local-UsageRollupDaily"
DAILY_AT = time(0, 15)  # the template's cron(15 0 * * ? *)
TIMEOUT_SECONDS = 300.0  # the template's Timeout


def service(run: RunContext) -> DailySync:
    """The daily rollup; it runs at start too (closing finished days is idempotent, and a stack stopped over
    midnight would otherwise wait a day)."""

    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = run.lambdas.invoke_threadsafe(FUNCTION, event, timeout=TIMEOUT_SECONDS + 30)
        return result

    def report(summary: dict[str, Any]) -> None:
        if summary.get("status") == "crashed":
            run.log(f"usage rollup crashed ({summary.get('message')})")

    return DailySync(
        invoke,
        report=report,
        due_at_start=True,
        name="usage-rollup",
        rule=RULE,
        at=DAILY_AT,
        label="Rollup",
    )
