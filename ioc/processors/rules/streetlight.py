"""Streetlight rules: day-burning, outage, overpower per lamp; outage of a whole circuit."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from ioc.core.ownership import circuit_wards
from ioc.core.registry import Device, Registry
from ioc.core.schemas import Severity, StreetlightReading
from ioc.processors.rules.base import IDLE, AlertChange, Hold, RuleSettings, hold_step, point, renew
from ioc.processors.rules.sun import phase

__all__ = [
    "CircuitInfo",
    "CircuitState",
    "LampSignal",
    "LampState",
    "circuit_step",
    "circuits_of",
    "is_failing",
    "lamp_step",
]


@dataclass(frozen=True, slots=True)
class LampState:
    """Per-lamp state of the three lamp rules."""

    day_burning: Hold = IDLE
    outage: Hold = IDLE
    overpower: Hold = IDLE


def _lit(reading: StreetlightReading, device: Device, settings: RuleSettings) -> bool:
    rated = device.rated_w or 0.0
    return reading.power_state != "off" and reading.power_w > settings.outage_fraction * rated


def is_failing(reading: StreetlightReading, device: Device, settings: RuleSettings) -> bool:
    """Dark or drawing nothing at night (what a circuit outage looks like per lamp)."""
    t = reading.observed_at.timestamp()
    return phase(t, settings.sun_grace_s) == "night" and not _lit(reading, device, settings)


_TEXT = {
    ("streetlight.day_burning", True): "Đèn {name} sáng ban ngày",
    ("streetlight.day_burning", False): "Đèn {name} đã tắt ban ngày",
    ("streetlight.outage", True): "Đèn {name} tắt hoặc không tiêu thụ điện ban đêm",
    ("streetlight.outage", False): "Đèn {name} đã sáng lại",
    ("streetlight.overpower", True): "Đèn {name} tiêu thụ {w:.0f} W, vượt xa công suất định mức",
    ("streetlight.overpower", False): "Công suất đèn {name} đã trở lại bình thường",
}
_SEVERITY: dict[str, Severity] = {"streetlight.day_burning": "low",
                                  "streetlight.outage": "medium",
                                  "streetlight.overpower": "medium"}


def _change(rule: str, active: bool, reading: StreetlightReading, device: Device) -> AlertChange:
    text = _TEXT[(rule, active)].format(name=device.name, w=reading.power_w)
    data: dict[str, Any] = {"powerState": reading.power_state, "powerConsumption": reading.power_w,
                            "ratedPower": device.rated_w, "circuit": device.circuit}
    return AlertChange(rule=rule, subject=device.id, active=active,
                       at=reading.observed_at.timestamp(), severity=_SEVERITY[rule],
                       ward=device.ward, source=device.id, description=text, data=data,
                       location=point(device.lat, device.lon))


def lamp_step(state: LampState, reading: StreetlightReading, device: Device,
              settings: RuleSettings) -> tuple[LampState, list[AlertChange]]:
    """streetlight.day_burning, streetlight.outage and streetlight.overpower for one lamp."""
    now = reading.observed_at.timestamp()
    when = phase(now, settings.sun_grace_s)
    lit = _lit(reading, device, settings)
    rated = device.rated_w or 0.0
    o, c = settings.lamp_open_s, settings.lamp_hold_s
    burning, e1 = hold_step(state.day_burning, now, when == "day" and lit,
                            not lit or when != "day", o, c)
    outage, e2 = hold_step(state.outage, now, when == "night" and not lit,
                           lit or when == "day", o, c)
    over, e3 = hold_step(state.overpower, now, reading.power_w > settings.overpower_factor * rated,
                         reading.power_w <= (settings.overpower_factor - settings.overpower_margin)
                         * rated, o, c)
    changes = [_change(rule, edge == "open", reading, device)
               for rule, edge in (("streetlight.day_burning", e1), ("streetlight.outage", e2),
                                  ("streetlight.overpower", e3)) if edge is not None]
    return LampState(burning, outage, over), changes


@dataclass(frozen=True, slots=True)
class LampSignal:
    """A lamp of a circuit starting, continuing (failing=True) or ending a failure."""

    device_id: str
    circuit: str
    at: float
    failing: bool


@dataclass(frozen=True, slots=True)
class CircuitState:
    """streetlight.circuit_outage state: failing lamps of one circuit and when last seen so."""

    failing: dict[str, float] = field(default_factory=dict)  # lamp -> last seen failing
    hold: Hold = IDLE
    oldest: float = 0.0  # no entry's time is older (see flood.LocalizedState)


@dataclass(frozen=True, slots=True)
class CircuitInfo:
    """Registry facts of one circuit the rule needs."""

    circuit: str
    lamps: int
    ward: str
    location: dict[str, Any] | None


def circuit_step(state: CircuitState, signal: LampSignal | float, info: CircuitInfo,
                 settings: RuleSettings) -> tuple[CircuitState, list[AlertChange]]:
    """streetlight.circuit_outage: most lamps of one circuit failing within the window."""
    failing, oldest = state.failing, state.oldest
    if isinstance(signal, LampSignal):
        now = signal.at
        failing = renew(failing, signal.device_id, signal.at if signal.failing else None)
        oldest = min(oldest, now) if signal.failing else oldest
    else:
        now = signal
    cutoff = now - settings.circuit_window_s
    if oldest < cutoff:  # some entry may have left the window
        failing = {d: t for d, t in failing.items() if t >= cutoff}
        oldest = min(failing.values(), default=now)
    fraction = len(failing) / max(info.lamps, 1)
    on = fraction >= settings.circuit_fraction and len(failing) >= settings.circuit_min_lamps
    off = fraction < settings.circuit_fraction - settings.circuit_margin
    hold, edge = hold_step(state.hold, now, on, off, 0.0, settings.circuit_hold_s)
    new = replace(state, failing=failing, hold=hold, oldest=oldest)
    if edge is None:
        return new, []
    text = (f"Mất điện tủ/mạch đèn {info.circuit}: {len(failing)}/{info.lamps} đèn không sáng"
            if edge == "open" else f"Mạch đèn {info.circuit} đã có điện trở lại")
    return new, [AlertChange(
        rule="streetlight.circuit_outage", subject=info.circuit, active=edge == "open", at=now,
        severity="high", ward=info.ward, source=f"circuit:{info.circuit}", description=text,
        data={"circuit": info.circuit, "failingLamps": sorted(failing),
              "lamps": info.lamps, "fraction": round(fraction, 3)},
        location=info.location)]


def circuits_of(registry: Registry) -> dict[str, CircuitInfo]:
    """Circuit facts from the registry: lamp count, owning ward (its first lamp's), centre."""
    lamps: dict[str, list[Device]] = {}
    for d in registry:
        if d.domain == "streetlight" and d.circuit:
            lamps.setdefault(d.circuit, []).append(d)
    wards = circuit_wards(registry)
    return {c: CircuitInfo(c, len(ds), wards[c], point(sum(d.lat for d in ds) / len(ds),
                                                         sum(d.lon for d in ds) / len(ds)))
            for c, ds in lamps.items()}
