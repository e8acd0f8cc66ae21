"""Smart Data Models conformance: the official examples are accepted as their models define
them, and the models' enumerations and date-time attributes are checked against the official
schemas (tests/fixtures/sdm/<Model>/, sources in SOURCE.md there)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from ioc.core import smart_models as sm
from ioc.core.contract import RejectReason, TelemetryRejected, parse_telemetry
from ioc.core.schemas import (
    DrainageReading,
    Reading,
    StreetlightReading,
    TrafficReading,
    reading_from_json,
    reading_to_json,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "sdm"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
DOMAIN = {"TrafficFlowObserved": "traffic", "Streetlight": "streetlight",
          "WaterObserved": "drainage", "WeatherObserved": "drainage"}
MODELS = tuple(DOMAIN)


def example(model: str) -> dict[str, Any]:
    """The model's official key-values example."""
    doc: dict[str, Any] = orjson.loads((FIXTURES / model / "example.json").read_bytes())
    return doc


def schema_properties(model: str) -> dict[str, dict[str, Any]]:
    """The properties the model's official schema.json declares itself (not via $ref)."""
    schema = orjson.loads((FIXTURES / model / "schema.json").read_bytes())
    props: dict[str, dict[str, Any]] = {}
    for part in schema.get("allOf", []):
        props.update(part.get("properties", {}))
    return props


def parse(model: str, doc: dict[str, Any]) -> Reading:
    topic = f"ioc/v1/{DOMAIN[model]}/dev-1/telemetry"
    return parse_telemetry(topic, orjson.dumps(doc), NOW)


def reason_of(model: str, doc: dict[str, Any]) -> TelemetryRejected:
    with pytest.raises(TelemetryRejected) as info:
        parse(model, doc)
    return info.value


@pytest.mark.parametrize("model", MODELS)
def test_fixtures_are_the_official_files_recorded_in_source_md(model: str) -> None:
    source = (FIXTURES / model / "SOURCE.md").read_text()
    for name in ("example.json", "schema.json"):
        digest = hashlib.sha256((FIXTURES / model / name).read_bytes()).hexdigest()
        assert f"| `{name}` |" in source and f"`{digest}`" in source, f"{model}/{name} changed"


# What each official example must become, worked out by hand from the example's own values.
EXPECTED: dict[str, dict[str, Any]] = {
    "TrafficFlowObserved": {
        "domain": "traffic", "intensity": 197, "averageSpeedKmh": 52.6, "occupancy": 0.76,
        "laneDirection": "forward", "observedAt": "2016-12-07T11:15:00Z", "ignored": 10},
    "Streetlight": {
        "domain": "streetlight", "powerState": "off", "powerW": 10.0, "voltageV": 50.0,
        "currentA": 250.0, "lampStatus": "ok", "observedAt": "2021-01-11T10:21:02Z",
        "ignored": 19},
    "WaterObserved": {
        "domain": "drainage", "waterLevelM": 2.4, "flowM3S": 12.0,
        "observedAt": "2020-03-17T08:45:00.209000Z", "ignored": 14},
    "WeatherObserved": {
        "domain": "drainage", "precipitationMm": 0.0, "observedAt": "2016-11-30T07:00:00Z",
        "ignored": 17},
}


@pytest.mark.parametrize("model", MODELS)
def test_official_example_is_accepted_with_the_exact_reading(model: str) -> None:
    reading = parse(model, example(model))
    got = orjson.loads(reading_to_json(reading))
    for key in ("deviceId", "receivedAt", "ward"):
        got.pop(key, None)
    observed = datetime.fromisoformat(EXPECTED[model]["observedAt"])
    assert reading.observed_at == observed and reading.observed_at.tzinfo is not None
    assert {**got, "observedAt": EXPECTED[model]["observedAt"]} == EXPECTED[model]
    assert reading_from_json(reading_to_json(reading)) == reading


