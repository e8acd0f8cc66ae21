"""The load generator past 65,535 messages: MQTT packet ids are 16 bits, so a publisher that
queues everything at once reuses ids still in flight and silently loses messages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ioc.bench.loadgen import BridgeProcess, Collector, Publisher, seqs_by_device, sequenced


def test_70k_published_in_windows_are_all_in_kafka_exactly_once(
        run: Any, start_bridge: Callable[..., BridgeProcess], collector: Collector,
        eventually: Callable[..., None]) -> None:
    start_bridge("a", "--no-status")
    per_device = 7_100
    messages = sequenced(run.devices, per_device)
    assert len(messages) == 71_000  # past the 65,535 packet ids
    pub = Publisher(run.settings, run.gateway, window=10_000)
    try:
        pub.publish_all(messages)
        assert pub.wait_acked(240), f"broker acked {pub.acked} of {pub.sent}"
        assert pub.refused == 0
    finally:
        pub.close()
    eventually(lambda: collector.count(run.topics.telemetry) >= len(messages), timeout=240,
               what=f"{len(messages)} readings in Kafka")
    by_device = seqs_by_device(collector.records[run.topics.telemetry])
    assert sorted(by_device) == sorted(d.id for d in run.devices)
    for device_id, seqs in by_device.items():
        assert sorted(seqs) == list(range(per_device)), f"{device_id}: missing or duplicated"
    assert collector.count(run.topics.telemetry) == len(messages)


def test_a_window_that_could_wrap_packet_ids_is_refused(run: Any) -> None:
    with pytest.raises(ValueError, match="16 bits"):
        Publisher(run.settings, run.gateway, window=70_000)
