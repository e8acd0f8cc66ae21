"""Restart semantics without a broker: restored alerts continue, the tick clock follows events."""

from __future__ import annotations

from ioc.processors.clock import TickClock
from ioc.processors.detector import Detector
from ioc.testing.factories import at, drain, drainage_device, registry

REG = registry(drainage_device("a1"), drainage_device("a2"))


def test_restored_detector_continues_open_alerts_instead_of_duplicating() -> None:
    first, published = Detector(REG), {}
    for i in range(4):
        for dev in ("a1", "a2"):
            for alert in first.process(drain(dev, at(60 * i), 0.7)):
                published[alert.id] = alert
    assert {a.rule for a in published.values()} >= {"flood.level", "flood.localized"}

    second = Detector(REG)
    for alert in published.values():
        second.restore(alert)
    still_high = [a for i in range(4, 8) for dev in ("a1", "a2")
                  for a in second.process(drain(dev, at(60 * i), 0.7))]
    assert still_high == []  # same condition, same alerts: nothing new opened
    # and the restored alerts still clear after the hold (10 min) below the margin
    cleared = [a for i in range(8, 30) for dev in ("a1", "a2")
               for a in second.process(drain(dev, at(60 * i), 0.2))]
    resolved = {a.id for a in cleared if a.status == "resolved"}
    assert resolved == {a.id for a in published.values() if a.rule == "flood.level"}
    assert second.open_alerts() == [a for a in second.open_alerts()
                                    if a.rule == "flood.localized"]


def test_restore_keeps_the_newer_episode() -> None:
    det, published = Detector(REG), []
    for i, level in enumerate((0.7, 0.2, 0.2, 0.7)):  # open, clear after the hold, re-open
        published += det.process(drain("a1", at(700 * i), level))
    assert len({a.id for a in published}) == 2
    newest = det.open_alerts()[0]
    fresh = Detector(REG)
    for alert in reversed(published):  # any order: the newest episode wins
        fresh.restore(alert)
    assert [a.id for a in fresh.open_alerts()] == [newest.id]


def test_tick_clock_follows_events_then_runs_on_wall_time() -> None:
    clock = TickClock()
    assert clock.now(None, 100.0) is None
    assert clock.now(1_000.0, 100.0) == 1_000.0
    assert clock.now(5_000.0, 101.0) == 5_000.0  # a fast replay: events lead
    assert clock.now(5_000.0, 131.0) == 5_030.0  # quiet: wall time moves the clock on
