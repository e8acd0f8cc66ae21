"""Splitting the bridge over N processes: disjoint, complete device sets; the skipping
member acks other members' readings in order without forwarding them."""

from __future__ import annotations

import time

import pytest

from ioc.bench.loadgen import traffic_devices
from ioc.core.errors import ConfigError
from ioc.core.registry import Registry
from ioc.core.topics import MQTT_TELEMETRY_FILTER, telemetry_topic
from ioc.ingest.members import SOLO, Membership
from ioc.ingest.mqtt_source import MqttConfig
from tests.unit.ingest.fake_bridge import TOPIC, payload, running_bridge, wait_for

REGISTRY = Registry(traffic_devices("m-", 200))


@pytest.mark.parametrize("count", [2, 3, 4])
def test_every_device_is_forwarded_by_exactly_one_member(count: int) -> None:
    members = [Membership(i, count) for i in range(count)]
    everyone = {d.id for d in REGISTRY}
    skipped_by_0 = members[0].skipped_devices(REGISTRY)
    by_topic = [set(m.telemetry_topics(REGISTRY) or ()) for m in members[1:]]
    forwarded_elsewhere = [{t.split("/")[3] for t in topics} for topics in by_topic]
    assert members[0].telemetry_topics(REGISTRY) is None  # the wildcard: unknown ids too
    assert set().union(*forwarded_elsewhere) == skipped_by_0
    assert sum(len(s) for s in forwarded_elsewhere) == len(skipped_by_0)  # disjoint
    assert everyone - skipped_by_0 == {d for d in everyone if members[0].owner(d) == 0}
    assert all(len(s) > 0 for s in forwarded_elsewhere)  # 200 devices spread over all


def test_solo_subscribes_the_wildcard_and_skips_nothing() -> None:
    assert SOLO.telemetry_topics(REGISTRY) is None
    assert SOLO.skipped_devices(REGISTRY) == frozenset()
    assert SOLO.client_id("b") == "b"
    assert Membership(1, 3).client_id("b") == "b-m1of3"


def test_member_specs_are_parsed_and_checked() -> None:
    assert Membership.parse("1/2") == Membership(1, 2)
    for bad in ("2/2", "x", "1/0", "-1/2"):
        with pytest.raises(ConfigError):
            Membership.parse(bad)
    with pytest.raises(ConfigError, match="registry"):
        Membership(1, 2).telemetry_topics(None)


def test_exact_topics_replace_the_wildcard_subscription() -> None:
    topics = (telemetry_topic("traffic", "a"), telemetry_topic("traffic", "b"))
    subs = MqttConfig("h", 1, None, None, "c", None, telemetry_topics=topics,
                      status_filter=None).subscriptions()
    assert [t for t, _ in subs] == list(topics)
    assert MqttConfig("h", 1, None, None, "c", None, telemetry_topics=(),
                      status_filter=None).subscriptions() == []
    wildcard = MqttConfig("h", 1, None, None, "c", None, status_filter=None).subscriptions()
    assert [t for t, _ in wildcard] == [MQTT_TELEMETRY_FILTER]


def test_thousands_of_exact_topics_go_in_several_subscribe_packets() -> None:
    topics = tuple(telemetry_topic("drainage", f"sk12345678-{i:05d}") for i in range(2500))
    config = MqttConfig("h", 1, None, None, "c", None, telemetry_topics=topics)
    packets = config.subscribe_packets()
    assert len(packets) > 1
    assert [t for p in packets for t, _ in p] == [t for t, _ in config.subscriptions()]
    # the broker's max_packet_size is 17,408 bytes (ioc.devstack.mosquitto)
    assert all(sum(len(t) + 3 for t, _ in p) <= 12 * 1024 for p in packets)


def test_readings_of_skipped_devices_are_acked_in_order_and_not_forwarded() -> None:
    other = "ioc/v1/traffic/cam-9/telemetry"
    with running_bridge(skip_devices=frozenset({"cam-9"})) as (bridge, source, sink, _):
        source.deliver(TOPIC, payload(1), 1, 1, time.time())
        source.deliver(other, payload(2), 2, 1, time.time())
        source.deliver(TOPIC, payload(3), 3, 1, time.time())
        wait_for(lambda: len(sink.sent) == 2)
        assert [s[0] for s in sink.sent] == ["x-ioc.telemetry"] * 2
        assert source.acks == []  # 2 waits behind 1, which Kafka has not confirmed
        sink.ok(0)
        wait_for(lambda: source.acks == [1, 2])
        sink.ok(1)
        wait_for(lambda: source.acks == [1, 2, 3])
        assert bridge.metrics.value("ioc_bridge_skipped_total") == 1
