"""Checkpoints without a broker: a worker killed anywhere and restored from its checkpoints
publishes exactly the alert stream of an uninterrupted run; without them it does not."""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

import pytest

from ioc.core.alerts_topic import AlertFold
from ioc.core.ownership import owner_keys, owner_partition, partition_layout
from ioc.core.registry import Registry
from ioc.core.schemas import Alert, Reading
from ioc.processors.detector import Detector
from ioc.processors.rules.base import RuleSettings
from ioc.processors.worker.checkpoint import (
    MARKER,
    OWNED,
    TELEMETRY,
    Checkpoints,
    Marker,
    bounded_outbox,
)
from ioc.processors.worker.routing import Router
from ioc.testing.factories import ScenarioFeed, at, drain, drainage_device
from ioc.testing.factories import registry as make_registry

P = 4  # partitions
BATCH = 300  # records per batch and partition
COMMIT_EVERY = 3  # batches between offset commits (Faust commits on a timer)


class Killed(Exception):
    """The worker process died."""


class FakeLog:
    """The state topic: record batches per partition, folded on read."""

    def __init__(self) -> None:
        self.batches: dict[int, list[list[tuple[bytes, bytes]]]] = defaultdict(list)

    async def write(self, partition: int, records: Sequence[tuple[bytes, bytes]]) -> None:
        self.batches[partition].append(list(records))

    def read(self, partitions: Collection[int]) -> dict[int, dict[bytes, bytes]]:
        return {p: {k: v for batch in self.batches[p] for k, v in batch} for p in partitions}


@dataclass
class Cluster:
    """What outlives a worker: the telemetry partitions, commits, state and alerts topics."""

    parts: dict[int, list[Reading]]
    log: FakeLog | None
    committed: dict[int, int] = field(default_factory=lambda: dict.fromkeys(range(P), 0))
    published: list[Alert] = field(default_factory=list)
    lost: list[Alert] = field(default_factory=list)  # checkpointed, the worker died unpublished
    republished: int = 0


def _cluster(feed: ScenarioFeed, persistent: bool) -> Cluster:
    owners = owner_keys(Registry(feed.catalog))
    parts: dict[int, list[Reading]] = {p: [] for p in range(P)}
    for r in feed.readings:  # as the bridge writes them: on the owner ward's partition
        parts[owner_partition(owners[r.device_id], P)].append(r)
    return Cluster(parts, FakeLog() if persistent else None)


async def _run(cluster: Cluster, reg: Registry, kill_at: int | None = None,
               kill_before_publish: bool = False) -> None:
    """One worker life: restore, then batches round robin over the partitions from the
    committed offsets, until the feed ends or batch number `kill_at`."""
    det = Detector(reg, RuleSettings(silent_unseen=False), owner_tick_s=30.0)
    cp = Checkpoints(det, Router(reg), P, cluster.log)
    cp.restore(range(P), AlertFold(cluster.published).alerts.values())
    cluster.republished += cp.counts["republished"]
    position, n = dict(cluster.committed), 0
    while any(position[p] < len(cluster.parts[p]) for p in range(P)):
        for p in range(P):
            start = position[p]
            alerts = [a for off in range(start, min(start + BATCH, len(cluster.parts[p])))
                      if cp.fresh(TELEMETRY, p, off)
                      for a in det.process(cluster.parts[p][off])]
            cp.stage(alerts)
            n += 1
            dies = n == kill_at

            async def publish(out: list[Alert], dies: bool = dies) -> None:
                if dies and kill_before_publish:
                    cluster.lost += out
                    raise Killed  # after the checkpoint was written, before the alerts
                cluster.published.extend(out)

            await cp.commit(publish)
            position[p] = min(start + BATCH, len(cluster.parts[p]))
            if dies:
                raise Killed
            if n % COMMIT_EVERY == 0:
                cluster.committed.update(position)


def _lives(feed: ScenarioFeed, kills: Sequence[tuple[int, bool]], persistent: bool = True,
           ) -> Cluster:
    cluster, reg = _cluster(feed, persistent), Registry(feed.catalog)
    for kill_at, before_publish in kills:
        with pytest.raises(Killed):
            asyncio.run(_run(cluster, reg, kill_at, before_publish))
    asyncio.run(_run(cluster, reg))
    return cluster


def _episodes(alerts: list[Alert]) -> dict[tuple[str, str], list[Alert]]:
    out: dict[tuple[str, str], list[Alert]] = defaultdict(list)
    for a in alerts:
        out[(a.rule, a.subject)].append(a)
    return out


@pytest.fixture(scope="module")
def reference(flood_feed: ScenarioFeed) -> list[Alert]:
    """The alerts of one uninterrupted worker over the feed."""
    alerts = _lives(flood_feed, []).published
    assert {a.rule for a in alerts} >= {"flood.rising", "flood.level", "flood.localized"}
    return alerts


