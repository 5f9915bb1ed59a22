"""End to end over HTTP: the local gateway built from template.yaml, the real authorizer and handler, real commits."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from marquee_local import cli, stack
from marquee_local.gateway import LocalGateway
from marquee_local.postgres import EmbeddedPostgres, pg_ctl_start, pg_ctl_stop
from marquee_local.server import ServerThread
from marquee_local.template import load_api_spec
from movie_common import access
from movie_common.database import connect

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[ServerThread]:
    """The local gateway for template.yaml under uvicorn on a free port, functions in warm processes."""
    gateway_server = stack.serve_gateway("127.0.0.1", 0, database_url=database_url, max_environments=2)
    yield gateway_server
    gateway_server.stop()


@pytest.fixture(scope="module")
def committed_key(database_url: str) -> Iterator[Callable[..., str]]:
    """Keys committed for real (the gateway's workers use their own connections), deleted afterwards."""
    owners: list[str] = []

    def make(plan: str = "pro", status: str = "active") -> str:
        with connect(database_url) as conn:
            email = f"e2e-{len(owners)}-{plan}@gmail.com"
            raw = stack.create_key(conn, owner_email=email, plan=plan).raw_key
            conn.execute("UPDATE api_keys SET status = %s WHERE key = %s", (status, access.hash_key(raw)))
        owners.append(email)
        return raw

    yield make
    with connect(database_url) as conn:
        conn.execute(
            """WITH gone AS (DELETE FROM users WHERE canonical_email = ANY(%s) RETURNING id)
               DELETE FROM usage_logs WHERE api_key_id NOT IN (SELECT id FROM api_keys)""",
            (owners,),
        )


def _get(server: ServerThread, path: str, **headers: str) -> httpx.Response:
    return httpx.get(server.url + path, headers=headers, timeout=30)


@pytest.mark.slow
def test_keyed_route_through_the_gateway(server: ServerThread, committed_key: Callable[..., str]) -> None:
    response = _get(server, "/search?title=casablanca", **{"X-API-KEY": committed_key()})
    assert response.status_code == 200
    assert response.json()["results"][0]["title"] == "Casablanca"
    assert response.headers["x-ratelimit-limit"] and response.headers["x-request-id"]


@pytest.mark.slow
def test_page_links_point_back_through_the_gateway(server: ServerThread, committed_key: Callable[..., str]) -> None:
    # API Gateway sends the API's own Host to the function, never the client's: links cannot be steered.
    response = _get(server, "/movies?per_page=2&page=2", **{"X-API-KEY": committed_key(), "Host": "evil.example"})
    link = response.headers["link"]
    assert "evil.example" not in link
    assert f'<{server.url}/movies?per_page=2&page=1>; rel="first"' in link
    assert f'<{server.url}/movies?per_page=2&page=1>; rel="prev"' in link
    assert f"<{server.url}/movies?per_page=2&cursor=" in link  # `next` by keyset: no duplicates while rows change


@pytest.mark.slow
def test_a_list_with_a_huge_query_is_read_by_http_client(
    server: ServerThread, committed_key: Callable[..., str]
) -> None:
    """A tester's real clients could not read these answers: every `Link` URL echoed the whole query (19 KB of
    headers for `utm=<6,000 x's>`, past Node's 16 KB; a 72 KB `link` line for 3,000 `Drama,`, which http.client
    refuses). Links now carry what the route recognised, and the repeats count towards the genre limit."""
    host, port = server.url.removeprefix("http://").split(":")
    key = committed_key()
    for query, status in ((f"title=god&utm={'x' * 6000}&per_page=1", 200), ("genre=" + "Drama," * 3000, 422)):
        client = http.client.HTTPConnection(host, int(port), timeout=30)
        try:
            client.request("GET", "/search?" + query, headers={"X-API-KEY": key})
            response = client.getresponse()  # raised "got more than 65536 bytes when reading header line"
            response.read()
        finally:
            client.close()
        assert response.status == status
        headers = response.getheaders()
        assert sum(len(name) + len(value) + 4 for name, value in headers) < 3000
        assert "utm" not in (response.getheader("link") or "")


def test_missing_key_gets_the_templates_401_problem(server: ServerThread) -> None:
    response = _get(server, "/movies")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["access-control-allow-origin"] == stack.PORTAL_ORIGIN
    problem = response.json()
    assert problem["code"] == "missing_api_key" and problem["request_id"]
    assert "instance" not in problem  # gateway templates cannot escape the raw path, so they leave it out


@pytest.mark.parametrize(
    ("key", "code"),
    [("not-a-uuid", "malformed_api_key"), ("3f2b8a9e-5c1d-4e7f-9a0b-1c2d3e4f5a6b", "invalid_api_key")],
)
def test_bad_keys_are_denied_at_the_edge(server: ServerThread, key: str, code: str) -> None:
    response = _get(server, "/movies/1", **{"X-API-KEY": key})
    assert response.status_code == 403
    problem = response.json()
    assert problem["code"] == code and problem["type"].endswith(code) and problem["status"] == 403


def test_suspended_key_is_denied_with_its_reason(server: ServerThread, committed_key: Callable[..., str]) -> None:
    response = _get(server, "/genres", Authorization=f"Bearer {committed_key(status='suspended')}")
    assert response.status_code == 403 and response.json()["code"] == "key_suspended"


@pytest.mark.slow
@pytest.mark.parametrize("status", ["revoked", "suspended"])
def test_a_key_refused_after_the_authorizer_kept_its_allow_is_refused_at_once(
    server: ServerThread, committed_key: Callable[..., str], database_url: str, status: str
) -> None:
    raw = committed_key()
    assert _get(server, "/movies/1", **{"X-API-KEY": raw}).status_code == 200  # the authorizer keeps this Allow
    with connect(database_url) as conn:
        conn.execute("UPDATE api_keys SET status = %s WHERE key = %s", (status, access.hash_key(raw)))
    for path in ("/movies/1", "/search?title=casablanca", "/genres"):
        response = _get(server, path, **{"X-API-KEY": raw})
        assert response.status_code == 403, (path, response.text)
        problem = response.json()
        assert problem["code"] == f"key_{status}" and problem["status"] == 403 and problem["request_id"]
        # Refused by the API function's admission (its problems name the instance; the gateway's cannot): the
        # authorizer, asked again by the same warm environment, answered from its kept Allow.
        assert problem["instance"] == path.partition("?")[0]


def test_unknown_route_is_a_404_problem_and_a_wrong_method_a_405(server: ServerThread) -> None:
    unknown = _get(server, "/nowhere")
    assert unknown.status_code == 404 and unknown.json()["code"] == "not_found"
    response = httpx.post(server.url + "/movies", timeout=30)  # the template's ANY event reaches the function
    assert response.status_code == 405 and response.json()["code"] == "method_not_allowed"


@pytest.mark.slow
@pytest.mark.parametrize("host", ["[::1]:8000", "[::1]", "a b", "x:y:z", ""])
def test_any_host_header_is_served_never_a_502(
    server: ServerThread, committed_key: Callable[..., str], host: str
) -> None:
    key = committed_key()
    request = f"GET /movies?per_page=1 HTTP/1.1\r\nHost: {host}\r\nX-API-KEY: {key}\r\nConnection: close\r\n\r\n"
    with socket.create_connection((server.host, server.port), timeout=30) as sock:
        sock.sendall(request.encode())
        head = b""
        while b"\r\n\r\n" not in head and (chunk := sock.recv(65536)):
            head += chunk
    assert head.startswith(b"HTTP/1.1 200 "), head[:300]
    assert f"<{server.url}/movies?".encode() in head  # the Link header, built from the gateway's own host


def test_a_double_encoded_slash_is_decoded_once_and_not_served_as_similar(
    server: ServerThread, committed_key: Callable[..., str]
) -> None:
    response = _get(server, "/movies/1%252Fsimilar", **{"X-API-KEY": committed_key()})
    assert response.status_code == 422, response.text  # the id "1%2Fsimilar" is not a number
    assert "results" not in response.json()


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/movies/1/", 200),  # exactly one trailing slash is the same route
        ("/movies/1//", 404),  # two are not
        ("/movies//", 404),
        ("/movies/1%2F", 422),  # an encoded slash is part of its segment: the id "1/" is not a number
        ("/movies/1%2F%2F", 422),
        ("/movies/1%2f", 422),
        ("/movies/1%2Fsimilar", 422),  # never /movies/1/similar
        ("/genres%2F", 404),  # nor a trailing slash
    ],
)
def test_one_trailing_slash_is_the_same_route_and_an_encoded_slash_never_separates_segments(
    server: ServerThread, committed_key: Callable[..., str], path: str, status: int
) -> None:
    response = _get(server, path, **{"X-API-KEY": committed_key()})
    assert response.status_code == status, response.text
    if status == 200:
        assert response.json()["id"] == 1
    else:
        assert response.json()["code"] == ("validation_error" if status == 422 else "not_found")
        assert "results" not in response.json()
    if status == 422:
        assert [e["name"] for e in response.json()["errors"]] == ["id"]


