"""The local API Gateway under a real uvicorn server on port 0, driven over HTTP, with a small test template
(tests/gateway_fixture): several functions and authorizers, ANY and HEAD methods, API keys, CORS, intrinsics."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from marquee_local.gateway import LocalGateway
from marquee_local.lambdas import LocalLambdas
from marquee_local.server import MAX_HEAD_BYTES, ServerThread
from marquee_local.template import api_spec, load_template

FIXTURE = Path(__file__).resolve().parent / "gateway_fixture" / "template.yaml"
ALLOW = {"X-Token": "allow"}


@pytest.fixture(scope="module")
def gateway() -> Iterator[ServerThread]:
    os.environ["GATEWAY_TEST_CANARY"] = "must not reach any function"
    try:
        template = load_template(FIXTURE)
        server = ServerThread("127.0.0.1", 0, name="fixture-gateway")
        lambdas = LocalLambdas(template.functions, max_environments=2)
        server.start(LocalGateway(api_spec(template), lambdas, public_host=server.authority))
    finally:
        del os.environ["GATEWAY_TEST_CANARY"]
    yield server
    server.stop()


def _get(server: ServerThread, path: str, **headers: str) -> httpx.Response:
    return httpx.get(server.url + path, headers=headers, timeout=30)


def _echo(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _raw(server: ServerThread, data: bytes, *, wait: float = 5.0) -> bytes:
    """Send bytes on a fresh connection; return what came back until the server closed or went quiet."""
    with socket.create_connection((server.host, server.port), timeout=wait) as sock:
        sock.sendall(data)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
                if _complete(received):
                    break
        except TimeoutError:
            pass
    return received


def _complete(data: bytes) -> bool:
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return False


# ---------------------------------------------------------------- routes, functions, environments


@pytest.mark.slow
def test_every_functions_api_events_are_routes(gateway: ServerThread) -> None:
    two = _echo(_get(gateway, "/two/ada"))
    assert two["function"] == "EchoTwoFunction"
    assert two["event"]["resource"] == "/two/{name}" and two["event"]["pathParameters"] == {"name": "ada"}
    one = _echo(_get(gateway, "/items/7", **ALLOW))
    assert one["function"] == "EchoOneFunction" and one["event"]["pathParameters"] == {"id": "7"}


@pytest.mark.slow
def test_static_segment_beats_path_parameter(gateway: ServerThread) -> None:
    special = _echo(_get(gateway, "/items/special"))  # no authorizer on this one, unlike /items/{id}
    assert special["event"]["resource"] == "/items/special" and special["event"]["pathParameters"] is None


@pytest.mark.slow
def test_each_function_gets_its_own_environment_from_the_template(gateway: ServerThread) -> None:
    one = _echo(_get(gateway, "/items/special"))["environment"]
    two = _echo(_get(gateway, "/two/x"))["environment"]
    assert (one["POWERTOOLS_SERVICE_NAME"], two["POWERTOOLS_SERVICE_NAME"]) == ("echo-one", "echo-two")
    assert (one["OWN"], two["OWN"]) == ("one", "from-globals")
    assert one["SHARED"] == two["SHARED"] == "from-globals"
    assert one["AWS_LAMBDA_FUNCTION_NAME"] == "EchoOneFunction" and one["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    # Intrinsics resolved to local stand-ins; what cannot be known locally is left out.
    assert one["STAGE_NAME"] == "test"
    assert one["TWO_ARN"] == "arn:aws:lambda:us-east-1:123456789012:function:EchoTwoFunction"
    assert one["BUCKET"] == "marquee-local-uploads"
    assert one["SUBBED"] == "us-east-1:test:marquee-local-uploads:" + one["TWO_ARN"]
    assert one["FLAVOUR"] == "mild"
    assert "DROPPED" not in one and "TOKEN_SECRET_ARN" not in one
    assert "GATEWAY_TEST_CANARY" not in one and "DATABASE_URL" not in one
    assert one["LAMBDA_TASK_ROOT"] == str(FIXTURE.parent / "src")


@pytest.mark.slow
def test_environments_stay_warm_and_serve_one_request_at_a_time(gateway: ServerThread) -> None:
    first = _echo(_get(gateway, "/two/a"))
    second = _echo(_get(gateway, "/two/b"))
    assert second["pid"] == first["pid"] and second["invocations"] > first["invocations"]
    with ThreadPoolExecutor(6) as pool:
        pids = {r["pid"] for r in pool.map(lambda i: _echo(_get(gateway, f"/two/{i}")), range(12))}
    assert 1 <= len(pids) <= 2  # max_environments=2
    assert 0 < first["remaining_ms"] <= 5000  # the template's Timeout


# ---------------------------------------------------------------- methods: exact, ANY, HEAD, OPTIONS


def test_an_exact_method_beats_any(gateway: ServerThread) -> None:
    assert _echo(_get(gateway, "/items", **ALLOW))["event"]["httpMethod"] == "GET"
    response = httpx.delete(gateway.url + "/items", timeout=30)
    assert response.status_code == 405 and response.headers["allow"] == "GET, HEAD"
    assert response.json() == {"status": 405, "code": "method_not_allowed", "method": "DELETE"}


def test_head_is_served_by_its_own_event_without_a_body(gateway: ServerThread) -> None:
    get = _get(gateway, "/items", **ALLOW)
    head = httpx.head(gateway.url + "/items", headers=ALLOW, timeout=30)
    assert head.status_code == 200 and head.content == b""
    assert head.headers.get_list("x-echo") == ["a", "b"]
    assert int(head.headers["content-length"]) > 0 and get.headers["content-type"] == head.headers["content-type"]


def test_a_method_the_resource_does_not_declare_is_missing_authentication_token(gateway: ServerThread) -> None:
    response = httpx.post(gateway.url + "/items/special", timeout=30)
    assert response.status_code == 403
    assert response.json() == {"type": "MISSING_AUTHENTICATION_TOKEN", "message": "Missing Authentication Token"}
    assert _get(gateway, "/nowhere").status_code == 403


def test_cors_preflight_is_answered_by_the_gateway_with_content_length_once(gateway: ServerThread) -> None:
    raw = _raw(gateway, b"OPTIONS /items/7 HTTP/1.1\r\nHost: x\r\nOrigin: http://portal.test\r\n\r\n")
    head = raw.split(b"\r\n\r\n", 1)[0].decode().lower().split("\r\n")
    assert head[0] == "http/1.1 200 ok"
    assert sum(line.startswith("content-length:") for line in head) == 1
    assert "access-control-allow-origin: http://portal.test" in head
    assert "access-control-allow-methods: get,options" in head  # computed from the resource's methods
    assert "access-control-allow-headers: x-token,authorization" in head and "access-control-max-age: 60" in head


# ---------------------------------------------------------------- paths


def test_a_trailing_slash_is_the_same_resource(gateway: ServerThread) -> None:
    event = _echo(_get(gateway, "/items/special/"))["event"]
    assert event["resource"] == "/items/special" and event["path"] == "/items/special/"


def test_an_encoded_slash_stays_inside_its_segment_and_is_decoded_once(gateway: ServerThread) -> None:
    event = _echo(_get(gateway, "/two/a%2Fb"))["event"]
    assert event["pathParameters"] == {"name": "a/b"} and event["path"] == "/two/a%2Fb"
    twice = _echo(_get(gateway, "/items/1%252Fchildren", **ALLOW))["event"]
    assert twice["resource"] == "/items/{id}" and twice["pathParameters"] == {"id": "1%2Fchildren"}
    once = _echo(_get(gateway, "/items/1%2Fchildren", **ALLOW))["event"]
    assert once["resource"] == "/items/{id}" and once["pathParameters"] == {"id": "1/children"}


def test_a_greedy_path_variable_takes_the_rest_of_the_path(gateway: ServerThread) -> None:
    event = _echo(_get(gateway, "/files/a/b%20c.txt"))["event"]
    assert event["resource"] == "/files/{proxy+}" and event["pathParameters"] == {"proxy": "a/b c.txt"}


def test_query_strings_keep_every_value(gateway: ServerThread) -> None:
    event = _echo(_get(gateway, "/two/q?genre=drama&genre=war&title=star%20w"))["event"]
    assert event["queryStringParameters"] == {"genre": "war", "title": "star w"}
    assert event["multiValueQueryStringParameters"] == {"genre": ["drama", "war"], "title": ["star w"]}


@pytest.mark.slow
def test_the_access_log_never_shows_a_credential() -> None:
    """An API key sent TMDB's way (`?api_key=`), a signature, or an export download's random name (the credential of
    the one-machine stack's downloads) reach the terminal as `***`; the rest of the target is shown as sent."""
    lines: list[str] = []
    template = load_template(FIXTURE)
    server = ServerThread("127.0.0.1", 0, name="logged-gateway")
    lambdas = LocalLambdas(template.functions, max_environments=1)
    server.start(LocalGateway(api_spec(template), lambdas, public_host=server.authority, access_log=lines.append))
    key = "9b2c5d8e-0f1a-4b3c-8d7e-6f5a4b3c2d1e"
    try:
        _get(server, f"/two/q?title=star%20w&api_key={key}&X-Amz-Signature=abc123def&genre=war")
        _get(server, "/admin/exports/AbCdEfGhIjKlMnOpQrStUv-requests-20261202T101010Z.csv")
    finally:
        server.stop()
    assert len(lines) == 2
    assert key not in lines[0] and "abc123def" not in lines[0]
    assert '"GET /two/q?title=star%20w&api_key=***&X-Amz-Signature=***&genre=war" 200' in lines[0]
    assert "AbCdEfGhIjKlMnOpQrStUv" not in lines[1]
    assert '"GET /admin/exports/***-requests-20261202T101010Z.csv" 403' in lines[1]


# ---------------------------------------------------------------- authorizers and API keys


def test_request_authorizer_context_reaches_the_function(gateway: ServerThread) -> None:
    event = _echo(_get(gateway, "/items/3", **ALLOW))["event"]
    assert event["requestContext"]["authorizer"] == {
        "principalId": "user-1",
        "n": "7",
        "ok": "true",
        "integrationLatency": 0,
    }


def test_the_source_ip_is_the_peer_never_x_forwarded_for(gateway: ServerThread) -> None:
    """As in API Gateway, a client cannot choose its sourceIp (the portal's per-IP limits count by it)."""
    spoofed = {**ALLOW, "X-Forwarded-For": "203.0.113.9", "X-Real-IP": "203.0.113.9", "Forwarded": "for=203.0.113.9"}
    event = _echo(_get(gateway, "/items/3", **spoofed))["event"]
    assert event["requestContext"]["identity"]["sourceIp"] == "127.0.0.1"


def test_missing_identity_source_is_401_from_the_templates_response(gateway: ServerThread) -> None:
    response = _get(gateway, "/items/3")
    assert response.status_code == 401  # the template sets no StatusCode: the type's default
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "UNAUTHORIZED" and problem["instance"] == "/items/3"
    assert response.headers["x-request-id"] == problem["request_id"] != ""  # a context.* header mapping


@pytest.mark.parametrize(
    ("token", "status", "body"),
    [
        ("nope", 401, None),  # the authorizer raised "Unauthorized"
        ("deny", 403, {"why": "denied", "principal": "user-3"}),
        ("crash", 500, {"message": None}),  # AUTHORIZER_FAILURE: AWS's default body
    ],
)
def test_authorizer_answers_map_to_gateway_responses(
    gateway: ServerThread, token: str, status: int, body: dict[str, Any] | None
) -> None:
    response = _get(gateway, "/items/3", **{"X-Token": token})
    assert response.status_code == status, response.text
    if body is not None:
        assert response.json() == body


def test_policy_is_matched_against_the_method_arn(gateway: ServerThread) -> None:
    assert _get(gateway, "/items", **{"X-Token": "only-items"}).status_code == 200
    denied = _get(gateway, "/items/1", **{"X-Token": "only-items"})
    assert denied.status_code == 403 and denied.json()["principal"] == "user-2"


@pytest.mark.slow
def test_token_authorizer_validates_then_caches_per_token(gateway: ServerThread) -> None:
    assert _get(gateway, "/token", Authorization="Basic abc").status_code == 401  # ValidationExpression
    assert _get(gateway, "/token", Authorization="Bearer bad").status_code == 401
    first = _echo(_get(gateway, "/token", Authorization="Bearer good"))["event"]["requestContext"]["authorizer"]
    again = _echo(_get(gateway, "/token", Authorization="Bearer good"))["event"]["requestContext"]["authorizer"]
    assert first["principalId"] == "token-user"
    assert again["calls"] == first["calls"]  # ReauthorizeEvery 300: answered from the cache, not invoked again


@pytest.mark.slow
def test_api_key_required_checks_the_templates_enabled_keys(gateway: ServerThread) -> None:
    missing = _get(gateway, "/keyed")
    assert missing.status_code == 403 and missing.json() == {"type": "INVALID_API_KEY", "message": "Forbidden"}
    assert _get(gateway, "/keyed", **{"x-api-key": "disabled-fixture-key-0000"}).status_code == 403
    event = _echo(_get(gateway, "/keyed", **{"x-api-key": "fixture-key-marquee-local"}))["event"]
    assert event["requestContext"]["identity"]["apiKey"] == "fixture-key-marquee-local"


# ---------------------------------------------------------------- integration results


@pytest.mark.parametrize("mode", ["raise", "malformed", "header-injection", "object-body"])
def test_a_failing_function_is_a_502(gateway: ServerThread, mode: str) -> None:
    response = _get(gateway, f"/fail/{mode}")
    assert response.status_code == 502 and response.json() == {"message": "Internal server error"}


@pytest.mark.slow
def test_a_function_past_its_timeout_is_ended_and_the_next_call_works(gateway: ServerThread) -> None:
    started = time.monotonic()
    assert _get(gateway, "/fail/slow").status_code == 502
    assert time.monotonic() - started < 10  # Timeout: 1 in the template, not the handler's 30 s sleep
    assert _get(gateway, "/fail/ok").status_code == 204


def test_base64_results_are_decoded(gateway: ServerThread) -> None:
    response = _get(gateway, "/fail/binary")
    assert response.content == b"\x00\x01\x02\xff" and response.headers["content-length"] == "4"


@pytest.mark.parametrize(("mode", "status"), [("not-modified", 304), ("no-content", 204)])
def test_a_304_or_204_has_no_content_length(gateway: ServerThread, mode: str, status: int) -> None:
    # RFC 9110 8.6: never in a 204, and in a 304 only as the 200's length; the gateway sent `Content-Length: 0`.
    response = _get(gateway, f"/fail/{mode}")
    assert response.status_code == status and response.content == b""
    assert "content-length" not in response.headers and "transfer-encoding" not in response.headers


def test_function_headers_merge_and_content_length_is_the_gateways(gateway: ServerThread) -> None:
    response = _get(gateway, "/two/x")
    assert response.headers.get_list("x-echo") == ["a", "b"]
    assert response.headers.get_list("content-length") == [str(len(response.content))]  # not the function's "1"


# ---------------------------------------------------------------- bodies and headers


def test_text_and_binary_bodies_reach_the_event(gateway: ServerThread) -> None:
    text = _echo(httpx.post(gateway.url + "/open", json={"a": 1}, timeout=30))["event"]
    assert json.loads(text["body"]) == {"a": 1} and text["isBase64Encoded"] is False
    binary = _echo(httpx.post(gateway.url + "/open", content=b"\xff\x00", timeout=30))["event"]
    assert binary["body"] == "/wA=" and binary["isBase64Encoded"] is True


def test_a_chunked_body_is_the_body_not_a_second_request(gateway: ServerThread) -> None:
    raw = _raw(
        gateway,
        b"POST /open HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
    )
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert json.loads(body)["event"]["body"] == "hello world"


def test_the_gateway_sends_its_own_host_never_the_clients(gateway: ServerThread) -> None:
    for host in ("evil.example", "[::1]:8000", "a b:c:d"):
        raw = _raw(gateway, f"GET /two/x HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        head, _, body = raw.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), (host, raw[:200])
        event = json.loads(body)["event"]
        assert event["headers"]["Host"] == gateway.authority
        assert event["requestContext"]["domainName"] == gateway.authority
        assert event["headers"]["X-Forwarded-Port"] == str(gateway.port)


# ---------------------------------------------------------------- slow and malformed clients


def test_idle_connections_do_not_take_the_api_offline(gateway: ServerThread) -> None:
    idle = [socket.create_connection((gateway.host, gateway.port)) for _ in range(16)]
    try:
        started = time.monotonic()
        assert _get(gateway, "/two/x").status_code == 200
        assert time.monotonic() - started < 5
    finally:
        for sock in idle:
            sock.close()


def test_requests_with_short_bodies_do_not_take_the_api_offline(gateway: ServerThread) -> None:
    stalled = []
    for _ in range(12):
        sock = socket.create_connection((gateway.host, gateway.port))
        sock.sendall(b"POST /open HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nonly a little")
        stalled.append(sock)
    try:
        started = time.monotonic()
        assert _get(gateway, "/two/x").status_code == 200
        assert time.monotonic() - started < 5
    finally:
        for sock in stalled:
            sock.close()


def _unparseable(raw: bytes) -> dict[str, Any]:
    """The problem a request the server could not parse gets: a 400 bad_request in JSON, the connection closed."""
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 "), raw
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(b":") for line in head.split(b"\r\n")[1:])}
    assert headers[b"content-type"] == b"application/problem+json"
    assert headers[b"connection"] == b"close"
    problem: dict[str, Any] = json.loads(body)
    assert (problem["status"], problem["code"], problem["title"]) == (400, "bad_request", "Bad request")
    assert problem["type"] == "https://marquee.dev/problems/bad_request" and problem["request_id"]
    return problem


