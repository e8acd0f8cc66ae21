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
from ioc.storage.influx_writer import nanoseconds, series_key

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
_ALLOWED = {d: frozenset(kinds) for d, kinds in _KINDS.items()}
_BASE_TYPES: dict[str, tuple[type, ...]] = {"s": (str,), "d": (str,), "t": (str,), "p": (str,),
                                            "i": (int,), "n": (int, float)}
# key -> the exact types its value may have (bool is not int here: pydantic would refuse it)
_TYPES = {d: {k: frozenset(_BASE_TYPES[kind[0]] + ((type(None),) if kind.endswith("?") else ()))
              for k, kind in kinds.items()} for d, kinds in _KINDS.items()}
_POWER_STATES = frozenset({"on", "off", "low"})
# optional float fields per domain: record key -> field name, in influx_writer's order
_OPTIONAL = {"traffic": (),
             "streetlight": (("energyKwh", "lifetimePowerConsumption"), ("voltageV", "voltage"),
                             ("currentA", "current"), ("illuminance", "illuminanceLevel")),
             "drainage": (("waterLevelM", "waterLevel"), ("precipitationMm", "precipitation"),
                          ("flowM3S", "flow"))}


def _valid(doc: Any) -> bool:
    """Whether `doc` is a reading in `reading_to_json`'s exact shape."""
    if type(doc) is not dict:
        return False
    domain = doc.get("domain")
    if type(domain) is not str or domain not in _TYPES:
        return False
    keys = doc.keys()
    if not (_REQUIRED[domain] <= keys and keys <= _ALLOWED[domain]):
        return False
    types = _TYPES[domain]
    for key, value in doc.items():
        if type(value) not in types[key]:
            return False
    if _UTC_TIME.fullmatch(doc["observedAt"]) is None or \
            _UTC_TIME.fullmatch(doc["receivedAt"]) is None:
        return False
    return domain != "streetlight" or doc["powerState"] in _POWER_STATES


def _field_set(domain: str, doc: Mapping[str, Any]) -> str:
    """The domain's fields as influx_writer's `field_set(_fields(model))` writes them."""
    g = doc.get
    if domain == "traffic":
        parts = [f"intensity={doc['intensity']}i",
                 f"averageVehicleSpeed={float(doc['averageSpeedKmh'])!r}",
                 f"occupancy={float(doc['occupancy'])!r}"]
    elif domain == "streetlight":
        state = doc["powerState"]  # on, off or low: nothing to escape
        parts = [f'powerState="{state}"', f"powerConsumption={float(doc['powerW'])!r}",
                 "on=false" if state == "off" else "on=true"]
    else:
        parts = []
    for key, name in _OPTIONAL[domain]:
        value = g(key)
        if value is not None:
            parts.append(f"{name}={float(value)!r}")  # the model holds floats
    seq, battery = g("seq"), g("batteryLevel")
    if seq is not None:
        parts.append(f"seq={seq}i")
    if battery is not None:
        parts.append(f"batteryLevel={float(battery)!r}")
    return ",".join(parts)


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
               f"{_field_set(domain, doc)} {ns}"

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
