"""The wards' approximate polygons: they hold every device of their ward, and only those."""

from __future__ import annotations

from pathlib import Path

import pytest

from ioc.core.city import ROADS
from ioc.core.errors import ConfigError
from ioc.core.registry import WARDS, load_registry
from ioc.core.ward_map import load_ward_map, ward_at
from ioc.sensors_sim.catalog import generate_catalog

REGISTRY = Path(__file__).resolve().parents[3] / "deploy" / "registry" / "devices.yaml"


def test_one_polygon_per_ward_each_holding_its_centre() -> None:
    doc = load_ward_map()
    assert sorted(f["properties"]["slug"] for f in doc["features"]) == sorted(WARDS)
    for ward in WARDS.values():
        assert ward_at(ward.lat, ward.lon) == ward.slug
        ring = next(f for f in doc["features"]
                    if f["properties"]["slug"] == ward.slug)["geometry"]["coordinates"][0]
        assert ring[0] == ring[-1]  # a closed GeoJSON ring


@pytest.mark.parametrize("catalog", ["generated", "registry"])
def test_every_device_lies_in_its_own_ward(catalog: str) -> None:
    devices = generate_catalog() if catalog == "generated" else list(load_registry(REGISTRY))
    wrong = [(d.id, d.ward, ward_at(d.lat, d.lon)) for d in devices
             if ward_at(d.lat, d.lon) != d.ward]
    assert wrong == []


def test_outside_the_city_is_no_ward_and_the_main_roads_cross_it() -> None:
    assert ward_at(10.7769, 106.7009) is None  # Hồ Chí Minh City
    for road in (r for r in ROADS if r.slug in ("ql14", "dt741")):
        assert all(ward_at(lat, lon) is not None for lat, lon in road.points)


def test_a_broken_map_file_is_a_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "wards.geojson"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigError, match="cannot read the ward map"):
        load_ward_map(bad)
    bad.write_text('{"type": "Feature"}', encoding="utf-8")
    with pytest.raises(ConfigError, match="FeatureCollection"):
        load_ward_map(bad)
