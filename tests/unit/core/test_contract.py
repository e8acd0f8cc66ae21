"""parse_telemetry: every rejection reason of the device contract, and good payloads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest

from ioc.core.contract import MAX_PAYLOAD_BYTES, RejectReason, TelemetryRejected, parse_telemetry
from ioc.core.registry import Device, Registry
from ioc.core.schemas import (
    DrainageReading,
    StreetlightReading,
    TrafficReading,
    reading_from_json,
    reading_to_json,
)

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
DR = "ioc/v1/drainage/dr-1/telemetry"


def _payload(**fields: object) -> bytes:
    body: dict[str, object] = {"dateObserved": "2026-11-27T16:59:00+07:00", "waterLevel": 0.3}
    body.update(fields)
    return orjson.dumps({k: v for k, v in body.items() if v is not ...})


def _reason(topic: str, payload: bytes, registry: Registry | None = None) -> RejectReason:
    with pytest.raises(TelemetryRejected) as info:
        parse_telemetry(topic, payload, NOW, registry)
    return info.value.reason


@pytest.fixture
def registry() -> Registry:
    return Registry([Device(id="dr-1", domain="drainage", name="Cống 1", ward="tan-phu",
                            lat=11.53, lon=106.88, interval_s=60, basin="b1", depth_m=1.5,
                            warn_m=0.8, critical_m=1.2)])


def test_good_drainage_with_offset_time_is_normalized_to_utc(registry: Registry) -> None:
    reading = parse_telemetry(DR, _payload(seq=7, batteryLevel=0.9, flow=0.2), NOW, registry)
    assert isinstance(reading, DrainageReading)
    assert reading.observed_at == datetime(2026, 11, 27, 9, 59, tzinfo=UTC)
    assert reading.observed_at.utcoffset() == timedelta(0)
    assert (reading.ward, reading.seq, reading.water_level_m, reading.flow_m3s) == (
        "tan-phu", 7, 0.3, 0.2)


def test_epoch_milliseconds_timestamp() -> None:
    millis = int((NOW - timedelta(seconds=30)).timestamp() * 1000)
    reading = parse_telemetry(DR, _payload(dateObserved=millis), NOW)
    assert reading.observed_at == NOW - timedelta(seconds=30)


def test_good_traffic() -> None:
    payload = _payload(waterLevel=..., intensity=42, averageVehicleSpeed=38.5, occupancy=0.31,
                       laneDirection="forward", refRoadSegment="x")
    reading = parse_telemetry("ioc/v1/traffic/tr-1/telemetry", payload, NOW)
    assert isinstance(reading, TrafficReading)
    assert (reading.intensity, reading.average_speed_kmh, reading.occupancy) == (42, 38.5, 0.31)
    assert reading.ignored == 1  # refRoadSegment is counted, not rejected


def test_good_streetlight_round_trips_through_json() -> None:
    payload = _payload(waterLevel=..., powerState="on", powerConsumption=95,
                       lifetimePowerConsumption=1234.5, voltage=229.0, illuminanceLevel=0.8)
    reading = parse_telemetry("ioc/v1/streetlight/sl-1/telemetry", payload, NOW)
    assert isinstance(reading, StreetlightReading)
    assert reading.power_state == "on" and reading.energy_kwh == 1234.5
    assert reading_from_json(reading_to_json(reading)) == reading


def test_rain_gauge_sends_precipitation_only() -> None:
    reading = parse_telemetry(DR, _payload(waterLevel=..., precipitation=12.5), NOW)
    assert isinstance(reading, DrainageReading)
    assert reading.precipitation_mm == 12.5 and reading.water_level_m is None


@pytest.mark.parametrize(("payload", "reason"), [
    (b'{"dateObserved": "2026-11-27T16:59:00+07:00", "waterLevel": ', RejectReason.BAD_JSON),
    (b'{"dateObserved": "2026-11-27T16:59:00+07:00", "waterLevel": NaN}',
     RejectReason.NON_FINITE),
    (b'{"dateObserved": "2026-11-27T16:59:00+07:00", "waterLevel": Infinity}',
     RejectReason.NON_FINITE),
    (b'{"dateObserved": "2026-11-27T16:59:00+07:00", "waterLevel": 1e999}',
     RejectReason.NON_FINITE),
    (b'{"dateObserved": "2026-11-27T16:59:00+07:00", "waterLevel": "\xff\xfe"}',
     RejectReason.INVALID_UTF8),
    (b"[1, 2]", RejectReason.NOT_OBJECT),
    (_payload(waterLevel="0.3"), RejectReason.WRONG_TYPE),
    (_payload(waterLevel=True), RejectReason.WRONG_TYPE),
    (_payload(seq=1.5), RejectReason.WRONG_TYPE),
    (_payload(dateObserved=...), RejectReason.MISSING_FIELD),
    (_payload(waterLevel=...), RejectReason.MISSING_FIELD),
    (_payload(waterLevel=-5.0), RejectReason.OUT_OF_RANGE),
    (_payload(precipitation=-1), RejectReason.OUT_OF_RANGE),
    (_payload(batteryLevel=1.5), RejectReason.OUT_OF_RANGE),
    (_payload(seq=-1), RejectReason.OUT_OF_RANGE),
    (_payload(dateObserved="yesterday"), RejectReason.BAD_TIMESTAMP),
    (_payload(dateObserved="2026-11-27T09:59:00"), RejectReason.BAD_TIMESTAMP),
    (_payload(dateObserved=[1]), RejectReason.WRONG_TYPE),
    (_payload(dateObserved="0001-01-01T00:00:00+01:00"), RejectReason.BAD_TIMESTAMP),
    (_payload(dateObserved="1000-01-01T00:00:00+00:00"), RejectReason.BAD_TIMESTAMP),
    (_payload(dateObserved=-1), RejectReason.BAD_TIMESTAMP),
    # orjson reads integers beyond 64 bits as floats: not epoch milliseconds
    (b'{"dateObserved": 1000000000000000000000, "waterLevel": 0.3}',
     RejectReason.WRONG_TYPE),
    (b'{"dateObserved": 253402300800000, "waterLevel": 0.3}', RejectReason.BAD_TIMESTAMP),
    (b'{"dateObserved": 1764200000000, "waterLevel": 0.3, "seq": 18446744073709551615}',
     RejectReason.OUT_OF_RANGE),
    (_payload(dateObserved="2026-11-27T10:06:00+00:00"), RejectReason.FUTURE_TIMESTAMP),
    (b'{"pad": "' + b"x" * MAX_PAYLOAD_BYTES + b'"}', RejectReason.OVERSIZE),
])
def test_rejections(payload: bytes, reason: RejectReason) -> None:
    assert _reason(DR, payload) == reason


def test_four_minutes_ahead_is_tolerated_as_clock_skew() -> None:
    reading = parse_telemetry(DR, _payload(dateObserved="2026-11-27T10:04:00+00:00"), NOW)
    assert reading.observed_at > NOW


@pytest.mark.parametrize(("topic", "reason"), [
    ("ioc/v1/weather/dr-1/telemetry", RejectReason.UNKNOWN_DOMAIN),
    ("ioc/v1/drainage/bad id!/telemetry", RejectReason.BAD_DEVICE_ID),
    ("ioc/v1/drainage/" + "a" * 65 + "/telemetry", RejectReason.BAD_DEVICE_ID),
    ("ioc/v2/drainage/dr-1/telemetry", RejectReason.BAD_TOPIC),
    ("ioc/v1/drainage/dr-1/status", RejectReason.BAD_TOPIC),
])
def test_topic_rejections(topic: str, reason: RejectReason) -> None:
    assert _reason(topic, _payload()) == reason


def test_unknown_device_and_domain_mismatch(registry: Registry) -> None:
    assert _reason("ioc/v1/drainage/dr-9/telemetry", _payload(), registry) == (
        RejectReason.UNKNOWN_DEVICE)
    assert _reason("ioc/v1/traffic/dr-1/telemetry", _payload(), registry) == (
        RejectReason.DOMAIN_MISMATCH)


def test_traffic_and_streetlight_field_rules() -> None:
    tr = "ioc/v1/traffic/tr-1/telemetry"
    good = {"waterLevel": ..., "intensity": 3, "averageVehicleSpeed": 40, "occupancy": 0.2}
    assert _reason(tr, _payload(**{**good, "intensity": 2.5})) == RejectReason.WRONG_TYPE
    assert _reason(tr, _payload(**{**good, "occupancy": 1.2})) == RejectReason.OUT_OF_RANGE
    assert _reason(tr, _payload(**{**good, "averageVehicleSpeed": ...})) == (
        RejectReason.MISSING_FIELD)
    sl = "ioc/v1/streetlight/sl-1/telemetry"
    lamp = {"waterLevel": ..., "powerState": "dim", "powerConsumption": 10}
    assert _reason(sl, _payload(**lamp)) == RejectReason.OUT_OF_RANGE
    assert _reason(sl, _payload(**{**lamp, "powerState": 1})) == RejectReason.WRONG_TYPE
