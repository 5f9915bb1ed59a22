"""Lambda entry point of MigrationFunction, a CloudFormation custom resource: applies the common layer's SQL
migrations and keeps usage-log partitions ahead on every deploy that changes the layer. Uses only movie_common."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import CloudFormationCustomResourceEvent

from movie_common.custom_resources import send_response
from movie_common.database import connect
from movie_common.db import usage
from movie_common.migrations import migrate

logger = Logger(service="marquee-migrate")
PHYSICAL_RESOURCE_ID = "marquee-database-migrations"


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> None:
    """Create/Update: migrate (no statement timeout: migrations may rewrite big tables); Delete: nothing (the data
    outlives the stack). Every outcome is reported to CloudFormation, or the stack would hang for an hour."""
    request = CloudFormationCustomResourceEvent(event)
    status, reason, applied = "SUCCESS", "", []
    if request.request_type in ("Create", "Update"):
        try:
            with connect(statement_timeout_ms=0) as conn:
                applied = migrate(conn)
                usage.ensure_partitions(conn, months_ahead=3)
            logger.info("migrations applied", extra={"applied": applied})
        except Exception as error:  # reported to CloudFormation below, whatever it was
            logger.exception("migration failed")
            status, reason = "FAILED", f"{type(error).__name__}: {error}"[:500]
    send_response(
        event,
        status=status,
        reason=reason,
        data={"Applied": ",".join(applied)},
        physical_resource_id=PHYSICAL_RESOURCE_ID,
        log_stream_name=getattr(context, "log_stream_name", ""),
    )
