"""What a scenario should make the detector raise, derived from the simulated drains."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ioc.core.registry import Device
from ioc.sensors_sim.world import base_fraction, level_fraction, susceptibility

__all__ = ["ExpectedAlert", "expected_flood_alerts"]


@dataclass(frozen=True, slots=True)
class ExpectedAlert:
    """An alert a scenario should raise: rule (DESIGN.md), subject and ward.

    `required=False` marks alerts a detector may reasonably raise too (e.g. per-lamp
    outages under a circuit outage) that a backtest must not count as false positives.
    """

    rule: str
    subject: str
    ward: str
    required: bool = True


def expected_flood_alerts(catalog: Sequence[Device], seed: int,
                          wards: Sequence[str]) -> tuple[ExpectedAlert, ...]:
    """Flood alerts the flash-flood storm (peak wetness 1.0) must raise in `wards`."""
    factors = susceptibility(catalog, seed)
    expected = []
    for device in catalog:
        if device.ward not in wards or device.id not in factors:
            continue
        assert device.depth_m is not None and device.warn_m is not None
        peak = device.depth_m * level_fraction(base_fraction(seed, device.id), 1.0,
                                               factors[device.id])
        # A 10 % margin keeps sensor noise from deciding whether a required alert fires.
        expected.append(ExpectedAlert("flood.level", device.id, device.ward,
                                      required=peak > device.warn_m * 1.10))
        expected.append(ExpectedAlert("flood.rising", device.id, device.ward, required=False))
    expected += [ExpectedAlert("flood.localized", ward, ward) for ward in wards]
    return tuple(expected)
