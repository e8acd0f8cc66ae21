"""The storms scenarios bring: the flash-flood cloudburst and an ordinary shower."""

from __future__ import annotations

from collections.abc import Iterable

from ioc.sensors_sim.physics import Storm

__all__ = ["FLOODED_WARDS", "flash_flood_storm", "shower"]

FLOODED_WARDS = ("tan-phu", "tan-dong")  # adjacent wards in the centre, both low-lying


def flash_flood_storm(start_s: float) -> Storm:
    """The flash-flood storm: ~95 mm/h at its peak 30 min after it starts."""
    return Storm(frozenset(FLOODED_WARDS), start_s + 600, start_s + 2400, start_s + 7200, 95.0)


def shower(start_s: float, duration_s: float, wards: Iterable[str], peak: float) -> Storm:
    """A one-hour shower over `wards` that begins 40 % into a run."""
    begin = start_s + 0.4 * duration_s
    return Storm(frozenset(wards), begin, begin + 1200, begin + 3600, peak)
