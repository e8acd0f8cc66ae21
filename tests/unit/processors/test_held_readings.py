"""HeldReadings: which telemetry batches wait to share a checkpoint, and for how long."""

from __future__ import annotations

from ioc.core.schemas import Alert
from ioc.processors.worker.parts import Batch, HeldReadings


def test_nothing_held_means_no_deadline() -> None:
    assert HeldReadings(0.25, 100).wait_s(10.0) is None


def test_a_quiet_batch_waits_until_its_first_event_is_every_s_old() -> None:
    held = HeldReadings(0.25, 100)
    assert not held.add(["e1"], Batch(), 10.0)
    assert abs((held.wait_s(10.1) or 0) - 0.15) < 1e-9
    assert not held.add(["e2"], Batch(), 10.2)  # the deadline stays the first event's
    assert held.add(["e3"], Batch(), 10.25)
    assert held.release() == ["e1", "e2", "e3"] and held.wait_s(11.0) is None


def test_a_timeout_or_a_full_hold_makes_it_due() -> None:
    held = HeldReadings(30.0, 3)
    assert not held.add(["e1", "e2"], Batch(), 0.0)
    assert held.add([], Batch(), 0.1)  # the agent's wait ran out: no more input
    held.release()
    assert held.add(["e1", "e2", "e3"], Batch(), 0.2)  # `most` held


def test_output_makes_it_due_at_once() -> None:
    alert = Alert.model_construct()
    for batch in (Batch(alerts=[alert]), Batch(reroute=[("tan-phu", b"{}")]),
                  Batch(dead=[(b"a1", b"{}", "worker:unknown_owner")])):
        held = HeldReadings(30.0, 100)
        assert not held.add(["e1"], Batch(), 0.0)
        assert held.add(["e2"], batch, 0.0)
        assert held.release() == ["e1", "e2"]
