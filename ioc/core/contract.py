"""The MQTT device contract: one pure function turns (topic, bytes) into a Reading or a reason."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson

from ioc.core.observed_time import MAX_FUTURE, observed_at
from ioc.core.registry import Registry
from ioc.core.rejects import RejectReason, TelemetryRejected
from ioc.core.schemas import (
    DrainageReading,
    Reading,
    StreetlightReading,
    TrafficReading,
    reading_json,
)
from ioc.core.smart_models import (
    LANE_DIRECTIONS,
    POWER_STATES,
    STREETLIGHT_STATUSES,
    check_extras,
    check_text,
)
from ioc.core.topics import DEVICE_ID_RE, DOMAINS

__all__ = [
    "MAX_FUTURE",
    "MAX_JSON_DEPTH",
    "MAX_PAYLOAD_BYTES",
    "RejectReason",
    "TelemetryRejected",
    "parse_telemetry",
    "split_topic",
    "telemetry_json",
]

MAX_PAYLOAD_BYTES = 16 * 1024
# Device payloads are flat objects; deeper nesting is refused before any JSON parser recurses
# into it (Python's json, used to classify bad JSON, overflows the stack at ~1000 levels).
MAX_JSON_DEPTH = 32
# Stores keep int64 nanoseconds and int64 integers: what they cannot hold is rejected here,
# at the edge, instead of jamming a storage batch downstream.
_INT64_MAX = 2**63 - 1


def split_topic(topic: str) -> tuple[str, str, str]:
    """Split `ioc/v1/{domain}/{device_id}/{kind}` into (domain, device_id, kind)."""
    parts = topic.split("/")
    if len(parts) != 5 or parts[0] != "ioc" or parts[1] != "v1":
        raise TelemetryRejected(RejectReason.BAD_TOPIC, f"topic {topic!r} is not ioc/v1/...")
    _, _, domain, device_id, kind = parts
    if domain not in DOMAINS:
        raise TelemetryRejected(RejectReason.UNKNOWN_DOMAIN, f"domain {domain!r}")
    if not DEVICE_ID_RE.fullmatch(device_id):
        raise TelemetryRejected(RejectReason.BAD_DEVICE_ID, f"device id {device_id[:80]!r}")
    return domain, device_id, kind


def _decode(payload: bytes) -> dict[str, Any]:
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise TelemetryRejected(RejectReason.OVERSIZE,
                                f"{len(payload)} bytes > {MAX_PAYLOAD_BYTES}")
    if _too_deep(payload):
        raise TelemetryRejected(RejectReason.BAD_JSON,
                                f"nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        doc = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise _classify_bad_json(payload, exc) from exc
    if not isinstance(doc, dict):
        raise TelemetryRejected(RejectReason.NOT_OBJECT, f"payload is a {type(doc).__name__}")
    return doc


def _too_deep(payload: bytes) -> bool:
    # fewer brackets than the limit cannot nest deeper than it: the scan below is only paid
    # by payloads with many brackets, never by a device's flat object
    if payload.count(b"[") + payload.count(b"{") <= MAX_JSON_DEPTH:
        return False
    depth, in_string, escaped = 0, False, False
    for byte in payload:  # linear, unlike a regex over unterminated strings
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # closing quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return True
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return False


def _classify_bad_json(payload: bytes, exc: Exception) -> TelemetryRejected:
    # Slow path only: tell apart bad bytes and NaN/Infinity literals from broken JSON.
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        return TelemetryRejected(RejectReason.INVALID_UTF8, "payload is not UTF-8")
    try:
        json.loads(text, parse_constant=_non_finite, parse_float=_finite_float)
    except _NonFinite:
        return TelemetryRejected(RejectReason.NON_FINITE, "NaN or Infinity in payload")
    except ValueError:
        return TelemetryRejected(RejectReason.BAD_JSON, str(exc)[:200])
    # valid JSON that orjson refused (it reads big integers as floats, so this is rare)
    return TelemetryRejected(RejectReason.BAD_JSON, str(exc)[:200])


class _NonFinite(Exception):
    pass


def _non_finite(name: str) -> float:
    raise _NonFinite(name)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NonFinite(text)
    return value


def _number(doc: dict[str, Any], key: str, lo: float | None, hi: float | None,
            required: bool = True, integer: bool = False, whole: bool = False) -> Any:
    value = doc.get(key)
    if value is None:
        if required:
            raise TelemetryRejected(RejectReason.MISSING_FIELD, key)
        return None
    kind = type(value)
    if kind is bool or (kind is not int and (integer or kind is not float)):
        if not (whole and kind is float and math.isfinite(value) and value.is_integer()):
            want = "a whole number" if whole else "an integer" if integer else "a number"
            raise TelemetryRejected(RejectReason.WRONG_TYPE, f"{key} must be {want}")
        # `whole`: the model types it as a number; 197.0 is a count, 12.5 is not one
        value, kind = int(value), int
    if kind is float and not math.isfinite(value):
        raise TelemetryRejected(RejectReason.NON_FINITE, key)
    if kind is int and not -_INT64_MAX <= value <= _INT64_MAX:
        raise TelemetryRejected(RejectReason.OUT_OF_RANGE, f"{key} does not fit in 64 bits")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise TelemetryRejected(RejectReason.OUT_OF_RANGE, f"{key}={value} not in [{lo}, {hi}]")
    return value


def _text(doc: dict[str, Any], key: str, choices: tuple[str, ...],
          required: bool = False) -> Any:
    value = doc.get(key)
    if value is None:
        if required:
            raise TelemetryRejected(RejectReason.MISSING_FIELD, key)
        return None
    if type(value) is str and value in choices:  # inline: the hot path pays no extra call
        return value
    return check_text(value, key, choices)


_KNOWN = {
    "traffic": frozenset({"intensity", "averageVehicleSpeed", "occupancy", "laneDirection"}),
    "streetlight": frozenset({"powerState", "powerConsumption", "lifetimePowerConsumption",
                              "voltage", "current", "illuminanceLevel", "status"}),
    "drainage": frozenset({"waterLevel", "height", "precipitation", "flow"}),
}
_COMMON = frozenset({"dateObserved", "seq", "batteryLevel"})
# what a reading keeps; anything else a device sends is checked against its model and counted
_BASE = {domain: _COMMON | known for domain, known in _KNOWN.items()}
# per domain: may `dateObserved` be an interval (TrafficFlowObserved), and the model's own
# time attribute when `dateObserved` is absent (Streetlight has none); see observed_time
_TIME: dict[str, tuple[bool, str | None]] = {
    "traffic": (True, None), "streetlight": (False, "observationDateTime"),
    "drainage": (False, None)}


def _traffic(doc: dict[str, Any], values: dict[str, Any]) -> None:
    values["intensity"] = _number(doc, "intensity", 0, None, integer=True, whole=True)
    values["average_speed_kmh"] = _number(doc, "averageVehicleSpeed", 0, 400)
    values["occupancy"] = _number(doc, "occupancy", 0, 1)
    values["lane_direction"] = _text(doc, "laneDirection", LANE_DIRECTIONS)


def _streetlight(doc: dict[str, Any], values: dict[str, Any]) -> None:
    values["power_state"] = _text(doc, "powerState", POWER_STATES, required=True)
    values["power_w"] = _number(doc, "powerConsumption", 0, 100_000)
    values["energy_kwh"] = _number(doc, "lifetimePowerConsumption", 0, None, required=False)
    values["voltage_v"] = _number(doc, "voltage", 0, 1_000, required=False)
    values["current_a"] = _number(doc, "current", 0, 1_000, required=False)
    values["illuminance"] = _number(doc, "illuminanceLevel", 0, 1, required=False)
    values["lamp_status"] = _text(doc, "status", STREETLIGHT_STATUSES)


def _drainage(doc: dict[str, Any], values: dict[str, Any]) -> None:
    level = _number(doc, "waterLevel", -1.0, 100.0, required=False)
    if level is None:  # WaterObserved's own name for the level
        level = _number(doc, "height", 0.0, 100.0, required=False)
    rain = _number(doc, "precipitation", 0, 1_000, required=False)
    if level is None and rain is None:
        raise TelemetryRejected(RejectReason.MISSING_FIELD, "waterLevel or precipitation")
    values["water_level_m"] = level
    values["precipitation_mm"] = rain
    values["flow_m3s"] = _number(doc, "flow", -1_000, 1_000, required=False)


_Builder = Callable[[dict[str, Any], dict[str, Any]], None]
# Per domain: what fills the domain's own fields, and the model those fields make.
_DOMAINS: dict[str, tuple[_Builder, type[Reading]]] = {
    "traffic": (_traffic, TrafficReading),
    "streetlight": (_streetlight, StreetlightReading),
    "drainage": (_drainage, DrainageReading),
}


def parse_telemetry(topic: str, payload: bytes, received_at: datetime,
                    registry: Registry | None = None) -> Reading:
    """Validate one MQTT telemetry message; raise TelemetryRejected with a reason if it is bad.

    With a registry, unknown devices are rejected and the device's ward is attached.
    """
    domain, values = _validated(topic, payload, received_at, registry)
    return _DOMAINS[domain][1](**values)


def telemetry_json(topic: str, payload: bytes, received_at: datetime,
                   registry: Registry | None = None) -> tuple[str, bytes]:
    """(device id, `reading_to_json(parse_telemetry(...))`), without building the model."""
    domain, values = _validated(topic, payload, received_at, registry)
    return values["device_id"], reading_json(domain, values)


def _validated(topic: str, payload: bytes, received_at: datetime,
               registry: Registry | None) -> tuple[str, dict[str, Any]]:
    """The domain and the reading's field values, every one checked by the contract."""
    domain, device_id, kind = split_topic(topic)
    if kind != "telemetry":
        raise TelemetryRejected(RejectReason.BAD_TOPIC, f"{kind!r} is not a telemetry topic")
    ward = None
    if registry is not None:
        device = registry.get(device_id)
        if device is None:
            raise TelemetryRejected(RejectReason.UNKNOWN_DEVICE, device_id)
        if device.domain != domain:
            raise TelemetryRejected(RejectReason.DOMAIN_MISMATCH,
                                    f"{device_id} is a {device.domain} device")
        ward = device.ward
    doc = _decode(payload)
    base = _BASE[domain]
    extra = [k for k in doc if k not in base]
    values = {
        "domain": domain, "device_id": device_id, "ward": ward, "received_at": received_at,
        "observed_at": observed_at(doc, received_at, *_TIME[domain]),
        "seq": _number(doc, "seq", 0, None, required=False, integer=True),
        "battery_level": _number(doc, "batteryLevel", 0, 1, required=False),
        "ignored": len(extra),
    }
    _DOMAINS[domain][0](doc, values)
    if extra:  # only payloads with more than the reading keeps pay for the model checks
        check_extras(doc, extra, domain)
    return domain, values
