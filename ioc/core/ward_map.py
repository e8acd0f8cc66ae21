"""The wards' approximate boundaries (GeoJSON kept in the package) and which ward holds a point."""

from __future__ import annotations

import itertools
import json
from functools import cache
from pathlib import Path
from typing import Any

from ioc.core.errors import ConfigError

__all__ = ["WARD_MAP_FILE", "load_ward_map", "ward_at"]

WARD_MAP_FILE = Path(__file__).parent / "geo" / "wards.geojson"


@cache
def load_ward_map(path: Path = WARD_MAP_FILE) -> dict[str, Any]:
    """The ward polygons as a GeoJSON FeatureCollection (properties: slug, name)."""
    try:
        doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the ward map {path}: {exc}") from exc
    if doc.get("type") != "FeatureCollection":
        raise ConfigError(f"ward map {path} is not a GeoJSON FeatureCollection")
    return doc


def _inside(lon: float, lat: float, ring: list[list[float]]) -> bool:
    # ray casting: count the edges a ray eastwards from the point crosses
    inside = False
    for (x1, y1), (x2, y2) in itertools.pairwise(ring):
        if (y1 > lat) != (y2 > lat) and lon < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def ward_at(lat: float, lon: float, doc: dict[str, Any] | None = None) -> str | None:
    """The slug of the ward whose polygon contains the point, or None outside the city."""
    for feature in (doc or load_ward_map())["features"]:
        if _inside(lon, lat, feature["geometry"]["coordinates"][0]):
            return str(feature["properties"]["slug"])
    return None
