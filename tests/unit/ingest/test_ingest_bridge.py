"""The bridge's wiring with fake MQTT and Kafka: ack only after confirmation, in order."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from ioc.ingest.bridge import Bridge
from tests.unit.ingest.fake_bridge import (
    TOPIC,
    FakeSink,
    FakeSource,
    payload,
    running_bridge,
    wait_for,
)


@pytest.fixture
def bridge_parts() -> Iterator[tuple[Bridge, FakeSource, FakeSink, threading.Event]]:
    with running_bridge() as parts:
        yield parts


def test_acks_follow_kafka_confirmations_in_receive_order(bridge_parts: Any) -> None:
    bridge, source, sink, _ = bridge_parts
    for mid in (1, 2, 3):
        source.deliver(TOPIC, payload(mid), mid, 1, time.time())
    source.deliver(TOPIC, b"garbage", 4, 1, time.time())
    wait_for(lambda: len(sink.sent) == 4)
    assert sink.sent[0][0] == "x-ioc.telemetry" and sink.sent[0][1] == b"cam-1"
    assert sink.sent[3][0] == "x-ioc.deadletter"
    sink.ok(2)
    sink.ok(1)
    assert source.acks == []
    sink.ok(0)
    assert source.acks == [1, 2, 3]
    sink.ok(3)
    assert source.acks == [1, 2, 3, 4]
    assert bridge.metrics.value("ioc_bridge_deadlettered_total", reason="bad_json") == 1
    assert bridge.metrics.value("ioc_bridge_forwarded_total", kind="telemetry") == 3


def test_refused_record_is_never_acked_and_restarts_the_session(bridge_parts: Any) -> None:
    bridge, source, sink, _ = bridge_parts
    for mid in (1, 2):
        source.deliver(TOPIC, payload(mid), mid, 1, time.time())
    wait_for(lambda: len(sink.sent) == 2)
    sink.fail(0)
    sink.ok(1)
    assert source.acks == []
    wait_for(lambda: source.starts == 2)  # reconnected so the broker redelivers both
    assert source.stops >= 1
    assert source.acks == []
    assert bridge.metrics.value("ioc_bridge_send_failed_total") == 1


def test_kafka_unavailable_at_send_is_retried(bridge_parts: Any) -> None:
    _, source, sink, _ = bridge_parts
    sink.unavailable = 2
    source.deliver(TOPIC, payload(1), 9, 1, time.time())
    wait_for(lambda: len(sink.sent) == 1, timeout=10)
    sink.ok(0)
    assert source.acks == [9]


def test_graceful_stop_acks_what_was_received_and_refuses_new(bridge_parts: Any) -> None:
    bridge, source, sink, stop = bridge_parts
    for mid in (1, 2, 3):
        source.deliver(TOPIC, payload(mid), mid, 1, time.time())
    wait_for(lambda: len(sink.sent) == 3)
    stop.set()
    wait_for(lambda: source.acks == [1, 2, 3])  # flushed on shutdown, then acked
    source.deliver(TOPIC, payload(4), 4, 1, time.time())  # arrives while draining
    wait_for(lambda: source.stops >= 1)
    assert len(sink.sent) == 3 and source.acks == [1, 2, 3]
    assert not bridge.ready()


def test_messages_of_a_lost_connection_are_still_forwarded_but_never_acked(
        bridge_parts: Any) -> None:
    bridge, source, sink, _ = bridge_parts
    with sink.lock:  # the bridge's worker blocks sending the first message
        source.deliver(TOPIC, payload(1), 1, 1, time.time())
        source.deliver(TOPIC, payload(2), 2, 1, time.time())
        wait_for(lambda: bridge.metrics.value("ioc_bridge_received_total") == 1)
        source.lost()  # the broker died: it may have lost both (already PUBACKed upstream)
    wait_for(lambda: len(sink.sent) == 2)
    sink.ok(0)
    sink.ok(1)
    assert source.acks == []  # their packet ids belonged to the lost session
    assert bridge.metrics.value("ioc_bridge_stale_total") == 1