# batch n reads partition (n - 1) % 4; the flooded wards are on partitions 0 and 2, and
# batches 33-60 are mid-storm there (rise windows and level holds partly filled)
@pytest.mark.parametrize("kills", [
    [(13, False)],  # before the storm
    [(35, False)],  # mid-storm
    [(37, True)],  # ... and dead between writing the checkpoint and publishing its alerts
    [(41, False), (5, True), (30, False)],  # killed again and again
], ids=["calm", "storm", "storm-unpublished", "repeatedly"])
def test_restored_worker_publishes_the_uninterrupted_stream(
        flood_feed: ScenarioFeed, reference: list[Alert], kills: list[tuple[int, bool]]) -> None:
    cluster = _lives(flood_feed, kills)
    # each alert version exactly once, and per (rule, subject) the same versions in order
    published = cluster.published
    assert not [k for k, n in Counter((a.id, a.version) for a in published).items() if n > 1]
    assert _episodes(published) == _episodes(reference)
    assert cluster.republished == len(cluster.lost)  # what the dead worker did not publish


def test_a_kill_between_checkpoint_and_publish_is_made_good(flood_feed: ScenarioFeed) -> None:
    cluster = _lives(flood_feed, [(37, True)])
    assert cluster.lost and cluster.republished == len(cluster.lost)
    assert {(a.id, a.version) for a in cluster.lost} <= {(a.id, a.version)
                                                          for a in cluster.published}


def test_without_checkpoints_a_mid_storm_kill_changes_the_alerts(
        flood_feed: ScenarioFeed, reference: list[Alert]) -> None:
    published = _lives(flood_feed, [(35, False)], persistent=False).published
    assert _episodes(published) != _episodes(reference)


def test_records_the_checkpoint_reflects_are_skipped_after_a_restart() -> None:
    reg = make_registry(drainage_device("a1"))
    log, topic = FakeLog(), AlertFold()
    part = owner_partition("tan-phu", P)

    async def life(records: list[tuple[int, str]]) -> list[Alert]:
        """A worker that restores, then applies (offset, event) of the internal topic."""
        det = Detector(reg, RuleSettings(silent_unseen=False), owner_tick_s=30.0)
        cp = Checkpoints(det, Router(reg), P, log)
        cp.restore(range(P), topic.alerts.values())
        out: list[Alert] = []
        for offset, event in records:
            if cp.fresh(OWNED, part, offset):
                cp.stage(det.status("a1", "offline", at(60).timestamp()) if event == "offline"
                         else det.process(drain("a1", at(120), 0.3)))

            async def publish(alerts: list[Alert]) -> None:
                out.extend(alerts)
                for a in alerts:
                    topic.apply(a)

            await cp.commit(publish)
        return out

    first = asyncio.run(life([(0, "offline"), (1, "reading")]))
    assert [a.status for a in first] == ["open", "resolved"]  # its Last Will, then a reading
    # nothing was committed: a restart gets both records again, and must not re-open
    assert asyncio.run(life([(0, "offline"), (1, "reading")])) == []


def test_an_unreadable_marker_falls_back_to_the_open_alerts(
        caplog: pytest.LogCaptureFixture) -> None:
    reg = make_registry(drainage_device("a1"))
    first = Detector(reg)
    opened = [a for i in range(3) for a in first.process(drain("a1", at(60 * i), 0.7))]
    assert [a.rule for a in opened] == ["flood.level"]
    part = owner_partition("tan-phu", P)
    log = FakeLog()
    asyncio.run(log.write(part, [(b"d:a1", b"[]"), (MARKER, b'{"format": 99}')]))
    det = Detector(reg)
    assert Checkpoints(det, Router(reg), P, log).restore(range(P), opened) == 0
    assert "unreadable state marker" in caplog.text
    # seeded from the open alert, as without checkpoints: no second alert for the same flood
    assert [a.id for a in det.open_alerts()] == [opened[0].id]
    assert det.process(drain("a1", at(180), 0.7)) == []


def test_a_checkpoint_of_another_partition_layout_falls_back_to_the_open_alerts(
        caplog: pytest.LogCaptureFixture) -> None:
    reg = make_registry(drainage_device("a1"))
    first = Detector(reg)
    opened = [a for i in range(3) for a in first.process(drain("a1", at(60 * i), 0.7))]
    part = owner_partition("tan-phu", P)
    log = FakeLog()
    # written before layouts were named (wards placed by murmur2), with a stale offset
    legacy = Marker({TELEMETRY: 500, OWNED: 0}, ()).encode()
    asyncio.run(log.write(part, [(b"d:a1", b"[]"), (MARKER, legacy)]))
    det = Detector(reg)
    cp = Checkpoints(det, Router(reg), P, log)
    assert cp.restore(range(P), opened) == 0
    assert "partition layout" in caplog.text and cp.counts["other_layout_checkpoints"] == 1
    assert cp.fresh(TELEMETRY, part, 0)  # its offsets are not taken either
    assert [a.id for a in det.open_alerts()] == [opened[0].id]
    assert det.process(drain("a1", at(180), 0.7)) == []


