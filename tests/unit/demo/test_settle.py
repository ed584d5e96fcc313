"""Waiting for the loop: done when the probe says so, and giving up only when nothing has
moved for the stall window (a slow but moving loop is waited for)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from worker.demo.settle import Progress, StalledError, wait_until_complete


class FakeClock:
    """Time moves only when the waiter sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def probe_of(values: Iterator[Progress]) -> Callable[[], Progress]:
    last: list[Progress] = []

    def probe() -> Progress:
        last[:] = [next(values, last[0] if last else Progress(0, 1, False))]
        return last[0]

    return probe


def test_returns_the_first_complete_progress() -> None:
    clock = FakeClock()
    seen: list[Progress] = []
    steps = iter([Progress(0, 3, False), Progress(2, 3, False), Progress(3, 3, True)])
    result = wait_until_complete(
        probe_of(steps),
        what="x",
        stall_s=10,
        on_progress=seen.append,
        clock=clock,
        sleep=clock.sleep,
    )
    assert result == Progress(3, 3, True)
    assert [p.done for p in seen] == [0, 2, 3]


def test_a_slow_loop_that_keeps_moving_is_waited_for() -> None:
    clock = FakeClock()
    # One step every 0.5 s poll, 100 steps: 50 s in all, far past the 5 s stall window.
    steps = iter([Progress(i, 100, i == 100) for i in range(101)])
    result = wait_until_complete(
        probe_of(steps), what="x", stall_s=5, clock=clock, sleep=clock.sleep
    )
    assert result.complete and clock.now >= 50


def test_nothing_moving_for_the_stall_window_gives_up_naming_the_stage() -> None:
    clock = FakeClock()
    steps = iter([Progress(0, 5, False), Progress(1, 5, False)])  # then stuck at 1
    with pytest.raises(StalledError) as raised:
        wait_until_complete(
            probe_of(steps), what="emails caught", stall_s=3, clock=clock, sleep=clock.sleep
        )
    assert raised.value.progress == Progress(1, 5, False)
    assert "emails caught" in str(raised.value) and "1 of 5" in str(raised.value)
    assert 3 <= clock.now <= 4.5
