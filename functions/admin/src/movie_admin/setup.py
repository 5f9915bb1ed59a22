"""Lambda entry point of AdminSetupFunction, a CloudFormation custom resource: creates the first admin at deploy
from an email (template parameter) and a password kept in Secrets Manager, when there is no admin yet. Plain
handler: no web framework."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import CloudFormationCustomResourceEvent

from movie_admin.audit import Actor
from movie_admin.services import admins
from movie_common.custom_resources import send_response
from movie_common.database import connect
from movie_common.secrets import fetch_secret_string

logger = Logger(service="marquee-admin-setup")
PHYSICAL_RESOURCE_ID = "marquee-first-admin"
DEPLOY = Actor(admin_id=None, name="cli:cloudformation", source="cli")


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> None:
    """Create/Update: make the first admin if none exists (an existing admin's password is never changed here);
    Delete: nothing (accounts outlive the stack). Every outcome is reported to CloudFormation. The password comes
    from the secret named by `PasswordSecretArn` and is never logged."""
    request = CloudFormationCustomResourceEvent(event)
    status, reason, created = "SUCCESS", "", "no"
    if request.request_type in ("Create", "Update"):
        try:
            properties = request.resource_properties
            password = fetch_secret_string(str(properties["PasswordSecretArn"])).strip()
            with connect(statement_timeout_ms=0) as conn:
                made = admins.ensure_first_admin(conn, DEPLOY, email=str(properties["AdminEmail"]), password=password)
            created = "yes" if made else "no"
            logger.info("first admin", extra={"first_admin_created": created})
        except Exception as error:  # reported to CloudFormation below, whatever it was
            logger.exception("first admin failed")
            status, reason = "FAILED", f"{type(error).__name__}: {error}"[:500]
    send_response(
        event,
        status=status,
        reason=reason,
        data={"Created": created},
        physical_resource_id=PHYSICAL_RESOURCE_ID,
        log_stream_name=getattr(context, "log_stream_name", ""),
    )
