"""Lambda entry point of UsageRollupFunction, run daily by an EventBridge schedule: closes the finished days of
usage_daily into the day totals the admin analytics read. Plain handler: no web framework."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent

from movie_admin.services import analytics
from movie_common.database import connect

logger = Logger(service="marquee-usage-rollup")


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Close every finished day (no statement timeout: after an outage there may be many); returns the first day
    still open, or null when another run held the rollup."""
    scheduled = EventBridgeEvent(event)
    with connect(statement_timeout_ms=0) as conn:
        open_from = analytics.roll_up(conn)
    logger.info("usage rolled up", extra={"scheduled_at": scheduled.time, "open_from": str(open_from)})
    return {"open_from": None if open_from is None else open_from.isoformat()}
