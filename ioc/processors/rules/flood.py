"""Flooding rules: level over warning/critical, sustained rise, localized flooding per ward."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from itertools import pairwise
from operator import itemgetter
from typing import Any

from ioc.core.registry import WARDS, Device
from ioc.core.schemas import DrainageReading, Severity
from ioc.processors.rules.base import (
    IDLE,
    AlertChange,
    Hold,
    RuleSettings,
    hold_step,
    point,
    rank,
    renew,
)

__all__ = [
    "LevelState",
    "LocalizedState",
    "RiseState",
    "WardSignal",
    "level_step",
    "localized_step",
    "rising_step",
]


@dataclass(frozen=True, slots=True)
class LevelState:
    """flood.level state of one drainage sensor."""

    severity: Severity | None = None
    below_since: float | None = None  # start of the hold below (threshold - margin)
    over_count: int = 0  # consecutive readings at or above warn_m
    confirmed: bool = False  # warning held over enough readings to count for localized flooding


def _hyst_target(level: float, device: Device, margin: float) -> Severity | None:
    assert device.warn_m is not None and device.critical_m is not None
    if level >= device.critical_m - margin:
        return "critical"
    return "high" if level >= device.warn_m - margin else None


def _level_change(device: Device, at: float, severity: Severity | None,
                  level: float) -> AlertChange:
    what = "nguy hiểm" if severity == "critical" else "cảnh báo"
    return AlertChange(
        rule="flood.level", subject=device.id, active=severity is not None, at=at,
        severity=severity or "high", ward=device.ward, source=device.id,
        description=f"Mực nước {level:.2f} m tại {device.name} vượt mức {what}"
        if severity else f"Mực nước tại {device.name} đã trở lại bình thường ({level:.2f} m)",
        data={"waterLevel": level, "warnLevel": device.warn_m, "criticalLevel": device.critical_m},
        location=point(device.lat, device.lon))


def level_step(state: LevelState, reading: DrainageReading, device: Device,
               settings: RuleSettings) -> tuple[LevelState, list[AlertChange]]:
    """flood.level: open over warn_m, escalate over critical_m, step down after the hold."""
    level = reading.water_level_m
    if level is None or device.warn_m is None or device.critical_m is None:
        return state, []
    now = reading.observed_at.timestamp()
    over = state.over_count + 1 if level >= device.warn_m else 0
    confirmed = state.confirmed or over >= settings.localized_confirm_readings
    target: Severity | None = ("critical" if level >= device.critical_m
                               else "high" if level >= device.warn_m else None)
    current = state.severity
    if rank(target) > rank(current):
        return (LevelState(target, None, over, confirmed),
                [_level_change(device, now, target, level)])
    if current is None:  # the usual reading: calm, and a calm state is kept as it is
        calm = not state.confirmed and state.below_since is None and state.over_count == over
        return (state if calm else LevelState(None, None, over, False)), []
    hyst = _hyst_target(level, device, settings.flood_margin_m)
    if rank(hyst) >= rank(current):
        return LevelState(current, None, over, confirmed), []
    since = now if state.below_since is None else state.below_since
    if now - since < settings.flood_hold_s:
        return LevelState(current, since, over, confirmed), []
    return (LevelState(hyst, None, over, confirmed and hyst is not None),
            [_level_change(device, now, hyst, level)])


@dataclass(frozen=True, slots=True)
class RiseState:
    """flood.rising state: the last few (time, level) samples of one sensor."""

    samples: tuple[tuple[float, float], ...] = ()
    hold: Hold = IDLE
    severity: Severity | None = None


_NOISE_M = 0.01  # a dip smaller than sensor noise does not break a rise


def _rate_m_per_h(samples: tuple[tuple[float, float], ...]) -> float | None:
    (t0, l0), (t1, l1) = samples[0], samples[-1]
    if t1 <= t0:
        return None
    if any(b[1] - a[1] < -_NOISE_M for a, b in pairwise(samples)):
        return 0.0
    return (l1 - l0) / (t1 - t0) * 3600.0


def rising_step(state: RiseState, reading: DrainageReading, device: Device,
                settings: RuleSettings) -> tuple[RiseState, list[AlertChange]]:
    """flood.rising: a rise sustained over several readings, with time until overflow."""
    level = reading.water_level_m
    if level is None or device.depth_m is None:
        return state, []
    now = reading.observed_at.timestamp()
    samples = (*state.samples, (now, level))[-settings.rise_readings:]
    full = len(samples) >= settings.rise_readings
    rate = _rate_m_per_h(samples) if full else None
    filling = device.warn_m is None or level >= settings.rise_min_fill * device.warn_m
    on = rate is not None and rate >= settings.rise_min_m_per_h and filling
    off = rate is None or rate < settings.rise_min_m_per_h / 2
    hold, edge = hold_step(state.hold, now, on, off and full, 0.0, settings.rise_hold_s)
    if not hold.active:
        return RiseState(samples, hold, None), ([_rise_change(device, now, None, level, rate)]
                                                if edge == "close" else [])
    eta_min = _eta_min(device.depth_m, level, rate)
    severity: Severity = state.severity or "medium"
    if on:
        severity = "high" if eta_min is not None and eta_min <= settings.rise_eta_high_min \
            else "medium"
    changes = ([_rise_change(device, now, severity, level, rate, eta_min)]
               if edge == "open" or severity != state.severity else [])
    return RiseState(samples, hold, severity), changes


def _eta_min(depth: float, level: float, rate: float | None) -> float | None:
    if rate is None or rate <= 0:
        return None
    return max(0.0, (depth - level) / rate * 60.0)


def _rise_change(device: Device, at: float, severity: Severity | None, level: float,
                 rate: float | None, eta_min: float | None = None) -> AlertChange:
    data: dict[str, Any] = {"waterLevel": level, "depth": device.depth_m,
                            "rateMetersPerHour": None if rate is None else round(rate, 4),
                            "minutesToOverflow": None if eta_min is None else round(eta_min, 1)}
    text = (f"Nước dâng nhanh tại {device.name}: {rate or 0:.2f} m/giờ"
            + (f", tràn sau khoảng {eta_min:.0f} phút" if eta_min is not None else "")
            if severity else f"Nước tại {device.name} ngừng dâng")
    return AlertChange(rule="flood.rising", subject=device.id, active=severity is not None,
                       at=at, severity=severity or "medium", ward=device.ward, source=device.id,
                       description=text, data=data, location=point(device.lat, device.lon))


@dataclass(frozen=True, slots=True)
class WardSignal:
    """A drainage sensor entering, staying in (warning=True) or leaving warning."""

    device_id: str
    ward: str
    at: float
    warning: bool
    critical: bool = False


@dataclass(frozen=True, slots=True)
class LocalizedState:
    """flood.localized state of one ward: sensors in warning and when last seen so."""

    # device -> (last warning time, critical), in renewal order
    members: dict[str, tuple[float, bool]] = field(default_factory=dict)
    hold: Hold = IDLE
    severity: Severity | None = None
    oldest: float = 0.0  # no member's time is older: until the window passes it, none expires


_CRITICAL = itemgetter(1)


def localized_step(state: LocalizedState, signal: WardSignal | float, ward: str,
                   settings: RuleSettings) -> tuple[LocalizedState, list[AlertChange]]:
    """flood.localized: two or more sensors of a ward in warning within the window."""
    recent, oldest = state.members, state.oldest
    if isinstance(signal, WardSignal):
        now = signal.at
        recent = renew(recent, signal.device_id,
                       (signal.at, signal.critical) if signal.warning else None)
        oldest = min(oldest, now) if signal.warning else oldest
    else:
        now = signal
    cutoff = now - settings.localized_window_s
    if oldest < cutoff:  # some member may have left the window: look at each (rarely)
        recent = {d: m for d, m in recent.items() if m[0] >= cutoff}
        oldest = min((m[0] for m in recent.values()), default=now)
    count = len(recent)
    on = count >= settings.localized_min_sensors
    hold, edge = hold_step(state.hold, now, on, not on, 0.0, settings.localized_hold_s)
    severity: Severity | None = None
    if hold.active:
        severity = ("critical" if any(map(_CRITICAL, recent.values())) else "high") if on \
            else state.severity
    new = replace(state, members=recent, hold=hold, severity=severity, oldest=oldest)
    if edge is None and severity == state.severity:
        return new, []
    w = WARDS.get(ward)
    text = (f"Ngập cục bộ tại phường {w.name if w else ward}: {count} cảm biến vượt mức cảnh báo"
            if severity else f"Hết ngập cục bộ tại phường {w.name if w else ward}")
    return new, [AlertChange(
        rule="flood.localized", subject=ward, active=severity is not None, at=now,
        severity=severity or "high", ward=ward, source=f"ward:{ward}", description=text,
        data={"sensors": sorted(recent), "count": count},
        location=point(w.lat, w.lon) if w else None)]
