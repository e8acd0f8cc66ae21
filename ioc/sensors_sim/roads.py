"""The simulated street map: main roads as polylines, and which ward a point lies in."""

from __future__ import annotations

import itertools
import math

from ioc.core.city import ROADS, Road
from ioc.core.registry import WARDS, Ward

__all__ = [
    "ROADS",
    "WARD_SLUGS",
    "Road",
    "nearest_ward",
    "point_along",
]

WARD_SLUGS: tuple[str, ...] = tuple(WARDS)


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
