"""Kafka → InfluxDB: poll a batch, store it, and only then commit its offsets (kafka-python)."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from ioc.schemas import Alert, Reading, reading_from_json

from .influx_writer import InfluxWriter, StorageError

__all__ = ["InfluxSink"]

log = logging.getLogger(__name__)


class InfluxSink:
    """Stores readings and alert changes; a failed batch is re-read, never skipped.

    The consumer holds at most one batch (`max_records`), so a slow or absent InfluxDB applies
    backpressure to Kafka instead of growing memory.
    """

    def __init__(self, consumer: KafkaConsumer, writer: InfluxWriter, *, telemetry: str,
                 alerts: str, max_records: int = 5000, pause_s: float = 2.0) -> None:
        self._consumer, self._writer = consumer, writer
        self._telemetry, self._alerts = telemetry, alerts
        self._max_records, self._pause_s = max_records, pause_s
        self.counts: Counter[str] = Counter()
        consumer.subscribe([telemetry, alerts])

    def run_once(self, timeout_ms: int = 500) -> int:
        """Poll, store and commit one batch; returns records stored, or -1 when storing failed."""
        polled: dict[TopicPartition, list[Any]] = self._consumer.poll(
            timeout_ms=timeout_ms, max_records=self._max_records)
        if not polled:
            return 0
        readings: list[Reading] = []
        alerts: list[Alert] = []
        for tp, records in polled.items():
            for rec in records:
                self._decode(tp.topic, rec.value, readings, alerts)
        try:
            self._writer.write_readings(readings)
            self._writer.write_alerts(alerts)
        except StorageError as exc:
            log.error("batch not stored, will re-read it: %s", exc)
            self.counts["failed_batches"] += 1
            for tp, records in polled.items():
                self._consumer.seek(tp, records[0].offset)
            return -1
        self._consumer.commit()
        self.counts["readings"] += len(readings)
        self.counts["alerts"] += len(alerts)
        return len(readings) + len(alerts)

    def _decode(self, topic: str, value: bytes, readings: list[Reading],
                alerts: list[Alert]) -> None:
        try:
            if topic == self._alerts:
                alerts.append(Alert.from_json(value))
            else:
                readings.append(reading_from_json(value))
        except ValueError as exc:  # pydantic ValidationError is a ValueError
            self.counts["undecodable"] += 1
            log.warning("skipping undecodable record on %s: %s", topic, str(exc)[:200])

    def run(self, stop: threading.Event) -> None:
        """Loop until `stop` is set; pauses after a failed batch instead of spinning."""
        while not stop.is_set():
            if self.run_once() < 0:
                stop.wait(self._pause_s)

    def close(self) -> None:
        """Close the consumer (uncommitted records will be re-read by the next owner)."""
        self._consumer.close()
