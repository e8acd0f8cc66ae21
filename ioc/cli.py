"""The `ioc` command line: one entry point, one subcommand per job.

This is the only module that knows every part of the product; each part keeps its own
click commands and knows nothing of the others' (see docs/architecture.md).
"""

from __future__ import annotations

import sys

import click

from ioc.core.errors import IocError
from ioc.core.logging import cli_level, setup_logging

__all__ = ["cli", "main"]


_NAMES = ("alerts", "api", "assets", "backtest", "bench", "bridge", "dashboards", "devices",
          "replay", "services", "sim", "up", "worker")


def _command(name: str) -> click.Command | None:
    """The command `name`, importing its part only now: `ioc --help` stays fast and a
    command never pays for Faust, FastAPI or the simulator it does not use."""
    match name:
        case "services":
            from ioc.devstack.cli import services
            return services
        case "assets":
            from ioc.devstack.assets_cli import assets
            return assets
        case "up":
            from ioc.devstack.up import up
            return up
        case "devices":
            from ioc.devstack.devices_cli import devices
            return devices
        case "sim":
            from ioc.sensors_sim.cli import sim
            return sim
        case "replay":
            from ioc.sensors_sim.cli import replay
            return replay
        case "bridge":
            from ioc.ingest.cli import bridge
            return bridge
        case "worker":
            from ioc.processors.cli import worker
            return worker
        case "backtest":
            from ioc.processors.cli import backtest
            return backtest
        case "alerts":
            from ioc.processors.cli import alerts
            return alerts
        case "api":
            from ioc.api.cli import api
            return api
        case "dashboards":
            from ioc.dashboards.cli import dashboards
            return dashboards
        case "bench":
            from ioc.bench.cli import bench
            return bench
    return None


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(_NAMES)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return _command(cmd_name)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
def cli(verbose: int) -> None:
    """Đồng Xoài IOC event pipeline: MQTT → Kafka → stream processors → InfluxDB / API."""
    # long-running commands (bridge, worker, api) re-configure from IOC_LOG_LEVEL
    setup_logging(cli_level(verbose))


def main() -> None:
    """Console-script entry point: runs the CLI and turns project errors into exit code 1."""
    try:
        cli(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except IocError as exc:
        click.secho(f"error: {exc}", fg="red", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
