"""The one-machine stand-in for SyncFunction's EventBridge schedule: a thread that invokes the real sync handler
with a real-shaped "Scheduled Event" once a day (UTC), and once at start when no sync succeeded in the last day."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from marquee_local.lambda_context import LocalLambdaContext

SCHEDULED_EVENT = Path(__file__).resolve().parents[2] / "functions" / "sync" / "events" / "scheduled.json"
DAILY_AT = time(3, 15)  # the template's default SyncSchedule, cron(15 3 * * ? *)
TIMEOUT_SECONDS = 900.0  # the template's default SyncTimeout


def scheduled_event(at: datetime) -> dict[str, Any]:
    """EventBridge's scheduled event (functions/sync/events/scheduled.json) with a fresh id and the given time."""
    event: dict[str, Any] = json.loads(SCHEDULED_EVENT.read_text())
    event["id"] = str(uuid.uuid4())
    event["time"] = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return event


def next_run(after: datetime, at: time = DAILY_AT) -> datetime:
    """The first moment at `at` (UTC) strictly after `after`."""
    candidate = datetime.combine(after.astimezone(UTC).date(), at, tzinfo=UTC)
    return candidate if candidate > after else candidate + timedelta(days=1)


class DailySync:
    """Runs `invoke(event, context)` (the sync handler) daily at DAILY_AT UTC on a daemon thread, and once at start
    when `due_at_start` says so; `report` receives each run's summary. `stop()` ends the thread between runs."""

    def __init__(
        self,
        invoke: Callable[[dict[str, Any], Any], dict[str, Any]],
        *,
        report: Callable[[dict[str, Any]], None],
        due_at_start: bool,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._invoke = invoke
        self._report = report
        self._due_at_start = due_at_start
        self._now = now
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="daily-sync", daemon=True)

    def start(self) -> DailySync:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=5)

    def run_once(self) -> None:
        at = self._now()
        context = LocalLambdaContext(function_name="SyncFunction", timeout_seconds=TIMEOUT_SECONDS)
        try:
            summary = self._invoke(scheduled_event(at), context)
        except Exception as error:  # a local stack keeps serving when a run crashes; the run row says why
            summary = {"status": "crashed", "message": f"{type(error).__name__}: {error}"}
        self._report(summary)

    def _loop(self) -> None:
        if self._due_at_start and not self._stopped.is_set():
            self.run_once()
        while not self._stopped.is_set():
            wait = (next_run(self._now()) - self._now()).total_seconds()
            if self._stopped.wait(max(0.0, wait)):
                return
            self.run_once()
