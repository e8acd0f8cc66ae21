"""device.silent: no reading for several reporting intervals, or an offline Last Will."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from ioc.core.registry import Device
from ioc.processors.rules.base import AlertChange, RuleSettings, point

__all__ = ["Seen", "SilenceEvent", "SilentState", "StatusEvent", "Tick", "silence_step"]


@dataclass(frozen=True, slots=True)
class Seen:
    """The device sent a reading observed at `at`."""

    at: float


@dataclass(frozen=True, slots=True)
class Tick:
    """The clock advanced to `at` (from the stream or a timer)."""

    at: float


@dataclass(frozen=True, slots=True)
class StatusEvent:
    """The device's retained MQTT status changed (offline is its Last Will)."""

    at: float
    status: Literal["online", "offline"]


SilenceEvent = Seen | Tick | StatusEvent


@dataclass(frozen=True, slots=True)
class SilentState:
    """When the device was last heard from, and whether it is reported silent."""

    last_seen: float | None = None
    expected_since: float | None = None  # first clock time, for devices never heard from
    active: bool = False


def _iso(t: float | None) -> str | None:
    return None if t is None else datetime.fromtimestamp(t, UTC).isoformat()


def _change(device: Device, at: float, active: bool, reason: str,
            last_seen: float | None) -> AlertChange:
    text = (f"Thiết bị {device.name} mất liên lạc ({reason})" if active
            else f"Thiết bị {device.name} đã liên lạc trở lại")
    return AlertChange(rule="device.silent", subject=device.id, active=active, at=at,
                       severity="medium", ward=device.ward, source=device.id, description=text,
                       data={"reason": reason, "lastSeen": _iso(last_seen),
                             "intervalSeconds": device.interval_s, "domain": device.domain},
                       location=point(device.lat, device.lon))


def silence_step(state: SilentState, event: SilenceEvent, device: Device,
                 settings: RuleSettings) -> tuple[SilentState, list[AlertChange]]:
    """Open on silence (evaluated on ticks) or an offline status; clear on the next reading."""
    if isinstance(event, Seen):
        last = event.at if state.last_seen is None else max(state.last_seen, event.at)
        changes = [_change(device, event.at, False, "reading", last)] if state.active else []
        return SilentState(last, state.expected_since, False), changes
    if isinstance(event, StatusEvent):
        if event.status == "offline" and not state.active:
            return (SilentState(state.last_seen, state.expected_since, True),
                    [_change(device, event.at, True, "offline", state.last_seen)])
        return state, []
    base = state.last_seen
    expected = state.expected_since
    if base is None:
        if not settings.silent_unseen:
            return state, []
        expected = event.at if expected is None else expected
        base = expected
    if state.active or event.at - base < settings.silent_intervals * device.interval_s:
        return SilentState(state.last_seen, expected, state.active), []
    return (SilentState(state.last_seen, expected, True),
            [_change(device, event.at, True, "no_readings", state.last_seen)])
