"""An admin's on-demand sync: the PutEvents entry movie_common builds matches the template's rule, and the event
EventBridge delivers from it runs the sync through the real handler as an admin run."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from marquee_local.fake_tmdb import FakeTmdb
from marquee_local.lambda_context import LocalLambdaContext
from movie_common.db.sync_runs import list_runs
from movie_common.sync_requests import sync_requested_entry

REPO = Path(__file__).resolve().parents[4]


class _Loader(yaml.SafeLoader):
    pass


_Loader.add_multi_constructor("!", lambda loader, suffix, node: None)


def delivered(entry: dict[str, Any]) -> dict[str, Any]:
    """The event EventBridge hands a Lambda target for a PutEvents entry."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": entry["DetailType"],
        "source": entry["Source"],
        "account": "123456789012",
        "time": "2026-11-30T14:02:11Z",
        "region": "us-east-1",
        "resources": [],
        "detail": json.loads(entry["Detail"]),
    }


@pytest.mark.slow
def test_the_entry_matches_the_templates_rule() -> None:
    template = yaml.load((REPO / "template.yaml").read_text(), Loader=_Loader)  # noqa: S506 - a safe loader
    pattern = template["Resources"]["SyncFunction"]["Properties"]["Events"]["SyncRequested"]["Properties"]["Pattern"]
    entry = sync_requested_entry(requested_by="admin@example.com")
    assert entry["Source"] in pattern["source"]
    assert entry["DetailType"] in pattern["detail-type"]


@pytest.fixture
def tmdb_env(monkeypatch: pytest.MonkeyPatch, fake_tmdb: FakeTmdb) -> Iterator[None]:
    from movie_sync.settings import clear_settings

    monkeypatch.setenv("TMDB_API_BASE", fake_tmdb.url)
    monkeypatch.setenv("TMDB_API_TOKEN", fake_tmdb.token)
    clear_settings()
    yield
    clear_settings()


@pytest.mark.slow
def test_an_admins_request_runs_a_sync_recorded_as_admin(conn: Any, tmdb_env: None) -> None:
    from movie_sync.handler import handler

    event = delivered(sync_requested_entry(requested_by="admin@example.com"))
    summary = handler(event, LocalLambdaContext(function_name="SyncFunction", timeout_seconds=60))

    assert summary["status"] == "succeeded" and summary["triggered_by"] == "admin"
    runs, total = list_runs(conn, limit=10, offset=0)
    assert runs[0].id == summary["id"] and runs[0].triggered_by == "admin"
    assert total >= 1
    assert runs[0].as_json()["titles"] == summary["titles"]
