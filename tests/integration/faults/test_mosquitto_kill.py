"""Mosquitto SIGKILLed under the bridge mid-stream: every message the broker acknowledged
(PUBACK to a QoS 1 publisher) reaches Kafka, and publishers and bridge reconnect by
themselves. Mosquitto 2.0 keeps what it received since its last save in memory only; the
write-ahead journal plugin (ioc.devstack.mosquitto_journal) has each message on disk before
the PUBACK and publishes it again when the broker restarts: duplicates, no loss."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ioc.bench.loadgen import BridgeProcess, Collector, seqs_by_device
from ioc.core.settings import Settings
from ioc.core.topics import telemetry_topic
from ioc.devstack.faults import Outage, killed, save_mosquitto_db
from tests.integration.faults.fault_helpers import TrackingPublisher

pytestmark = [pytest.mark.slow, pytest.mark.timeout(400)]

PER_DEVICE = 600
# acknowledged while the bridge is stopped, more than its in-flight window (MQTT receive
# maximum): the rest are in no socket buffer, only in the broker's memory (and journal)
WINDOW = 500
BACKLOG = 1500


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


@pytest.mark.parametrize("bridge_paused", [False, True], ids=["bridge-keeping-up",
                                                              "bridge-backlogged"])
def test_mosquitto_kill_9_loses_no_acknowledged_message(
        run: Any, start_bridge: Callable[..., BridgeProcess], collector: Collector,
        eventually: Callable[..., None], record_property: Callable[[str, object], None],
        mqtt_service: Settings, bridge_paused: bool) -> None:
    # unshared, the default: Mosquitto 2.0 does not save shared subscriptions, so a broker
    # restarted after a crash acknowledges ("No matching subscribers") and drops what
    # publishers send before a shared-group bridge has subscribed again
    bridge = start_bridge("a", "--no-status", "--share-group", "",
                          *(("--receive-maximum", str(WINDOW)) if bridge_paused else ()))
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
        pause = _paused(bridge, pub, eventually) if bridge_paused else contextlib.nullcontext()
        with pause, killed("mosquitto") as outage:
            acked_at_kill = pub.acked_keys()
            kafka_at_kill = _in_kafka(collector, topic)  # bridge stopped: Kafka is still
            outage.restart()
        feed.join(120)
        eventually(lambda: len(pub.acked_keys()) == total, timeout=120, interval=0.5,
                   what="the broker to acknowledge every message after the restart")
    finally:
        stop.set()
        feed.join(30)
        pub.close()
    _assert_all_in_kafka(pub, collector, topic, outage, eventually, record_property)
    backlog = len(acked_at_kill - kafka_at_kill)
    record_property("acked_at_kill", len(acked_at_kill))
    record_property("acked_not_in_kafka_at_kill", backlog)
    assert 0 < len(acked_at_kill) < total
    if bridge_paused:  # the kill caught a backlog of acknowledged messages, not in Kafka
        assert backlog >= BACKLOG, backlog
    assert bridge.alive(), bridge.log()


@contextlib.contextmanager
def _paused(bridge: BridgeProcess, pub: TrackingPublisher,
            eventually: Callable[..., None]) -> Iterator[None]:
    """Stop the bridge (SIGSTOP) until the broker has acknowledged BACKLOG more messages,
    keep it stopped through the block, then let it go on."""
    before = len(pub.acked_keys())
    os.kill(bridge.pid, signal.SIGSTOP)
    try:
        eventually(lambda: len(pub.acked_keys()) >= before + BACKLOG, timeout=60, interval=0.1,
                   what=f"{BACKLOG} acknowledgements while the bridge is stopped")
        yield
    finally:
        os.kill(bridge.pid, signal.SIGCONT)


def _assert_all_in_kafka(pub: TrackingPublisher, collector: Collector, topic: str,
                         outage: Outage, eventually: Callable[..., None],
                         record_property: Callable[[str, object], None]) -> None:
    acked = pub.acked_keys()
    with contextlib.suppress(pytest.fail.Exception):  # the assert below says what is missing
        eventually(lambda: acked <= _in_kafka(collector, topic), timeout=120, interval=0.5,
                   what="every acknowledged message in Kafka")
    missing = sorted(acked - _in_kafka(collector, topic))
    times = pub.acked_at(missing)
    record_property("lost_at_the_kill", len(missing))
    record_property("duplicates", collector.count(topic) - len(_in_kafka(collector, topic)))
    assert not missing, (
        f"{len(missing)} acknowledged messages not in Kafka, e.g. {missing[:10]}; "
        f"acknowledged {[round(t - outage.killed_at, 3) for t in times[:10]]} s from the "
        f"kill; PUBACK reasons {dict(pub.reasons(missing))}")


def _in_kafka(collector: Collector, topic: str) -> set[tuple[str, int]]:
    return {(d, s) for d, seqs in seqs_by_device(collector.records[topic]).items()
            for s in seqs}

