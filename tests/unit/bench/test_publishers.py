"""PublisherPool: messages are queued per gateway and leave in one write per gateway."""

from __future__ import annotations

import pytest

from ioc.bench import publishers
from ioc.bench.publishers import PublisherPool
from ioc.core.mqtt_identities import MqttLogin
from ioc.core.settings import Settings


class _Gateway:
    """A gateway connection that records its writes instead of sending them."""

    def __init__(self, settings: Settings, login: MqttLogin) -> None:
        self.name, self.sent, self.refused = login.username, 0, 0
        self.queued: list[str] = []
        self.writes: list[list[str]] = []

    @property
    def acked(self) -> int:
        return sum(len(w) for w in self.writes)

    def publish(self, topic: str, payload: bytes) -> None:
        self.queued.append(topic)
        self.sent += 1

    def flush(self) -> None:
        if self.queued:
            self.writes.append(self.queued)
            self.queued = []

    def wait_acked(self, timeout: float) -> bool:
        self.flush()
        return self.acked == self.sent

    def close(self) -> None:
        pass


@pytest.fixture
def pool(monkeypatch: pytest.MonkeyPatch) -> PublisherPool:
    monkeypatch.setitem(publishers.PUBLISHERS, "fake", _Gateway)
    gateways = [(MqttLogin("gw-0", "x"), ["d1", "d2"]), (MqttLogin("gw-1", "x"), ["d3"])]
    return PublisherPool(Settings(), gateways, "fake")


def _writes(pool: PublisherPool) -> dict[str, list[list[str]]]:
    return {g.name: g.writes for g in pool._pubs}  # type: ignore[attr-defined]


def test_messages_wait_for_the_flush_and_leave_in_one_write_per_gateway(
        pool: PublisherPool) -> None:
    for device in ("d1", "d3", "d2"):
        pool.publish(device, f"t/{device}", b"{}")
    assert pool.queued == 3 and pool.sent == 3
    assert _writes(pool) == {"gw-0": [], "gw-1": []}
    pool.flush()
    assert pool.queued == 0
    assert _writes(pool) == {"gw-0": [["t/d1", "t/d2"]], "gw-1": [["t/d3"]]}
    pool.flush()  # nothing queued: no empty writes
    assert _writes(pool) == {"gw-0": [["t/d1", "t/d2"]], "gw-1": [["t/d3"]]}


def test_waiting_for_acks_sends_what_is_queued_first(pool: PublisherPool) -> None:
    pool.publish("d3", "t/d3", b"{}")
    assert pool.wait_acked(1) and pool.acked == 1
    assert pool.queued == 0
