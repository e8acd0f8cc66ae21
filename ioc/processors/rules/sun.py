"""Day and night at Đồng Xoài: sunrise and sunset over the city, in its local time."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Literal

from astral import Observer
from astral.sun import sunrise, sunset

from ioc.core.city import CITY_LAT, SUN_RULES_LON, TZ

__all__ = ["CITY", "TZ", "Phase", "phase", "sun_times"]

CITY = Observer(latitude=CITY_LAT, longitude=SUN_RULES_LON)
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
