"""Lambda entry point of KeyAuthorizerFunction: API Gateway REQUEST authorizer for X-API-KEY or Bearer keys.

No key: raise "Unauthorized" (API Gateway's contract for a 401). A key that is refused, or a request that sends
keys ambiguously: a Deny policy whose context carries the problem `code`, `title` and `detail` for the
ACCESS_DENIED gateway response (403). A good key: Allow, the key's ids in the context, and the tier's gateway key
as `usageIdentifierKey` so the tier's usage plan throttles it. Quotas are counted by the API function, not here:
authorizing is read-only. Never imports FastAPI (the cold-start benchmark checks it).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerRequestEvent,
    APIGatewayAuthorizerResponse,
)

from movie_auth.services import authorize
from movie_auth.settings import authorizer_settings
from movie_common.errors import MissingApiKeyError

logger = Logger(service="marquee-authorizer")
authorizer_settings()  # read at cold start: a missing setting fails here, naming it


def _all_header_values(request: APIGatewayAuthorizerRequestEvent) -> dict[str, list[str]]:
    """Every value of every header: `multiValueHeaders` when API Gateway sends it, else the single values."""
    multi: dict[str, list[str]] | None = request.get("multiValueHeaders")
    if multi:
        return {name: list(values or []) for name, values in multi.items()}
    return {name: [value] for name, value in (request.headers or {}).items()}


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = APIGatewayAuthorizerRequestEvent(event)
    logger.append_keys(request_id=request.request_context.request_id)
    arn = request.parsed_arn
    try:
        decision = authorize(_all_header_values(request))
    except MissingApiKeyError:
        raise Exception("Unauthorized") from None  # API Gateway's contract: exactly this message means 401
    if decision.allowed:
        logger.append_keys(key_id=decision.context.get("keyId"))
    else:
        logger.info("key refused", extra={"code": decision.context.get("code")})
    response = APIGatewayAuthorizerResponse(
        principal_id=decision.principal_id,
        region=arn.region,
        aws_account_id=arn.aws_account_id,
        api_id=arn.api_id,
        stage=arn.stage,
        context=decision.context,
        usage_identifier_key=decision.usage_identifier_key,
    )
    if decision.allowed:
        response.allow_all_routes()
    else:
        response.deny_all_routes()
    return response.asdict()
