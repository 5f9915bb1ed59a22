"""The admin portal's CSV uploads and TMDB sync screens end to end in headless Chromium (Playwright, the system's
Chromium) against `marquee run` in a subprocess on free ports, with a database of its own and a fake TMDB on
loopback: an admin uploads a CSV, watches its job finish and sees the counts and the bad row's error (the file went
through the S3 stand-in into the drop folder and IngestFunction); an admin runs the sync now and sees the run's
counts (the Sync Requested event went through the EventBridge stand-in to SyncFunction). Screenshots of both screens
go to .marquee/screenshots/ (git-ignored)."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from playwright.sync_api import Browser, Page, expect

from marquee_local import stack
from marquee_local.fake_tmdb import FakeTmdb
from movie_admin.audit import Actor
from movie_admin.services import admins
from movie_common.database import connect
from tests.browser_stack import marquee_run, watch_console

pytestmark = [pytest.mark.slow, pytest.mark.commit]

REPO = Path(__file__).resolve().parents[1]
SCREENSHOTS = REPO / ".marquee" / "screenshots"
ADMIN_EMAIL = "uploads.admin@marquee.example"
ADMIN_PASSWORD = "admin-lantern-harbor-77"
expect.set_options(timeout=15_000)


@dataclass
class Stack:
    portal: str
    database_url: str
    tmdb: FakeTmdb


def _scalar(url: str, query: str, *params: object) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(query, params).fetchone()  # type: ignore[arg-type]
    assert row is not None
    return int(row[0])


@pytest.fixture(scope="module")
def stack_with_tmdb(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """`marquee run` on free ports, on a database of its own (a two-film catalogue) and a fake TMDB holding two
    popular movies; its first sync (due at start) has finished before the tests run."""
    name = f"marquee_admin_uploads_{os.getpid()}"
    with psycopg.connect(database_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    url = psycopg.conninfo.make_conninfo(database_url, dbname=name)
    home = tmp_path_factory.mktemp("marquee-home")
    seed = home / "seed.csv"
    seed.write_text("title,year,genre\nFight Club,1999,Thriller\nNosferatu,1922,Horror\n", encoding="utf-8")
    with stack.connect_admin(url) as conn:
        stack.prepare(conn, catalogue=seed)
    with connect(url) as conn:
        admins.create_admin(conn, Actor.cli(), email=ADMIN_EMAIL, password=ADMIN_PASSWORD)
    tmdb = FakeTmdb().start()
    tmdb.add_movie(9101, "Harbor Lights", release_date="2024-03-01", genres=["Drama"], directors=["Ann Lee"])
    tmdb.add_movie(9102, "Night Orbit", release_date="2023-07-14", genres=["Science Fiction"], cast=["Ray Moss"])
    tmdb.set_list("/movie/popular", [9101, 9102])
    running = None
    try:
        with marquee_run(
            home=home,
            database_url=url,
            env={"TMDB_API_TOKEN": tmdb.token, "TMDB_API_BASE": tmdb.url},
            args=("--aws-port", "0"),
            banner=("Portal",),
        ) as running:
            deadline = time.monotonic() + 120
            finished = "SELECT count(*) FROM sync_runs WHERE finished_at IS NOT NULL"
            while _scalar(url, finished) < 1:
                if time.monotonic() > deadline:
                    pytest.fail("the first sync did not finish:\n" + "".join(running.output))
                time.sleep(0.2)
            yield Stack(portal=running.urls["Portal"], database_url=url, tmdb=tmdb)
    finally:
        if running is not None:  # the stack's own lines (not its request logs), which pytest shows when a test failed
            lines = running.output
            print("".join(line for line in lines if '"level":"INFO"' not in line and '127.0.0.1 "' not in line))  # noqa: T201
        tmdb.stop()
        with psycopg.connect(database_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _admin_page(browser: Browser, stack: Stack, target: str) -> Page:
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.goto(f"{stack.portal}/admin/{target}")
    page.wait_for_url(f"**/admin/login.html?next={target}")
    page.get_by_label("Email").fill(ADMIN_EMAIL)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**/admin/{target}")
    return page


def test_an_admin_uploads_a_csv_and_sees_the_counts_and_the_bad_row(
    browser: Browser, stack_with_tmdb: Stack, tmp_path: Path
) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    upload = tmp_path / "new releases.csv"
    upload.write_text(
        "title,year,genre,director\n"
        "Paper Lanterns,2019,Drama,Mia Hart\n"
        "Glass Harbor,PG,Thriller,Leo Park\n"
        "Fight Club,1999,Thriller,David Fincher\n"
        "Salt Road,2021,Western,\n",
        encoding="utf-8",
    )
    page = _admin_page(browser, stack_with_tmdb, "ingest.html")
    console = watch_console(page)
    expect(page.get_by_role("link", name="Uploads")).to_have_attribute("aria-current", "page")
    page.get_by_label("CSV file", exact=True).set_input_files(str(upload))
    page.get_by_label("Mode", exact=True).select_option("upsert")
    page.get_by_role("button", name="Upload").click()

    job = page.locator("[data-job]")
    expect(job.locator("[data-job-status] [data-status]")).to_have_text("done")
    counts = {
        name: job.locator(f'[data-count="{name}"]')
        for name in ("rows", "valid", "invalid", "inserted", "updated", "unchanged")
    }
    for name, value in {
        "rows": "4",
        "valid": "3",
        "invalid": "1",
        "inserted": "2",
        "updated": "1",
        "unchanged": "0",
    }.items():
        expect(counts[name]).to_have_text(value)
    bad = job.locator("[data-error-rows] tr")
    expect(bad).to_have_count(1)
    expect(bad).to_contain_text("3")  # line 3 of the file (the header is line 1)
    expect(bad).to_contain_text("year")
    expect(bad).to_contain_text("PG")
    expect(job.locator("[data-job-title]")).to_contain_text("upsert")
    row = page.locator("[data-rows] tr[data-job-id]").first
    expect(row).to_contain_text("new releases.csv")
    expect(row.locator("[data-status]")).to_have_text("done")
    page.screenshot(path=str(SCREENSHOTS / "admin-ingest.png"), full_page=True)

    titles = "SELECT count(*) FROM movies WHERE title IN ('Paper Lanterns', 'Salt Road')"
    assert _scalar(stack_with_tmdb.database_url, titles) == 2
    assert _scalar(stack_with_tmdb.database_url, "SELECT count(*) FROM movies WHERE title = 'Glass Harbor'") == 0
    audited = "SELECT count(*) FROM admin_audit_log WHERE actor = %s AND action LIKE 'ingest%%'"
    assert _scalar(stack_with_tmdb.database_url, audited, ADMIN_EMAIL) >= 1

    # The error report downloads through a signed URL of the S3 stand-in.
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the error report").click()
    lines = Path(download.value.path()).read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("line,column,value,reason") and lines[1].startswith("3,year,PG,")
    assert console == []


def test_a_failed_job_says_what_failed_and_that_nothing_changed_once(
    browser: Browser, stack_with_tmdb: Stack, tmp_path: Path
) -> None:
    header_only = tmp_path / "header only.csv"
    header_only.write_text("title,year\n", encoding="utf-8")
    page = _admin_page(browser, stack_with_tmdb, "ingest.html")
    console = watch_console(page)
    page.get_by_label("CSV file", exact=True).set_input_files(str(header_only))
    page.get_by_role("button", name="Upload").click()
    job = page.locator("[data-job]")
    expect(job.locator("[data-job-status] [data-status]")).to_have_text("failed")
    failure = page.locator("[data-job-failure]")
    expect(failure).to_contain_text("no data rows")
    expect(failure).to_contain_text("(empty_file)")
    assert failure.inner_text().lower().count("nothing was changed") == 1, failure.inner_text()
    # "Failed only" lists the failed jobs (GET /admin/ingest/jobs?status=failed), kept in the page's URL.
    page.get_by_label("Failed only").check()
    expect(page).to_have_url(re.compile(r"[?&]status=failed"))
    expect(page.locator("[data-rows]")).not_to_have_attribute("aria-busy", "true")
    rows = page.locator("[data-rows] tr[data-job-id]")
    expect(rows.first).to_be_visible()
    assert set(rows.locator("[data-status]").all_inner_texts()) == {"failed"}
    page.reload()
    expect(page.get_by_label("Failed only")).to_be_checked()
    assert console == []


def test_a_jobs_link_and_a_reload_show_that_job(browser: Browser, stack_with_tmdb: Stack, tmp_path: Path) -> None:
    """The page keeps the job it follows in its URL (?job=), and each job's row links there; but the list rewrote the
    URL with its own parameters as the page opened, so a reload, or a job's link followed from elsewhere, showed no
    job."""
    upload = tmp_path / "linked.csv"
    upload.write_text("title,year\nLinked Lantern,2019\nLinked Bad Year,PG\n", encoding="utf-8")
    page = _admin_page(browser, stack_with_tmdb, "ingest.html")
    console = watch_console(page)
    page.get_by_label("CSV file", exact=True).set_input_files(str(upload))
    page.get_by_role("button", name="Upload").click()
    job = page.locator("[data-job]")
    expect(job.locator("[data-job-status] [data-status]")).to_have_text("done")
    title = job.locator("[data-job-title]").inner_text()
    job_id = title.split()[1]
    expect(page).to_have_url(re.compile(rf"[?&]job={job_id}(&|$)"))
    page.reload()
    expect(job.locator("[data-job-title]")).to_have_text(title)
    expect(job.locator('[data-count="invalid"]')).to_have_text("1")
    expect(page).to_have_url(re.compile(rf"[?&]job={job_id}(&|$)"))
    page.get_by_label("Failed only").check()  # the list's own parameters change; the job shown stays in the URL
    expect(page).to_have_url(re.compile(r"[?&]status=failed"))
    expect(page).to_have_url(re.compile(rf"[?&]job={job_id}(&|$)"))
    # A job's link followed from elsewhere shows that job, at 375 px too.
    page.goto(f"{stack_with_tmdb.portal}/admin/index.html")
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"{stack_with_tmdb.portal}/admin/ingest.html?job={job_id}")
    expect(job.locator("[data-job-title]")).to_have_text(title)
    expect(job.locator("[data-error-rows] tr")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    # The jobs table scrolls inside its box and its cells never break (the README's promise for every admin
    # table): the file name cell broke after every few letters at 375 px ("lin / ked. / csv"), and the time in two.
    expect(page.locator("[data-rows] tr[data-job-id]").first).to_be_visible()
    lines_per_text = page.locator("[data-rows] tr[data-job-id]").first.evaluate(
        """row => {
             const walker = document.createTreeWalker(row, NodeFilter.SHOW_TEXT);
             const lines = {};
             for (let node = walker.nextNode(); node; node = walker.nextNode()) {
               const range = document.createRange();
               range.selectNodeContents(node);
               lines[node.textContent] = range.getClientRects().length;
             }
             return lines;
           }"""
    )
    assert set(lines_per_text.values()) == {1}, lines_per_text
    assert console == []


def test_an_empty_file_is_refused_before_any_job_is_queued(
    browser: Browser, stack_with_tmdb: Stack, tmp_path: Path
) -> None:
    """S3's policy refuses 0 bytes: a job queued for it would wait for a file that never lands."""
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    jobs = "SELECT count(*) FROM ingest_jobs"
    before = _scalar(stack_with_tmdb.database_url, jobs)
    page = _admin_page(browser, stack_with_tmdb, "ingest.html")
    console = watch_console(page)
    page.get_by_label("CSV file", exact=True).set_input_files(str(empty))
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("main")).to_contain_text("is empty (0 bytes)")
    assert _scalar(stack_with_tmdb.database_url, jobs) == before
    assert console == []


