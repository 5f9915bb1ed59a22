"""The one-machine stand-in for SyncFunction's EventBridge schedule, a service of `marquee run`: with
TMDB_API_TOKEN set, it invokes SyncFunction in its local execution environment (the template's environment, the
real handler) with a real-shaped "Scheduled Event" from the event toolkit once a day (UTC), and once at start when
no sync succeeded in the last day (that event's detail is {"trigger": "startup"}, so the run is labelled start-up)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any

from marquee_local import events, first_start, stack
from marquee_local.run import RunContext

FUNCTION = "SyncFunction"
RULE = "marquee-local-DailySync"
DAILY_AT = time(3, 15)  # the template's default SyncSchedule, cron(15 3 * * ? *)
TIMEOUT_SECONDS = 900.0  # the template's default SyncTimeout


def scheduled_event(at: datetime, rule: str = RULE) -> dict[str, Any]:
    """EventBridge's scheduled event for the daily rule `rule` at `at`."""
    return events.scheduled_event(rule, time=at)


def next_run(after: datetime, at: time = DAILY_AT) -> datetime:
    """The first moment at `at` (UTC) strictly after `after`."""
    candidate = datetime.combine(after.astimezone(UTC).date(), at, tzinfo=UTC)
    return candidate if candidate > after else candidate + timedelta(days=1)


class DailySync:
    """Runs `invoke(event)` (SyncFunction by default) daily at `at` UTC on a daemon thread, and once at start when
    `due_at_start` says so, each time with the scheduled event of rule `rule`; `report` receives each run's summary.
    `stop()` ends the thread between runs. `label` names it in the banner."""

    def __init__(
        self,
        invoke: Callable[[dict[str, Any]], dict[str, Any]],
        *,
        report: Callable[[dict[str, Any]], None],
        due_at_start: bool,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        ready: Callable[[threading.Event], bool] = lambda stopped: True,
        name: str = "tmdb-sync",
        rule: str = RULE,
        at: time = DAILY_AT,
        label: str = "TMDB sync",
    ) -> None:
        self.name = name
        self._rule = rule
        self._at = at
        self._label = label
        self._invoke = invoke
        self._report = report
        self._due_at_start = due_at_start
        self._now = now
        self._ready = ready  # blocks until the first run may start (False: stopped meanwhile)
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"daily-{name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def describe(self) -> list[str]:
        when = f"daily at {self._at:%H:%M} UTC" + (" (and now)" if self._due_at_start else "")
        return [f"{self._label:<9}  {when}"]

    def run_once(self, *, startup: bool = False) -> None:
        event = scheduled_event(self._now(), self._rule)
        if startup:
            event["detail"] = {"trigger": "startup"}  # recorded as the start-up run, not a daily one
        try:
            summary = self._invoke(event)
        except Exception as error:  # a local stack keeps serving when a run crashes; the run row says why
            summary = {"status": "crashed", "message": f"{type(error).__name__}: {error}"}
        self._report(summary)

    def _loop(self) -> None:
        if not self._ready(self._stopped):
            return
        if self._due_at_start and not self._stopped.is_set():
            self.run_once(startup=True)
        while not self._stopped.is_set():
            wait = (next_run(self._now(), self._at) - self._now()).total_seconds()
            if self._stopped.wait(max(0.0, wait)):
                return
            self.run_once()


def service(run: RunContext) -> DailySync | None:
    """The daily sync when TMDB_API_TOKEN is set (None otherwise, with a line saying how to turn it on)."""
    if not os.environ.get("TMDB_API_TOKEN", "").strip():
        run.log("TMDB sync off (set TMDB_API_TOKEN to a TMDB v3 API read access token to turn it on)")
        return None
    from movie_common.db.sync_runs import last_successful_start

    with stack.connect_admin(run.database_url) as conn:
        last = last_successful_start(conn)
    due = last is None or datetime.now(UTC) - last > timedelta(days=1)

    def report(summary: dict[str, Any]) -> None:
        titles = summary.get("titles") or {}
        message = f" ({summary['message']})" if summary.get("message") else ""
        run.log(
            f"TMDB sync {summary.get('status')}: {titles.get('new', 0)} new, {titles.get('updated', 0)} updated, "
            f"{summary.get('error_count', 0)} errors{message}"
        )

    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = run.lambdas.invoke_threadsafe(FUNCTION, event, timeout=TIMEOUT_SECONDS + 30)
        return result

    # A first start's catalogue loads in the background: the sync, which matches its rows, waits for it.
    return DailySync(
        invoke, report=report, due_at_start=due, ready=lambda stopped: first_start.wait_for_catalogue(run, stopped)
    )
