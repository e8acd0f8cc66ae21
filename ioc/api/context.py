"""What every route needs, built once per app by `create_app` and kept on `app.state.ctx`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ioc.api.alert_store import AlertView
from ioc.api.auth import TokenClaims, TokenError, TokenSigner
from ioc.api.command_sink import CommandSink
from ioc.api.influx_reader import ReadingsReader
from ioc.api.login_guard import LoginGuard
from ioc.api.topic_rates import TopicRates
from ioc.api.users import User, UserStore
from ioc.core import topics
from ioc.core.registry import Registry
from ioc.core.settings import Settings

__all__ = ["ApiContext", "ApiTopics", "user_from_token"]


@dataclass(frozen=True, slots=True)
class ApiTopics:
    """Kafka topics the API reads and writes (injectable so tests use unique ones)."""

    alerts: str = topics.ALERTS
    commands: str = topics.ALERT_COMMANDS
    telemetry: str = topics.TELEMETRY  # counted, never read, by the pipeline panel
    deadletter: str = topics.DEADLETTER


@dataclass(frozen=True, slots=True, eq=False)
class ApiContext:
    """The app's collaborators: settings, stores, adapters, the token signer, the clock."""

    settings: Settings
    view: AlertView
    commands: CommandSink
    reader: ReadingsReader
    rates: TopicRates
    registry: Registry
    users: UserStore
    signer: TokenSigner
    login: LoginGuard
    topics: ApiTopics
    token_ttl_s: int
    clock: Callable[[], float]


def user_from_token(ctx: ApiContext, token: str) -> tuple[User, TokenClaims]:
    """The token's user as the users file has them now, or TokenError."""
    claims = ctx.signer.verify(token)
    user = ctx.users.get(claims.sub)
    if user is None:
        raise TokenError(f"user {claims.sub!r} no longer exists")
    if claims.iat < user.tokens_valid_from:
        raise TokenError("token revoked")
    return user, claims