def test_an_admin_runs_the_sync_and_sees_the_runs_counts(browser: Browser, stack_with_tmdb: Stack) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tmdb = stack_with_tmdb.tmdb
    tmdb.add_movie(9103, "Copper Sky", release_date="2022-05-20", genres=["Western"], directors=["Jo Vance"])
    tmdb.add_movie(9104, "Quiet Tide", release_date="2021-11-02", genres=["Drama"], cast=["Ada Quinn"])
    tmdb.set_list("/movie/popular", [9101, 9102, 9103, 9104])
    page = _admin_page(browser, stack_with_tmdb, "sync.html")
    console = watch_console(page)
    expect(page.locator("[data-sync-status]")).to_contain_text("Ready")
    expect(page.locator("[data-rows] tr[data-run-id]")).to_have_count(1)  # the run at start
    page.get_by_role("button", name="Run the sync now").click()
    expect(page.locator("[data-page-alert]")).to_contain_text("Sync requested")

    latest = page.locator("[data-rows] tr[data-run-id]").first
    expect(page.locator("[data-rows] tr[data-run-id]")).to_have_count(2)
    expect(latest.locator("[data-status]")).to_have_text("succeeded")
    expect(latest).to_contain_text("admin")
    expect(latest.locator('[data-count="new"]')).to_have_text("2")
    expect(page.get_by_role("button", name="Run the sync now")).to_be_enabled()
    expect(page.locator(".tmdb-attribution")).to_contain_text("not endorsed or certified by TMDB")
    page.screenshot(path=str(SCREENSHOTS / "admin-sync.png"), full_page=True)

    assert _scalar(stack_with_tmdb.database_url, "SELECT count(*) FROM movies WHERE tmdb_id IN (9103, 9104)") == 2
    requested = "SELECT count(*) FROM admin_audit_log WHERE actor = %s AND action = 'sync_run.request'"
    assert _scalar(stack_with_tmdb.database_url, requested, ADMIN_EMAIL) == 1

    # A run that succeeds past errors (a list TMDB serves garbled) says so beside its green status.
    assert latest.locator("[data-with-errors]").count() == 0
    tmdb.fault(r"^/movie/popular$", "malformed")
    page.get_by_role("button", name="Run the sync now").click()
    expect(page.locator("[data-rows] tr[data-run-id]")).to_have_count(3)
    expect(latest.locator("[data-status]")).to_have_text("succeeded")
    expect(latest.locator("[data-with-errors]")).to_have_text("with 1 error")
    page.screenshot(path=str(SCREENSHOTS / "admin-sync-with-errors.png"), full_page=True)
    tmdb.clear_faults()
    assert console == []


