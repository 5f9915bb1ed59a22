"""The framework-free half of problem documents: the code table and the Retry-After rules (no database)."""

from __future__ import annotations

from datetime import UTC, datetime

from movie_common import errors
from movie_common.problems import PROBLEM_TYPE_BASE, error_headers, problem_body, problem_table


def test_every_error_class_has_a_distinct_code_in_the_table() -> None:
    table = problem_table()
    classes = [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, errors.MarqueeError)]
    coded = [c for c in classes if "code" in c.__dict__ and c is not errors.MarqueeError]
    assert len({c.code for c in coded}) == len(coded)
    for cls in coded:
        assert table[cls.code] == (cls.status, cls.title), cls.__name__


def test_a_body_has_the_rfc_9457_members_and_drops_empty_extras() -> None:
    body = problem_body(
        status=404, code="not_found", title="Not found", detail="No movie has id 9.", instance="/movies/9",
        request_id="r-1", errors=None, limit=3,
    )  # fmt: skip
    assert body == {
        "type": PROBLEM_TYPE_BASE + "not_found",
        "title": "Not found",
        "status": 404,
        "detail": "No movie has id 9.",
        "instance": "/movies/9",
        "code": "not_found",
        "request_id": "r-1",
        "limit": 3,
    }


def test_retry_after_on_429_and_503_but_not_on_a_query_timeout() -> None:
    limited = errors.RateLimitedError(
        "x", limit=30, reset_at=datetime(2026, 1, 1, tzinfo=UTC), retry_after=17, headers={"X-RateLimit-Limit": "30"}
    )
    assert error_headers(limited) == {"X-RateLimit-Limit": "30", "Retry-After": "17"}
    assert error_headers(errors.DatabaseUnavailableError("x")) == {"Retry-After": "5"}
    assert error_headers(errors.QueryTimeoutError("x")) == {}
    assert error_headers(errors.NotFoundError("x")) == {}
