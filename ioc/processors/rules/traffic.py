"""Traffic rules: congestion on a segment, and a stopped-traffic incident."""

from __future__ import annotations

from dataclasses import dataclass

from ioc.core.registry import Device
from ioc.core.schemas import Severity, TrafficReading
from ioc.processors.rules.base import IDLE, AlertChange, Hold, RuleSettings, hold_step, point

__all__ = ["TrafficState", "congestion_step", "stopped_step"]


@dataclass(frozen=True, slots=True)
class TrafficState:
    """Sustained-condition state of one traffic rule on one segment."""

    hold: Hold = IDLE


def _change(rule: str, device: Device, reading: TrafficReading, active: bool,
            severity: Severity, text: str) -> AlertChange:
    return AlertChange(
        rule=rule, subject=device.id, active=active, at=reading.observed_at.timestamp(),
        severity=severity, ward=device.ward, source=device.id, description=text,
        data={"averageVehicleSpeed": reading.average_speed_kmh,
              "occupancy": reading.occupancy, "intensity": reading.intensity,
              "freeFlowSpeed": device.free_flow_kmh, "road": device.road},
        location=point(device.lat, device.lon))


# (opening, closing) descriptions; formatted only on an edge, not per reading
_CONGESTION_TEXT = ("Ùn tắc trên {road} ({name}): {speed:.0f} km/h",
                    "Hết ùn tắc trên {road} ({name})")
_STOPPED_TEXT = ("Giao thông đứng yên trên {road} ({name})",
                 "Giao thông trên {road} ({name}) đã lưu thông")


def _episode(state: TrafficState, reading: TrafficReading, device: Device, rule: str,
             on: bool, off: bool, open_s: float, hold_s: float, severity: Severity,
             texts: tuple[str, str]) -> tuple[TrafficState, list[AlertChange]]:
    """Advance one segment's hold; on an edge, the rule's open or close change."""
    hold, edge = hold_step(state.hold, reading.observed_at.timestamp(), on, off, open_s, hold_s)
    if edge is None:
        return TrafficState(hold), []
    opened = edge == "open"
    text = texts[0 if opened else 1].format(road=device.road, name=device.name,
                                            speed=reading.average_speed_kmh)
    return TrafficState(hold), [_change(rule, device, reading, opened, severity, text)]


def congestion_step(state: TrafficState, reading: TrafficReading, device: Device,
                    settings: RuleSettings) -> tuple[TrafficState, list[AlertChange]]:
    """traffic.congestion: speed under a fraction of free flow for minutes, occupancy high."""
    free = device.free_flow_kmh or 0.0
    speed, occ = reading.average_speed_kmh, reading.occupancy
    on = speed < settings.congestion_fraction * free and occ >= settings.congestion_occupancy
    off = (speed >= (settings.congestion_fraction + settings.congestion_margin) * free
           or occ < settings.congestion_occupancy - settings.congestion_margin)
    return _episode(state, reading, device, "traffic.congestion", on, off,
                    settings.congestion_open_s, settings.congestion_hold_s, "medium",
                    _CONGESTION_TEXT)


def stopped_step(state: TrafficState, reading: TrafficReading, device: Device,
                 settings: RuleSettings) -> tuple[TrafficState, list[AlertChange]]:
    """traffic.stopped: speed collapses to near zero on a segment that is full of vehicles."""
    free = device.free_flow_kmh or 0.0
    speed, occ = reading.average_speed_kmh, reading.occupancy
    on = speed <= settings.stopped_fraction * free and occ >= settings.stopped_occupancy
    off = speed >= settings.stopped_clear_fraction * free
    return _episode(state, reading, device, "traffic.stopped", on, off,
                    settings.stopped_open_s, settings.stopped_hold_s, "high", _STOPPED_TEXT)
