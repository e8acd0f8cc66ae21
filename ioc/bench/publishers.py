"""Several gateway publishers used as one: each device publishes through its own gateway."""

from __future__ import annotations

from collections.abc import Sequence

from ioc.bench.loadgen import Publisher
from ioc.core.mqtt_identities import MqttLogin
from ioc.core.settings import Settings

__all__ = ["PublisherPool"]


class PublisherPool:
    """One `Publisher` (connection) per gateway; `publish` picks the device's gateway."""

    def __init__(self, settings: Settings,
                 gateways: Sequence[tuple[MqttLogin, Sequence[str]]]) -> None:
        self._pubs: list[Publisher] = []
        self._by_device: dict[str, Publisher] = {}
        try:
            for login, devices in gateways:
                pub = Publisher(settings, login)
                self._pubs.append(pub)
                self._by_device.update(dict.fromkeys(devices, pub))
        except BaseException:
            self.close()
            raise

    def publish(self, device_id: str, topic: str, payload: bytes) -> None:
        """Queue one QoS 1 message through the device's gateway (KeyError if it has none)."""
        self._by_device[device_id].publish(topic, payload)

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
        """Wait until every gateway's messages were acknowledged (`timeout` each at most)."""
        return all([p.wait_acked(timeout) for p in self._pubs])

    def close(self) -> None:
        """Disconnect every gateway."""
        for pub in self._pubs:
            pub.close()
