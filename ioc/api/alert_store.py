"""Kafka adapters: a thread folding `ioc.alerts` into an AlertView, and the command producer."""

from __future__ import annotations

import logging
import threading
from typing import Protocol

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError

from ioc.api.alert_view import AlertView
from ioc.core.errors import ServiceError
from ioc.core.schemas import Alert, AlertCommand

__all__ = ["AlertFeed", "CommandSink", "KafkaAlertFeed", "KafkaCommandSink"]

log = logging.getLogger(__name__)


class AlertFeed(Protocol):
    """Something that keeps an AlertView current in the background."""

    def start(self, view: AlertView) -> None: ...

    def stop(self) -> None: ...


class CommandSink(Protocol):
    """Where operator commands go (the worker is the single writer of alert state)."""

    def send(self, command: AlertCommand) -> None: ...

    def close(self) -> None: ...


class KafkaAlertFeed:
    """Reads the compacted alerts topic from the beginning, then follows it."""

    def __init__(self, bootstrap: str, topic: str, poll_ms: int = 300,
                 refresh_s: float = 30.0) -> None:
        self._bootstrap, self._topic = bootstrap, topic
        self._poll_ms, self._refresh_s = poll_ms, refresh_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, view: AlertView) -> None:
        """Start the consumer thread."""
        self._thread = threading.Thread(target=self._run, args=(view,), daemon=True,
                                        name=f"alert-feed-{self._topic}")
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and close the consumer."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self, view: AlertView) -> None:
        while not self._stop.is_set():
            try:
                self._consume(view)
            except (KafkaError, OSError) as exc:
                log.warning("alerts feed from %s failed, retrying: %s", self._topic, exc)
                self._stop.wait(2.0)
            except Exception:  # a bug must not silently end the feed: log it and go on
                log.exception("alerts feed crashed; restarting")
                self._stop.wait(2.0)

    def _partitions(self, consumer: KafkaConsumer) -> list[TopicPartition]:
        found = consumer.partitions_for_topic(self._topic) or set()
        return [TopicPartition(self._topic, p) for p in sorted(found)]

    def _consume(self, view: AlertView) -> None:
        """One consumer session; returns to be restarted when the partitions change."""
        consumer = KafkaConsumer(bootstrap_servers=self._bootstrap, group_id=None,
                                 enable_auto_commit=False, allow_auto_create_topics=False,
                                 client_id="ioc-api-alerts")
        try:
            parts = self._partitions(consumer)
            while not parts and not self._stop.is_set():
                view.mark_ready()  # no topic yet means no alerts yet
                self._stop.wait(1.0)
                parts = self._partitions(consumer)
            if not parts:
                return
            consumer.assign(parts)
            consumer.seek_to_beginning(*parts)
            end = consumer.end_offsets(parts)
            self._follow(consumer, view, parts, end)
        finally:
            consumer.close()

    def _follow(self, consumer: KafkaConsumer, view: AlertView, parts: list[TopicPartition],
                end: dict[TopicPartition, int]) -> None:
        ticks_per_refresh = max(1, int(self._refresh_s * 1000 / self._poll_ms))
        tick = 0
        while not self._stop.is_set():
            for records in consumer.poll(timeout_ms=self._poll_ms).values():
                for rec in records:
                    if rec.value is None:
                        continue  # a compaction tombstone
                    try:
                        view.apply(Alert.from_json(rec.value))
                    except ValueError as exc:
                        log.warning("skipping undecodable alert at %s: %s", rec.offset,
                                    str(exc)[:200])
            if not view.ready and all(consumer.position(tp) >= end[tp] for tp in parts):
                view.mark_ready()
            tick += 1
            if tick % ticks_per_refresh == 0 and self._partitions(consumer) != parts:
                log.info("partitions of %s changed; re-reading it", self._topic)
                return


class KafkaCommandSink:
    """Sends AlertCommand JSON keyed by alert id; the producer is made on first use."""

    def __init__(self, bootstrap: str, topic: str, timeout_s: float = 10.0) -> None:
        self._bootstrap, self.topic, self._timeout = bootstrap, topic, timeout_s
        self._producer: KafkaProducer | None = None
        self._lock = threading.Lock()

    def _get(self) -> KafkaProducer:
        with self._lock:
            if self._producer is None:
                self._producer = KafkaProducer(bootstrap_servers=self._bootstrap, acks="all",
                                               client_id="ioc-api-commands", linger_ms=0)
            return self._producer

    def send(self, command: AlertCommand) -> None:
        """Send and wait for the broker's acknowledgement; ServiceError if it fails."""
        try:
            future = self._get().send(self.topic, key=command.alert_id.encode("utf-8"),
                                      value=command.model_dump_json(by_alias=True).encode())
            future.get(timeout=self._timeout)
        except KafkaError as exc:
            raise ServiceError(f"could not send the command to Kafka: {exc}") from exc

    def close(self) -> None:
        """Flush and close the producer."""
        with self._lock:
            if self._producer is not None:
                self._producer.close(timeout=5)
                self._producer = None
