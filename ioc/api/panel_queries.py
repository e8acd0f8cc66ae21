"""InfluxQL of the console's map and panels: pure builders over whitelisted names only."""

from __future__ import annotations

from datetime import UTC, datetime

from ioc.api.influx_reader import quote_ident, quote_string
from ioc.core.topics import DOMAINS

__all__ = [
    "PANEL_ROADS",
    "drainage_query",
    "latest_query",
    "lighting_query",
    "step_for",
    "traffic_query",
]

PANEL_ROADS = ("ql14", "dt741")  # the national and provincial roads through the city
_STEPS = (10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400)
MAX_POINTS = 180


def step_for(since: datetime, until: datetime, points: int = MAX_POINTS) -> int:
    """The smallest round bucket (seconds) that keeps a window under `points` buckets."""
    span = (until - since).total_seconds()
    return next((s for s in _STEPS if span / s <= points), _STEPS[-1])


def _t(dt: datetime) -> str:
    return quote_string(dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))


def _range(since: datetime, until: datetime) -> str:
    return f"time >= {_t(since)} AND time <= {_t(until)}"


def latest_query(measurement: str, since: datetime, until: datetime) -> str:
    """Every device's newest point of one domain in [since, until]."""
    if measurement not in DOMAINS:
        raise ValueError(f"unknown measurement {measurement!r}")
    return (f"SELECT * FROM {quote_ident(measurement)} WHERE {_range(since, until)} "
            f"GROUP BY {quote_ident('device')} ORDER BY time DESC LIMIT 1")


def drainage_query(since: datetime, until: datetime, step_s: int) -> str:
    """Each drain's highest water level per bucket."""
    return (f'SELECT max("waterLevel") AS "v" FROM "drainage" WHERE {_range(since, until)} '
            f'GROUP BY time({int(step_s)}s), "device" fill(none)')


def traffic_query(since: datetime, until: datetime, step_s: int) -> str:
    """Mean speed per bucket on QL14 and ĐT741."""
    roads = " OR ".join(f'"road" = {quote_string(r)}' for r in PANEL_ROADS)
    return (f'SELECT mean("averageVehicleSpeed") AS "v" FROM "traffic" '
            f"WHERE {_range(since, until)} AND ({roads}) "
            f'GROUP BY time({int(step_s)}s), "road" fill(none)')


def lighting_query(since: datetime, until: datetime, step_s: int) -> str:
    """Each circuit's power (W) per bucket: the sum of its lamps' mean power."""
    inner = (f'SELECT mean("powerConsumption") AS "p" FROM "streetlight" '
             f'WHERE {_range(since, until)} GROUP BY time({int(step_s)}s), "device", "circuit"')
    return (f'SELECT sum("p") AS "v" FROM ({inner}) WHERE {_range(since, until)} '
            f'GROUP BY time({int(step_s)}s), "circuit" fill(none)')
