"""The event toolkit: builds every AWS event shape Marquee's functions receive, for the local gateway, the tests,
the benchmarks, the drop folder and the scheduler.

Shapes follow what AWS sends (and `sam local generate-event` prints): the API Gateway REST (v1) Lambda proxy
event, the REQUEST (and TOKEN) Lambda authorizer event with its methodArn, the S3 `ObjectCreated` notification
(keys URL-encoded the way S3 encodes them: space as `+`, `+` as `%2B`) and the EventBridge "Scheduled Event".
Functions read them with Powertools' data classes (`APIGatewayProxyEvent`, `APIGatewayAuthorizerRequestEvent`,
`S3Event`, `EventBridgeEvent`). `rebuild(event)` builds an event again from its salient fields: the test of every
`functions/*/events/*.json` file, and `python -m marquee_local.events` (which rewrites them), rely on it.
"""

from __future__ import annotations

import base64
import json
import re
import sys
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote_plus, unquote, unquote_plus

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
API_ID = "1234567890"  # the sample id AWS uses in its own example events
STAGE = "prod"
SAMPLE_TIME = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)  # fixed, so the files in functions/*/events are stable
SAMPLE_REQUEST_ID = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
SAMPLE_SOURCE_IP = "203.0.113.7"  # TEST-NET-3: documentation addresses

Headers = Mapping[str, str] | Sequence[tuple[str, str]]
Query = str | Mapping[str, str | Sequence[str]] | Sequence[tuple[str, str]]

_PARAM = re.compile(r"\{([A-Za-z0-9_.\-]+)(\+?)\}")


def _pairs(headers: Headers | None) -> list[tuple[str, str]]:
    if headers is None:
        return []
    if isinstance(headers, Mapping):
        return [(str(k), str(v)) for k, v in headers.items()]
    return [(str(k), str(v)) for k, v in headers]


def _query_pairs(query: Query | None) -> list[tuple[str, str]]:
    if query is None:
        return []
    if isinstance(query, str):
        return parse_qsl(query, keep_blank_values=True)
    if isinstance(query, Mapping):
        pairs: list[tuple[str, str]] = []
        for name, value in query.items():
            values = [value] if isinstance(value, str) else list(value)
            pairs += [(str(name), str(v)) for v in values]
        return pairs
    return [(str(k), str(v)) for k, v in query]


def _single_and_multi(pairs: list[tuple[str, str]]) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    """API Gateway's two views of repeated names: the last value, and all values in order (None when empty)."""
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        multi.setdefault(name, []).append(value)
    if not multi:
        return None, None
    return {name: values[-1] for name, values in multi.items()}, multi


def match_resource(resource: str, path: str) -> dict[str, str] | None:
    """The path parameters of `path` (as sent: still percent-encoded) under a resource template such as
    `/movies/{id}` or `/files/{proxy+}`, each value percent-decoded once; None when the path does not fit.
    Segments are split on the slashes the client sent, so `%2F` stays inside its segment; one trailing slash
    is ignored, as API Gateway does."""
    segments = path.split("/")[1:]
    if segments and segments[-1] == "":
        segments.pop()
    template = [s for s in resource.strip("/").split("/") if s]
    found: dict[str, str] = {}
    for index, part in enumerate(template):
        param = _PARAM.fullmatch(part)
        if param and param.group(2):
            if index >= len(segments):
                return None
            found[param.group(1)] = unquote("/".join(segments[index:]))
            return found
        if index >= len(segments):
            return None
        if param:
            if not segments[index]:
                return None
            found[param.group(1)] = unquote(segments[index])
        elif unquote(segments[index]) != part:
            return None
    return found if len(segments) == len(template) else None


