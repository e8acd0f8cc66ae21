"""Backtest over the simulator's flash-flood scenario: localized flooding exactly where expected."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson

import ioc.sensors_sim.generator as sim
from ioc.core.registry import Registry
from ioc.processors.backtest import run_backtest


def test_flash_flood_scenario_raises_localized_only_for_flooded_wards() -> None:
    from ioc.sensors_sim.catalog import generate_catalog
    from ioc.sensors_sim.scenarios import get_scenario

    catalog = generate_catalog()
    scenario = get_scenario("flash-flood")
    start = datetime(2025, 6, 2, 6, 0, tzinfo=UTC)
    plan = scenario.plan(catalog, start.timestamp(), scenario.default_duration_s, 7)
    lines = [orjson.dumps({"at": (m.sim_time - start).total_seconds(), "topic": m.topic,
                           "payload": m.payload.decode()})
             for m in sim.generate(catalog, scenario, 7, start, scenario.default_duration_s)]
    result = run_backtest(lines, Registry(catalog))
    localized = {a.ward for a in result.alerts if a.rule == "flood.localized"}
    expected = {e.ward for e in plan.expected if e.rule == "flood.localized"}
    assert expected and localized == expected
    assert sum(result.rejected.values()) == 0 and result.readings == len(lines)
