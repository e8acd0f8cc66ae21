"""The rule catalog: every detection rule declared once - its name, Smart Data Models category,
what its subject names, where its state lives and how an alert restored after a restart seeds it.

The lifecycle (categories), the detector (state stores, seeding, suppression) and the worker's
router (owner of an alert) read this instead of naming rules. Adding a rule means writing its
pure module, its entry (and seeder) here, and calling its step where the detector handles the
rule's domain.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any, Generic, Literal, TypeVar

from ioc.core.registry import Device
from ioc.core.schemas import Alert
from ioc.processors.rules.base import ACTIVE
from ioc.processors.rules.flood import LevelState, LocalizedState, RiseState
from ioc.processors.rules.silence import SilentState
from ioc.processors.rules.streetlight import CircuitState, LampState
from ioc.processors.rules.traffic import TrafficState

__all__ = [
    "CIRCUIT",
    "CONGESTION",
    "LAMP",
    "LEVEL",
    "LOCALIZED",
    "RISE",
    "RULES",
    "SILENT",
    "STOPPED",
    "STORES",
    "SUPPRESSORS",
    "Rule",
    "Store",
    "Subject",
    "subject_of",
]

S = TypeVar("S")
Subject = Literal["device", "ward", "circuit"]  # what an alert's subject names


@dataclass(frozen=True, eq=False, slots=True)
class Store(Generic[S]):
    """One kind of rule state, held per subject; `new` is the state of a subject not seen yet.

    Compared by identity: each store is one map in the detector, even when two share a type.
    """

    new: Callable[[], S]


@dataclass(frozen=True, slots=True)
class Rule(Generic[S]):
    """One detection rule as the rest of the pipeline sees it."""

    name: str
    category: str  # Smart Data Models Alert category ...
    sub_category: str  # ... and subCategory
    subject: Subject
    store: Store[S]  # its state per subject (the three lamp rules share one LampState)
    seed: Callable[[S, Alert], S]  # its state behind an alert still open after a restart
    # devices the restored alert reports as feeding the ward/circuit rule (in warning,
    # failing), so that their next normal reading withdraws them from it
    signalling: Callable[[Alert], Iterable[str]] | None = None
    # a rule whose open alert on the same device's group holds back this rule's openings
    # (one circuit alert instead of one per dark lamp)
    suppressed_by: str | None = None


LEVEL = Store(LevelState)
RISE = Store(RiseState)
LOCALIZED = Store(LocalizedState)
CONGESTION = Store(TrafficState)
STOPPED = Store(TrafficState)
LAMP = Store(LampState)
CIRCUIT = Store(CircuitState)
SILENT = Store(SilentState)


# -- seeding: the state behind an alert still open after a restart ----------------------------
def _seed_level(state: LevelState, alert: Alert) -> LevelState:
    # confirmed: a sensor in warning counts for localized flooding at once
    return LevelState(alert.severity, None, 0, True)


def _seed_rising(state: RiseState, alert: Alert) -> RiseState:
    return RiseState((), ACTIVE, alert.severity)  # the rate starts again from new samples


def _seed_localized(state: LocalizedState, alert: Alert) -> LocalizedState:
    at = alert.date_modified.timestamp()
    members = {str(d): (at, alert.severity == "critical") for d in alert.data.get("sensors", ())}
    return LocalizedState(members, ACTIVE, alert.severity, at)


def _seed_traffic(state: TrafficState, alert: Alert) -> TrafficState:
    return TrafficState(ACTIVE)


def _seed_lamp(hold: str) -> Callable[[LampState, Alert], LampState]:
    def seed(state: LampState, alert: Alert) -> LampState:
        return replace(state, **{hold: ACTIVE})  # the lamp's other two rules keep theirs
    return seed


def _failing_lamps(alert: Alert) -> tuple[str, ...]:
    return tuple(str(d) for d in alert.data.get("failingLamps", ()))


def _seed_circuit(state: CircuitState, alert: Alert) -> CircuitState:
    at = alert.date_modified.timestamp()
    return CircuitState(dict.fromkeys(_failing_lamps(alert), at), ACTIVE, at)


def _seed_silent(state: SilentState, alert: Alert) -> SilentState:
    return SilentState(None, None, True)  # the next reading clears it


def _itself(alert: Alert) -> tuple[str, ...]:
    return (alert.subject,)


# -- the catalog -------------------------------------------------------------------------------

_CATALOG: tuple[Rule[Any], ...] = (
    Rule("flood.level", "weather", "flood", "device", LEVEL, _seed_level, signalling=_itself),
    Rule("flood.rising", "weather", "risingWaterLevel", "device", RISE, _seed_rising),
    Rule("flood.localized", "weather", "localizedFlooding", "ward", LOCALIZED, _seed_localized),
    Rule("traffic.congestion", "traffic", "trafficJam", "device", CONGESTION, _seed_traffic),
    Rule("traffic.stopped", "traffic", "stoppedTraffic", "device", STOPPED, _seed_traffic),
    Rule("streetlight.day_burning", "infrastructure", "lampDayBurning", "device", LAMP,
         _seed_lamp("day_burning")),
    Rule("streetlight.outage", "infrastructure", "lampOutage", "device", LAMP,
         _seed_lamp("outage"), suppressed_by="streetlight.circuit_outage"),
    Rule("streetlight.overpower", "infrastructure", "lampOverpower", "device", LAMP,
         _seed_lamp("overpower")),
    Rule("streetlight.circuit_outage", "infrastructure", "circuitOutage", "circuit", CIRCUIT,
         _seed_circuit, signalling=_failing_lamps),
    Rule("device.silent", "infrastructure", "deviceSilent", "device", SILENT, _seed_silent),
)

RULES: Mapping[str, Rule[Any]] = MappingProxyType({r.name: r for r in _CATALOG})
STORES: tuple[Store[Any], ...] = tuple(dict.fromkeys(r.store for r in _CATALOG))
# rule name -> the rule whose open alert suppresses its openings
SUPPRESSORS: Mapping[str, Rule[Any]] = MappingProxyType(
    {r.name: RULES[r.suppressed_by] for r in _CATALOG if r.suppressed_by is not None})


def subject_of(kind: Subject, device: Device) -> str | None:
    """The subject a device's readings feed under a rule of this kind (None: it feeds none)."""
    if kind == "ward":
        return device.ward
    if kind == "circuit":
        return device.circuit
    return device.id
