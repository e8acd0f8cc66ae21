"""`ioc services up|down|status`: the native local Mosquitto, Kafka and InfluxDB."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import click

from ioc.core.admin_settings import admin_credentials_file
from ioc.core.errors import ConfigError
from ioc.core.settings import credentials_file, state_dir
from ioc.devstack import (
    SERVICES,
    ServiceStatus,
    parse_only,
    services_down,
    services_status,
    services_up,
)

__all__ = ["services"]

_ONLY_HELP = f"Comma-separated subset of: {','.join(SERVICES)} (default: all)."


def _table(rows: list[ServiceStatus]) -> str:
    header = f"{'SERVICE':<10} {'VERSION':<10} {'ADDRESS':<28} {'PID':>7}  HEALTH"
    lines = [header]
    for row in rows:
        health = "ok" if row.healthy else f"DOWN ({row.detail})" if row.detail else "DOWN"
        pid = str(row.pid) if row.pid else "-"
        lines.append(f"{row.name:<10} {row.version:<10} {row.address:<28} {pid:>7}  {health}")
    return "\n".join(lines)


@click.group()
def services() -> None:
    """Run the local Mosquitto, Kafka (KRaft) and InfluxDB 2.7 natively on 127.0.0.1.

    Data, logs, pid files and generated credentials live in the state dir
    (IOC_STATE_DIR, default ./.ioc); credentials go to .ioc/credentials.env.
    """


@services.command()
@click.option("--only", default=None, metavar="LIST", help=_ONLY_HELP)
def up(only: str | None) -> None:
    """Start the services (idempotent) and wait until each one really answers.

    First run fetches the Kafka jars, formats Kafka storage, builds influxd (10-30 min,
    cached in ~/.cache/ioc) and runs the InfluxDB setup; later runs keep all data.
    """
    names = parse_only(only)
    started = time.monotonic()

    def progress(name: str, message: str) -> None:
        click.echo(f"{name}: {message}")

    for result in services_up(names, progress):
        click.echo(f"{result.name}: {result.action} ({result.seconds:.1f}s)")
    click.echo(f"all up in {time.monotonic() - started:.1f}s\n")
    click.echo(_table(services_status(names)))
    click.echo(f"\ncredentials: {credentials_file()}, operator secrets: "
               f"{admin_credentials_file()}  (state dir {state_dir()})")


@services.command()
@click.option("--only", default=None, metavar="LIST", help=_ONLY_HELP)
def down(only: str | None) -> None:
    """Stop the services this tool started (pid files); data is kept.

    Processes get SIGTERM, then SIGKILL after a deadline. Services not started by
    `ioc services up` are left alone.
    """
    for name, was_running in services_down(parse_only(only)).items():
        click.echo(f"{name}: {'stopped' if was_running else 'not running'}")


@services.command()
@click.option("--only", default=None, metavar="LIST", help=_ONLY_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list instead of a table.")
def status(only: str | None, as_json: bool) -> None:
    """Show each service's version, address, pid and health; exit 1 if one is down."""
    rows = services_status(parse_only(only))
    if as_json:
        click.echo(json.dumps([row.as_dict() for row in rows], indent=2))
    else:
        click.echo(_table(rows))
    if not all(row.healthy for row in rows):
        raise SystemExit(1)


_ENV_FILE = click.Path(dir_okay=False, path_type=Path)


@services.command("influx-tokens")
@click.option("--write-env", type=_ENV_FILE, required=True,
              help="File for the worker's write-only token (IOC_INFLUX_WRITE_TOKEN=...).")
@click.option("--read-env", type=_ENV_FILE, required=True,
              help="File for the API's read-only token (IOC_INFLUX_READ_TOKEN=...).")
@click.option("--url", envvar="IOC_INFLUX_URL", default="http://127.0.0.1:8086",
              show_default=True, help="InfluxDB URL [IOC_INFLUX_URL].")
@click.option("--org", envvar="IOC_INFLUX_ORG", default="dongxoai", show_default=True,
              help="Organization [IOC_INFLUX_ORG].")
@click.option("--bucket", envvar="IOC_INFLUX_BUCKET", default="ioc", show_default=True,
              help="Bucket [IOC_INFLUX_BUCKET].")
@click.option("--token-env", default="IOC_INFLUX_TOKEN", show_default=True,
              help="Environment variable holding the operator (all-access) token.")
def influx_tokens(write_env: Path, read_env: Path, url: str, org: str, bucket: str,
                  token_env: str) -> None:
    """Issue (or keep) the scoped InfluxDB tokens into two files, one per consumer.

    For an InfluxDB not run by `ioc services up` (docker compose's one-shot): maps the
    bucket for InfluxQL, then writes the worker's and the API's tokens (mode 0600). Point
    each process's IOC_CREDENTIALS at its file.
    """
    from ioc.devstack.token_files import InfluxTarget, issue_token_files

    token = os.environ.get(token_env, "")
    if not token:
        raise ConfigError(f"{token_env} is not set: it must hold the InfluxDB operator token")
    target = InfluxTarget(url.rstrip("/"), org, bucket, token)
    for key, changed in issue_token_files(target, write_env, read_env).items():
        click.echo(f"{key}: {'issued' if changed else 'still valid, kept'}")
