"""Co-partitioning by owner ward: the bridge's partitioner, the worker's routing and Faust's
partition assignment agree."""

from __future__ import annotations

import asyncio
from collections import Counter
from types import SimpleNamespace
from typing import Any

import faust
import orjson
import pytest
from aiokafka.partitioner import DefaultPartitioner as AioDefaultPartitioner
from faust.assignor.client_assignment import ClientAssignment, ClientMetadata
from faust.assignor.partition_assignor import PartitionAssignor
from kafka.partitioner import DefaultPartitioner
from pydantic import SecretStr

from ioc.core import envelope
from ioc.core.envelope import Kind
from ioc.core.kafka_auth import KafkaAccess
from ioc.core.ownership import OWNER_HEADER, owner_keys, owner_partition
from ioc.core.registry import WARDS
from ioc.core.schemas import reading_to_json
from ioc.core.settings import Settings
from ioc.ingest.bridge import Bridge, BridgeConfig
from ioc.ingest.kafka_sink import KafkaSink, OwnerPartitioner, SinkConfig
from ioc.ingest.mqtt_source import MqttConfig
from ioc.processors.worker.app import Batch, ReadingHandler, WorkerTopics, create_app
from ioc.processors.worker.parts import Outbox
from ioc.processors.worker.routing import Router
from ioc.testing.factories import T0, drain, drainage_device, lamp_device, registry

REG = registry(drainage_device("a1"), drainage_device("b1", ward="tan-binh"),
               lamp_device("l1", circuit="c9", ward="tan-xuan"),
               lamp_device("l2", circuit="c9", ward="tan-binh"))

# any login but the placeholder, which KafkaAccess refuses
SETTINGS = Settings(kafka_password=SecretStr("unit-login"))


class Cluster:
    """The part of kafka-python's ClusterMetadata a partitioner reads."""

    def __init__(self, partitions: int) -> None:
        self._parts = set(range(partitions))

    def topics(self) -> set[str]:
        return {"t"}

    def partitions_for_topic(self, topic: str) -> set[int]:
        return self._parts

    def available_partitions_for_topic(self, topic: str) -> set[int]:
        return self._parts


@pytest.mark.parametrize("partitions", [1, 2, 3, 4, 5, 8, 12])
def test_wards_are_dealt_evenly_over_the_partitions(partitions: int) -> None:
    # murmur2 of the ward keys put 6 of 8 wards on one of 2 partitions and left one of 4 empty
    per_partition = Counter(owner_partition(ward, partitions) for ward in WARDS)
    assert set(per_partition) == set(range(min(partitions, len(WARDS))))
    assert max(per_partition.values()) - min(per_partition.values()) <= 1
    # registry order decides: the first ward on partition 0, the next on 1, ...
    assert [owner_partition(w, partitions) for w in list(WARDS)[:2]] == \
        [0, 1 % partitions]


@pytest.mark.parametrize("partitions", [1, 3, 4, 8, 12])
def test_other_owner_keys_take_kafkas_default_partition(partitions: int) -> None:
    for key in (b"not-a-ward", b"circuit-9", b"\xc3\xa1"):
        expected = DefaultPartitioner().partition("t", key, key, None, None,
                                                  Cluster(partitions))
        assert owner_partition(key.decode(), partitions) == expected
        assert AioDefaultPartitioner()(key, list(range(partitions)), []) == expected


def test_outbox_places_rerouted_records_on_their_owners_partition() -> None:
    sent: list[dict[str, Any]] = []

    class Topic:
        async def send(self, **kw: Any) -> Any:
            sent.append(kw)
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            future.set_result(None)
            return future

    router = Router(REG)
    outbox = Outbox(Counter(), Topic(), Topic(), Topic(),
                    lambda owner: router.partition_of(owner, 4))
    asyncio.run(outbox.publish(Batch(reroute=[("tan-dong", b"e1"), ("tan-binh", b"e2")])))
    assert [(s["key"], s["partition"]) for s in sent] == [
        (b"tan-dong", owner_partition("tan-dong", 4)),
        (b"tan-binh", owner_partition("tan-binh", 4))]
    # neither is where the producer's own hash of the key would have put it
    assert all(s["partition"] != AioDefaultPartitioner()(s["key"], [0, 1, 2, 3], [])
               for s in sent)


