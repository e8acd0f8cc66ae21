"""Mosquitto SIGKILLed under the bridge mid-stream: every message the broker acknowledged
(PUBACK to a QoS 1 publisher) reaches Kafka — except, at most, those acknowledged in the
instant before the kill and not yet handed to the bridge, which Mosquitto 2.0 keeps in
memory only — and publishers and bridge reconnect by themselves."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from ioc.bench.loadgen import BridgeProcess, Collector, seqs_by_device
from ioc.core.settings import Settings
from ioc.core.topics import telemetry_topic
from ioc.devstack.faults import killed, save_mosquitto_db
from tests.integration.faults.fault_helpers import TrackingPublisher

pytestmark = [pytest.mark.slow, pytest.mark.timeout(400)]

PER_DEVICE = 600
RACE_S = 2.0  # the bridge takes a message within this of its PUBACK (it keeps up at 400/s)
MAX_IN_FLIGHT = 100  # at most this many can be between PUBACK and the bridge at 400/s


def _feed(pub: TrackingPublisher, devices: list[Any], stop: threading.Event,
          rate: float) -> None:
    """Publish seq 0..PER_DEVICE-1 for every device, round robin, at about `rate`/s."""
    start = time.monotonic()
    for i, (seq, device) in enumerate((s, d) for s in range(PER_DEVICE) for d in devices):
        if stop.is_set():
            return
        pub.send(telemetry_topic("traffic", device.id), seq, device.id)
        delay = start + i / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)  # pacing the feed, not waiting for a condition


def test_mosquitto_kill_9_loses_no_acknowledged_message(
        run: Any, start_bridge: Callable[..., BridgeProcess], collector: Collector,
        eventually: Callable[..., None], record_property: Callable[[str, object], None],
        mqtt_service: Settings) -> None:
    # unshared, the default: Mosquitto 2.0 does not save shared subscriptions, so a broker
    # restarted after a crash acknowledges ("No matching subscribers") and drops what
    # publishers send before a shared-group bridge has subscribed again
    bridge = start_bridge("a", "--no-status", "--share-group", "")
    # a bridge that has been up for one autosave interval has its session (subscription and
    # queue) in Mosquitto's file; the test does not wait for the autosave, it asks for it
    save_mosquitto_db()
    pub = TrackingPublisher(run.settings, run.gateway)  # the run's gateway for its devices
    stop = threading.Event()
    feed = threading.Thread(target=_feed, args=(pub, run.devices, stop, 400.0))
    feed.start()
    topic, total = run.topics.telemetry, len(run.devices) * PER_DEVICE
    try:
        eventually(lambda: collector.count(topic) >= total // 4, timeout=60,
                   what="stream under way")
        with killed("mosquitto") as outage:
            acked_at_kill = len(pub.acked())
            outage.restart()
        feed.join(120)
        eventually(lambda: len(pub.acked()) == total, timeout=120, interval=0.5,
                   what="the broker to acknowledge every message after the restart")
    finally:
        stop.set()
        feed.join(30)
        pub.close()
    acked = pub.acked()
    with contextlib.suppress(pytest.fail.Exception):  # the assert below says what is missing
        eventually(lambda: acked <= _in_kafka(collector, topic), timeout=120, interval=0.5,
                   what="every acknowledged message in Kafka")
    missing = sorted(acked - _in_kafka(collector, topic))
    # Mosquitto 2.0 saves its queues every autosave_interval, not per message: what it had
    # acknowledged but not yet handed to the bridge when killed is gone (README, "What a
    # SIGKILL can still lose"). Only that instant may lose anything: nothing acknowledged
    # well before the kill (the bridge had it) or by the restarted broker.
    times = pub.acked_at(missing)
    early = [t for t in times if t < outage.killed_at - RACE_S or t > outage.killed_at]
    record_property("lost_at_the_kill", len(missing))
    assert not early and len(missing) <= MAX_IN_FLIGHT, (
        f"{len(missing)} acknowledged messages not in Kafka, e.g. {missing[:10]}; "
        f"acknowledged {[round(t - outage.killed_at, 3) for t in times[:10]]} s from the "
        f"kill; PUBACK reasons {dict(pub.reasons(missing))}; {acked_at_kill} were "
        "acknowledged at the kill")
    record_property("acked_at_kill", acked_at_kill)
    record_property("duplicates", collector.count(topic) - len(_in_kafka(collector, topic)))
    assert 0 < acked_at_kill < total
    assert bridge.alive(), bridge.log()


def _in_kafka(collector: Collector, topic: str) -> set[tuple[str, int]]:
    return {(d, s) for d, seqs in seqs_by_device(collector.records[topic]).items()
            for s in seqs}
