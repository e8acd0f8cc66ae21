"""The storage loop: holds a batch through an InfluxDB outage (paused, nothing committed),
survives Kafka errors by re-reading from the committed offsets, stops loudly when refused."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from types import SimpleNamespace
from typing import Any

import orjson
import pytest
from confluent_kafka import KafkaError, KafkaException

from ioc.core.schemas import reading_to_json
from ioc.storage.influx_sink import InfluxSink, SinkFailed, keep_storing
from ioc.storage.influx_writer import InfluxWriter, StorageRefused, WriteRefused, reading_line
from ioc.storage.rdkafka_source import kafka_away
from ioc.storage.record_source import Part, Polled
from ioc.testing.factories import at, drain, drainage_device, registry

TP: Part = ("t", 0)
TP2: Part = ("t", 1)


def _value(offset: int) -> bytes:
    return reading_to_json(drain("a1", at(offset), 0.3))


def _error(code: int) -> KafkaException:
    return KafkaException(KafkaError(code))


class FakeConsumer:
    """A RecordSource over partitions of values with positions; honours pause, seek and
    explicit commits, and a rewind to the committed offsets."""

    def __init__(self, records: dict[Part, int], fail_commits: int = 0) -> None:
        self.logs: dict[Part, list[bytes | None]] = {
            tp: [_value(i) for i in range(n)] for tp, n in records.items()}
        self.position = dict.fromkeys(records, 0)
        self.owned = set(records)
        self.paused_tps: set[Part] = set()
        self.committed_offsets: dict[Part, int] = {}
        self.fail_commits, self.polls, self.seeks = fail_commits, 0, []  # type: ignore[var-annotated]
        self.on_commit: Callable[[], None] = lambda: None

    def subscribe(self, topics: list[str]) -> None:
        pass

    def poll(self, timeout_s: float, max_records: int) -> Polled:
        self.polls += 1
        out = Polled()
        for tp in sorted(self.owned - self.paused_tps):
            at_ = self.position[tp]
            values = self.logs[tp][at_:at_ + max_records]
            if values:
                out.values.setdefault(tp[0], []).extend(values)
                out.first[tp], out.end[tp] = at_, at_ + len(values)
                self.position[tp] += len(values)
        return out

    def commit(self, offsets: Mapping[Part, int]) -> None:
        if self.fail_commits:
            self.fail_commits -= 1
            raise _error(KafkaError.REBALANCE_IN_PROGRESS)
        self.committed_offsets.update(offsets)
        self.on_commit()

    def assignment(self) -> set[Part]:
        return set(self.owned)

    def seek(self, tp: Part, offset: int) -> None:
        self.seeks.append((tp, offset))
        self.position[tp] = offset

    def rewind(self) -> None:
        for tp in self.owned:
            self.seek(tp, self.committed_offsets.get(tp, 0))

    def pause(self, tps: Iterable[Part]) -> None:
        self.paused_tps |= set(tps)

    def resume_all(self) -> None:
        self.paused_tps.clear()

    def paused(self) -> set[Part]:
        return set(self.paused_tps)

    def away(self, exc: BaseException) -> bool:
        return kafka_away(exc)

    def close(self) -> None:
        pass


class Influx:
    """A line sink that fails with `error` while `down` is set, and records what it took."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error, self.down, self.lines, self.calls = error, error is not None, [], 0  # type: ignore[var-annotated]

    def __call__(self, lines: list[str]) -> None:
        self.calls += 1
        if self.down:
            raise self.error or ConnectionError("down")
        self.lines.extend(lines)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _sink(consumer: FakeConsumer, influx: Influx, clock: Clock | None = None,
          max_errors: int = 10) -> InfluxSink:
    writer = InfluxWriter(influx, registry(drainage_device("a1")), attempts=2,
                          sleep=lambda s: None)
    return InfluxSink(consumer, writer, telemetry="t", alerts="a", max_records=3,
                      pause_s=1.0, max_pause_s=4.0, max_errors=max_errors,
                      clock=clock or Clock())