@pytest.mark.slow
def test_gateway_refusals_expose_the_same_headers_as_the_apps_responses(
    server: ServerThread, committed_key: Callable[..., str]
) -> None:
    """A browser reads only the headers a response exposes: the authorizer's 401 and 403 and the gateway's 404
    expose the same ones as the function's own answers."""
    admitted = _get(server, "/movies/1", **{"X-API-KEY": committed_key()})
    exposed = admitted.headers["access-control-expose-headers"]
    assert "X-Request-Id" in exposed and "RateLimit" in exposed
    refusals = [
        _get(server, "/movies/1"),  # 401: no key
        _get(server, "/movies/1", **{"X-API-KEY": "not-a-uuid"}),  # 403: the authorizer's Deny
        _get(server, "/movies/1", **{"X-API-KEY": committed_key(status="suspended")}),
        _get(server, "/nowhere"),  # the gateway's own 404
    ]
    assert [r.status_code for r in refusals] == [401, 403, 403, 404]
    for refusal in refusals:
        assert refusal.headers["access-control-expose-headers"] == exposed
        assert refusal.headers["access-control-allow-origin"] == admitted.headers["access-control-allow-origin"]
        assert refusal.json()["request_id"]


@pytest.mark.slow
@pytest.mark.parametrize("path", ["/nope%22x", '/nope"x', "/a\\b", '/a\\"b', "/%7B%7D"])
def test_every_gateway_response_of_the_template_is_json_for_hostile_paths(path: str) -> None:
    """$context variables are substituted raw, as API Gateway does: the templates must stay valid JSON anyway."""
    gateway = LocalGateway(load_api_spec(stack.TEMPLATE, {}), stack.local_lambdas(database_url="unused"))
    context = {"path": path, "requestId": "r-1", "authorizer": {"code": "c", "title": "t", "detail": "d"}}
    assert gateway.spec.gateway_responses, "template.yaml declares gateway responses"
    for kind in [*gateway.spec.gateway_responses, "INTEGRATION_FAILURE", "REQUEST_TOO_LARGE"]:
        response = gateway.gateway_response(kind, context)
        body = json.loads(response.body)
        assert isinstance(body, dict), (kind, response.body)