def test_the_sync_screen_tells_the_truth_about_a_running_run(browser: Browser, stack_with_tmdb: Stack) -> None:
    """The run `marquee run` started is labelled start-up (it read "daily"), and a running run shows what it has
    still to fetch and what it has done (it read "Queued 0" while titles were being fetched)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tmdb = stack_with_tmdb.tmdb
    ids = list(range(9111, 9117))
    for i in ids:
        tmdb.add_movie(i, f"Slow Film {i}", release_date="2020-02-02")
    tmdb.set_list("/movie/now_playing", ids)
    tmdb.fault(r"^/movie/911\d$", "slow", delay=4.0)
    page = _admin_page(browser, stack_with_tmdb, "sync.html")
    console = watch_console(page)
    rows = page.locator("[data-rows] tr[data-run-id]")
    expect(rows.last).to_contain_text("start-up")
    expect(rows.last).not_to_contain_text("daily")
    count = rows.count()

    page.get_by_role("button", name="Run the sync now").click()
    expect(rows).to_have_count(count + 1)
    running = rows.first
    expect(running.locator("[data-status]")).to_have_text("running")
    expect(running.locator('[data-count="queued"]')).to_contain_text("6")
    expect(running.locator('[data-count="queued"]')).to_contain_text("to fetch")
    expect(page.locator("[data-sync-status]")).to_contain_text("6 queued to fetch")
    expect(page.locator("[data-sync-status]")).to_contain_text("by admin (Run now)")
    page.screenshot(path=str(SCREENSHOTS / "admin-sync-running.png"), full_page=True)

    expect(running.locator("[data-status]")).to_have_text("succeeded", timeout=30_000)
    expect(running.locator('[data-count="queued"]')).to_have_text("0")
    expect(running.locator('[data-count="new"]')).to_have_text("6")
    expect(page.locator("[data-sync-status]")).to_contain_text("Ready")
    tmdb.clear_faults()
    assert console == []


def test_an_admin_sees_the_titles_the_sync_could_not_write_and_tries_one_again(
    browser: Browser, stack_with_tmdb: Stack
) -> None:
    """The sync page lists the titles the sync remembers it could not write (GET /admin/sync/refused), with why,
    how many runs and when, at 1280 px and 375 px; Try again (confirmed) forgets one (DELETE, audited)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    url = stack_with_tmdb.database_url
    reason = (
        "another movie already has the title 'Fight Club' and year 1999; it is a long sentence, as the runs report "
        "them, which wraps between its words in its cell"
    )
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            """INSERT INTO tmdb_refused_titles (media_type, tmdb_id, title, year, reason, kind, times, refused_at,
                                                first_refused_at)
               VALUES ('movie', 9201, 'Fight Club', 1999, %s, 'title_year_taken', 3, now(), now() - interval '2 days'),
                      ('tv', 9202, NULL, NULL, 'HTTP 500 from TMDB; given up after 3 runs', 'given_up', 1,
                       now() - interval '1 hour', now() - interval '1 hour')""",
            (reason,),
        )
    page = _admin_page(browser, stack_with_tmdb, "sync.html")
    page.set_viewport_size({"width": 1280, "height": 900})
    console = watch_console(page)
    rows = page.locator("[data-refused-rows] tr[data-refused]")
    expect(rows).to_have_count(2)
    newest = page.locator('[data-refused="movie:9201"]')
    expect(rows.first).to_have_attribute("data-refused", "movie:9201")  # newest first
    expect(newest).to_contain_text("Fight Club (1999)")
    expect(newest).to_contain_text("movie 9201")
    expect(newest.locator("[data-kind]")).to_have_text("title and year taken")
    expect(newest).to_contain_text("wraps between its words")
    expect(newest.locator("[data-times]")).to_have_text("3")
    expect(page.locator('[data-refused="tv:9202"] [data-kind]')).to_have_text("given up")
    expect(page.locator("[data-refused-summary]")).to_have_text("2 refused titles match")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    page.screenshot(path=str(SCREENSHOTS / "admin-sync-refused.png"), full_page=True)

    page.set_viewport_size({"width": 375, "height": 800})
    expect(newest.get_by_role("button", name="Try again: movie 9201")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=str(SCREENSHOTS / "admin-sync-refused-375.png"), full_page=True)
    newest.get_by_role("button", name="Try again: movie 9201").scroll_into_view_if_needed()
    newest.get_by_role("button", name="Try again: movie 9201").click()
    dialog = page.locator("#confirm-modal")
    expect(dialog).to_contain_text("movie 9201 (Fight Club (1999))")
    dialog.get_by_role("button", name="Try again").click()
    expect(dialog).to_be_hidden()
    expect(rows).to_have_count(1)
    expect(page.locator("[data-refused-summary]")).to_have_text("1 refused title matches")
    assert _scalar(url, "SELECT count(*) FROM tmdb_refused_titles WHERE tmdb_id = 9201") == 0
    retried = "SELECT count(*) FROM admin_audit_log WHERE actor = %s AND action = 'tmdb_title.retry' AND target_id = %s"
    assert _scalar(url, retried, ADMIN_EMAIL, "movie:9201") == 1
    assert console == []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DELETE FROM tmdb_refused_titles WHERE tmdb_id = 9202")