def test_an_outage_holds_one_batch_paused_and_commits_it_once_stored() -> None:
    consumer, influx, clock = FakeConsumer({TP: 10}), Influx(ConnectionError("down")), Clock()
    sink = _sink(consumer, influx, clock)
    assert sink.run_once() == -1
    assert consumer.paused() == {TP} and sink.holding is not None
    for _ in range(50):  # a long outage: retries on a capped backoff, fetches nothing more
        clock.now += 0.5
        assert sink.run_once() == -1
    assert consumer.position[TP] == 3 and consumer.committed_offsets == {}
    assert sink.holding is not None and sink.holding.records == 3
    assert 5 <= sink.holding.attempts <= 12  # 1, 2, 4, 4, 4 s … not one try per poll
    influx.down = False
    clock.now += 5
    assert sink.run_once() == 3
    assert consumer.committed_offsets == {TP: 3} and consumer.paused() == set()
    assert sink.holding is None
    while sink.run_once() > 0:
        pass
    assert consumer.committed_offsets == {TP: 10}
    assert len(influx.lines) == 10


def test_partitions_assigned_during_a_hold_are_put_back_and_paused() -> None:
    consumer, influx, clock = FakeConsumer({TP: 5, TP2: 5}), Influx(), Clock()
    consumer.owned = {TP}
    influx.down = True
    sink = _sink(consumer, influx, clock)
    assert sink.run_once() == -1
    consumer.owned = {TP, TP2}  # a rebalance hands over a partition that is not paused
    assert sink.run_once() == -1
    assert (TP2, 0) in consumer.seeks and consumer.paused() == {TP, TP2}
    assert consumer.position[TP2] == 0 and consumer.committed_offsets == {}


def test_a_refused_token_stops_the_loop_at_once() -> None:
    consumer = FakeConsumer({TP: 5})
    influx = Influx(WriteRefused(403, "insufficient permissions for write"))
    with pytest.raises(StorageRefused, match="may not write this bucket"):
        _sink(consumer, influx).run(threading.Event())
    assert influx.calls == 1 and consumer.committed_offsets == {}


def test_rejected_points_are_reported_and_passed_so_storage_goes_on() -> None:
    consumer = FakeConsumer({TP: 2})
    influx = Influx(WriteRefused(422, "partial write: field type conflict"))
    sink = _sink(consumer, influx)
    assert sink.run_once() == 2
    assert sink.counts["rejected_batches"] == 1 and consumer.committed_offsets == {TP: 2}
    assert influx.calls == 1  # not retried: the same points get the same answer


def test_commit_error_is_logged_and_the_loop_goes_on() -> None:
    consumer, influx, stop = FakeConsumer({TP: 1}, fail_commits=1), Influx(), threading.Event()
    consumer.on_commit = stop.set
    sink = _sink(consumer, influx)
    sink.run(stop)  # returns once a commit succeeded
    assert consumer.committed_offsets == {TP: 1} and sink.counts["errors"] == 1
    assert (TP, 0) in consumer.seeks  # re-read from the start (nothing committed yet)
    assert len(influx.lines) == 2  # the same reading written twice: idempotent by identity


def test_persistent_errors_raise_sink_failed() -> None:
    consumer = FakeConsumer({TP: 1}, fail_commits=10**6)
    sink = InfluxSink(consumer, InfluxWriter(Influx()), telemetry="t", alerts="a",
                      pause_s=0.001, max_errors=3)
    with pytest.raises(SinkFailed, match="3 errors in a row"):
        sink.run(threading.Event())
    assert consumer.committed_offsets == {}


class AwayConsumer(FakeConsumer):
    """Kafka gone for `outage` calls (commit timing out, then polls finding no broker)."""

    def __init__(self, records: dict[Part, int], outage: int) -> None:
        super().__init__(records)
        self.outage = outage

    def _away(self) -> None:
        if self.outage:
            self.outage -= 1
            raise _error(KafkaError._TIMED_OUT if self.outage % 2 else KafkaError._TRANSPORT)

    def poll(self, timeout_s: float, max_records: int) -> Polled:
        self._away()
        return super().poll(timeout_s, max_records)

    def commit(self, offsets: Mapping[Part, int]) -> None:
        self._away()
        super().commit(offsets)


