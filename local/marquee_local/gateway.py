"""The local API Gateway: HTTP in, REST proxy events out, to the real authorizer and handler entry points.

It mirrors what API Gateway does for this template: routes from template.yaml (static segments before
{params}), the REQUEST authorizer first ("Unauthorized" -> UNAUTHORIZED, Deny -> ACCESS_DENIED, a crash ->
AUTHORIZER_FAILURE, Allow without a known usage key -> INVALID_API_KEY), gateway responses rendered from their
templates, CORS preflights from the Api's Cors settings. Usage-plan throttles are not emulated: the per-key
limits that matter are enforced by the handler in PostgreSQL, as in AWS.
"""

from __future__ import annotations

import asyncio
import base64
import importlib
import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from marquee_local.lambda_context import LocalLambdaContext
from marquee_local.template import ApiSpec, RouteSpec, load_api_spec

Handler = Callable[[dict[str, Any], Any], Any]
STAGE = "local"
API_ID = "local"
ACCOUNT = "123456789012"
_DEFAULT_STATUS = {
    "UNAUTHORIZED": 401,
    "ACCESS_DENIED": 403,
    "MISSING_AUTHENTICATION_TOKEN": 403,
    "INVALID_API_KEY": 403,
    "AUTHORIZER_FAILURE": 500,
    "DEFAULT_4XX": 400,
    "DEFAULT_5XX": 500,
    "INTEGRATION_FAILURE": 502,
}
_MESSAGES = {
    "UNAUTHORIZED": "Unauthorized",
    "ACCESS_DENIED": "User is not authorized to access this resource",
    "MISSING_AUTHENTICATION_TOKEN": "Missing Authentication Token",
    "INVALID_API_KEY": "Forbidden",
    "AUTHORIZER_FAILURE": None,
    "INTEGRATION_FAILURE": "Internal server error",
}


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


@dataclass(frozen=True)
class _CompiledRoute:
    spec: RouteSpec
    pattern: re.Pattern[str]
    params: list[str]
    specificity: tuple[int, int]


def _compile(spec: RouteSpec) -> _CompiledRoute:
    parts, params, static = [], [], 0
    for segment in spec.path.strip("/").split("/"):
        match = re.fullmatch(r"\{([A-Za-z0-9_]+)\}", segment)
        if match:
            params.append(match.group(1))
            parts.append("([^/]+)")
        else:
            static += 1
            parts.append(re.escape(segment))
    pattern = re.compile("^/" + "/".join(p for p in parts if p) + "$")
    return _CompiledRoute(spec, pattern, params, (-static, -len(parts)))


def _load(handler_path: str) -> Handler:
    module_name, _, attribute = handler_path.rpartition(".")
    handler: Handler = getattr(importlib.import_module(module_name), attribute)
    return handler


