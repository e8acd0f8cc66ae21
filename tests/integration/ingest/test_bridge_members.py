"""`ioc bridge --processes 2` against real Mosquitto and Kafka: devices split between two
unshared persistent sessions, every reading forwarded once, and a member killed mid-stream
loses nothing (its supervisor restarts it; its session kept what it had not acked)."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from ioc.bench.loadgen import BridgeProcess, Collector, seqs_by_device, sequenced
from ioc.core.topics import telemetry_topic

pytestmark = pytest.mark.timeout(300)


def _members(bridge: BridgeProcess) -> list[int]:
    text = Path(f"/proc/{bridge.pid}/task/{bridge.pid}/children").read_text()
    return [int(pid) for pid in text.split()]


@pytest.fixture
def two_members(run: Any) -> Iterator[BridgeProcess]:
    """A bridge of two member processes over the run's registry, unshared sessions."""
    bridge = BridgeProcess([*run.bridge_args("m"), "--share-group", "", "--no-status"],
                           run.tmp / "bridge.log", members=2)
    try:
        bridge.wait_ready(90)
        yield bridge
    finally:
        bridge.stop_and_forget(run.settings, 60)


def test_two_members_forward_every_reading_once_and_dead_letter_unknown_devices(
        run: Any, two_members: BridgeProcess, collector: Collector,
        publish: Callable[..., None], eventually: Callable[..., None]) -> None:
    assert len(_members(two_members)) == 2
    messages = sequenced(run.devices, 500)
    ghost = telemetry_topic("traffic", f"it{run.id}-ghost")
    messages.append((ghost, orjson.dumps({"dateObserved": 1, "intensity": 1})))
    publish(messages)
    eventually(lambda: collector.count(run.topics.telemetry) >= 5000, timeout=120,
               what="5,000 readings in Kafka")
    eventually(lambda: collector.count(run.topics.deadletter) >= 1, timeout=60,
               what="the unknown device's dead letter")
    by_device = seqs_by_device(collector.records[run.topics.telemetry])
    assert sorted(by_device) == sorted(d.id for d in run.devices)
    for device_id, seqs in by_device.items():
        assert seqs == list(range(500)), f"{device_id}: lost, duplicated or reordered"
    # both members did forward: neither subscribed to everything while the other idled
    assert two_members.metric("ioc_bridge_skipped_total") > 0
    assert collector.count(run.topics.deadletter) == 1
    assert collector.count(run.topics.telemetry) == 5000


def test_a_member_killed_mid_stream_is_restarted_and_nothing_is_lost(
        run: Any, two_members: BridgeProcess, collector: Collector,
        publish: Callable[..., None], eventually: Callable[..., None]) -> None:
    first = _members(two_members)
    messages = sequenced(run.devices, 1500)
    publish(messages[:5000])
    os.kill(first[1], signal.SIGKILL)  # no drain, no PUBACKs for what it had in flight
    publish(messages[5000:])
    eventually(lambda: len(_members(two_members)) == 2 and _members(two_members) != first,
               timeout=60, what="the supervisor restarting the killed member")
    eventually(lambda: len({(r.key, r.offset, r.partition) for r in
                            collector.records[run.topics.telemetry]}) >= len(messages),
               timeout=180, what=f"{len(messages)} readings in Kafka")
    eventually(lambda: all(sorted(set(s)) == list(range(1500)) for s in
                           seqs_by_device(collector.records[run.topics.telemetry]).values()),
               timeout=60, what="every seq of every device")
    assert sorted(seqs_by_device(collector.records[run.topics.telemetry])) == sorted(
        d.id for d in run.devices)
