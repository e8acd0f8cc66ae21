"""The simulator's normal-day and flash-flood scenarios, as the pipeline would store them:
readings through the device contract, alerts from the detector, both by the production writer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ioc.core.registry import Registry
from ioc.core.schemas import Alert, Reading
from ioc.dashboards.influxql import InfluxQLClient
from ioc.processors.detector import Detector
from ioc.testing.factories import scenario_feed

__all__ = ["SCENARIO_WINDOWS", "ScenarioBucket", "ScenarioData", "scenario_data"]

# Both inside the check's 6 h window: a normal afternoon, then a cloudburst that ends now.
SCENARIO_WINDOWS = (("normal-day", timedelta(hours=4), timedelta(hours=3)),
                    ("flash-flood", timedelta(minutes=70), timedelta(0)))


@dataclass(frozen=True)
class ScenarioData:
    """The readings and alert changes of the scenarios, in time order."""

    readings: tuple[Reading, ...]
    alerts: tuple[Alert, ...]


@dataclass(frozen=True)
class ScenarioBucket:
    """The bucket (also its InfluxQL database), a read-only client, what it holds, and the
    environment that hands its read-only token to `ioc dashboards check`."""

    name: str
    influxql: InfluxQLClient
    data: ScenarioData
    registry: Registry
    env: dict[str, str]


def scenario_data(registry: Registry, now: datetime | None = None) -> ScenarioData:
    """Each scenario of SCENARIO_WINDOWS over the registry, ending `ago` before now."""
    now = now or datetime.now(UTC).replace(microsecond=0)
    readings: list[Reading] = []
    alerts: list[Alert] = []
    for name, duration, ago in SCENARIO_WINDOWS:
        feed = scenario_feed(name, start=now - ago - duration,
                             duration_s=duration.total_seconds())
        assert [d.id for d in feed.catalog] == [d.id for d in registry], \
            "the scenario's catalog is not the registry the dashboards are built from"
        detector = Detector(registry)
        for reading in feed.readings:
            alerts.extend(detector.process(reading))
        readings.extend(feed.readings)
    return ScenarioData(tuple(readings), tuple(alerts))
