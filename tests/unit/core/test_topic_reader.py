"""The read-to-the-end loop over a fake kafka-python consumer (offsets are list indexes)."""

from __future__ import annotations

import threading

import pytest
from kafka import TopicPartition

from ioc.core.errors import ServiceError
from ioc.core.topic_reader import assign_at, behind, read_to_end, read_topic, topic_partitions
from tests.unit.core.kafka_fake import Entry, FakeConsumer

TOPIC = "t"


def tp(partition: int) -> TopicPartition:
    """Partition `partition` of the test topic."""
    return TopicPartition(TOPIC, partition)


def entries(log: dict[int, list[bytes]]) -> dict[int, list[Entry]]:
    """A fake's log of these values (each keyed b"k")."""
    return {p: [Entry(b"k", v) for v in values] for p, values in log.items()}


def values(records: object) -> list[tuple[int, bytes | None]]:
    """(partition, value) of each record read."""
    return [(r.partition, r.value) for r in records]  # type: ignore[attr-defined]


def test_every_partition_is_read_to_its_end_whatever_its_length() -> None:
    consumer = FakeConsumer(entries({0: [b"a", b"b", b"c"], 1: [], 2: [b"x"]}), batch=1)
    got = values(read_to_end(consumer, topic_partitions(consumer, TOPIC)))
    assert sorted(got) == [(0, b"a"), (0, b"b"), (0, b"c"), (2, b"x")]
    assert consumer.polls == 3  # one record per poll: it polled until partition 0's end


def test_records_written_after_the_read_began_are_not_read_and_stay_for_the_next() -> None:
    def grow(c: FakeConsumer) -> None:
        assert c.log is not None
        c.log[0].append(Entry(b"k", b"later"))

    consumer = FakeConsumer(entries({0: [b"a", b"b"], 1: [b"c"]}), on_poll=grow)
    assert values(read_to_end(consumer, [tp(0), tp(1)])) == [(0, b"a"), (0, b"b"), (1, b"c")]
    assert consumer.pos == {tp(0): 2, tp(1): 1}  # a follower goes on from the end
    slow = FakeConsumer(entries({0: [b"a", b"b"]}), batch=1, on_poll=grow)
    assert values(read_to_end(slow, [tp(0)])) == [(0, b"a"), (0, b"b")]  # nor waited for


def test_a_start_offset_resumes_one_partition_and_the_others_begin_at_zero() -> None:
    consumer = FakeConsumer(entries({0: [b"a", b"b"], 1: [b"c"]}), batch=5)
    got = values(read_to_end(consumer, [tp(0), tp(1)], start={tp(0): 1}))
    assert sorted(got) == [(0, b"b"), (1, b"c")]


def test_the_deadline_passing_short_of_the_end_is_a_service_error() -> None:
    consumer = FakeConsumer(entries({0: [b"a"], 1: [b"b", b"c"]}), batch=0)  # hands out none
    with pytest.raises(ServiceError, match=r"cannot read t to its end within 0\.05s "
                                           r"\(partition 0 at 0 of 1, partition 1 at 0 of 2\)"):
        list(read_to_end(consumer, [tp(0), tp(1)], timeout_s=0.05, poll_ms=1))
    assert consumer.polls >= 1  # it did try before giving up


def test_stop_ends_the_read_quietly() -> None:
    stop = threading.Event()
    consumer = FakeConsumer(entries({0: [b"a", b"b", b"c"]}), batch=1,
                            on_poll=lambda c: stop.set())
    assert values(read_to_end(consumer, [tp(0)], stop=stop)) == [(0, b"a")]


def test_no_partitions_read_nothing_and_assign_nothing() -> None:
    consumer = FakeConsumer(entries({0: [b"a"]}))
    assert list(read_to_end(consumer, [])) == [] and consumer.pos == {}


def test_read_topic_owns_its_consumer() -> None:
    missing = FakeConsumer(None)
    assert list(read_topic(lambda: missing, TOPIC)) == [] and missing.closed
    some = FakeConsumer(entries({0: [b"a"], 1: [b"b"], 2: [b"c"]}))
    assert sorted(values(read_topic(lambda: some, TOPIC, [2, 0]))) == [(0, b"a"), (2, b"c")]
    assert some.closed
    early = FakeConsumer(entries({0: [b"a", b"b"]}))
    reading = read_topic(lambda: early, TOPIC)
    next(reading)
    reading.close()  # a caller that stops early still closes the consumer
    assert early.closed


def test_assign_at_and_behind() -> None:
    consumer = FakeConsumer(entries({0: [], 1: [], 2: []}))
    assign_at(consumer, [tp(0), tp(1), tp(2)], {tp(1): 7})
    assert consumer.pos == {tp(0): 0, tp(1): 7, tp(2): 0}
    assert behind({tp(0): 3, tp(1): 7, tp(2): 1}, consumer.pos) == {tp(0): 3, tp(2): 1}
