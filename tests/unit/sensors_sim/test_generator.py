"""Every scenario's valid messages pass the contract; every injected fault gets its reason."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import orjson
import pytest

from ioc.core.contract import TelemetryRejected, parse_telemetry
from ioc.core.registry import Device, Registry
from ioc.sensors_sim.faults import FaultKind
from ioc.sensors_sim.generator import generate, generate_annotated
from ioc.sensors_sim.scenarios import SCENARIOS, get_scenario

START = datetime(2025, 6, 15, 5, 0, tzinfo=UTC)  # 12:00 in Đồng Xoài
SHORT = {"normal-day": 7200.0, "lighting-fault": 7200.0}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_messages_follow_the_contract_or_fail_as_intended(
        name: str, catalog: list[Device], registry: Registry) -> None:
    scenario = SCENARIOS[name]
    duration = SHORT.get(name, scenario.default_duration_s)
    checked = 0
    for item in generate_annotated(catalog, scenario, 5, START, duration):
        message = item.message
        if message.topic.endswith("/status"):
            assert message.payload in (b"online", b"offline")
            continue
        want = item.injection.reason if item.injection else None
        try:
            parse_telemetry(message.topic, message.payload, message.sim_time, registry)
            got = None
        except TelemetryRejected as exc:
            got = exc.reason
        assert got == want, (item.injection, message.payload[:200])
        checked += 1
    assert checked > 1000


def test_sensor_faults_inject_every_kind_and_silence_devices(catalog: list[Device]) -> None:
    scenario = get_scenario("sensor-faults")
    items = list(generate_annotated(catalog, scenario, 5, START, 3600))
    kinds = Counter(i.injection.kind for i in items if i.injection)
    assert set(kinds) == set(FaultKind)
    plan = scenario.plan(catalog, START.timestamp(), 3600, 5)
    for device_id, silent_from in plan.silent:
        times = [i.message.sim_time.timestamp() for i in items
                 if f"/{device_id}/telemetry" in i.message.topic and not i.injection]
        assert times and max(times) < silent_from
    assert any(i.message.payload == b"offline" for i in items)
    assert {e.rule for e in plan.expected} == {"device.silent"}


def test_deterministic_for_a_seed(catalog: list[Device]) -> None:
    scenario = get_scenario("sensor-faults")
    first = list(generate(catalog, scenario, 9, START, 1800))
    assert first == list(generate(catalog, scenario, 9, START, 1800))
    assert first != list(generate(catalog, scenario, 10, START, 1800))


def test_time_ordered_and_seq_increasing_per_device(catalog: list[Device]) -> None:
    last_seq: dict[str, int] = {}
    last_time = START
    for item in generate_annotated(catalog, get_scenario("normal-day"), 1, START, 3600):
        message = item.message
        assert message.sim_time >= last_time
        last_time = message.sim_time
        doc = orjson.loads(message.payload)
        device = message.topic.split("/")[3]
        assert doc["seq"] > last_seq.get(device, -1)
        last_seq[device] = doc["seq"]
    assert len(last_seq) == len(catalog)


def test_payloads_use_the_fiware_key_values(catalog: list[Device]) -> None:
    seen: dict[str, set[str]] = {}
    for message in generate(catalog, get_scenario("normal-day"), 1, START, 900):
        kind = message.topic.split("/")[3][:2]
        seen.setdefault(kind, set()).update(orjson.loads(message.payload))
    assert {"dateObserved", "intensity", "averageVehicleSpeed", "occupancy"} <= seen["tr"]
    assert {"powerState", "powerConsumption", "lifetimePowerConsumption"} <= seen["sl"]
    assert {"waterLevel", "batteryLevel"} <= seen["dr"]
    assert "precipitation" in seen["rg"] and "waterLevel" not in seen["rg"]


def test_every_scenario_declares_its_expectations(catalog: list[Device]) -> None:
    rules = {"flood.level", "flood.rising", "flood.localized", "traffic.congestion",
             "traffic.stopped", "streetlight.day_burning", "streetlight.outage",
             "streetlight.overpower", "streetlight.circuit_outage", "device.silent"}
    for name, scenario in SCENARIOS.items():
        plan = scenario.plan(catalog, START.timestamp(), scenario.default_duration_s, 1)
        assert all(e.rule in rules for e in plan.expected), name
        assert bool(plan.expected) == (name != "normal-day"), name
        assert scenario.description and "\n" not in scenario.description
