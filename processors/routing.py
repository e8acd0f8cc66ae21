"""Pure routing for the worker: which partition key owns a device's or an alert's state."""

from __future__ import annotations

from typing import Any

import orjson

from ioc.registry import Registry
from ioc.schemas import Alert, AlertCommand, reading_from_json

from .detector import Detector, circuits_of

__all__ = ["Envelope", "Router", "handle_envelope"]

Envelope = dict[str, Any]


class Router:
    """Maps devices and alert ids to their owner key: the ward (a circuit's ward for lamps).

    All state a ward-level rule needs then lives on one partition, and every alert has a
    single writer, so detector updates and operator commands never race.
    """

    def __init__(self, registry: Registry) -> None:
        self._circuit_ward = {c: i.ward for c, i in circuits_of(registry).items()}
        self._registry = registry

    def device_owner(self, device_id: str) -> str | None:
        """Owner key of a device, or None when the registry does not know it."""
        device = self._registry.get(device_id)
        if device is None:
            return None
        if device.circuit is not None:
            return self._circuit_ward.get(device.circuit, device.ward)
        return device.ward

    def alert_owner(self, alert_id: str) -> str | None:
        """Owner key of an alert id `rule:subject:opened`."""
        parts = alert_id.split(":")
        if len(parts) < 3:
            return None
        rule, subject = parts[0], ":".join(parts[1:-1])
        if rule == "flood.localized":
            return subject
        if rule == "streetlight.circuit_outage":
            return self._circuit_ward.get(subject)
        return self.device_owner(subject)


def handle_envelope(det: Detector, raw: bytes) -> list[Alert]:
    """Apply one owner-keyed envelope ({"k": "r"|"c"|"s", "v": ...}) to the detector."""
    env = orjson.loads(raw)
    kind, value = env.get("k"), env.get("v")
    if kind == "r":
        return det.process(reading_from_json(orjson.dumps(value)))
    if kind == "c":
        return det.command(AlertCommand.model_validate(value))
    if kind == "s":
        return det.status(value["device"], value["status"], float(value["at"]))
    raise ValueError(f"unknown envelope kind {kind!r}")
