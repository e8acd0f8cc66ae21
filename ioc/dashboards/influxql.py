"""The InfluxQL adapter: statements through InfluxDB's v1-compatible /query endpoint."""

from __future__ import annotations

import logging
from typing import Any

import requests

from ioc.core.errors import ServiceError

__all__ = ["InfluxQLClient", "InfluxQLError"]

log = logging.getLogger(__name__)


class InfluxQLError(ServiceError):
    """InfluxDB was unreachable or rejected a statement."""


class InfluxQLClient:
    """Runs one InfluxQL statement at a time against one database (a bucket's DBRP)."""

    def __init__(self, url: str, token: str, database: str, timeout_s: float = 10.0) -> None:
        self._url, self._database, self._timeout = url.rstrip("/"), database, timeout_s
        self._session = requests.Session()
        self._session.headers["Authorization"] = f"Token {token}"

    def __call__(self, statement: str) -> list[dict[str, Any]]:
        """The statement's series, or InfluxQLError with InfluxDB's message."""
        try:
            response = self._session.get(f"{self._url}/query", timeout=self._timeout,
                                         params={"db": self._database, "q": statement,
                                                 "epoch": "ms"})
        except requests.RequestException as exc:
            raise InfluxQLError(f"InfluxDB at {self._url} is unreachable: {exc}") from exc
        try:
            body = response.json()
        except ValueError as exc:
            raise InfluxQLError(f"HTTP {response.status_code}: {response.text[:200]}") from exc
        if response.status_code != 200 or body.get("error"):
            raise InfluxQLError(f"HTTP {response.status_code}: {body.get('error', body)}")
        results = body.get("results") or [{}]
        if results[0].get("error"):
            raise InfluxQLError(str(results[0]["error"]))
        series: list[dict[str, Any]] = results[0].get("series") or []
        return series

    def close(self) -> None:
        """Release the HTTP connection pool."""
        self._session.close()
