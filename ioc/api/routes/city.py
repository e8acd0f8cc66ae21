"""The city's map: approximate ward boundaries (GeoJSON) and the main roads."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from ioc.api.deps import CurrentUser, errors
from ioc.core.city import CENTRE, ROADS
from ioc.core.ward_map import load_ward_map

__all__ = ["CityOut", "RoadOut", "router"]

router = APIRouter(prefix="/city", tags=["city"], responses=errors(401))


class RoadOut(BaseModel):
    """A main road as a polyline of [lat, lon] points."""

    model_config = ConfigDict(frozen=True)

    slug: str
    name: str
    free_flow_kmh: float
    points: list[tuple[float, float]]


class CityOut(BaseModel):
    """What the console's map draws under the devices."""

    model_config = ConfigDict(frozen=True)

    centre: tuple[float, float]
    wards: dict[str, Any]  # GeoJSON FeatureCollection, properties slug and name
    roads: list[RoadOut]


@router.get("", response_model=CityOut, summary="Ward boundaries and main roads")
def city_map(_: CurrentUser) -> CityOut:
    """Approximate ward polygons (GeoJSON, [lon, lat]) and the main roads ([lat, lon])."""
    return CityOut(centre=CENTRE, wards=load_ward_map(),
                   roads=[RoadOut(slug=r.slug, name=r.name, free_flow_kmh=r.free_flow_kmh,
                                  points=list(r.points)) for r in ROADS])
