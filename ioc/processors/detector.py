"""The detector facade: all rule state in plain dicts; readings, ticks, commands in; alerts out."""

from __future__ import annotations

import logging
from collections import Counter, OrderedDict
from collections.abc import Collection
from typing import Any

from ioc.core.ownership import circuit_wards, owner_keys
from ioc.core.registry import WARDS, Device, Registry
from ioc.core.schemas import (
    Alert,
    AlertCommand,
    DrainageReading,
    Reading,
    StreetlightReading,
    TrafficReading,
)
from ioc.processors.rules.base import AlertChange, RuleSettings, point
from ioc.processors.rules.catalog import (
    CIRCUIT,
    CONGESTION,
    LAMP,
    LEVEL,
    LOCALIZED,
    RISE,
    RULES,
    SILENT,
    STOPPED,
    STORES,
    SUPPRESSORS,
    Store,
    subject_of,
)
from ioc.processors.rules.flood import (
    LevelState,
    LocalizedState,
    RiseState,
    WardSignal,
    level_step,
    localized_step,
    rising_step,
)
from ioc.processors.rules.lifecycle import apply_change, apply_command
from ioc.processors.rules.silence import Seen, SilentState, StatusEvent, Tick, silence_step
from ioc.processors.rules.streetlight import (
    CircuitInfo,
    CircuitState,
    LampSignal,
    LampState,
    circuit_step,
    is_failing,
    lamp_step,
)
from ioc.processors.rules.traffic import TrafficState, congestion_step, stopped_step

__all__ = ["Detector", "circuits_of", "ward_centre"]

log = logging.getLogger(__name__)
_MAX_CLOSED = 10_000  # resolved alerts kept for late operator commands


def circuits_of(registry: Registry) -> dict[str, CircuitInfo]:
    """Circuit facts from the registry: lamp count, owning ward (its first lamp's), centre."""
    lamps: dict[str, list[Device]] = {}
    for d in registry:
        if d.domain == "streetlight" and d.circuit:
            lamps.setdefault(d.circuit, []).append(d)
    wards = circuit_wards(registry)
    return {c: CircuitInfo(c, len(ds), wards[c], point(sum(d.lat for d in ds) / len(ds),
                                                         sum(d.lon for d in ds) / len(ds)))
            for c, ds in lamps.items()}