@pytest.mark.parametrize("model", MODELS)
def test_extra_properties_and_nested_objects_are_counted_not_refused(model: str) -> None:
    doc = example(model)
    doc["address"] = {"streetAddress": "Quốc lộ 14", "addressLocality": "Đồng Xoài",
                      "addressCountry": "VN", "district": {"name": "Tân Phú"}}
    doc["refDevice"] = ["urn:ngsi-ld:Device:a", "urn:ngsi-ld:Device:b"]
    doc["madeUpByTheVendor"] = {"deep": [{"deeper": [1, 2, 3]}]}
    reading = parse(model, doc)
    added = 1 + ("address" not in example(model)) + ("refDevice" not in example(model))
    assert reading.ignored == EXPECTED[model]["ignored"] + added


ENUMS = [  # (model, attribute, the contract's list)
    ("TrafficFlowObserved", "laneDirection", sm.LANE_DIRECTIONS),
    ("TrafficFlowObserved", "vehicleType", sm.VEHICLE_TYPES),
    ("TrafficFlowObserved", "type", sm.MODELS["traffic"]),
    ("Streetlight", "powerState", sm.POWER_STATES),
    ("Streetlight", "status", sm.STREETLIGHT_STATUSES),
    ("Streetlight", "controllingMethod", sm.CONTROLLING_METHODS),
    ("Streetlight", "locationCategory", sm.LOCATION_CATEGORIES),
    ("Streetlight", "type", sm.MODELS["streetlight"]),
    ("WaterObserved", "type", ("WaterObserved",)),
    ("WeatherObserved", "type", ("WeatherObserved",)),
    ("WeatherObserved", "pressureTendency", sm.PRESSURE_TENDENCIES),
]


def _schema_enum(model: str, attribute: str) -> list[str]:
    prop = schema_properties(model)[attribute]
    for choice in prop.get("oneOf", [prop]):
        if "enum" in choice:
            return list(choice["enum"])
    raise AssertionError(f"{model}.{attribute} has no enum in the schema")


@pytest.mark.parametrize(("model", "attribute", "ours"), ENUMS)
def test_contract_enums_are_the_official_schema_enums(
        model: str, attribute: str, ours: tuple[str, ...]) -> None:
    official = _schema_enum(model, attribute)
    if attribute == "type":
        assert set(official) <= set(sm.MODELS[DOMAIN[model]])
    else:
        assert sorted(ours) == sorted(official)


def _enum_values() -> Iterator[tuple[str, str, str]]:
    for model, attribute, _ in ENUMS:
        for value in _schema_enum(model, attribute):
            yield model, attribute, value


@pytest.mark.parametrize(("model", "attribute", "value"), list(_enum_values()))
def test_every_enum_value_of_the_schema_is_accepted(model: str, attribute: str,
                                                    value: str) -> None:
    reading = parse(model, {**example(model), attribute: value})
    if isinstance(reading, StreetlightReading) and attribute == "powerState":
        assert reading.power_state == value
    if isinstance(reading, StreetlightReading) and attribute == "status":
        assert reading.lamp_status == value


@pytest.mark.parametrize(("model", "attribute"), [(m, a) for m, a, _ in ENUMS])
def test_a_value_outside_the_enum_is_dead_lettered(model: str, attribute: str) -> None:
    refused = reason_of(model, {**example(model), attribute: "northbound"})
    assert refused.reason == RejectReason.OUT_OF_RANGE
    assert attribute in refused.detail and "northbound" in refused.detail
    wrong = reason_of(model, {**example(model), attribute: ["on"]})
    assert wrong.reason == RejectReason.WRONG_TYPE and attribute in wrong.detail


def test_a_traffic_device_cannot_send_another_model() -> None:
    refused = reason_of("TrafficFlowObserved", {**example("TrafficFlowObserved"),
                                                "type": "Streetlight"})
    assert refused.reason == RejectReason.OUT_OF_RANGE and "type" in refused.detail


def _date_time_attributes() -> Iterator[tuple[str, str]]:
    for model in MODELS:
        for name, prop in schema_properties(model).items():
            if prop.get("format") == "date-time" and name != "dateObserved":
                yield model, name


