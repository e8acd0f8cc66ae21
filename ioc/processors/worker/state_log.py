"""The worker's compacted state topic (the aiokafka and kafka-python adapter of checkpoints).

A checkpoint of one partition goes out as one Kafka record batch (aiokafka's BatchBuilder):
the broker appends a batch whole or not at all, so a worker killed mid-write leaves the
previous checkpoint, never half of the next one. Reading folds a partition to the latest
value per key (compaction does the same on the broker, eventually).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Sequence

from aiokafka import AIOKafkaProducer
from kafka import KafkaConsumer

from ioc.core.kafka_auth import KafkaAccess
from ioc.core.topic_reader import read_topic

__all__ = ["MAX_CHECKPOINT_BYTES", "STATE_TOPIC_CONFIG", "KafkaStateLog"]

log = logging.getLogger(__name__)

MAX_CHECKPOINT_BYTES = 8 * 1024 * 1024
# compacted; small segments so that the log a restore reads stays short (the active
# segment is never compacted); one checkpoint batch must fit in a message
STATE_TOPIC_CONFIG = {"cleanup.policy": "compact", "segment.bytes": str(16 * 1024 * 1024),
                      "segment.ms": str(10 * 60 * 1000), "min.cleanable.dirty.ratio": "0.2",
                      "max.message.bytes": str(MAX_CHECKPOINT_BYTES + 64 * 1024)}


class KafkaStateLog:
    """Writes checkpoints with an idempotent aiokafka producer; reads them with kafka-python."""

    def __init__(self, kafka: KafkaAccess, topic: str, *,
                 client_id: str = "ioc-worker-state") -> None:
        self.topic, self._kafka, self._client_id = topic, kafka, client_id
        self._producer: AIOKafkaProducer | None = None
        self._starting = asyncio.Lock()

    async def _started(self) -> AIOKafkaProducer:
        async with self._starting:  # started on first use, in the worker's event loop
            if self._producer is None:
                producer = AIOKafkaProducer(
                    **self._kafka.client_options(), client_id=self._client_id, acks="all",
                    enable_idempotence=True, linger_ms=0, max_batch_size=MAX_CHECKPOINT_BYTES,
                    max_request_size=MAX_CHECKPOINT_BYTES + 64 * 1024)
                await producer.start()
                self._producer = producer
            return self._producer

    async def write(self, partition: int, records: Sequence[tuple[bytes, bytes]]) -> None:
        """Append the records to `partition` as one batch; return once it is acknowledged."""
        producer = await self._started()
        sent = []
        batch = producer.create_batch()
        for key, value in records:
            if batch.append(key=key, value=value, timestamp=None) is None:
                # larger than a batch may be (not seen with the worker's batch sizes): split,
                # giving up atomicity for this one checkpoint rather than the checkpoint
                log.warning("checkpoint of partition %d exceeds %d bytes: split", partition,
                            MAX_CHECKPOINT_BYTES)
                sent.append(await producer.send_batch(batch, self.topic, partition=partition))
                batch = producer.create_batch()
                if batch.append(key=key, value=value, timestamp=None) is None:
                    raise ValueError(f"state record {key[:60]!r} exceeds a Kafka batch")
        sent.append(await producer.send_batch(batch, self.topic, partition=partition))
        await asyncio.gather(*sent)

    def read(self, partitions: Collection[int],
             timeout_s: float = 120.0) -> dict[int, dict[bytes, bytes]]:
        """The latest value of each key of these partitions (a tombstone deletes it);
        ServiceError if they cannot be read to their end within `timeout_s`."""
        out: dict[int, dict[bytes, bytes]] = {p: {} for p in partitions}

        def consumer() -> KafkaConsumer:
            return KafkaConsumer(**self._kafka.client_options(), group_id=None,
                                 enable_auto_commit=False, allow_auto_create_topics=False,
                                 client_id=f"{self._client_id}-restore",
                                 max_partition_fetch_bytes=MAX_CHECKPOINT_BYTES + 64 * 1024)

        # no state, no processing: past the timeout a ServiceError, and better to restart
        for rec in read_topic(consumer, self.topic, partitions, timeout_s=timeout_s):
            folded = out[rec.partition]
            if rec.key is None:
                continue  # not a state record
            if rec.value is None:
                folded.pop(rec.key, None)
            else:
                folded[rec.key] = rec.value
        return out

    async def close(self) -> None:
        """Stop the producer (nothing is buffered: every write was awaited)."""
        if self._producer is not None:
            producer, self._producer = self._producer, None
            await producer.stop()
