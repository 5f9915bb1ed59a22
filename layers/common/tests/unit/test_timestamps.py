from datetime import UTC, datetime, timedelta, timezone

import pytest

from movie_common.timestamps import rfc3339


def test_a_moment_is_written_in_utc_with_z_whatever_its_zone() -> None:
    assert rfc3339(datetime(2026, 12, 1, tzinfo=UTC)) == "2026-12-01T00:00:00Z"
    assert rfc3339(datetime(2026, 11, 30, 13, 5, 33, 898557, tzinfo=UTC)) == "2026-11-30T13:05:33.898557Z"
    paris = timezone(timedelta(hours=1))
    assert rfc3339(datetime(2026, 12, 1, 1, 0, tzinfo=paris)) == "2026-12-01T00:00:00Z"


def test_a_naive_moment_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        rfc3339(datetime(2026, 12, 1))
