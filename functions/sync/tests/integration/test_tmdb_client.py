"""The TMDB client against the fake TMDB server on loopback: errors, retries, Retry-After, pacing, deadlines."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from marquee_local.fake_tmdb import FakeTmdb
from movie_sync.tmdb import (
    BudgetExhaustedError,
    Pacer,
    TmdbAuthError,
    TmdbClient,
    TmdbMalformedError,
    TmdbNotFoundError,
    TmdbUnavailableError,
)


@pytest.fixture
def fake() -> Iterator[FakeTmdb]:
    with FakeTmdb() as server:
        server.add_movie(550, "Fight Club", release_date="1999-10-15", cast=["Edward Norton"])
        yield server


def client_for(fake: FakeTmdb, *, rate: float = 30.0, deadline: float | None = None, **options: Any) -> TmdbClient:
    settings: dict[str, Any] = {"backoff_factor": 0.05, "backoff_jitter": 0.05, "read_timeout": 2.0} | options
    return TmdbClient(base_url=fake.url, token=fake.token, pacer=Pacer(rate, deadline=deadline), **settings)


def test_details_come_back_with_credits_and_external_ids(fake: FakeTmdb) -> None:
    body = client_for(fake).details("movie", 550)
    assert body["title"] == "Fight Club"
    assert body["credits"]["cast"][0]["name"] == "Edward Norton"
    assert "imdb_id" in body["external_ids"]
    (request,) = fake.requests
    assert request.query == {"language": "en-US", "append_to_response": "credits,external_ids"}


def test_404_is_not_found_with_tmdbs_status_code(fake: FakeTmdb) -> None:
    with pytest.raises(TmdbNotFoundError) as missing:
        client_for(fake).details("movie", 1)
    assert missing.value.status == 404 and missing.value.status_code == 34
    assert len(fake.requests) == 1  # a 404 is an answer, not retried


def test_wrong_token_is_an_auth_error_and_is_not_retried(fake: FakeTmdb) -> None:
    client = TmdbClient(base_url=fake.url, token="nope", pacer=Pacer(30))
    with pytest.raises(TmdbAuthError) as refused:
        client.configuration()
    assert refused.value.status_code == 7
    assert "nope" not in str(refused.value)
    assert len(fake.requests) == 1


def test_malformed_json_is_reported_not_retried(fake: FakeTmdb) -> None:
    fake.fault(r"^/movie/550$", "malformed")
    with pytest.raises(TmdbMalformedError):
        client_for(fake).details("movie", 550)
    assert len(fake.requests) == 1


@pytest.mark.slow
def test_server_errors_are_retried_with_growing_waits_then_given_up(fake: FakeTmdb) -> None:
    fake.fault(r"^/configuration$", "status", status=503)
    with pytest.raises(TmdbUnavailableError) as unavailable:
        client_for(fake, max_retries=3, backoff_factor=0.1, backoff_jitter=0.0).configuration()
    assert unavailable.value.status == 503
    times = [r.at for r in fake.requests]
    assert len(times) == 4
    gaps = [b - a for a, b in itertools.pairwise(times)]
    # 0.1, 0.2, 0.4 seconds (backoff_factor doubled each retry, no jitter here)
    for gap, expected in zip(gaps, (0.1, 0.2, 0.4), strict=True):
        assert gap >= expected - 0.01


@pytest.mark.slow
def test_retry_after_is_honoured_on_429(fake: FakeTmdb) -> None:
    fake.fault(r"^/movie/550$", "status", status=429, retry_after=1, times=1)
    body = client_for(fake).details("movie", 550)
    assert body["id"] == 550
    first, second = fake.requests
    assert first.status == 429 and second.status == 200
    assert second.at - first.at >= 0.99


@pytest.mark.slow
def test_retry_after_is_honoured_on_503_and_bounded_as_a_429s(fake: FakeTmdb) -> None:
    # A 503 with Retry-After was backed off like any 5xx (0.05 s here), its header unread: TMDB's "back in a
    # second" spent the retries meanwhile.
    fake.fault(r"^/movie/550$", "status", status=503, retry_after=1, times=1)
    assert client_for(fake).details("movie", 550)["id"] == 550
    first, second = fake.requests
    assert first.status == 503 and second.status == 200
    assert second.at - first.at >= 0.99
    # Bounded by max_retry_after, as a 429's is: an hour's Retry-After is waited for one second here.
    fake.fault(r"^/movie/550$", "status", status=503, retry_after=3600, times=1)
    assert client_for(fake, max_retry_after=1.0).details("movie", 550)["id"] == 550
    third, fourth = fake.requests[2:]
    assert third.status == 503 and 0.99 <= fourth.at - third.at < 3.0


def test_a_503_retry_after_past_the_deadline_stops_instead_of_waiting(fake: FakeTmdb) -> None:
    fake.fault(r"^/configuration$", "status", status=503, retry_after=30)
    started = time.monotonic()
    with pytest.raises(BudgetExhaustedError):
        client_for(fake, deadline=started + 2.0).configuration()
    assert time.monotonic() - started < 1.0
    assert len(fake.requests) == 1


def test_a_connection_reset_mid_body_is_retried(fake: FakeTmdb) -> None:
    fake.fault(r"^/movie/550$", "cut", times=1)  # Content-Length says more than arrives before the connection ends
    assert client_for(fake).details("movie", 550)["title"] == "Fight Club"
    assert len(fake.requests) == 2


def test_a_body_cut_short_by_the_connection_closing_is_retried_not_malformed(fake: FakeTmdb) -> None:
    """Without Content-Length (or chunks) the body runs to the connection's end: a connection closed mid-body leaves
    half a JSON document that no framing flags. It is a broken answer, retried as a reset is, not a malformed
    record (which is not retried, and whose title the sync remembers as unwritable for TMDB_REFRESH_AFTER_DAYS)."""
    fake.fault(r"^/movie/550$", "cut_unsized", times=1)
    assert client_for(fake).details("movie", 550)["title"] == "Fight Club"
    assert len(fake.requests) == 2


@pytest.mark.slow
def test_bodies_cut_short_every_time_are_unavailable_after_the_retries(fake: FakeTmdb) -> None:
    fake.fault(r"^/configuration$", "cut_unsized")
    with pytest.raises(TmdbUnavailableError) as unavailable:
        client_for(fake, max_retries=2).configuration()
    assert "cut short" in str(unavailable.value)
    assert len(fake.requests) == 3


@pytest.mark.slow
def test_a_body_dripping_slower_than_the_body_timeout_is_given_up_and_retried(fake: FakeTmdb) -> None:
    """Each read of a dripping body is quick (a byte every 0.05 s, under the 2 s read timeout), so the read timeout
    never fires: the request held its worker until the Lambda was killed mid-run (the run left 'running', its
    counts lost). A body not read within the body timeout is a broken answer, retried."""
    fake.fault(r"^/movie/550$", "drip", delay=0.05, times=1)
    started = time.monotonic()
    assert client_for(fake, body_timeout=1.0).details("movie", 550)["title"] == "Fight Club"
    assert time.monotonic() - started < 3.0
    assert len(fake.requests) == 2


@pytest.mark.slow
def test_read_timeout_is_retried(fake: FakeTmdb) -> None:
    fake.fault(r"^/movie/550$", "slow", delay=1.0, times=1)
    body = client_for(fake, read_timeout=0.3).details("movie", 550)
    assert body["id"] == 550
    assert len(fake.requests) == 2


@pytest.mark.slow
def test_no_request_starts_after_the_deadline(fake: FakeTmdb) -> None:
    client = client_for(fake, rate=2.0, deadline=time.monotonic() + 1.2)
    done = 0
    with pytest.raises(BudgetExhaustedError):
        for _ in range(10):
            client.configuration()
            done += 1
    assert done == 3  # at 0, 0.5 and 1.0 seconds; the next slot (1.5 s) is past the deadline
    assert len(fake.requests) == 3


def test_a_retry_after_past_the_deadline_stops_instead_of_waiting(fake: FakeTmdb) -> None:
    fake.fault(r"^/configuration$", "status", status=429, retry_after=30)
    started = time.monotonic()
    with pytest.raises(BudgetExhaustedError):
        client_for(fake, deadline=started + 2.0).configuration()
    assert time.monotonic() - started < 1.0
    assert len(fake.requests) == 1


def _fetch_all(client: TmdbClient, ids: list[int], workers: int) -> list[dict[str, Any]]:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda i: client.details("movie", i), ids))


@pytest.mark.slow
def test_a_429_storm_holds_every_thread_for_retry_after_and_the_rate_stays_under_the_limit(fake: FakeTmdb) -> None:
    ids = list(range(1000, 1080))
    for i in ids:
        fake.add_movie(i, f"Title {i}")
    fake.fault(r"^/movie/\d+$", "status", status=429, retry_after=1, times=8)

    bodies = _fetch_all(client_for(fake), ids, workers=8)

    assert [b["id"] for b in bodies] == ids
    log = fake.requests
    refusals = [r.at for r in log if r.status == 429]
    assert len(refusals) == 8
    for refused_at in refusals:
        # Requests already on the wire when the 429 was sent may still arrive just after it; then nothing
        # arrives until Retry-After has passed.
        early = [r for r in log if refused_at + 0.25 <= r.at < refused_at + 0.95]
        assert early == [], f"{len(early)} requests within Retry-After of a 429"
    assert fake.max_requests_per_window(1.0) <= 40


@pytest.mark.slow
def test_measured_rate_stays_under_tmdbs_limit(fake: FakeTmdb) -> None:
    """The fake enforces TMDB's limit (429 past 40 requests in a second); the paced client never trips it."""
    ids = list(range(2000, 2160))
    for i in ids:
        fake.add_movie(i, f"Title {i}")
    fake.enforce_rate_limit(40)
    started = time.monotonic()

    bodies = _fetch_all(client_for(fake), ids, workers=8)

    elapsed = time.monotonic() - started
    assert len(bodies) == len(ids)
    assert fake.max_requests_per_window(1.0) <= 40
    assert [r for r in fake.requests if r.status == 429] == []
    assert len(ids) / elapsed <= 31  # paced at 30 per second


@pytest.mark.slow
def test_pacer_spaces_requests_across_threads(fake: FakeTmdb) -> None:
    client = client_for(fake, rate=20.0)
    barrier = threading.Barrier(5)

    def burst() -> None:
        barrier.wait()
        for _ in range(4):
            client.configuration()

    threads = [threading.Thread(target=burst) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    times = sorted(r.at for r in fake.requests)
    assert len(times) == 20
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert sum(gaps) / len(gaps) >= 0.045  # 1/20 s apart on average
    assert client.requests == 20
