"""Injected sensor faults: what each one looks like on the wire and how the contract rejects it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import orjson

from ioc.core.contract import RejectReason
from ioc.core.registry import Device
from ioc.core.topics import telemetry_topic

__all__ = ["FAULT_REASONS", "FaultKind", "Injection", "fault_message"]

_FUTURE_S = 20 * 365 * 86400.0  # an RTC that lost its year: far past any replay's clock


class FaultKind(StrEnum):
    """Kinds of bad or awkward input the sensor-faults scenario injects."""

    MALFORMED_JSON = "malformed_json"
    OVERSIZE = "oversize"
    DUPLICATE = "duplicate"
    OUT_OF_ORDER = "out_of_order"
    FUTURE_TIMESTAMP = "future_timestamp"
    NAN = "nan"
    WRONG_TYPE = "wrong_type"
    UNKNOWN_DEVICE = "unknown_device"
    INVALID_UTF8 = "invalid_utf8"
    OUT_OF_RANGE = "out_of_range"
    MISSING_FIELD = "missing_field"


# The reason the contract must give; None means the message is valid (the pipeline must
# cope with it — dedupe a duplicate, order by dateObserved — rather than reject it).
FAULT_REASONS: dict[FaultKind, RejectReason | None] = {
    FaultKind.MALFORMED_JSON: RejectReason.BAD_JSON,
    FaultKind.OVERSIZE: RejectReason.OVERSIZE,
    FaultKind.DUPLICATE: None,
    FaultKind.OUT_OF_ORDER: None,
    FaultKind.FUTURE_TIMESTAMP: RejectReason.FUTURE_TIMESTAMP,
    FaultKind.NAN: RejectReason.NON_FINITE,
    FaultKind.WRONG_TYPE: RejectReason.WRONG_TYPE,
    FaultKind.UNKNOWN_DEVICE: RejectReason.UNKNOWN_DEVICE,
    FaultKind.INVALID_UTF8: RejectReason.INVALID_UTF8,
    FaultKind.OUT_OF_RANGE: RejectReason.OUT_OF_RANGE,
    FaultKind.MISSING_FIELD: RejectReason.MISSING_FIELD,
}


@dataclass(frozen=True, slots=True)
class Injection:
    """One injected fault: when (epoch s), what, on which device, and the intended reason."""

    at_s: float
    kind: FaultKind
    device_id: str
    reason: RejectReason | None


_VALUE_KEY = {"traffic": "intensity", "streetlight": "powerConsumption", "drainage": "waterLevel"}


def fault_message(kind: FaultKind, device: Device, doc: dict[str, Any],
                  last: bytes | None, past_doc: dict[str, Any]) -> tuple[str, bytes]:
    """(topic, payload) for a fault, built from the device's current reading `doc`.

    `last` is the device's previous payload (for duplicates); `past_doc` is a reading
    stamped earlier with a lower seq (for out-of-order delivery).
    """
    topic = telemetry_topic(device.domain, device.id)
    value_key = _VALUE_KEY[device.domain]
    if kind is FaultKind.DUPLICATE and last is not None:
        return topic, last
    body = dict(past_doc if kind is FaultKind.OUT_OF_ORDER else doc)
    if device.domain == "drainage" and value_key not in body:
        value_key = "precipitation"
    if kind is FaultKind.MALFORMED_JSON:
        return topic, orjson.dumps(body)[:-7]  # cut mid-value, as a dropped packet would
    if kind is FaultKind.OVERSIZE:
        body["debugTrace"] = "x" * 20_000
    elif kind is FaultKind.FUTURE_TIMESTAMP:
        body["dateObserved"] = _shift_epoch_ms(body["dateObserved"], _FUTURE_S)
    elif kind is FaultKind.NAN:
        return topic, orjson.dumps({**body, value_key: 0}).replace(
            f'"{value_key}":0'.encode(), f'"{value_key}":NaN'.encode())
    elif kind is FaultKind.WRONG_TYPE:
        body[value_key] = str(body[value_key])
    elif kind is FaultKind.UNKNOWN_DEVICE:
        topic = telemetry_topic(device.domain, f"{device.id[:2]}-ghost-{device.id[-2:]}")
    elif kind is FaultKind.INVALID_UTF8:
        return topic, orjson.dumps({**body, "note": "@@"}).replace(b"@@", b"\xff\xfe")
    elif kind is FaultKind.OUT_OF_RANGE:
        body[value_key] = -5 if value_key == "intensity" else -50.0
    elif kind is FaultKind.MISSING_FIELD:
        body.pop("dateObserved")
    return topic, orjson.dumps(body)


def _shift_epoch_ms(value: Any, seconds: float) -> int:
    """dateObserved as epoch ms moved by `seconds` (accepts ISO text or epoch ms)."""
    from datetime import datetime

    if isinstance(value, int):
        return value + int(seconds * 1000)
    return int((datetime.fromisoformat(value).timestamp() + seconds) * 1000)