class LocalGateway:
    """Turns one HTTP request into the events API Gateway would send, and the handler's answer into HTTP."""

    def __init__(self, spec: ApiSpec, *, usage_keys: set[str] | None = None) -> None:
        self.spec = spec
        self.routes = sorted((_compile(r) for r in spec.routes), key=lambda r: r.specificity)
        self.usage_keys = usage_keys
        self._handlers: dict[str, Handler] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_template(
        cls, template: Path, *, parameters: dict[str, str], usage_keys: set[str] | None = None
    ) -> LocalGateway:
        return cls(load_api_spec(template, parameters), usage_keys=usage_keys)

    def handler(self, path: str) -> Handler:
        with self._lock:
            if path not in self._handlers:
                self._handlers[path] = _load(path)
            return self._handlers[path]

    def match(self, method: str, path: str) -> tuple[RouteSpec, dict[str, str]] | None:
        for route in self.routes:
            found = route.pattern.match(path)
            if found and route.spec.method == method:
                return route.spec, {n: unquote(v) for n, v in zip(route.params, found.groups(), strict=True)}
        return None

    def _path_exists(self, path: str) -> bool:
        return any(route.pattern.match(path) for route in self.routes)

    def handle(
        self,
        method: str,
        target: str,
        headers: list[tuple[str, str]],
        body: bytes,
        source_ip: str,
        *,
        port: int = 80,
    ) -> HttpResponse:
        url = urlsplit(target)
        # API Gateway adds these (https, 443 there); Mangum builds the request's URL from them.
        forwarded = {"x-forwarded-proto": "http", "x-forwarded-port": str(port), "x-forwarded-for": source_ip}
        headers = [(k, v) for k, v in headers if k.lower() not in forwarded] + [
            (name.title(), value) for name, value in forwarded.items()
        ]
        path = unquote(url.path) or "/"
        request_id = str(uuid.uuid4())
        context = {"path": path, "requestId": request_id}
        if method == "OPTIONS" and self.spec.cors and self._path_exists(path):
            return self._preflight()
        matched = self.match(method, path)
        if matched is None:
            return self._gateway_response("MISSING_AUTHENTICATION_TOKEN", context)
        route, path_params = matched
        event = build_proxy_event(
            route=route,
            method=method,
            path=path,
            query=url.query,
            headers=headers,
            body=body,
            path_params=path_params,
            request_id=request_id,
            source_ip=source_ip,
        )
        if route.authorized and self.spec.authorizer_handler:
            denied = self._authorize(event, context)
            if denied is not None:
                return denied
        try:
            result = self.handler(route.handler)(event, LocalLambdaContext(function_name=route.function))
        except Exception:
            return self._gateway_response("INTEGRATION_FAILURE", context, fallback="DEFAULT_5XX")
        return _from_proxy_result(result)

    def _authorize(self, event: dict[str, Any], context: dict[str, Any]) -> HttpResponse | None:
        authorizer_event = {
            "type": "REQUEST",
            "methodArn": f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{API_ID}/{STAGE}/{event['httpMethod']}"
            f"{event['path']}",
            **{
                k: event[k]
                for k in (
                    "resource",
                    "path",
                    "httpMethod",
                    "headers",
                    "multiValueHeaders",
                    "queryStringParameters",
                    "multiValueQueryStringParameters",
                    "pathParameters",
                    "stageVariables",
                    "requestContext",
                )
            },
        }
        try:
            answer = self.handler(self.spec.authorizer_handler or "")(
                authorizer_event, LocalLambdaContext(function_name="authorizer")
            )
        except Exception as error:
            if str(error) == "Unauthorized":
                return self._gateway_response("UNAUTHORIZED", context, fallback="DEFAULT_4XX")
            return self._gateway_response("AUTHORIZER_FAILURE", context, fallback="DEFAULT_5XX")
        statements = answer.get("policyDocument", {}).get("Statement", [])
        allowed = any(s.get("Effect") == "Allow" for s in statements) and not any(
            s.get("Effect") == "Deny" for s in statements
        )
        authorizer = {"principalId": answer.get("principalId"), **(answer.get("context") or {})}
        context["authorizer"] = authorizer
        if not allowed:
            return self._gateway_response("ACCESS_DENIED", context, fallback="DEFAULT_4XX")
        usage_key = answer.get("usageIdentifierKey")
        if self.usage_keys is not None and usage_key not in self.usage_keys:
            return self._gateway_response("INVALID_API_KEY", context, fallback="DEFAULT_4XX")
        event["requestContext"]["authorizer"] = authorizer
        return None

    def _preflight(self) -> HttpResponse:
        cors = self.spec.cors
        headers = [
            ("Access-Control-Allow-Origin", cors.get("AllowOrigin", "*")),
            ("Access-Control-Allow-Methods", cors.get("AllowMethods", "GET,OPTIONS")),
            ("Access-Control-Allow-Headers", cors.get("AllowHeaders", "*")),
            ("Access-Control-Max-Age", cors.get("MaxAge", "600")),
            ("Content-Length", "0"),
        ]
        return HttpResponse(200, headers, b"")

    def _gateway_response(self, kind: str, context: dict[str, Any], fallback: str = "DEFAULT_4XX") -> HttpResponse:
        spec = self.spec.gateway_responses.get(kind) or self.spec.gateway_responses.get(fallback)
        status = (spec.status if spec and spec.status else None) or _DEFAULT_STATUS.get(kind, 500)
        message = _MESSAGES.get(kind)
        context = {
            **context,
            "error": {"responseType": kind, "message": message or "", "messageString": json.dumps(message)},
        }
        body = _render(spec.template, context) if spec and spec.template else json.dumps({"message": message})
        headers = list((spec.headers if spec else {}).items())
        if not any(name.lower() == "content-type" for name, _ in headers):
            headers.append(("Content-Type", "application/json"))
        headers.append(("x-amzn-ErrorType", kind))
        headers.append(("X-Request-Id", context["requestId"]))
        return HttpResponse(status, headers, body.encode())


