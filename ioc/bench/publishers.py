"""Several gateway publishers used as one: each device publishes through its own gateway."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from ioc.bench.loadgen import Publisher
from ioc.bench.wire_publisher import WirePublisher
from ioc.core.mqtt_identities import MqttLogin
from ioc.core.settings import Settings

__all__ = ["PUBLISHERS", "GatewayPublisher", "PublisherPool"]


class GatewayPublisher(Protocol):
    """One gateway's QoS 1 connection, as the pool uses it."""

    sent: int
    refused: int

    @property
    def acked(self) -> int:
        """Messages the broker acknowledged."""
        ...

    def publish(self, topic: str, payload: bytes) -> None:
        """Send (or queue for `flush`) one QoS 1 message."""

    def flush(self) -> None:
        """Send what `publish` queued."""

    def wait_acked(self, timeout: float) -> bool:
        """Wait until the broker acknowledged everything sent."""
        ...

    def close(self) -> None:
        """Disconnect."""


# paho (what devices run) or hand-built packets (a fraction of paho's CPU, for loads
# generated on the machine that is measured)
PUBLISHERS: dict[str, Callable[[Settings, MqttLogin], GatewayPublisher]] = {
    "paho": Publisher, "wire": WirePublisher}


class PublisherPool:
    """One publisher (connection) per gateway; `publish` picks the device's gateway.
    `kind` is a key of PUBLISHERS."""

    def __init__(self, settings: Settings,
                 gateways: Sequence[tuple[MqttLogin, Sequence[str]]], kind: str = "paho") -> None:
        self._pubs: list[GatewayPublisher] = []
        self._by_device: dict[str, GatewayPublisher] = {}
        self._queued: dict[GatewayPublisher, None] = {}  # gateways with messages to flush
        self.queued = 0  # messages published since the last flush
        make = PUBLISHERS[kind]
        try:
            for login, devices in gateways:
                pub = make(settings, login)
                self._pubs.append(pub)
                self._by_device.update(dict.fromkeys(devices, pub))
        except BaseException:
            self.close()
            raise

    def publish(self, device_id: str, topic: str, payload: bytes) -> None:
        """Queue one QoS 1 message through the device's gateway (KeyError if it has none);
        `flush` sends it."""
        pub = self._by_device[device_id]
        pub.publish(topic, payload)
        self._queued[pub] = None
        self.queued += 1

    def flush(self) -> None:
        """Send what each gateway queued: one write per gateway, not one per message."""
        for pub in self._queued:
            pub.flush()
        self._queued.clear()
        self.queued = 0

    @property
    def sent(self) -> int:
        """Messages queued."""
        return sum(p.sent for p in self._pubs)

    @property
    def acked(self) -> int:
        """Messages the broker acknowledged."""
        return sum(p.acked for p in self._pubs)

    @property
    def refused(self) -> int:
        """Acknowledgements that carried a refusal (e.g. not authorized)."""
        return sum(p.refused for p in self._pubs)

    def wait_acked(self, timeout: float) -> bool:
        """Send what is queued and wait until every gateway's messages were acknowledged
        (`timeout` each at most)."""
        self.flush()
        return all([p.wait_acked(timeout) for p in self._pubs])

    def close(self) -> None:
        """Disconnect every gateway."""
        for pub in self._pubs:
            pub.close()
