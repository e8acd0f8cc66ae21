"""The console's live data: every device's state for the map, and the panels' series."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import AwareDatetime, BaseModel, ConfigDict

from ioc.api import panel_queries as q
from ioc.api.deps import Ctx, CurrentUser, errors, single_values
from ioc.api.device_states import DeviceState, device_state, open_alerts_by_subject
from ioc.api.panels import Panel, PanelName, build_panel
from ioc.api.routes.readings import IsoTime, time_window
from ioc.core.topics import DOMAINS

__all__ = ["DeviceStatesPage", "router"]

router = APIRouter(tags=["console"], responses=errors(401, 422, 503))
LATEST_WINDOW = timedelta(days=1)  # a device quiet for longer is shown silent, without values
_TAGS = {"time", "device", "ward", "domain", "road", "circuit", "basin"}


class DeviceStatesPage(BaseModel):
    """Every registered device's state at `at`."""

    model_config = ConfigDict(frozen=True)

    at: AwareDatetime
    count: int
    data: list[DeviceState]


def _latest(ctx: Ctx, now: datetime) -> dict[str, dict[str, Any]]:
    latest: dict[str, dict[str, Any]] = {}
    for domain in DOMAINS:
        for tags, rows in ctx.reader.series(q.latest_query(domain, now - LATEST_WINDOW, now)):
            if rows and "device" in tags:
                latest[tags["device"]] = rows[0]
    return latest


@router.get("/device-states", response_model=DeviceStatesPage,
            summary="Every device's latest values and state (map markers)")
def device_states(ctx: Ctx, _: CurrentUser) -> DeviceStatesPage:
    """normal / warning / critical by the worker's thresholds, silent after three reporting
    intervals without a reading, plus the device's most severe unresolved alert."""
    now = datetime.fromtimestamp(ctx.clock(), UTC)
    latest, alerts = _latest(ctx, now), open_alerts_by_subject(ctx.view.snapshot())
    data = []
    for device in ctx.registry:
        row = latest.get(device.id, {})
        observed = datetime.fromtimestamp(row["time"] / 1000, UTC) if "time" in row else None
        values = {k: v for k, v in row.items() if k not in _TAGS}
        data.append(device_state(device, observed, values, now, alerts.get(device.id)))
    return DeviceStatesPage(at=now, count=len(data), data=data)


@router.get("/panels/{name}", response_model=Panel, summary="One live panel's series",
            dependencies=[Depends(single_values("since", "until"))])
def panel(ctx: Ctx, _: CurrentUser,
          name: Annotated[PanelName, Path(description="drainage, traffic, lighting or pipeline")],
          since: Annotated[IsoTime | None, Query(
              description="ISO 8601 with offset; default 24 h before `until`")] = None,
          until: Annotated[IsoTime | None, Query(
              description="ISO 8601 with offset; default now")] = None) -> Panel:
    """Drain levels per ward against their warning/critical lines, QL14/ĐT741 speed against
    free flow, lamps and power per circuit, or readings/s and dead letters/s."""
    since, until = time_window(since, until, datetime.fromtimestamp(ctx.clock(), UTC),
                               timedelta(days=ctx.settings.api_readings_max_span_days))
    return build_panel(name, ctx.reader, ctx.rates, ctx.registry, ctx.topics, since, until)
