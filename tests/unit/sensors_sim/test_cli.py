"""The click commands without a broker: scenarios, catalog, recording a feed."""

from __future__ import annotations

import itertools
from pathlib import Path

import orjson
from click.testing import CliRunner

from ioc.core.feed import read_feed
from ioc.core.registry import load_registry
from ioc.sensors_sim.cli import sim
from ioc.sensors_sim.scenarios import SCENARIOS


def test_scenarios_lists_names_and_descriptions() -> None:
    result = CliRunner().invoke(sim, ["scenarios"])
    assert result.exit_code == 0
    assert [line.split()[0] for line in result.output.splitlines()] == list(SCENARIOS)


def test_catalog_json_and_write(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(sim, ["catalog", "--json", "--devices", "120", "--seed", "3"])
    assert result.exit_code == 0, result.output
    records = orjson.loads(result.stdout)
    assert len(records) == 120 and {"id", "domain", "ward", "lat", "lon"} <= set(records[0])
    out = tmp_path / "devices.yaml"
    result = runner.invoke(sim, ["catalog", "--out", str(out), "--devices", "120", "--seed", "3"])
    assert result.exit_code == 0
    assert [d.to_record() for d in load_registry(out)] == records


def test_run_records_a_feed(tmp_path: Path) -> None:
    out = tmp_path / "ff.jsonl.gz"
    result = CliRunner().invoke(sim, ["run", "--scenario", "flash-flood", "--devices", "120",
                                      "--start", "2025-06-15T12:00:00+07:00",
                                      "--duration", "20m", "--out", str(out)])
    assert result.exit_code == 0, result.output
    messages = list(read_feed(out))
    assert len(messages) > 1000
    assert all(a.at <= b.at for a, b in itertools.pairwise(messages))
    assert 0 <= messages[0].at < 60 and messages[-1].at < 1200
