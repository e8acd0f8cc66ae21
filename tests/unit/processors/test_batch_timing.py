"""SlowBatches: the slowest batch of each window, logged only when it was slow."""

from __future__ import annotations

from ioc.processors.worker.batch_timing import BatchTiming, SlowBatches


def _batch(turn_ms: float, checkpoint_ms: float = 5.0, age_ms: float = 2.0) -> BatchTiming:
    return BatchTiming(readings=40, age_s=age_ms / 1000, turn_s=turn_ms / 1000,
                       rules_s=0.004, checkpoint_s=checkpoint_ms / 1000, alerts_s=0.02,
                       alerts=1)


def test_the_slowest_batch_of_a_window_is_described_stage_by_stage() -> None:
    slow = SlowBatches(every_s=10.0, slow_s=0.1)
    assert slow.note(_batch(1), 0.0) is None
    assert slow.note(_batch(150), 3.0) is None  # the window is still open
    assert slow.note(_batch(90, checkpoint_ms=120), 6.0) is None
    line = slow.note(_batch(2), 10.5)
    assert line is not None
    assert line.startswith("2 of 4 batches in 10 s over 100 ms; the slowest: 234.0 ms "
                           "for 40 reading(s) and 1 alert(s)")
    assert ("waited 90.0 ms for the turn, rules 4.0 ms, checkpoint 120.0 ms, "
            "alert sends 20.0 ms") in line


def test_a_window_without_a_slow_batch_says_nothing_and_windows_start_afresh() -> None:
    slow = SlowBatches(every_s=10.0, slow_s=0.1)
    slow.note(_batch(300), 0.0)
    assert slow.note(_batch(1), 10.0) is not None
    for t in (11.0, 15.0, 20.5):
        assert slow.note(_batch(1), t) is None


def test_time_spent_before_the_agent_counts_towards_slow() -> None:
    slow = SlowBatches(every_s=1.0, slow_s=0.1)
    slow.note(_batch(1, age_ms=250), 0.0)
    line = slow.note(_batch(1), 1.0)
    assert line is not None and "oldest record 250.0 ms old when taken" in line
