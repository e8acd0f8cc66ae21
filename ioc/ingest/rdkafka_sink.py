"""The confluent-kafka (librdkafka) adapter: the bridge's producer by default.

Same contract as ioc.ingest.kafka_sink.KafkaSink (idempotent, acks=all, outcome through
callbacks, never a blocking get), at a fraction of the CPU: batching, compression and the
network I/O run in librdkafka's C threads, not under the GIL (measured: ~3 CPU-µs per record
against ~22 for kafka-python on this machine). Delivery reports are served by one thread
polling the producer.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Producer

from ioc.core.ownership import OWNER_HEADER, owner_partition
from ioc.ingest.kafka_sink import SinkConfig, SinkUnavailable

__all__ = ["RdKafkaSink", "producer_config"]

log = logging.getLogger(__name__)

# librdkafka's default partitioner hashes with CRC32; Java clients and kafka-python use
# murmur2. Records without an owner key must land where every other client puts them.
_PARTITIONER = "murmur2_random"


def producer_config(config: SinkConfig) -> dict[str, Any]:
    """librdkafka properties equivalent to SinkConfig.producer_options()."""
    kafka = config.kafka
    props: dict[str, Any] = {
        **kafka.librdkafka_options(),
        "client.id": config.client_id,
        "acks": "all",
        "enable.idempotence": True,
        "max.in.flight.requests.per.connection": 5,
        "message.timeout.ms": config.delivery_timeout_ms,
        "request.timeout.ms": config.request_timeout_ms,
        "retry.backoff.ms": 200,
        "reconnect.backoff.ms": 200,
        "reconnect.backoff.max.ms": 5_000,
        "linger.ms": config.linger_ms,
        "batch.size": config.batch_size,
        "compression.type": config.compression or "none",
        "partitioner": _PARTITIONER,
    }
    return props


class RdKafkaSink:
    """Sends records asynchronously; the caller learns the outcome through callbacks."""

    def __init__(self, config: SinkConfig, *, connect_timeout_s: float = 10.0) -> None:
        self._config = config
        self._owners = config.partition_keys
        self._partitions: dict[str, int] = {}
        self._owner_part: dict[tuple[str, bytes], int] = {}
        try:
            self._producer = Producer(producer_config(config),
                                      logger=logging.getLogger("ioc.ingest.librdkafka"))
            # librdkafka connects lazily: ask for metadata so an unreachable or refusing
            # cluster is reported now (the bridge retries) rather than on the first send
            self._producer.list_topics(timeout=connect_timeout_s)
        except (KafkaException, ValueError) as exc:
            raise SinkUnavailable(f"kafka at {config.kafka.bootstrap} unavailable: "
                                  f"{_reason(exc)}") from exc
        self._closed = threading.Event()
        self._poller = threading.Thread(target=self._serve_reports, name="kafka-delivery",
                                        daemon=True)
        self._poller.start()

    def _serve_reports(self) -> None:
        poll = self._producer.poll
        while not self._closed.is_set():
            poll(0.2)

    def _partition(self, topic: str, owner: bytes) -> int:
        """The owner key's partition (ioc.ownership), the partition count cached per topic."""
        found = self._owner_part.get((topic, owner))
        if found is None:
            count = self._partitions.get(topic)
            if count is None:
                count = self._partitions[topic] = self._partition_count(topic)
            found = self._owner_part[(topic, owner)] = owner_partition(owner.decode(), count)
        return found

    def _partition_count(self, topic: str) -> int:
        try:
            meta = self._producer.list_topics(topic, timeout=self._config.max_block_ms / 1000)
        except KafkaException as exc:
            raise SinkUnavailable(f"no metadata for {topic}: {_reason(exc)}") from exc
        found = meta.topics.get(topic)
        if found is None or found.error is not None or not found.partitions:
            raise SinkUnavailable(f"topic {topic} has no partitions yet")
        return len(found.partitions)

    def send(self, topic: str, key: bytes | None, value: bytes,
             headers: tuple[tuple[str, bytes], ...],
             on_ok: Callable[..., Any], on_error: Callable[..., Any], arg: Any) -> None:
        """Queue one record; later `on_ok(arg, metadata)` or `on_error(arg, exception)`."""
        owner = self._owners.get(key) if key is not None else None
        extra: dict[str, Any] = {}
        if owner is not None:
            headers = (*headers, (OWNER_HEADER, owner))
            extra["partition"] = self._partition(topic, owner)
        if headers:
            extra["headers"] = list(headers)

        def report(err: KafkaError | None, msg: Any) -> None:
            if err is None:
                on_ok(arg, msg)
            else:
                on_error(arg, KafkaException(err))

        self._produce(topic, value, key, report, extra)

    def _produce(self, topic: str, value: bytes, key: bytes | None,
                 report: Callable[[KafkaError | None, Any], None], extra: dict[str, Any]) -> None:
        deadline = time.monotonic() + self._config.max_block_ms / 1000
        while True:
            try:
                self._producer.produce(topic, value, key, on_delivery=report, **extra)
                return
            except BufferError:  # librdkafka's queue is full: wait for deliveries
                if time.monotonic() > deadline:
                    raise SinkUnavailable("kafka send blocked: producer queue full") from None
                self._producer.poll(0.05)
            except KafkaException as exc:
                raise SinkUnavailable(f"kafka refused the send: {_reason(exc)}") from exc

    def flush(self, timeout_s: float) -> bool:
        """Wait until every queued record is sent or failed; False on timeout."""
        left = self._producer.flush(timeout_s)
        if left:
            log.warning("kafka: %d record(s) still queued after %.1fs", left, timeout_s)
        return left == 0

    def close(self, timeout_s: float = 10.0) -> None:
        """Flush, then stop serving delivery reports."""
        self.flush(timeout_s)
        self._closed.set()
        self._poller.join(timeout_s)


def _reason(exc: BaseException) -> str:
    err = exc.args[0] if exc.args else None
    return str(err.str()) if isinstance(err, KafkaError) else str(exc)