def rest_proxy_event(
    method: str,
    path: str,
    *,
    resource: str | None = None,
    path_parameters: Mapping[str, str] | None = None,
    query: Query | None = None,
    headers: Headers | None = None,
    body: bytes | str | None = None,
    authorizer: Mapping[str, Any] | None = None,
    request_id: str | None = None,
    time: datetime | None = None,
    source_ip: str = SAMPLE_SOURCE_IP,
    stage: str = STAGE,
    api_id: str = API_ID,
    host: str | None = None,
    port: int = 443,
    scheme: str = "https",
    stage_path: bool = True,
    binary: bool = False,
) -> dict[str, Any]:
    """An API Gateway REST API (v1 payload) Lambda proxy integration event, as a dict ready for `handler(event, ctx)`.

    `path` is the request path as API Gateway REST puts it in the event: as the client sent it (still
    percent-encoded), without the stage. `resource` is the matched resource template (default: `path`);
    `path_parameters` default to the values of `path` under it, percent-decoded once (API Gateway decodes them).
    `headers` are the client's; API Gateway's own (`Host` = the API's domain, `X-Forwarded-For`,
    `-Port`, `-Proto`, `X-Amzn-Trace-Id`) are set on top, replacing any the client sent. A `bytes` body that is not
    UTF-8, or any body with `binary=True`, travels base64-encoded with `isBase64Encoded: true`. `authorizer` is the
    Lambda authorizer's output as API Gateway passes it on: principalId plus the context values (as strings).
    `stage_path=False` leaves the stage out of requestContext.path (a local gateway serving at the root).
    Raises ValueError when `path` does not fit `resource`.
    """
    method = method.upper()
    resource = resource or path
    request_id = request_id or str(uuid.uuid4())
    now = time or datetime.now(UTC)
    domain = host or f"{api_id}.execute-api.{REGION}.amazonaws.com"
    if path_parameters is None:
        found = match_resource(resource, path)
        if found is None:
            raise ValueError(f"path {path!r} does not fit resource {resource!r}")
        path_parameters = found
    gateway_headers = {
        "host": domain,
        "x-amzn-trace-id": f"Root=1-{int(now.timestamp()):08x}-{request_id.replace('-', '')[:24]}",
        "x-forwarded-for": source_ip,
        "x-forwarded-port": str(port),
        "x-forwarded-proto": scheme,
    }
    client = [(k, v) for k, v in _pairs(headers) if k.lower() not in gateway_headers]
    names = {"host": "Host", "x-amzn-trace-id": "X-Amzn-Trace-Id"}
    pairs = client + [(names.get(k, k.title()), v) for k, v in gateway_headers.items()]
    single_headers, multi_headers = _single_and_multi(pairs)
    single_query, multi_query = _single_and_multi(_query_pairs(query))
    text_body: str | None = None
    encoded = False
    if body is not None and body != b"":
        if isinstance(body, str) and not binary:
            text_body = body
        else:
            raw = body.encode() if isinstance(body, str) else body
            try:
                if binary:
                    raise UnicodeDecodeError("utf-8", raw, 0, 0, "binary requested")
                text_body = raw.decode("utf-8")
            except UnicodeDecodeError:
                text_body, encoded = base64.b64encode(raw).decode("ascii"), True
    user_agent = next((v for k, v in pairs if k.lower() == "user-agent"), None)
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": single_headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": single_query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": dict(path_parameters) or None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": "abc123",
            "resourcePath": resource,
            "httpMethod": method,
            "extendedRequestId": request_id[:8] + "=",
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "path": f"/{stage}{path}" if stage_path else path,
            "accountId": ACCOUNT_ID,
            "protocol": "HTTP/1.1",
            "stage": stage,
            "domainPrefix": domain.split(".", 1)[0],
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "requestId": request_id,
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": None,
                "cognitoIdentityId": None,
                "caller": None,
                "sourceIp": source_ip,
                "principalOrgId": None,
                "apiKey": None,
                "apiKeyId": None,
                "accessKey": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": None,
                "userAgent": user_agent,
                "user": None,
            },
            **({"authorizer": dict(authorizer)} if authorizer is not None else {}),
            "domainName": domain,
            "apiId": api_id,
        },
        "body": text_body,
        "isBase64Encoded": encoded,
    }


def method_arn(
    method: str, path: str, *, stage: str = STAGE, api_id: str = API_ID, region: str = REGION, account: str = ACCOUNT_ID
) -> str:
    """`arn:aws:execute-api:{region}:{account}:{api_id}/{stage}/{METHOD}/{path}`: what a Lambda authorizer is asked
    about, and what its policy's Resource patterns are matched against."""
    return f"arn:aws:execute-api:{region}:{account}:{api_id}/{stage}/{method.upper()}/{path.lstrip('/')}"


