"""Who owns a device's state: its ward (a lamp's circuit's ward), and that owner's partition.

The bridge places each reading on the partition of its owner key (the record key stays the
device id) and marks it with OWNER_HEADER; the worker keeps all state of an owner on that
partition, so ward-level rules need no repartition hop and every alert has one writer.
"""

from __future__ import annotations

from kafka.partitioner import murmur2

from ioc.core.registry import Registry

__all__ = ["OWNER_HEADER", "circuit_wards", "owner_keys", "owner_partition"]

OWNER_HEADER = "ioc-owner"


def circuit_wards(registry: Registry) -> dict[str, str]:
    """Circuit -> the ward that owns it (the ward of its first lamp in the registry)."""
    wards: dict[str, str] = {}
    for d in registry:
        if d.domain == "streetlight" and d.circuit:
            wards.setdefault(d.circuit, d.ward)
    return wards


def owner_keys(registry: Registry) -> dict[str, str]:
    """Device id -> owner key (its ward; a lamp's circuit's ward) for every device."""
    circuit_ward = circuit_wards(registry)
    return {d.id: circuit_ward.get(d.circuit, d.ward) if d.circuit is not None else d.ward
            for d in registry}


def owner_partition(owner: str, partitions: int) -> int:
    """The partition of `owner`'s state: Kafka's default partitioner on the owner key."""
    return (murmur2(owner.encode()) & 0x7FFFFFFF) % partitions
