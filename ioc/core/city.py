"""Đồng Xoài itself: where its centre is and which clock it keeps (the wards are in registry)."""

from __future__ import annotations

from datetime import timedelta, timezone
from zoneinfo import ZoneInfo

__all__ = [
    "CENTRE",
    "CITY_LAT",
    "CITY_LON",
    "SUN_RULES_LON",
    "TZ",
    "TZ_FIXED",
    "TZ_NAME",
    "UTC_OFFSET_S",
]

TZ_NAME = "Asia/Ho_Chi_Minh"
TZ = ZoneInfo(TZ_NAME)
# Vietnam has kept UTC+7 without daylight saving since 1975, so a fixed offset is exact for
# every time the system handles; per-reading hot loops use it to skip the zone lookup.
UTC_OFFSET_S = 7 * 3600
TZ_FIXED = timezone(timedelta(seconds=UTC_OFFSET_S))

# The urban centre: Tân Phú, the central ward, where the city People's Committee sits
# (1377 Phú Riềng Đỏ); the registry puts Tân Phú at 11.5365N 106.8890E. Maps and the
# simulator's sun use it.
CITY_LAT = 11.535
CITY_LON = 106.89
CENTRE = (CITY_LAT, CITY_LON)

# The day/night rules (processors.rules.sun) have always placed their observer 0.007° (~760 m,
# ~1.7 s of sun time) west of CITY_LON. Moving it to CITY_LON changes which lamps one
# lighting-fault circuit-outage alert lists (tests/unit/processors/test_backtest_golden.py),
# so it stays separate until the golden fixtures are deliberately re-recorded.
SUN_RULES_LON = 106.883