def test_a_jobs_view_says_how_its_file_was_asked_to_be_read(
    browser: Browser, stack_with_tmdb: Stack, tmp_path: Path
) -> None:
    """A job's reading options (a delimiter and an encoding its metadata or `marquee ingest` asked for) are part of
    its identity, but the job view did not show them: two jobs of one file looked alike."""
    from movie_ingest.services import FileOptions, ingest_path

    path = tmp_path / "semicolons.txt"
    path.write_bytes("title;year\nSemicolon Café;2018\n".encode("cp1252"))
    with connect(stack_with_tmdb.database_url) as conn:
        job = ingest_path(conn, path, mode="validate", options=FileOptions(delimiter=";", encoding="latin-1"))
    assert job.status == "done"
    page = _admin_page(browser, stack_with_tmdb, "ingest.html")
    console = watch_console(page)
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{stack_with_tmdb.portal}/admin/ingest.html?job={job.id}")
        reading = page.locator("[data-job] [data-job-reading]")
        expect(reading).to_have_text(
            "Reading options: delimiter=semicolon encoding=iso8859-1; read as iso8859-1, semicolon-separated."
        )
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=str(SCREENSHOTS / "admin-ingest-job-reading-options.png"), full_page=True)
    # A file read by detection says so.
    plain = tmp_path / "plain.csv"
    plain.write_text("title,year\nPlain Detected,2018\n", encoding="utf-8")
    with connect(stack_with_tmdb.database_url) as conn:
        detected = ingest_path(conn, plain, mode="validate")
    page.goto(f"{stack_with_tmdb.portal}/admin/ingest.html?job={detected.id}")
    expect(page.locator("[data-job] [data-job-reading]")).to_have_text(
        "Reading options: none (delimiter and encoding detected); read as UTF-8, comma-separated."
    )
    assert console == []
