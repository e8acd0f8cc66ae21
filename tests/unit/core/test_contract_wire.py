"""`telemetry_json` (the bridge's model-free path) writes exactly what the model path writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import get_args

import orjson
import pytest

from ioc.core.contract import RejectReason, TelemetryRejected, parse_telemetry, telemetry_json
from ioc.core.registry import Registry
from ioc.core.schemas import StreetlightReading, reading_to_json
from ioc.core.smart_models import POWER_STATES, STREETLIGHT_STATUSES
from ioc.sensors_sim.catalog import generate_catalog
from ioc.sensors_sim.generator import generate
from ioc.sensors_sim.scenarios import get_scenario

RECEIVED = datetime(2026, 12, 3, 7, 0, 0, 250_000, tzinfo=UTC)

_EDGE_CASES: list[tuple[str, dict[str, object]]] = [
    # whole numbers where the model holds floats: the model makes them 41.0, so must we
    ("traffic", {"intensity": 3, "averageVehicleSpeed": 41, "occupancy": 0}),
    ("traffic", {"intensity": 3.0, "averageVehicleSpeed": 41.5, "occupancy": 1,
                 "laneDirection": "forward", "seq": 9, "batteryLevel": 1}),
    ("traffic", {"intensity": 0, "averageVehicleSpeed": 0.0, "occupancy": 0.5,
                 "dateObserved": "2026-12-03T06:00:00Z/2026-12-03T06:05:00Z"}),
    ("streetlight", {"powerState": "bootingUp", "powerConsumption": 0,
                     "observationDateTime": "2026-12-03T13:59:59.5+07:00"}),
    ("streetlight", {"powerState": "on", "powerConsumption": 96, "voltage": 229,
                     "current": 0, "illuminanceLevel": 1, "lifetimePowerConsumption": 812,
                     "status": "defectiveLamp", "dateObserved": 1_764_745_200_000}),
    ("drainage", {"waterLevel": 1, "flow": -2}),
    ("drainage", {"height": 0.4, "precipitation": 0}),
    ("drainage", {"precipitation": 3.25, "batteryLevel": 0.07, "seq": 0,
                  "dateObserved": "2026-12-03T06:59:59.000001+00:00", "name": "gauge 7"}),
]


def _both(topic: str, payload: bytes, received: datetime,
          registry: Registry | None = None) -> tuple[object, object]:
    """What each path makes of one message: its output, or its refusal's reason."""
    try:
        reading = parse_telemetry(topic, payload, received, registry)
        model: object = (reading.device_id, reading_to_json(reading))
    except TelemetryRejected as exc:
        model = exc.reason
    try:
        fast: object = telemetry_json(topic, payload, received, registry)
    except TelemetryRejected as exc:
        fast = exc.reason
    return model, fast


@pytest.mark.parametrize(("domain", "fields"), _EDGE_CASES)
def test_edge_cases_write_the_same_bytes(domain: str, fields: dict[str, object]) -> None:
    if not {"dateObserved", "observationDateTime"} & fields.keys():
        fields = {**fields, "dateObserved": "2026-12-03T13:59:00+07:00"}
    model, fast = _both(f"ioc/v1/{domain}/dev-1/telemetry", orjson.dumps(fields), RECEIVED)
    assert isinstance(model, tuple), model  # each case is a valid reading
    assert fast == model


def test_a_received_time_in_another_zone_is_written_as_utc() -> None:
    received = RECEIVED.astimezone(timezone(timedelta(hours=7)))
    payload = b'{"waterLevel": 0.2, "dateObserved": 0}'
    model, fast = _both("ioc/v1/drainage/dev-1/telemetry", payload, received)
    assert fast == model
    assert b'"receivedAt":"2026-12-03T07:00:00.250000+00:00"' in fast[1]  # type: ignore[index]


@pytest.mark.parametrize("payload", [
    b'{"waterLevel": "high"}', b'{"waterLevel": 500}', b"[1]", b'{"flow": 1}',
    b'{"powerState": "dim", "powerConsumption": 1}', b"{", b'{"waterLevel": true}',
])
def test_refusals_have_the_same_reason(payload: bytes) -> None:
    for domain in ("drainage", "streetlight"):
        model, fast = _both(f"ioc/v1/{domain}/dev-1/telemetry", payload, RECEIVED)
        assert isinstance(model, RejectReason), model
        assert fast == model


def test_a_simulated_storm_writes_the_same_bytes_with_wards() -> None:
    catalog = generate_catalog()
    registry = Registry(catalog)
    start = datetime(2025, 6, 2, 6, 0, tzinfo=UTC)
    messages = [m for m in generate(catalog, get_scenario("flash-flood"), 3, start, 600)
                if m.topic.endswith("/telemetry")]
    assert len(messages) > 1_000
    domains, wards = set(), 0
    for m in messages:
        model, fast = _both(m.topic, m.payload, m.sim_time, registry)
        assert fast == model, m.payload
        if isinstance(model, tuple):
            doc = orjson.loads(model[1])
            domains.add(doc["domain"])
            wards += "ward" in doc
    assert domains == {"traffic", "streetlight", "drainage"}
    assert wards > 1_000


def test_the_contract_allows_exactly_the_models_choices() -> None:
    # the model-free path trusts the contract's checks; a choice only the model refused would
    # pass there and fail in parse_telemetry
    fields = StreetlightReading.model_fields
    assert set(get_args(fields["power_state"].annotation)) == set(POWER_STATES)
    lamp = {a for arg in get_args(fields["lamp_status"].annotation) for a in get_args(arg)}
    assert lamp == set(STREETLIGHT_STATUSES)
