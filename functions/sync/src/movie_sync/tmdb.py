"""TMDB v3 over HTTP for the sync: urllib3's pooled connections and Retry machinery, paced under TMDB's rate limit.

Every request (retries included) takes a slot from one Pacer shared by the worker threads, so the requests leave
evenly spaced at most `requests_per_second` apart. A 429 holds every thread back for its Retry-After (or a backoff);
5xx answers and timeouts hold back only the request that met them, with exponential backoff and jitter (a 503's
Retry-After, when it gives one, instead of the backoff, bounded as a 429's is). No request
starts after the run's deadline: the pacer raises BudgetExhaustedError instead.
"""

from __future__ import annotations

import itertools
import json
import random
import threading
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import urllib3
from urllib3.exceptions import HTTPError, InvalidHeader, MaxRetryError
from urllib3.util.retry import Retry

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class BudgetExhaustedError(Exception):
    """The run's time budget does not allow another request (or the wait a retry needs)."""


class TmdbError(Exception):
    """TMDB answered with an error, or not at all. `status` is the HTTP status (None without an answer);
    `status_code` and `status_message` are TMDB's own error fields when its body had them."""

    def __init__(self, message: str, *, path: str, status: int | None = None, status_code: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.status = status
        self.status_code = status_code


class TmdbNotFoundError(TmdbError):
    """404: TMDB has no such title (TMDB status_code 34)."""


class TmdbAuthError(TmdbError):
    """401/403: TMDB refused the token (status_code 7 'Invalid API key'); no request can succeed."""


class TmdbMalformedError(TmdbError):
    """A 200 whose body is not a JSON object."""


class TmdbUnavailableError(TmdbError):
    """Still 429, 5xx or no answer (timeouts, refused connections) after the retries."""


class Pacer:
    """Spaces request starts `1 / rate` seconds apart across threads, and holds them all back after a 429.

    `deadline` is a `clock()` value (monotonic seconds) after which no request may start; None means no limit.
    `requests` counts the slots given out, which is the number of HTTP requests sent.
    """

    def __init__(
        self,
        rate: float,
        *,
        deadline: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = 1.0 / rate
        self.deadline = deadline
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next = 0.0
        self._held_until = 0.0
        self.requests = 0

    def _check(self, moment: float) -> None:
        if self.deadline is not None and moment > self.deadline:
            raise BudgetExhaustedError("the time budget does not leave room for another TMDB request")

    def acquire(self) -> None:
        """Block until this thread may send a request; BudgetExhaustedError if that would be past the deadline."""
        while True:
            with self._lock:
                now = self._clock()
                slot = max(now, self._next, self._held_until)
                self._check(slot)
                self._next = slot + self.interval
            if slot > now:
                self._sleep(slot - now)
            with self._lock:
                # A 429 met by another thread while this one waited moves the hold: take a new slot after it.
                if self._clock() >= self._held_until:
                    self.requests += 1
                    return

    def hold_all(self, seconds: float) -> None:
        """After a 429: no thread starts a request for `seconds`."""
        with self._lock:
            until = self._clock() + seconds
            self._check(until)
            self._held_until = max(self._held_until, until)

    def wait(self, seconds: float) -> None:
        """This thread alone waits (backoff after a 5xx or a timeout), within the deadline."""
        self._check(self._clock() + seconds)
        if seconds > 0:
            self._sleep(seconds)


class PacedRetry(Retry):
    """urllib3's Retry (which decides what to retry and counts attempts) with its waits routed through the Pacer.

    The first retry already waits (urllib3's own formula waits only from the second); the wait doubles each retry
    with up to `backoff_jitter` seconds of random jitter, capped at `backoff_max`. A 429 holds back every thread for
    Retry-After seconds (capped at `retry_after_max`) or, without the header, the backoff; a 503 with Retry-After
    holds back the request that met it for that long (capped the same way), one without it waits the backoff.
    """

    pacer: Pacer | None = None
    max_rate_limited: int = 20

    def new(self, **kw: Any) -> PacedRetry:
        retry = super().new(**kw)
        retry.pacer = self.pacer
        retry.max_rate_limited = self.max_rate_limited
        return retry

    def increment(self, *args: Any, **kwargs: Any) -> PacedRetry:
        """As Retry's, except that 429s draw on their own allowance (`max_rate_limited`) rather than the retries
        for errors: during a 429 storm the same request may be refused many times, and each refusal comes with the
        time to wait; the run's deadline bounds the waiting."""
        retry = super().increment(*args, **kwargs)
        latest = retry.history[-1] if retry.history else None
        refused = sum(1 for h in retry.history if h.status == 429)
        if latest is not None and latest.status == 429 and refused <= self.max_rate_limited:
            restore: dict[str, Any] = {}
            if retry.total is not None and not isinstance(retry.total, bool):
                restore["total"] = retry.total + 1
            if retry.status is not None:
                restore["status"] = retry.status + 1
            retry = retry.new(**restore)
        return retry

    def _backoff(self) -> float:
        attempts = max(1, len(self.history))
        value = self.backoff_factor * (2 ** (attempts - 1)) + random.uniform(0, self.backoff_jitter)  # noqa: S311
        return float(min(self.backoff_max, value))

    def sleep(self, response: urllib3.BaseHTTPResponse | None = None) -> None:
        pacer = self.pacer
        if pacer is None:  # pragma: no cover - the client always sets one
            super().sleep(response)
            return
        delay = None
        if response is not None and response.status in (429, 503):
            try:
                delay = self.get_retry_after(response)  # capped at retry_after_max
            except InvalidHeader:
                delay = None
        if response is not None and response.status == 429:
            pacer.hold_all(self._backoff() if delay is None else delay)
        else:
            # A 503's Retry-After is when TMDB expects to be back: this request waits that long (bounded as a
            # 429's is) instead of a backoff of a fraction of a second that would spend its retries meanwhile.
            pacer.wait(self._backoff() if delay is None else delay)
        pacer.acquire()


class _BrokenBodyError(Exception):
    """The answer's body did not arrive whole (the connection reset or timed out mid-body, or it came too slowly)."""


def _close_delimited(response: urllib3.BaseHTTPResponse) -> bool:
    """Whether the body ran to the connection's end (neither Content-Length nor chunked framing said its size)."""
    encoding = response.headers.get("Transfer-Encoding", "").lower()
    return "Content-Length" not in response.headers and "chunked" not in encoding


def _is_json(body: bytes) -> bool:
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


def _error_fields(body: bytes) -> tuple[int | None, str | None]:
    try:
        data = json.loads(body)
    except ValueError:
        return None, None
    if not isinstance(data, dict):
        return None, None
    code = data.get("status_code")
    message = data.get("status_message")
    return (code if isinstance(code, int) else None), (message if isinstance(message, str) else None)


class TmdbClient:
    """A TMDB v3 client for one run: thread-safe, paced, retrying. Paths are relative to `base_url`
    (`https://api.themoviedb.org/3` by default); the token is TMDB's v3 API read access token (sent as Bearer)."""

    def __init__(
        self,
        *,
        base_url: str,
        token: str,
        pacer: Pacer,
        language: str = "en-US",
        concurrency: int = 8,
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        max_retries: int = 5,
        backoff_factor: float = 0.5,
        backoff_jitter: float = 0.5,
        max_retry_after: float = 60.0,
        max_rate_limited: int = 20,
        body_timeout: float = 60.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.language = language
        self.pacer = pacer
        self._http = urllib3.PoolManager(
            num_pools=2,
            maxsize=concurrency,
            block=True,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=urllib3.Timeout(connect=connect_timeout, read=read_timeout),
        )
        retry = PacedRetry(
            total=max_retries,
            connect=max_retries,
            read=max_retries,
            status=max_retries,
            other=0,
            redirect=2,
            allowed_methods=frozenset({"GET"}),
            status_forcelist=RETRY_STATUSES,
            backoff_factor=backoff_factor,
            backoff_jitter=backoff_jitter,
            backoff_max=max(backoff_factor * 2**max_retries, max_retry_after),
            retry_after_max=round(max_retry_after),
            respect_retry_after_header=True,
            raise_on_status=False,
        )
        retry.pacer = pacer
        retry.max_rate_limited = max_rate_limited
        self._retry = retry
        self._max_retries = max_retries
        self._body_timeout = body_timeout
        self._backoff_factor = backoff_factor
        self._backoff_max = max(backoff_factor * 2**max_retries, max_retry_after)

    def close(self) -> None:
        self._http.clear()

    @property
    def requests(self) -> int:
        """HTTP requests sent so far, retries included."""
        return self.pacer.requests

    def get(self, path: str, params: dict[str, str | int] | None = None) -> dict[str, Any]:
        """GET `path` and return its JSON object.

        Raises TmdbNotFoundError (404), TmdbAuthError (401/403), TmdbMalformedError (200 but not a JSON object),
        TmdbUnavailableError (429/5xx/no answer after the retries, or another error status) and
        BudgetExhaustedError (no time left for the request or its retries).
        """
        query = {"language": self.language, **{k: str(v) for k, v in (params or {}).items()}}
        for attempt in itertools.count():
            self.pacer.acquire()
            try:
                response = self._http.request(
                    "GET", self.base_url + path, fields=query, retries=self._retry, preload_content=False
                )
            except MaxRetryError as error:
                raise TmdbUnavailableError(f"TMDB did not answer {path}: {error.reason}", path=path) from None
            except HTTPError as error:
                raise TmdbUnavailableError(f"TMDB did not answer {path}: {error}", path=path) from None
            broken = None
            try:
                body = self._read_body(response)
            except _BrokenBodyError as error:
                broken = str(error)
            if broken is None and response.status == 200 and _close_delimited(response) and not _is_json(body):
                # The body ran to the connection's end, and is not JSON: the connection closed mid-body (nothing
                # else can tell, as Content-Length or chunks tell a reset).
                broken = "a body cut short (the connection closed mid-body)"
            if broken is None:
                break
            # A broken answer (reset or timed out mid-body, cut short, too slow) is retried with backoff.
            if attempt < self._max_retries:
                self.pacer.wait(min(self._backoff_max, self._backoff_factor * 2**attempt))
                continue
            raise TmdbUnavailableError(f"{path} answered {broken} {attempt + 1} times", path=path)
        status = response.status
        if status == 200:
            try:
                data = json.loads(body)
            except ValueError:
                raise TmdbMalformedError(f"{path} answered a body that is not JSON", path=path, status=200) from None
            if not isinstance(data, dict):
                raise TmdbMalformedError(f"{path} answered JSON that is not an object", path=path, status=200)
            return data
        code, message = _error_fields(body)
        text = f"{path} answered HTTP {status}" + (f" ({message})" if message else "")
        if status == 404:
            raise TmdbNotFoundError(text, path=path, status=status, status_code=code)
        if status in (401, 403):
            raise TmdbAuthError(text, path=path, status=status, status_code=code)
        raise TmdbUnavailableError(text, path=path, status=status, status_code=code)

    def _read_body(self, response: urllib3.BaseHTTPResponse) -> bytes:
        """The whole body, read as it arrives; _BrokenBodyError when the connection breaks or times out mid-body,
        or the body takes longer than `body_timeout` (a body dripping in, each read within the read timeout, would
        otherwise hold the request until the Lambda is killed)."""
        started = time.monotonic()
        chunks: list[bytes] = []
        try:
            while True:
                chunk = response.read1(65536)
                if not chunk:
                    break
                chunks.append(chunk)
                if time.monotonic() - started > self._body_timeout:
                    raise _BrokenBodyError(f"a body still arriving after {self._body_timeout:g} seconds")
        except HTTPError as error:
            raise _BrokenBodyError(f"a body broken off ({error})") from None
        except _BrokenBodyError:
            response.close()  # the connection is not reused with a body still arriving
            raise
        finally:
            response.release_conn()
        return b"".join(chunks)

    # --- the v3 resources the sync reads --------------------------------------------------------------------------

    def configuration(self) -> dict[str, Any]:
        """GET /configuration: {"images": {"secure_base_url", "poster_sizes", ...}, "change_keys": [...]}."""
        return self.get("/configuration")

    def genres(self, media_type: str) -> dict[str, Any]:
        """GET /genre/{movie|tv}/list: {"genres": [{"id", "name"}]}."""
        return self.get(f"/genre/{media_type}/list")

    def changes(self, media_type: str, day: date, page: int) -> dict[str, Any]:
        """GET /{movie|tv}/changes for one UTC day: {"results": [{"id", "adult"}], "page", "total_pages", ...}.

        end_date is the next day: whether TMDB's end is inclusive or not, the day is covered (an overlap only
        repeats ids, which the queue absorbs).
        """
        params: dict[str, str | int] = {
            "start_date": day.isoformat(),
            "end_date": (day + timedelta(days=1)).isoformat(),
            "page": page,
        }
        return self.get(f"/{media_type}/changes", params)

    def list_page(self, path: str, page: int) -> dict[str, Any]:
        """GET a list (e.g. /movie/popular): {"page", "results": [...], "total_pages", "total_results"}."""
        return self.get(path, {"page": page})

    def details(self, media_type: str, tmdb_id: int) -> dict[str, Any]:
        """GET /{movie|tv}/{id} with credits and external_ids appended (one request per title)."""
        return self.get(f"/{media_type}/{tmdb_id}", {"append_to_response": "credits,external_ids"})
