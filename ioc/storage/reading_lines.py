"""The storage writer's fast path: a telemetry record straight to its line protocol.

Readings on the telemetry topic are written by the bridge (`reading_to_json`), so nearly
every record has that exact shape: camelCase keys, UTC ISO-8601 times, JSON numbers. For
those, orjson and a few type checks give the same line as `reading_line(reading_from_json(
value))` at a fraction of its cost (no pydantic model per reading; one series key per
device and ward, cached; the checks of keys and value types, and the field set's format,
done once per record shape - domain, keys in order, value types - and cached). Anything
else - other key spellings, other time formats, numbers as strings, unknown or missing
keys - gets None, and the caller takes the validating path, which decides as before.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from operator import itemgetter
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
def _valid_shape(domain: Any, doc: dict[str, Any]) -> bool:
    """Whether `doc`'s keys and value types are those of `reading_to_json`'s shape (its
    times and power state are checked per record: `ReadingLines.line`)."""
    if type(domain) is not str or domain not in _TYPES:
        return False
    keys = doc.keys()
    if not (_REQUIRED[domain] <= keys and keys <= _ALLOWED[domain]):
        return False
    types = _TYPES[domain]
    return all(type(value) in types[key] for key, value in doc.items())


# influx_writer's field order per domain: (record key, field name, kind); kinds: i int,
# f float (the model holds whole numbers as floats too), p the power state, o "on" from it
_FIELDS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "traffic": (("intensity", "intensity", "i"), ("averageSpeedKmh", "averageVehicleSpeed", "f"),
                ("occupancy", "occupancy", "f")),
    "streetlight": (("powerState", "powerState", "p"), ("powerW", "powerConsumption", "f"),
                    ("powerState", "on", "o"), ("energyKwh", "lifetimePowerConsumption", "f"),
                    ("voltageV", "voltage", "f"), ("currentA", "current", "f"),
                    ("illuminance", "illuminanceLevel", "f")),
    "drainage": (("waterLevelM", "waterLevel", "f"), ("precipitationMm", "precipitation", "f"),
                 ("flowM3S", "flow", "f")),
}
_TAIL = (("seq", "seq", "i"), ("batteryLevel", "batteryLevel", "f"))
_TEXT = {"i": "{}={{{}}}i", "f": "{}={{{}!r}}", "p": '{}="{{{}}}"', "o": "{}={{{}}}"}
_MAX_SHAPES = 1024  # cached record shapes (odd producers must not grow it forever)


def _on(state: str) -> str:
    return "false" if state == "off" else "true"


class _Plan:
    """The field set of one record shape (domain, keys in order, value types) as a format
    string, its values taken with one itemgetter; only whole numbers in float fields and
    the `on` flag are converted per record."""

    __slots__ = ("convert", "domain", "get", "power", "template")

    def __init__(self, domain: str, doc: Mapping[str, Any]) -> None:
        keys: list[str] = []
        texts: list[str] = []
        self.convert: list[tuple[int, Callable[[Any], Any]]] = []
        for key, name, kind in _FIELDS[domain] + _TAIL:
            value = doc.get(key)
            if value is None:
                continue
            if kind == "o":
                self.convert.append((len(keys), _on))
            elif kind == "f" and type(value) is int:
                self.convert.append((len(keys), float))
            texts.append(_TEXT[kind].format(name, len(keys)))
            keys.append(key)
        self.template, self.domain = ",".join(texts), domain
        self.power = domain == "streetlight"
        getter = itemgetter(*keys) if keys else None
        self.get: Callable[[Mapping[str, Any]], tuple[Any, ...]] = (
            (lambda d: ()) if getter is None else
            (lambda d: (getter(d),)) if len(keys) == 1 else getter)

    def fields(self, doc: Mapping[str, Any]) -> str:
        """The record's field set, as influx_writer's `field_set(_fields(model))` writes it."""
        values = self.get(doc)
        if self.convert:
            values = list(values)  # type: ignore[assignment]
            for i, convert in self.convert:
                values[i] = convert(values[i])  # type: ignore[index]
        return self.template.format(*values)


class ReadingLines:
    """Line protocol of bridge-shaped telemetry records, tagged from a registry."""

    def __init__(self, registry: Registry | None = None) -> None:
        self._registry = registry
        self._series: dict[tuple[str, str, str | None], str] = {}
        self._plans: dict[tuple[Any, ...], _Plan | None] = {}

    def line(self, value: bytes) -> str | None:
        """The record's line, as `reading_line` writes it; None for any other shape."""
        try:
            doc = orjson.loads(value)
        except orjson.JSONDecodeError:
            return None
        if type(doc) is not dict:
            return None
        domain = doc.get("domain")
        shape = (domain, tuple(doc), tuple(map(type, doc.values())))
        try:
            plan = self._plans[shape]
        except KeyError:
            plan = self._plan_of(shape, domain, doc)
        except TypeError:  # an unhashable domain (a list, an object)
            return None
        if plan is None:
            return None
        observed = doc["observedAt"]
        if _UTC_TIME.fullmatch(observed) is None or \
                _UTC_TIME.fullmatch(doc["receivedAt"]) is None or \
                (plan.power and doc["powerState"] not in _POWER_STATES):
            return None
        ns = nanoseconds(datetime.fromisoformat(observed))
        return f"{self._series_of(plan.domain, doc['deviceId'], doc.get('ward'))} " \
               f"{plan.fields(doc)} {ns}"

    def _plan_of(self, shape: tuple[Any, ...], domain: Any, doc: dict[str, Any]) -> _Plan | None:
        plan = _Plan(domain, doc) if _valid_shape(domain, doc) else None
        if len(self._plans) >= _MAX_SHAPES:
            self._plans.clear()
        self._plans[shape] = plan
        return plan

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
