"""The local API Gateway (REST): an ASGI app, served by uvicorn, that turns HTTP requests into API Gateway REST
proxy events for the real Lambda entry points of template.yaml, each route's Lambda authorizer first.

What it emulates, from the template: every function's Api events (resources matched as API Gateway does: static
segments before `{param}` before `{proxy+}`, an exact method before ANY, one trailing slash ignored, `path` as
sent and path parameters percent-decoded once), Lambda authorizers (REQUEST and TOKEN; several per API;
DefaultAuthorizer and per-route `Authorizer: NONE`; identity sources checked before invoking; policies matched
against the methodArn; results cached per identity for ReauthorizeEvery seconds), `ApiKeyRequired` with the
template's API keys (ApiKeySourceType HEADER or AUTHORIZER), SAM's CORS preflight (OPTIONS), gateway responses
rendered from their templates (`$context.*` substituted raw, as AWS does), the 10 MB payload limit (413), and the
API's own Host in every event. Not emulated: usage-plan throttles and quotas, request validators, mapping
templates, binary media types, resource policies, IAM and Cognito authorizers, WAF. See README "The local
gateway".
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import fnmatch
import json
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from marquee_local import events
from marquee_local.lambdas import FunctionError, LocalLambdas
from marquee_local.template import ApiSpec, AuthorizerSpec, GatewayResponse, RouteSpec

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # API Gateway's request payload limit
BODY_TIMEOUT_SECONDS = 30.0  # a client that stops sending its body gets 408 instead of holding the request forever
LOCAL_API_ID = "local"

# Query parameters whose values are credentials (an API key sent TMDB's way, `?api_key=`, is refused but still a
# live key; a presigned URL's signature), and the random part of an export's download name (the credential of the
# one-machine stack's downloads, movie_admin.routes.exports): the access log shows `***` for them.
SECRET_QUERY_NAMES = frozenset(
    (
        "api_key",
        "apikey",
        "key",
        "token",
        "access_token",
        "password",
        "x-amz-signature",
        "x-amz-credential",
        "x-amz-security-token",
        "signature",
    )
)
_EXPORT_NAME = re.compile(r"(/admin/exports/)[A-Za-z0-9_-]{22}(?=-)")
REDACTED = "***"


def logged_target(path: str, query: str) -> str:
    """The request target as the access log shows it: the path and the query as sent, except credentials
    (SECRET_QUERY_NAMES' values, an export name's random part), which are REDACTED. A terminal, a CI log or a
    pasted transcript must not carry a key that still works."""
    shown = _EXPORT_NAME.sub(rf"\1{REDACTED}", path)
    if not query:
        return shown
    parts = []
    for part in query.split("&"):
        name, equals, _ = part.partition("=")
        secret = equals and unquote(name.replace("+", " ")).strip().lower() in SECRET_QUERY_NAMES
        parts.append(f"{name}={REDACTED}" if secret else part)
    return f"{shown}?{'&'.join(parts)}"


# Default status of each gateway response type (API Gateway developer guide, "Gateway response types").
DEFAULT_STATUS = {
    "ACCESS_DENIED": 403,
    "API_CONFIGURATION_ERROR": 500,
    "AUTHORIZER_CONFIGURATION_ERROR": 500,
    "AUTHORIZER_FAILURE": 500,
    "BAD_REQUEST_BODY": 400,
    "BAD_REQUEST_PARAMETERS": 400,
    "EXPIRED_TOKEN": 403,
    "INTEGRATION_FAILURE": 504,
    "INTEGRATION_TIMEOUT": 504,
    "INVALID_API_KEY": 403,
    "MISSING_AUTHENTICATION_TOKEN": 403,
    "QUOTA_EXCEEDED": 429,
    "REQUEST_TOO_LARGE": 413,
    "RESOURCE_NOT_FOUND": 404,
    "THROTTLED": 429,
    "UNAUTHORIZED": 401,
    "UNSUPPORTED_MEDIA_TYPE": 415,
}
MESSAGES = {
    "ACCESS_DENIED": "User is not authorized to access this resource",
    "AUTHORIZER_CONFIGURATION_ERROR": None,
    "AUTHORIZER_FAILURE": None,
    "INTEGRATION_FAILURE": "Internal server error",
    "INTEGRATION_TIMEOUT": "Endpoint request timed out",
    "INVALID_API_KEY": "Forbidden",
    "MISSING_AUTHENTICATION_TOKEN": "Missing Authentication Token",
    "REQUEST_TOO_LARGE": "Request Too Long",
    "UNAUTHORIZED": "Unauthorized",
    "BAD_REQUEST_BODY": "Request timeout while reading the body",
}
_DEFAULT_TEMPLATE = '{"message":$context.error.messageString}'
_CONTEXT_VARIABLE = re.compile(r"\$(?:context\.([A-Za-z0-9_.]*[A-Za-z0-9_])|\{context\.([A-Za-z0-9_.]+)\})")
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # an HTTP header name (RFC 9110 token)
_UNSAFE_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_AUTHORIZER_CACHE_LIMIT = 10_000
_NO_CONTENT = (204, 304)
_HOP_BY_HOP = {"content-length", "transfer-encoding", "connection", "keep-alive", "date", "server"}


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


@dataclass
class _Resource:
    """A node of the resource tree: static children, one `{param}` child, one `{proxy+}` child, its methods."""

    static: dict[str, _Resource] = field(default_factory=dict)
    param: tuple[str, _Resource] | None = None
    greedy: tuple[str, _Resource] | None = None
    path: str = "/"
    methods: dict[str, RouteSpec] = field(default_factory=dict)


def _build_tree(routes: list[RouteSpec]) -> _Resource:
    root = _Resource()
    for route in routes:
        node = root
        for segment in [s for s in route.path.strip("/").split("/") if s]:
            if segment.startswith("{") and segment.endswith("+}"):
                name = segment[1:-2]
                if node.greedy is None:
                    node.greedy = (name, _Resource(path=route.path))
                node = node.greedy[1]
                break
            if segment.startswith("{") and segment.endswith("}"):
                name = segment[1:-1]
                if node.param is None:
                    node.param = (name, _Resource())
                elif node.param[0] != name:
                    raise ValueError(f"{route.path}: API Gateway allows one path variable per level ({node.param[0]})")
                node = node.param[1]
            else:
                node = node.static.setdefault(segment, _Resource())
        node.path = route.path
        if route.method in node.methods:
            raise ValueError(f"two events declare {route.method} {route.path}")
        node.methods[route.method] = route
    return root


def _find(node: _Resource, segments: list[str], at: int, params: dict[str, str]) -> _Resource | None:
    """The most specific resource for the decoded segments: static, then {param}, then {proxy+}; backtracks."""
    if at == len(segments):
        return node if node.methods else None
    segment = segments[at]
    child = node.static.get(segment)
    if child is not None:
        found = _find(child, segments, at + 1, params)
        if found is not None:
            return found
    if node.param is not None and segment:
        name, child = node.param
        found = _find(child, segments, at + 1, params)
        if found is not None:
            params[name] = segment
            return found
    if node.greedy is not None:
        name, child = node.greedy
        if child.methods:
            params[name] = "/".join(segments[at:])
            return child
    return None


def _arn_matches(pattern: str, arn: str) -> bool:
    # IAM resource patterns: * matches any run of characters (slashes included), ? one character.
    return fnmatch.fnmatchcase(arn, pattern)


def _policy_allows(document: Any, arn: str) -> bool:
    """An explicit Deny matching `arn` wins; otherwise an Allow matching it admits; otherwise denied."""
    if not isinstance(document, Mapping):
        raise ValueError("policyDocument is missing")
    statements = document.get("Statement") or []
    if isinstance(statements, Mapping):
        statements = [statements]
    allowed = False
    for statement in statements:
        actions = statement.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        if not any(_arn_matches(a, "execute-api:Invoke") for a in actions):
            continue
        resources = statement.get("Resource", [])
        resources = [resources] if isinstance(resources, str) else resources
        if not any(_arn_matches(r, arn) for r in resources):
            continue
        effect = str(statement.get("Effect", "")).capitalize()
        if effect == "Deny":
            return False
        allowed = allowed or effect == "Allow"
    return allowed


def _context_value(value: Any) -> str:
    # API Gateway passes authorizer context values on as strings.
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass
class _Decision:
    policy: Any
    principal_id: str | None
    context: dict[str, str]
    usage_key: str | None
    expires: float


class _GatewayError(Exception):
    def __init__(self, kind: str, message: str | None = None, status: int | None = None) -> None:
        super().__init__(kind)
        self.kind, self.message, self.status = kind, message, status


# A Lambda proxy integration whose function fails, times out or answers something malformed: API Gateway's 502
# "Internal server error", rendered through DEFAULT_5XX (no dedicated gateway response type covers it).
LAMBDA_ERROR = ("DEFAULT_5XX", "Internal server error", 502)


class LocalGateway:
    """The ASGI app. `public_host` is the API's own domain as clients reach it (`127.0.0.1:8000`): API Gateway
    always sends its own Host to the integration, never the client's, so links built from it point back here."""

    def __init__(
        self,
        spec: ApiSpec,
        lambdas: LocalLambdas,
        *,
        public_host: str = "127.0.0.1:8000",
        scheme: str = "http",
        stage: str | None = None,
        warm: bool = True,
        access_log: Callable[[str], None] | None = None,
    ) -> None:
        self.spec = spec
        self.lambdas = lambdas
        self.public_host = public_host
        self.scheme = scheme
        self.stage = stage or spec.stage
        self.warm = warm
        self.access_log = access_log
        self.tree = _build_tree(spec.routes)
        self._cache: dict[tuple[Any, ...], _Decision] = {}
        # Each gateway API key's id, as requestContext.identity.apiKeyId shows it (stable per key value).
        self._api_key_ids = {key: "local" + uuid.uuid5(uuid.NAMESPACE_OID, key).hex[:6] for key in spec.api_keys}

    @property
    def port(self) -> int:
        host, _, port = self.public_host.rpartition(":")
        return int(port) if host and port.isdigit() else (443 if self.scheme == "https" else 80)

    # ------------------------------------------------------------------ ASGI

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        started = time.perf_counter()
        response = await self._serve(scope, receive)
        if response is None:  # the client went away
            return
        await send(
            {
                "type": "http.response.start",
                "status": response.status,
                "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers],
            }
        )
        await send({"type": "http.response.body", "body": response.body})
        if self.access_log is not None:
            client = (scope.get("client") or ("-", 0))[0]
            elapsed = (time.perf_counter() - started) * 1000
            target = logged_target(scope["path"], scope["query_string"].decode("latin-1"))
            self.access_log(f'{client} "{scope["method"]} {target}" {response.status} {elapsed:.1f} ms')

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    warm = {r.function for r in self.spec.routes} | {a.function for a in self.spec.authorizers.values()}
                    await self.lambdas.start(sorted(warm) if self.warm else ())
                except Exception as error:
                    await send({"type": "lifespan.startup.failed", "message": str(error)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.lambdas.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes | None:
        """The request body (uvicorn has already de-chunked it); None when the client disconnected."""
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is not None and (not declared.isdigit() or int(declared) > MAX_PAYLOAD_BYTES):
            # The HTTP parser has refused malformed lengths already; this is the payload limit.
            raise _GatewayError("REQUEST_TOO_LARGE" if declared.isdigit() else "BAD_REQUEST_BODY")
        chunks: list[bytes] = []
        size = 0
        async with asyncio.timeout(BODY_TIMEOUT_SECONDS):
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return None
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > MAX_PAYLOAD_BYTES:
                    raise _GatewayError("REQUEST_TOO_LARGE")
                chunks.append(chunk)
                if not message.get("more_body", False):
                    return b"".join(chunks)

    async def _serve(self, scope: Scope, receive: Receive) -> HttpResponse | None:
        request_id = str(uuid.uuid4())
        method = scope["method"]
        raw_path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        # Split on the slashes the client sent, then decode each segment once: %2F stays inside its segment.
        segments = [unquote(s) for s in raw_path.split("/")[1:]]
        if segments and segments[-1] == "":
            segments.pop()  # one trailing slash names the same resource
        path = raw_path  # API Gateway REST passes the path as sent; only path parameters are decoded
        context: dict[str, Any] = {
            "path": path,
            "requestId": request_id,
            "extendedRequestId": request_id[:8] + "=",
            "httpMethod": method,
            "stage": self.stage,
            "apiId": LOCAL_API_ID,
            "domainName": self.public_host,
            "identity": {"sourceIp": (scope.get("client") or ("127.0.0.1", 0))[0]},
            "authorizer": {},
        }
        try:
            body = await self._read_body(scope, receive)
            if body is None:
                return None
            params: dict[str, str] = {}
            node = _find(self.tree, segments, 0, params)
            if node is None:
                raise _GatewayError("MISSING_AUTHENTICATION_TOKEN")
            context["resourcePath"] = node.path
            route = node.methods.get(method)  # an exact method, then SAM's CORS OPTIONS, then ANY
            preflight = route is None and method == "OPTIONS" and self.spec.cors is not None
            if route is None and not preflight:
                route = node.methods.get("ANY")
                if route is None:
                    raise _GatewayError("MISSING_AUTHENTICATION_TOKEN")
            headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
            event = events.rest_proxy_event(
                method,
                path,
                resource=node.path,
                path_parameters=params,
                query=scope["query_string"].decode("latin-1"),
                headers=headers,
                body=body,
                request_id=request_id,
                source_ip=context["identity"]["sourceIp"],
                stage=self.stage,
                api_id=LOCAL_API_ID,
                host=self.public_host,
                port=self.port,
                scheme=self.scheme,
                stage_path=False,
            )
            if route is None:
                return await self._preflight(node, event, context)
            usage_key = await self._authorize(route.authorizer, event, context) if route.authorizer else None
            if route.api_key_required:
                self._check_api_key(route, usage_key, headers, event)
            try:
                result = await self.lambdas.invoke(route.function, event, request_id=request_id)
            except FunctionError:
                raise _GatewayError(*LAMBDA_ERROR) from None
            return self._from_proxy_result(result, context, method)
        except _GatewayError as error:
            return self.gateway_response(error.kind, context, message=error.message, status=error.status)
        except TimeoutError:
            return self.gateway_response("BAD_REQUEST_BODY", context, status=408)

    # ------------------------------------------------------------------ authorizers and keys

    async def _authorize(self, name: str, event: dict[str, Any], context: dict[str, Any]) -> str | None:
        """Run the route's authorizer (or reuse its cached answer); returns its usageIdentifierKey.
        Raises _GatewayError UNAUTHORIZED, ACCESS_DENIED, AUTHORIZER_FAILURE or AUTHORIZER_CONFIGURATION_ERROR."""
        authorizer = self.spec.authorizers[name]
        identity = self._identity(authorizer, event)
        arn = events.method_arn(event["httpMethod"], event["path"], stage=self.stage, api_id=LOCAL_API_ID)
        cache_key = (name, *identity) if authorizer.ttl_seconds > 0 and identity else None
        decision = self._cache.get(cache_key) if cache_key else None
        if decision is None or decision.expires < time.monotonic():
            decision = await self._invoke_authorizer(authorizer, event)
            if cache_key:
                if len(self._cache) >= _AUTHORIZER_CACHE_LIMIT:
                    now = time.monotonic()
                    self._cache = {k: d for k, d in self._cache.items() if d.expires > now}
                    while len(self._cache) >= _AUTHORIZER_CACHE_LIMIT:  # still full: drop the oldest entries
                        del self._cache[next(iter(self._cache))]
                self._cache[cache_key] = decision
        authorizer_context = {"principalId": decision.principal_id, **decision.context}
        context["authorizer"] = authorizer_context
        try:
            allowed = _policy_allows(decision.policy, arn)
        except ValueError:
            raise _GatewayError("AUTHORIZER_CONFIGURATION_ERROR") from None
        if not allowed:
            raise _GatewayError("ACCESS_DENIED")
        event["requestContext"]["authorizer"] = {**authorizer_context, "integrationLatency": 0}
        return decision.usage_key

    def _identity(self, authorizer: AuthorizerSpec, event: dict[str, Any]) -> tuple[str, ...]:
        """The identity-source values; UNAUTHORIZED (without invoking) when one is missing or fails validation."""
        headers = {k.lower(): v for k, v in (event["headers"] or {}).items()}
        query = event["queryStringParameters"] or {}
        values = [headers.get(h.lower(), "") for h in authorizer.identity_headers]
        values += [query.get(q, "") for q in authorizer.identity_query]
        if any(not v for v in values):
            raise _GatewayError("UNAUTHORIZED")
        expression = authorizer.validation_expression if authorizer.payload_type == "TOKEN" else None
        if expression and not re.fullmatch(expression, values[0]):
            raise _GatewayError("UNAUTHORIZED")
        return tuple(values)

    async def _invoke_authorizer(self, authorizer: AuthorizerSpec, event: dict[str, Any]) -> _Decision:
        if authorizer.payload_type == "TOKEN":
            headers = {k.lower(): v for k, v in (event["headers"] or {}).items()}
            request = events.authorizer_token_event(event, headers[authorizer.identity_headers[0].lower()])
        else:
            request = events.authorizer_request_event(event)
        try:
            answer = await self.lambdas.invoke(authorizer.function, request)
        except FunctionError as error:
            if error.message == "Unauthorized":
                raise _GatewayError("UNAUTHORIZED") from None
            raise _GatewayError("AUTHORIZER_FAILURE") from None
        if not isinstance(answer, Mapping) or "policyDocument" not in answer:
            raise _GatewayError("AUTHORIZER_CONFIGURATION_ERROR")
        raw_context = answer.get("context") or {}
        if not isinstance(raw_context, Mapping) or any(isinstance(v, dict | list) for v in raw_context.values()):
            raise _GatewayError("AUTHORIZER_CONFIGURATION_ERROR")
        return _Decision(
            policy=answer.get("policyDocument"),
            principal_id=None if answer.get("principalId") is None else str(answer["principalId"]),
            context={str(k): _context_value(v) for k, v in raw_context.items() if v is not None},
            usage_key=answer.get("usageIdentifierKey"),
            expires=time.monotonic() + authorizer.ttl_seconds,
        )

    def _check_api_key(
        self, route: RouteSpec, usage_key: str | None, headers: list[tuple[str, str]], event: dict[str, Any]
    ) -> None:
        if self.spec.api_key_source == "AUTHORIZER":
            key = usage_key if route.authorizer else None
        else:
            key = next((v for k, v in headers if k.lower() == "x-api-key"), None)
        key_id = self._api_key_ids.get(key) if key is not None else None
        if key is None or key_id is None:
            raise _GatewayError("INVALID_API_KEY")
        identity = event["requestContext"]["identity"]
        identity["apiKey"] = key
        identity["apiKeyId"] = key_id

    # ------------------------------------------------------------------ responses

    async def _preflight(self, node: _Resource, event: dict[str, Any], context: dict[str, Any]) -> HttpResponse:
        """SAM's generated OPTIONS method: a mock integration answering with the Cors headers."""
        cors = self.spec.cors
        if cors is None:
            raise _GatewayError("MISSING_AUTHENTICATION_TOKEN")
        authorizer = self.spec.default_authorizer if cors.with_authorizer else None
        usage_key = await self._authorize(authorizer, event, context) if authorizer else None
        if cors.with_api_key and any(r.api_key_required for r in self.spec.routes):
            route = RouteSpec(function="", handler="", path=node.path, method="OPTIONS", authorizer=authorizer)
            self._check_api_key(route, usage_key, list((event["headers"] or {}).items()), event)
        methods = cors.methods or ",".join(sorted({*node.methods, "OPTIONS"} - {"ANY"}))
        headers = [("Access-Control-Allow-Methods", methods), ("Access-Control-Allow-Origin", cors.origin)]
        if cors.headers:
            headers.append(("Access-Control-Allow-Headers", cors.headers))
        if cors.max_age:
            headers.append(("Access-Control-Max-Age", cors.max_age))
        if cors.credentials:
            headers.append(("Access-Control-Allow-Credentials", "true"))
        headers += [("Content-Type", "application/json"), ("Content-Length", "0")]
        headers.append(("x-amzn-RequestId", context["requestId"]))
        return HttpResponse(200, headers, b"")

    def gateway_response(
        self, kind: str, context: Mapping[str, Any], *, message: str | None = None, status: int | None = None
    ) -> HttpResponse:
        """API Gateway's own answer of type `kind`, from the template's GatewayResponses (the type's own entry,
        else DEFAULT_4XX/DEFAULT_5XX, else AWS's default `{"message": ...}`), `$context` variables substituted."""
        default_status = status or DEFAULT_STATUS.get(kind, 500)
        fallback = "DEFAULT_4XX" if default_status < 500 else "DEFAULT_5XX"
        spec: GatewayResponse | None = self.spec.gateway_responses.get(kind) or self.spec.gateway_responses.get(
            fallback
        )
        text = MESSAGES.get(kind) if message is None else message
        variables = {
            **context,
            "error": {
                "responseType": kind,
                "message": text or "",
                "messageString": json.dumps(text),
                "validationErrorString": "",
            },
        }
        template = spec.template if spec and spec.template else _DEFAULT_TEMPLATE
        body = render(template, variables).encode()
        headers = [(k, _header_value(v, variables)) for k, v in (spec.headers if spec else {}).items()]
        if not any(name.lower() == "content-type" for name, _ in headers):
            headers.append(("Content-Type", "application/json"))
        headers += [
            ("Content-Length", str(len(body))),
            ("x-amzn-RequestId", str(context["requestId"])),
            ("x-amzn-ErrorType", kind),
        ]
        return HttpResponse((spec.status if spec and spec.status else None) or default_status, headers, body)

    def _from_proxy_result(self, result: Any, context: Mapping[str, Any], method: str) -> HttpResponse:
        """The Lambda proxy result as HTTP; a malformed one (no statusCode, a body that is not a string, a header
        HTTP cannot carry) is API Gateway's 502."""
        if not isinstance(result, Mapping) or not isinstance(result.get("statusCode"), int | str):
            return self.gateway_response(LAMBDA_ERROR[0], context, message=LAMBDA_ERROR[1], status=LAMBDA_ERROR[2])
        raw = result.get("body") or ""
        try:
            status = int(result["statusCode"])
            if not isinstance(raw, str) or not 100 <= status <= 599:
                raise ValueError(status)
            body = base64.b64decode(raw, validate=True) if result.get("isBase64Encoded") else raw.encode()
            merged: dict[str, list[str]] = {str(k): [str(v)] for k, v in (result.get("headers") or {}).items()}
            for name, values in (result.get("multiValueHeaders") or {}).items():
                merged[str(name)] = [str(v) for v in values]  # multiValueHeaders win over headers for one name
            headers = [(k, v) for k, values in merged.items() if k.lower() not in _HOP_BY_HOP for v in values]
            for name, value in headers:
                name.encode("latin-1")
                value.encode("latin-1")
                if not _TOKEN.fullmatch(name) or _UNSAFE_VALUE.search(value):
                    raise ValueError(name)
        except (ValueError, TypeError, AttributeError, UnicodeEncodeError, binascii.Error):
            return self.gateway_response(LAMBDA_ERROR[0], context, message=LAMBDA_ERROR[1], status=LAMBDA_ERROR[2])
        if method == "HEAD":
            # No body, but the length GET would send, as the function gave it (RFC 9110 §9.3.2); none if it gave none
            # (a HEAD answer's length describes GET's content, so the empty body's 0 would be wrong).
            given = next((v for k, values in merged.items() if k.lower() == "content-length" for v in values), None)
            if given is not None and given.isdigit():
                headers.append(("Content-Length", given))
            headers.append(("x-amzn-RequestId", str(context["requestId"])))
            return HttpResponse(status, headers, b"")
        if status in _NO_CONTENT:
            # No body and no length (RFC 9110 §8.6: never in a 204; in a 304 only the 200's, which it does not know).
            headers.append(("x-amzn-RequestId", str(context["requestId"])))
            return HttpResponse(status, headers, b"")
        headers += [("Content-Length", str(len(body))), ("x-amzn-RequestId", str(context["requestId"]))]
        return HttpResponse(status, headers, body)


def _lookup(variables: Mapping[str, Any], dotted: str) -> str:
    value: Any = variables
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return "" if value is None else str(value)


def render(template: str, variables: Mapping[str, Any]) -> str:
    """Substitute `$context.x.y` / `${context.x.y}` as API Gateway does for gateway responses: the raw value, not
    JSON-escaped; unknown variables render empty."""
    return _CONTEXT_VARIABLE.sub(lambda m: _lookup(variables, m.group(1) or m.group(2)), template)


def _header_value(value: str, variables: Mapping[str, Any]) -> str:
    """A gateway response header: a static value, or a mapping such as `context.requestId`."""
    if value.startswith("context."):
        return _lookup(variables, value.removeprefix("context."))
    return value
