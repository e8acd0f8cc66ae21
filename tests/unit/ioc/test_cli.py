"""The `ioc` entry point: every subcommand is found (lazily) and has its help."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from ioc.cli import cli

COMMANDS = ["alerts", "api", "assets", "backtest", "bench", "bridge", "dashboards", "devices",
            "replay", "services", "sim", "up", "worker"]


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0, result.output
    # a command's line is indented by two spaces; wrapped descriptions by more
    listed = re.findall(r"^  (\S+)", result.output.split("Commands:")[1], re.MULTILINE)
    assert listed == COMMANDS


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help(name: str) -> None:
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert f"Usage: cli {name}" in result.output


def test_unknown_command_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["no-such-command"])
    assert result.exit_code == 2 and "No such command 'no-such-command'" in result.output
