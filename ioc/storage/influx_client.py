"""The influxdb-client adapter: a synchronous line-protocol sink for InfluxWriter."""

from __future__ import annotations

from influxdb_client import InfluxDBClient, WritePrecision
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.rest import ApiException

from ioc.core.settings import Settings
from ioc.storage.influx_writer import LineSink, WriteRefused

__all__ = ["InfluxLineSink"]


class InfluxLineSink(LineSink):
    """Writes line protocol to one bucket synchronously; an HTTP error answer is raised as
    WriteRefused (status + InfluxDB's message), transport errors propagate as they are."""

    def __init__(self, url: str, token: str, org: str, bucket: str,
                 timeout_ms: int = 10_000) -> None:
        self._client = InfluxDBClient(url=url, token=token, org=org, timeout=timeout_ms)
        self._api = self._client.write_api(write_options=SYNCHRONOUS)
        self._org, self._bucket = org, bucket

    @classmethod
    def from_settings(cls, settings: Settings) -> InfluxLineSink:
        """A sink for the configured bucket, with the write-only token scoped to it."""
        return cls(settings.influx_url, settings.influx_token_for("write"),
                   settings.influx_org, settings.influx_bucket)

    def __call__(self, lines: list[str]) -> None:
        try:
            # one body: influxdb-client serializes a list element by element, at a cost
            # comparable to building the lines
            self._api.write(bucket=self._bucket, org=self._org, record="\n".join(lines),
                            write_precision=WritePrecision.NS)  # type: ignore[arg-type]
        except ApiException as exc:
            if exc.status is None:  # no answer at all: a transport error
                raise
            message = getattr(exc, "message", None) or exc.reason or ""
            raise WriteRefused(int(exc.status), str(message)[:300]) from exc

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()
