"""All mutable state of a Detector, grouped by owner key (ward) so that it moves with the
partition that owns it, and what changed since the last checkpoint.

The detector's rules read and write these maps; a checkpoint takes the changed keys
(`take_dirty`) and `processors.state_codec` turns them into records and back.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from ioc.core.ownership import circuit_wards, owner_keys
from ioc.core.registry import Device, Registry
from ioc.core.schemas import Alert
from ioc.processors.rules.catalog import CIRCUIT, LOCALIZED, RULES, STORES, Store

__all__ = ["DEVICE_STORES", "MAX_CLOSED", "MAX_COMMANDS", "Dirty", "RuleState"]

MAX_CLOSED = 10_000  # resolved alerts kept for late operator commands
MAX_COMMANDS = 1_000  # operator command ids remembered per owner (redelivery)

# the stores whose subject is a device, in catalog order (one device record holds them all)
DEVICE_STORES: tuple[Store[Any], ...] = tuple(
    s for s in STORES if any(r.store is s and r.subject == "device" for r in RULES.values()))


@dataclass(slots=True)
class Dirty:
    """Keys changed since the last checkpoint, by kind."""

    devices: set[str] = field(default_factory=set)
    wards: set[str] = field(default_factory=set)  # flood.localized windows
    circuits: set[str] = field(default_factory=set)
    clocks: set[str] = field(default_factory=set)  # owners whose event clock or tick moved
    commands: set[str] = field(default_factory=set)  # owners that saw a new command id

    def __bool__(self) -> bool:
        return bool(self.devices or self.wards or self.circuits or self.clocks or self.commands)


class RuleState:
    """Rule state per subject, alerts, command ids and event clocks per owner."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.owner_of = owner_keys(registry)  # device -> owner
        self.circuit_ward = circuit_wards(registry)  # circuit -> owner
        self.devices_of: dict[str, list[Device]] = {}
        for d in registry:
            self.devices_of.setdefault(self.owner_of[d.id], []).append(d)
        self.circuits_of: dict[str, list[str]] = {}
        for circuit, ward in self.circuit_ward.items():
            self.circuits_of.setdefault(ward, []).append(circuit)
        self.last: dict[str, float] = {}  # device -> newest reading time accepted
        self.stores: dict[Store[Any], dict[str, Any]] = {store: {} for store in STORES}
        # devices feeding their ward's or circuit's rule (drainage in warning, lamps failing),
        # so that their next normal reading withdraws them
        self.signalling: set[str] = set()
        self.open: dict[tuple[str, str], Alert] = {}
        self.closed: OrderedDict[str, Alert] = OrderedDict()
        self.commands: dict[str, OrderedDict[str, None]] = {}  # owner -> command ids seen
        self.clock: dict[str, float] = {}  # owner -> newest reading time of its devices
        self.ticked: dict[str, float] = {}  # owner -> event time of its last tick
        self.dirty = Dirty()

    def owner_of_subject(self, rule: str, subject: str) -> str | None:
        """The owner key of a rule's subject (device, ward or circuit)."""
        kind = RULES[rule].subject if rule in RULES else "device"
        if kind == "ward":
            return subject
        if kind == "circuit":
            return self.circuit_ward.get(subject)
        return self.owner_of.get(subject)

    def remember_command(self, owner: str, command_id: str) -> bool:
        """Note a command id of `owner`; False if it was seen already."""
        seen = self.commands.setdefault(owner, OrderedDict())
        if command_id in seen:
            return False
        seen[command_id] = None
        while len(seen) > MAX_COMMANDS:
            seen.popitem(last=False)
        self.dirty.commands.add(owner)
        return True

    def remember_closed(self, alert: Alert) -> None:
        """Keep a resolved alert for late commands (the oldest go first)."""
        self.closed[alert.id] = alert
        self.closed.move_to_end(alert.id)
        while len(self.closed) > MAX_CLOSED:
            self.closed.popitem(last=False)

    def scope(self, owners: Iterable[str] | None) -> tuple[list[Device], list[str], list[str]]:
        """What a tick judges: devices, wards with a window, circuits with state; of all
        owners (None) or only these."""
        wards, circuits = self.stores[LOCALIZED], self.stores[CIRCUIT]
        if owners is None:
            return list(self.registry), list(wards), list(circuits)
        owners = list(owners)
        return ([d for o in owners for d in self.devices_of.get(o, ())],
                [o for o in owners if o in wards],
                [c for o in owners for c in self.circuits_of.get(o, ()) if c in circuits])

    def subjects_of(self, owners: Iterable[str]) -> set[str]:
        """Every subject the owners hold: themselves (wards), their devices and circuits."""
        out: set[str] = set()
        for owner in owners:
            out.add(owner)
            out.update(d.id for d in self.devices_of.get(owner, ()))
            out.update(self.circuits_of.get(owner, ()))
        return out

    def drop(self, owners: Collection[str]) -> int:
        """Forget all state of these owners (their partitions moved); returns alerts dropped."""
        subjects = self.subjects_of(owners)
        for store in (self.last, *self.stores.values()):
            for subject in subjects & store.keys():
                del store[subject]
        self.signalling -= subjects
        dropped = [k for k in self.open if k[1] in subjects]
        for key in dropped:
            del self.open[key]
        for alert_id in [i for i, a in self.closed.items() if a.subject in subjects]:
            del self.closed[alert_id]
        for per_owner in (self.commands, self.clock, self.ticked):
            for owner in owners:
                per_owner.pop(owner, None)
        d = self.dirty  # a lost owner's state must not be written over its new holder's
        for kinds in (d.devices, d.wards, d.circuits):
            kinds -= subjects
        d.clocks -= set(owners)
        d.commands -= set(owners)
        return len(dropped)

    def keep_dirty(self, taken: Dirty) -> None:
        """Mark keys taken for a checkpoint that was not written as changed again."""
        d = self.dirty
        d.devices |= taken.devices
        d.wards |= taken.wards
        d.circuits |= taken.circuits
        d.clocks |= taken.clocks
        d.commands |= taken.commands

    def take_dirty(self) -> Dirty:
        """The keys changed since the last call; the live sets start empty again."""
        d = self.dirty
        taken = Dirty(set(d.devices), set(d.wards), set(d.circuits), set(d.clocks),
                      set(d.commands))
        for kinds in (d.devices, d.wards, d.circuits, d.clocks, d.commands):
            kinds.clear()
        return taken
