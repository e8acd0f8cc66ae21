"""The soak's hand-built MQTT publisher against the real broker: every message arrives, in
order, past the 16-bit packet id wrap; the gateway's ACL still refuses a foreign device."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import orjson

from ioc.bench.wire_publisher import WirePublisher
from ioc.core.settings import Settings
from ioc.core.topics import telemetry_topic
from ioc.testing.mqtt_logins import run_gateways
from tests.integration.mqtt_client import MqttTestClient, mqtt_connect

__all__ = ["mqtt_connect"]  # the fixture, used by name below

_COUNT = 66_000  # more than 65,535: packet ids wrap while earlier ones may be in flight


def test_every_message_arrives_in_order_past_the_packet_id_wrap(
        mqtt_service: Settings, mqtt_connect: Callable[..., MqttTestClient]) -> None:
    run = uuid.uuid4().hex[:8]
    ids = [f"wp{run}-{i}" for i in range(3)]
    topics = [telemetry_topic("drainage", d) for d in ids]
    reader = mqtt_connect(mqtt_service.mqtt_username,
                          mqtt_service.mqtt_password.get_secret_value())
    assert all(reader.subscribe(t) for t in topics)
    with run_gateways(mqtt_service, f"gw-wp-{run}-", "drainage", ids, per_gateway=2) as gws:
        pub = WirePublisher(mqtt_service, gws[0][0])
        try:
            for seq in range(_COUNT):
                pub.publish(topics[seq % 2], orjson.dumps({"seq": seq}))
            assert pub.wait_acked(120), f"acked {pub.acked} of {pub.sent}"
            assert (pub.sent, pub.acked, pub.refused) == (_COUNT, _COUNT, 0)
            pub.publish(topics[2], b"{}")  # gateway 1's device: the ACL refuses it
            assert pub.wait_acked(30) and pub.refused == 1
        finally:
            pub.close()
    deadline = time.monotonic() + 120
    while len(reader.messages) < _COUNT and time.monotonic() < deadline:
        time.sleep(0.1)  # polling the subscriber's count, with a deadline
    got = {t: [orjson.loads(p)["seq"] for topic, p in reader.messages if topic == t]
           for t in topics}
    assert got[topics[0]] == list(range(0, _COUNT, 2))
    assert got[topics[1]] == list(range(1, _COUNT, 2))
    assert got[topics[2]] == []
