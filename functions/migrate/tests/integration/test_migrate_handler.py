"""MigrationFunction, the deploy-time custom resource, through its real entry point with events/create.json:
applies migrations and always answers CloudFormation."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from marquee_local.lambda_context import LocalLambdaContext
from movie_migrate.handler import handler


class _CloudFormation(BaseHTTPRequestHandler):
    """Stands in for the pre-signed S3 URL CloudFormation waits on."""

    received: ClassVar[list[dict[str, Any]]] = []

    def do_PUT(self) -> None:
        length = int(self.headers["Content-Length"])
        self.received.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def response_url() -> Iterator[str]:
    _CloudFormation.received.clear()
    server = HTTPServer(("127.0.0.1", 0), _CloudFormation)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/signed"
    server.shutdown()
    server.server_close()


EVENT = Path(__file__).resolve().parents[2] / "events" / "create.json"


def _event(request_type: str, url: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(EVENT.read_text())
    event.update(RequestType=request_type, ResponseURL=url)
    if request_type != "Create":
        event["PhysicalResourceId"] = "marquee-database-migrations"
    return event


@pytest.mark.slow
def test_update_applies_migrations_and_reports_success(database_url: str, response_url: str) -> None:
    handler(_event("Update", response_url), LocalLambdaContext())
    [answer] = _CloudFormation.received
    assert answer["Status"] == "SUCCESS" and answer["LogicalResourceId"] == "DatabaseMigrations"
    assert answer["PhysicalResourceId"] == "marquee-database-migrations"
    assert answer["Data"] == {"Applied": ""}  # the session database is already migrated


@pytest.mark.slow
def test_delete_changes_nothing_and_reports_success(response_url: str) -> None:
    handler(_event("Delete", response_url), LocalLambdaContext())
    assert _CloudFormation.received[0]["Status"] == "SUCCESS"


@pytest.mark.slow
def test_a_failure_is_reported_not_left_hanging(response_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from movie_common.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    get_settings.cache_clear()
    try:
        handler(_event("Create", response_url), LocalLambdaContext())
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    answer = _CloudFormation.received[0]
    assert answer["Status"] == "FAILED" and "DatabaseUnavailableError" in answer["Reason"]
