"""Shared pieces of the pure rules: settings, the change a rule emits, sustained conditions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ioc.core.schemas import SEVERITY_RANK, Severity

__all__ = ["ACTIVE", "IDLE", "AlertChange", "Hold", "RuleSettings", "hold_step", "point", "rank",
           "renew"]

Entry = TypeVar("Entry")


@dataclass(frozen=True, slots=True)
class RuleSettings:
    """Tunable margins, hold times, windows and fractions of every rule (seconds, metres)."""

    flood_margin_m: float = 0.05
    flood_hold_s: float = 600.0
    rise_readings: int = 4
    rise_min_m_per_h: float = 0.3
    rise_eta_high_min: float = 30.0
    rise_hold_s: float = 600.0
    # a rise only matters once the drain is this full relative to its warning level;
    # without it every drain in a drizzle raised flood.rising (seen in flash-flood backtests)
    rise_min_fill: float = 0.5
    localized_min_sensors: int = 2
    localized_confirm_readings: int = 2
    localized_window_s: float = 900.0
    localized_hold_s: float = 600.0
    congestion_fraction: float = 0.4
    congestion_margin: float = 0.1
    congestion_occupancy: float = 0.3
    congestion_open_s: float = 300.0
    congestion_hold_s: float = 300.0
    stopped_fraction: float = 0.1
    stopped_clear_fraction: float = 0.25
    stopped_occupancy: float = 0.5
    stopped_open_s: float = 60.0
    stopped_hold_s: float = 180.0
    sun_grace_s: float = 1800.0
    lamp_open_s: float = 600.0
    lamp_hold_s: float = 300.0
    outage_fraction: float = 0.1
    overpower_factor: float = 1.5
    overpower_margin: float = 0.2
    circuit_fraction: float = 0.6
    circuit_margin: float = 0.2
    circuit_min_lamps: int = 2
    circuit_window_s: float = 900.0
    circuit_hold_s: float = 300.0
    silent_intervals: float = 3.0
    silent_unseen: bool = True


@dataclass(frozen=True, slots=True)
class AlertChange:
    """A rule's verdict: the condition of (rule, subject) is now active (at a severity) or clear.

    Rules emit only transitions; the lifecycle turns them into Alert states.
    """

    rule: str
    subject: str
    active: bool
    at: float  # epoch seconds, from the reading or the tick
    severity: Severity = "medium"
    ward: str | None = None
    source: str = ""
    description: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    location: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Hold:
    """A condition that must hold `open_after` seconds to raise and `clear_after` to clear."""

    active: bool = False
    since: float | None = None  # start of the pending transition (on while idle, off while active)


IDLE = Hold()
ACTIVE = Hold(active=True)


def hold_step(h: Hold, now: float, on: bool, off: bool,
              open_after: float, clear_after: float) -> tuple[Hold, str | None]:
    """Advance a sustained condition; returns the new state and "open", "close" or None."""
    pending = off if h.active else on
    if not pending:
        return (ACTIVE if h.active else IDLE), None
    since = now if h.since is None else h.since
    if now - since >= (clear_after if h.active else open_after):
        return (IDLE, "close") if h.active else (ACTIVE, "open")
    return Hold(active=h.active, since=since), None


def renew(entries: Mapping[str, Entry], device_id: str,
          entry: Entry | None) -> dict[str, Entry]:
    """A copy of a group window (ward, circuit) keyed by device, with one device's entry
    moved last (renewal order, as the windows always kept) or dropped if None.

    A copy, not an update: rule states are values. Copying a dict is one C-level pass; the
    tuple of entries this replaced was rebuilt in Python on every reading of the group.
    """
    out = dict(entries)
    out.pop(device_id, None)
    if entry is not None:
        out[device_id] = entry
    return out


def point(lat: float, lon: float) -> dict[str, Any]:
    """A GeoJSON point (longitude first)."""
    return {"type": "Point", "coordinates": [lon, lat]}


def rank(severity: str | None) -> int:
    """Order of severities; None (no alert) ranks below all."""
    return -1 if severity is None else SEVERITY_RANK[severity]
