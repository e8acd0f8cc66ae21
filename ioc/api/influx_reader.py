"""InfluxDB reads over InfluxQL (`GET /query`): query building is pure and escapes everything."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any, Protocol

import requests

from ioc.core.errors import ServiceError
from ioc.core.topics import DEVICE_ID_RE, DOMAINS

__all__ = [
    "InfluxReader",
    "QueryError",
    "ReadingsReader",
    "Series",
    "build_readings_query",
    "quote_ident",
    "quote_string",
    "rows_from_result",
    "series_from_result",
]

log = logging.getLogger(__name__)
MAX_LIMIT = 10_000
Series = tuple[dict[str, str], list[dict[str, Any]]]  # (tags, rows) of one InfluxDB series


class QueryError(ServiceError):
    """InfluxDB refused or failed a query."""


class ReadingsReader(Protocol):
    """Reads a device's readings (InfluxDB, or a fake in tests)."""

    def readings(self, measurement: str, device_id: str, since: datetime, until: datetime,
                 limit: int) -> list[dict[str, Any]]: ...

    def series(self, q: str) -> list[Series]: ...

    def ping(self) -> bool: ...

    def close(self) -> None: ...


def quote_ident(name: str) -> str:
    """An InfluxQL double-quoted identifier."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def quote_string(value: str) -> str:
    """An InfluxQL single-quoted string literal."""
    if "\n" in value or "\r" in value:
        raise ValueError("line breaks are not allowed in InfluxQL literals")
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _time_literal(dt: datetime) -> str:
    if dt.tzinfo is None:
        raise ValueError("times must carry a UTC offset")
    return quote_string(dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))


def build_readings_query(measurement: str, device_id: str, since: datetime, until: datetime,
                         limit: int) -> str:
    """`SELECT * FROM <domain> WHERE device = <id> AND time in [since, until]`, newest first.

    Only whitelisted measurements, ids matching the device contract, aware datetimes and
    integer limits get in; each is quoted as well, so no input text reaches the query raw.
    """
    if measurement not in DOMAINS:
        raise ValueError(f"unknown measurement {measurement!r}")
    if not DEVICE_ID_RE.fullmatch(device_id):
        raise ValueError("device id must match [A-Za-z0-9_-]{1,64}")
    if not 1 <= int(limit) <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}")
    return (f"SELECT * FROM {quote_ident(measurement)} "
            f"WHERE {quote_ident('device')} = {quote_string(device_id)} "
            f"AND time >= {_time_literal(since)} AND time <= {_time_literal(until)} "
            f"ORDER BY time DESC LIMIT {int(limit)}")


def rows_from_result(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of the first statement's series as dicts, null values left out."""
    results = body.get("results") or [{}]
    first = results[0]
    if "error" in first:
        raise QueryError(f"InfluxDB: {first['error']}")
    rows: list[dict[str, Any]] = []
    for series in first.get("series", []):
        columns = series.get("columns", [])
        for values in series.get("values", []):
            rows.append({c: v for c, v in zip(columns, values, strict=False) if v is not None})
    return rows


def series_from_result(body: dict[str, Any]) -> list[Series]:
    """The first statement's series with their tags (and measurement as `_measurement`)."""
    first = (body.get("results") or [{}])[0]
    if "error" in first:
        raise QueryError(f"InfluxDB: {first['error']}")
    out: list[Series] = []
    for series in first.get("series", []):
        columns = series.get("columns", [])
        tags = {**(series.get("tags") or {}), "_measurement": series.get("name", "")}
        rows = [{c: v for c, v in zip(columns, values, strict=False) if v is not None}
                for values in series.get("values", [])]
        out.append((tags, rows))
    return out


class InfluxReader:
    """InfluxQL over the v1-compatible `/query` endpoint with a token."""

    def __init__(self, url: str, token: str, database: str, timeout_s: float = 10.0) -> None:
        self._url, self._db, self._timeout = url.rstrip("/"), database, timeout_s
        self._session = requests.Session()
        self._session.headers["Authorization"] = f"Token {token}"

    def _get(self, q: str, **params: str) -> dict[str, Any]:
        try:
            resp = self._session.get(f"{self._url}/query",
                                     params={"db": self._db, "q": q, **params},
                                     timeout=self._timeout)
        except requests.RequestException as exc:
            raise QueryError(f"InfluxDB at {self._url} is not reachable: {exc}") from exc
        if resp.status_code >= 400:
            raise QueryError(f"InfluxDB answered {resp.status_code}: {resp.text[:200]}")
        body: dict[str, Any] = resp.json()
        return body

    def query(self, q: str) -> list[dict[str, Any]]:
        """Run one statement; rows as dicts."""
        return rows_from_result(self._get(q))

    def series(self, q: str) -> list[Series]:
        """Run one statement; each series' tags and rows, times in epoch milliseconds."""
        return series_from_result(self._get(q, epoch="ms"))

    def readings(self, measurement: str, device_id: str, since: datetime, until: datetime,
                 limit: int) -> list[dict[str, Any]]:
        """A device's readings in [since, until], newest first."""
        return self.query(build_readings_query(measurement, device_id, since, until, limit))

    def ping(self) -> bool:
        """Whether InfluxDB answers `/ping`."""
        try:
            return self._session.get(f"{self._url}/ping", timeout=2).status_code == 204
        except requests.RequestException:
            return False

    def close(self) -> None:
        """Close the HTTP session."""
        self._session.close()
