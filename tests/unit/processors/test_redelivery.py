"""Readings the broker delivers twice (its journal replays what arrived since its last save,
after the bridge may already have passed them on) leave the alerts as a single delivery
would: the detector takes each device's readings in observed-time order and skips any not
newer than the last it accepted."""

from __future__ import annotations

from ioc.core.schemas import Alert, Reading
from ioc.processors.detector import Detector
from ioc.testing.factories import at, drain, drainage_device, registry

# high water, then normal for longer than flood.level's 600 s hold: alerts open, then close
LEVELS = [0.1, 0.3, 0.6, 0.9, 1.1, 1.0] + [0.1] * 17


def _readings() -> list[Reading]:
    return [drain(d, at(60 * i), level) for i, level in enumerate(LEVELS) for d in ("d1", "d2")]


def _run(readings: list[Reading]) -> tuple[Detector, list[Alert]]:
    det = Detector(registry(drainage_device("d1"), drainage_device("d2")))
    return det, [a for r in readings for a in det.process(r)]


def test_a_replayed_tail_changes_no_alert() -> None:
    once, changes = _run(_readings())
    # the sequence opens alerts and closes them: the comparison means something
    assert {a.status for a in changes} == {"open", "resolved"}
    readings = _readings()
    # delivered up to reading 40 (alerts closed), broker killed and restarted: the journal
    # replays 4..39 (the high water again), then the rest arrives
    twice, changes_twice = _run(readings[:40] + readings[4:40] + readings[40:])
    assert changes_twice == changes
    assert twice.open_alerts() == once.open_alerts()
    assert twice.counts["stale_or_duplicate"] == 36
    assert twice.counts["readings"] == once.counts["readings"]
