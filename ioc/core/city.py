"""Đồng Xoài itself: its centre, its main roads and the clock it keeps (wards: registry)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta, timezone
from zoneinfo import ZoneInfo

__all__ = [
    "CENTRE",
    "CITY_LAT",
    "CITY_LON",
    "ROADS",
    "SUN_RULES_LON",
    "TZ",
    "TZ_FIXED",
    "TZ_NAME",
    "UTC_OFFSET_S",
    "Road",
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


@dataclass(frozen=True, slots=True)
class Road:
    """A main road as a polyline (lat, lon) with its traffic facts."""

    slug: str
    name: str
    points: tuple[tuple[float, float], ...]
    free_flow_kmh: float
    capacity_vph: float  # one direction, vehicles per hour at saturation
    weight: float  # share of the traffic counters placed on this road
    directions: tuple[str, str]


# Approximate alignments: QL14 crosses the city south-west → north-east, ĐT741 runs
# south-east → north-west, the urban streets cross the centre (Tân Phú).
ROADS: tuple[Road, ...] = (
    Road("ql14", "Quốc lộ 14", ((11.4850, 106.8480), (11.5060, 106.8700), (11.5290, 106.8880),
                                (11.5450, 106.9010), (11.5600, 106.9180), (11.5780, 106.9400)),
         70.0, 1800.0, 0.32, ("northbound", "southbound")),
    Road("dt741", "Đường tỉnh 741", ((11.5120, 106.9150), (11.5280, 106.8990),
                                      (11.5400, 106.8850), (11.5560, 106.8660),
                                      (11.5690, 106.8530)),
         60.0, 1400.0, 0.24, ("northbound", "southbound")),
    Road("phu-rieng-do", "Đường Phú Riềng Đỏ", ((11.5280, 106.8830), (11.5380, 106.8900),
                                                 (11.5480, 106.8990), (11.5580, 106.9100)),
         45.0, 1100.0, 0.16, ("northbound", "southbound")),
    Road("hung-vuong", "Đường Hùng Vương", ((11.5390, 106.8800), (11.5350, 106.8920),
                                             (11.5300, 106.9040)),
         40.0, 900.0, 0.14, ("eastbound", "westbound")),
    Road("tran-hung-dao", "Đường Trần Hưng Đạo", ((11.5420, 106.8870), (11.5330, 106.8850),
                                                   (11.5230, 106.8800)),
         40.0, 800.0, 0.14, ("northbound", "southbound")),
)
