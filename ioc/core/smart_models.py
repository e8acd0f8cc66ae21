"""What the FIWARE Smart Data Models define beyond the fields a reading keeps.

Enumerations and date-time attributes are copied from the models' official `schema.json`
(tests/fixtures/sdm/*/schema.json, checked by tests/unit/core/test_smart_models.py). A device
may send any of them; an attribute the model types is refused when its value breaks the model,
every other extra attribute is only counted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from ioc.core.observed_time import parse_date_time
from ioc.core.rejects import RejectReason, TelemetryRejected

__all__ = [
    "CONTROLLING_METHODS",
    "LANE_DIRECTIONS",
    "LOCATION_CATEGORIES",
    "MODELS",
    "POWER_STATES",
    "PRESSURE_TENDENCIES",
    "STREETLIGHT_STATUSES",
    "VEHICLE_TYPES",
    "check_extras",
    "check_text",
]

# the entity `type` each domain's devices may declare
MODELS: Final = {"traffic": ("TrafficFlowObserved",), "streetlight": ("Streetlight",),
                 "drainage": ("WaterObserved", "WeatherObserved")}
LANE_DIRECTIONS: Final = ("forward", "backward")
VEHICLE_TYPES: Final = (
    "agriculturalVehicle", "bicycle", "bus", "minibus", "car", "caravan", "tram", "tanker",
    "carWithCaravan", "carWithTrailer", "lorry", "moped", "motorcycle", "motorcycleWithSideCar",
    "motorscooter", "trailer", "van", "constructionOrMaintenanceVehicle", "trolley",
    "binTrolley", "sweepingMachine", "cleaningTrolley")
POWER_STATES: Final = ("bootingUp", "low", "off", "on")
STREETLIGHT_STATUSES: Final = ("brokenLantern", "columnIssue", "defectiveLamp", "ok")
CONTROLLING_METHODS: Final = ("group", "individual")
LOCATION_CATEGORIES: Final = (
    "bridge", "centralIsland", "facade", "garden", "park", "parking", "pedestrianPath",
    "playground", "road", "sidewalk", "tunnel")
PRESSURE_TENDENCIES: Final = ("raising", "falling", "steady")

_Check = Callable[[Any, str], None]


def check_text(value: Any, key: str, choices: tuple[str, ...]) -> str:
    """`value` as one of the model's enumerated texts, or TelemetryRejected."""
    if type(value) is not str:
        raise TelemetryRejected(RejectReason.WRONG_TYPE, f"{key} must be text")
    if value not in choices:
        raise TelemetryRejected(RejectReason.OUT_OF_RANGE,
                                f"{key}={value[:40]!r} not in {choices}")
    return value


def _enum(choices: tuple[str, ...]) -> _Check:
    def check(value: Any, key: str) -> None:
        check_text(value, key, choices)
    return check


def _date_time(value: Any, key: str) -> None:
    parse_date_time(value, key)


def _tendency(value: Any, key: str) -> None:
    # WeatherObserved: oneOf a qualitative enum or a number
    if type(value) in (int, float):
        return
    check_text(value, key, PRESSURE_TENDENCIES)


_COMMON: dict[str, _Check] = {"dateCreated": _date_time, "dateModified": _date_time}
_PERIOD: dict[str, _Check] = {"dateObservedFrom": _date_time, "dateObservedTo": _date_time}
_CHECKS: Final[dict[str, dict[str, _Check]]] = {
    "traffic": {**_COMMON, **_PERIOD, "type": _enum(MODELS["traffic"]),
                "vehicleType": _enum(VEHICLE_TYPES)},
    "streetlight": {**_COMMON, "type": _enum(MODELS["streetlight"]),
                    "controllingMethod": _enum(CONTROLLING_METHODS),
                    "locationCategory": _enum(LOCATION_CATEGORIES),
                    "dateLastLampChange": _date_time, "dateLastSwitchingOn": _date_time,
                    "dateLastSwitchingOff": _date_time, "dateServiceStarted": _date_time,
                    "observationDateTime": _date_time},
    "drainage": {**_COMMON, **_PERIOD, "type": _enum(MODELS["drainage"]),
                 "pressureTendency": _tendency},
}


def check_extras(doc: dict[str, Any], extra: list[str], domain: str) -> None:
    """Refuse an extra attribute whose value breaks its model (enum, date-time, period order)."""
    checks = _CHECKS[domain]
    for key in extra:
        check = checks.get(key)
        if check is not None and doc[key] is not None:
            check(doc[key], key)
    start, end = doc.get("dateObservedFrom"), doc.get("dateObservedTo")
    if start is not None and end is not None and "dateObservedFrom" in checks and (
            parse_date_time(start, "dateObservedFrom") > parse_date_time(end, "dateObservedTo")):
        raise TelemetryRejected(RejectReason.BAD_TIMESTAMP,
                                "dateObservedFrom is after dateObservedTo")
