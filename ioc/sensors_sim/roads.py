"""The simulated street map: main roads as polylines, and which ward a point lies in."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from ioc.core.registry import WARDS, Ward

__all__ = [
    "ROADS",
    "WARD_SLUGS",
    "Road",
    "nearest_ward",
    "point_along",
]

WARD_SLUGS: tuple[str, ...] = tuple(WARDS)


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


def point_along(points: tuple[tuple[float, float], ...], frac: float) -> tuple[float, float]:
    """The point at fraction `frac` (0..1) of a polyline's length."""
    lengths = [math.dist(a, b) for a, b in itertools.pairwise(points)]
    target = max(0.0, min(1.0, frac)) * sum(lengths)
    for (a, b), length in zip(itertools.pairwise(points), lengths, strict=True):
        if target <= length or length == 0:
            t = target / length if length else 0.0
            return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)
        target -= length
    return points[-1]


def nearest_ward(lat: float, lon: float) -> Ward:
    """The ward whose approximate centre is closest to a point."""
    return min(WARDS.values(), key=lambda w: (w.lat - lat) ** 2 + (w.lon - lon) ** 2)
