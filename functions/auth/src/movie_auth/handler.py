"""Lambda entry point of KeyAuthorizerFunction: API Gateway REQUEST authorizer for X-API-KEY or Bearer keys.

No key: raise "Unauthorized" (API Gateway's contract for a 401). A key that is refused: a Deny policy whose
context carries the problem `code`, `title` and `detail` for the ACCESS_DENIED gateway response (403). A good
key: Allow, the key's ids in the context, and the tier's gateway key as `usageIdentifierKey` so the tier's
usage plan throttles it. Quotas are counted by the API function, not here: authorizing is read-only.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerRequestEvent,
    APIGatewayAuthorizerResponse,
)

from movie_auth.services import authorize
from movie_common.errors import MissingApiKeyError


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = APIGatewayAuthorizerRequestEvent(event)
    arn = request.parsed_arn
    try:
        decision = authorize(dict(request.headers or {}))
    except MissingApiKeyError:
        raise Exception("Unauthorized") from None
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
