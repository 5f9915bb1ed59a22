"""The one-machine daily schedule (marquee_local.scheduler): when it fires and what event the handler gets."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent

from marquee_local.scheduler import DailySync, next_run, scheduled_event


def test_next_run_is_the_next_0315_utc() -> None:
    assert next_run(datetime(2026, 11, 30, 1, 0, tzinfo=UTC)) == datetime(2026, 11, 30, 3, 15, tzinfo=UTC)
    assert next_run(datetime(2026, 11, 30, 3, 15, tzinfo=UTC)) == datetime(2026, 12, 1, 3, 15, tzinfo=UTC)
    assert next_run(datetime(2026, 12, 31, 22, 0, tzinfo=UTC)) == datetime(2027, 1, 1, 3, 15, tzinfo=UTC)


def test_the_event_is_eventbridges_scheduled_event() -> None:
    event = EventBridgeEvent(scheduled_event(datetime(2026, 11, 30, 3, 15, tzinfo=UTC)))
    assert event.detail_type == "Scheduled Event"
    assert event.source == "aws.events"
    assert event.time == "2026-11-30T03:15:00Z"
    assert event.resources[0].startswith("arn:aws:events:")


def test_a_due_sync_runs_at_start_and_reports_even_when_the_handler_crashes() -> None:
    calls: list[dict[str, Any]] = []
    reports: list[dict[str, Any]] = []
    done = threading.Event()

    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        calls.append(event)
        raise RuntimeError("boom")

    def report(summary: dict[str, Any]) -> None:
        reports.append(summary)
        done.set()

    schedule = DailySync(invoke, report=report, due_at_start=True)
    schedule.start()
    assert done.wait(5)
    schedule.stop()
    assert len(calls) == 1
    assert calls[0]["detail"] == {"trigger": "startup"}  # the start-up run, labelled so (not "daily")
    assert reports == [{"status": "crashed", "message": "RuntimeError: boom"}]


def test_nothing_runs_at_start_when_a_recent_sync_succeeded() -> None:
    calls: list[dict[str, Any]] = []
    schedule = DailySync(
        lambda e: calls.append(e) or {}, report=lambda s: None, due_at_start=False,
        now=lambda: datetime(2026, 11, 30, 12, 0, tzinfo=UTC),
    )  # fmt: skip
    schedule.start()
    schedule.stop()
    assert calls == []
