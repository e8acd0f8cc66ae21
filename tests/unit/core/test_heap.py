"""settle_heap: start-up objects frozen out of the collector, later cycles still collected."""

from __future__ import annotations

import gc
import time
import weakref
from collections.abc import Iterator

import pytest

from ioc.core.heap import settle_heap


@pytest.fixture(autouse=True)
def _restore_gc() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def _full_collection_s() -> float:
    started = time.perf_counter()
    gc.collect()
    return time.perf_counter() - started


def test_objects_alive_at_start_leave_the_collectors_sight() -> None:
    keep = [[i] for i in range(200_000)]  # like a registry and rule state: lives on
    slow = _full_collection_s()
    frozen = settle_heap(20_000)
    assert frozen >= len(keep)
    assert gc.get_threshold()[0] == 20_000
    # the pause a reading in flight would wait (best of 3: a preempted run is not the GC)
    assert min(_full_collection_s() for _ in range(3)) < slow / 2


def test_cycles_made_later_are_still_collected() -> None:
    settle_heap(20_000)
    a, b = _Node(), _Node()
    a.other, b.other = b, a
    gone = weakref.ref(a)
    del a, b
    gc.collect()
    assert gone() is None


def test_zero_keeps_pythons_defaults() -> None:
    before = gc.get_threshold()
    assert settle_heap(0) == 0
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
