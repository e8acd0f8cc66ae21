"""The shipped dashboards: valid Grafana JSON that names the writer's schema."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from ioc.core.registry import Registry, load_registry
from ioc.dashboards.catalog import all_dashboards, gazetteer
from ioc.dashboards.catalog_city import free_flow_by_road
from ioc.dashboards.model import SCHEMA_VERSION, TIMEZONE
from ioc.dashboards.query_check import iter_queries, render

REGISTRY = Path(__file__).parents[3] / "deploy" / "registry" / "devices.yaml"
VIETNAMESE = re.compile(r"[ăâđêôơưàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ]",
                        re.IGNORECASE)
# fields processors/influx_writer.py writes, per measurement
FIELDS = {"traffic": {"intensity", "averageVehicleSpeed", "occupancy"},
          "streetlight": {"powerConsumption", "on", "lifetimePowerConsumption"},
          "drainage": {"waterLevel", "precipitation", "flow"},
          "alerts": {"severityRank", "id", "description", "version"}}


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_registry(REGISTRY)


@pytest.fixture(scope="module")
def boards(registry: Registry) -> list[dict[str, Any]]:
    return [json.loads(json.dumps(d.to_json())) for d in all_dashboards(registry)]


def test_four_dashboards_with_unique_uids_and_vietnamese_titles(
        boards: list[dict[str, Any]]) -> None:
    assert len({b["uid"] for b in boards}) == len(boards) == 4
    for board in boards:
        assert VIETNAMESE.search(board["title"]), board["title"]
        assert board["schemaVersion"] == SCHEMA_VERSION and board["timezone"] == TIMEZONE


def test_every_panel_has_unique_id_gridpos_and_the_ioc_datasource(
        boards: list[dict[str, Any]]) -> None:
    for board in boards:
        ids = [p["id"] for p in board["panels"]]
        assert len(ids) == len(set(ids))
        for panel in board["panels"]:
            assert set(panel["gridPos"]) == {"h", "w", "x", "y"}
            assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24
            assert VIETNAMESE.search(panel["title"]) and "(" in panel["title"], panel["title"]
            if panel["type"] != "row":
                assert panel["datasource"]["uid"] == "ioc-influxdb"
                assert panel["targets"], panel["title"]
                assert all(t["datasource"]["uid"] == "ioc-influxdb" for t in panel["targets"])


def test_every_query_is_bounded_in_time_and_renders(boards: list[dict[str, Any]]) -> None:
    for board in boards:
        names = {v["name"]: ".*" for v in board["templating"]["list"]}
        for q in iter_queries(board):
            assert q.query.strip(), q
            if q.kind == "panel":
                assert "$timeFilter" in q.query or "now() -" in q.query, q
            else:
                assert q.query.startswith("SHOW TAG VALUES"), q
            assert "$" not in render(q.query, names).replace("$/", ""), q


def test_queries_name_only_measurements_and_fields_the_writer_stores(
        boards: list[dict[str, Any]]) -> None:
    for board in boards:
        for q in iter_queries(board):
            for measurement in re.findall(r'FROM "(\w+)"', q.query):
                assert measurement in FIELDS, q
            for func_field in re.findall(r'\w+\("(\w+)"\)', q.query):
                known = set().union(*FIELDS.values()) | {"w", "v", "q", "mm", "kwh", "rank"}
                assert func_field in known, (func_field, q)


def test_drainage_thresholds_come_from_the_registry(boards: list[dict[str, Any]],
                                                    registry: Registry) -> None:
    level = next(p for p in boards[1]["panels"] if p["title"].startswith("Mực nước theo"))
    overrides = {o["matcher"]["options"]: o["properties"][0]["value"]["steps"]
                 for o in level["fieldConfig"]["overrides"]}
    device = registry.get("dr-tan-phu-b1-01")
    assert device is not None
    assert [s["value"] for s in overrides[device.id]] == [None, device.warn_m, device.critical_m]


def test_speed_vs_free_flow_has_one_target_per_road(boards: list[dict[str, Any]],
                                                    registry: Registry) -> None:
    panel = next(p for p in boards[2]["panels"] if "free-flow" in p["title"])
    roads = free_flow_by_road(registry)
    assert [t["alias"] for t in panel["targets"]] == list(roads)
    assert f"/ {roads['ql14']:g}" in panel["targets"][[*roads].index("ql14")]["query"]


def test_variables_of_each_dashboard(boards: list[dict[str, Any]]) -> None:
    names = [[v["name"] for v in b["templating"]["list"]] for b in boards]
    assert names == [["ward"], ["ward", "basin", "device"], ["road", "ward", "device"],
                     ["ward", "circuit", "device"]]


def test_gazetteer_has_every_device(registry: Registry) -> None:
    places = gazetteer(registry)
    assert len(places) == len(registry)
    assert {"key", "latitude", "longitude", "name"} <= set(places[0])
