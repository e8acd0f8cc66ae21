"""The FastAPI app factory: routes under /api/v1, Kafka and InfluxDB adapters, the console."""

from __future__ import annotations

import ipaddress
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse

from ioc.api.alert_store import AlertFeed, AlertView, KafkaAlertFeed
from ioc.api.auth import TokenSigner
from ioc.api.command_sink import CommandSink, KafkaCommandSink
from ioc.api.context import ApiContext, ApiTopics
from ioc.api.influx_reader import InfluxReader, ReadingsReader
from ioc.api.routes import alerts, auth, devices, health, live, readings
from ioc.api.users import UserStore
from ioc.core.errors import ConfigError, ServiceError
from ioc.core.kafka_auth import kafka_access
from ioc.core.registry import Registry, load_registry
from ioc.core.settings import DEV_PLACEHOLDER, Settings, state_dir

__all__ = ["API_PREFIX", "check_serving_secret", "create_app", "is_loopback", "users_file"]

log = logging.getLogger(__name__)
API_PREFIX = "/api/v1"
DEFAULT_TOKEN_TTL_S = 12 * 3600  # one operator shift
_CONSOLE = Path(__file__).parent / "static" / "console.html"


def users_file() -> Path:
    """Where the API users live: `<state dir>/api-users.json`."""
    return state_dir() / "api-users.json"


def is_loopback(host: str) -> bool:
    """Whether a bind address only accepts connections from this machine."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # any other host name may resolve to a public address


def check_serving_secret(secret: str, host: str) -> None:
    """ConfigError if tokens would be signed with the public placeholder off loopback."""
    # the placeholder is in the source code, so anyone could forge tokens with it
    if secret in ("", DEV_PLACEHOLDER) and not is_loopback(host):
        raise ConfigError(
            f"refusing to serve the API on {host!r} with the placeholder token secret: "
            "anyone could forge tokens. Set IOC_API_SECRET to a long random value "
            "(`ioc services up` generates one into .ioc/credentials.env), or bind to "
            "127.0.0.1")


def _api_router() -> APIRouter:
    router = APIRouter(prefix=API_PREFIX)
    for module in (alerts, devices, readings, auth):
        router.include_router(module.router)
    router.include_router(devices.wards_router)
    router.include_router(auth.users_router)
    router.include_router(live.router)
    router.include_router(health.router, include_in_schema=False)
    return router


def create_app(settings: Settings, *, view: AlertView | None = None,
               feed: AlertFeed | None = None, commands: CommandSink | None = None,
               reader: ReadingsReader | None = None, registry: Registry | None = None,
               users: UserStore | None = None, topics: ApiTopics | None = None,
               bucket: str | None = None, token_ttl_s: int = DEFAULT_TOKEN_TTL_S,
               clock: Callable[[], float] = time.time) -> FastAPI:
    """Build the app; anything not injected is made from `settings` (Kafka, InfluxDB, files).

    With an injected `view` and no `feed`, nothing reads Kafka (unit tests); otherwise a
    KafkaAlertFeed fills the view from `topics.alerts` while the app runs.
    """
    topics = topics or ApiTopics()
    if feed is None and view is None:
        feed = KafkaAlertFeed(kafka_access(settings), topics.alerts)
    ctx = ApiContext(
        settings=settings, view=view or AlertView(),
        commands=commands or KafkaCommandSink(kafka_access(settings), topics.commands),
        reader=reader or InfluxReader(settings.influx_url, settings.influx_token_for("read"),
                                      bucket or settings.influx_bucket),
        registry=registry if registry is not None else load_registry(settings.registry),
        users=users or UserStore(users_file(), clock=clock),
        signer=TokenSigner(settings.api_secret.get_secret_value(), clock=clock),
        topics=topics, token_ttl_s=token_ttl_s, clock=clock)
    return _build(ctx, feed)


def _build(ctx: ApiContext, feed: AlertFeed | None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if feed is not None:
            feed.start(ctx.view)
        try:
            yield
        finally:
            if feed is not None:
                feed.stop()
            ctx.commands.close()
            ctx.reader.close()

    app = FastAPI(title="Đồng Xoài IOC API",
                  description="Alerts, devices and readings of the Đồng Xoài Intelligent "
                              "Operations Center; live alerts over WebSocket.",
                  version="1.0", lifespan=lifespan)
    app.state.ctx = ctx
    app.include_router(_api_router())
    app.include_router(health.router)

    @app.exception_handler(ServiceError)
    async def service_unavailable(request: Request, exc: ServiceError) -> JSONResponse:
        log.warning("%s %s: %s", request.method, request.url.path, exc)
        return JSONResponse({"detail": f"backing service unavailable: {exc}"}, status_code=503)

    @app.get("/", include_in_schema=False)
    def console() -> FileResponse:
        return FileResponse(_CONSOLE, media_type="text/html; charset=utf-8")

    return app
