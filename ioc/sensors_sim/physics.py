"""Pure physics for believable charts: sun, rain, drain response, traffic demand and speed."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = [
    "DUSK_ELEVATION_DEG",
    "LinearReservoirs",
    "Storm",
    "solar_elevation_deg",
    "traffic_demand",
    "traffic_speed_kmh",
]

# Photocells switch lamps a little after sunset (sun ~1.5° below the horizon incl. refraction).
DUSK_ELEVATION_DEG = -1.5


def solar_elevation_deg(epoch_s: float, lat: float, lon: float) -> float:
    """Sun elevation above the horizon in degrees (NOAA approximation, ±0.5°)."""
    days = epoch_s / 86400.0 - 10957.5  # days since J2000.0
    mean_lon = math.radians((280.460 + 0.9856474 * days) % 360)
    anomaly = math.radians((357.528 + 0.9856003 * days) % 360)
    ecl_lon = mean_lon + math.radians(1.915) * math.sin(anomaly) \
        + math.radians(0.020) * math.sin(2 * anomaly)
    obliquity = math.radians(23.439 - 0.0000004 * days)
    decl = math.asin(math.sin(obliquity) * math.sin(ecl_lon))
    right_asc = math.atan2(math.cos(obliquity) * math.sin(ecl_lon), math.cos(ecl_lon))
    gmst_h = (18.697374558 + 24.06570982441908 * days) % 24
    hour_angle = math.radians(gmst_h * 15 + lon) - right_asc
    phi = math.radians(lat)
    sin_elev = (math.sin(phi) * math.sin(decl)
                + math.cos(phi) * math.cos(decl) * math.cos(hour_angle))
    return math.degrees(math.asin(max(-1.0, min(1.0, sin_elev))))


@dataclass(frozen=True, slots=True)
class Storm:
    """A rain event over some wards: intensity rises to a peak and tails off (mm/h)."""

    wards: frozenset[str]
    start_s: float
    peak_s: float
    end_s: float
    peak_mm_h: float

    def intensity(self, t: float) -> float:
        """Rain intensity in mm/h at epoch seconds `t` (a gamma-like pulse)."""
        if t <= self.start_s or t >= self.end_s:
            return 0.0
        x = (t - self.start_s) / (self.peak_s - self.start_s)
        shape = 2.5
        pulse = (x ** shape) * math.exp(shape * (1 - x))
        # Taper to zero at the end so the storm really stops.
        taper = min(1.0, (self.end_s - t) / (0.15 * (self.end_s - self.start_s)))
        return self.peak_mm_h * pulse * taper


class LinearReservoirs:
    """Two linear reservoirs in series (Nash cascade): rain in, a lagged, receding wetness out."""

    __slots__ = ("gain", "lower", "tau_s", "upper")

    def __init__(self, tau_s: float = 1500.0, gain: float = 1.0) -> None:
        self.tau_s = tau_s
        self.gain = gain
        self.upper = 0.0
        self.lower = 0.0

    def step(self, rain_mm_h: float, dt_s: float) -> float:
        """Advance by dt with constant rain; return the output (the lower store)."""
        k = dt_s / self.tau_s
        outflow_upper = self.upper * k
        self.upper += rain_mm_h * self.gain * k - outflow_upper
        self.lower += outflow_upper - self.lower * k
        return self.lower


def traffic_demand(local_hour: float, weekend: bool = False) -> float:
    """Share of capacity demanded at a local hour: low at night, rush peaks at 7:00 and 17:30."""
    base = 0.06 + 0.30 * _bump(local_hour, 12.5, 4.5)
    morning = 0.42 * _bump(local_hour, 7.1, 0.9)
    evening = 0.48 * _bump(local_hour, 17.5, 1.1)
    day = 0.18 * (1 if 6 <= local_hour <= 21 else 0)
    demand = base + morning + evening + day
    return demand * (0.75 if weekend else 1.0)


def _bump(x: float, centre: float, width: float) -> float:
    return math.exp(-0.5 * ((x - centre) / width) ** 2)


def traffic_speed_kmh(free_flow_kmh: float, volume_capacity: float) -> float:
    """Average speed falling as volume approaches capacity (a BPR-style curve)."""
    return free_flow_kmh / (1.0 + 0.9 * volume_capacity ** 4)
