"""The console's live panels: drains per ward, QL14/ĐT741 speed, lamps per circuit, pipeline."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from statistics import median
from typing import Any, Literal, Protocol

from pydantic import AwareDatetime, BaseModel, ConfigDict

from ioc.api import panel_queries as q
from ioc.api.influx_reader import ReadingsReader
from ioc.api.topic_rates import TopicRates
from ioc.core.registry import WARDS, Registry

__all__ = ["PANELS", "Panel", "PanelName", "PanelSeries", "PipelineTopics", "build_panel"]

PanelName = Literal["drainage", "traffic", "lighting", "pipeline"]
PANELS: tuple[str, ...] = ("drainage", "traffic", "lighting", "pipeline")
_ROAD_NAMES = {"ql14": "QL14", "dt741": "ĐT741"}
PIPELINE_POINTS = 60


class PipelineTopics(Protocol):
    """The Kafka topics the pipeline panel counts."""

    @property
    def telemetry(self) -> str: ...

    @property
    def deadletter(self) -> str: ...


class PanelSeries(BaseModel):
    """One line of a panel: [epoch ms, value] points and its reference lines."""

    model_config = ConfigDict(frozen=True)

    key: str
    label: str
    unit: str
    points: list[tuple[int, float]]
    warn: float | None = None
    critical: float | None = None
    reference: float | None = None  # e.g. the road's free-flow speed
    facts: dict[str, Any] = {}


class Panel(BaseModel):
    """A panel's series over [since, until] in `step_s` buckets."""

    model_config = ConfigDict(frozen=True)

    name: PanelName
    since: AwareDatetime
    until: AwareDatetime
    step_s: int
    series: list[PanelSeries]


def _points(rows: list[dict[str, Any]]) -> list[tuple[int, float]]:
    return [(int(r["time"]), float(r["v"])) for r in rows if "v" in r]


def _drainage(reader: ReadingsReader, registry: Registry, since: datetime, until: datetime,
              step: int) -> list[PanelSeries]:
    # per ward, the drain closest to (or furthest over) its critical level in the window,
    # drawn against that drain's own warning and critical lines
    worst: dict[str, tuple[float, PanelSeries]] = {}
    for tags, rows in reader.series(q.drainage_query(since, until, step)):
        device = registry.get(tags.get("device", ""))
        points = _points(rows)
        if device is None or not points or not device.critical_m:
            continue
        fill = max(v for _, v in points) / device.critical_m
        if device.ward not in worst or fill > worst[device.ward][0]:
            worst[device.ward] = (fill, PanelSeries(
                key=device.ward, label=WARDS[device.ward].name, unit="m", points=points,
                warn=device.warn_m, critical=device.critical_m,
                facts={"device": device.id, "deviceName": device.name}))
    return [worst[w][1] for w in WARDS if w in worst]


def _traffic(reader: ReadingsReader, registry: Registry, since: datetime, until: datetime,
             step: int) -> list[PanelSeries]:
    rows = {tags.get("road", ""): r for tags, r in reader.series(q.traffic_query(since, until,
                                                                                step))}
    out = []
    for road in q.PANEL_ROADS:
        free = [d.free_flow_kmh for d in registry if d.road == road and d.free_flow_kmh]
        out.append(PanelSeries(key=road, label=_ROAD_NAMES[road], unit="km/h",
                               points=_points(rows.get(road, [])),
                               reference=median(free) if free else None))
    return out


def _lamps_on(reader: ReadingsReader, since: datetime, until: datetime) -> dict[str, bool]:
    on: dict[str, bool] = {}
    for tags, rows in reader.series(q.latest_query("streetlight", since, until)):
        if rows and "device" in tags:
            on[tags["device"]] = bool(rows[0].get("on"))
    return on


def _lighting(reader: ReadingsReader, registry: Registry, since: datetime, until: datetime,
              step: int) -> list[PanelSeries]:
    # every circuit of the registry: one whose lamps all stay silent still shows, at 0 on
    lamps: dict[str, list[str]] = defaultdict(list)
    for device in registry:
        if device.domain == "streetlight" and device.circuit:
            lamps[device.circuit].append(device.id)
    on = _lamps_on(reader, since, until)
    power = {tags.get("circuit", ""): _points(rows)
             for tags, rows in reader.series(q.lighting_query(since, until, step))}
    out = []
    for circuit in sorted(lamps):
        points = power.get(circuit, [])
        energy = sum(v for _, v in points) * step / 3.6e6  # W × s → kWh
        out.append(PanelSeries(key=circuit, label=circuit, unit="W", points=points,
                               facts={"energyKwh": round(energy, 3),
                                      "lampsOn": sum(on.get(i, False) for i in lamps[circuit]),
                                      "lamps": len(lamps[circuit])}))
    return out


def _pipeline(rates: TopicRates, topics: PipelineTopics, since: datetime, until: datetime,
              step: int) -> list[PanelSeries]:
    # both by the time Kafka received them: what enters the pipeline, and what it refused
    return [PanelSeries(key="readings", label="readings/s", unit="1/s",
                        points=rates.rates(topics.telemetry, since, until, step)),
            PanelSeries(key="deadletters", label="dead letters/s", unit="1/s",
                        points=rates.rates(topics.deadletter, since, until, step))]


def build_panel(name: PanelName, reader: ReadingsReader, rates: TopicRates,
                registry: Registry, topics: PipelineTopics, since: datetime,
                until: datetime) -> Panel:
    """One panel's series over [since, until]."""
    # offsets are read per bucket edge: fewer, wider buckets for the pipeline panel
    step = q.step_for(since, until, PIPELINE_POINTS if name == "pipeline" else q.MAX_POINTS)
    if name == "drainage":
        series = _drainage(reader, registry, since, until, step)
    elif name == "traffic":
        series = _traffic(reader, registry, since, until, step)
    elif name == "lighting":
        series = _lighting(reader, registry, since, until, step)
    else:
        series = _pipeline(rates, topics, since, until, step)
    return Panel(name=name, since=since, until=until, step_s=step, series=series)