def test_a_record_whose_owner_is_placed_on_another_partition_is_not_loaded() -> None:
    reg = make_registry(drainage_device("a1"), drainage_device("b1", ward="tan-dong"))
    here, there = owner_partition("tan-phu", P), owner_partition("tan-dong", P)
    assert here != there
    log = FakeLog()

    async def no_output(alerts: list[Alert]) -> None:
        return None

    async def life(det: Detector) -> None:
        cp = Checkpoints(det, Router(reg), P, log)
        for minute in (1, 2):
            cp.stage(det.process(drain("b1", at(60 * minute), 0.3)))
            await cp.commit(no_output)

    ref = Detector(reg, RuleSettings(silent_unseen=False), owner_tick_s=30.0)
    asyncio.run(life(ref))
    b1_then = dict(log.batches[there][0])[b"d:b1"]  # after its first reading only
    # left behind on a1's partition, as by a b1 that belonged to a ward placed there
    asyncio.run(log.write(here, [(b"d:b1", b1_then),
                                 (MARKER, Marker({}, (), partition_layout(P)).encode())]))
    det = Detector(reg, RuleSettings(silent_unseen=False), owner_tick_s=30.0)
    cp = Checkpoints(det, Router(reg), P, log)
    assert cp.restore([there, here], []) == 2  # the stale one read last
    assert det.state.last["b1"] == ref.state.last["b1"]
    assert cp.counts["foreign_state_records"] == 1


def test_marker_round_trips() -> None:
    reg = make_registry(drainage_device("a1"))
    alert = Detector(reg).process(drain("a1", at(0), 0.95))[0]
    marker = Marker({TELEMETRY: 12, OWNED: 3}, (alert,), partition_layout(P))
    assert Marker.decode(marker.encode()) == marker
    assert Marker.decode(Marker({TELEMETRY: 1}).encode()).layout == ""
    with pytest.raises(ValueError):
        Marker.decode(b'{"format": 1}')


def _big(alert_id: str, version: int, size: int) -> Alert:
    when = at(0)
    return Alert(id=alert_id, rule="flood.level", subject=alert_id, category="environment",
                 sub_category="flood", severity="high", alert_source=alert_id,
                 description="x" * size, date_issued=when, date_modified=when, version=version)


def test_outbox_within_budget_keeps_every_version() -> None:
    alerts = [_big("a", v, 1000) for v in (1, 2, 3)] + [_big("b", 1, 1000)]
    assert bounded_outbox(alerts, 10_000) == tuple(alerts)


def test_outbox_over_budget_keeps_latest_versions_newest_first_and_fits() -> None:
    alerts = [_big("a", v, 3000) for v in (1, 2, 3)] + [_big("b", 1, 3000), _big("c", 1, 3000)]
    kept = bounded_outbox(alerts, 7000)
    assert [(a.id, a.version) for a in kept] == [("b", 1), ("c", 1)]  # "a" last changed first
    assert sum(len(a.to_json()) for a in kept) <= 7000
    roomier = bounded_outbox(alerts, 12_000)
    assert [(a.id, a.version) for a in roomier] == [("a", 3), ("b", 1), ("c", 1)]


def test_state_of_a_checkpoint_that_failed_is_written_by_the_next() -> None:
    reg = make_registry(drainage_device("a1"))
    part = owner_partition("tan-phu", P)

    class FailOnce(FakeLog):
        calls = 0

        async def write(self, partition: int, records: Sequence[tuple[bytes, bytes]]) -> None:
            self.calls += 1
            if self.calls == 1:
                raise ConnectionError("kafka away")
            await super().write(partition, records)

    log = FailOnce()

    async def no_output(alerts: list[Alert]) -> None:
        return None

    async def run() -> None:
        det = Detector(reg, RuleSettings(silent_unseen=False), owner_tick_s=30.0)
        cp = Checkpoints(det, Router(reg), P, log)
        assert cp.fresh(TELEMETRY, part, 0)
        cp.stage(det.process(drain("a1", at(60), 0.3)))
        with pytest.raises(ConnectionError):
            await cp.commit(no_output)
        await cp.commit(no_output)  # nothing new processed in between

    asyncio.run(run())
    written = log.read([part])[part]
    assert written.pop(MARKER) and written, "the device state of the failed checkpoint"
    assert Marker.decode(log.batches[part][0][-1][1]).positions[TELEMETRY] == 1
