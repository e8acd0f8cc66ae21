"""Partition moves without a broker: which wards and alerts a worker keeps, drops, restores."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from pydantic import SecretStr

from ioc.core.ownership import owner_partition
from ioc.core.schemas import Alert, reading_to_json
from ioc.core.settings import Settings
from ioc.processors.detector import Detector
from ioc.processors.rules.base import RuleSettings
from ioc.processors.worker.app import Batch, ReadingHandler, WorkerTopics, create_app
from ioc.processors.worker.parts import Ownership
from ioc.processors.worker.routing import Router
from ioc.testing.factories import T0, at, drain, drainage_device, lamp_device, registry

P = 8
REG = registry(drainage_device("a1"), drainage_device("b1", ward="tan-binh"),
               lamp_device("l1", circuit="c9", ward="tan-xuan"),
               lamp_device("l2", circuit="c9", ward="tan-binh"))
PHU, BINH, XUAN = (owner_partition(w, P) for w in ("tan-phu", "tan-binh", "tan-xuan"))

# any login but the placeholder, which KafkaAccess refuses
SETTINGS = Settings(kafka_password=SecretStr("unit-login"))


def test_wards_hash_to_distinct_partitions() -> None:
    assert len({PHU, BINH, XUAN}) == 3  # the tests below rely on it


def _flood(det: Detector, dev: str, t0: float = 0) -> list[Alert]:
    return [a for i in range(3) for a in det.process(drain(dev, at(t0 + 60 * i), 0.9))]


def test_ownership_keeps_owners_and_alerts_of_its_partitions() -> None:
    own = Ownership(REG, "t-owned", P)
    assert own.paused and not own.assigned
    tps = [SimpleNamespace(topic="t-owned", partition=PHU),
           SimpleNamespace(topic="t-telemetry", partition=BINH)]
    assert own.partitions_of(tps) == {PHU}
    assert own.reassign({PHU, BINH}) == (frozenset(), {PHU, BINH})
    assert not own.paused
    assert own.reassign({PHU, XUAN}) == ({BINH}, {XUAN})
    assert own.owners_in({BINH}) == {"tan-binh"}
    assert own.owners_in({XUAN}) == {"tan-xuan"}  # owns circuit c9 (first lamp's ward)
    det = Detector(REG)
    alerts = _flood(det, "a1") + _flood(det, "b1")
    kept = own.alerts_in(alerts, {PHU})
    assert kept and {a.subject for a in kept} == {"a1"}
    assert own.alerts_in([*alerts], set()) == []


def test_drop_owners_forgets_state_and_alerts_of_moved_wards() -> None:
    det = Detector(REG, RuleSettings(silent_unseen=False))
    _flood(det, "a1")
    _flood(det, "b1")
    assert {a.subject for a in det.open_alerts()} == {"a1", "b1"}
    assert det.drop_owners({"tan-binh"}) == 1
    assert {a.subject for a in det.open_alerts()} == {"a1"}
    # the tick no longer judges b1: only a1 falls silent
    silent = [a for a in det.tick(at(86_400).timestamp()) if a.rule == "device.silent"]
    assert [a.subject for a in silent] == ["a1"]
    # b1's last reading again is not stale: its state was forgotten
    det.process(drain("b1", at(120), 0.9))
    assert det.counts["stale_or_duplicate"] == 0


def test_worker_rebalance_drops_lost_and_restores_gained_wards() -> None:
    published = _flood(Detector(REG), "a1") + _flood(Detector(REG), "b1")
    topics = WorkerTopics.prefixed("t-")
    worker = create_app(SETTINGS.model_copy(update={"kafka_partitions": P}), REG, topics,
                        app_id="t-own", alert_source=lambda: published)

    def assign(*parts: int) -> tuple[int, int]:
        return worker.rebalance([SimpleNamespace(topic=topics.owned, partition=p)
                                 for p in parts])

    assert assign(PHU) == (0, 1)  # only a1's alert is this worker's
    assert [a.subject for a in worker.detector.open_alerts()] == ["a1"]
    assert assign(PHU, BINH) == (0, 1)  # gained b1's ward: its alert, not a1's again
    assert {a.subject for a in worker.detector.open_alerts()} == {"a1", "b1"}
    assert assign(BINH) == (1, 0)
    assert [a.subject for a in worker.detector.open_alerts()] == ["b1"]


def test_reading_handler_dead_letters_a_reading_the_rules_fail_on(
        monkeypatch: pytest.MonkeyPatch) -> None:
    det = Detector(REG)
    handler = ReadingHandler(det, Router(REG), partitions=P)

    def boom(reading: object) -> list[Alert]:
        raise ZeroDivisionError("rule bug")

    monkeypatch.setattr(det, "process", boom)
    batch, value = Batch(), reading_to_json(drain("a1", T0, 0.9))
    handler.apply(PHU, b"a1", value, batch, b"tan-phu")
    assert batch.dead == [(b"a1", value, "worker:ZeroDivisionError:rule bug")]
    assert handler.counts["detect_errors"] == 1 and not batch.alerts


def test_detect_readings_agent_survives_a_rule_error(monkeypatch: pytest.MonkeyPatch) -> None:
    worker = create_app(SETTINGS, REG, WorkerTopics.prefixed("t-"), app_id="t-guard",
                        partitions=4)
    real, calls = worker.detector.process, []

    def flaky(reading: object) -> list[Alert]:
        calls.append(reading)
        if len(calls) == 1:
            raise RuntimeError("first one fails")
        return real(reading)  # type: ignore[arg-type]

    monkeypatch.setattr(worker.detector, "process", flaky)
    agent = worker.app.agents["detect_readings"]
    own = Router(REG).partition_of("tan-phu", 4)

    async def run() -> None:
        async with agent.test_context() as ctx:
            for i in range(3):
                await ctx.put(reading_to_json(drain("a1", at(60 * i), 0.9)), key=b"a1",
                              partition=own, headers={"ioc-owner": b"tan-phu"}, wait=False)
            for _ in range(200):  # poll the condition, with a deadline
                if worker.counts["readings"] >= 3 and worker.counts["deadletter"]:
                    break
                await asyncio.sleep(0.01)

    asyncio.run(asyncio.wait_for(run(), 20))
    assert worker.counts["readings"] == 3 and len(calls) == 3
    assert worker.counts["detect_errors"] == 1 and worker.counts["deadletter"] == 1
