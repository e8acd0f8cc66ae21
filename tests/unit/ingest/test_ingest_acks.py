"""The in-order ack tracker: only the contiguous confirmed prefix is acked."""

from __future__ import annotations

import threading
import time

from ioc.ingest.acks import AckTracker


def _tracker() -> tuple[AckTracker, list[int]]:
    acked: list[int] = []
    return AckTracker(lambda mid, qos: acked.append(mid)), acked


def test_out_of_order_confirmations_ack_only_the_prefix() -> None:
    tracker, acked = _tracker()
    p = [x for x in (tracker.track(mid, 1, 0) for mid in (1, 2, 3, 4)) if x is not None]
    assert len(p) == 4
    assert tracker.confirm(p[2]) == 0 and acked == []
    assert tracker.confirm(p[1]) == 0 and acked == []
    assert tracker.confirm(p[0]) == 3
    assert acked == [1, 2, 3]
    assert len(tracker) == 1
    assert tracker.confirm(p[3]) == 1
    assert acked == [1, 2, 3, 4] and len(tracker) == 0 and tracker.acked == 4


def test_a_failed_message_blocks_everything_after_it() -> None:
    tracker, acked = _tracker()
    first, failed, later = (tracker.track(m, 1, 0) for m in (10, 11, 12))
    assert first and failed and later
    tracker.confirm(first)
    tracker.confirm(later)
    assert acked == [10]
    assert len(tracker) == 2


def test_new_generation_forgets_unacked_and_ignores_late_confirmations() -> None:
    tracker, acked = _tracker()
    old = tracker.track(5, 1, 0)
    assert old is not None
    assert tracker.new_generation() == 1
    assert tracker.generation == 1
    assert tracker.confirm(old) == 0
    assert acked == [] and len(tracker) == 0
    # a message received on the old connection but tracked after the switch is refused
    assert tracker.track(6, 1, 0) is None
    fresh = tracker.track(5, 1, 1)
    assert fresh is not None and tracker.confirm(fresh) == 1 and acked == [5]


def test_wait_empty_wakes_when_the_last_is_confirmed() -> None:
    tracker, _ = _tracker()
    pending = tracker.track(1, 1, 0)
    assert pending is not None
    assert tracker.wait_empty(0.01) is False
    timer = threading.Timer(0.05, tracker.confirm, args=(pending,))
    timer.start()
    assert tracker.wait_empty(5.0) is True
    timer.join()


def test_concurrent_confirmations_keep_receive_order() -> None:
    tracker, acked = _tracker()
    pendings = [tracker.track(mid, 1, 0) for mid in range(2000)]
    odd = [p for p in pendings[1::2] if p]
    even = [p for p in pendings[0::2] if p]
    threads = [threading.Thread(target=lambda ps=ps: [tracker.confirm(p) for p in ps])
               for ps in (odd, even)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert acked == list(range(2000))


def test_oldest_age_measures_the_head() -> None:
    tracker, _ = _tracker()
    assert tracker.oldest_age() == 0.0
    pending = tracker.track(1, 1, 0)
    assert pending is not None
    pending.sent_at = time.perf_counter() - 3.0
    assert 2.9 < tracker.oldest_age() < 10.0