def test_bridge_partitioner_places_devices_on_their_owners_partition() -> None:
    keys = {d.encode(): o.encode() for d, o in owner_keys(REG).items()}
    part = OwnerPartitioner(keys)
    cluster = Cluster(4)
    for device, owner in owner_keys(REG).items():
        assert part.partition("t", None, device.encode(), None, None, cluster) \
            == owner_partition(owner, 4)
    # a lamp follows its circuit's ward, so its circuit's lamps meet on one partition
    assert owner_keys(REG)["l2"] == "tan-xuan"
    # unknown keys keep Kafka's default (hash of the key itself)
    assert part.partition("t", None, b"zz", None, None, cluster) \
        == DefaultPartitioner().partition("t", b"zz", b"zz", None, None, cluster)


def test_bridge_configures_the_owner_partitioner_from_its_registry() -> None:
    source = SimpleNamespace(ack=lambda *a: None, ready=True)
    mqtt = MqttConfig(host="h", port=1, username="u", password="p", share_group=None,
                      client_id="b")
    config = BridgeConfig("b", mqtt, SinkConfig(KafkaAccess("k:9092", "PLAINTEXT"), "b"))
    bridge = Bridge(config, REG, source_factory=lambda *a: source)
    assert bridge.config.sink.partition_keys[b"l2"] == b"tan-xuan"
    off = Bridge(BridgeConfig("b", config.mqtt, config.sink, co_partition=False), REG,
                 source_factory=lambda *a: source)
    assert not off.config.sink.partition_keys


