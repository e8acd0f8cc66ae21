"""A device's readings from InfluxDB (its domain's measurement, tag `device`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import AwareDatetime

from ioc.api.deps import Ctx, CurrentUser
from ioc.api.influx_reader import MAX_LIMIT
from ioc.api.models import ReadingsPage
from ioc.api.routes.devices import DeviceId, device_or_404

__all__ = ["router"]

router = APIRouter(prefix="/devices", tags=["readings"])
DEFAULT_WINDOW = timedelta(hours=24)


@router.get("/{device_id}/readings", response_model=ReadingsPage,
            summary="A device's readings, newest first")
def device_readings(ctx: Ctx, _: CurrentUser, device_id: DeviceId,
                    since: Annotated[AwareDatetime | None, Query(
                        description="ISO 8601 with offset; default 24 h before `until`")] = None,
                    until: Annotated[AwareDatetime | None, Query(
                        description="ISO 8601 with offset; default now")] = None,
                    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 500) -> ReadingsPage:
    """Readings in [since, until] from the device's domain measurement."""
    device = device_or_404(ctx, device_id)
    until = until or datetime.fromtimestamp(ctx.clock(), UTC)
    since = since or until - DEFAULT_WINDOW
    if since > until:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            detail="`since` must not be after `until`")
    rows = ctx.reader.readings(device.domain, device.id, since, until, limit)
    return ReadingsPage(device=device.id, measurement=device.domain, since=since, until=until,
                        count=len(rows), data=rows)
