"""Kafka as `ioc services up` runs it refuses every client that does not log in (issue 9).

Each refusal is checked by what the attacker wanted: the forged record is absent from the
topic (read back with the project's login), the secret record never reaches the outsider.
"""

from __future__ import annotations

import uuid

import pytest
from kafka import KafkaConsumer, KafkaProducer
from kafka.errors import KafkaError

from ioc.core.kafka_auth import KafkaAccess, kafka_access
from ioc.core.settings import Settings
from ioc.core.topic_reader import read_topic
from ioc.core.topics import ALERT_COMMANDS

REFUSED_WITHIN_MS = 4000  # a refused client gives up bootstrapping after this long
ACCEPTED_WITHIN_MS = 30000


def _produce(kafka: KafkaAccess, topic: str, value: bytes, within_ms: int) -> KafkaError | None:
    """Send one record and wait for its ack; the error if the broker did not take it."""
    limits = {"bootstrap_timeout_ms": within_ms, "max_block_ms": within_ms,
              "request_timeout_ms": within_ms}
    try:
        producer = KafkaProducer(**kafka.client_options(), acks="all", **limits)
    except KafkaError as exc:
        return exc
    try:
        producer.send(topic, value=value).get(timeout=within_ms / 1000 + 5)
        return None
    except KafkaError as exc:
        return exc
    finally:
        producer.close(timeout=2)


def _values(kafka: KafkaAccess, topic: str, within_ms: int) -> list[bytes | None]:
    """Every value on `topic` up to its current end; KafkaError if the broker refuses."""
    def consumer() -> KafkaConsumer:
        return KafkaConsumer(**kafka.client_options(), group_id=None, enable_auto_commit=False,
                             bootstrap_timeout_ms=within_ms, request_timeout_ms=within_ms)

    return [r.value for r in read_topic(consumer, topic, timeout_s=within_ms / 1000,
                                        poll_ms=200)]


def _anonymous(kafka: KafkaAccess) -> KafkaAccess:
    return KafkaAccess(kafka.bootstrap, "PLAINTEXT")


def test_client_without_login_cannot_write_alert_commands(kafka_service: Settings) -> None:
    kafka = kafka_access(kafka_service)
    forged = f'{{"forged": "{uuid.uuid4().hex}"}}'.encode()

    error = _produce(_anonymous(kafka), ALERT_COMMANDS, forged, REFUSED_WITHIN_MS)

    assert error is not None, "Kafka took a command from a client that did not log in"
    assert forged not in _values(kafka, ALERT_COMMANDS, ACCEPTED_WITHIN_MS)


def test_client_without_login_cannot_read(kafka_service: Settings, unique_topic: str) -> None:
    kafka = kafka_access(kafka_service)
    secret = f"secret-{uuid.uuid4().hex}".encode()
    assert _produce(kafka, unique_topic, secret, ACCEPTED_WITHIN_MS) is None

    with pytest.raises(KafkaError):
        _values(_anonymous(kafka), unique_topic, REFUSED_WITHIN_MS)


def test_wrong_password_or_unknown_user_is_refused_right_login_accepted(
        kafka_service: Settings, unique_topic: str) -> None:
    kafka = kafka_access(kafka_service)
    password = kafka.password.get_secret_value()
    impostors = [kafka.with_login(kafka.username, f"not-{password}"),
                 kafka.with_login(f"mallory-{uuid.uuid4().hex[:6]}", password)]

    for impostor in impostors:
        assert _produce(impostor, unique_topic, b"forged", REFUSED_WITHIN_MS) is not None
    # the same client code with the project's own login gets through
    assert _produce(kafka.with_login(kafka.username, password), unique_topic, b"genuine",
                    ACCEPTED_WITHIN_MS) is None

    assert _values(kafka, unique_topic, ACCEPTED_WITHIN_MS) == [b"genuine"]
