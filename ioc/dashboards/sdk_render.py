"""The dashboards through grafana-foundation-sdk (Grafana Labs, Apache-2.0): typed panels
and a small InfluxQL dataquery of our own (the SDK has none for InfluxDB)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from grafana_foundation_sdk.builders import common as gc
from grafana_foundation_sdk.builders import dashboard as gd
from grafana_foundation_sdk.builders import geomap as bgeo
from grafana_foundation_sdk.builders import geomap as ggeo
from grafana_foundation_sdk.builders import stat as gstat
from grafana_foundation_sdk.builders import table as gtable
from grafana_foundation_sdk.builders import timeseries as gts
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common as mc
from grafana_foundation_sdk.models import dashboard as md
from grafana_foundation_sdk.models import geomap as mgeo

from ioc.dashboards.model import (
    DATASOURCE,
    GRID_WIDTH,
    SCHEMA_VERSION,
    TIMEZONE,
    Dashboard,
    Panel,
    Target,
    Variable,
)

__all__ = ["InfluxQLQuery", "InfluxQLQueryBuilder", "dashboard_json"]


@dataclass
class InfluxQLQuery(cogvariants.Dataquery):
    """A raw InfluxQL target as Grafana's InfluxDB data source stores it."""

    ref_id: str
    query: str
    alias: str = ""
    result_format: str = "time_series"

    def to_json(self) -> dict[str, Any]:
        """Grafana's JSON form of the target."""
        body: dict[str, Any] = {"refId": self.ref_id, "datasource": dict(DATASOURCE),
                                "query": self.query, "rawQuery": True,
                                "resultFormat": self.result_format}
        if self.alias:
            body["alias"] = self.alias
        return body


class InfluxQLQueryBuilder(cogbuilder.Builder[cogvariants.Dataquery]):
    """Builds an InfluxQLQuery from one of the catalog's Targets."""

    def __init__(self, target: Target, ref_id: str) -> None:
        self._query = InfluxQLQuery(ref_id, target.query, target.alias, target.result_format)

    def build(self) -> cogvariants.Dataquery:
        """The query."""
        return self._query


_THRESHOLDS_STYLE = mc.GraphTresholdsStyleMode  # sic: the SDK's spelling


def _datasource() -> md.DataSourceRef:
    return md.DataSourceRef(type_val=DATASOURCE["type"], uid=DATASOURCE["uid"])


def _timeseries(p: Panel) -> gts.Panel:
    c = p.custom
    stack = c.get("stacking", {}).get("mode", "none")
    return (gts.Panel()
            .draw_style(mc.GraphDrawStyle(c.get("drawStyle", "line")))
            .line_width(c.get("lineWidth", 1)).fill_opacity(c.get("fillOpacity", 10))
            .span_nulls(c.get("spanNulls", True))
            .show_points(mc.VisibilityMode(c.get("showPoints", "never")))
            .stacking(gc.StackingConfig().mode(mc.StackingMode(stack)).group("A"))
            .thresholds_style(gc.GraphThresholdsStyleConfig().mode(_THRESHOLDS_STYLE(
                c.get("thresholdsStyle", {}).get("mode", "off"))))
            .legend(gc.VizLegendOptions().display_mode(mc.LegendDisplayMode.LIST)
                    .placement(mc.LegendPlacement.BOTTOM).show_legend(True))
            .tooltip(gc.VizTooltipOptions().mode(mc.TooltipDisplayMode.MULTI)
                     .sort(mc.SortOrder.DESCENDING)))


def _stat(p: Panel) -> gstat.Panel:
    reduce = p.options.get("reduceOptions", {})
    return (gstat.Panel()
            .reduce_options(gc.ReduceDataOptions().calcs(list(reduce.get("calcs", [])))
                            .fields("").values(False))
            .color_mode(mc.BigValueColorMode.BACKGROUND).graph_mode(mc.BigValueGraphMode.NONE)
            .text_mode(mc.BigValueTextMode.VALUE_AND_NAME)
            .justify_mode(mc.BigValueJustifyMode.AUTO).orientation(mc.VizOrientation.AUTO))


def _table(p: Panel) -> gtable.Panel:
    panel = gtable.Panel().show_header(True).cell_height(mc.TableCellHeight.SM)
    sort = p.options.get("sortBy")
    if sort:
        panel.sort_by([gc.TableSortByFieldState().display_name(s["displayName"]).desc(s["desc"])
                       for s in sort])
    return panel


