"""Pure routing for the worker: which partition key owns a device's or an alert's state.

Co-partitioning: the bridge writes each reading to the telemetry partition of its owner
key (`owner_partition`: the wards dealt evenly over the partitions), while the record key
stays the device id. A device's ward is fixed, so its readings stay in one partition, in
order. The worker's internal topic (statuses, commands, and readings that arrive on another
partition) is keyed by the same owner key, placed on the same partition, and has as many
partitions, and Faust assigns topics with the same partition count to its members
together, so partition p of both topics - all state of the wards placed on p - has one
writer.
"""

from __future__ import annotations

import orjson

from ioc.core import envelope
from ioc.core.envelope import Kind
from ioc.core.ownership import circuit_wards, owner_keys, owner_partition
from ioc.core.registry import Registry
from ioc.core.schemas import Alert, AlertCommand, reading_from_json
from ioc.processors.detector import Detector
from ioc.processors.rules.catalog import RULES

__all__ = ["Router", "handle_envelope", "owner_keys", "owner_partition"]


class Router:
    """Maps devices and alert ids to their owner key: the ward (a circuit's ward for lamps).

    All state a ward-level rule needs then lives on one partition, and every alert has a
    single writer, so detector updates and operator commands never race.
    """

    def __init__(self, registry: Registry) -> None:
        self._circuit_ward = circuit_wards(registry)
        self._owner = owner_keys(registry)
        self._partition: dict[tuple[str, int], int] = {}

    def device_owner(self, device_id: str) -> str | None:
        """Owner key of a device, or None when the registry does not know it."""
        return self._owner.get(device_id)

    def partition_of(self, owner: str, partitions: int) -> int:
        """`owner_partition`, memoized (a stray key's murmur2 in pure Python costs µs)."""
        key = (owner, partitions)
        found = self._partition.get(key)
        if found is None:
            found = self._partition[key] = owner_partition(owner, partitions)
        return found

    def alert_owner(self, alert_id: str) -> str | None:
        """Owner key of an alert id `rule:subject:opened`."""
        parts = alert_id.split(":")
        if len(parts) < 3:
            return None
        rule, subject = RULES.get(parts[0]), ":".join(parts[1:-1])
        kind = rule.subject if rule else "device"
        if kind == "ward":
            return subject
        if kind == "circuit":
            return self._circuit_ward.get(subject)
        return self.device_owner(subject)


def handle_envelope(det: Detector, raw: bytes) -> list[Alert]:
    """Apply one owner-keyed envelope (see ioc.core.envelope) to the detector."""
    kind, value = envelope.decode(raw)
    if kind is Kind.READING:
        return det.process(reading_from_json(orjson.dumps(value)))
    if kind is Kind.COMMAND:
        return det.command(AlertCommand.model_validate(value))
    return det.status(value["device"], value["status"], float(value["at"]))
