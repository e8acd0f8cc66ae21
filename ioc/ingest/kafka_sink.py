"""The kafka-python adapter: an idempotent, acks=all producer with callbacks, never a .get()."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError, KafkaTimeoutError
from kafka.partitioner import DefaultPartitioner

from ioc.core.errors import ServiceError
from ioc.core.kafka_auth import KafkaAccess
from ioc.core.ownership import OWNER_HEADER, owner_partition

__all__ = ["DEFAULT_LINGER_MS", "KafkaSink", "OwnerPartitioner", "SinkConfig", "SinkUnavailable"]

log = logging.getLogger(__name__)


class SinkUnavailable(ServiceError):
    """Kafka could not take a record right now (no metadata, buffer full); retry later."""


# librdkafka's broker thread wakes, polls and sends per batch: at 10,000 msg/s 5 ms cost it
# 9.4 % of a core against 3.1 % at 20 ms, and the bridge 0.49 against 0.37 CPU-s per 10k
# readings; at 2,000/s the alert p50 went from 31 to 37 ms (docs/architecture.md)
DEFAULT_LINGER_MS = 20


@dataclass(frozen=True, slots=True)
class SinkConfig:
    """Producer tuning; the defaults favour no loss first, then throughput."""

    kafka: KafkaAccess
    client_id: str
    linger_ms: int = DEFAULT_LINGER_MS
    batch_size: int = 256 * 1024
    compression: str | None = None  # gzip costs CPU in pure Python; measure before enabling
    delivery_timeout_ms: int = 120_000
    request_timeout_ms: int = 30_000
    max_block_ms: int = 10_000
    # record key -> the key that picks the partition (device id -> owner ward), so the
    # worker finds a ward's readings on one partition; empty: Kafka's default partitioning
    partition_keys: Mapping[bytes, bytes] = field(default_factory=dict)

    def producer_options(self) -> dict[str, Any]:
        """Keyword arguments for KafkaProducer."""
        return {
            **self.kafka.client_options(),
            "client_id": self.client_id,
            "acks": "all",
            "enable_idempotence": True,
            # Idempotence keeps per-partition order with up to 5 requests in flight.
            "max_in_flight_requests_per_connection": 5,
            "delivery_timeout_ms": self.delivery_timeout_ms,
            "request_timeout_ms": self.request_timeout_ms,
            "retry_backoff_ms": 200,
            "reconnect_backoff_ms": 200,
            "reconnect_backoff_max_ms": 5_000,
            "linger_ms": self.linger_ms,
            "batch_size": self.batch_size,
            "compression_type": self.compression,
            "max_block_ms": self.max_block_ms,
            # kafka-python's own metrics cost CPU per record; ours are in Prometheus.
            "metrics_enabled": False,
            "partitioner": OwnerPartitioner(self.partition_keys),
        }


class OwnerPartitioner(DefaultPartitioner):
    """The owner key's partition (ioc.ownership.owner_partition) for a record key whose owner
    is known, Kafka's default choice for other keys; the record keeps its own key."""

    def __init__(self, partition_keys: Mapping[bytes, bytes]) -> None:
        self._keys = partition_keys
        self._found: dict[tuple[bytes, int], int] = {}

    def partition(self, topic: str, key: Any, serialized_key: bytes | None, value: Any,
                  serialized_value: bytes | None, cluster: Any) -> int:
        """The owner key's partition, or the default choice for other keys."""
        owner = self._keys.get(serialized_key) if serialized_key is not None else None
        if owner is None:
            return int(super().partition(topic, key, serialized_key, value, serialized_value,
                                         cluster))
        partitions = sorted(cluster.partitions_for_topic(topic))
        found = self._found.get((owner, len(partitions)))
        if found is None:
            found = self._found[(owner, len(partitions))] = owner_partition(
                owner.decode(), len(partitions))
        return int(partitions[found])


class KafkaSink:
    """Sends records asynchronously; the caller learns the outcome through callbacks."""

    def __init__(self, config: SinkConfig) -> None:
        self._config = config
        self._owners = config.partition_keys
        try:
            self._producer = KafkaProducer(**config.producer_options())
        except (KafkaError, OSError) as exc:
            raise SinkUnavailable(f"kafka at {config.kafka.bootstrap} unavailable: {exc}") from exc

    def send(self, topic: str, key: bytes | None, value: bytes,
             headers: tuple[tuple[str, bytes], ...],
             on_ok: Callable[..., Any], on_error: Callable[..., Any], arg: Any) -> None:
        """Queue one record; later `on_ok(arg, metadata)` or `on_error(arg, exception)`."""
        owner = self._owners.get(key) if key is not None else None
        if owner is not None:
            headers = (*headers, (OWNER_HEADER, owner))
        try:
            future = self._producer.send(topic, value=value, key=key,
                                         headers=list(headers) if headers else None)
        except KafkaTimeoutError as exc:
            raise SinkUnavailable(f"kafka send blocked: {exc}") from exc
        future.add_callback(on_ok, arg)
        future.add_errback(on_error, arg)

    def flush(self, timeout_s: float) -> bool:
        """Wait until every queued record is sent or failed; False on timeout."""
        try:
            self._producer.flush(timeout=timeout_s)
            return True
        except KafkaTimeoutError:
            log.warning("kafka: flush did not finish within %.1fs", timeout_s)
            return False

    def close(self, timeout_s: float = 10.0) -> None:
        """Flush and close the producer."""
        self._producer.close(timeout=timeout_s)
