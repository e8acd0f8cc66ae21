"""Helpers of the failover tests: the flood feed streamed as the bridge writes it (paced
through the storm), worker assignments from their logs, and the alert stream against the
backtest of the same feed."""

from __future__ import annotations

import re
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from kafka import KafkaProducer

from ioc.core.kafka_auth import kafka_access
from ioc.core.ownership import OWNER_HEADER, owner_keys, owner_partition
from ioc.core.registry import Registry
from ioc.core.schemas import Alert, Reading, reading_to_json
from ioc.core.settings import Settings
from tests.integration.processors.proc_helpers import Flood, WorkerProcess

__all__ = ["StormPoints", "Stream", "assert_like_backtest", "assignment",
           "backtest_differences", "storm_points"]

@dataclass(frozen=True)
class StormPoints:
    """Two moments of the storm (feed time) and the slow stretches around them: `filling`,
    while the first drains rise and the next ones' rise windows fill; `holding`, while the
    fast rises hold before they clear (their hold timers running)."""

    filling: datetime
    holding: datetime
    slow: tuple[tuple[datetime, datetime], ...]


def storm_points(flood: Flood) -> StormPoints:
    """The storm points of the flash-flood feed, from its backtest."""
    rises = [a for a in flood.backtest if a.rule == "flood.rising"]
    filling = min(a.date_issued for a in rises) + timedelta(minutes=6)
    holding = min(a.date_modified for a in rises if a.status == "resolved") - \
        timedelta(minutes=5)
    pad = timedelta(minutes=4)
    return StormPoints(filling, holding, tuple((t - pad, t + pad) for t in (filling, holding)))


class Stream(threading.Thread):
    """Produces readings on their owner ward's partition with the owner header (as the
    bridge does): `slow_rate` per second inside the `slow` stretches (about as fast as a
    worker's offset commits follow: the last commit is under a minute of feed behind),
    as fast as possible outside them."""

    def __init__(self, settings: Settings, topic: str, flood: Flood, partitions: int,
                 slow: Sequence[tuple[datetime, datetime]], slow_rate: float) -> None:
        super().__init__(name="flood-stream", daemon=True)
        self._settings, self._topic, self._readings = settings, topic, flood.readings
        self._owners = owner_keys(Registry(flood.feed.catalog))
        self._partitions, self._slow, self._rate = partitions, slow, slow_rate
        self.sent = 0
        self.error: BaseException | None = None
        self.last_sent: Reading | None = None

    def _pace(self, producer: KafkaProducer, r: Reading, due: float | None) -> float | None:
        """Wait for a slow reading's turn; returns when the next one is due."""
        if not any(a <= r.observed_at <= b for a, b in self._slow):
            return None
        now = time.monotonic()
        if due is not None and due > now:
            producer.flush()
            time.sleep(due - now)  # pacing the producer, not waiting for a result
        return max(due or now, now - 1.0) + 1.0 / self._rate

    def run(self) -> None:
        producer = KafkaProducer(**kafka_access(self._settings).client_options(), acks="all",
                                 linger_ms=5)
        try:
            due: float | None = None
            for r in self._readings:
                due = self._pace(producer, r, due)
                owner = self._owners[r.device_id]
                producer.send(self._topic, key=r.device_id.encode(), value=reading_to_json(r),
                              partition=owner_partition(owner, self._partitions),
                              headers=[(OWNER_HEADER, owner.encode())])
                self.sent += 1
                self.last_sent = r
            producer.flush(timeout=60)
        except BaseException as exc:  # reported by the test through `error`
            self.error = exc
        finally:
            producer.close()

    def sent_past(self, t: datetime) -> bool:
        """Whether readings observed after `t` were sent."""
        return self.last_sent is not None and self.last_sent.observed_at > t


_ASSIGNED = re.compile(r"partitions of \S+: \[([0-9, ]*)\]")


def assignment(worker: WorkerProcess) -> frozenset[int] | None:
    """The worker's latest partition assignment as its log reports it (None: none yet)."""
    text = worker.log_file.read_text(errors="replace") if worker.log_file.exists() else ""
    found = _ASSIGNED.findall(text)
    if not found:
        return None
    return frozenset(int(p) for p in found[-1].split(",") if p.strip())


def _changes(alerts: Sequence[Alert], until: float) -> dict[tuple[str, str], list[Alert]]:
    """Per (rule, subject), its distinct versions up to `until`, in time order."""
    out: dict[tuple[str, str], list[Alert]] = defaultdict(list)
    for a in {(a.id, a.version): a for a in alerts}.values():
        if a.date_modified.timestamp() <= until:
            out[(a.rule, a.subject)].append(a)
    for versions in out.values():
        versions.sort(key=lambda a: a.date_modified)
    return out


def backtest_differences(published: Sequence[Alert], flood: Flood) -> dict[str, list[Any]]:
    """How the published alert stream differs from the backtest of the feed, by kind:
    versions published more than once; (rule, subject) only in one of them; another
    sequence of statuses and severities; a change more than one reading interval off."""
    until = flood.readings[-1].observed_at.timestamp()
    got, want = _changes(published, until), _changes(flood.backtest, until)
    devices = Registry(flood.feed.catalog)
    out: dict[str, list[Any]] = {
        "duplicated": [k for k, n in Counter((a.id, a.version) for a in published).items()
                       if n > 1],
        "missing": sorted(want.keys() - got.keys()), "extra": sorted(got.keys() - want.keys()),
        "sequence": [], "late": []}
    for key in want.keys() & got.keys():
        seen, versions = got[key], want[key]
        if [(a.status, a.severity) for a in seen] != [(a.status, a.severity) for a in versions]:
            out["sequence"].append((key, [(a.status, a.severity, a.date_modified.time())
                                          for a in seen]))
            continue
        device = devices.get(key[1])
        interval = device.interval_s if device else 60.0  # a ward's drains report each minute
        out["late"] += [(key, a.date_modified.time(), b.date_modified.time())
                        for a, b in zip(seen, versions, strict=True)
                        if abs((a.date_modified - b.date_modified).total_seconds()) > interval]
    return out


def assert_like_backtest(published: Sequence[Alert], flood: Flood) -> None:
    """Every alert version published once, and per (rule, subject) the backtest's sequence of
    statuses and severities, each change within one reading interval of the backtest's."""
    found = {k: v[:5] for k, v in backtest_differences(published, flood).items() if v}
    assert not found, f"the alert stream differs from the backtest: {found}"