def test_unknown_path_with_a_quote_is_a_json_problem(server: ServerThread) -> None:
    response = _get(server, "/nope%22x")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


@pytest.mark.slow
def test_trailing_slash_answers_like_the_route_without_it(
    server: ServerThread, committed_key: Callable[..., str]
) -> None:
    key = committed_key()
    with_slash = _get(server, "/movies/?per_page=2", **{"X-API-KEY": key})
    assert with_slash.status_code == 200, with_slash.text
    assert with_slash.json()["results"] == _get(server, "/movies?per_page=2", **{"X-API-KEY": key}).json()["results"]


@pytest.mark.slow
def test_head_on_a_get_route_has_the_headers_and_no_body(
    server: ServerThread, committed_key: Callable[..., str]
) -> None:
    key = committed_key()
    head = httpx.head(server.url + "/movies/1", headers={"X-API-KEY": key}, timeout=30)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["etag"] and head.headers["x-ratelimit-limit"]
    # The length GET would send (RFC 9110 §9.3.2), not the empty body's 0.
    get = httpx.get(server.url + "/movies/1", headers={"X-API-KEY": key}, timeout=30)
    assert head.headers["content-length"] == get.headers["content-length"] == str(len(get.content)) != "0"
    health = httpx.head(server.url + "/health", timeout=30)
    assert health.status_code == 200 and health.headers.get("content-length") != "0"


def test_a_wrong_method_is_a_405_with_allow(server: ServerThread) -> None:
    response = httpx.delete(server.url + "/movies", timeout=30)
    assert response.status_code == 405, response.text
    assert "GET" in response.headers["allow"] and response.json()["status"] == 405


def test_options_sends_content_length_once(server: ServerThread) -> None:
    request = b"OPTIONS /movies HTTP/1.1\r\nHost: x\r\nOrigin: http://127.0.0.1:8080\r\nConnection: close\r\n\r\n"
    with socket.create_connection((server.host, server.port), timeout=30) as sock:
        sock.sendall(request)
        head = sock.recv(65536).split(b"\r\n\r\n", 1)[0].lower()
    assert head.startswith(b"http/1.1 200 ") and head.count(b"\r\ncontent-length:") == 1


