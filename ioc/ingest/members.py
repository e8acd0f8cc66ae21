"""Splitting the bridge over N processes without MQTT shared subscriptions.

Mosquitto 2.0 does not persist `$share` subscriptions: after a broker crash, messages that
arrive before the group's members resubscribe are dropped. So by default each member keeps
an ordinary persistent session with a disjoint set of subscriptions:

- member 0 subscribes to the telemetry wildcard (so unknown devices still reach the dead
  letters) and the status wildcard, and acks without forwarding the readings of devices
  another member owns;
- member i > 0 subscribes to the exact telemetry topics of the registry devices it owns.

A device belongs to member crc32(id) mod N, fixed for a given N. The broker queues every
message for its owner's session whether or not that member is running, so nothing a
publisher got a PUBACK for is lost, whichever member or broker restarts.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from typing import Final

from ioc.core.errors import ConfigError
from ioc.core.registry import Registry
from ioc.core.topics import telemetry_topic

__all__ = ["SOLO", "Membership"]

_SPEC = re.compile(r"(\d+)/(\d+)")


@dataclass(frozen=True, slots=True)
class Membership:
    """Member `index` of `count` bridge processes."""

    index: int = 0
    count: int = 1

    def __post_init__(self) -> None:
        if not 0 <= self.index < self.count:
            raise ConfigError(f"bridge member {self.index}/{self.count}: the index must be "
                              f"0..{self.count - 1}")

    @classmethod
    def parse(cls, spec: str) -> Membership:
        """`i/N`, e.g. `1/2`."""
        match = _SPEC.fullmatch(spec.strip())
        if match is None:
            raise ConfigError(f"bridge member {spec!r}: expected INDEX/COUNT, e.g. 0/2")
        return cls(int(match[1]), int(match[2]))

    @property
    def solo(self) -> bool:
        """The only member: subscribe to everything, skip nothing."""
        return self.count == 1

    def owner(self, device_id: str) -> int:
        """The member that forwards this device's telemetry."""
        return zlib.crc32(device_id.encode()) % self.count

    def telemetry_topics(self, registry: Registry | None) -> tuple[str, ...] | None:
        """Exact topics to subscribe instead of the wildcard (None: the wildcard)."""
        if self.index == 0:
            return None
        if registry is None:
            raise ConfigError("bridge members need the device registry to split devices")
        return tuple(sorted(telemetry_topic(d.domain, d.id) for d in registry
                            if self.owner(d.id) == self.index))

    def skipped_devices(self, registry: Registry | None) -> frozenset[str]:
        """Devices whose telemetry reaches this member but is forwarded by another."""
        if self.solo or self.index != 0:
            return frozenset()
        if registry is None:
            raise ConfigError("bridge members need the device registry to split devices")
        return frozenset(d.id for d in registry if self.owner(d.id) != 0)

    def client_id(self, base: str) -> str:
        """This member's MQTT client id (its own persistent session)."""
        return base if self.solo else f"{base}-m{self.index}of{self.count}"


SOLO: Final = Membership()
