"""Worker wiring without a broker: routing by owner ward, the agents' test contexts, and
acks only once a batch's output is in Kafka."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Sequence
from types import SimpleNamespace
from typing import Any

import faust.topics
import orjson
import pytest
from pydantic import SecretStr

from ioc.core.schemas import reading_to_json
from ioc.core.settings import Settings
from ioc.processors.worker.app import Tuning, Worker, WorkerTopics, create_app, to_envelope
from ioc.processors.worker.checkpoint import MARKER, Marker
from ioc.processors.worker.routing import Router
from ioc.testing.factories import T0, drain, drainage_device, lamp_device, registry

REG = registry(drainage_device("a1"), drainage_device("a2"),
               lamp_device("l1", circuit="c9", ward="tan-xuan"),
               lamp_device("l2", circuit="c9", ward="tan-binh"))

# any login but the placeholder, which KafkaAccess refuses
SETTINGS = Settings(kafka_password=SecretStr("unit-login"))


async def _until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll `condition` in the agent's loop until true or the deadline passes."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition() and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.01)


def _published(sends: list[tuple[str, dict]]) -> set[str]:
    return {kw["key"].decode() for topic, kw in sends if topic == "t-ioc.alerts"}


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
                await agent.put(env, wait=False)  # the agent reads its queue, not the stream
            # the agent publishes after its batch: poll for it, with a deadline
            await _until(lambda: _published(captured_sends) >= {
                a.id for a in worker.detector.open_alerts()} and len(
                worker.detector.open_alerts()) >= 2)

    asyncio.run(asyncio.wait_for(run(), 20))
    alerts = worker.detector.open_alerts()
    assert {a.rule for a in alerts} == {"flood.level", "flood.localized"}
    assert orjson.loads(alerts[0].to_json())["id"] == alerts[0].id
    # every alert change went to the alerts topic
    assert _published(captured_sends) == {a.id for a in alerts}


def test_detect_agent_checkpoints_before_it_publishes(
        captured_sends: list[tuple[str, dict]]) -> None:
    class Log:
        """A state log that notes its writes among the captured sends."""

        async def write(self, partition: int, records: Sequence[tuple[bytes, bytes]]) -> None:
            captured_sends.append(("<state>", {"partition": partition, "records": records}))

        def read(self, partitions: Collection[int]) -> dict[int, dict[bytes, bytes]]:
            return {p: {} for p in partitions}

    worker = create_app(SETTINGS, REG, WorkerTopics.prefixed("t-"), app_id="t-ckpt",
                        state_log=Log())
    router = Router(REG)

    async def run() -> None:
        async with worker.app.agents["detect"].test_context() as agent:
            for i, dev in enumerate(("a1", "a1", "a2", "a2")):
                _, env = to_envelope(router, "reading",
                                     reading_to_json(drain(dev, T0.replace(second=i), 0.7)))
                await agent.put(env, wait=False)  # the agent reads its queue, not the stream
            await _until(lambda: len(_published(captured_sends)) >= 2)

    asyncio.run(asyncio.wait_for(run(), 20))
    order = [topic for topic, _ in captured_sends]
    assert "t-ioc.alerts" in order
    assert order.index("<state>") < order.index("t-ioc.alerts")
    # every alert was in a checkpoint's outbox before it went out
    writes = [kw for topic, kw in captured_sends if topic == "<state>"]
    outboxes = {a.id for kw in writes for key, value in kw["records"] if key == MARKER
                for a in Marker.decode(value).outbox}
    assert outboxes == {kw["key"].decode() for topic, kw in captured_sends
                        if topic == "t-ioc.alerts"}
    keys = {key for kw in writes for key, _ in kw["records"]}
    assert {b"d:a1", b"d:a2", b"w:tan-phu", b"o:tan-phu"} <= keys


def test_rerouted_readings_leave_before_the_checkpoint_that_skips_them(
        captured_sends: list[tuple[str, dict]]) -> None:
    class Log:
        async def write(self, partition: int, records: Sequence[tuple[bytes, bytes]]) -> None:
            captured_sends.append(("<state>", {"partition": partition}))

        def read(self, partitions: Collection[int]) -> dict[int, dict[bytes, bytes]]:
            return {p: {} for p in partitions}

    parts = 4
    worker = create_app(SETTINGS, REG, WorkerTopics.prefixed("t-"), app_id="t-reroute",
                        partitions=parts, state_log=Log())
    own = Router(REG).partition_of("tan-phu", parts)

    async def run() -> None:
        async with worker.app.agents["detect_readings"].test_context() as agent:
            # one reading placed by its owner (judged here), one without the owner header
            # (sent on through the internal topic), in one batch of the same partition
            await agent.put(reading_to_json(drain("a1", T0, 0.3)), key=b"a1", partition=own,
                            headers={"ioc-owner": b"tan-phu"}, wait=False)
            await agent.put(reading_to_json(drain("a2", T0, 0.3)), key=b"a2", partition=own,
                            wait=False)
            for _ in range(200):  # poll the condition, with a deadline
                if any(t == "<state>" for t, _ in captured_sends):
                    break
                await asyncio.sleep(0.01)

    asyncio.run(asyncio.wait_for(run(), 20))
    order = [topic for topic, _ in captured_sends]
    assert "t-ioc.worker-owned" in order and "<state>" in order, order
    assert order.index("t-ioc.worker-owned") < order.index("<state>")


def _acks_around_a_retry(worker: Worker, agent_name: str, attempts: Callable[[], int],
                         release: asyncio.Event, value: bytes,
                         **put: Any) -> list[tuple[int, bool]]:
    """Put one record into an agent whose first write fails and whose retry is held until
    `release`: (commit errors, record acked) while the retry is held, and after."""
    seen: list[tuple[int, bool]] = []

    async def run() -> None:
        async with worker.app.agents[agent_name].test_context() as agent:
            event = await agent.put(value, wait=False, **put)
            await _until(lambda: attempts() == 2)  # failed once, retrying without new input
            seen.append((worker.counts["commit_errors"], event.message.acked))
            release.set()
            await _until(lambda: event.message.acked)
            seen.append((worker.counts["commit_errors"], event.message.acked))

    asyncio.run(asyncio.wait_for(run(), 20))
    return seen


@pytest.mark.parametrize("agent_name", ["detect_readings", "detect"])
def test_a_failed_checkpoint_is_retried_and_its_records_acked_only_after_it_succeeds(
        agent_name: str) -> None:
    writes: list[int] = []
    release = asyncio.Event()  # bound to the test's loop on first use

    class FlakyLog:
        async def write(self, partition: int, records: Sequence[tuple[bytes, bytes]]) -> None:
            writes.append(partition)
            if len(writes) == 1:
                raise ConnectionError("kafka away")
            await release.wait()  # the retry: held until the test lets it through

        def read(self, partitions: Collection[int]) -> dict[int, dict[bytes, bytes]]:
            return {p: {} for p in partitions}

    parts = 4
    worker = create_app(SETTINGS, REG, WorkerTopics.prefixed("t-"), app_id="t-flaky",
                        partitions=parts, state_log=FlakyLog(),
                        tuning=Tuning(commit_retry_s=0.01))
    value, key = reading_to_json(drain("a1", T0, 0.3)), b"a1"
    if agent_name == "detect":  # the internal topic: the reading re-keyed by its owner
        value, key = to_envelope(Router(REG), "reading", value)[1], b"tan-phu"
    seen = _acks_around_a_retry(worker, agent_name, lambda: len(writes), release, value,
                                key=key, partition=Router(REG).partition_of("tan-phu", parts),
                                headers={"ioc-owner": b"tan-phu"})
    assert seen == [(1, False), (1, True)]  # not acked until its checkpoint went through
    assert worker.detector.state.clock  # the reading reached the rules


def test_a_status_is_acked_only_after_its_envelope_is_sent(
        monkeypatch: pytest.MonkeyPatch) -> None:
    sends: list[str] = []
    release = asyncio.Event()  # bound to the test's loop on first use

    async def send(self: faust.topics.Topic, *args: Any, **kwargs: Any) -> asyncio.Future[None]:
        sends.append(self.get_topic_name())
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if len(sends) == 1:  # the first send fails (Kafka away); the retry waits for the test
            done.set_exception(ConnectionError("kafka away"))
        else:
            asyncio.ensure_future(release.wait()).add_done_callback(
                lambda _: done.set_result(None))
        return done

    monkeypatch.setattr(faust.topics.Topic, "send", send)  # over the captured sends
    worker = create_app(SETTINGS, REG, WorkerTopics.prefixed("t-"), app_id="t-acks",
                        tuning=Tuning(commit_retry_s=0.01))
    status = orjson.dumps({"deviceId": "a1", "status": "online",
                           "at": "2025-06-02T03:00:00+00:00"})
    seen = _acks_around_a_retry(worker, "route_status", lambda: len(sends), release, status,
                                key=b"a1")
    assert sends == ["t-ioc.worker-owned"] * 2
    assert seen == [(1, False), (1, True)]


def _held_run(tuning: Tuning, readings: list[bytes], captured_sends: list[tuple[str, dict]],
              ) -> tuple[Worker, list[list[bool]]]:
    """Readings (a1's, placed by its owner) into the telemetry agent with a recording state
    log: which of them were acked when each state write happened, and at the end."""
    acked_at_write: list[list[bool]] = []
    events: list[Any] = []

    class Log:
        async def write(self, partition: int, records: Sequence[tuple[bytes, bytes]]) -> None:
            acked_at_write.append([e.message.acked for e in events])
            captured_sends.append(("<state>", {"partition": partition}))

        def read(self, partitions: Collection[int]) -> dict[int, dict[bytes, bytes]]:
            return {p: {} for p in partitions}

    parts = 4
    worker = create_app(SETTINGS, REG, WorkerTopics.prefixed("t-"), app_id="t-held",
                        partitions=parts, state_log=Log(), tuning=tuning)
    own = Router(REG).partition_of("tan-phu", parts)

    async def run() -> None:
        async with worker.app.agents["detect_readings"].test_context() as agent:
            for value in readings:
                events.append(await agent.put(value, key=b"a1", partition=own, wait=False,
                                              headers={"ioc-owner": b"tan-phu"}))
                await _until(lambda: worker.counts["readings"] == len(events))
            await _until(lambda: all(e.message.acked for e in events))

    asyncio.run(asyncio.wait_for(run(), 20))
    return worker, [*acked_at_write, [e.message.acked for e in events]]


def test_readings_without_alerts_share_one_checkpoint_and_wait_for_it(
        captured_sends: list[tuple[str, dict]]) -> None:
    low = [reading_to_json(drain("a1", T0.replace(second=i), 0.3)) for i in range(3)]
    _, seen = _held_run(Tuning(checkpoint_every_s=30.0, held_max=3), low, captured_sends)
    # the third reading made the checkpoint due: one write, none acked before it
    assert seen == [[False, False, False], [True, True, True]]


def test_an_alert_checkpoints_what_was_held_at_once(
        captured_sends: list[tuple[str, dict]]) -> None:
    values = [reading_to_json(drain("a1", T0, 0.3)),
              reading_to_json(drain("a1", T0.replace(second=1), 0.7))]  # over warn_m
    worker, seen = _held_run(Tuning(checkpoint_every_s=30.0), values, captured_sends)
    assert seen == [[False, False], [True, True]]  # no 30 s wait: the alert could not
    order = [topic for topic, _ in captured_sends]
    assert worker.detector.open_alerts() and "t-ioc.alerts" in order
    assert order.index("<state>") < order.index("t-ioc.alerts")


def test_a_quiet_stream_checkpoints_what_it_holds_after_the_wait(
        captured_sends: list[tuple[str, dict]]) -> None:
    low = [reading_to_json(drain("a1", T0, 0.3))]
    _, seen = _held_run(Tuning(checkpoint_every_s=0.05), low, captured_sends)
    assert seen == [[False], [True]]  # written by the timeout, with no input after it


def test_agents_read_the_broker_bytes_as_events() -> None:
    worker = create_app(SETTINGS, REG, WorkerTopics.prefixed("t-"), app_id="t-raw")
    message = SimpleNamespace(key=b"a1", value=b'{"x": 1}', headers=[("ioc-owner", b"w")])
    for name in ("detect_readings", "detect", "route_status", "route_commands"):
        topic = worker.app.agents[name].channel
        event = asyncio.run(topic.decode(message, propagate=True))
        assert (event.key, event.value, event.headers, event.message) == (
            b"a1", b'{"x": 1}', {"ioc-owner": b"w"}, message), name
        assert not event.acked