def test_kafka_away_longer_than_the_error_budget_is_waited_out() -> None:
    consumer, influx, stop = AwayConsumer({TP: 1}, outage=40), Influx(), threading.Event()
    consumer.on_commit = stop.set
    sink = InfluxSink(consumer, InfluxWriter(influx, registry(drainage_device("a1"))),
                      telemetry="t", alerts="a", pause_s=0.0, max_errors=3)
    sink.run(stop)  # returns once a commit succeeded; SinkFailed after 3 were it counted
    assert consumer.committed_offsets == {TP: 1} and sink.counts["kafka_away"] == 40
    assert len(influx.lines) >= 1


def test_kafka_errors_that_say_we_are_wrong_still_count() -> None:
    assert kafka_away(_error(KafkaError._TIMED_OUT)) and kafka_away(_error(KafkaError._TRANSPORT))
    assert kafka_away(_error(KafkaError.COORDINATOR_NOT_AVAILABLE))
    assert kafka_away(KafkaException(KafkaError(KafkaError.UNKNOWN, retriable=True)))
    assert not kafka_away(_error(KafkaError.REBALANCE_IN_PROGRESS))
    assert not kafka_away(_error(KafkaError.TOPIC_AUTHORIZATION_FAILED))
    assert not kafka_away(ValueError()) and not kafka_away(KafkaException())


def test_records_in_another_shape_are_validated_and_bad_ones_skipped() -> None:
    reading = drain("a1", at(7), 0.4)
    snake = orjson.dumps(reading.model_dump(mode="json"))  # field names, not the aliases
    consumer, influx = FakeConsumer({TP: 0}), Influx()
    consumer.logs[TP] = [reading_to_json(reading), snake, b'{"domain": []}', b"not json"]
    writer = InfluxWriter(influx, registry(drainage_device("a1")))
    sink = InfluxSink(consumer, writer, telemetry="t", alerts="a", max_records=10)
    assert sink.run_once() == 2
    line = reading_line(reading, registry(drainage_device("a1")))
    assert influx.lines == [line, line]
    assert sink.counts["undecodable"] == 2 and consumer.committed_offsets == {TP: 4}


class Scripted:
    """Sinks for keep_storing: each `run` does what its script says, then the loop goes on."""

    def __init__(self, stop: threading.Event, *outcomes: Exception | None) -> None:
        self.stop, self.outcomes, self.made, self.closed = stop, list(outcomes), 0, 0

    def make(self) -> Any:
        self.made += 1
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, ConnectionError):  # the consumer cannot even be built
            raise outcome
        return SimpleNamespace(run=lambda stop: self._run(outcome), close=self._close)

    def _run(self, outcome: Exception | None) -> None:
        if outcome is not None:
            raise outcome
        self.stop.set()  # a healthy sink runs until it is stopped

    def _close(self) -> None:
        self.closed += 1


def test_a_failed_sink_is_replaced_by_a_new_one_until_stopped() -> None:
    stop = threading.Event()
    script = Scripted(stop, SinkFailed("10 errors in a row"), ConnectionError("no broker"),
                      RuntimeError("unforeseen"), None)
    assert keep_storing(script.make, stop, pause_s=0.0) == 3
    assert script.made == 4 and script.closed == 3  # the one never built is not closed


def test_a_refused_write_is_not_retried_by_a_new_sink() -> None:
    stop = threading.Event()
    script = Scripted(stop, StorageRefused("HTTP 403"), None)
    with pytest.raises(StorageRefused):
        keep_storing(script.make, stop, pause_s=0.0)
    assert script.made == 1 and script.closed == 1


def test_alert_tombstones_are_counted_and_committed_without_a_point() -> None:
    consumer, influx = FakeConsumer({("a", 0): 0}), Influx()
    consumer.logs[("a", 0)] = [None, None]
    sink = InfluxSink(consumer, InfluxWriter(influx), telemetry="t", alerts="a")
    assert sink.run_once() == 0
    assert influx.lines == [] and sink.counts["tombstones"] == 2
    assert consumer.committed_offsets == {("a", 0): 2} and sink.counts["undecodable"] == 0
