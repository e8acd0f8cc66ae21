"""The `ioc` command line: one entry point, one subcommand per job."""

from __future__ import annotations

import importlib
import logging
import sys

import click

from ioc.core.errors import IocError

__all__ = ["main"]

# name -> "module:attribute" of a click command; imported only when used, so
# `ioc --help` stays fast and a broken optional part cannot break the others.
_COMMANDS: dict[str, str] = {
    "services": "ioc.devstack.cli:services",
    "sim": "ioc.sensors_sim.cli:sim",
    "replay": "ioc.sensors_sim.cli:replay",
    "bridge": "ioc.ingest.cli:bridge",
    "worker": "ioc.processors.cli:worker",
    "backtest": "ioc.processors.cli:backtest",
    "alerts": "ioc.processors.cli:alerts",
    "api": "ioc.api.cli:api",
    "dashboards": "ioc.dashboards.cli:dashboards",
    "up": "ioc.devstack.up:up",
    "bench": "ioc.bench.cli:bench",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name in _COMMANDS if self._load(name) is not None)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._load(cmd_name)

    @staticmethod
    def _load(name: str) -> click.Command | None:
        target = _COMMANDS.get(name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                return None  # that part of the product is not built yet
            raise
        command = getattr(module, attr, None)
        return command if isinstance(command, click.Command) else None


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
def cli(verbose: int) -> None:
    """Đồng Xoài IOC event pipeline: MQTT → Kafka → stream processors → InfluxDB / API."""
    level = logging.WARNING - 10 * verbose
    logging.basicConfig(level=max(level, logging.DEBUG),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


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
