"""The detector facade: readings, ticks, commands in; alerts out. Its state (a RuleState) is
plain dicts keyed by subject, grouped by owner ward so that a checkpoint can move it."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Collection, Iterable

from ioc.core.registry import Device, Registry
from ioc.core.schemas import (
    Alert,
    AlertCommand,
    DrainageReading,
    Reading,
    StreetlightReading,
    TrafficReading,
)
from ioc.processors.rule_state import RuleState
from ioc.processors.rules.base import AlertChange, RuleSettings
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
    SUPPRESSORS,
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
    CircuitState,
    LampSignal,
    LampState,
    circuit_step,
    circuits_of,
    is_failing,
    lamp_step,
)
from ioc.processors.rules.traffic import TrafficState, congestion_step, stopped_step

__all__ = ["Detector"]

log = logging.getLogger(__name__)

# A subject's state before its first reading. The states are frozen values, so one shared
# instance each serves every subject (`dict.get(key, State())` built one per reading);
# LocalizedState and CircuitState hold a dict and keep a fresh one each.
_NEW_LEVEL, _NEW_RISE, _NEW_TRAFFIC = LevelState(), RiseState(), TrafficState()
_NEW_LAMP, _NEW_SILENT = LampState(), SilentState()


class Detector:
    """Runs all rules for the devices of a registry; used by backtest and the Faust worker.

    `owner_tick_s`: also tick each owner (ward) whenever its own event clock (its devices'
    newest reading) moved that far since its last tick, so that windows expire and silences
    show at the same event times however the owners' streams interleave (the worker).
    """

    def __init__(self, registry: Registry, settings: RuleSettings | None = None, *,
                 owner_tick_s: float | None = None) -> None:
        self.registry = registry
        self.settings = settings or RuleSettings()
        self.owner_tick_s = owner_tick_s
        self.circuits = circuits_of(registry)
        self.clock: float | None = None
        self.counts: Counter[str] = Counter()
        self.state = st = RuleState(registry)
        self._owner, self._last, self._dirty = st.owner_of, st.last, st.dirty
        # typed views of the catalog's stores (one map subject -> state each)
        self._level: dict[str, LevelState] = st.stores[LEVEL]
        self._rise: dict[str, RiseState] = st.stores[RISE]
        self._congestion: dict[str, TrafficState] = st.stores[CONGESTION]
        self._stopped: dict[str, TrafficState] = st.stores[STOPPED]
        self._lamp: dict[str, LampState] = st.stores[LAMP]
        self._silent: dict[str, SilentState] = st.stores[SILENT]
        self._wards: dict[str, LocalizedState] = st.stores[LOCALIZED]
        self._circuit_state: dict[str, CircuitState] = st.stores[CIRCUIT]
        self._signalling, self._open = st.signalling, st.open

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
        self._dirty.devices.add(device.id)
        self.clock = t if self.clock is None else max(self.clock, t)
        self.counts["readings"] += 1
        changes = self._silence(device, Seen(t))
        if isinstance(reading, DrainageReading):
            changes += self._drainage(reading, device)
        elif isinstance(reading, TrafficReading):
            changes += self._traffic(reading, device)
        elif isinstance(reading, StreetlightReading):
            changes += self._streetlight(reading, device)
        alerts = self._apply(self._suppress(changes, device))
        return alerts + self._owner_clock(self._owner[device.id], t)

    def tick(self, now: float, owners: Iterable[str] | None = None) -> list[Alert]:
        """Advance the clock (epoch seconds): silent devices, expiring ward/circuit windows;
        of all subjects, or only of those `owners` hold."""
        self.clock = now if self.clock is None else max(self.clock, now)
        devices, wards, circuits = self.state.scope(owners)
        changes: list[AlertChange] = []
        for device in devices:
            if self.settings.silent_unseen or device.id in self._silent:
                before = self._silent.get(device.id)
                changes += self._silence(device, Tick(now))
                if self._silent[device.id] != before:
                    self._dirty.devices.add(device.id)
        for ward in wards:
            self._wards[ward], ch = localized_step(self._wards[ward], now, ward, self.settings)
            self._dirty.wards.add(ward)
            changes += ch
        for circuit in circuits:
            self._circuit_state[circuit], ch = circuit_step(
                self._circuit_state[circuit], now, self.circuits[circuit], self.settings)
            self._dirty.circuits.add(circuit)
            changes += ch
        return self._apply(changes)

    def tick_owner(self, owner: str, now: float) -> list[Alert]:
        """Tick one owner at `now` and note it as the owner's last tick."""
        self.state.ticked[owner] = now
        self._dirty.clocks.add(owner)
        return self.tick(now, (owner,))

    def status(self, device_id: str, status: str, at: float) -> list[Alert]:
        """Apply a device's online/offline status (the offline one is its Last Will)."""
        device = self.registry.get(device_id)
        if device is None or status not in ("online", "offline"):
            return []
        self._dirty.devices.add(device.id)
        return self._apply(self._silence(device, StatusEvent(at, status)))  # type: ignore[arg-type]

    def command(self, cmd: AlertCommand) -> list[Alert]:
        """Apply an operator command (idempotent per command_id)."""
        current = self.get(cmd.alert_id)
        if current is None:
            self.counts["command_unknown_alert"] += 1
            return []
        owner = self.state.owner_of_subject(current.rule, current.subject)
        if cmd.command_id is not None and owner is not None and \
                not self.state.remember_command(owner, cmd.command_id):
            return []
        new = apply_command(current, cmd)
        return [] if new is None else [self._store(new)]

    def restore(self, alert: Alert, *, seed: bool = True) -> None:
        """Load an alert's last published state (e.g. from the compacted alerts topic).

        With `seed`, an alert still open also marks its rule's state active, so the rule
        neither opens a second alert for the same condition nor forgets to clear this one;
        without, the rule state comes from a checkpoint and the alert is only remembered.
        """
        if alert.status != "resolved":
            current = self._open.get((alert.rule, alert.subject))
            if current is not None and (current.date_issued, current.version) > \
                    (alert.date_issued, alert.version):
                return  # a newer state of the same (rule, subject) is already open
            if seed:
                self._seed(alert)
        self._store(alert)

    def drop_owners(self, owners: Collection[str]) -> int:
        """Forget all state of these owner keys (their partitions moved); returns alerts dropped."""
        return self.state.drop(owners)

    # -- queries --------------------------------------------------------------------------
    def get(self, alert_id: str) -> Alert | None:
        """An alert by id: open ones, then recently resolved ones."""
        for alert in self._open.values():
            if alert.id == alert_id:
                return alert
        return self.state.closed.get(alert_id)

    def open_alerts(self) -> list[Alert]:
        """Alerts not resolved yet."""
        return list(self._open.values())

    def state_sizes(self) -> dict[str, int]:
        """How many entries each state dict holds (for metrics)."""
        return {"devices": len(self._last), "open": len(self._open),
                "closed": len(self.state.closed)}

    # -- domains --------------------------------------------------------------------------
    def _drainage(self, r: DrainageReading, d: Device) -> list[AlertChange]:
        s = self.settings
        self._level[d.id], changes = level_step(self._level.get(d.id, _NEW_LEVEL), r, d, s)
        self._rise[d.id], ch = rising_step(self._rise.get(d.id, _NEW_RISE), r, d, s)
        changes += ch
        level = self._level[d.id]
        warning = level.severity is not None and level.confirmed
        if warning or d.id in self._signalling:
            (self._signalling.add if warning else self._signalling.discard)(d.id)
            sig = WardSignal(d.id, d.ward, r.observed_at.timestamp(), warning,
                             level.severity == "critical")
            self._wards[d.ward], ch = localized_step(
                self._wards.get(d.ward, LocalizedState()), sig, d.ward, s)
            self._dirty.wards.add(d.ward)
            changes += ch
        return changes

    def _traffic(self, r: TrafficReading, d: Device) -> list[AlertChange]:
        s = self.settings
        self._congestion[d.id], changes = congestion_step(
            self._congestion.get(d.id, _NEW_TRAFFIC), r, d, s)
        self._stopped[d.id], ch = stopped_step(self._stopped.get(d.id, _NEW_TRAFFIC), r, d, s)
        return changes + ch

    def _streetlight(self, r: StreetlightReading, d: Device) -> list[AlertChange]:
        s = self.settings
        self._lamp[d.id], changes = lamp_step(self._lamp.get(d.id, _NEW_LAMP), r, d, s)
        if d.circuit is None:
            return changes
        failing = is_failing(r, d, s)
        if failing or d.id in self._signalling:
            (self._signalling.add if failing else self._signalling.discard)(d.id)
            sig = LampSignal(d.id, d.circuit, r.observed_at.timestamp(), failing)
            self._circuit_state[d.circuit], ch = circuit_step(
                self._circuit_state.get(d.circuit, CircuitState()), sig,
                self.circuits[d.circuit], s)
            self._dirty.circuits.add(d.circuit)
            changes += ch
        return changes

    def _silence(self, d: Device, event: Seen | Tick | StatusEvent) -> list[AlertChange]:
        self._silent[d.id], changes = silence_step(
            self._silent.get(d.id, _NEW_SILENT), event, d, self.settings)
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
        states = self.state.stores[rule.store]
        states[a.subject] = rule.seed(states.get(a.subject, rule.store.new()), a)
        dirty = self._dirty  # seeded state is state like any other: the next checkpoint has it
        {"device": dirty.devices, "ward": dirty.wards, "circuit": dirty.circuits}[
            rule.subject].add(a.subject)
        if rule.signalling is not None:
            signalling = set(rule.signalling(a))
            self._signalling.update(signalling)
            dirty.devices.update(signalling & self._owner.keys())

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
            self.state.remember_closed(alert)
        else:
            self._open[key] = alert
        self.counts[f"alert_{alert.status}"] += 1
        return alert

    def _owner_clock(self, owner: str, t: float) -> list[Alert]:
        """Move an owner's event clock to a reading's time; tick the owner when it is due."""
        st = self.state
        clock = st.clock.get(owner)
        if clock is None or t > clock:
            st.clock[owner] = clock = t
            self._dirty.clocks.add(owner)
        step = self.owner_tick_s
        if step is None:
            return []
        ticked = st.ticked.get(owner)
        if ticked is not None and clock - ticked < step:
            return []
        return self.tick_owner(owner, clock)

