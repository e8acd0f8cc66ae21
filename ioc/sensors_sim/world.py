"""The simulated environment over time: rain and drain wetness per ward, the sun, device traits."""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterable, Sequence
from functools import lru_cache

from ioc.core.city import CITY_LAT, CITY_LON
from ioc.core.registry import Device
from ioc.sensors_sim.physics import LinearReservoirs, Storm, solar_elevation_deg
from ioc.sensors_sim.storms import flash_flood_storm

__all__ = [
    "STEP_S",
    "Environment",
    "base_fraction",
    "level_fraction",
    "susceptibility",
    "unit_hash",
]

STEP_S = 60.0  # environment resolution: rain, wetness and sun change minute by minute
_FACTORS = (1.15, 1.05, 0.9, 0.8, 0.7, 0.62)  # how badly each drain of a ward backs up
_MAX_OVER = 1.05  # water rises at most this far above the drain's depth onto the street


def unit_hash(seed: int, key: str) -> float:
    """A deterministic number in [0, 1) for a seed and key (cheap per-device traits)."""
    return zlib.crc32(f"{seed}:{key}".encode()) / 4294967296.0


@lru_cache(maxsize=1)
def _wetness_gain() -> float:
    """Reservoir gain that makes the flash-flood storm peak at wetness 1.0 (calibration)."""
    storm = flash_flood_storm(0.0)
    res = LinearReservoirs(gain=1.0)
    peak = 0.0
    t = 0.0
    while t < 6 * 3600:
        peak = max(peak, res.step(storm.intensity(t + STEP_S / 2), STEP_S))
        t += STEP_S
    return 1.0 / peak


def susceptibility(catalog: Iterable[Device], seed: int) -> dict[str, float]:
    """Per level sensor: how strongly it responds to its ward's wetness (≥2 per ward are high)."""
    ranks: dict[str, int] = {}
    result: dict[str, float] = {}
    for device in sorted((d for d in catalog if d.domain == "drainage"
                          and not d.id.startswith("rg-")), key=lambda d: d.id):
        rank = ranks.get(device.ward, 0)
        ranks[device.ward] = rank + 1
        jitter = 0.97 + 0.06 * unit_hash(seed, device.id + ":s")
        result[device.id] = _FACTORS[rank % len(_FACTORS)] * jitter
    return result


def level_fraction(base: float, wetness: float, factor: float) -> float:
    """Water level as a fraction of drain depth for a ward wetness."""
    return base + min(0.8 * wetness * factor, _MAX_OVER - base)


def base_fraction(seed: int, device_id: str) -> float:
    """Dry-weather level as a fraction of depth (a little standing water)."""
    return 0.08 + 0.07 * unit_hash(seed, device_id + ":b")


class Environment:
    """Rain, drain wetness and sun elevation, advanced monotonically in STEP_S steps."""

    def __init__(self, storms: Sequence[Storm], start_s: float) -> None:
        self._storms: dict[str, list[Storm]] = {}
        for storm in storms:
            for ward in storm.wards:
                self._storms.setdefault(ward, []).append(storm)
        gain = _wetness_gain()
        self._reservoirs = {ward: LinearReservoirs(gain=gain) for ward in self._storms}
        self._wetness = dict.fromkeys(self._storms, 0.0)
        self._t = math.floor(start_s / STEP_S) * STEP_S
        self._sun_bucket = -1.0
        self._sun = 0.0

    def rain_mm_h(self, ward: str, t: float) -> float:
        """Rain intensity over a ward at epoch seconds t."""
        storms = self._storms.get(ward)
        return sum(s.intensity(t) for s in storms) if storms else 0.0

    def advance(self, t: float) -> None:
        """Integrate the drains up to time t (never backwards)."""
        while self._t + STEP_S <= t:
            mid = self._t + STEP_S / 2
            for ward, res in self._reservoirs.items():
                self._wetness[ward] = res.step(self.rain_mm_h(ward, mid), STEP_S)
            self._t += STEP_S

    def wetness(self, ward: str) -> float:
        """Drain wetness of a ward (1.0 = the flash-flood peak)."""
        return self._wetness.get(ward, 0.0)

    def sun_elevation(self, t: float) -> float:
        """Sun elevation over the city in degrees, cached per minute."""
        bucket = t // STEP_S
        if bucket != self._sun_bucket:
            self._sun_bucket = bucket
            self._sun = solar_elevation_deg(bucket * STEP_S, CITY_LAT, CITY_LON)
        return self._sun
