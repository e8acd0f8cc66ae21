"""The dashboard builders: layout, ids, targets and variables."""

from __future__ import annotations

from ioc.dashboards.model import (
    DATASOURCE,
    GRID_WIDTH,
    Dashboard,
    Row,
    Target,
    Variable,
    stat,
    table,
    timeseries,
)


def _board() -> Dashboard:
    q = Target('SELECT mean("x") FROM "m" WHERE $timeFilter GROUP BY time($__interval)')
    return Dashboard("u", "Thử (Test)", "d", (
        Row("Hàng một (Row one)", (timeseries("a", q, width=16), stat("b", q, width=8),
                                   table("c", q, q, width=12))),
        Row("Hàng hai (Row two)", (timeseries("d", q, width=24, height=4),)),
    ), (Variable("ward", "Phường", 'SHOW TAG VALUES WITH KEY = "ward"'),))


def _overlap(a: dict[str, int], b: dict[str, int]) -> bool:
    return (a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"]
            and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"])


def test_panels_get_sequential_ids_and_do_not_overlap() -> None:
    panels = _board().to_json()["panels"]
    assert [p["id"] for p in panels] == list(range(1, len(panels) + 1))
    boxes = [p["gridPos"] for p in panels]
    assert all(b["x"] + b["w"] <= GRID_WIDTH for b in boxes)
    assert not any(_overlap(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:])


def test_a_panel_that_does_not_fit_wraps_to_the_next_line() -> None:
    panels = {p["title"]: p["gridPos"] for p in _board().to_json()["panels"]}
    assert panels["c"]["x"] == 0 and panels["c"]["y"] == panels["a"]["y"] + 8
    assert panels["Hàng hai (Row two)"]["y"] == panels["c"]["y"] + 8


def test_targets_are_raw_influxql_on_the_provisioned_datasource() -> None:
    table_panel = next(p for p in _board().to_json()["panels"] if p["title"] == "c")
    assert [t["refId"] for t in table_panel["targets"]] == ["A", "B"]
    assert all(t["rawQuery"] and t["datasource"] == DATASOURCE for t in table_panel["targets"])
    assert table_panel["datasource"]["uid"] == "ioc-influxdb"


def test_variable_is_a_multi_value_query_with_all() -> None:
    var = _board().to_json()["templating"]["list"][0]
    assert var["type"] == "query" and var["multi"] and var["includeAll"]
    assert var["query"].startswith("SHOW TAG VALUES")
    assert var["datasource"]["uid"] == "ioc-influxdb"


def test_the_sdk_renders_typed_panels_with_the_influxql_dataquery() -> None:
    from ioc.dashboards.model import Threshold, geomap

    q = Target('SELECT last("v") FROM "m" WHERE $timeFilter', alias="$tag_ward",
               result_format="table")
    board = Dashboard("u", "t", "d", (Row("r", (
        stat("s", q, thresholds=(Threshold(None, "green"), Threshold(5, "red"))),
        table("t", q, sort_by="rank"),
        geomap("g", q, lookup_field="device", color_field="v", gazetteer="public/g.json",
               center=(11.5, 106.9), zoom=12),
        timeseries("ts", q, draw="bars", stack=True,
                   overrides=({"matcher": {"id": "byName", "options": "x"},
                               "properties": [{"id": "displayName", "value": "X"}]},)))),))
    panels = {p["title"]: p for p in board.to_json()["panels"]}
    assert panels["s"]["targets"] == [{
        "refId": "A", "datasource": DATASOURCE, "query": q.query, "rawQuery": True,
        "resultFormat": "table", "alias": "$tag_ward"}]
    steps = panels["s"]["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert steps == [{"value": None, "color": "green"}, {"value": 5, "color": "red"}]
    assert panels["s"]["options"]["reduceOptions"]["calcs"] == ["lastNotNull"]
    assert panels["t"]["options"]["sortBy"] == [{"displayName": "rank", "desc": True}]
    layer = panels["g"]["options"]["layers"][0]
    assert layer["location"] == {"mode": "lookup", "lookup": "device",
                                 "gazetteer": "public/g.json"}
    custom = panels["ts"]["fieldConfig"]["defaults"]["custom"]
    assert (custom["drawStyle"], custom["stacking"]["mode"]) == ("bars", "normal")
    assert panels["ts"]["fieldConfig"]["overrides"][0]["properties"] == [
        {"id": "displayName", "value": "X"}]
