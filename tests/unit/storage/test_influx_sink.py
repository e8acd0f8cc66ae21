"""The storage loop survives Kafka errors, re-reads from the committed offsets, gives up loudly."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import pytest
from kafka import TopicPartition
from kafka.errors import CommitFailedError

from ioc.core.schemas import reading_to_json
from ioc.storage.influx_sink import InfluxSink, SinkFailed
from ioc.storage.influx_writer import InfluxWriter
from ioc.testing.factories import T0, drain, drainage_device, registry

TP = TopicPartition("t", 0)


class FakeConsumer:
    """One record at offset 0 forever; commit raises `fail_commits` times."""

    def __init__(self, fail_commits: int, stop: threading.Event) -> None:
        self.fail_commits, self.stop = fail_commits, stop
        self.commits, self.seeks = 0, []  # type: ignore[var-annotated]
        self.record = SimpleNamespace(offset=0, value=reading_to_json(drain("a1", T0, 0.3)))

    def subscribe(self, topics: list[str]) -> None:
        pass

    def poll(self, timeout_ms: int, max_records: int) -> dict[TopicPartition, list[Any]]:
        return {TP: [self.record]}

    def commit(self) -> None:
        if self.fail_commits:
            self.fail_commits -= 1
            raise CommitFailedError("rebalanced")
        self.commits += 1
        self.stop.set()

    def assignment(self) -> set[TopicPartition]:
        return {TP}

    def committed(self, tp: TopicPartition) -> int | None:
        return 0

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.seeks.append((tp, offset))

    def seek_to_beginning(self, *tps: TopicPartition) -> None:
        self.seeks.extend((tp, 0) for tp in tps)


def _sink(consumer: FakeConsumer, written: list[str], max_errors: int = 10) -> InfluxSink:
    def store(lines: list[str]) -> None:
        written.extend(lines)

    writer = InfluxWriter(store, registry(drainage_device("a1")))
    return InfluxSink(consumer, writer, telemetry="t", alerts="a",
                      pause_s=0.001, max_errors=max_errors)


def test_commit_error_is_logged_and_the_loop_goes_on() -> None:
    stop, lines = threading.Event(), []  # type: ignore[var-annotated]
    consumer = FakeConsumer(1, stop)
    sink = _sink(consumer, lines)
    sink.run(stop)  # returns once the second commit succeeded (it sets stop)
    assert consumer.commits == 1 and sink.counts["errors"] == 1
    assert consumer.seeks == [(TP, 0)]  # re-read from the committed offset
    assert len(lines) == 2  # the same reading written twice: idempotent by identity


def test_persistent_errors_raise_sink_failed() -> None:
    stop, lines = threading.Event(), []  # type: ignore[var-annotated]
    consumer = FakeConsumer(10**6, stop)
    with pytest.raises(SinkFailed, match="3 errors in a row"):
        _sink(consumer, lines, max_errors=3).run(stop)
    assert consumer.commits == 0
