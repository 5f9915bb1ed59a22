"""Lambda entry point of MigrationFunction, a CloudFormation custom resource: applies the common layer's SQL
migrations and keeps usage-log partitions ahead on every deploy that changes the layer. Uses only movie_common."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import CloudFormationCustomResourceEvent

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
    _respond(request, context, status, reason, {"Applied": ",".join(applied)})


def _respond(
    request: CloudFormationCustomResourceEvent, context: Any, status: str, reason: str, data: dict[str, str]
) -> None:
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason or f"See CloudWatch log stream {getattr(context, 'log_stream_name', '')}",
            "PhysicalResourceId": request.physical_resource_id or PHYSICAL_RESOURCE_ID,
            "StackId": request.stack_id,
            "RequestId": request.request_id,
            "LogicalResourceId": request.logical_resource_id,
            "Data": data,
        }
    ).encode()
    put = urllib.request.Request(  # noqa: S310 - the pre-signed S3 URL CloudFormation gave us
        request.response_url, data=body, method="PUT", headers={"Content-Type": ""}
    )
    with urllib.request.urlopen(put, timeout=10):  # noqa: S310
        pass