class Detector:
    """Runs all rules for the devices of a registry; used by backtest and the Faust worker."""

    def __init__(self, registry: Registry, settings: RuleSettings | None = None) -> None:
        self.registry = registry
        self.settings = settings or RuleSettings()
        self.circuits = circuits_of(registry)
        self._owner = owner_keys(registry)
        self.clock: float | None = None
        self.counts: Counter[str] = Counter()
        self._last: dict[str, float] = {}
        # all rule state, one map subject -> state per store of the catalog; typed views below
        self._states: dict[Store[Any], dict[str, Any]] = {store: {} for store in STORES}
        self._level: dict[str, LevelState] = self._states[LEVEL]
        self._rise: dict[str, RiseState] = self._states[RISE]
        self._congestion: dict[str, TrafficState] = self._states[CONGESTION]
        self._stopped: dict[str, TrafficState] = self._states[STOPPED]
        self._lamp: dict[str, LampState] = self._states[LAMP]
        self._silent: dict[str, SilentState] = self._states[SILENT]
        self._wards: dict[str, LocalizedState] = self._states[LOCALIZED]
        self._circuit_state: dict[str, CircuitState] = self._states[CIRCUIT]
        # devices feeding their ward's or circuit's rule (drainage in warning, lamps failing),
        # so that their next normal reading withdraws them
        self._signalling: set[str] = set()
        self._open: dict[tuple[str, str], Alert] = {}
        self._closed: OrderedDict[str, Alert] = OrderedDict()
        self._commands_seen: OrderedDict[str, None] = OrderedDict()

    # -- inputs ---------------------------------------------------------------------------
    def process(self, reading: Reading) -> list[Alert]:
        """Apply one validated reading; returns the alerts whose state changed."""
        device = self.registry.get(reading.device_id)
        if device is None:
            self.counts["unknown_device"] += 1
            return []
        t = reading.observed_at.timestamp()
        if t <= self._last.get(device.id, float("-inf")):
            self.counts["stale_or_duplicate"] += 1  # redelivery or out of order: idempotent
            return []
        self._last[device.id] = t
        self.clock = t if self.clock is None else max(self.clock, t)
        self.counts["readings"] += 1
        changes = self._silence(device, Seen(t))
        if isinstance(reading, DrainageReading):
            changes += self._drainage(reading, device)
        elif isinstance(reading, TrafficReading):
            changes += self._traffic(reading, device)
        elif isinstance(reading, StreetlightReading):
            changes += self._streetlight(reading, device)
        return self._apply(self._suppress(changes, device))

    def tick(self, now: float) -> list[Alert]:
        """Advance the clock (epoch seconds): silent devices, expiring ward/circuit windows."""
        self.clock = now if self.clock is None else max(self.clock, now)
        changes: list[AlertChange] = []
        for device in self.registry:
            if self.settings.silent_unseen or device.id in self._silent:
                changes += self._silence(device, Tick(now))
        for ward, state in list(self._wards.items()):
            self._wards[ward], ch = localized_step(state, now, ward, self.settings)
            changes += ch
        for circuit, cstate in list(self._circuit_state.items()):
            self._circuit_state[circuit], ch = circuit_step(
                cstate, now, self.circuits[circuit], self.settings)
            changes += ch
        return self._apply(changes)

    def status(self, device_id: str, status: str, at: float) -> list[Alert]:
        """Apply a device's online/offline status (the offline one is its Last Will)."""
        device = self.registry.get(device_id)
        if device is None or status not in ("online", "offline"):
            return []
        return self._apply(self._silence(device, StatusEvent(at, status)))  # type: ignore[arg-type]

    def command(self, cmd: AlertCommand) -> list[Alert]:
        """Apply an operator command (idempotent per command_id)."""
        if cmd.command_id is not None:
            if cmd.command_id in self._commands_seen:
                return []
            self._remember(self._commands_seen, cmd.command_id, None)
        current = self.get(cmd.alert_id)
        if current is None:
            self.counts["command_unknown_alert"] += 1
            return []
        new = apply_command(current, cmd)
        return [] if new is None else [self._store(new)]

    def restore(self, alert: Alert) -> None:
        """Load an alert's last published state (e.g. from the compacted alerts topic).

        An alert still open also marks its rule's state active, so the rule neither opens a
        second alert for the same condition nor forgets to clear this one.
        """
        if alert.status != "resolved":
            current = self._open.get((alert.rule, alert.subject))
            if current is not None and current.date_issued > alert.date_issued:
                return  # a newer episode of the same (rule, subject) is already open
            self._seed(alert)
        self._store(alert)

    def drop_owners(self, owners: Collection[str]) -> int:
        """Forget all state of these owner keys (their partitions moved); returns alerts dropped."""
        gone = set(owners)
        subjects = gone | {d for d, o in self._owner.items() if o in gone} | \
            {c for c, info in self.circuits.items() if info.ward in gone}
        for store in (self._last, *self._states.values()):
            for subject in subjects & store.keys():
                del store[subject]
        self._signalling -= subjects
        dropped = [k for k in self._open if k[1] in subjects]
        for key in dropped:
            del self._open[key]
        for alert_id in [i for i, a in self._closed.items() if a.subject in subjects]:
            del self._closed[alert_id]
        return len(dropped)

    # -- queries --------------------------------------------------------------------------
    def get(self, alert_id: str) -> Alert | None:
        """An alert by id: open ones, then recently resolved ones."""
        for alert in self._open.values():
            if alert.id == alert_id:
                return alert
        return self._closed.get(alert_id)

    def open_alerts(self) -> list[Alert]:
        """Alerts not resolved yet."""
        return list(self._open.values())

    def state_sizes(self) -> dict[str, int]:
        """How many entries each state dict holds (for metrics)."""
        return {"devices": len(self._last), "open": len(self._open), "closed": len(self._closed)}

    # -- domains --------------------------------------------------------------------------
    def _drainage(self, r: DrainageReading, d: Device) -> list[AlertChange]:
        s = self.settings
        self._level[d.id], changes = level_step(self._level.get(d.id, LevelState()), r, d, s)
        self._rise[d.id], ch = rising_step(self._rise.get(d.id, RiseState()), r, d, s)
        changes += ch
        level = self._level[d.id]
        warning = level.severity is not None and level.confirmed
        if warning or d.id in self._signalling:
            (self._signalling.add if warning else self._signalling.discard)(d.id)
            sig = WardSignal(d.id, d.ward, r.observed_at.timestamp(), warning,
                             level.severity == "critical")
            self._wards[d.ward], ch = localized_step(
                self._wards.get(d.ward, LocalizedState()), sig, d.ward, s)
            changes += ch
        return changes

    def _traffic(self, r: TrafficReading, d: Device) -> list[AlertChange]:
        s = self.settings
        self._congestion[d.id], changes = congestion_step(
            self._congestion.get(d.id, TrafficState()), r, d, s)
        self._stopped[d.id], ch = stopped_step(self._stopped.get(d.id, TrafficState()), r, d, s)
        return changes + ch

    def _streetlight(self, r: StreetlightReading, d: Device) -> list[AlertChange]:
        s = self.settings
        self._lamp[d.id], changes = lamp_step(self._lamp.get(d.id, LampState()), r, d, s)
        if d.circuit is None:
            return changes
        failing = is_failing(r, d, s)
        if failing or d.id in self._signalling:
            (self._signalling.add if failing else self._signalling.discard)(d.id)
            sig = LampSignal(d.id, d.circuit, r.observed_at.timestamp(), failing)
            self._circuit_state[d.circuit], ch = circuit_step(
                self._circuit_state.get(d.circuit, CircuitState()), sig,
                self.circuits[d.circuit], s)
            changes += ch
        return changes

    def _silence(self, d: Device, event: Seen | Tick | StatusEvent) -> list[AlertChange]:
        self._silent[d.id], changes = silence_step(
            self._silent.get(d.id, SilentState()), event, d, self.settings)
        return changes

    def _suppress(self, changes: list[AlertChange], d: Device) -> list[AlertChange]:
        """Drop openings that an open alert of their suppressor on the device's group holds back."""
        if not changes:  # nearly every reading: no list to rebuild
            return changes
        return [c for c in changes if not (c.active and self._held_back(c.rule, d))]

    def _held_back(self, rule: str, d: Device) -> bool:
        by = SUPPRESSORS.get(rule)
        group = None if by is None else subject_of(by.subject, d)
        return by is not None and group is not None and (by.name, group) in self._open

    def _seed(self, a: Alert) -> None:
        """Mark the rule state behind an open alert as active (after a restart)."""
        rule = RULES.get(a.rule)
        if rule is None or (rule.subject == "circuit" and a.subject not in self.circuits):
            return  # a circuit the registry lacks has no lamps, and ticks would fail on it
        states = self._states[rule.store]
        states[a.subject] = rule.seed(states.get(a.subject, rule.store.new()), a)
        if rule.signalling is not None:
            self._signalling.update(rule.signalling(a))

    # -- lifecycle ------------------------------------------------------------------------
    def _apply(self, changes: list[AlertChange]) -> list[Alert]:
        out: list[Alert] = []
        for change in changes:
            new = apply_change(self._open.get((change.rule, change.subject)), change)
            if new is not None:
                out.append(self._store(new))
        return out

    def _store(self, alert: Alert) -> Alert:
        key = (alert.rule, alert.subject)
        if alert.status == "resolved":
            if key in self._open and self._open[key].id == alert.id:
                del self._open[key]
            self._remember(self._closed, alert.id, alert)
        else:
            self._open[key] = alert
        self.counts[f"alert_{alert.status}"] += 1
        return alert

    @staticmethod
    def _remember(store: OrderedDict[str, Any], key: str, value: Any) -> None:
        store[key] = value
        store.move_to_end(key)
        while len(store) > _MAX_CLOSED:
            store.popitem(last=False)


def ward_centre(ward: str) -> dict[str, Any] | None:
    """GeoJSON point of a ward's centre."""
    w = WARDS.get(ward)
    return point(w.lat, w.lon) if w else None
