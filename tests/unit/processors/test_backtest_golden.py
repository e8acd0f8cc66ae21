"""Behaviour lock: `ioc sim run` + `ioc backtest --full` of the five scenarios, byte for byte.

The expected outputs in fixtures/backtest/ were recorded before the package layout moved
(issue 8); any change to the contract, the rules, the simulator or the alert JSON shows here.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from ioc.core.registry import dump_registry
from ioc.processors.cli import backtest
from ioc.sensors_sim.catalog import generate_catalog
from ioc.sensors_sim.cli import sim

FIXTURES = Path(__file__).parent / "fixtures" / "backtest"
SCENARIOS = ("normal-day", "flash-flood", "ql14-incident", "lighting-fault", "sensor-faults")
DEVICES, SEED, START = 400, 7, "2026-06-01T05:00:00+07:00"


def _record(scenario: str, tmp_path: Path) -> tuple[Path, Path]:
    registry = tmp_path / "devices.yaml"
    dump_registry(generate_catalog(DEVICES, SEED), registry)
    feed = tmp_path / f"{scenario}.jsonl"
    result = CliRunner(mix_stderr=False).invoke(sim, [
        "run", "--scenario", scenario, "--seed", str(SEED), "--devices", str(DEVICES),
        "--start", START, "--out", str(feed)])
    assert result.exit_code == 0, result.stderr
    return registry, feed


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_backtest_output_unchanged(scenario: str, tmp_path: Path) -> None:
    registry, feed = _record(scenario, tmp_path)
    result = CliRunner(mix_stderr=False).invoke(
        backtest, [str(feed), "--registry", str(registry), "--full"])
    assert result.exit_code == 0, result.stderr
    expected = (FIXTURES / f"{scenario}.jsonl").read_text(encoding="utf-8")
    summaries = orjson.loads((FIXTURES / "summaries.json").read_bytes())
    assert result.stdout == expected
    assert result.stderr.strip().splitlines()[-1] == summaries[scenario]
