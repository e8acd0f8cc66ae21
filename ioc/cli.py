"""The `ioc` command line: one entry point, one subcommand per job.

This is the only module that knows every part of the product; each part keeps its own
click commands and knows nothing of the others' (see docs/architecture.md).
"""

from __future__ import annotations

import importlib
import sys

import click

from ioc.core.errors import IocError
from ioc.core.logging import cli_level, setup_logging

__all__ = ["cli", "main"]


# each command's module, imported only when the command is used: `ioc --help` stays fast and
# a command never pays for Faust, FastAPI or the simulator it does not use
_MODULES = {
    "alerts": "ioc.processors.cli", "api": "ioc.api.cli", "backtest": "ioc.processors.cli",
    "bench": "ioc.bench.cli", "bridge": "ioc.ingest.cli", "dashboards": "ioc.dashboards.cli",
    "devices": "ioc.devstack.devices_cli", "replay": "ioc.sensors_sim.cli",
    "services": "ioc.devstack.cli", "sim": "ioc.sensors_sim.cli", "up": "ioc.devstack.up",
    "worker": "ioc.processors.cli",
}
_NAMES = tuple(sorted(_MODULES))


def _command(name: str) -> click.Command | None:
    """The command `name` (the attribute of that name in its module), or None."""
    module = _MODULES.get(name)
    if module is None:
        return None
    command = getattr(importlib.import_module(module), name)
    if not isinstance(command, click.Command):
        raise TypeError(f"{module}.{name} is not a click command")
    return command


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
