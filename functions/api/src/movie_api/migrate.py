"""CloudFormation custom resource (MigrationFunction): applies the layer's SQL migrations on every deploy."""

from __future__ import annotations

import json
import logging
import urllib.request
from typing import Any

from movie_common.database import connect
from movie_common.db import usage
from movie_common.migrations import migrate

logger = logging.getLogger("movie_api.migrate")


def handler(event: dict[str, Any], context: Any) -> None:
    status, reason, applied = "SUCCESS", "", []
    if event.get("RequestType") in ("Create", "Update"):
        try:
            with connect(statement_timeout_ms=0) as conn:  # migrations may rewrite big tables
                applied = migrate(conn)
                usage.ensure_partitions(conn, months_ahead=3)
            logger.info("migrations applied: %s", applied or "none")
        except Exception as error:  # every failure must reach CloudFormation, or the stack hangs for an hour
            logger.exception("migration failed")
            status, reason = "FAILED", f"{type(error).__name__}: {error}"[:500]
    _respond(event, context, status, reason, {"Applied": ",".join(applied)})


def _respond(event: dict[str, Any], context: Any, status: str, reason: str, data: dict[str, str]) -> None:
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason or f"See CloudWatch log stream {getattr(context, 'log_stream_name', '')}",
            "PhysicalResourceId": event.get("PhysicalResourceId") or "marquee-database-migrations",
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "Data": data,
        }
    ).encode()
    request = urllib.request.Request(  # noqa: S310 - the pre-signed S3 URL CloudFormation gave us
        event["ResponseURL"], data=body, method="PUT", headers={"Content-Type": ""}
    )
    with urllib.request.urlopen(request, timeout=10):  # noqa: S310
        pass
