"""Lambda entry point of SyncFunction: a plain handler (no web framework) for EventBridge events.

The daily schedule ("Scheduled Event" from aws.events) keeps the usage-log partitions ahead and runs the sync; an
admin's request arrives as a "Sync Requested" event and runs the sync alone. `marquee run` sends its schedule's event
at start-up (when no sync succeeded in the last day) with the detail {"trigger": "startup"}, and the run is
recorded as such rather than as a daily one. The run stops starting TMDB requests
SYNC_STOP_MARGIN_SECONDS before the invocation's timeout and the next run resumes where it stopped.
"""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from movie_common.database import get_connection
from movie_common.db import usage
from movie_common.errors import SyncAlreadyRunningError, TmdbNotConfiguredError
from movie_sync.services import run_sync
from movie_sync.settings import get_settings

SCHEDULED = "Scheduled Event"
STARTUP = "startup"  # a scheduled event's detail {"trigger": "startup"}: `marquee run`'s run at start-up
logger = Logger(service="marquee-sync")
copy_config_to_registered_loggers(source_logger=logger, include={"movie_sync"})


@logger.inject_lambda_context(clear_state=True)
@event_source(data_class=EventBridgeEvent)
def handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    """Run one sync; returns the `sync_runs` row as JSON, or {"status": "not_configured" | "already_running"}."""
    scheduled = event.detail_type == SCHEDULED
    # The local stack's run at start-up is its schedule's, marked so in the detail (EventBridge's own is empty).
    trigger = "admin"
    if scheduled:
        trigger = "startup" if (event.detail or {}).get("trigger") == STARTUP else "schedule"
    logger.append_keys(event_id=event.get_id, detail_type=event.detail_type)
    conn = get_connection()
    if scheduled:
        created = usage.ensure_partitions(conn)
        logger.info("usage-log partitions checked", extra={"partitions_created": created})
    settings = get_settings()
    deadline = time.monotonic() + context.get_remaining_time_in_millis() / 1000 - settings.stop_margin_seconds
    try:
        run = run_sync(conn, settings=settings, triggered_by=trigger, deadline=deadline)
    except TmdbNotConfiguredError as error:
        logger.warning(error.detail)
        return {"status": "not_configured", "message": error.detail}
    except SyncAlreadyRunningError as error:
        logger.info(error.detail)
        return {"status": "already_running", "message": error.detail}
    summary = run.as_json()
    if run.status == "failed":
        logger.error(
            "sync run failed", extra={"sync_run_id": run.id, "sync_message": run.message}
        )  # `message` is LogRecord's own
    return summary
