"""The TMDB sync's use cases, framework-free: one run (configuration, genres, change feeds, lists, stale rows,
details) recorded in `sync_runs`, and the purge of TMDB data. Handlers, the CLI and the admin API call these."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import CancelledError, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import Any

from movie_common.database import Connection
from movie_common.db import sync_runs, tmdb
from movie_common.db.sync_runs import SyncCounts, SyncRun
from movie_common.db.tmdb import (
    MEDIA_TYPES,
    PurgeResult,
    QueuedTitle,
    TitleRefusedError,
    TitleYearTakenError,
    TmdbTitle,
)
from movie_common.errors import (
    DatabaseUnavailableError,
    SyncAlreadyRunningError,
    TitleConflictError,
    TmdbNotConfiguredError,
)
from movie_sync.mapping import (
    ImageConfiguration,
    MalformedRecordError,
    genre_names,
    image_configuration,
    list_entries,
    map_details,
)
from movie_sync.settings import SyncSettings, clear_settings
from movie_sync.tmdb import (
    BudgetExhaustedError,
    Pacer,
    TmdbAuthError,
    TmdbClient,
    TmdbError,
    TmdbMalformedError,
    TmdbNotFoundError,
    TmdbUnavailableError,
)

logger = logging.getLogger("movie_sync")

CHANGES_KEPT_DAYS = 14  # TMDB's change feeds reach this many days back
# A stored error reason quotes what TMDB sent (its status_message, a value that is not a date): at most this many
# characters of it, so that a run's 100 stored errors and the admin page listing runs stay small whatever TMDB sent.
MAX_REASON_CHARS = 500
MAX_CHANGE_PAGES = 500  # and serve at most this many pages (100 ids each) per query


@dataclass(frozen=True)
class ListSource:
    """A TMDB list the sync ranks: Marquee's list name, the media type, and TMDB's v3 path."""

    name: str
    media_type: str
    path: str


LIST_SOURCES = (
    ListSource("trending", "movie", "/trending/movie/day"),
    ListSource("trending", "tv", "/trending/tv/day"),
    ListSource("popular", "movie", "/movie/popular"),
    ListSource("popular", "tv", "/tv/popular"),
    ListSource("upcoming", "movie", "/movie/upcoming"),
    ListSource("now_playing", "movie", "/movie/now_playing"),
)

NOT_CONFIGURED = (
    "TMDB sync is not configured: set TMDB_API_TOKEN (locally) or TMDB_API_TOKEN_SECRET_ARN (in AWS) to a TMDB "
    "v3 API read access token. Nothing was changed."
)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def run_sync(
    conn: Connection,
    *,
    settings: SyncSettings,
    triggered_by: str,
    deadline: float | None = None,
    now: Callable[[], datetime] = _utc_now,
) -> SyncRun:
    """Run one sync and return its `sync_runs` row (status 'succeeded', 'partial' or 'failed').

    `deadline` is a `time.monotonic()` value after which no TMDB request starts; the run then stops cleanly with
    status 'partial', and the next run resumes from the queue. `now` gives the current UTC time (tests move it).
    A failure of one title is recorded and never aborts the run; a refused token or TMDB being down for the
    configuration fails it, and so does a run whose every list, change-feed and details request failed (nothing was
    fetched: 'failed', its errors recorded), while a run with some failed requests is 'succeeded' with its errors.
    Raises TmdbNotConfiguredError without a token and SyncAlreadyRunningError while another run holds the sync
    lock; neither writes anything.
    """
    if not settings.api_token:
        raise TmdbNotConfiguredError(NOT_CONFIGURED)
    if not sync_runs.try_lock(conn):
        raise SyncAlreadyRunningError("Another TMDB sync is running; try again when it has finished.")
    try:
        sync_runs.close_interrupted(conn)
        run = sync_runs.start_run(conn, triggered_by=triggered_by)
        pacer = Pacer(settings.requests_per_second, deadline=deadline)
        client = TmdbClient(
            base_url=settings.api_base,
            token=settings.api_token,
            pacer=pacer,
            language=settings.language,
            concurrency=settings.concurrency,
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
            max_retries=settings.max_retries,
            backoff_factor=settings.backoff_factor,
            backoff_jitter=settings.backoff_jitter,
            max_retry_after=settings.max_retry_after,
        )
        job = _Run(conn, client=client, settings=settings, run_id=run.id, now=now)
        status, message = "succeeded", None
        try:
            job.execute()
        except BudgetExhaustedError:
            status = "partial"
            message = "stopped at its time budget; the next run resumes with the titles still queued"
        except TmdbAuthError as error:
            status = "failed"
            message = (
                f"TMDB refused the API read token ({_shortened(str(error))}); check TMDB_API_TOKEN, or the secret "
                "TMDB_API_TOKEN_SECRET_ARN names"
            )
            # The environment keeps the token it read for its life: forget the one TMDB refused, so that the next
            # run reads the secret again and an operator's new token works without waiting for a cold start.
            clear_settings()
        except (TmdbError, MalformedRecordError) as error:
            status = "failed"
            message = f"TMDB could not be read: {_shortened(str(error))}"
        except Exception as error:
            # A fault of our own or of the database: record it if the database still answers, then let it out.
            logger.exception("sync run crashed")
            with contextlib.suppress(Exception):
                sync_runs.finish_run(
                    conn, run_id=run.id, counts=job.counts, status="failed", message=f"{type(error).__name__}: {error}"
                )
            raise
        finally:
            client.close()
        # A title's failure counts towards giving it up only in a run that did not fail, and in which TMDB answered
        # something (else the failure says nothing about the title).
        job.settle_failed_titles(counted=status != "failed" and job.answered > 0)
        job.counts.requests = client.requests
        job.counts.queued = tmdb.queue_length(conn)
        if status == "succeeded" and job.nothing_fetched():
            # Every list, change-feed and details request failed: the errors are the whole run, not a footnote.
            status = "failed"
            message = (
                f"every TMDB request for lists, changes and details failed; nothing was fetched ({job.first_failure})"
            )
        finished = sync_runs.finish_run(conn, run_id=run.id, counts=job.counts, status=status, message=message)
        logger.info("sync run finished", extra={"sync_run": finished.as_json() | {"errors": None}})
        return finished
    finally:
        with contextlib.suppress(DatabaseUnavailableError):  # a lost session releases its lock anyway
            sync_runs.unlock(conn)


def purge_tmdb_data(conn: Connection) -> PurgeResult:
    """Delete TMDB-sourced rows and clear TMDB's fields from the others (TMDB's terms, on leaving TMDB).

    Raises SyncAlreadyRunningError while a sync runs (the purge would race its writes).
    """
    if not sync_runs.try_lock(conn):
        raise SyncAlreadyRunningError("A TMDB sync is running; purge when it has finished.")
    try:
        return tmdb.purge(conn)
    finally:
        sync_runs.unlock(conn)


def _shortened(reason: str) -> str:
    return reason if len(reason) <= MAX_REASON_CHARS else reason[: MAX_REASON_CHARS - 1] + "\u2026"


@dataclass(frozen=True)
class _Fetched:
    """What a worker thread brought back for one queued title."""

    kind: str  # 'title', 'gone', 'malformed' or 'failed'
    title: TmdbTitle | None = None
    reason: str = ""


class _Run:
    def __init__(
        self,
        conn: Connection,
        *,
        client: TmdbClient,
        settings: SyncSettings,
        run_id: int,
        now: Callable[[], datetime],
    ) -> None:
        self.conn = conn
        self.client = client
        self.settings = settings
        self.run_id = run_id
        self.now = now
        self.started = now()
        self.today = self.started.date()
        self.counts = SyncCounts()
        # TMDB's answers to the catalogue's requests (list and change pages, details of a title: found, gone or
        # malformed) and those it never gave (after the client's retries), with the first of these.
        self.answered = 0
        self.unanswered = 0
        self.first_failure = ""
        self.failed_titles: list[tuple[QueuedTitle, str]] = []  # details that failed in this run, with why

    def failed_read(self, reason: str) -> None:
        self.unanswered += 1
        self.first_failure = self.first_failure or _shortened(reason)

    def nothing_fetched(self) -> bool:
        """True when the run asked TMDB for lists, changes or details and every one of those requests failed."""
        return self.unanswered > 0 and self.answered == 0

    def error(
        self,
        stage: str,
        reason: str,
        *,
        media_type: str | None = None,
        tmdb_id: int | None = None,
        list_name: str | None = None,
        page: int | None = None,
    ) -> None:
        self.counts.error_count += 1
        if len(self.counts.errors) < sync_runs.MAX_STORED_ERRORS:
            entry: dict[str, Any] = {"stage": stage, "reason": _shortened(reason)}
            if media_type is not None:
                entry["media_type"] = media_type
            if tmdb_id is not None:
                entry["tmdb_id"] = tmdb_id
            if list_name is not None:
                entry["list"] = list_name
            if page is not None:
                entry["page"] = page
            self.counts.errors.append(entry)

    def progress(self) -> None:
        self.counts.requests = self.client.requests
        self.counts.queued = tmdb.queue_length(self.conn)  # while running: still to fetch (this run or the next)
        sync_runs.record_progress(self.conn, run_id=self.run_id, counts=self.counts)

    def execute(self) -> None:
        images = image_configuration(self._cached("configuration", self.client.configuration))
        genres = {m: genre_names(self._cached(f"genres/{m}", partial(self.client.genres, m))) for m in MEDIA_TYPES}
        for media_type in MEDIA_TYPES:
            self._changes(media_type)
        self.progress()
        for source in LIST_SOURCES:
            self._list(source)
        self.progress()
        cutoff = self.started - timedelta(days=self.settings.refresh_after_days)
        tmdb.enqueue_stale(self.conn, checked_before=cutoff)
        self._fetch_queued(images, genres)

    # --- cached documents -------------------------------------------------------------------------------------------

    def _cached(self, name: str, fetch: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """A cached TMDB document younger than the configured age, else fetched anew; a stale copy stands in when
        TMDB cannot be read (recorded)."""
        cached = tmdb.get_cached(self.conn, name=name)
        max_age = timedelta(days=self.settings.configuration_max_age_days)
        if cached is not None and cached[1] > self.started - max_age:
            return cached[0]
        try:
            body = fetch()
            # Validate before caching: a broken document must not replace a good one.
            image_configuration(body) if name == "configuration" else genre_names(body)
        except (TmdbUnavailableError, TmdbMalformedError, TmdbNotFoundError, MalformedRecordError) as error:
            if cached is None:
                raise
            self.error(name, f"kept the cached copy from {cached[1].date().isoformat()}: {error}")
            return cached[0]
        tmdb.put_cached(self.conn, name=name, body=body, fetched_at=self.now())
        return body

    # --- change feeds -----------------------------------------------------------------------------------------------

    def _changes(self, media_type: str) -> None:
        """Queue the held titles TMDB changed on each complete UTC day since the watermark, one day at a time; the
        watermark moves only past days whose pages were all read."""
        through = tmdb.changes_through(self.conn, media_type=media_type)
        yesterday = self.today - timedelta(days=1)
        if through is not None and through >= yesterday:
            return
        oldest = self.today - timedelta(days=CHANGES_KEPT_DAYS)
        if through is None or through < oldest - timedelta(days=1):
            # Changes before `oldest` can no longer be read: every title fetched before then is fetched again.
            tmdb.enqueue_fetched_before(self.conn, media_type=media_type, before=_midnight(oldest), reason="gap")
            day = oldest
        else:
            day = through + timedelta(days=1)
        while day <= yesterday:
            end_of_day = _midnight(day + timedelta(days=1))
            # Rows fetched after the day ended already carry its changes: the day matters only if older ones exist.
            if tmdb.holds_fetched_before(self.conn, media_type=media_type, before=end_of_day):
                try:
                    self._change_day(media_type, day, end_of_day)
                except (TmdbUnavailableError, TmdbMalformedError, TmdbNotFoundError, MalformedRecordError) as error:
                    self.failed_read(f"changes {day.isoformat()}: {error}")
                    self.error(
                        "changes",
                        f"{day.isoformat()}: {error}; the next run reads this day again",
                        media_type=media_type,
                    )
                    return
            tmdb.set_changes_through(self.conn, media_type=media_type, day=day)
            day += timedelta(days=1)

    def _change_day(self, media_type: str, day: date, end_of_day: datetime) -> None:
        page = 1
        while True:
            entries, total_pages = list_entries(self.client.changes(media_type, day, page))
            self.counts.pages += 1
            self.answered += 1
            if entries:
                tmdb.enqueue_changed(
                    self.conn,
                    media_type=media_type,
                    tmdb_ids=[e.tmdb_id for e in entries],
                    fetched_before=end_of_day,
                )
            if page >= min(total_pages, MAX_CHANGE_PAGES):
                break
            page += 1
        if total_pages > MAX_CHANGE_PAGES:
            # TMDB serves no more pages of that day: fetch everything it may have touched again instead.
            tmdb.enqueue_fetched_before(self.conn, media_type=media_type, before=end_of_day, reason="gap")
            self.error(
                "changes",
                f"{day.isoformat()} has {total_pages} pages of changes, more than TMDB serves ({MAX_CHANGE_PAGES}); "
                "every title fetched before then is queued again",
                media_type=media_type,
            )

    # --- lists --------------------------------------------------------------------------------------------------------

    def _list(self, source: ListSource) -> None:
        """Read a list's pages; replace its ranks when all were read; queue the titles the catalogue lacks."""
        ids: list[int] = []
        titles: list[str | None] = []
        years: list[int | None] = []
        page = 1
        try:
            while page <= self.settings.list_pages:
                entries, total_pages = list_entries(self.client.list_page(source.path, page))
                self.counts.pages += 1
                self.answered += 1
                for entry in entries:
                    if (self.settings.include_adult or not entry.adult) and entry.tmdb_id not in ids:
                        ids.append(entry.tmdb_id)
                        titles.append(entry.title)
                        years.append(entry.year)
                if page >= total_pages:
                    break
                page += 1
        except (TmdbUnavailableError, TmdbMalformedError, TmdbNotFoundError, MalformedRecordError) as error:
            # The pages read are kept (their titles queued), but a partial list never replaces the list's ranks.
            self.failed_read(f"{source.path} page {page}: {error}")
            kept = f"; the titles of page{'s 1-' if page > 2 else ' '}{page - 1} are queued" if page > 1 else ""
            self.error(
                "list",
                f"{source.path} page {page} failed: {error}; the previous ranks stay{kept}",
                media_type=source.media_type,
                list_name=source.name,
                page=page,
            )
            self._enqueue_listed(source, ids, titles, years)
            return
        tmdb.replace_list_ranks(self.conn, list_name=source.name, media_type=source.media_type, tmdb_ids=ids)
        self._enqueue_listed(source, ids, titles, years)

    def _enqueue_listed(
        self, source: ListSource, ids: list[int], titles: list[str | None], years: list[int | None]
    ) -> None:
        if not ids:
            return
        tmdb.enqueue_unless_held(
            self.conn,
            media_type=source.media_type,
            tmdb_ids=ids,
            titles=titles,
            years=years,
            reason="list",
            recheck_gone_before=self.started - timedelta(days=self.settings.refresh_after_days),
        )

    # --- details ------------------------------------------------------------------------------------------------------

    def _fetch_queued(self, images: ImageConfiguration, genres: dict[str, dict[int, str]]) -> None:
        """Fetch queued titles' details on worker threads (HTTP only) and write them in queue order on this thread,
        which owns the connection (so when two TMDB titles claim one title + year, the queue order decides, not
        the network). Titles that failed in this run wait for the next one."""
        batch_size = self.settings.concurrency * 4
        with ThreadPoolExecutor(max_workers=self.settings.concurrency, thread_name_prefix="tmdb") as pool:
            while True:
                batch = tmdb.next_queued(self.conn, limit=batch_size, not_attempted_since=self.started)
                if not batch:
                    return
                futures = [(item, pool.submit(self._fetch, item, images, genres)) for item in batch]
                stop: BaseException | None = None
                for item, future in futures:
                    try:
                        fetched = future.result()
                    except (BudgetExhaustedError, TmdbAuthError) as error:
                        # The titles after it fail fast at the pacer (no request is sent) or were cancelled.
                        stop = stop or error
                        for _, pending in futures:
                            pending.cancel()
                        continue
                    except CancelledError:
                        continue
                    self._write(item, fetched)
                self.progress()
                if stop is not None:
                    raise stop

    def _fetch(self, item: QueuedTitle, images: ImageConfiguration, genres: dict[str, dict[int, str]]) -> _Fetched:
        try:
            body = self.client.details(item.media_type, item.tmdb_id)
        except TmdbNotFoundError:
            return _Fetched("gone")
        except TmdbMalformedError as error:
            return _Fetched("malformed", reason=str(error))
        except TmdbUnavailableError as error:
            return _Fetched("failed", reason=str(error))
        try:
            title = map_details(
                item.media_type,
                item.tmdb_id,
                body,
                images=images,
                genres=genres[item.media_type],
                max_cast=self.settings.max_cast,
            )
        except MalformedRecordError as error:
            return _Fetched("malformed", reason=f"malformed details: {error}")
        return _Fetched("title", title=title)

    def _write(self, item: QueuedTitle, fetched: _Fetched) -> None:
        conn, media_type, tmdb_id = self.conn, item.media_type, item.tmdb_id
        if fetched.kind == "failed":
            self.failed_read(f"{media_type} {tmdb_id}: {fetched.reason}")
        else:
            self.answered += 1
        if tmdb.is_blocked(conn, media_type=media_type, tmdb_id=tmdb_id):
            # An admin deleted this title (queued before the deletion, or by a change feed): it stays deleted.
            tmdb.dequeue(conn, media_type=media_type, tmdb_id=tmdb_id)
            self.counts.titles_skipped += 1
            return
        if fetched.kind == "title" and fetched.title is not None:
            title = fetched.title
            if title.adult and not self.settings.include_adult:
                # A title the catalogue holds that TMDB now marks adult: flagged as no longer on TMDB for Marquee
                # (kept, left out of the lists, asked again only when stale) and reported once, rather than skipped
                # in silence while the row went on being served and fetched again by every change and refresh.
                with conn.transaction():
                    held = tmdb.mark_gone(conn, at=self.now(), media_type=media_type, tmdb_id=tmdb_id)
                    tmdb.dequeue(conn, media_type=media_type, tmdb_id=tmdb_id)
                self.counts.titles_skipped += 1
                if held == "new":
                    self.error(
                        "details",
                        "TMDB now marks this title adult and TMDB_INCLUDE_ADULT is off: flagged as gone, kept, "
                        "left out of the lists",
                        media_type=media_type,
                        tmdb_id=tmdb_id,
                    )
                return
            try:
                with conn.transaction():
                    outcome = tmdb.upsert_title(conn, title, fetched_at=self.now())
                    tmdb.dequeue(conn, media_type=media_type, tmdb_id=tmdb_id)
                    tmdb.forget_refusal(conn, media_type=media_type, tmdb_id=tmdb_id)
            except TitleYearTakenError as error:
                # Remembered, so that a list showing it with this title and year does not queue it again while the
                # other row holds them; reported the first time only.
                with conn.transaction():
                    news = tmdb.record_refusal(conn, title, reason=error.detail, at=self.now())
                    tmdb.dequeue(conn, media_type=media_type, tmdb_id=tmdb_id)
                self.counts.titles_skipped += 1
                if news:
                    self.error("details", error.detail, media_type=media_type, tmdb_id=tmdb_id)
                return
            except (TitleConflictError, TitleRefusedError) as error:
                tmdb.dequeue(conn, media_type=media_type, tmdb_id=tmdb_id)
                self.counts.titles_skipped += 1
                reason = error.detail if isinstance(error, TitleConflictError) else str(error)
                self.error("details", reason, media_type=media_type, tmdb_id=tmdb_id)
                return
            if outcome == "new":
                self.counts.titles_new += 1
            elif outcome == "updated":
                self.counts.titles_updated += 1
            else:
                self.counts.titles_unchanged += 1
        elif fetched.kind == "gone":
            with conn.transaction():
                held = tmdb.mark_gone(conn, at=self.now(), media_type=media_type, tmdb_id=tmdb_id)
                tmdb.dequeue(conn, media_type=media_type, tmdb_id=tmdb_id)
            if held == "new":
                self.counts.titles_gone += 1  # newly gone: a title found gone before is not counted again
            elif held == "already":
                self.counts.titles_unchanged += 1
            else:
                # A title a list shows whose details TMDB no longer has, and that the catalogue does not hold:
                # remembered (reported once, not fetched by every run while the list shows it).
                self._remember_unwritable(item, "not_found", f"{media_type} {tmdb_id}'s details answered HTTP 404")
        elif fetched.kind == "malformed":
            self._remember_unwritable(item, "malformed", fetched.reason)
        else:
            # Not fetched again in this run; whether the failure counts towards giving the title up is settled when
            # the run ends (settle_failed_titles): only if TMDB answered something in this run.
            tmdb.record_attempt_failed(
                conn, error=fetched.reason, at=self.now(), media_type=media_type, tmdb_id=tmdb_id, counted=False
            )
            self.failed_titles.append((item, fetched.reason))

    def settle_failed_titles(self, *, counted: bool) -> None:
        """Report the titles whose details failed in this run and, when `counted`, count the failure towards giving
        each up (given up after `max_attempts` runs, remembered). A run in which TMDB answered nothing (an outage,
        a refused token: the run is failed) counts for no title: it says nothing about the title, and a failed run
        changes nothing half-way (three Run nows during an outage gave up every queued title for 90 days)."""
        failed, self.failed_titles = self.failed_titles, []
        for item, reason in failed:
            attempts = (
                tmdb.count_failed_attempt(self.conn, media_type=item.media_type, tmdb_id=item.tmdb_id) if counted else 0
            )
            if attempts >= self.settings.max_attempts:
                self._remember_unwritable(item, "given_up", f"{reason}; given up after {attempts} runs")
            else:
                self.error(
                    "details", f"{reason}; tried again next run", media_type=item.media_type, tmdb_id=item.tmdb_id
                )

    def _remember_unwritable(self, item: QueuedTitle, kind: str, reason: str) -> None:
        """Drop a title whose details cannot be written (malformed, or failed too many runs) from the queue and
        remember it with what the list showed, so that the list does not queue it again every run (only once it
        shows another title or year, or TMDB_REFRESH_AFTER_DAYS have passed); reported the first time only."""
        with self.conn.transaction():
            news = tmdb.remember_unwritable(
                self.conn, media_type=item.media_type, tmdb_id=item.tmdb_id, kind=kind, reason=reason, at=self.now()
            )
            tmdb.dequeue(self.conn, media_type=item.media_type, tmdb_id=item.tmdb_id)
        self.counts.titles_skipped += 1
        if news:
            days = self.settings.refresh_after_days
            later = f"asked again when a TMDB list shows another title or year, or after {days} days"
            self.error("details", f"{reason}; {later}", media_type=item.media_type, tmdb_id=item.tmdb_id)