def _render(template: str, context: dict[str, Any]) -> str:
    """Gateway response templates here use only $context variables; unknown ones render empty, as in AWS."""

    def lookup(match: re.Match[str]) -> str:
        value: Any = context
        for part in match.group(1).split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return "" if value is None else str(value)

    return re.sub(r"\$context\.([A-Za-z0-9_.]+[A-Za-z0-9_])", lookup, template)


def build_proxy_event(
    *,
    route: RouteSpec,
    method: str,
    path: str,
    query: str,
    headers: list[tuple[str, str]],
    body: bytes,
    path_params: dict[str, str],
    request_id: str,
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """The REST API (v1) Lambda proxy event, as API Gateway sends it."""
    multi_headers: dict[str, list[str]] = {}
    for name, value in headers:
        multi_headers.setdefault(name, []).append(value)
    multi_query: dict[str, list[str]] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        multi_query.setdefault(name, []).append(value)
    now = datetime.now(UTC)
    text_body: str | None = None
    encoded = False
    if body:
        try:
            text_body = body.decode("utf-8")
        except UnicodeDecodeError:
            text_body, encoded = base64.b64encode(body).decode(), True
    return {
        "resource": route.path,
        "path": path,
        "httpMethod": method,
        "headers": {k: v[-1] for k, v in multi_headers.items()} or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": path_params or None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": "local",
            "resourcePath": route.path,
            "httpMethod": method,
            "extendedRequestId": request_id,
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "path": path,
            "accountId": ACCOUNT,
            "protocol": "HTTP/1.1",
            "stage": STAGE,
            "domainPrefix": "localhost",
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "requestId": request_id,
            "identity": {
                "sourceIp": source_ip,
                "userAgent": next((v for k, v in headers if k.lower() == "user-agent"), None),
                "accountId": None,
                "caller": None,
                "user": None,
                "userArn": None,
                "apiKey": None,
                "apiKeyId": None,
                "accessKey": None,
                "cognitoIdentityId": None,
                "cognitoIdentityPoolId": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "principalOrgId": None,
            },
            "domainName": "localhost",
            "apiId": API_ID,
        },
        "body": text_body,
        "isBase64Encoded": encoded,
    }


def _from_proxy_result(result: Any) -> HttpResponse:
    if not isinstance(result, dict) or "statusCode" not in result:
        return HttpResponse(502, [("Content-Type", "application/json")], b'{"message": "Internal server error"}')
    headers: dict[str, list[str]] = {k: [str(v)] for k, v in (result.get("headers") or {}).items()}
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers[name] = [str(v) for v in values]
    raw = result.get("body") or ""
    body = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode()
    pairs = [(k, v) for k, values in headers.items() for v in values if k.lower() != "content-length"]
    return HttpResponse(int(result["statusCode"]), pairs, body)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: GatewayServer

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        response = self.server.gateway.handle(
            self.command,
            self.path,
            list(self.headers.items()),
            body,
            self.client_address[0],
            port=self.server.server_address[1],
        )
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def __getattr__(self, name: str) -> Any:
        # Every method (TRACE, PROPFIND, ...) reaches the gateway, which answers as API Gateway would.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.access_log:
            self.server.access_log(f"{self.address_string()} {format % args}")


def _init_worker() -> None:
    # Each worker thread is one "warm Lambda environment": its own event loop (Mangum needs one) and, through
    # movie_common.database's thread-local cache, its own database connection.
    asyncio.set_event_loop(asyncio.new_event_loop())


class GatewayServer(HTTPServer):
    """An HTTP server whose requests run on a fixed pool of worker threads."""

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        gateway: LocalGateway,
        *,
        workers: int = 8,
        access_log: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(address, _RequestHandler)
        self.gateway = gateway
        self.access_log = access_log
        self.pool = ThreadPoolExecutor(workers, thread_name_prefix="lambda-env", initializer=_init_worker)

    def process_request(self, request: Any, client_address: Any) -> None:
        self.pool.submit(self._process, request, client_address)

    def _process(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)

    def server_close(self) -> None:
        super().server_close()
        self.pool.shutdown(wait=False, cancel_futures=True)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


def serve_in_thread(server: GatewayServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    time.sleep(0)  # let it enter the loop
    return thread
