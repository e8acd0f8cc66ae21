"""Error answers: always JSON `{"detail": ...}` that can be encoded, never a backend's text."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from ioc.api.influx_reader import QueryError
from ioc.core.errors import ServiceError

__all__ = ["AsciiJSONResponse", "install_error_handlers"]

log = logging.getLogger(__name__)


class AsciiJSONResponse(JSONResponse):
    """JSON with non-ASCII escaped: input echoed back may hold lone surrogates, which UTF-8
    cannot encode (the default response turned a 422 into a 500 over them)."""

    def render(self, content: Any) -> bytes:
        """Escape everything beyond ASCII as \\uXXXX."""
        return json.dumps(content, ensure_ascii=True, separators=(",", ":"),
                          default=str).encode("ascii")


async def _invalid(request: Request, exc: Exception) -> AsciiJSONResponse:
    assert isinstance(exc, RequestValidationError)
    return AsciiJSONResponse({"detail": jsonable_encoder(exc.errors(), custom_encoder={
        Exception: str})}, status_code=422)


async def _http_error(request: Request, exc: Exception) -> AsciiJSONResponse:
    assert isinstance(exc, HTTPException)
    return AsciiJSONResponse({"detail": exc.detail}, status_code=exc.status_code,
                             headers=exc.headers)


async def _service_unavailable(request: Request, exc: Exception) -> AsciiJSONResponse:
    # the backend's own text stays in the log: it may describe internals
    log.warning("%s %s: %s", request.method, request.url.path, exc)
    what = "InfluxDB" if isinstance(exc, QueryError) else "a backing service"
    return AsciiJSONResponse({"detail": f"{what} is unavailable; try again later"},
                             status_code=503, headers={"Retry-After": "5"})


def install_error_handlers(app: FastAPI) -> None:
    """422, HTTP errors and 503 for a ServiceError, each as encodable JSON."""
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(ServiceError, _service_unavailable)
