"""The routing agents ack a record only once its re-keyed envelope is in Kafka."""

from __future__ import annotations

import asyncio
from typing import Any

import faust.topics
import orjson
import pytest
from pydantic import SecretStr

from ioc.core.settings import Settings
from ioc.processors.worker.app import Tuning, WorkerTopics, create_app
from ioc.testing.factories import drainage_device, registry

REG = registry(drainage_device("a1"))
SETTINGS = Settings(kafka_password=SecretStr("unit-login"))


def test_a_status_is_acked_only_after_its_envelope_is_sent(
        monkeypatch: pytest.MonkeyPatch) -> None:
    sends: list[str] = []
    release = asyncio.Event()  # made in the test's loop below

    async def send(self: faust.topics.Topic, *args: Any, **kwargs: Any) -> asyncio.Future[None]:
        sends.append(self.get_topic_name())
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if len(sends) == 1:  # the first send fails (Kafka away); the retry waits for the test
            done.set_exception(ConnectionError("kafka away"))
        else:
            asyncio.ensure_future(release.wait()).add_done_callback(
                lambda _: done.set_result(None))
        return done

    monkeypatch.setattr(faust.topics.Topic, "send", send)
    worker = create_app(SETTINGS, REG, WorkerTopics.prefixed("t-"), app_id="t-acks",
                        tuning=Tuning(commit_retry_s=0.01))
    status = orjson.dumps({"deviceId": "a1", "status": "online",
                           "at": "2025-06-02T03:00:00+00:00"})
    seen: list[tuple[int, bool]] = []

    async def until(condition: Any) -> None:
        deadline = asyncio.get_running_loop().time() + 10
        while not condition() and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.01)

    async def run() -> None:
        async with worker.app.agents["route_status"].test_context() as agent:
            event = await agent.put(status, key=b"a1", wait=False)
            await until(lambda: len(sends) == 2)  # failed once, resent without new input
            seen.append((worker.counts["commit_errors"], event.message.acked))
            release.set()
            await until(lambda: event.message.acked)
            seen.append((worker.counts["commit_errors"], event.message.acked))

    asyncio.run(asyncio.wait_for(run(), 20))
    assert sends == ["t-ioc.worker-owned"] * 2
    assert seen == [(1, False), (1, True)]
