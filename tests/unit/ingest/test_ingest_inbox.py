"""The bridge's bounded hand-over: QoS 0 beyond the caps dropped and counted, QoS 1 never;
the default client id is stable per host and keyed with the bridge's id tag."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from ioc.core.errors import ConfigError
from ioc.core.settings import DEV_PLACEHOLDER, Settings
from ioc.ingest.bridge import Bridge
from ioc.ingest.config import bridge_config, default_client_id, instance_name
from ioc.ingest.inbox import Inbox
from tests.unit.ingest.fake_bridge import (
    TOPIC,
    FakeSink,
    FakeSource,
    payload,
    running_bridge,
    wait_for,
)


def test_inbox_caps_qos0_by_count_and_bytes_but_never_drops_qos1() -> None:
    inbox = Inbox(qos0_max_messages=3, qos0_max_bytes=100)
    assert all(inbox.put(("q0", i), 10, 0) for i in range(3))
    assert not inbox.put(("q0", 3), 10, 0)  # count cap
    assert all(inbox.put(("q1", i), 1000, 1) for i in range(50))  # QoS 1: never dropped
    assert inbox.dropped == 1 and len(inbox) == 53 and inbox.bytes == 30 + 50_000
    assert inbox.get_many(1) == [("q0", 0)]
    assert inbox.put(("q0", 4), 10, 0)  # room again
    assert not inbox.put(("q0", 5), 71, 0)  # byte cap: 3 x 10 + 71 > 100
    inbox.close()
    drained, sizes = [], []
    while (items := inbox.get_many(20)) is not None:
        drained += items
        sizes.append(len(items))
    assert drained == [("q0", 1), ("q0", 2), *(("q1", i) for i in range(50)), ("q0", 4)]
    assert inbox.bytes == 0 and sizes == [20, 20, 13]
    assert inbox.get_many() is None  # stays closed


@pytest.fixture
def stalled_bridge() -> Iterator[tuple[Bridge, FakeSource, FakeSink]]:
    """A bridge whose Kafka refuses sends until told otherwise, with small QoS 0 caps."""
    # Kafka away: the worker keeps retrying the first message
    with running_bridge(kafka_unavailable=10**9, qos0_queue_messages=5,
                        qos0_queue_bytes=1 << 20) as (bridge, source, sink, _):
        yield bridge, source, sink


def test_qos0_flood_is_bounded_and_counted_while_qos1_waits_unacked(
        stalled_bridge: tuple[Bridge, FakeSource, FakeSink]) -> None:
    bridge, source, sink = stalled_bridge
    source.deliver(TOPIC, payload(0), 0, 0, time.time())
    wait_for(lambda: bridge.metrics.value("ioc_bridge_received_total") == 1)  # worker stuck
    for mid in range(1, 1001):
        source.deliver(TOPIC, payload(mid), 0, 0, time.time())
    for mid in range(1, 21):
        source.deliver(TOPIC, payload(mid), mid, 1, time.time())
    assert bridge.metrics.value("ioc_bridge_dropped_total", reason="qos0_queue_full") == 995
    assert bridge.metrics.value("ioc_bridge_queued") == 5 + 20
    assert source.acks == []  # nothing acked while Kafka refuses
    sink.unavailable = 0
    wait_for(lambda: len(sink.sent) == 1 + 5 + 20, timeout=20)
    for i in range(len(sink.sent)):
        sink.ok(i)
    assert [m for m in source.acks if m] == list(range(1, 21))  # QoS 1, once forwarded
    assert bridge.metrics.value("ioc_bridge_queued") == 0


def _settings(password: str, tag: str | None = "tag-one") -> Settings:
    return Settings(mqtt_password=SecretStr(password), kafka_password=SecretStr("unit-login"),
                    bridge_id_tag=SecretStr(tag) if tag is not None else None)


def test_default_client_id_is_stable_and_keyed_with_the_bridge_id_tag() -> None:
    first = default_client_id(_settings("secret-one"))
    assert first == default_client_id(_settings("secret-one"))  # the session survives
    # a rotated password keeps the id, so the broker hands back the queued session
    assert first == default_client_id(_settings("secret-two"))
    assert first != default_client_id(_settings("secret-one", tag="tag-two"))
    assert first.startswith(instance_name() + "-") and len(first) == len(instance_name()) + 17
    assert "tag-one" not in first and "secret-one" not in first
    config = bridge_config(_settings("secret-one"))
    assert config.mqtt.client_id == first
    assert config.bridge_id == instance_name()  # the tag stays out of Kafka headers
    assert bridge_config(_settings("x"), client_id="mine").mqtt.client_id == "mine"


@pytest.mark.parametrize("tag", [None, "", DEV_PLACEHOLDER])
def test_no_id_tag_is_a_config_error_not_a_guessable_id(tag: str | None) -> None:
    with pytest.raises(ConfigError, match="IOC_BRIDGE_ID_TAG"):
        default_client_id(_settings("secret-one", tag=tag))
    assert bridge_config(_settings("x", tag=tag), client_id="mine").mqtt.client_id == "mine"
