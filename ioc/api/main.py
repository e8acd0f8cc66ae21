"""The FastAPI app factory: routes under /api/v1, Kafka and InfluxDB adapters, the console."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from ioc.api.access_log import redact_query_strings
from ioc.api.alert_store import AlertFeed, AlertView, KafkaAlertFeed
from ioc.api.auth import MAX_ACCESS_TTL_S, TokenSigner
from ioc.api.command_sink import CommandSink, KafkaCommandSink
from ioc.api.context import ApiContext, ApiTopics
from ioc.api.error_handlers import install_error_handlers
from ioc.api.influx_reader import InfluxReader, ReadingsReader
from ioc.api.login_guard import LoginGuard
from ioc.api.middleware import BodyLimit, LoginGate, SecurityHeaders, page_csp
from ioc.api.routes import alerts, auth, city, devices, health, live, panels, readings
from ioc.api.static_files import CONSOLE_PAGE, STATIC_DIR, VENDOR_DIR
from ioc.api.topic_rates import KafkaTopicRates, TopicRates
from ioc.api.users import UserStore
from ioc.core.kafka_auth import kafka_access
from ioc.core.registry import Registry, load_registry
from ioc.core.settings import Settings, state_dir

__all__ = ["API_PREFIX", "DEFAULT_TOKEN_TTL_S", "check_serving_secret", "create_app",
           "users_file"]

log = logging.getLogger(__name__)
API_PREFIX = "/api/v1"
DEFAULT_TOKEN_TTL_S = MAX_ACCESS_TTL_S  # one operator shift


def users_file() -> Path:
    """Where the API users live: `<state dir>/api-users.json`."""
    return state_dir() / "api-users.json"


def check_serving_secret(secret: str) -> None:
    """ConfigError if tokens would be signed with the placeholder (or a short) secret.

    Refused on every address and in every profile: a loopback-only API is still reachable by
    every local process (and by a browser tab through DNS rebinding).
    """
    TokenSigner(secret)


def _api_router() -> APIRouter:
    router = APIRouter(prefix=API_PREFIX)
    for module in (alerts, devices, readings, auth, city, panels):
        router.include_router(module.router)
    router.include_router(devices.wards_router)
    router.include_router(auth.users_router)
    router.include_router(live.router)
    router.include_router(health.router, include_in_schema=False)
    return router


def create_app(settings: Settings, *, view: AlertView | None = None,
               feed: AlertFeed | None = None, commands: CommandSink | None = None,
               reader: ReadingsReader | None = None, rates: TopicRates | None = None,
               registry: Registry | None = None,
               users: UserStore | None = None, topics: ApiTopics | None = None,
               bucket: str | None = None, token_ttl_s: int | None = None,
               clock: Callable[[], float] = time.time) -> FastAPI:
    """Build the app; anything not injected is made from `settings` (Kafka, InfluxDB, files).

    With an injected `view` and no `feed`, nothing reads Kafka (unit tests); otherwise a
    KafkaAlertFeed fills the view from `topics.alerts` while the app runs.
    """
    # first: a placeholder secret stops here, before any connection is made
    signer = TokenSigner(settings.api_secret.get_secret_value(), clock=clock)
    topics = topics or ApiTopics()
    if feed is None and view is None:
        feed = KafkaAlertFeed(kafka_access(settings), topics.alerts)
    ctx = ApiContext(
        settings=settings, view=view or AlertView(),
        commands=commands or KafkaCommandSink(kafka_access(settings), topics.commands),
        reader=reader or InfluxReader(settings.influx_url, settings.influx_token_for("read"),
                                      bucket or settings.influx_bucket),
        rates=rates or KafkaTopicRates(lambda: kafka_access(settings)),
        registry=registry if registry is not None else load_registry(settings.registry),
        users=users or UserStore(users_file(), clock=clock),
        signer=signer,
        login=LoginGuard(per_user_address=settings.api_login_failures_per_user_address,
                         per_address=settings.api_login_failures_per_address,
                         per_user=settings.api_login_failures_per_user,
                         window_s=settings.api_login_window_s,
                         workers=settings.api_login_hash_workers),
        topics=topics, token_ttl_s=token_ttl_s or settings.api_token_ttl_s, clock=clock)
    return _build(ctx, feed)


def _build(ctx: ApiContext, feed: AlertFeed | None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        redact_query_strings()  # after the server configured its loggers
        if feed is not None:
            feed.start(ctx.view)
        try:
            yield
        finally:
            if feed is not None:
                feed.stop()
            ctx.commands.close()
            ctx.reader.close()
            ctx.rates.close()
            ctx.login.close()

    app = FastAPI(title="Đồng Xoài IOC API",
                  description="Alerts, devices and readings of the Đồng Xoài Intelligent "
                              "Operations Center; live alerts over WebSocket.",
                  version="1.0", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.ctx = ctx
    app.include_router(_api_router())
    app.include_router(health.router)
    app.add_middleware(LoginGate, guard=ctx.login, path=f"{API_PREFIX}/auth/token")
    app.add_middleware(BodyLimit, max_bytes=ctx.settings.api_max_body_bytes)
    app.add_middleware(SecurityHeaders)  # outermost: every early answer gets headers too

    install_error_handlers(app)
    _pages(app)
    return app


def _pages(app: FastAPI) -> None:
    console = CONSOLE_PAGE.read_text(encoding="utf-8")
    if not (VENDOR_DIR / "leaflet" / "leaflet.js").exists():
        log.warning("the console's map library is missing: run `ioc assets` (make does)")
    # the console's scripts, styles and map library are files of the package: 'self' only
    console_csp = page_csp(console, script_src=["'self'"], style_src=["'self'"])
    docs = bytes(get_swagger_ui_html(openapi_url=app.openapi_url or "/openapi.json",
                                     title=f"{app.title} – docs").body).decode("utf-8")
    cdn = "https://cdn.jsdelivr.net"
    # Swagger UI sets inline styles from its bundle: only this page allows them
    docs_csp = page_csp(docs, script_src=[cdn], style_src=[cdn, "'unsafe-inline'"],
                        img_src=["'self'", "data:", "https://fastapi.tiangolo.com"])

    @app.get("/", include_in_schema=False)
    def console_page() -> HTMLResponse:
        return HTMLResponse(console, headers={"Content-Security-Policy": console_csp})

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/docs", include_in_schema=False)
    def docs_page() -> HTMLResponse:
        return HTMLResponse(docs, headers={"Content-Security-Policy": docs_csp})
