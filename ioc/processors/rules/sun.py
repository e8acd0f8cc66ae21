"""Day and night at Đồng Xoài: sunrise and sunset at 11.535N 106.883E, Asia/Ho_Chi_Minh."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

from astral import Observer
from astral.sun import sunrise, sunset

__all__ = ["CITY", "TZ", "Phase", "phase", "sun_times"]

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
CITY = Observer(latitude=11.535, longitude=106.883)
Phase = Literal["day", "night", "twilight"]


@lru_cache(maxsize=64)
def sun_times(local_day: date) -> tuple[float, float]:
    """Sunrise and sunset (epoch seconds) of one local calendar day in the city."""
    rise = sunrise(CITY, local_day, tzinfo=TZ).timestamp()
    fall = sunset(CITY, local_day, tzinfo=TZ).timestamp()
    return rise, fall


def phase(t: float, grace_s: float) -> Phase:
    """`day` between sunrise+grace and sunset-grace, `night` outside ±grace, else twilight."""
    local_day = datetime.fromtimestamp(t, UTC).astimezone(TZ).date()
    rise, fall = sun_times(local_day)
    if rise + grace_s <= t <= fall - grace_s:
        return "day"
    if t <= rise - grace_s or t >= fall + grace_s:
        return "night"
    return "twilight"
