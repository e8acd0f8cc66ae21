"""`ioc api`: serve the HTTP API (the default), manage API users, issue tokens."""

from __future__ import annotations

import logging
import os

import click

from ioc.api.auth import MAX_SERVICE_TTL_S, ROLES, TokenSigner
from ioc.api.main import DEFAULT_TOKEN_TTL_S, check_serving_secret, create_app, users_file
from ioc.api.users import UserError, UserStore, ensure_dev_admin
from ioc.core.errors import ConfigError
from ioc.core.logging import setup_logging
from ioc.core.settings import credentials_file, load_settings

__all__ = ["api"]

log = logging.getLogger(__name__)


@click.group(invoke_without_command=True)
@click.pass_context
def api(ctx: click.Context) -> None:
    """HTTP API + operator console (`ioc api` alone = `ioc api serve`)."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(serve)


@api.command()
@click.option("--host", default=None, help="Listen address [IOC_API_HOST].")
@click.option("--port", type=int, default=None, help="Listen port [IOC_API_PORT].")
def serve(host: str | None, port: int | None) -> None:
    """Run the API with uvicorn: REST under /api/v1, docs at /docs, console at /."""
    import uvicorn

    settings = load_settings()
    setup_logging(settings.log_level, settings.log_format)
    host, port = host or settings.api_host, port or settings.api_port
    check_serving_secret(settings.api_secret.get_secret_value())
    users = UserStore(users_file())
    if settings.profile == "dev":
        message = ensure_dev_admin(users, credentials_file())
        if message:
            click.echo(message)
    elif not users.list():
        click.echo("no API users yet: add one with `ioc api user add NAME --role admin`",
                   err=True)
    app = create_app(settings, users=users)
    click.echo(f"API on http://{host}:{port}/  (docs /docs, users in {users.path})")
    # X-Forwarded-For only from proxies named in uvicorn's FORWARDED_ALLOW_IPS: by default
    # uvicorn trusts it from 127.0.0.1, so any local process could pick its client address
    # and dodge the per-address login throttle
    proxies = os.environ.get("FORWARDED_ALLOW_IPS")
    uvicorn.run(app, host=host, port=port, log_level=settings.log_level.lower(),
                proxy_headers=proxies is not None, forwarded_allow_ips=proxies,
                ws_max_size=settings.api_max_body_bytes)


@api.group()
def user() -> None:
    """Manage API users (stored in <state dir>/api-users.json)."""


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), default="viewer", show_default=True)
@click.option("--password-env", metavar="VAR",
              help="Read the password from this environment variable instead of a prompt.")
def user_add(name: str, role: str, password_env: str | None) -> None:
    """Add a user NAME with a role (viewer, operator, admin)."""
    if password_env:
        password = os.environ.get(password_env)
        if not password:
            raise ConfigError(f"environment variable {password_env} is empty or unset")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        UserStore(users_file()).add(name, role, password)
    except UserError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"added {role} {name}")


@user.command("list")
def user_list() -> None:
    """List users and their roles."""
    for u in UserStore(users_file()).list():
        click.echo(f"{u.name:<24} {u.role}")


@user.command("delete")
@click.argument("name")
def user_delete(name: str) -> None:
    """Delete user NAME."""
    try:
        UserStore(users_file()).delete(name)
    except UserError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"deleted {name}")


@api.command()
@click.argument("name")
@click.option("--ttl", "ttl_s", type=click.IntRange(60, MAX_SERVICE_TTL_S),
              default=DEFAULT_TOKEN_TTL_S, show_default=True,
              help=f"Seconds the token stays valid (at most {MAX_SERVICE_TTL_S}, 30 days).")
def token(name: str, ttl_s: int) -> None:
    """Print a bearer token for user NAME (signed with IOC_API_SECRET)."""
    found = UserStore(users_file()).get(name)
    if found is None:
        raise click.ClickException(f"unknown user {name!r}; add it with `ioc api user add`")
    secret = load_settings().api_secret.get_secret_value()
    value, _ = TokenSigner(secret).issue(found.name, found.role, ttl_s)
    click.echo(value)
