"""Where operator commands go: `ioc.alert-commands`, read by the worker (the single writer)."""

from __future__ import annotations

import threading
from typing import Protocol

from kafka import KafkaProducer
from kafka.errors import KafkaError

from ioc.core.errors import ServiceError
from ioc.core.kafka_auth import KafkaAccess
from ioc.core.schemas import AlertCommand

__all__ = ["CommandSink", "KafkaCommandSink"]


class CommandSink(Protocol):
    """Where operator commands go (the worker is the single writer of alert state)."""

    def send(self, command: AlertCommand) -> None: ...

    def close(self) -> None: ...


class KafkaCommandSink:
    """Sends AlertCommand JSON keyed by alert id; the producer is made on first use."""

    def __init__(self, kafka: KafkaAccess, topic: str, timeout_s: float = 10.0) -> None:
        self._kafka, self.topic, self._timeout = kafka, topic, timeout_s
        self._producer: KafkaProducer | None = None
        self._lock = threading.Lock()

    def _get(self) -> KafkaProducer:
        with self._lock:
            if self._producer is None:
                self._producer = KafkaProducer(**self._kafka.client_options(), acks="all",
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
