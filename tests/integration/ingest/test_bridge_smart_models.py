"""The official Smart Data Models examples through the real bridge: MQTT in, Kafka out."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from ioc.bench.loadgen import BridgeProcess, Collector
from ioc.core.registry import Device
from ioc.core.schemas import reading_from_json
from ioc.core.settings import Settings
from ioc.core.topics import telemetry_topic
from ioc.testing.mqtt_logins import run_gateway
from tests.integration.ingest.conftest import Run

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "sdm"
_PLACE: dict[str, Any] = {"ward": "tan-phu", "lat": 11.53, "lon": 106.89, "interval_s": 60}


class SdmRun(Run):
    """One test's run with a device per model (same names as the conftest's `run`)."""

    def make_devices(self) -> list[Device]:
        """A traffic counter, a streetlight, a water-level and a rain gauge."""
        p = f"sdm{self.id}-"
        self.by_model = {
            "TrafficFlowObserved": Device(id=f"{p}tr", domain="traffic", name="Đếm xe",
                                          road="QL14", direction="N", free_flow_kmh=50,
                                          **_PLACE),
            "Streetlight": Device(id=f"{p}sl", domain="streetlight", name="Đèn",
                                  circuit="C1", rated_w=100, **_PLACE),
            "WaterObserved": Device(id=f"{p}wl", domain="drainage", name="Cống", basin="b1",
                                    depth_m=5, warn_m=3, critical_m=4, **_PLACE),
            "WeatherObserved": Device(id=f"{p}rg", domain="drainage", name="Mưa", basin="b1",
                                      depth_m=5, warn_m=3, critical_m=4, **_PLACE),
        }
        return list(self.by_model.values())


@pytest.fixture
def run(mqtt_service: Settings, kafka_service: Settings, tmp_path: Path) -> Iterator[SdmRun]:
    """This module's run (overrides the traffic-only one of conftest.py)."""
    this = SdmRun(kafka_service, tmp_path)
    topics = [(d.domain, d.id) for d in this.devices]
    with run_gateway(kafka_service, f"gws-{this.id}", "traffic", topics) as login:
        this.gateway = login
        yield this


def _example(model: str) -> bytes:
    return (FIXTURES / model / "example.json").read_bytes()


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


# the reading each official example must become (values read off the examples by hand)
EXPECTED: dict[str, dict[str, Any]] = {
    "TrafficFlowObserved": {"observed_at": _utc("2016-12-07T11:15:00Z"), "intensity": 197,
                            "average_speed_kmh": 52.6, "occupancy": 0.76,
                            "lane_direction": "forward", "ignored": 10},
    "Streetlight": {"observed_at": _utc("2021-01-11T15:51:02+05:30"), "power_state": "off",
                    "power_w": 10.0, "voltage_v": 50.0, "current_a": 250.0,
                    "lamp_status": "ok", "ignored": 19},
    "WaterObserved": {"observed_at": _utc("2020-03-17T08:45:00.209Z"), "water_level_m": 2.4,
                      "flow_m3s": 12.0, "ignored": 14},
    "WeatherObserved": {"observed_at": _utc("2016-11-30T07:00:00Z"), "precipitation_mm": 0.0,
                        "ignored": 17},
}


def test_official_examples_become_readings_and_broken_variants_dead_letters(
        run: SdmRun, start_bridge: Callable[..., BridgeProcess], collector: Collector,
        publish: Callable[..., None], eventually: Callable[..., None]) -> None:
    start_bridge("a", "--no-status")
    messages = [(telemetry_topic(d.domain, d.id), _example(m)) for m, d in run.by_model.items()]
    lamp = orjson.loads(_example("Streetlight"))
    traffic = orjson.loads(_example("TrafficFlowObserved"))
    broken = [  # (model, payload, reason): the same entities with one attribute broken
        ("Streetlight", {**lamp, "powerState": "dimmed"}, "out_of_range"),
        ("Streetlight", {**lamp, "observationDateTime": "2021-01-11 noon"}, "bad_timestamp"),
        ("TrafficFlowObserved", {**traffic, "dateObservedTo": 1481109300000}, "wrong_type"),
    ]
    messages += [(telemetry_topic(run.by_model[m].domain, run.by_model[m].id),
                  orjson.dumps(doc)) for m, doc, _ in broken]
    publish(messages)
    eventually(lambda: collector.count(run.topics.telemetry) >= len(EXPECTED)
               and collector.count(run.topics.deadletter) >= len(broken), timeout=60,
               what="readings and dead letters of the official examples")

    readings = {r.key.decode(): reading_from_json(r.value)
                for r in collector.records[run.topics.telemetry] if r.key}
    assert len(collector.records[run.topics.telemetry]) == len(EXPECTED)
    for model, expected in EXPECTED.items():
        reading = readings[run.by_model[model].id]
        assert reading.ward == "tan-phu"
        assert reading.observed_at.utcoffset() is not None
        assert {k: getattr(reading, k) for k in expected} == expected, model
    letters = sorted((r.key.decode(), r.headers["reason"].decode())
                     for r in collector.records[run.topics.deadletter] if r.key)
    assert letters == sorted((run.by_model[m].id, reason) for m, _, reason in broken)