def test_cors_preflight_needs_no_key(server: ServerThread) -> None:
    response = httpx.options(
        server.url + "/movies/1",
        headers={"Origin": stack.PORTAL_ORIGIN, "Access-Control-Request-Method": "GET"},
        timeout=30,
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == stack.PORTAL_ORIGIN
    assert "X-API-KEY" in response.headers["access-control-allow-headers"]


@pytest.mark.slow
def test_public_routes_need_no_key(server: ServerThread) -> None:
    assert _get(server, "/health").json()["status"] == "ok"
    assert "paths" in _get(server, "/openapi.json").json()
    assert "swagger-ui" in _get(server, "/docs").text


@pytest.mark.slow
@pytest.mark.usefixtures("away_from_utc_midnight")
def test_concurrent_requests_over_http_share_the_quota_exactly(
    server: ServerThread, committed_key: Callable[..., str], database_url: str
) -> None:
    # A daily quota of 30 (not the per-minute limit, whose window could turn over during the burst).
    with connect(database_url) as conn:
        conn.execute(
            "INSERT INTO plans (id, name, daily_quota, per_minute, gateway_tier) "
            "VALUES ('e2e_burst', 'E2E burst', 30, 100000, 'free')"
        )
    try:
        key = committed_key("e2e_burst")
        with ThreadPoolExecutor(12) as pool:
            statuses = list(pool.map(lambda _: _get(server, "/genres", **{"X-API-KEY": key}).status_code, range(60)))
        assert statuses.count(200) == 30 and statuses.count(429) == 30
    finally:
        with connect(database_url) as conn:
            conn.execute(
                """WITH gone AS (DELETE FROM api_keys WHERE plan = 'e2e_burst' RETURNING id)
                   DELETE FROM usage_logs WHERE api_key_id IN (SELECT id FROM gone)"""
            )
            conn.execute("DELETE FROM plans WHERE id = 'e2e_burst'")


def _flatten(routes: list[Any]) -> Iterator[Any]:
    """FastAPI 0.16x keeps included routers whole (`original_router`); walk into them."""
    for route in routes:
        nested = getattr(route, "original_router", None)
        if nested is not None:
            yield from _flatten(nested.routes)
        elif getattr(route, "methods", None):
            yield route


@pytest.mark.slow
def test_database_outage_through_the_stack_is_503_then_recovers(outage_database: tuple[EmbeddedPostgres, str]) -> None:
    """The authorizer runs first. For a key it has not kept an Allow for, it fails with PostgreSQL down, and the
    template's AUTHORIZER_FAILURE response answers 503 database_unavailable; a key it has kept goes on to the API
    function, which answers its own 503, as public routes do. The client sees the same problem either way. Then it
    all comes back."""
    pg, key = outage_database
    with connect(pg.url) as conn:  # a key the authorizer has not seen before the outage
        unseen = stack.create_key(conn, owner_email="outage-unseen@gmail.com", plan="pro").raw_key
    one_environment = stack.serve_gateway("127.0.0.1", 0, database_url=pg.url, max_environments=1)
    try:
        assert _get(one_environment, "/genres", **{"X-API-KEY": key}).status_code == 200
        pg_ctl_stop(pg.pgdata)
        for path, headers, source in (
            ("/genres", {"X-API-KEY": unseen}, "AUTHORIZER_FAILURE"),  # refused by the gateway
            ("/genres", {"X-API-KEY": unseen}, "AUTHORIZER_FAILURE"),  # a failure is never kept
            ("/genres", {"X-API-KEY": key}, None),  # kept Allow: the API function's own 503
            ("/health", {}, None),
        ):
            response = _get(one_environment, path, **headers)
            assert response.status_code == 503, response.text
            assert response.json()["code"] == "database_unavailable"
            assert response.headers["retry-after"] == "5"
            assert response.headers.get("x-amzn-errortype") == source
        pg_ctl_start(pg)
        for raw in (key, unseen):
            assert _get(one_environment, "/genres", **{"X-API-KEY": raw}).status_code == 200
        assert _get(one_environment, "/health").json()["status"] == "ok"
    finally:
        one_environment.stop()  # ends the environments' processes, and with them their connections


def test_cli_create_key_prints_a_working_key_once(database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["create-key", "--plan", "unlimited", "--owner", "cli-test@gmail.com"]) == 0
    raw = capsys.readouterr().out.strip().splitlines()[-1]
    with connect(database_url) as conn:
        record = access.check_key(conn, raw)
        assert record.plan == "unlimited"
        conn.execute("DELETE FROM users WHERE canonical_email = 'cli-test@gmail.com'")


def test_cli_refuses_an_unknown_plan(database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["create-key", "--plan", "platinum", "--owner", "x@gmail.com"]) == 2
    assert "unknown plan 'platinum'" in capsys.readouterr().err


def test_cli_migrate_reports_an_up_to_date_schema(database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["migrate"]) == 0
    assert capsys.readouterr().out.strip() == "schema is up to date"


@pytest.mark.slow
def test_cli_seed_upserts_a_csv_without_duplicates(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed = tmp_path / "two.csv"
    seed.write_text(
        "title,year,genre,director,actors,plot,poster_url\n"
        'Seed Test One,1999,Drama|Comedy,Ann Director,"Actor, Jr.|Other Actor",A plot.,\n'
        "Seed Test Two,2001,Horror,,,,https://upload.wikimedia.org/x.jpg\n",
        encoding="utf-8",
    )
    try:
        assert cli.main(["seed", "--file", str(seed)]) == 0
        assert cli.main(["seed", "--file", str(seed)]) == 0  # again: updates, never duplicates
        assert "upserted 2 movies" in capsys.readouterr().out
        with connect(database_url) as conn:
            rows = conn.execute(
                "SELECT title, genre, actors FROM movies WHERE title LIKE 'Seed Test %%' ORDER BY title"
            ).fetchall()
        assert rows == [
            {"title": "Seed Test One", "genre": ["Drama", "Comedy"], "actors": ["Actor, Jr.", "Other Actor"]},
            {"title": "Seed Test Two", "genre": ["Horror"], "actors": []},
        ]
        one = tmp_path / "one.csv"
        one.write_text("title,year,genre,director,actors,plot,poster_url\nSeed Test Three,2003,,,,,\n", "utf-8")
        assert cli.main(["seed", "--file", str(one)]) == 0
        assert "upserted 1 movie from" in capsys.readouterr().out  # it said "1 movies"
    finally:
        with connect(database_url) as conn:
            conn.execute("DELETE FROM movies WHERE title LIKE 'Seed Test %%'")


def _schemathesis(url: str, key: str, report_dir: Path, *options: str) -> subprocess.CompletedProcess[str]:
    """schemathesis against the stack's /openapi.json with a real key: 40 examples an operation, a fixed seed."""
    return subprocess.run(
        [
            str(Path(sys.executable).with_name("schemathesis")),
            "run",
            f"{url}/openapi.json",
            "--header",
            f"X-API-KEY: {key}",
            *options,
            "--max-examples",
            "40",
            "--seed",
            "20261123",
            "--workers",
            "2",
            "--report-dir",
            str(report_dir),
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "SCHEMATHESIS_HOOKS": ""},
    )


@pytest.mark.slow
def test_schemathesis_finds_no_server_errors_and_no_schema_violations(
    server: ServerThread, committed_key: Callable[..., str], tmp_path: Path
) -> None:
    checks = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
    result = _schemathesis(server.url, committed_key("unlimited"), tmp_path, "--checks", checks)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


# Operations whose OpenAPI schema says exactly what they accept, so every schema-valid request must be accepted
# (2xx, or 404 for an id that does not exist). Not the others, whose rules a schema cannot hold, each tested in
# functions/api/tests/integration/test_contract.py instead: a `cursor` is only a `next_cursor` the API gave and
# never comes with `page` (/movies, /similar, /search); a search needs one filter, a `q` with a word that is not
# negated, at most 20 title words, a genre that is not blank; and a text of invisible characters alone is empty
# (/search, /search/suggest).
EXACT_OPERATIONS = r"^/movies/(trending|popular|upcoming|now_playing|\{id\})$|^/genres$|^/usage$|^/health$"


@pytest.mark.slow
def test_schemathesis_finds_no_schema_valid_request_refused_where_the_schema_is_exact(
    server: ServerThread, committed_key: Callable[..., str], tmp_path: Path
) -> None:
    checks = "positive_data_acceptance,not_a_server_error"
    result = _schemathesis(
        server.url, committed_key("unlimited"), tmp_path, "--checks", checks, "--include-path-regex", EXACT_OPERATIONS
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "Selected: 8/" in result.stdout, result.stdout[-3000:]
