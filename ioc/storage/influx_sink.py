"""Kafka → InfluxDB: poll a batch, store it, and only then commit its offsets.

When InfluxDB is away the sink holds the one batch it has, pauses its partitions (so nothing
more is fetched or committed) and keeps polling to stay in its consumer group; it tries the
batch again with a capped backoff, for as long as the outage lasts, and resumes once it is
stored. Memory stays at one batch (and the consumer's bounded prefetch) whatever the outage's
length; the backlog waits in Kafka.
Kafka being away (a restart, a broker recovering its logs) is waited out the same way.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from ioc.core.errors import IocError
from ioc.core.schemas import Alert, reading_from_json
from ioc.storage.influx_writer import (
    InfluxWriter,
    StorageError,
    StorageRefused,
    StorageRejected,
    reading_line,
)
from ioc.storage.reading_lines import ReadingLines
from ioc.storage.record_source import Part, Polled, RecordSource

__all__ = ["HoldState", "InfluxSink", "SinkFailed", "keep_storing"]

log = logging.getLogger(__name__)


class SinkFailed(IocError):
    """The sink kept failing on unexpected errors and gave up: restart the process."""


@dataclass(slots=True)
class _Batch:
    """One polled batch, decoded (readings as their line protocol), with the offsets to
    commit once it is stored."""

    readings: list[str]
    alerts: list[Alert]
    offsets: dict[Part, int]

    @property
    def size(self) -> int:
        return len(self.readings) + len(self.alerts)


@dataclass(frozen=True, slots=True)
class HoldState:
    """What the sink is holding while InfluxDB is away (for logs, health and tests)."""

    since: float  # time.monotonic() of the first failure
    records: int
    attempts: int


class InfluxSink:
    """Stores readings and alert changes; a failed batch is held and retried, never skipped.

    The sink holds at most one batch (`max_records`) and librdkafka prefetches a bounded
    amount more (`queued.max.messages.kbytes`), so a slow or absent InfluxDB applies
    backpressure to Kafka instead of growing memory.
    """

    def __init__(self, consumer: RecordSource, writer: InfluxWriter, *, telemetry: str,
                 alerts: str, max_records: int = 5000, pause_s: float = 2.0,
                 max_pause_s: float = 30.0, max_errors: int = 10, report_every_s: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._consumer, self._writer = consumer, writer
        self._telemetry, self._alerts = telemetry, alerts
        self._max_records, self._pause_s = max_records, pause_s
        self._max_pause_s, self._max_errors = max_pause_s, max_errors
        self._report_every, self._clock = report_every_s, clock
        self._rewind = False
        self._held: _Batch | None = None
        self._lines = ReadingLines(writer.registry)
        self._hold_since = self._next_try = self._reported = 0.0
        self._attempts = 0
        self.counts: Counter[str] = Counter()
        consumer.subscribe([telemetry, alerts])

    @property
    def holding(self) -> HoldState | None:
        """The batch held while InfluxDB is away, or None when storing normally."""
        if self._held is None:
            return None
        return HoldState(self._hold_since, self._held.size, self._attempts)

    def run_once(self, timeout_ms: int = 500) -> int:
        """Poll, store and commit one batch; returns records stored, or -1 while holding.

        Raises StorageRefused when InfluxDB refuses our writes (retrying cannot help).
        """
        if self._held is not None:
            return self._retry_held(timeout_ms)
        polled = self._consumer.poll(timeout_ms / 1000, self._max_records)
        if not polled:
            return 0
        return self._store(self._decode_batch(polled))

    def _decode_batch(self, polled: Polled) -> _Batch:
        batch = _Batch([], [], polled.end)
        for topic, values in polled.values.items():
            for value in values:
                self._decode(topic, value, batch.readings, batch.alerts)
        return batch

    def _decode(self, topic: str, value: bytes | None, readings: list[str],
                alerts: list[Alert]) -> None:
        if value is None:  # a tombstone of the compacted alerts topic: nothing to store
            self.counts["tombstones"] += 1
            return
        try:
            if topic == self._alerts:
                alerts.append(Alert.from_json(value))
            else:  # the bridge's exact shape without pydantic; anything else validated
                line = self._lines.line(value)
                readings.append(line if line is not None else
                                reading_line(reading_from_json(value), self._writer.registry))
        except ValueError as exc:  # pydantic ValidationError is a ValueError
            self.counts["undecodable"] += 1
            log.warning("skipping undecodable record on %s: %s", topic, str(exc)[:200])

    def _store(self, batch: _Batch) -> int:
        """Write the batch and commit its offsets, or hold it and pause consumption."""
        try:
            self._writer.write_lines(batch.readings)
            self._writer.write_alerts(batch.alerts)
        except StorageRejected as exc:
            # the same points get the same answer every time: holding would block storage
            # for good; InfluxDB kept the valid points of the batch (a partial write)
            self.counts["rejected_batches"] += 1
            log.error("InfluxDB rejected points of a batch of %d records; going on without "
                      "them: %s", batch.size, exc)
        except StorageError as exc:
            self._hold(batch, exc)
            return -1
        self._commit(batch)
        self.counts["readings"] += len(batch.readings)
        self.counts["alerts"] += len(batch.alerts)
        return batch.size

    def _commit(self, batch: _Batch) -> None:
        owned = self._consumer.assignment()  # a rebalance may have moved some partitions
        offsets = {tp: o for tp, o in batch.offsets.items() if tp in owned}
        if offsets:
            self._consumer.commit(offsets)

    def _hold(self, batch: _Batch, exc: StorageError) -> None:
        now = self._clock()
        self._attempts += 1
        if self._held is None:
            self._held, self._hold_since, self._reported = batch, now, now
            self._consumer.pause(self._consumer.assignment())
            self.counts["outages"] += 1
            log.error("InfluxDB unavailable; holding %d records and pausing the storage "
                      "consumer until it is back (detection goes on): %s", batch.size, exc)
        elif now - self._reported >= self._report_every:
            self._reported = now
            log.error("InfluxDB still unavailable after %.0f s (%d attempts); holding %d "
                      "records: %s", now - self._hold_since, self._attempts, batch.size, exc)
        self.counts["failed_batches"] += 1
        self._next_try = now + min(self._pause_s * 2 ** (self._attempts - 1), self._max_pause_s)

    def _retry_held(self, timeout_ms: int) -> int:
        held = self._held
        assert held is not None
        wait_s = self._next_try - self._clock()
        if wait_s > 0:
            # polling keeps the consumer in its group; partitions a rebalance assigned
            # meanwhile are not paused yet: put back what they returned and pause them
            polled = self._consumer.poll(min(wait_s, timeout_ms / 1000), self._max_records)
            for part, offset in polled.first.items():
                self._consumer.seek(part, offset)
            self._consumer.pause(polled.first)
            return -1
        stored = self._store(held)
        if stored >= 0:
            log.warning("InfluxDB is back after %.0f s (%d attempts): stored the %d held "
                        "records; consuming again", self._clock() - self._hold_since,
                        self._attempts, held.size)
            self._release()
        return stored

    def _release(self) -> None:
        self._held, self._attempts = None, 0
        self._consumer.resume_all()

    def run(self, stop: threading.Event) -> None:
        """Loop until `stop` is set; InfluxDB and Kafka outages are held through.

        Any other error (a commit failing during a rebalance, a bug) is logged; the loop
        backs off, re-reads from the last committed offsets (writes are idempotent) and goes
        on. After `max_errors` such errors in a row it raises SinkFailed. StorageRefused is
        raised at once.
        """
        errors = away = 0
        while not stop.is_set():
            try:
                if self._rewind:
                    self._rewind_to_committed()
                self.run_once()
            except StorageRefused:
                raise  # our token or bucket is wrong: stopping loudly beats retrying forever
            except Exception as exc:  # anything from the Kafka client: recover or give up
                self.counts["errors"] += 1
                self._rewind = True
                if self._consumer.away(exc):  # a restart would not bring Kafka back sooner
                    away += 1
                    self.counts["kafka_away"] += 1
                    pause = self._backoff(away)
                    log.warning("Kafka unavailable (%r); retrying in %.1f s", exc, pause)
                else:
                    errors += 1
                    if errors >= self._max_errors:
                        raise SinkFailed(f"{errors} errors in a row, last: {exc!r}") from exc
                    pause = self._backoff(errors)
                    log.exception("storage loop error %d/%d, retrying in %.1f s",
                                  errors, self._max_errors, pause)
                stop.wait(pause)
                continue
            errors = away = 0

    def _backoff(self, attempt: int) -> float:
        return float(min(self._pause_s * 2 ** (attempt - 1), self._max_pause_s))

    def _rewind_to_committed(self) -> None:
        """Seek every assigned partition back to its committed offset (records polled but not
        stored must not be skipped by the next commit); a held batch is dropped, re-read."""
        if self._held is not None:
            self._release()
        self._consumer.rewind()
        self._rewind = False

    def close(self) -> None:
        """Close the consumer (uncommitted records will be re-read by the next owner)."""
        self._consumer.close()


def keep_storing(make: Callable[[], InfluxSink], stop: threading.Event, *,
                 pause_s: float = 5.0, max_pause_s: float = 60.0) -> int:
    """Run sinks from `make` until `stop`; returns how many were replaced.

    A sink that fails (SinkFailed, or an error no one foresaw) is closed and a new one, with
    a new consumer, takes over after a backoff: the worker beside it goes on detecting, and
    nothing is lost (the new consumer re-reads from the committed offsets). StorageRefused
    propagates: a new sink would be refused the same way.
    """
    failures = 0
    while not stop.is_set():
        sink: InfluxSink | None = None
        try:
            sink = make()
            sink.run(stop)
        except StorageRefused:
            raise
        except Exception as exc:
            failures += 1
            pause = min(pause_s * 2 ** min(failures - 1, 10), max_pause_s)
            log.critical("InfluxDB storage failed (%r); a new consumer takes over in %.0f s",
                         exc, pause, exc_info=True)
            stop.wait(pause)
        finally:
            if sink is not None:
                _close_quietly(sink)
    return failures


def _close_quietly(sink: InfluxSink) -> None:
    try:
        sink.close()
    except Exception as exc:  # a consumer that cannot leave its group must not stop the next
        log.warning("closing the failed storage consumer: %r", exc)
