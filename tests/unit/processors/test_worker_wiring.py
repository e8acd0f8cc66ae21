"""Worker wiring without a broker: routing by owner ward and the detect agent's test context."""

from __future__ import annotations

import asyncio

import orjson
import pytest
from pydantic import SecretStr

from ioc.core.schemas import reading_to_json
from ioc.core.settings import Settings
from ioc.processors.worker.app import WorkerTopics, create_app, to_envelope
from ioc.processors.worker.routing import Router
from ioc.testing.factories import T0, drain, drainage_device, lamp_device, registry

REG = registry(drainage_device("a1"), drainage_device("a2"),
               lamp_device("l1", circuit="c9", ward="tan-xuan"),
               lamp_device("l2", circuit="c9", ward="tan-binh"))

# any login but the placeholder, which KafkaAccess refuses
SETTINGS = Settings(kafka_password=SecretStr("unit-login"))


def test_router_keys_devices_and_alerts_by_owner_ward() -> None:
    r = Router(REG)
    assert r.device_owner("a1") == "tan-phu"
    assert r.device_owner("l2") == "tan-xuan"  # a circuit is owned by its first lamp's ward
    assert r.alert_owner("flood.localized:tan-dong:20250602T030000Z") == "tan-dong"
    assert r.alert_owner("streetlight.circuit_outage:c9:20250602T030000Z") == "tan-xuan"
    assert r.alert_owner("flood.level:a2:20250602T030000Z") == "tan-phu"
    assert r.device_owner("zz") is None
    with pytest.raises(ValueError, match="unknown_owner"):
        to_envelope(r, "reading", b'{"deviceId": "zz"}')


def test_detect_agent_applies_owned_messages(captured_sends: list[tuple[str, dict]]) -> None:
    worker = create_app(SETTINGS, REG, WorkerTopics.prefixed("t-"), app_id="t-wiring")
    detect = worker.app.agents["detect"]
    router = Router(REG)

    async def run() -> None:
        async with detect.test_context() as agent:
            for i, dev in enumerate(("a1", "a1", "a2", "a2")):
                _, env = to_envelope(router, "reading",
                                     reading_to_json(drain(dev, T0.replace(second=i), 0.7)))
                await agent.put(env)

    asyncio.run(asyncio.wait_for(run(), 20))
    alerts = worker.detector.open_alerts()
    assert {a.rule for a in alerts} == {"flood.level", "flood.localized"}
    assert orjson.loads(alerts[0].to_json())["id"] == alerts[0].id
    published = {kw["key"].decode() for topic, kw in captured_sends if topic == "t-ioc.alerts"}
    assert published == {a.id for a in alerts}  # every alert change went to the alerts topic
