"""A statement that runs past the statement timeout is the client's 504 `query_timeout` (the database is there, the
query was too broad), not 503 `database_unavailable`; and the web layer logs it. Against a real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from movie_common.database import connect, fetch_one
from movie_web.app import create_app


class _Logger:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def _log(self, level: str, msg: object, *args: Any, **kwargs: Any) -> None:
        self.lines.append((level, str(msg) % args if args else str(msg)))

    def info(self, msg: object, *args: Any, **kwargs: Any) -> None:
        self._log("info", msg, *args)

    def warning(self, msg: object, *args: Any, **kwargs: Any) -> None:
        self._log("warning", msg, *args)

    def exception(self, msg: object, *args: Any, **kwargs: Any) -> None:
        self._log("exception", msg, *args)

    def append_keys(self, **keys: Any) -> None:
        pass


@pytest.fixture
def client(database_url: str) -> Iterator[tuple[TestClient, _Logger]]:
    router = APIRouter()

    @router.get("/slow")
    def slow() -> dict[str, Any]:
        with connect(database_url, statement_timeout_ms=100) as conn:  # a request path's timeout, made short
            fetch_one(conn, "SELECT pg_sleep(3)")
        return {"finished": True}

    logger = _Logger()
    app = create_app(
        title="Test", description="A slow route.", routers=[router], cors_allow_origin="*", logger=logger,
        security_schemes={},
        public_paths=["/slow"],
    )  # fmt: skip
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client, logger


def test_a_statement_past_the_timeout_is_a_504_query_timeout_and_is_logged(
    client: tuple[TestClient, _Logger],
) -> None:
    test_client, logger = client
    response = test_client.get("/slow")
    assert response.status_code == 504
    problem = response.json()
    assert problem["code"] == "query_timeout" and problem["status"] == 504
    assert "narrow it" in problem["detail"] and "retry-after" not in response.headers
    assert (
        "warning",
        "query_timeout (SQLSTATE 57014) on GET /slow: canceling statement due to statement timeout",
    ) in logger.lines