@pytest.mark.parametrize("length", ["abc", "-1", "1, 2", "0x10"])
def test_a_malformed_content_length_is_a_400(gateway: ServerThread, length: str) -> None:
    raw = _raw(gateway, f"POST /open HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\nhello".encode())
    assert "Content-Length" in _unparseable(raw)["detail"]


@pytest.mark.parametrize("target", ["/open?title=amélie", "/amélie", "/open?q=東京", "/open?q=\u00a0"])
def test_a_url_with_raw_non_ascii_characters_is_a_400_problem_saying_to_percent_encode(
    gateway: ServerThread, target: str
) -> None:
    raw = _raw(gateway, f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert "percent-encode" in _unparseable(raw)["detail"]
    encoded = _get(gateway, "/two/am%C3%A9lie?q=%E6%9D%B1")  # percent-encoded, the same characters are served
    assert encoded.status_code == 200


def test_a_request_head_without_end_is_a_400_problem_and_a_long_body_is_not(gateway: ServerThread) -> None:
    # httptools kept a header however long it grew: one client sent 169 MB of one header and the stack's memory grew
    # by 700 MB. Past MAX_HEAD_BYTES of line and headers the server answers and closes, whatever is still coming.
    with socket.create_connection((gateway.host, gateway.port), timeout=10) as sock:
        sock.sendall(b"GET /two/x HTTP/1.1\r\nHost: x\r\nX-Long: ")
        received = b""
        with contextlib.suppress(ConnectionError, TimeoutError):
            for _ in range(MAX_HEAD_BYTES // 4096 + 64):  # a little past the limit; never the end of the header
                sock.sendall(b"a" * 4096)
        with contextlib.suppress(ConnectionError, TimeoutError):
            while chunk := sock.recv(65536):
                received += chunk
    assert "over 64 KiB" in _unparseable(received)["detail"]
    body = "x" * (MAX_HEAD_BYTES * 3)  # a body is read after the headers: not counted
    assert httpx.post(gateway.url + "/open", content=body, timeout=30).status_code == 200
    assert _get(gateway, "/two/x", **{"X-Short": "a" * 8000}).status_code == 200


def test_a_content_length_beyond_the_payload_limit_is_a_413_without_reading(gateway: ServerThread) -> None:
    raw = _raw(gateway, b"POST /open HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999\r\n\r\nhello")
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413 ")
    assert json.loads(body) == {"type": "REQUEST_TOO_LARGE", "message": "Request Too Long"}


@pytest.mark.slow
def test_the_listen_backlog_is_large(gateway: ServerThread) -> None:
    listing = subprocess.run(
        ["ss", "-ltnH", f"sport = :{gateway.port}"], capture_output=True, text=True, check=True
    ).stdout.split()
    # For a listening socket ss shows the backlog as Send-Q (the 3rd column).
    assert int(listing[2]) >= 1024, listing


@pytest.mark.slow
def test_stopping_the_server_ends_every_environment() -> None:
    template = load_template(FIXTURE)
    server = ServerThread("127.0.0.1", 0, name="short-lived")
    lambdas = LocalLambdas(template.functions, max_environments=1)
    server.start(LocalGateway(api_spec(template), lambdas, public_host=server.authority))
    try:
        assert _get(server, "/two/x").status_code == 200
        pids = [pid for pids in lambdas.pids().values() for pid in pids]
        assert len(pids) >= 4  # warmed at startup: every function with an Api event, and both authorizers
    finally:
        server.stop()
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_unresolvable_variables_come_from_the_shell_but_never_the_database_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from marquee_local import stack

    monkeypatch.setenv("TOKEN_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:local")
    monkeypatch.setenv("DATABASE_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:db")
    template = load_template(FIXTURE)
    lambdas = LocalLambdas(template.functions, per_function=stack.function_overrides(template, "postgresql:///x"))
    environment = lambdas.environment("EchoOneFunction")
    assert environment["TOKEN_SECRET_ARN"].endswith(":secret:local")  # declared, no local value: the shell's
    assert environment["DATABASE_URL"] == "postgresql:///x" and "DATABASE_SECRET_ARN" not in environment
    assert "SHARED" in environment and "HOME" in environment and "PYTEST_CURRENT_TEST" not in environment


@pytest.mark.slow  # over 0.35 s (README: the fast tier)
def test_a_pool_adds_an_environment_past_its_base_only_for_a_request_that_waited() -> None:
    from marquee_local.lambdas import FunctionError, FunctionPool, lambda_environment

    template = load_template(FIXTURE)
    spec = template.functions["FailingFunction"]  # /fail/slow sleeps past its 1 s timeout; /fail/ok answers 204

    def event(mode: str) -> dict[str, Any]:
        return {"httpMethod": "GET", "pathParameters": {"mode": mode}}

    async def scenario() -> None:
        patient = FunctionPool(spec, lambda_environment(spec), max_environments=3, base_environments=1, grow_after_s=30)
        try:  # fast requests at once take turns on the base environment instead of starting more
            answers = await asyncio.gather(*(patient.invoke(event("ok")) for _ in range(6)))
            assert [a["statusCode"] for a in answers] == [204] * 6 and patient.cold_starts == 1
        finally:
            await patient.close()
        pool = FunctionPool(spec, lambda_environment(spec), max_environments=3, base_environments=1)
        try:
            assert (await pool.invoke(event("ok")))["statusCode"] == 204
            # The only environment is held by a slow invocation: the next request waits GROW_AFTER_S for it, then
            # gets a new environment and is answered while the slow one still runs.
            slow = asyncio.create_task(pool.invoke(event("slow")))
            await asyncio.sleep(0.1)
            assert (await pool.invoke(event("ok")))["statusCode"] == 204
            assert not slow.done() and pool.cold_starts == 2
            with pytest.raises(FunctionError, match="timed out"):
                await slow
        finally:
            await pool.close()

    # On a thread of its own: the browser tests' sync Playwright leaves an event loop running on this one.
    with concurrent.futures.ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, scenario()).result()
