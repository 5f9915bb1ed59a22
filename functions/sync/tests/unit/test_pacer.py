"""The Pacer's arithmetic on a fake clock (no threads, no network)."""

from __future__ import annotations

import pytest

from movie_sync.tmdb import BudgetExhaustedError, Pacer


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


def test_requests_are_spaced_one_interval_apart() -> None:
    clock = FakeClock()
    pacer = Pacer(4.0, clock=clock, sleep=clock.sleep)
    for _ in range(4):
        pacer.acquire()
    assert clock.slept == [0.25, 0.25, 0.25]
    assert pacer.requests == 4


def test_idle_time_is_not_banked_into_a_burst() -> None:
    clock = FakeClock()
    pacer = Pacer(4.0, clock=clock, sleep=clock.sleep)
    pacer.acquire()
    clock.now += 10
    pacer.acquire()
    pacer.acquire()
    assert clock.slept == [0.25]


def test_a_hold_delays_the_next_request() -> None:
    clock = FakeClock()
    pacer = Pacer(10.0, clock=clock, sleep=clock.sleep)
    pacer.acquire()
    pacer.hold_all(2.0)
    pacer.acquire()
    assert clock.now == pytest.approx(102.0)


def test_deadline_refuses_slots_holds_and_waits_beyond_it() -> None:
    clock = FakeClock()
    pacer = Pacer(1.0, deadline=101.5, clock=clock, sleep=clock.sleep)
    pacer.acquire()
    pacer.acquire()  # at 101
    with pytest.raises(BudgetExhaustedError):
        pacer.acquire()  # 102 is past the deadline
    with pytest.raises(BudgetExhaustedError):
        pacer.hold_all(5.0)
    with pytest.raises(BudgetExhaustedError):
        pacer.wait(1.0)
    assert pacer.requests == 2
