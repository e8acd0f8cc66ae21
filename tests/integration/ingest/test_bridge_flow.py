"""The bridge against real Mosquitto and Kafka: order, dead letters, scale-out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from ioc.bench.loadgen import BridgeProcess, Collector, seqs_by_device, sequenced
from ioc.core.contract import MAX_PAYLOAD_BYTES
from ioc.core.topics import status_topic, telemetry_topic


def test_10k_sequenced_readings_arrive_complete_and_in_device_order(
        run: Any, start_bridge: Callable[..., BridgeProcess], collector: Collector,
        publish: Callable[..., None], eventually: Callable[..., None]) -> None:
    start_bridge("a", "--no-status")
    messages = sequenced(run.devices, 1000)
    assert len(messages) == 10_000
    publish(messages)
    eventually(lambda: collector.count(run.topics.telemetry) >= 10_000, timeout=90,
               what="10,000 readings in Kafka")
    by_device = seqs_by_device(collector.records[run.topics.telemetry])
    assert sorted(by_device) == sorted(d.id for d in run.devices)
    for device_id, seqs in by_device.items():
        assert seqs == list(range(1000)), f"{device_id}: order or completeness broken"
    assert collector.count(run.topics.deadletter) == 0


def _bad_messages(run: Any) -> list[tuple[str, bytes, str]]:
    dev = run.devices[0].id
    topic = telemetry_topic("traffic", dev)
    now = datetime.now(UTC)
    good = {"dateObserved": now.isoformat(), "intensity": 3, "averageVehicleSpeed": 40.0,
            "occupancy": 0.3}
    return [
        (topic, b'{"dateObserved": oops', "bad_json"),
        (topic, b"\xff\xfe\xfd not utf-8", "invalid_utf8"),
        (topic, b'{"dateObserved": 1, "intensity": NaN, "averageVehicleSpeed": 1, '
                b'"occupancy": 0}', "non_finite"),
        (topic, orjson.dumps({**good, "intensity": "many"}), "wrong_type"),
        (topic, orjson.dumps({k: v for k, v in good.items() if k != "occupancy"}),
         "missing_field"),
        (topic, orjson.dumps({**good, "occupancy": 7}), "out_of_range"),
        (telemetry_topic("traffic", f"it{run.id}-ghost"), orjson.dumps(good),
         "unknown_device"),
        (topic, orjson.dumps({**good, "dateObserved": (now + timedelta(hours=1)).isoformat()}),
         "future_timestamp"),
        # just over the contract's limit, still under the broker's packet limit
        (topic, orjson.dumps({**good, "pad": "x" * MAX_PAYLOAD_BYTES}), "oversize"),
        (telemetry_topic("traffic", f"bad.id{run.id}"), orjson.dumps(good), "bad_device_id"),
        (status_topic("traffic", dev), b"asleep", "out_of_range"),
    ]


def test_every_bad_payload_is_dead_lettered_and_the_bridge_keeps_running(
        run: Any, start_bridge: Callable[..., BridgeProcess], collector: Collector,
        publish: Callable[..., None], eventually: Callable[..., None]) -> None:
    bridge = start_bridge("a")
    bad = _bad_messages(run)
    goods = sequenced(run.devices[:2], 3)
    mixed: list[tuple[str, bytes]] = []
    for i, (topic, payload, _) in enumerate(bad):
        mixed += [(topic, payload), goods[i % len(goods)]]
    mixed.append((status_topic("traffic", run.devices[1].id), b"online"))
    publish(mixed)

    def mine() -> list[dict[str, bytes]]:
        return [r.headers for r in collector.records[run.topics.deadletter]
                if run.id.encode() in r.headers.get("mqtt_topic", b"")]

    eventually(lambda: len(mine()) >= len(bad), timeout=30, what="dead letters")
    eventually(lambda: collector.count(run.topics.telemetry) >= len(bad), timeout=30,
               what="good readings")
    by_topic = {h["mqtt_topic"].decode(): h for h in mine()}
    reasons = sorted(h["reason"].decode() for h in mine())
    assert reasons == sorted(reason for _, _, reason in bad)
    for header in by_topic.values():
        assert header["bridge_id"] == f"{run.id}-a".encode()
        assert datetime.fromisoformat(header["received_at"].decode()).tzinfo is not None
    originals = {(r.value, r.key) for r in collector.records[run.topics.deadletter]}
    assert (b"\xff\xfe\xfd not utf-8", run.devices[0].id.encode()) in originals
    assert any(key is None and b"bad.id" not in value for value, key in originals)
    readings = seqs_by_device(collector.records[run.topics.telemetry])
    assert sum(len(s) for s in readings.values()) == len(bad)
    eventually(lambda: any(r.key == run.devices[1].id.encode()
                           for r in collector.records[run.topics.device_status]),
               timeout=30, what="device status")
    status = [orjson.loads(r.value) for r in collector.records[run.topics.device_status]
              if r.key == run.devices[1].id.encode()]
    assert status[0]["status"] == "online" and status[0]["domain"] == "traffic"
    assert bridge.proc.poll() is None and bridge.get("/ready")[0] == 200


def test_two_instances_in_one_share_group_split_the_load(
        run: Any, start_bridge: Callable[..., BridgeProcess], collector: Collector,
        publish: Callable[..., None], eventually: Callable[..., None]) -> None:
    first = start_bridge("a", "--no-status")
    second = start_bridge("b", "--no-status")
    messages = sequenced(run.devices, 400)
    publish(messages)
    eventually(lambda: collector.count(run.topics.telemetry) >= len(messages), timeout=60,
               what="all readings")
    shares = [first.metric("ioc_bridge_forwarded_total"),
              second.metric("ioc_bridge_forwarded_total")]
    assert sum(shares) >= len(messages)  # redeliveries after a reconnect may add duplicates
    assert min(shares) >= 0.2 * len(messages), f"uneven split {shares}"
    seen = {(d, s) for d, seqs in seqs_by_device(
        collector.records[run.topics.telemetry]).items() for s in seqs}
    assert len(seen) == len(messages)
