"""Liveness and readiness probes (no authentication)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from ioc.api.deps import Ctx
from ioc.api.models import Health, Readiness

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="Liveness")
def healthz() -> Health:
    """The process answers."""
    return Health(status="ok")


@router.get("/readyz", response_model=Readiness, summary="Readiness",
            responses={503: {"model": Readiness}})
def readyz(ctx: Ctx) -> JSONResponse:
    """200 once the alerts topic has been read to its end and InfluxDB answers, else 503."""
    influx = ctx.reader.ping()
    ready = ctx.view.ready and influx
    body = Readiness(status="ready" if ready else "not ready", alerts_loaded=ctx.view.ready,
                     alerts=len(ctx.view), influxdb=influx)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)
