"""The collector settings the long-running loops apply after start-up."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from worker.runtime.heap import YOUNG_GENERATION_THRESHOLD, tune_collector


@pytest.fixture
def restored_collector() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


@pytest.mark.usefixtures("restored_collector")
def test_start_up_objects_are_frozen_and_young_passes_are_rarer() -> None:
    older = gc.get_threshold()[1:]
    tune_collector()
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == (YOUNG_GENERATION_THRESHOLD, *older)
    assert gc.isenabled()


@pytest.mark.usefixtures("restored_collector")
def test_cycles_made_after_tuning_are_still_collected() -> None:
    tune_collector()
    first, second = _Node(), _Node()
    first.other, second.other = second, first
    watch = weakref.ref(first)
    del first, second
    assert watch() is not None  # a cycle: reference counting alone never frees it
    # The collector counts allocations net of frees: keep them alive to reach the threshold.
    kept = [[] for _ in range(YOUNG_GENERATION_THRESHOLD + 1)]
    assert watch() is None
    assert len(kept) > YOUNG_GENERATION_THRESHOLD
