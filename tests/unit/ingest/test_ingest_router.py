"""Routing: readings, status and dead letters with their keys and headers."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from ioc.core.registry import Device, Registry
from ioc.core.schemas import TrafficReading, reading_from_json
from ioc.ingest.router import MAX_DEADLETTER_BYTES, KafkaTopics, Router, device_id_from_topic

TOPICS = KafkaTopics.prefixed("t-")
NOW = time.time()


def _registry() -> Registry:
    return Registry([
        Device(id="cam-1", domain="traffic", name="Cam 1", ward="tan-phu", lat=11.5,
               lon=106.9, interval_s=10, road="QL14", direction="N", free_flow_kmh=50),
        Device(id="rain-1", domain="drainage", name="Rain 1", ward="tan-xuan", lat=11.5,
               lon=106.9, interval_s=60, basin="b1", depth_m=2, warn_m=1, critical_m=1.5),
    ])


@pytest.fixture
def router() -> Router:
    return Router(_registry(), TOPICS, "bridge-a")


def _good(**extra: object) -> bytes:
    doc = {"dateObserved": datetime.now(UTC).isoformat(), "seq": 7, "intensity": 3,
           "averageVehicleSpeed": 41.5, "occupancy": 0.2, **extra}
    return orjson.dumps(doc)


def test_topics_prefix_and_defaults() -> None:
    assert TOPICS.telemetry == "t-ioc.telemetry"
    assert KafkaTopics().deadletter == "ioc.deadletter"


def test_good_reading_goes_to_telemetry_keyed_by_device(router: Router) -> None:
    record = router.route("ioc/v1/traffic/cam-1/telemetry", _good(), NOW)
    assert record.topic == "t-ioc.telemetry" and record.key == b"cam-1"
    assert record.reason is None and record.kind == "telemetry"
    reading = reading_from_json(record.value)
    assert isinstance(reading, TrafficReading)
    assert reading.seq == 7 and reading.ward == "tan-phu"


@pytest.mark.parametrize(("topic", "payload", "reason", "key"), [
    ("ioc/v1/traffic/cam-1/telemetry", b"{not json", "bad_json", b"cam-1"),
    ("ioc/v1/traffic/cam-1/telemetry", b"\xff\xfe{}", "invalid_utf8", b"cam-1"),
    ("ioc/v1/traffic/cam-1/telemetry", b'{"dateObserved": 1, "intensity": NaN}',
     "non_finite", b"cam-1"),
    ("ioc/v1/traffic/cam-1/telemetry", _good(intensity="3"), "wrong_type", b"cam-1"),
    ("ioc/v1/traffic/cam-1/telemetry", _good(occupancy=1.5), "out_of_range", b"cam-1"),
    ("ioc/v1/traffic/cam-9/telemetry", _good(), "unknown_device", b"cam-9"),
    ("ioc/v1/traffic/cam-1/telemetry", b" " * 20000, "oversize", b"cam-1"),
    ("ioc/v1/traffic/bad id!/telemetry", _good(), "bad_device_id", None),
    ("ioc/v1/water/cam-1/telemetry", _good(), "unknown_domain", b"cam-1"),
    ("ioc/v1/drainage/cam-1/telemetry", _good(), "domain_mismatch", b"cam-1"),
    ("ioc/v1/traffic/cam-1/status", b"sleeping", "out_of_range", b"cam-1"),
    ("ioc/v1/traffic/cam-1/status", b"\xff", "invalid_utf8", b"cam-1"),
    ("ioc/v1/traffic/nobody/status", b"online", "unknown_device", b"nobody"),
])
def test_bad_messages_become_dead_letters(router: Router, topic: str, payload: bytes,
                                          reason: str, key: bytes | None) -> None:
    record = router.route(topic, payload, NOW)
    headers = dict(record.headers)
    assert record.topic == "t-ioc.deadletter" and record.kind == "deadletter"
    assert record.reason == reason and headers["reason"] == reason.encode()
    assert record.key == key
    assert record.value == payload
    assert headers["mqtt_topic"] == topic.encode()
    assert headers["bridge_id"] == b"bridge-a"
    assert datetime.fromisoformat(headers["received_at"].decode()).tzinfo is not None
    assert headers["detail"]


def test_future_and_missing_field(router: Router) -> None:
    future = _good(dateObserved="2999-01-01T00:00:00+07:00")
    assert router.route("ioc/v1/traffic/cam-1/telemetry", future, NOW).reason == \
        "future_timestamp"
    missing = orjson.dumps({"dateObserved": int(NOW * 1000), "intensity": 1})
    assert router.route("ioc/v1/traffic/cam-1/telemetry", missing, NOW).reason == \
        "missing_field"


@pytest.mark.parametrize("payload", [b"online", b" offline\n", b'"online"',
                                     b'{"status": "offline"}'])
def test_status_goes_to_device_status(router: Router, payload: bytes) -> None:
    record = router.route("ioc/v1/drainage/rain-1/status", payload, NOW)
    assert record.topic == "t-ioc.device-status" and record.key == b"rain-1"
    doc = orjson.loads(record.value)
    assert doc["deviceId"] == "rain-1" and doc["domain"] == "drainage"
    assert doc["status"] in ("online", "offline")
    assert datetime.fromisoformat(doc["at"]).utcoffset() == timedelta(0)


def test_huge_dead_letter_is_truncated_with_its_size(router: Router) -> None:
    payload = b"x" * (MAX_DEADLETTER_BYTES + 10)
    record = router.route("ioc/v1/traffic/cam-1/telemetry", payload, NOW)
    assert len(record.value) == MAX_DEADLETTER_BYTES
    assert dict(record.headers)["original_size"] == str(len(payload)).encode()


def test_internal_error_becomes_a_dead_letter() -> None:
    class Broken(Registry):
        def get(self, device_id: str) -> Device | None:
            raise RuntimeError("boom")

    record = Router(Broken([]), TOPICS, "b").route("ioc/v1/traffic/cam-1/telemetry",
                                                   _good(), NOW)
    assert record.reason == "internal_error"
    assert b"boom" in dict(record.headers)["detail"]


def test_device_id_from_topic() -> None:
    assert device_id_from_topic("ioc/v1/x/dev_1/telemetry") == "dev_1"
    assert device_id_from_topic("ioc/v1/x/a b/telemetry") is None
    assert device_id_from_topic("other") is None
