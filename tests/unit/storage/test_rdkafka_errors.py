"""How the librdkafka source treats errors that consume() hands back as messages."""

from __future__ import annotations

import logging

import pytest
from confluent_kafka import KafkaError, KafkaException

from ioc.storage.rdkafka_source import RdKafkaSource


def _source() -> RdKafkaSource:
    source = RdKafkaSource.__new__(RdKafkaSource)  # no consumer: only the error policy runs
    source._logged = set()
    return source


def test_a_passing_error_is_logged_once_and_does_not_drop_the_poll(
        caplog: pytest.LogCaptureFixture) -> None:
    source = _source()
    with caplog.at_level(logging.WARNING, logger="ioc.storage.rdkafka_source"):
        for _ in range(3):
            source._on_error(KafkaError(KafkaError._TRANSPORT, f"down after {_}ms"))
        source._on_error(KafkaError(KafkaError._PARTITION_EOF))
    assert [r.getMessage() for r in caplog.records] == [
        "storage consumer: down after 0ms (librdkafka retries; said once)"]


def test_a_fatal_error_raises() -> None:
    with pytest.raises(KafkaException):
        _source()._on_error(KafkaError(KafkaError._FENCED, "fenced", fatal=True))