def authorizer_request_event(proxy_event: Mapping[str, Any]) -> dict[str, Any]:
    """The REQUEST Lambda authorizer event API Gateway sends before integrating `proxy_event` (same request)."""
    context = dict(proxy_event["requestContext"])
    context.pop("authorizer", None)
    return {
        "type": "REQUEST",
        "methodArn": method_arn(
            proxy_event["httpMethod"],
            proxy_event["path"],
            stage=context["stage"],
            api_id=context["apiId"],
            account=context["accountId"],
        ),
        **{
            name: proxy_event[name]
            for name in (
                "resource",
                "path",
                "httpMethod",
                "headers",
                "multiValueHeaders",
                "queryStringParameters",
                "multiValueQueryStringParameters",
                "pathParameters",
                "stageVariables",
            )
        },
        "requestContext": context,
    }


def authorizer_token_event(proxy_event: Mapping[str, Any], token: str) -> dict[str, Any]:
    """The TOKEN Lambda authorizer event: the identity header's value and the methodArn, nothing else."""
    context = proxy_event["requestContext"]
    arn = method_arn(
        proxy_event["httpMethod"],
        proxy_event["path"],
        stage=context["stage"],
        api_id=context["apiId"],
        account=context["accountId"],
    )
    return {"type": "TOKEN", "authorizationToken": token, "methodArn": arn}


def s3_key_in_event(key: str) -> str:
    """An object key as S3 writes it into event notifications: form-encoded (space `+`, `+` `%2B`), `/` kept."""
    return quote_plus(key, safe="/")


def s3_object_created_event(
    bucket: str,
    key: str,
    *,
    size: int,
    etag: str,
    version_id: str | None = None,
    sequencer: str | None = None,
    event_name: str = "ObjectCreated:Put",
    time: datetime | None = None,
    region: str = REGION,
    source_ip: str = SAMPLE_SOURCE_IP,
    request_id: str | None = None,
) -> dict[str, Any]:
    """An S3 event notification with one `ObjectCreated:*` record (Put, Post, Copy or CompleteMultipartUpload).

    `key` is the object key as stored (`uploads/my movies+extras.csv`); the record carries it encoded as S3 does
    (`uploads/my+movies%2Bextras.csv`), so read it with Powertools' `S3Event.object_key` (decodes), never with the
    record's raw `s3.get_object.key`. `size` in bytes; `etag` without quotes; `sequencer` is a hex string that
    orders events for one key (default derived from the time). Raises ValueError for another event name.
    """
    if not event_name.startswith("ObjectCreated:"):
        raise ValueError(f"not an ObjectCreated event: {event_name!r}")
    now = time or datetime.now(UTC)
    request_id = request_id or uuid.uuid4().hex[:16].upper()
    s3_object: dict[str, Any] = {"key": s3_key_in_event(key), "size": size, "eTag": etag}
    if version_id is not None:
        s3_object["versionId"] = version_id
    s3_object["sequencer"] = sequencer or f"{int(now.timestamp() * 1e6):016X}"
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": region,
                "eventTime": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
                "eventName": event_name,
                "userIdentity": {"principalId": "AWS:AIDAEXAMPLEPRINCIPAL"},
                "requestParameters": {"sourceIPAddress": source_ip},
                "responseElements": {
                    "x-amz-request-id": request_id,
                    "x-amz-id-2": base64.b64encode(request_id.encode() * 3).decode("ascii"),
                },
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "UploadsObjectCreated",
                    "bucket": {
                        "name": bucket,
                        "ownerIdentity": {"principalId": "A3EXAMPLEOWNER"},
                        "arn": f"arn:aws:s3:::{bucket}",
                    },
                    "object": s3_object,
                },
            }
        ]
    }


def rule_arn(rule: str, *, region: str = REGION, account: str = ACCOUNT_ID) -> str:
    """The ARN of an EventBridge rule on the default bus (a name, or an ARN returned unchanged)."""
    return rule if rule.startswith("arn:") else f"arn:aws:events:{region}:{account}:rule/{rule}"


def scheduled_event(
    rule: str,
    *,
    time: datetime | None = None,
    event_id: str | None = None,
    region: str = REGION,
    account: str = ACCOUNT_ID,
) -> dict[str, Any]:
    """The EventBridge event a schedule rule (`rate(...)`/`cron(...)`) delivers: detail-type "Scheduled Event",
    source aws.events, the rule's ARN as the only resource, an empty detail; `time` is the scheduled time (UTC,
    whole seconds)."""
    now = (time or datetime.now(UTC)).astimezone(UTC)
    return {
        "version": "0",
        "id": event_id or str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [rule_arn(rule, region=region, account=account)],
        "detail": {},
    }


