"""`marquee run` as a subprocess for the browser tests: on free ports, with its own MARQUEE_HOME, the URLs read from
its banner, its output drained (a full pipe would block it) and kept for a failure message, stopped on exit."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

REPO = Path(__file__).resolve().parents[1]
# What the test suite's own shell sets that a stack of its own must not inherit.
SUITE_ONLY = (
    "CORS_ALLOW_ORIGIN", "PORTAL_URL", "OUTBOX_DIR", "MAIL_BACKEND", "ADMIN_PASSWORD", "EXPORT_FOLDER",
    "UPLOADS_LOCAL_ROOT",
)  # fmt: skip


@dataclass
class RunningStack:
    urls: dict[str, str]  # banner name (API, Portal, Admin…) -> URL
    process: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)


@contextmanager
def marquee_run(
    *,
    home: Path,
    database_url: str,
    env: Mapping[str, str] | None = None,
    args: Iterable[str] = ("--quiet",),
    banner: Iterable[str] = ("API", "Portal"),
    timeout: float = 120,
) -> Iterator[RunningStack]:
    """Start `marquee run --port 0 --site-port 0 *args` and yield once its banner has named every one of `banner`;
    pytest.fail with its output if it does not within `timeout` seconds."""
    if not (REPO / "site" / "vendor" / ".built").exists():
        pytest.fail("The portal's vendor files are missing: run `make site` (make test does).")
    environment = {key: value for key, value in os.environ.items() if key not in SUITE_ONLY}
    environment.update(
        {"MARQUEE_HOME": str(home), "DATABASE_URL": database_url, "MARQUEE_ENV": "local", "PYTHONUNBUFFERED": "1"}
    )
    environment.update(env or {})
    process = subprocess.Popen(
        [sys.executable, "-m", "marquee_local.cli", "run", "--port", "0", "--site-port", "0", *args],
        cwd=REPO,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    wanted = set(banner)
    running = RunningStack({}, process)
    pattern = re.compile(r"\s+(" + "|".join(map(re.escape, sorted(wanted))) + r")\s+(http://\S+)")
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    try:
        while not wanted <= running.urls.keys():
            line = process.stdout.readline()
            if not line:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("marquee run did not start:\n" + "".join(running.output))
                continue
            running.output.append(line)
            found = pattern.match(line)
            if found:
                running.urls[found.group(1)] = found.group(2)
        stdout = process.stdout
        threading.Thread(target=lambda: running.output.extend(iter(stdout.readline, "")), daemon=True).start()
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def watch_console(page: Page) -> list[str]:
    """What the page reports that a user would not see: Content Security Policy refusals and uncaught errors, as
    they happen (the list fills while the test runs; assert it is empty at the end)."""
    problems: list[str] = []

    def record(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or (message.type == "error" and "Refused" in message.text):
            problems.append(message.text)

    page.on("console", record)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    return problems


def assert_back_after_sign_out_leaves(page: Page, *, signed_out_url: str, private_text: str) -> None:
    """Sign out of `page` (drawn for a signed-in account), press Back, and check that the page the browser shows is
    a new sign-in page, not the signed-in one restored from the back/forward cache with `private_text` on it. The
    browser must have the cache on (Playwright launches Chromium with it off)."""
    page.wait_for_load_state("networkidle")  # a page still fetching is not kept in the cache
    page.evaluate("window.drawnBeforeSignOut = true")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(signed_out_url)
    page.go_back(wait_until="commit")  # a page restored from the cache fires no load event
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert page.evaluate("window.drawnBeforeSignOut") is None  # a new page, not the one restored
    assert private_text not in page.content()
