"""Scenarios as data: what happens in the simulated city and which alerts it should raise."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ioc.core.errors import ConfigError
from ioc.core.registry import Device
from ioc.sensors_sim.expectations import ExpectedAlert, expected_flood_alerts
from ioc.sensors_sim.faults import FAULT_REASONS, FaultKind, Injection
from ioc.sensors_sim.physics import Storm
from ioc.sensors_sim.storms import FLOODED_WARDS, flash_flood_storm, shower

__all__ = [
    "SCENARIOS",
    "CircuitFault",
    "Incident",
    "Plan",
    "Scenario",
    "get_scenario",
]


@dataclass(frozen=True, slots=True)
class Incident:
    """Traffic stopped at these counters between two epoch seconds."""

    device_ids: frozenset[str]
    start_s: float
    end_s: float


@dataclass(frozen=True, slots=True)
class CircuitFault:
    """A streetlight circuit that goes dark from an epoch second on."""

    circuit: str
    start_s: float


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything a scenario changes in one run, and what it expects detected."""

    storms: tuple[Storm, ...] = ()
    incidents: tuple[Incident, ...] = ()
    dark_circuits: tuple[CircuitFault, ...] = ()
    day_burners: frozenset[str] = frozenset()
    silent: tuple[tuple[str, float], ...] = ()  # (device id, silent from epoch s)
    offline_status: frozenset[str] = frozenset()  # silent devices that also say `offline`
    injections: tuple[Injection, ...] = ()
    expected: tuple[ExpectedAlert, ...] = ()
    flood_wards: tuple[str, ...] = field(default=())


PlanBuilder = Callable[[Sequence[Device], float, float, int], Plan]


@dataclass(frozen=True, slots=True)
class Scenario:
    """A named scenario: one-line description, default duration and its plan builder."""

    name: str
    description: str
    default_duration_s: float
    build: PlanBuilder

    def plan(self, catalog: Sequence[Device], start_s: float, duration_s: float,
             seed: int) -> Plan:
        """The plan for a run over `catalog` from `start_s` for `duration_s`."""
        return self.build(catalog, start_s, duration_s, seed)


def _normal_day(catalog: Sequence[Device], start_s: float, duration_s: float,
                seed: int) -> Plan:
    wards = sorted({d.ward for d in catalog})
    return Plan(storms=(shower(start_s, duration_s, wards, 6.0),))


def _flash_flood(catalog: Sequence[Device], start_s: float, duration_s: float,
                 seed: int) -> Plan:
    others = sorted({d.ward for d in catalog} - set(FLOODED_WARDS))
    return Plan(storms=(flash_flood_storm(start_s), shower(start_s - 0.2 * duration_s,
                                                            duration_s, others, 6.0)),
                expected=expected_flood_alerts(catalog, seed, FLOODED_WARDS),
                flood_wards=FLOODED_WARDS)


def _ql14_incident(catalog: Sequence[Device], start_s: float, duration_s: float,
                   seed: int) -> Plan:
    ql14 = [d for d in catalog if d.domain == "traffic" and d.road == "ql14"]
    middle = len(ql14) // 2 // 2 * 2  # first counter of the middle segment (a direction pair)
    stopped = ql14[middle:middle + 2]
    end = start_s + min(duration_s, 4500.0)
    return Plan(incidents=(Incident(frozenset(d.id for d in stopped), start_s + 900, end),),
                expected=tuple(ExpectedAlert("traffic.stopped", d.id, d.ward) for d in stopped))


def _lighting_fault(catalog: Sequence[Device], start_s: float, duration_s: float,
                    seed: int) -> Plan:
    lamps = [d for d in catalog if d.domain == "streetlight"]
    circuits = sorted({d.circuit for d in lamps if d.circuit})
    dark = next((c for c in circuits if c.startswith("tan-binh-")), circuits[0])
    burner = next(d for d in lamps if d.circuit != dark and d.ward != "tan-binh")
    dark_lamps = [d for d in lamps if d.circuit == dark]
    ward = dark_lamps[0].ward
    expected = [ExpectedAlert("streetlight.circuit_outage", dark, ward),
                ExpectedAlert("streetlight.day_burning", burner.id, burner.ward)]
    expected += [ExpectedAlert("streetlight.outage", d.id, ward, required=False)
                 for d in dark_lamps]
    return Plan(dark_circuits=(CircuitFault(dark, start_s),), day_burners=frozenset({burner.id}),
                expected=tuple(expected))


def _sensor_faults(catalog: Sequence[Device], start_s: float, duration_s: float,
                   seed: int) -> Plan:
    rng = random.Random(f"sensor-faults:{seed}")
    by_domain = {dom: [d for d in catalog if d.domain == dom and not d.id.startswith("rg-")]
                 for dom in ("traffic", "streetlight", "drainage")}
    silent = [rng.choice(devices) for devices in by_domain.values()]
    silent_ids = {d.id for d in silent}
    healthy = [d for d in catalog if d.id not in silent_ids]
    kinds = list(FaultKind)
    count = 3 * len(kinds)
    injections = tuple(
        Injection(start_s + 300 + (duration_s - 600) * i / count, kind, device.id,
                  FAULT_REASONS[kind])
        for i, (kind, device) in enumerate(
            (kinds[i % len(kinds)], rng.choice(healthy)) for i in range(count)))
    return Plan(silent=tuple((d.id, start_s + 600) for d in silent),
                offline_status=frozenset({silent[-1].id}), injections=injections,
                expected=tuple(ExpectedAlert("device.silent", d.id, d.ward) for d in silent))


SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    Scenario("normal-day", "An ordinary day: rush hours, lights at dusk, a light shower.",
             86400.0, _normal_day),
    Scenario("flash-flood", "Cloudburst over Tân Phú and Tân Đồng floods streets locally; "
             "other wards get light rain.", 3 * 3600.0, _flash_flood),
    Scenario("ql14-incident", "A crash stops traffic on one QL14 segment for an hour.",
             2 * 3600.0, _ql14_incident),
    Scenario("lighting-fault", "One Tân Bình circuit goes dark at night; one lamp burns by day.",
             86400.0, _lighting_fault),
    Scenario("sensor-faults", "Silent sensors, malformed/oversize/NaN/mistyped payloads, "
             "duplicates, out-of-order and future timestamps, unknown device.",
             3600.0, _sensor_faults),
)}


def get_scenario(name: str) -> Scenario:
    """The scenario with this name; ConfigError lists the known ones otherwise."""
    try:
        return SCENARIOS[name]
    except KeyError:
        raise ConfigError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}") from None
