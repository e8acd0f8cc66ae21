"""Checkpoints of the worker's rule state, per owned partition, written after each batch and
before its alerts are published; loaded back on every partition assignment.

One checkpoint of partition p is one atomic record batch on the compacted state topic: the
records of every subject that changed (processors.state_codec) and a marker holding the
next telemetry and internal-topic offsets of p the state reflects, plus the alerts made
but not yet confirmed published (the outbox). Alerts go out only once the checkpoint is
acknowledged, and Faust commits an offset only after that, so on a restart:

* records below the marker's offsets are skipped: their effect is in the state already;
  records from there on are processed as if the worker had never stopped;
* outbox alerts missing from the alerts topic are published again (those present are not):
  every alert version reaches the topic once, even if the worker died between the two.

The marker names the partition layout (ioc.core.ownership.partition_layout): a checkpoint
written under another layout or partition count describes other wards, so it is not loaded
(the partition is rebuilt from its open alerts, as on a first start), and a record whose
subject's owner is now placed on another partition is skipped.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import orjson

from ioc.core.ownership import partition_layout
from ioc.core.schemas import Alert
from ioc.processors.detector import Detector
from ioc.processors.rule_state import Dirty
from ioc.processors.state_codec import load_records, record_owner, records_of
from ioc.processors.worker.routing import Router

__all__ = ["MARKER", "OUTBOX_BUDGET", "OWNED", "TELEMETRY", "Checkpoints", "Marker", "StateLog",
           "bounded_outbox"]

log = logging.getLogger(__name__)

TELEMETRY, OWNED = "telemetry", "owned"  # the two co-partitioned inputs of an owner's state
MARKER = b"~"  # the key of a partition's marker record
_FORMAT = 1
# a marker must fit in one Kafka message (state_log.MAX_CHECKPOINT_BYTES); alerts are capped at
# 512 KiB each (core.alert_limits), so a burst of comments on big alerts could overflow it
OUTBOX_BUDGET = 4 * 1024 * 1024


class StateLog(Protocol):
    """Where checkpoints go: the compacted state topic (worker.state_log), or a fake."""

    async def write(self, partition: int, records: Sequence[tuple[bytes, bytes]]) -> None:
        """Append the records to the partition as one atomic batch; return once acknowledged."""

    def read(self, partitions: Collection[int]) -> dict[int, dict[bytes, bytes]]:
        """The latest value of each key of these partitions (blocking)."""


@dataclass(frozen=True, slots=True)
class Marker:
    """What a partition's state reflects: next offsets per input, unpublished alerts, and
    the partition layout it was written under ("": before layouts were named)."""

    positions: Mapping[str, int]
    outbox: tuple[Alert, ...] = ()
    layout: str = ""

    def encode(self) -> bytes:
        """The marker record's value."""
        return orjson.dumps({"format": _FORMAT, "positions": dict(self.positions),
                             "outbox": [orjson.Fragment(a.to_json()) for a in self.outbox],
                             "layout": self.layout})

    @classmethod
    def decode(cls, raw: bytes) -> Marker:
        """A marker from its record value; ValueError if it is not one."""
        doc = orjson.loads(raw)
        if not isinstance(doc, dict) or doc.get("format") != _FORMAT:
            raise ValueError("not a state marker of a known format")
        try:
            positions = {str(k): int(v) for k, v in doc["positions"].items()}
            outbox = tuple(Alert.model_validate(a) for a in doc["outbox"])
            layout = str(doc.get("layout", ""))
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"malformed state marker: {exc!r}") from exc
        return cls(positions, outbox, layout)


def bounded_outbox(alerts: Sequence[Alert], budget: int) -> tuple[Alert, ...]:
    """The outbox within `budget` bytes: every version while they fit, else the latest
    version of each alert (what a republish needs), the newest alerts first while they fit."""
    sizes = [len(a.to_json()) for a in alerts]
    if sum(sizes) <= budget:
        return tuple(alerts)
    latest: dict[str, tuple[Alert, int]] = {}
    for alert, size in zip(alerts, sizes, strict=True):
        latest.pop(alert.id, None)  # re-inserted: dict order = order of each alert's last version
        latest[alert.id] = (alert, size)
    kept: list[Alert] = []
    for alert, size in reversed(latest.values()):
        if size <= budget:
            kept.append(alert)
            budget -= size
    return tuple(reversed(kept))


Publish = Callable[[list[Alert]], Awaitable[None]]