def _geomap(p: Panel) -> ggeo.Panel:
    o, view = p.options, p.options["view"]
    layers: list[cogbuilder.Builder[mc.MapLayerOptions]] = [
        gc.MapLayerOptions().type(layer["type"]).name(layer["name"])
        .config(layer["config"]).tooltip(layer["tooltip"])
        .location(gc.FrameGeometrySource().mode(mc.FrameGeometrySourceMode.LOOKUP)
                  .lookup(layer["location"]["lookup"])
                  .gazetteer(layer["location"]["gazetteer"]))
        for layer in o["layers"]]
    return (ggeo.Panel()
            .view(bgeo.MapViewConfig().id("coords").lat(view["lat"]).lon(view["lon"])
                  .zoom(view["zoom"]))
            .controls(bgeo.ControlsOptions().show_zoom(True).mouse_wheel_zoom(True))
            .basemap(gc.MapLayerOptions().type("default").name("Basemap"))
            .layers(layers).tooltip(bgeo.TooltipOptions().mode(mgeo.TooltipMode.DETAILS)))


_TYPED = {"timeseries": _timeseries, "stat": _stat, "table": _table, "geomap": _geomap}


def _panel(p: Panel, panel_id: int, x: int, y: int) -> cogbuilder.Builder[md.Panel]:
    built: Any = _TYPED[p.kind](p)
    built.id(panel_id).title(p.title).description(p.description).datasource(_datasource())
    built.grid_pos(md.GridPos(h=p.height, w=p.width, x=x, y=y)).unit(p.unit or "none")
    built.thresholds(gd.ThresholdsConfig().mode(md.ThresholdsMode.ABSOLUTE).steps(
        [md.Threshold(value=t.value, color=t.color) for t in p.thresholds]))
    built.targets([InfluxQLQueryBuilder(t, chr(ord("A") + i)) for i, t in enumerate(p.targets)])
    if p.decimals is not None:
        built.decimals(p.decimals)
    if p.mappings:
        built.mappings([md.ValueMap(options=m["options"]) for m in p.mappings])
    for o in p.overrides:
        built.with_override(md.MatcherConfig(id_val=o["matcher"]["id"],
                                             options=o["matcher"]["options"]),
                            [md.DynamicConfigValue(id_val=v["id"], value=v["value"])
                             for v in o["properties"]])
    if p.transformations:
        built.transformations([md.DataTransformerConfig(id_val=t["id"], options=t["options"])
                               for t in p.transformations])
    return built


def _variable(v: Variable) -> gd.QueryVariable:
    return (gd.QueryVariable(v.name).label(v.label).datasource(_datasource()).query(v.query)
            .refresh(md.VariableRefresh.ON_DASHBOARD_LOAD)
            .sort(md.VariableSort.ALPHABETICAL_ASC).multi(v.multi).include_all(v.include_all)
            .current(md.VariableOption(selected=True, text=["All"], value=["$__all"])))


def _layout(board: gd.Dashboard, dashboard: Dashboard) -> None:
    # our own flow layout: a panel that does not fit the 24 columns starts the next line
    # (the SDK's automatic placement lets it overflow)
    count, y = 0, 0
    for row in dashboard.rows:
        count += 1
        board.with_row(gd.Row(row.title).id(count).grid_pos(
            md.GridPos(h=1, w=GRID_WIDTH, x=0, y=y or 0)))
        y += 1
        x, line = 0, 0
        for panel in row.panels:
            if x + panel.width > GRID_WIDTH:
                x, y, line = 0, y + line, 0
            count += 1
            board.with_panel(_panel(panel, count, x, y))
            x, line = x + panel.width, max(line, panel.height)
        y += line


def dashboard_json(dashboard: Dashboard) -> dict[str, Any]:
    """The dashboard model Grafana provisions and its HTTP API accepts."""
    board = (gd.Dashboard(dashboard.title).uid(dashboard.uid)
             .description(dashboard.description).tags(list(dashboard.tags))
             .timezone(TIMEZONE).editable().tooltip(md.DashboardCursorSync.CROSSHAIR)
             .time(dashboard.time_from, "now").refresh(dashboard.refresh)
             .week_start("monday").fiscal_year_start_month(0).live_now(False).version(1)
             .variables([_variable(v) for v in dashboard.variables]))
    _layout(board, dashboard)
    body: dict[str, Any] = json.loads(json.dumps(board.build(), cls=JSONEncoder))
    body["schemaVersion"] = SCHEMA_VERSION  # the version our provisioned Grafana reads
    return body
