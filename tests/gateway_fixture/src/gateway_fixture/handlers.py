"""Handlers of the gateway test template (tests/gateway_fixture/template.yaml): they echo what they received."""

from __future__ import annotations

import json
import os
import time
from typing import Any

# Read once per process at cold start, like a function's settings object.
COLD_START_ENVIRONMENT = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "LC_", "XDG_"))}
INVOCATIONS = 0


def echo(event: dict[str, Any], context: Any) -> dict[str, Any]:
    global INVOCATIONS
    INVOCATIONS += 1
    body = {
        "function": context.function_name,
        "request_id": context.aws_request_id,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "pid": os.getpid(),
        "invocations": INVOCATIONS,
        "environment": COLD_START_ENVIRONMENT,
        "event": event,
    }
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json", "Content-Length": "1"},
        "multiValueHeaders": {"X-Echo": ["a", "b"]},
        "body": json.dumps(body),
    }


def not_allowed(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The ANY method of a resource: anything the resource does not declare is a 405 with Allow."""
    return {
        "statusCode": 405,
        "headers": {"Allow": "GET, HEAD", "Content-Type": "application/problem+json"},
        "body": json.dumps({"status": 405, "code": "method_not_allowed", "method": event["httpMethod"]}),
    }


def fail(event: dict[str, Any], context: Any) -> Any:
    mode = event["pathParameters"]["mode"]
    if mode == "raise":
        raise RuntimeError("the function failed")
    if mode == "slow":
        time.sleep(30)
    if mode == "malformed":
        return {"body": "no status code"}
    if mode == "header-injection":
        return {"statusCode": 200, "headers": {"X-Evil": "a\r\nSet-Cookie: x=1"}, "body": ""}
    if mode == "object-body":
        return {"statusCode": 200, "body": {"not": "a string"}}
    if mode == "binary":
        return {"statusCode": 200, "body": "AAEC/w==", "isBase64Encoded": True, "headers": {"Content-Type": "x/y"}}
    if mode == "not-modified":
        return {"statusCode": 304, "body": "", "headers": {"ETag": '"abc"'}}
    return {"statusCode": 204, "body": ""}


def _policy(effect: str, resource: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}],
    }


def request_authorizer(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """X-Token allow -> Allow all; `only-items` -> Allow GET /items only; deny -> Deny; crash -> raises;
    anything else -> Unauthorized."""
    token = {k.lower(): v for k, v in (event.get("headers") or {}).items()}.get("x-token")
    arn = event["methodArn"]
    base = arn.split("/", 1)[0] + "/" + arn.split("/")[1]
    if token == "allow":
        return {
            "principalId": "user-1",
            "policyDocument": _policy("Allow", base + "/*/*"),
            "context": {"n": 7, "ok": True},
        }
    if token == "only-items":
        return {"principalId": "user-2", "policyDocument": _policy("Allow", base + "/GET/items")}
    if token == "deny":
        return {"principalId": "user-3", "policyDocument": _policy("Deny", base + "/*"), "context": {"why": "denied"}}
    if token == "crash":
        raise RuntimeError("authorizer crashed")
    raise Exception("Unauthorized")


TOKEN_CALLS = 0


def token_authorizer(event: dict[str, Any], context: Any) -> dict[str, Any]:
    global TOKEN_CALLS
    TOKEN_CALLS += 1
    if event["type"] != "TOKEN" or event["authorizationToken"] != "Bearer good":
        raise Exception("Unauthorized")
    arn = event["methodArn"]
    return {
        "principalId": "token-user",
        "policyDocument": _policy("Allow", arn),
        "context": {"calls": TOKEN_CALLS},
    }
