"""Pure routing: one MQTT message becomes one Kafka record (reading, status or dead letter)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

import orjson

from ioc.core.contract import (
    MAX_PAYLOAD_BYTES,
    RejectReason,
    TelemetryRejected,
    split_topic,
    telemetry_json,
)
from ioc.core.registry import Registry
from ioc.core.topics import DEADLETTER, DEVICE_ID_RE, DEVICE_STATUS, TELEMETRY

__all__ = [
    "INTERNAL_ERROR",
    "MAX_DEADLETTER_BYTES",
    "STATUS_VALUES",
    "KafkaRecord",
    "KafkaTopics",
    "Router",
    "device_id_from_topic",
]

# Kafka refuses records over its 1 MiB request size; an MQTT payload can be far larger,
# and a record Kafka refuses would be redelivered forever, so dead letters keep a prefix.
MAX_DEADLETTER_BYTES: Final = 900 * 1024
STATUS_VALUES: Final = frozenset({"online", "offline"})
# A bug in routing must not crash the bridge or lose the message: it becomes a dead letter.
INTERNAL_ERROR: Final = "internal_error"

Headers = tuple[tuple[str, bytes], ...]


@dataclass(frozen=True, slots=True)
class KafkaTopics:
    """Kafka topic names the bridge writes; overridable so tests and benchmarks stay apart."""

    telemetry: str = TELEMETRY
    deadletter: str = DEADLETTER
    device_status: str = DEVICE_STATUS

    @classmethod
    def prefixed(cls, prefix: str) -> KafkaTopics:
        """The standard names with `prefix` in front, e.g. `t-1a2b-ioc.telemetry`."""
        return cls(f"{prefix}{TELEMETRY}", f"{prefix}{DEADLETTER}", f"{prefix}{DEVICE_STATUS}")


@dataclass(frozen=True, slots=True)
class KafkaRecord:
    """What to produce: topic, key, value, headers; `reason` is set for dead letters."""

    topic: str
    key: bytes | None
    value: bytes
    headers: Headers = ()
    kind: str = "telemetry"  # telemetry | status | deadletter
    reason: str | None = None


def device_id_from_topic(topic: str) -> str | None:
    """The device id of an `ioc/v1/{domain}/{id}/{kind}` topic if it is a valid id, else None."""
    parts = topic.split("/")
    if len(parts) == 5 and DEVICE_ID_RE.fullmatch(parts[3]):
        return parts[3]
    return None


def _iso(received_at: float) -> str:
    return datetime.fromtimestamp(received_at, UTC).isoformat()


class Router:
    """Validates messages against the device contract and chooses their Kafka record."""

    __slots__ = ("_bridge_id", "_registry", "_topics")

    def __init__(self, registry: Registry | None, topics: KafkaTopics, bridge_id: str) -> None:
        self._registry = registry
        self._topics = topics
        self._bridge_id = bridge_id.encode()

    @property
    def topics(self) -> KafkaTopics:
        """The Kafka topics this router writes."""
        return self._topics

    def route(self, topic: str, payload: bytes, received_at: float) -> KafkaRecord:
        """The record for one MQTT message; never raises."""
        try:
            if topic.endswith("/status"):
                return self._status(topic, payload, received_at)
            device_id, value = telemetry_json(topic, payload,
                                              datetime.fromtimestamp(received_at, UTC),
                                              self._registry)
            return KafkaRecord(self._topics.telemetry, device_id.encode(), value)
        except TelemetryRejected as exc:
            return self.dead_letter(topic, payload, received_at, exc.reason.value, exc.detail)
        except Exception as exc:  # any bug becomes a dead letter, never a crash
            return self.dead_letter(topic, payload, received_at, INTERNAL_ERROR,
                                    f"{type(exc).__name__}: {exc}"[:300])

    def dead_letter(self, topic: str, payload: bytes, received_at: float, reason: str,
                    detail: str) -> KafkaRecord:
        """A dead-letter record: the original bytes, keyed by device id when the topic has one."""
        device_id = device_id_from_topic(topic)
        headers: list[tuple[str, bytes]] = [
            ("reason", reason.encode()),
            ("detail", detail.encode("utf-8", "replace")),
            ("mqtt_topic", topic.encode("utf-8", "replace")),
            ("received_at", _iso(received_at).encode()),
            ("bridge_id", self._bridge_id),
        ]
        value = payload
        if len(payload) > MAX_DEADLETTER_BYTES:
            value = payload[:MAX_DEADLETTER_BYTES]
            headers.append(("original_size", str(len(payload)).encode()))
        return KafkaRecord(self._topics.deadletter,
                           device_id.encode() if device_id else None, value,
                           tuple(headers), "deadletter", reason)

    def _status(self, topic: str, payload: bytes, received_at: float) -> KafkaRecord:
        domain, device_id, _ = split_topic(topic)
        self._check_device(domain, device_id)
        status = _status_value(payload)
        value = orjson.dumps({"deviceId": device_id, "domain": domain, "status": status,
                              "at": _iso(received_at)})
        return KafkaRecord(self._topics.device_status, device_id.encode(), value, (), "status")

    def _check_device(self, domain: str, device_id: str) -> None:
        if self._registry is None:
            return
        device = self._registry.get(device_id)
        if device is None:
            raise TelemetryRejected(RejectReason.UNKNOWN_DEVICE, device_id)
        if device.domain != domain:
            raise TelemetryRejected(RejectReason.DOMAIN_MISMATCH,
                                    f"{device_id} is a {device.domain} device")


def _status_value(payload: bytes) -> str:
    """`online`/`offline` as plain text, or a JSON string or `{"status": ...}` object."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise TelemetryRejected(RejectReason.OVERSIZE, f"{len(payload)} bytes")
    try:
        text = payload.decode("utf-8").strip()
    except UnicodeDecodeError as exc:
        raise TelemetryRejected(RejectReason.INVALID_UTF8, "status is not UTF-8") from exc
    if text[:1] in ('"', "{"):
        try:
            doc = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise TelemetryRejected(RejectReason.BAD_JSON, str(exc)[:200]) from exc
        value = doc.get("status") if isinstance(doc, dict) else doc
        if not isinstance(value, str):
            raise TelemetryRejected(RejectReason.WRONG_TYPE, "status must be text")
        text = value
    if text not in STATUS_VALUES:
        raise TelemetryRejected(RejectReason.OUT_OF_RANGE,
                                f"status {text[:40]!r} is not online/offline")
    return text
