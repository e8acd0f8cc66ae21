"""Each device's state for the console's map: normal, warning, critical or silent, plus its
open alert; computed from its latest reading with the worker's own thresholds."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict

from ioc.core.registry import Device
from ioc.core.schemas import SEVERITY_RANK, Alert, Severity
from ioc.processors.rules.base import RuleSettings

__all__ = ["DeviceState", "State", "device_state", "open_alerts_by_subject", "reading_state"]

State = Literal["normal", "warning", "critical", "silent"]
_RULES = RuleSettings()  # the worker's defaults: the map agrees with the alerts it raises


class DeviceState(BaseModel):
    """A device on the map: where it is, its latest values and what they mean."""

    model_config = ConfigDict(frozen=True)

    id: str
    domain: str
    name: str
    ward: str
    lat: float
    lon: float
    state: State
    observed_at: AwareDatetime | None = None
    values: dict[str, Any] = {}
    alert_id: str | None = None
    alert_rule: str | None = None
    alert_severity: Severity | None = None


def reading_state(device: Device, values: Mapping[str, Any]) -> State:
    """What the values mean against the device's thresholds (drains: levels, roads: speed)."""
    if device.domain == "drainage" and isinstance(values.get("waterLevel"), int | float):
        level = float(values["waterLevel"])
        assert device.warn_m is not None and device.critical_m is not None
        if level >= device.critical_m:
            return "critical"
        return "warning" if level >= device.warn_m else "normal"
    speed = values.get("averageVehicleSpeed")
    if device.domain == "traffic" and isinstance(speed, int | float) and device.free_flow_kmh:
        if speed <= _RULES.stopped_fraction * device.free_flow_kmh:
            return "critical"
        if speed < _RULES.congestion_fraction * device.free_flow_kmh:
            return "warning"
    return "normal"


def open_alerts_by_subject(alerts: Iterable[Alert]) -> dict[str, Alert]:
    """The most severe unresolved alert of each subject (device id)."""
    out: dict[str, Alert] = {}
    for alert in alerts:
        if alert.status == "resolved":
            continue
        held = out.get(alert.subject)
        if held is None or SEVERITY_RANK[alert.severity] > SEVERITY_RANK[held.severity]:
            out[alert.subject] = alert
    return out


def device_state(device: Device, observed_at: datetime | None, values: Mapping[str, Any],
                 now: datetime, alert: Alert | None) -> DeviceState:
    """The device's map state: silent after the worker's silence window, else by its values."""
    silent = observed_at is None or (
        (now - observed_at).total_seconds() >= _RULES.silent_intervals * device.interval_s)
    return DeviceState(
        id=device.id, domain=device.domain, name=device.name, ward=device.ward,
        lat=device.lat, lon=device.lon, observed_at=observed_at, values=dict(values),
        state="silent" if silent else reading_state(device, values),
        alert_id=alert.id if alert else None, alert_rule=alert.rule if alert else None,
        alert_severity=alert.severity if alert else None)
