"""Parsing command-line values: durations, speeds and start times."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from ioc.core.city import TZ
from ioc.core.errors import ConfigError

__all__ = ["default_start", "parse_duration", "parse_speed", "parse_start"]

_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhd])")


def parse_duration(text: str) -> float:
    """Seconds in '90m', '6h', '1h30m', '2d', '45s' or a bare number of seconds."""
    text = text.strip().lower()
    try:
        value = float(text)
    except ValueError:
        parts = _PART.findall(text)
        if not parts or "".join(n + u for n, u in parts) != text:
            raise ConfigError(f"bad duration {text!r}; use e.g. 90m, 6h, 1h30m") from None
        value = sum(float(n) * _UNITS[u] for n, u in parts)
    if value <= 0:
        raise ConfigError(f"duration must be positive, not {text!r}")
    return value


def parse_speed(text: str) -> float | None:
    """A positive speed factor, or None for 'max' (as fast as possible)."""
    if text.strip().lower() in ("max", "inf", "0"):
        return None
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"bad speed {text!r}; use a number or 'max'") from None
    if value <= 0:
        raise ConfigError("speed must be positive or 'max'")
    return value


def parse_start(text: str) -> datetime:
    """An ISO 8601 time; without an offset it is taken as the city's local time."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"bad start time {text!r}; use ISO 8601") from None
    return value if value.tzinfo else value.replace(tzinfo=TZ)


def default_start(now: datetime, duration_s: float, speed: float | None) -> datetime:
    """Now, moved back just enough that a faster-than-real-time run never stamps a
    reading ahead of the wall clock (the contract rejects timestamps > 5 min ahead)."""
    ahead = duration_s * (1.0 - (1.0 / speed if speed else 0.0))
    return (now - timedelta(seconds=max(0.0, ahead))).astimezone(UTC)