def test_sink_marks_records_placed_by_their_owner(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[dict[str, Any]] = []

    class Producer:
        def __init__(self, **options: Any) -> None:
            assert isinstance(options["partitioner"], OwnerPartitioner)

        def send(self, topic: str, **kw: Any) -> Any:
            sent.append(kw)
            return SimpleNamespace(add_callback=lambda *a: None, add_errback=lambda *a: None)

    monkeypatch.setattr("ioc.ingest.kafka_sink.KafkaProducer", Producer)
    sink = KafkaSink(SinkConfig(KafkaAccess("k:9092", "PLAINTEXT"), "b",
                                partition_keys={b"a1": b"tan-phu"}))
    for key in (b"a1", b"zz", None):
        sink.send("t", key, b"{}", (("x", b"1"),), print, print, None)
    assert [s["headers"] for s in sent] == [[("x", b"1"), (OWNER_HEADER, b"tan-phu")],
                                            [("x", b"1")], [("x", b"1")]]


def _value(dev: str, second: int, level: float) -> bytes:
    return reading_to_json(drain(dev, T0.replace(second=second), level))


def test_reading_handler_applies_owned_and_reroutes_misplaced_readings() -> None:
    worker = create_app(SETTINGS, REG, WorkerTopics.prefixed("t-"), app_id="t-handler")
    router = Router(REG)
    handler = ReadingHandler(worker.detector, router, partitions=4)
    own = router.partition_of("tan-phu", 4)
    batch = Batch()
    handler.apply(own, b"a1", _value("a1", 1, 0.7), batch, b"tan-phu")
    handler.apply((own + 1) % 4, b"a1", _value("a1", 2, 0.7), batch, b"tan-phu")
    handler.apply(own, b"a1", _value("a1", 3, 0.7), batch)  # not placed by owner: re-key
    handler.apply(own, b"a1", _value("a1", 4, 0.7), batch, b"tan-dong")  # registries differ
    handler.apply(own, b"zz", _value("zz", 5, 0.7), batch, b"tan-phu")
    handler.apply(own, b"a1", b"{not json", batch, b"tan-phu")
    assert [a.rule for a in batch.alerts] == ["flood.level"]
    assert [(o, orjson.loads(e)["k"]) for o, e in batch.reroute] == [("tan-phu", "r")] * 3
    assert orjson.loads(batch.reroute[0][1])["v"]["deviceId"] == "a1"
    assert [r.split(":")[1] for _, _, r in batch.dead] == ["unknown_owner", "bad_reading"]

    everything = Batch()  # not co-partitioned: every reading takes the internal topic
    ReadingHandler(worker.detector, router, None).apply(own, b"b1", _value("b1", 4, 0.2),
                                                       everything, b"tan-binh")
    assert [o for o, _ in everything.reroute] == ["tan-binh"] and not everything.alerts


def test_detect_readings_agent_runs_rules_on_owned_partitions() -> None:
    worker = create_app(SETTINGS, REG, WorkerTopics.prefixed("t-"), app_id="t-direct",
                        partitions=4)
    agent = worker.app.agents["detect_readings"]
    own = Router(REG).partition_of("tan-phu", 4)

    async def run() -> None:
        async with agent.test_context() as ctx:
            for i, dev in enumerate(("a1", "a1")):
                await ctx.put(_value(dev, i, 0.7), key=dev.encode(), partition=own,
                              headers={OWNER_HEADER: b"tan-phu"}, wait=False)
            # the agent takes what has queued; poll, not sleep blindly
            for _ in range(200):
                if worker.counts["readings"] >= 2:
                    break
                await asyncio.sleep(0.01)

    asyncio.run(asyncio.wait_for(run(), 20))
    assert worker.counts["readings"] == 2
    assert [a.rule for a in worker.detector.open_alerts()] == ["flood.level"]


def test_faust_assigns_copartitioned_topics_together() -> None:
    """Faust gives partition p of every co-subscribed topic with the same partition count to
    one member: what makes the direct telemetry path a single writer per ward."""
    app = faust.App("t-assign", broker="kafka://localhost:1")
    topics = ["x.telemetry", "x.worker-owned", "x.device-status", "x.alert-commands"]
    meta = ClientMetadata(assignment=ClientAssignment(actives={}, standbys={}),
                          url="http://w", changelog_distribution={})
    members: dict[str, Any] = {f"m{i}": SimpleNamespace(subscription=topics,
                                                        user_data=meta.dumps())
                               for i in range(3)}
    cluster = SimpleNamespace(partitions_for_topic=lambda t: set(range(4)))
    assignor = app.assignor  # typed as the protocol; the real class has the method
    assert isinstance(assignor, PartitionAssignor)
    result = assignor._perform_assignment(cluster, members)
    owners: dict[int, set[str]] = {}
    for member, assignment in result.items():
        for _topic, parts in assignment.assignment:
            for p in parts:
                owners.setdefault(p, set()).add(member)
    assert sorted(owners) == [0, 1, 2, 3]
    assert all(len(m) == 1 for m in owners.values()), owners
    assert all(len(dict(a.assignment)) == 4 for a in result.values() if a.assignment)


def test_detect_agent_sends_a_misplaced_internal_record_on_to_its_owners_partition() -> None:
    worker = create_app(SETTINGS, REG, WorkerTopics.prefixed("t-"), app_id="t-owned",
                        partitions=4)
    agent = worker.app.agents["detect"]
    own = Router(REG).partition_of("tan-phu", 4)
    offline = envelope.encode(Kind.STATUS, {"device": "a1", "status": "offline",
                                            "at": T0.timestamp()})

    async def put(partition: int, seen: int) -> None:
        async with agent.test_context() as ctx:
            await ctx.put(offline, key=b"tan-phu", partition=partition, wait=False)
            # the agent takes what has queued; poll, not sleep blindly
            for _ in range(200):
                if worker.counts["misplaced_internal"] + len(worker.detector.open_alerts()) \
                        >= seen:
                    break
                await asyncio.sleep(0.01)

    # placed by a hash of the key, say: not applied here, re-sent to tan-phu's partition
    asyncio.run(asyncio.wait_for(put((own + 1) % 4, 1), 20))
    assert worker.counts["misplaced_internal"] == 1 and worker.counts["rerouted"] == 1
    assert worker.detector.open_alerts() == []
    asyncio.run(asyncio.wait_for(put(own, 2), 20))  # on its owner's partition: applied
    assert [a.rule for a in worker.detector.open_alerts()] == ["device.silent"]
    assert worker.counts["misplaced_internal"] == 1