class Checkpoints:
    """Input positions, unpublished alerts and checkpoints of the partitions this worker owns.

    `log=None` keeps state in memory only: nothing is written, and an assignment restores
    only alerts from the alerts topic (seeding their rules' state), as before checkpoints.
    """

    def __init__(self, detector: Detector, router: Router, partitions: int,
                 log: StateLog | None) -> None:
        self._detector, self._router, self._partitions = detector, router, partitions
        self._layout = partition_layout(partitions)
        self._log = log
        self.positions: dict[tuple[str, int], int] = {}  # (input, partition) -> next offset
        self._staged: list[Alert] = []  # made, not yet confirmed published, in order
        self.counts: Counter[str] = Counter()

    @property
    def persistent(self) -> bool:
        """Whether checkpoints are written."""
        return self._log is not None

    def fresh(self, source: str, partition: int, offset: int) -> bool:
        """Whether a record is new to the state (and note it as processed); False for one
        the state already reflects (redelivered after a restart or a rebalance)."""
        key = (source, partition)
        if offset < self.positions.get(key, 0):
            self.counts["replayed_skipped"] += 1
            return False
        self.positions[key] = offset + 1
        return True

    def stage(self, alerts: Iterable[Alert]) -> None:
        """Alerts the detector made; the next `commit` checkpoints and then publishes them."""
        self._staged += alerts

    async def commit(self, publish: Publish) -> None:
        """Write each changed partition's checkpoint, then publish the staged alerts.

        Call it with the worker's processing lock held: the checkpoint must cover exactly
        what was processed, and no alert may be published before its checkpoint.
        """
        staged = list(self._staged)
        state = self._detector.state
        dirty = state.take_dirty()
        batches = self._batches(staged, dirty)
        if self._log is not None and batches:
            try:
                await asyncio.gather(*(self._log.write(p, recs) for p, recs in batches.items()))
            except BaseException:
                state.keep_dirty(dirty)  # the next checkpoint writes them (a rewrite is harmless)
                raise
            self.counts["checkpoints"] += len(batches)
            self.counts["state_records"] += sum(len(r) for r in batches.values())
        await publish(staged)
        sent = {id(a) for a in staged}
        self._staged = [a for a in self._staged if id(a) not in sent]

    def _partition(self, owner: str | None) -> int | None:
        return None if owner is None else self._router.partition_of(owner, self._partitions)

    def _batches(self, staged: Sequence[Alert],
                 dirty: Dirty) -> dict[int, list[tuple[bytes, bytes]]]:
        state = self._detector.state
        if self._log is None:
            return {}
        out: dict[int, list[tuple[bytes, bytes]]] = defaultdict(list)
        for owner, key, value in records_of(state, dirty):
            out[self._router.partition_of(owner, self._partitions)].append((key, value))
        outbox: dict[int, list[Alert]] = defaultdict(list)
        for alert in staged:
            part = self._partition(self._router.alert_owner(alert.id))
            if part is not None:
                outbox[part].append(alert)
        for part in out.keys() | outbox.keys():
            positions = {s: self.positions.get((s, part), 0) for s in (TELEMETRY, OWNED)}
            kept = bounded_outbox(outbox[part], OUTBOX_BUDGET)
            if len(kept) < len(outbox[part]):
                self.counts["outbox_trimmed"] += len(outbox[part]) - len(kept)
                log.warning("partition %d: outbox of %d alerts over %d bytes; the marker keeps "
                            "the latest version of %d", part, len(outbox[part]), OUTBOX_BUDGET,
                            len(kept))
            out[part].append((MARKER, Marker(positions, kept, self._layout).encode()))
        return out

    def forget(self, lost: Collection[int]) -> None:
        """Partitions that moved away: their positions no longer apply here."""
        for key in [k for k in self.positions if k[1] in lost]:
            del self.positions[key]

    def restore(self, gained: Collection[int], alerts: Iterable[Alert]) -> int:
        """Load the gained partitions' checkpoints and their alerts (from the alerts topic);
        returns how many partitions had a checkpoint. Blocks while it reads the state topic."""
        self.forget(gained)
        folded = self._log.read(gained) if self._log is not None and gained else {}
        by_part: dict[int | None, list[Alert]] = defaultdict(list)
        for alert in sorted(alerts, key=lambda a: (a.date_issued, a.version)):
            by_part[self._partition(self._router.alert_owner(alert.id))].append(alert)
        loaded = 0
        for part in gained:
            records = dict(folded.get(part, {}))
            marker = self._marker(part, records.pop(MARKER, None))
            if marker is None:  # never checkpointed: rebuild what the open alerts tell
                for alert in by_part[part]:
                    self._detector.restore(alert)
                continue
            loaded += 1
            self.counts["unreadable_state_records"] += load_records(
                self._detector.state, self._owned_records(part, records))
            self._load_alerts(by_part[part], marker)
            for source, offset in marker.positions.items():
                self.positions[(source, part)] = offset
        clocks = self._detector.state.clock.values()
        if clocks:
            self._detector.clock = max(self._detector.clock or 0.0, *clocks)
        return loaded

    def _marker(self, part: int, raw: bytes | None) -> Marker | None:
        if raw is None:
            return None
        try:
            marker = Marker.decode(raw)
        except ValueError as exc:  # pydantic's and orjson's errors are ValueErrors too
            log.error("partition %d: unreadable state marker (%s); restoring from alerts only",
                      part, str(exc)[:200])
            return None
        if marker.layout != self._layout:
            self.counts["other_layout_checkpoints"] += 1
            log.warning("partition %d: checkpoint of partition layout %r, this worker places "
                        "wards by %r; restoring from alerts only", part,
                        marker.layout or "murmur2 (unnamed)", self._layout)
            return None
        return marker

    def _owned_records(self, part: int, records: Mapping[bytes, bytes],
                       ) -> list[tuple[bytes, bytes]]:
        """The records whose subject's owner is placed on `part` now (a device that moved
        ward left its old record behind; loading it could overwrite its current state)."""
        state, kept = self._detector.state, []
        for key, value in records.items():
            owner = record_owner(state, key)
            if owner is not None and self._router.partition_of(owner, self._partitions) == part:
                kept.append((key, value))
        self.counts["foreign_state_records"] += len(records) - len(kept)
        return kept

    def _load_alerts(self, published: list[Alert], marker: Marker) -> None:
        """The partition's alerts as published, then its outbox: what the checkpoint saw."""
        latest: dict[str, int] = {}
        for alert in published:
            self._detector.restore(alert, seed=False)
            latest[alert.id] = max(alert.version, latest.get(alert.id, -1))
        for alert in marker.outbox:
            self._detector.restore(alert, seed=False)
            if latest.get(alert.id, -1) < alert.version:
                self._staged.append(alert)  # the previous holder died before publishing it
                self.counts["republished"] += 1
