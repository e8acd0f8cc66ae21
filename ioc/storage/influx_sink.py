"""Kafka → InfluxDB: poll a batch, store it, and only then commit its offsets (kafka-python)."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from ioc.core.errors import IocError
from ioc.core.schemas import Alert, Reading, reading_from_json
from ioc.storage.influx_writer import InfluxWriter, StorageError

__all__ = ["InfluxSink", "SinkFailed"]

log = logging.getLogger(__name__)


class SinkFailed(IocError):
    """The sink kept failing on Kafka (poll/commit) errors and gave up: restart the process."""


class InfluxSink:
    """Stores readings and alert changes; a failed batch is re-read, never skipped.

    The consumer holds at most one batch (`max_records`), so a slow or absent InfluxDB applies
    backpressure to Kafka instead of growing memory.
    """

    def __init__(self, consumer: KafkaConsumer, writer: InfluxWriter, *, telemetry: str,
                 alerts: str, max_records: int = 5000, pause_s: float = 2.0,
                 max_pause_s: float = 60.0, max_errors: int = 10) -> None:
        self._consumer, self._writer = consumer, writer
        self._telemetry, self._alerts = telemetry, alerts
        self._max_records, self._pause_s = max_records, pause_s
        self._max_pause_s, self._max_errors = max_pause_s, max_errors
        self._rewind = False
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
        """Loop until `stop` is set; pauses after a failed batch instead of spinning.

        Any other error (a poll, or a commit failing during a rebalance) is logged; the loop
        backs off, re-reads from the last committed offsets (writes are idempotent) and goes
        on. After `max_errors` such errors in a row it raises SinkFailed.
        """
        errors = 0
        while not stop.is_set():
            try:
                if self._rewind:
                    self._rewind_to_committed()
                stored = self.run_once()
            except Exception as exc:  # anything from kafka-python: recover or give up
                errors += 1
                self.counts["errors"] += 1
                self._rewind = True
                if errors >= self._max_errors:
                    raise SinkFailed(f"{errors} errors in a row, last: {exc!r}") from exc
                pause = min(self._pause_s * 2 ** (errors - 1), self._max_pause_s)
                log.exception("storage loop error %d/%d, retrying in %.1f s",
                              errors, self._max_errors, pause)
                stop.wait(pause)
                continue
            errors = 0
            if stored < 0:
                stop.wait(self._pause_s)

    def _rewind_to_committed(self) -> None:
        """Seek every assigned partition back to its committed offset (records polled but not
        stored must not be skipped by the next commit)."""
        for tp in self._consumer.assignment():
            offset = self._consumer.committed(tp)
            if offset is None:
                self._consumer.seek_to_beginning(tp)
            else:
                self._consumer.seek(tp, offset)
        self._rewind = False

    def close(self) -> None:
        """Close the consumer (uncommitted records will be re-read by the next owner)."""
        self._consumer.close()