def eventbridge_event(
    source: str,
    detail_type: str,
    detail: Mapping[str, Any],
    *,
    resources: list[str] | None = None,
    time: datetime | None = None,
    event_id: str | None = None,
    region: str = REGION,
    account: str = ACCOUNT_ID,
) -> dict[str, Any]:
    """An event an application puts on an EventBridge bus (PutEvents) as a rule target receives it, e.g.
    source `marquee.admin`, detail-type `Sync Requested`."""
    now = (time or datetime.now(UTC)).astimezone(UTC)
    return {
        "version": "0",
        "id": event_id or str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": account,
        "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": list(resources or []),
        "detail": dict(detail),
    }


def custom_resource_event(
    request_type: str,
    *,
    logical_id: str,
    resource_type: str,
    properties: Mapping[str, Any],
    service_token: str,
    old_properties: Mapping[str, Any] | None = None,
    physical_resource_id: str | None = None,
    stack_id: str = f"arn:aws:cloudformation:{REGION}:{ACCOUNT_ID}:stack/marquee/5b918d10-cd98-11ea-90d5-0a9cd3354c10",
    request_id: str | None = None,
    response_url: str | None = None,
) -> dict[str, Any]:
    """A CloudFormation custom resource request (Create, Update or Delete) as Lambda receives it. ResourceProperties
    include the ServiceToken, as CloudFormation sends them; Update and Delete carry the PhysicalResourceId, Update
    the OldResourceProperties. `response_url` is the pre-signed S3 URL the function must PUT its answer to.
    Raises ValueError for another request type, or for Update/Delete without a physical id."""
    if request_type not in {"Create", "Update", "Delete"}:
        raise ValueError(f"not a custom resource request type: {request_type!r}")
    if request_type != "Create" and physical_resource_id is None:
        raise ValueError(f"{request_type} requests carry the PhysicalResourceId")
    request_id = request_id or str(uuid.uuid4())
    if response_url is None:
        target = quote_plus(f"{stack_id}|{logical_id}|{request_id}", safe="")
        response_url = (
            f"https://cloudformation-custom-resource-response-{REGION.replace('-', '')}.s3.amazonaws.com/{target}"
            "?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        )
    event: dict[str, Any] = {
        "RequestType": request_type,
        "ServiceToken": service_token,
        "ResponseURL": response_url,
        "StackId": stack_id,
        "RequestId": request_id,
        "LogicalResourceId": logical_id,
        "ResourceType": resource_type,
        "ResourceProperties": {"ServiceToken": service_token, **properties},
    }
    if physical_resource_id is not None:
        event["PhysicalResourceId"] = physical_resource_id
    if request_type == "Update":
        event["OldResourceProperties"] = {"ServiceToken": service_token, **(old_properties or {})}
    return event


def kind_of(event: Mapping[str, Any]) -> str:
    """`rest`, `authorizer_request`, `authorizer_token`, `s3`, `scheduled`, `eventbridge` or `custom_resource`;
    ValueError for anything else."""
    if event.get("type") == "REQUEST" and "methodArn" in event:
        return "authorizer_request"
    if event.get("type") == "TOKEN":
        return "authorizer_token"
    if "httpMethod" in event and "requestContext" in event:
        return "rest"
    if (event.get("Records") or [{}])[0].get("eventSource") == "aws:s3":
        return "s3"
    if event.get("detail-type") == "Scheduled Event":
        return "scheduled"
    if "detail-type" in event and "source" in event and "detail" in event:
        return "eventbridge"
    if "RequestType" in event and "ResponseURL" in event:
        return "custom_resource"
    raise ValueError("not an event shape this toolkit builds")


def _rest_fields(event: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments of `rest_proxy_event` that rebuild `event` (plus `method` and `path`)."""
    context = event["requestContext"]
    gateway_added = {"host", "x-amzn-trace-id", "x-forwarded-for", "x-forwarded-port", "x-forwarded-proto"}
    client = [
        (name, value)
        for name, values in (event.get("multiValueHeaders") or {}).items()
        for value in values
        if name.lower() not in gateway_added
    ]
    body: bytes | str | None = event.get("body")
    if event.get("isBase64Encoded") and isinstance(body, str):
        body = base64.b64decode(body)
    single = event.get("headers") or {}
    return {
        "method": event["httpMethod"],
        "path": event["path"],
        "resource": event["resource"],
        "path_parameters": event.get("pathParameters") or {},
        "query": [(k, v) for k, vs in (event.get("multiValueQueryStringParameters") or {}).items() for v in vs],
        "headers": client,
        "body": body,
        "authorizer": context.get("authorizer"),
        "request_id": context["requestId"],
        "time": datetime.fromtimestamp(context["requestTimeEpoch"] / 1000, UTC),
        "source_ip": context["identity"]["sourceIp"],
        "stage": context["stage"],
        "api_id": context["apiId"],
        "host": context["domainName"],
        "port": int(single.get("X-Forwarded-Port", 443)),
        "scheme": single.get("X-Forwarded-Proto", "https"),
        "stage_path": context["path"].startswith(f"/{context['stage']}/"),
        "binary": bool(event.get("isBase64Encoded")),
    }


def _rest_from(event: Mapping[str, Any]) -> dict[str, Any]:
    fields = _rest_fields(event)
    return rest_proxy_event(fields.pop("method"), fields.pop("path"), **fields)


def rebuild(event: Mapping[str, Any]) -> dict[str, Any]:
    """The event this toolkit builds from `event`'s salient fields (method, path, headers, key, rule, time, ...).
    An event equal to its rebuild has exactly the shape AWS sends. ValueError for an unknown shape."""
    kind = kind_of(event)
    if kind == "rest":
        return _rest_from(event)
    if kind == "authorizer_request":
        return authorizer_request_event(_rest_from({**event, "body": None, "isBase64Encoded": False}))
    if kind == "authorizer_token":
        arn = event["methodArn"]
        head, _, rest = arn.partition("/")
        stage, method, path = rest.split("/", 2)
        api_id = head.rsplit(":", 1)[1]
        account = head.split(":")[4]
        proxy = rest_proxy_event(method, "/" + path, stage=stage, api_id=api_id, request_id=SAMPLE_REQUEST_ID)
        proxy["requestContext"]["accountId"] = account
        return authorizer_token_event(proxy, event["authorizationToken"])
    if kind == "s3":
        record = event["Records"][0]
        s3_object = record["s3"]["object"]
        return s3_object_created_event(
            record["s3"]["bucket"]["name"],
            unquote_plus(s3_object["key"]),
            size=s3_object["size"],
            etag=s3_object["eTag"],
            version_id=s3_object.get("versionId"),
            sequencer=s3_object.get("sequencer"),
            event_name=record["eventName"],
            time=datetime.strptime(record["eventTime"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC),
            region=record["awsRegion"],
            source_ip=record["requestParameters"]["sourceIPAddress"],
            request_id=record["responseElements"]["x-amz-request-id"],
        )
    if kind == "custom_resource":
        return custom_resource_event(
            event["RequestType"],
            logical_id=event["LogicalResourceId"],
            resource_type=event["ResourceType"],
            properties={k: v for k, v in event["ResourceProperties"].items() if k != "ServiceToken"},
            service_token=event["ServiceToken"],
            old_properties={k: v for k, v in (event.get("OldResourceProperties") or {}).items() if k != "ServiceToken"},
            physical_resource_id=event.get("PhysicalResourceId"),
            stack_id=event["StackId"],
            request_id=event["RequestId"],
            response_url=event["ResponseURL"],
        )
    if kind == "eventbridge":
        return eventbridge_event(
            event["source"],
            event["detail-type"],
            event["detail"],
            resources=event.get("resources"),
            time=datetime.strptime(event["time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC),
            event_id=event["id"],
            region=event["region"],
            account=event["account"],
        )
    return scheduled_event(
        event["resources"][0],
        time=datetime.strptime(event["time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC),
        event_id=event["id"],
        region=event["region"],
        account=event["account"],
    )


_KEEP: Any = object()


def adjust(
    event: Mapping[str, Any],
    *,
    key: Any = _KEEP,
    headers: Mapping[str, str | None] | None = None,
    query: Query | Any | None = _KEEP,
    path_params: Mapping[str, str] | None = None,
    path: str | None = None,
    resource: str | None = None,
    method: str | None = None,
    body: bytes | str | Any | None = _KEEP,
    authorizer: Mapping[str, Any] | Any | None = _KEEP,
    bucket: str | None = None,
    size: int | None = None,
    time: datetime | None = None,
    rule: str | None = None,
) -> dict[str, Any]:
    """A copy of `event`, rebuilt with some fields changed, so the result keeps the exact shape AWS sends.

    REST and REQUEST-authorizer events: `key` sets the X-API-KEY header (None removes it); `headers` are merged
    (a None value removes that header, any case); `query` replaces the query (a mapping, pairs or a raw string;
    None for none); `path_params` fill the resource template into a new path; `path`, `resource`, `method`,
    `body`, `authorizer` replace theirs (path parameters then follow from the path under the resource).
    S3 events: `key` is the object key as stored, `bucket`, `size`, `time`. Scheduled events: `rule`, `time`.
    ValueError for an override that does not apply to the event's kind.
    """
    kind = kind_of(event)
    if kind in {"rest", "authorizer_request"}:
        if bucket is not None or size is not None or rule is not None:
            raise ValueError(f"bucket, size and rule do not apply to a {kind} event")
        base = dict(event) if kind == "rest" else {**event, "body": None, "isBase64Encoded": False}
        fields = _rest_fields(base)
        pairs: list[tuple[str, str]] = fields.pop("headers")
        changes = dict(headers or {})
        if key is not _KEEP:
            changes = {"X-API-KEY": key, **changes}
        for name, value in changes.items():
            position = next((i for i, (k, _) in enumerate(pairs) if k.lower() == name.lower()), None)
            pairs = [(k, v) for k, v in pairs if k.lower() != name.lower()]
            if value is not None:
                pairs.insert(len(pairs) if position is None else position, (name, value))
        fields["headers"] = pairs
        if query is not _KEEP:
            fields["query"] = query
        if path_params is not None:
            filled = fields["resource"]
            for name, value in path_params.items():
                filled = re.sub(r"\{" + re.escape(name) + r"\+?\}", value, filled)
            fields["path"], fields["path_parameters"] = filled, dict(path_params)
        if resource is not None:
            fields["resource"], fields["path_parameters"] = resource, None
        if path is not None:
            fields["path"], fields["path_parameters"] = path, None
        if method is not None:
            fields["method"] = method
        if body is not _KEEP:
            fields["body"], fields["binary"] = body, False
        if authorizer is not _KEEP:
            fields["authorizer"] = authorizer
        if time is not None:
            fields["time"] = time
        rebuilt = rest_proxy_event(fields.pop("method"), fields.pop("path"), **fields)
        return rebuilt if kind == "rest" else authorizer_request_event(rebuilt)
    if kind == "s3":
        record = event["Records"][0]
        s3_object = record["s3"]["object"]
        return s3_object_created_event(
            bucket or record["s3"]["bucket"]["name"],
            unquote_plus(s3_object["key"]) if key is _KEEP else str(key),
            size=s3_object["size"] if size is None else size,
            etag=s3_object["eTag"],
            version_id=s3_object.get("versionId"),
            sequencer=s3_object.get("sequencer") if time is None else None,
            event_name=record["eventName"],
            time=time or datetime.strptime(record["eventTime"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC),
            region=record["awsRegion"],
            source_ip=record["requestParameters"]["sourceIPAddress"],
            request_id=record["responseElements"]["x-amz-request-id"],
        )
    if kind == "scheduled":
        rebuilt = rebuild(event)
        return scheduled_event(
            rule or rebuilt["resources"][0],
            time=time or datetime.strptime(event["time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC),
            event_id=event["id"],
            region=event["region"],
            account=event["account"],
        )
    raise ValueError(f"no overrides for a {kind} event")


def event_files(repo: Path) -> list[Path]:
    """Every functions/<function>/events/*.json of the repository, sorted."""
    return sorted(repo.glob("functions/*/events/*.json"))


def write_event(path: Path, event: Mapping[str, Any]) -> None:
    """Write an event file the way the repository keeps them: 2-space JSON, keys in the builder's order."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(event, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def regenerate(repo: Path) -> list[Path]:
    """Rewrite every event file of the repository as this toolkit builds it; returns the files that changed."""
    changed = []
    for path in event_files(repo):
        event = json.loads(path.read_text(encoding="utf-8"))
        rebuilt = rebuild(event)
        if rebuilt != event:
            write_event(path, rebuilt)
            changed.append(path)
    return changed


if __name__ == "__main__":
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2]
    for changed_file in regenerate(root):
        print(f"rewrote {changed_file.relative_to(root)}")  # noqa: T201
