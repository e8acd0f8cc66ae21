"""InfluxDB writer: readings per domain measurement and alert changes, retried, all-or-error.

Failures come in three kinds: transient (InfluxDB down, slow, 5xx: StorageError, the caller
holds the batch and tries again later), refused (the token may not write the bucket, or the
bucket is gone: StorageRefused, retrying cannot help) and rejected (InfluxDB cannot take the
points themselves: StorageRejected).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from ioc.core.errors import ConfigError, IocError, ServiceError
from ioc.core.registry import Registry
from ioc.core.schemas import (
    SEVERITY_RANK,
    Alert,
    DrainageReading,
    Reading,
    StreetlightReading,
    TrafficReading,
)

__all__ = ["InfluxWriter", "LineSink", "StorageError", "StorageRefused", "StorageRejected",
           "WriteRefused", "alert_line", "field_set", "line_of", "nanoseconds", "reading_line",
           "series_key"]

log = logging.getLogger(__name__)


class StorageError(ServiceError):
    """A batch could not be stored (for now); the caller must not commit its offsets."""


class StorageRefused(ConfigError):
    """InfluxDB refuses our writes (bad token, no right on the bucket, no such bucket)."""


class StorageRejected(StorageError):
    """InfluxDB refused the points themselves (malformed, field type conflict)."""


class WriteRefused(IocError):
    """An HTTP error answer to a write, raised by a LineSink adapter (status and message)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


_REFUSED = {401: "the token is not valid", 403: "the token may not write this bucket",
            404: "the bucket or organization does not exist"}
_REJECTED = frozenset({400, 422})  # the batch itself: sending it again gives the same answer


class LineSink(Protocol):
    """Where line-protocol text goes (influxdb-client's write API, or a fake in tests)."""

    def __call__(self, lines: list[str]) -> None: ...


def _tag(value: str) -> str:
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=").replace(" ", "\\ ")


def _field(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value}i"
    if isinstance(value, float):
        return repr(value)
    text = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{text}"'


def series_key(measurement: str, tags: dict[str, str | None]) -> str:
    """A line's measurement and tags: sorted, the empty ones left out."""
    return measurement + "".join(f",{k}={_tag(v)}" for k, v in sorted(tags.items()) if v)


def field_set(fields: dict[str, Any]) -> str:
    """A line's fields, in their order, without the None ones."""
    return ",".join(f"{k}={_field(v)}" for k, v in fields.items() if v is not None)


def line_of(measurement: str, tags: dict[str, str | None], fields: dict[str, Any],
            ns: int) -> str:
    """One point's line: tags sorted (empty ones left out), fields without the None ones."""
    return f"{series_key(measurement, tags)} {field_set(fields)} {ns}"


def _fields(r: Reading) -> dict[str, Any]:
    if isinstance(r, TrafficReading):
        return {"intensity": r.intensity, "averageVehicleSpeed": float(r.average_speed_kmh),
                "occupancy": float(r.occupancy)}
    if isinstance(r, StreetlightReading):
        return {"powerState": r.power_state, "powerConsumption": float(r.power_w),
                "on": r.power_state != "off", "lifetimePowerConsumption": r.energy_kwh,
                "voltage": r.voltage_v, "current": r.current_a, "illuminanceLevel": r.illuminance}
    if isinstance(r, DrainageReading):
        return {"waterLevel": r.water_level_m, "precipitation": r.precipitation_mm,
                "flow": r.flow_m3s}
    return {}


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def nanoseconds(dt: datetime) -> int:
    """Epoch nanoseconds of an aware datetime."""
    # integer arithmetic: float seconds would lose the last digits of a ns timestamp
    d = dt - _EPOCH
    return ((d.days * 86_400 + d.seconds) * 1_000_000 + d.microseconds) * 1000


def reading_line(r: Reading, registry: Registry | None = None) -> str:
    """Line protocol of one reading; the device's own observed time is the point's time."""
    device = registry.get(r.device_id) if registry is not None else None
    tags = {"device": r.device_id, "ward": r.ward or (device.ward if device else None),
            "domain": r.domain}
    if device is not None:
        tags.update(road=device.road, circuit=device.circuit, basin=device.basin)
    fields = {**_fields(r), "seq": r.seq, "batteryLevel": r.battery_level}
    return line_of(r.domain, tags, fields, nanoseconds(r.observed_at))


def alert_line(a: Alert) -> str:
    """Line protocol of one alert change (time = its dateModified)."""
    tags = {"rule": a.rule, "ward": a.ward, "severity": a.severity, "status": a.status,
            "subject": a.subject}
    fields = {"id": a.id, "version": a.version, "severityRank": SEVERITY_RANK[a.severity],
              "description": a.description, "category": a.category,
              "dateIssued": a.date_issued.isoformat()}
    return line_of("alerts", tags, fields, nanoseconds(a.date_modified))


class InfluxWriter:
    """Writes whole batches; raises StorageError after bounded retries of a transient error,
    StorageRefused or StorageRejected at once (retrying cannot change those answers)."""

    def __init__(self, sink: LineSink, registry: Registry | None = None, *,
                 attempts: int = 3, backoff_s: float = 0.5, max_backoff_s: float = 10.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._sink, self._registry = sink, registry
        self._attempts, self._backoff, self._max_backoff = attempts, backoff_s, max_backoff_s
        self._sleep = sleep
        self.stats = {"points": 0, "batches": 0, "errors": 0, "retries": 0}

    @property
    def registry(self) -> Registry | None:
        """The registry whose tags (road, circuit, basin) reading points get."""
        return self._registry

    def write_readings(self, batch: Sequence[Reading]) -> int:
        """Store readings; returns points written or raises a StorageError/StorageRefused."""
        return self._write([reading_line(r, self._registry) for r in batch])

    def write_lines(self, lines: Sequence[str]) -> int:
        """Store points already in line protocol (see storage.reading_lines)."""
        return self._write(list(lines))

    def write_alerts(self, batch: Sequence[Alert]) -> int:
        """Store alert changes; returns points written or raises a StorageError/StorageRefused."""
        return self._write([alert_line(a) for a in batch])

    def flush(self) -> None:
        """Nothing is buffered between calls: every write is synchronous."""

    def _write(self, lines: list[str]) -> int:
        if not lines:
            return 0
        delay = self._backoff
        for attempt in range(1, self._attempts + 1):
            try:
                self._sink(lines)
            except WriteRefused as exc:
                self.stats["errors"] += 1
                self._raise_if_final(exc)
                error: Exception = exc
            except Exception as exc:  # any client/transport error: retry, then give up
                self.stats["errors"] += 1
                error = exc
            else:
                break
            if attempt == self._attempts:
                raise StorageError(f"InfluxDB write failed {attempt} times: {error}") from error
            log.warning("InfluxDB write failed (attempt %d): %s", attempt, error)
            self.stats["retries"] += 1
            self._sleep(delay)
            delay = min(delay * 2, self._max_backoff)
        self.stats["points"] += len(lines)
        self.stats["batches"] += 1
        return len(lines)

    def _raise_if_final(self, exc: WriteRefused) -> None:
        """Answers that retrying cannot change are raised at once."""
        if exc.status in _REFUSED:
            raise StorageRefused(f"InfluxDB refused the write ({exc}): "
                                 f"{_REFUSED[exc.status]}; check IOC_INFLUX_WRITE_TOKEN and "
                                 "IOC_INFLUX_BUCKET (`ioc services up` issues the token)") from exc
        if exc.status in _REJECTED:
            raise StorageRejected(f"InfluxDB rejected the batch ({exc})") from exc
