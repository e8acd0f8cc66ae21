"""The dashboards' vocabulary: rows of typed panels with InfluxQL targets on the IOC data
source; `ioc.dashboards.sdk_render` turns them into Grafana JSON with grafana-foundation-sdk."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ioc.core.city import TZ_NAME

__all__ = [
    "DATASOURCE",
    "GRID_WIDTH",
    "SCHEMA_VERSION",
    "TIMEZONE",
    "Dashboard",
    "Panel",
    "Row",
    "Target",
    "Threshold",
    "Variable",
    "geomap",
    "stat",
    "table",
    "timeseries",
]

# Matches deploy/grafana/provisioning/datasources/influxdb.yaml.
DATASOURCE: dict[str, str] = {"type": "influxdb", "uid": "ioc-influxdb"}
SCHEMA_VERSION = 39  # Grafana 11.x
GRID_WIDTH = 24
TIMEZONE = TZ_NAME

PanelKind = Literal["timeseries", "stat", "table", "geomap"]
ResultFormat = Literal["time_series", "table"]


@dataclass(frozen=True, slots=True)
class Target:
    """One raw InfluxQL query; `alias` may use `$tag_<key>` as Grafana's InfluxQL does."""

    query: str
    alias: str = ""
    result_format: ResultFormat = "time_series"


@dataclass(frozen=True, slots=True)
class Threshold:
    """A threshold step: colour from `value` upwards (None = the base step)."""

    value: float | None
    color: str


_BASE = (Threshold(None, "green"),)


@dataclass(frozen=True, slots=True)
class Panel:
    """A visualization: its kind, queries, size and Grafana options."""

    kind: PanelKind
    title: str
    targets: tuple[Target, ...]
    description: str = ""
    unit: str = ""
    width: int = 12
    height: int = 8
    thresholds: tuple[Threshold, ...] = _BASE
    options: Mapping[str, Any] = field(default_factory=dict)
    custom: Mapping[str, Any] = field(default_factory=dict)
    overrides: tuple[Mapping[str, Any], ...] = ()
    transformations: tuple[Mapping[str, Any], ...] = ()
    decimals: int | None = None
    mappings: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class Row:
    """A titled row of panels, laid out left to right and wrapped at 24 columns."""

    title: str
    panels: tuple[Panel, ...]


@dataclass(frozen=True, slots=True)
class Variable:
    """A query template variable fed by an InfluxQL `SHOW TAG VALUES` statement."""

    name: str
    label: str
    query: str
    multi: bool = True
    include_all: bool = True


@dataclass(frozen=True, slots=True)
class Dashboard:
    """A whole dashboard: rows of panels, template variables and time settings."""

    uid: str
    title: str
    description: str
    rows: tuple[Row, ...]
    variables: tuple[Variable, ...] = ()
    tags: tuple[str, ...] = ("ioc", "dong-xoai")
    time_from: str = "now-6h"
    refresh: str = "30s"

    def to_json(self) -> dict[str, Any]:
        """The dashboard model Grafana provisions and its HTTP API accepts."""
        # imported here: the renderer imports this module's types
        from ioc.dashboards.sdk_render import dashboard_json

        return dashboard_json(self)


def _legend(placement: str = "bottom") -> dict[str, Any]:
    return {"displayMode": "list", "placement": placement, "showLegend": True}


def timeseries(title: str, *targets: Target, description: str = "", unit: str = "",
               width: int = 12, height: int = 8, draw: str = "line", stack: bool = False,
               thresholds: Sequence[Threshold] = _BASE, threshold_style: str = "off",
               overrides: Sequence[Mapping[str, Any]] = ()) -> Panel:
    """A time series panel (lines or bars, optionally stacked, optional threshold lines)."""
    custom = {"drawStyle": draw, "lineWidth": 1, "fillOpacity": 60 if draw == "bars" else 10,
              "spanNulls": True, "showPoints": "never",
              "stacking": {"mode": "normal" if stack else "none", "group": "A"},
              "thresholdsStyle": {"mode": threshold_style}}
    return Panel("timeseries", title, targets, description, unit, width, height,
                 tuple(thresholds),
                 {"legend": _legend(), "tooltip": {"mode": "multi", "sort": "desc"}},
                 custom, tuple(overrides))


def stat(title: str, *targets: Target, description: str = "", unit: str = "",
         width: int = 6, height: int = 5, thresholds: Sequence[Threshold] = _BASE,
         reducer: str = "lastNotNull") -> Panel:
    """A big-number panel, one value per series, coloured by thresholds."""
    options = {"reduceOptions": {"calcs": [reducer], "fields": "", "values": False},
               "colorMode": "background", "graphMode": "none", "textMode": "value_and_name",
               "justifyMode": "auto", "orientation": "auto"}
    return Panel("stat", title, targets, description, unit, width, height,
                 tuple(thresholds), options, decimals=0 if not unit else None)


def table(title: str, *targets: Target, description: str = "", width: int = 12,
          height: int = 8, transformations: Sequence[Mapping[str, Any]] = (),
          sort_by: str = "", descending: bool = True,
          mappings: Sequence[Mapping[str, Any]] = ()) -> Panel:
    """A table of rows (targets should use result_format='table')."""
    options: dict[str, Any] = {"showHeader": True, "cellHeight": "sm"}
    if sort_by:
        options["sortBy"] = [{"displayName": sort_by, "desc": descending}]
    return Panel("table", title, targets, description, width=width, height=height,
                 options=options, transformations=tuple(transformations),
                 mappings=tuple(mappings))


def geomap(title: str, target: Target, *, lookup_field: str, color_field: str,
           gazetteer: str, center: tuple[float, float], zoom: float, description: str = "",
           unit: str = "", width: int = 12, height: int = 10,
           thresholds: Sequence[Threshold] = _BASE) -> Panel:
    """A map with one marker layer whose positions come from a gazetteer lookup by key."""
    layer = {"type": "markers", "name": title, "tooltip": True,
             "location": {"mode": "lookup", "lookup": lookup_field, "gazetteer": gazetteer},
             "config": {"showLegend": True,
                        "style": {"size": {"fixed": 7}, "opacity": 0.8,
                                  "color": {"field": color_field,
                                            "fixed": "dark-green"}}}}
    options = {"view": {"id": "coords", "lat": center[0], "lon": center[1], "zoom": zoom},
               "controls": {"showZoom": True, "mouseWheelZoom": True},
               "basemap": {"type": "default", "name": "Basemap"},
               "layers": [layer], "tooltip": {"mode": "details"}}
    return Panel("geomap", title, (target,), description, unit, width, height,
                 tuple(thresholds), options)
