"""Generated device catalog in the registry format: counters, streetlights, drains, gauges."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from ioc.core.errors import ConfigError
from ioc.core.registry import WARDS, Device
from ioc.sensors_sim.roads import ROADS, WARD_SLUGS, Road, nearest_ward, point_along

__all__ = ["DEFAULT_DEVICES", "DEFAULT_SEED", "MIN_DEVICES", "CatalogPlan", "generate_catalog",
           "plan_catalog"]

DEFAULT_DEVICES = 400
DEFAULT_SEED = 7
MIN_DEVICES = 80
_LAMPS_PER_CIRCUIT = 12
_SENSORS_PER_BASIN = 3
_DRAIN_SENSORS_PER_GAUGE = 12
_METRES_PER_DEG = 111_000.0


@dataclass(frozen=True, slots=True)
class CatalogPlan:
    """How many devices of each kind a catalog of `total` devices has."""

    total: int
    traffic_pairs: tuple[int, ...]  # counter pairs (one per direction) per road in ROADS order
    drains_per_ward: int
    gauges_per_ward: int
    lamps_per_ward: tuple[int, ...]


def _split(total: int, weights: list[float], minimum: int) -> list[int]:
    """Integer shares of `total` proportional to weights, each at least `minimum`."""
    raw = [max(minimum, math.floor(total * w / sum(weights))) for w in weights]
    for i in range(total - sum(raw)):
        raw[i % len(raw)] += 1
    return raw


def plan_catalog(total: int = DEFAULT_DEVICES) -> CatalogPlan:
    """Share `total` devices between the domains; the proportions do not depend on size."""
    if total < MIN_DEVICES:
        raise ConfigError(f"a catalog needs at least {MIN_DEVICES} devices, not {total}")
    pairs = _split(max(len(ROADS) * 2, round(total * 0.13 / 2)), [r.weight for r in ROADS], 2)
    drains = max(3, round(total * 0.12 / len(WARDS)))
    gauges = math.ceil(drains / _DRAIN_SENSORS_PER_GAUGE)
    lamps = total - 2 * sum(pairs) - (drains + gauges) * len(WARDS)
    per_ward = _split(lamps, [1.0] * len(WARDS), 0)
    return CatalogPlan(total, tuple(pairs), drains, gauges, tuple(per_ward))


def _width(count: int, minimum: int = 2) -> int:
    return max(minimum, len(str(count)))


def _traffic(road: Road, pairs: int) -> list[Device]:
    width = _width(2 * pairs, 3)
    devices = []
    for seg in range(pairs):
        lat, lon = point_along(road.points, (seg + 0.5) / pairs)
        ward = nearest_ward(lat, lon)
        for k, direction in enumerate(road.directions):
            number = 2 * seg + k + 1
            devices.append(Device(
                id=f"tr-{road.slug}-{number:0{width}d}", domain="traffic",
                name=f"{road.name} – đoạn {seg + 1}, {direction}", ward=ward.slug,
                lat=round(lat, 6), lon=round(lon, 6), interval_s=60.0, road=road.slug,
                direction=direction, free_flow_kmh=road.free_flow_kmh))
    return devices


def _lamps(ward_slug: str, count: int, rng: random.Random) -> list[Device]:
    ward = WARDS[ward_slug]
    circuits = max(1, math.ceil(count / _LAMPS_PER_CIRCUIT))
    cw = _width(circuits)
    devices = []
    for c in range(circuits):
        n = count // circuits + (1 if c < count % circuits else 0)
        lat0 = ward.lat + rng.uniform(-0.008, 0.008)
        lon0 = ward.lon + rng.uniform(-0.008, 0.008)
        angle = rng.uniform(0, math.pi)
        step = 35.0 / _METRES_PER_DEG  # lamps every ~35 m along a street
        rated = rng.choice((100.0, 120.0, 150.0, 250.0))
        circuit = f"{ward_slug}-c{c + 1:0{cw}d}"
        lw = _width(n)
        for i in range(n):
            devices.append(Device(
                id=f"sl-{circuit}-{i + 1:0{lw}d}", domain="streetlight",
                name=f"Đèn {i + 1} tủ {c + 1}, {ward.name}", ward=ward_slug,
                lat=round(lat0 + i * step * math.sin(angle), 6),
                lon=round(lon0 + i * step * math.cos(angle), 6),
                interval_s=300.0, circuit=circuit, rated_w=rated))
    return devices


def _drains(ward_slug: str, count: int, gauges: int, rng: random.Random) -> list[Device]:
    ward = WARDS[ward_slug]
    basins = max(1, math.ceil(count / _SENSORS_PER_BASIN))
    bw = _width(basins, 1)
    devices: list[Device] = []
    first_basin = f"{ward_slug}-b{1:0{bw}d}"
    for b in range(basins):
        n = count // basins + (1 if b < count % basins else 0)
        lat0 = ward.lat + rng.uniform(-0.006, 0.006)
        lon0 = ward.lon + rng.uniform(-0.006, 0.006)
        basin = f"{ward_slug}-b{b + 1:0{bw}d}"
        for i in range(n):
            depth = round(rng.uniform(1.2, 2.5), 1)
            devices.append(Device(
                id=f"dr-{basin}-{i + 1:02d}", domain="drainage",
                name=f"Mực nước cống {basin} #{i + 1}, {ward.name}", ward=ward_slug,
                lat=round(lat0 + rng.uniform(-0.002, 0.002), 6),
                lon=round(lon0 + rng.uniform(-0.002, 0.002), 6), interval_s=60.0,
                basin=basin, depth_m=depth, warn_m=round(0.6 * depth, 2),
                critical_m=round(0.85 * depth, 2)))
    for g in range(gauges):
        # The registry wants basin facts on every drainage device; a gauge carries its
        # ward's first basin and nominal thresholds, unused since it sends no waterLevel.
        devices.append(Device(
            id=f"rg-{ward_slug}" + (f"-{g + 1:02d}" if g else ""), domain="drainage",
            name=f"Trạm đo mưa {ward.name}" + (f" #{g + 1}" if g else ""), ward=ward_slug,
            lat=round(ward.lat + rng.uniform(-0.003, 0.003), 6),
            lon=round(ward.lon + rng.uniform(-0.003, 0.003), 6), interval_s=300.0,
            basin=first_basin, depth_m=1.0, warn_m=0.6, critical_m=0.85))
    return devices


def generate_catalog(total: int = DEFAULT_DEVICES, seed: int = DEFAULT_SEED) -> list[Device]:
    """A deterministic catalog of exactly `total` devices for a seed."""
    plan = plan_catalog(total)
    rng = random.Random(seed)
    devices: list[Device] = []
    for road, pairs in zip(ROADS, plan.traffic_pairs, strict=True):
        devices += _traffic(road, pairs)
    for slug, lamps in zip(WARD_SLUGS, plan.lamps_per_ward, strict=True):
        devices += _lamps(slug, lamps, rng)
    for slug in WARD_SLUGS:
        devices += _drains(slug, plan.drains_per_ward, plan.gauges_per_ward, rng)
    return devices
