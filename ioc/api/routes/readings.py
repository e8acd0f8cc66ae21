"""A device's readings from InfluxDB (its domain's measurement, tag `device`)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import AwareDatetime, BeforeValidator

from ioc.api.deps import Ctx, CurrentUser, errors, single_values
from ioc.api.influx_reader import MAX_LIMIT
from ioc.api.models import ReadingsPage
from ioc.api.routes.devices import DeviceId, device_or_404

__all__ = ["EARLIEST", "LATEST", "IsoTime", "router", "time_window"]

router = APIRouter(prefix="/devices", tags=["readings"])
DEFAULT_WINDOW = timedelta(hours=24)
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}[T ]")


def _iso_text(value: object) -> object:
    # pydantic would read "1.5e-07" as seconds since 1970; the schema promises ISO 8601 text
    if isinstance(value, str) and not _ISO.match(value):
        raise ValueError("must be an ISO 8601 date-time with an offset, e.g. "
                         "2026-06-01T10:00:00+07:00")
    return value


IsoTime = Annotated[AwareDatetime, BeforeValidator(_iso_text)]
# InfluxDB stores int64 nanoseconds since 1970: 1677-09-21T00:12:43Z .. 2262-04-11T23:47:16Z.
# A day inside each end, so no offset or rounding can step over the edge.
EARLIEST = datetime(1677, 9, 22, tzinfo=UTC)
LATEST = datetime(2262, 4, 10, tzinfo=UTC)


def _unprocessable(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=detail)


def time_window(since: datetime | None, until: datetime | None, now: datetime,
                max_span: timedelta) -> tuple[datetime, datetime]:
    for name, value in (("since", since), ("until", until)):
        if value is not None and not EARLIEST <= value <= LATEST:
            raise _unprocessable(f"`{name}` must be between {EARLIEST:%Y-%m-%d} and "
                                 f"{LATEST:%Y-%m-%d} (what InfluxDB can store)")
    until = until or now
    since = since or max(EARLIEST, until - DEFAULT_WINDOW)
    if since > until:
        raise _unprocessable("`since` must not be after `until`")
    if until - since > max_span:
        raise _unprocessable(f"the time window is longer than the maximum of "
                             f"{max_span.days} days; narrow `since`/`until`")
    return since, until


@router.get("/{device_id}/readings", response_model=ReadingsPage,
            summary="A device's readings, newest first",
            responses=errors(401, 404, 422, 503),
            dependencies=[Depends(single_values("since", "until", "limit"))])
def device_readings(ctx: Ctx, _: CurrentUser, device_id: DeviceId,
                    since: Annotated[IsoTime | None, Query(
                        description="ISO 8601 with offset; default 24 h before `until`")] = None,
                    until: Annotated[IsoTime | None, Query(
                        description="ISO 8601 with offset; default now")] = None,
                    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 500) -> ReadingsPage:
    """Readings in [since, until] from the device's domain measurement.

    Both ends lie within what InfluxDB can store, and the window spans at most
    IOC_API_READINGS_MAX_SPAN_DAYS days (31 by default).
    """
    device = device_or_404(ctx, device_id)
    since, until = time_window(since, until, datetime.fromtimestamp(ctx.clock(), UTC),
                           timedelta(days=ctx.settings.api_readings_max_span_days))
    rows = ctx.reader.readings(device.domain, device.id, since, until, limit)
    return ReadingsPage(device=device.id, measurement=device.domain, since=since, until=until,
                        count=len(rows), data=rows)
