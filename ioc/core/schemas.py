"""Event schemas: normalized readings, dead letters and alerts (frozen, UTC-aware)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal, get_args

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter, field_validator
from pydantic.alias_generators import to_camel

__all__ = [
    "Alert",
    "AlertCommand",
    "AlertComment",
    "AnyReading",
    "DrainageReading",
    "Reading",
    "Severity",
    "Status",
    "StreetlightReading",
    "TrafficReading",
    "reading_from_json",
    "reading_json",
    "reading_to_json",
]

Severity = Literal["informational", "low", "medium", "high", "critical"]
Status = Literal["open", "acknowledged", "resolved"]
SEVERITY_RANK: dict[str, int] = {
    "informational": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", alias_generator=to_camel,
                              populate_by_name=True)


class Reading(_Frozen):
    """A validated reading: device and ward, UTC times, the contract's units."""

    device_id: str
    domain: str
    ward: str | None = None
    observed_at: AwareDatetime
    received_at: AwareDatetime
    seq: int | None = None
    battery_level: float | None = None
    ignored: int = 0  # attributes the device sent that this pipeline does not use

    _to_utc = field_validator("observed_at", "received_at")(_utc)


class TrafficReading(Reading):
    """TrafficFlowObserved: vehicles counted, average speed, occupancy."""

    domain: Literal["traffic"] = "traffic"
    intensity: int
    average_speed_kmh: float
    occupancy: float
    lane_direction: str | None = None


class StreetlightReading(Reading):
    """Streetlight: power state and draw, optional meter and electrical values, lamp status."""

    domain: Literal["streetlight"] = "streetlight"
    power_state: Literal["on", "off", "low", "bootingUp"]
    power_w: float
    energy_kwh: float | None = None
    voltage_v: float | None = None
    current_a: float | None = None
    illuminance: float | None = None
    # the model's `status` (brokenLantern, columnIssue, defectiveLamp, ok)
    lamp_status: Literal["brokenLantern", "columnIssue", "defectiveLamp", "ok"] | None = None


class DrainageReading(Reading):
    """WaterObserved / WeatherObserved: water level and/or rainfall."""

    domain: Literal["drainage"] = "drainage"
    water_level_m: float | None = None
    precipitation_mm: float | None = None
    flow_m3s: float | None = None


AnyReading = Annotated[TrafficReading | StreetlightReading | DrainageReading,
                       Field(discriminator="domain")]
_READING_ADAPTER: TypeAdapter[AnyReading] = TypeAdapter(AnyReading)


def reading_to_json(reading: Reading) -> bytes:
    """Serialize a reading for Kafka (camelCase keys, ISO-8601 UTC times)."""
    return orjson.dumps(reading.model_dump(by_alias=True, exclude_none=True))


def _wire_plan(model: type[Reading]) -> tuple[tuple[str, str, str], ...]:
    """(field, camelCase key, kind) in the model's order; kind f: float, t: time, "": as is."""
    plan = []
    for name, info in model.model_fields.items():
        types = set(get_args(info.annotation) or (info.annotation,)) - {type(None)}
        kind = "f" if types == {float} else "t" if types == {AwareDatetime} else ""
        plan.append((name, info.alias or name, kind))
    return tuple(plan)


# derived from the models, so a field added to a model reaches the wire format by itself
_WIRE = {"traffic": _wire_plan(TrafficReading), "streetlight": _wire_plan(StreetlightReading),
         "drainage": _wire_plan(DrainageReading)}


def reading_json(domain: str, values: dict[str, Any]) -> bytes:
    """`reading_to_json` of `{domain}Reading(**values)` for already validated values, no model.

    The bridge's hot path: the device contract has checked every value, so building and
    dumping a pydantic model per message would only repeat that work (~13 instead of ~20
    µs per message: `ioc bench --only contract`). Numbers the model holds as floats are made
    floats and times UTC, as the model's validation does.
    """
    out: dict[str, Any] = {}
    for name, key, kind in _WIRE[domain]:
        value = values.get(name)
        if value is None:
            continue
        if kind == "f":
            value = float(value)
        elif kind == "t":
            value = value.astimezone(UTC)
        out[key] = value
    return orjson.dumps(out)


def reading_from_json(data: bytes | str) -> AnyReading:
    """Parse a normalized reading produced by `reading_to_json`."""
    return _READING_ADAPTER.validate_json(data)


class AlertComment(_Frozen):
    """An operator's note on an alert."""

    by: str
    at: AwareDatetime
    text: str


class Alert(_Frozen):
    """Smart Data Models `Alert` plus the IOC lifecycle (status, who/when, escalation)."""

    id: str
    type: Literal["Alert"] = "Alert"
    rule: str
    subject: str
    category: str
    sub_category: str
    severity: Severity
    status: Status = "open"
    ward: str | None = None
    alert_source: str
    description: str
    data: dict[str, Any] = Field(default_factory=dict)
    location: dict[str, Any] | None = None
    date_issued: AwareDatetime
    date_modified: AwareDatetime
    acknowledged_by: str | None = None
    acknowledged_at: AwareDatetime | None = None
    resolved_by: str | None = None
    resolved_at: AwareDatetime | None = None
    assigned_to: str | None = None
    comments: tuple[AlertComment, ...] = ()
    version: int = 1

    def to_json(self) -> bytes:
        """Serialize with the Smart Data Models' camelCase names."""
        return orjson.dumps(self.model_dump(mode="json", by_alias=True))

    @classmethod
    def from_json(cls, data: bytes | str) -> Alert:
        """Parse an alert produced by `to_json`."""
        return cls.model_validate_json(data)


class AlertCommand(_Frozen):
    """An operator's command on one alert, sent to `ioc.alert-commands`."""

    alert_id: str
    action: Literal["acknowledge", "resolve", "assign", "comment"]
    by: str
    at: AwareDatetime
    assignee: str | None = None
    text: str | None = None
    command_id: str | None = None