@pytest.mark.parametrize(("model", "attribute"), list(_date_time_attributes()))
def test_every_date_time_attribute_of_the_schema_is_checked(model: str, attribute: str) -> None:
    # the period's other end leaves, so that no form below makes the period run backwards
    other = {"dateObservedFrom": "dateObservedTo", "dateObservedTo": "dateObservedFrom"}
    doc = {k: v for k, v in example(model).items() if k != other.get(attribute)}
    if attribute in other:  # an instant the traffic example's naive interval would need To for
        doc["dateObserved"] = "2016-12-07T11:15:00Z"
    for form in ("2016-07-08T08:02:21Z", "2016-07-08T15:02:21.753+07:00",
                 "2016-07-08t08:02:21z"):
        parse(model, {**doc, attribute: form})
    not_a_date = reason_of(model, {**doc, attribute: "last Tuesday"})
    assert not_a_date.reason == RejectReason.BAD_TIMESTAMP and attribute in not_a_date.detail
    no_offset = reason_of(model, {**doc, attribute: "2016-07-08T08:02:21"})
    assert no_offset.reason == RejectReason.BAD_TIMESTAMP and "offset" in no_offset.detail
    number = reason_of(model, {**doc, attribute: 1_467_964_941_000})
    assert number.reason == RejectReason.WRONG_TYPE and attribute in number.detail


def test_the_schemas_date_time_attributes_were_all_found() -> None:
    # guards the parametrisation above against a schema it could not read
    found = set(_date_time_attributes())
    assert {("TrafficFlowObserved", "dateObservedTo"), ("Streetlight", "dateLastSwitchingOn"),
            ("Streetlight", "observationDateTime"), ("WaterObserved", "dateObservedFrom")} <= found


def test_an_observation_period_that_ends_before_it_starts_is_refused() -> None:
    doc = {**example("WaterObserved"), "dateObservedFrom": "2020-03-17T09:00:00Z",
           "dateObservedTo": "2020-03-17T08:00:00Z"}
    assert reason_of("WaterObserved", doc).reason == RejectReason.BAD_TIMESTAMP


def test_intensity_is_a_number_in_the_model_but_must_count_whole_vehicles() -> None:
    doc = example("TrafficFlowObserved")
    reading = parse("TrafficFlowObserved", {**doc, "intensity": 197.0})
    assert isinstance(reading, TrafficReading) and reading.intensity == 197
    refused = reason_of("TrafficFlowObserved", {**doc, "intensity": 12.5})
    assert refused.reason == RejectReason.WRONG_TYPE and "whole" in refused.detail
    negative = reason_of("TrafficFlowObserved", {**doc, "intensity": -3.0})
    assert negative.reason == RejectReason.OUT_OF_RANGE


def test_water_observed_height_is_the_level_when_water_level_is_absent() -> None:
    doc = {k: v for k, v in example("WaterObserved").items() if k != "waterLevel"}
    only_height = parse("WaterObserved", doc)
    both = parse("WaterObserved", example("WaterObserved"))
    assert isinstance(only_height, DrainageReading) and isinstance(both, DrainageReading)
    assert (only_height.water_level_m, both.water_level_m) == (3.52, 2.4)
    refused = reason_of("WaterObserved", {**doc, "height": -1})
    assert refused.reason == RejectReason.OUT_OF_RANGE and "height" in refused.detail


def test_a_streetlight_without_power_consumption_is_dead_lettered() -> None:
    # the model does not require it, but every lamp rule and the store need the draw
    doc = {k: v for k, v in example("Streetlight").items() if k != "powerConsumption"}
    refused = reason_of("Streetlight", doc)
    assert (refused.reason, refused.detail) == (RejectReason.MISSING_FIELD, "powerConsumption")


def test_a_weather_observation_without_precipitation_is_dead_lettered() -> None:
    doc = {k: v for k, v in example("WeatherObserved").items() if k != "precipitation"}
    refused = reason_of("WeatherObserved", doc)
    assert refused.reason == RejectReason.MISSING_FIELD


def test_pressure_tendency_may_be_a_number_or_its_enum() -> None:
    doc = example("WeatherObserved")
    parse("WeatherObserved", {**doc, "pressureTendency": -1.5})
    parse("WeatherObserved", {**doc, "pressureTendency": "steady"})
    refused = reason_of("WeatherObserved", {**doc, "pressureTendency": True})
    assert refused.reason == RejectReason.WRONG_TYPE
