"""The storage writer's fast path: a telemetry record straight to its line protocol.

Readings on the telemetry topic are written by the bridge (`reading_to_json`), so nearly
every record has that exact shape: camelCase keys, UTC ISO-8601 times, JSON numbers. For
those, orjson and a few type checks give the same line as `reading_line(reading_from_json(
value))` at a fraction of its cost (no pydantic model per reading; one series key per
device and ward, cached). Anything else - other key spellings, other time formats, numbers
as strings, unknown or missing keys - gets None, and the caller takes the validating path,
which decides as before.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson

from ioc.core.registry import Registry
from ioc.storage.influx_writer import field_set, nanoseconds, series_key

__all__ = ["ReadingLines"]

_UTC_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?\+00:00")
_MAX_SERIES = 100_000  # cached series keys (unknown device ids must not grow it forever)

# key -> kind: s str, i int, n number, t UTC time, p power state, d the domain; "?": or null
_COMMON = {"deviceId": "s", "domain": "d", "ward": "s?", "observedAt": "t", "receivedAt": "t",
           "seq": "i?", "batteryLevel": "n?", "ignored": "i"}
_KINDS: dict[str, dict[str, str]] = {
    "traffic": {**_COMMON, "intensity": "i", "averageSpeedKmh": "n", "occupancy": "n",
                "laneDirection": "s?"},
    "streetlight": {**_COMMON, "powerState": "p", "powerW": "n", "energyKwh": "n?",
                    "voltageV": "n?", "currentA": "n?", "illuminance": "n?"},
    "drainage": {**_COMMON, "waterLevelM": "n?", "precipitationMm": "n?", "flowM3S": "n?"},
}
_REQUIRED = {d: frozenset(k for k, kind in kinds.items() if not kind.endswith("?") and
                          k != "ignored") for d, kinds in _KINDS.items()}


def _fits(kind: str, v: Any) -> bool:
    t = type(v)
    if v is None:
        return kind[-1] == "?"
    base = kind[0]
    if base == "n":
        return t is float or t is int
    if base == "i":
        return t is int
    if base == "s" or base == "d":
        return t is str
    if base == "t":
        return t is str and _UTC_TIME.fullmatch(v) is not None
    return v == "on" or v == "off" or v == "low"


def _valid(doc: Any) -> bool:
    """Whether `doc` is a reading in `reading_to_json`'s exact shape."""
    if type(doc) is not dict:
        return False
    domain = doc.get("domain")
    if type(domain) is not str or domain not in _KINDS:
        return False
    kinds = _KINDS[domain]
    if not _REQUIRED[domain] <= doc.keys():
        return False
    for key, value in doc.items():
        kind = kinds.get(key)
        if kind is None or not _fits(kind, value):
            return False
    return True


def _float(v: Any) -> float | None:
    return None if v is None else float(v)  # pydantic's float fields hold floats


def _fields(domain: str, doc: Mapping[str, Any]) -> dict[str, Any]:
    """The domain's fields, named and typed as influx_writer's `_fields` of the model."""
    g = doc.get
    if domain == "traffic":
        fields = {"intensity": doc["intensity"], "averageVehicleSpeed": float(doc[
            "averageSpeedKmh"]), "occupancy": float(doc["occupancy"])}
    elif domain == "streetlight":
        state = doc["powerState"]
        fields = {"powerState": state, "powerConsumption": float(doc["powerW"]),
                  "on": state != "off", "lifetimePowerConsumption": _float(g("energyKwh")),
                  "voltage": _float(g("voltageV")), "current": _float(g("currentA")),
                  "illuminanceLevel": _float(g("illuminance"))}
    else:
        fields = {"waterLevel": _float(g("waterLevelM")),
                  "precipitation": _float(g("precipitationMm")), "flow": _float(g("flowM3S"))}
    fields["seq"], fields["batteryLevel"] = g("seq"), _float(g("batteryLevel"))
    return fields


class ReadingLines:
    """Line protocol of bridge-shaped telemetry records, tagged from a registry."""

    def __init__(self, registry: Registry | None = None) -> None:
        self._registry = registry
        self._series: dict[tuple[str, str, str | None], str] = {}

    def line(self, value: bytes) -> str | None:
        """The record's line, as `reading_line` writes it; None for any other shape."""
        try:
            doc = orjson.loads(value)
        except orjson.JSONDecodeError:
            return None
        if not _valid(doc):
            return None
        domain = doc["domain"]
        ns = nanoseconds(datetime.fromisoformat(doc["observedAt"]))
        return f"{self._series_of(domain, doc['deviceId'], doc.get('ward'))} " \
               f"{field_set(_fields(domain, doc))} {ns}"

    def _series_of(self, domain: str, device_id: str, ward: str | None) -> str:
        key = (domain, device_id, ward)
        found = self._series.get(key)
        if found is None:
            device = self._registry.get(device_id) if self._registry is not None else None
            tags = {"device": device_id, "ward": ward or (device.ward if device else None),
                    "domain": domain}
            if device is not None:
                tags.update(road=device.road, circuit=device.circuit, basin=device.basin)
            if len(self._series) >= _MAX_SERIES:
                self._series.clear()
            found = self._series[key] = series_key(domain, tags)
        return found
