"""The librdkafka adapter without a broker: its configuration keeps the bridge's delivery
guarantees, and an unreachable cluster is reported at once as SinkUnavailable."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from ioc.core.kafka_auth import KafkaAccess
from ioc.ingest.kafka_sink import SinkConfig, SinkUnavailable
from ioc.ingest.rdkafka_sink import RdKafkaSink, producer_config

SASL = KafkaAccess("127.0.0.1:9092", "SASL_PLAINTEXT", "SCRAM-SHA-512", "ioc",
                   SecretStr("s3cret"))


def test_config_is_idempotent_acks_all_and_partitions_like_java_clients() -> None:
    props = producer_config(SinkConfig(SASL, "bridge-1", linger_ms=7, compression=None))
    assert props["acks"] == "all" and props["enable.idempotence"] is True
    assert props["max.in.flight.requests.per.connection"] <= 5  # order kept by idempotence
    assert props["partitioner"] == "murmur2_random"  # kafka-python / Java default hashing
    assert props["message.timeout.ms"] == 120_000 and props["linger.ms"] == 7
    assert props["compression.type"] == "none"
    assert (props["security.protocol"], props["sasl.mechanisms"], props["sasl.username"],
            props["sasl.password"]) == ("SASL_PLAINTEXT", "SCRAM-SHA-512", "ioc", "s3cret")


def test_plaintext_config_has_no_sasl_settings() -> None:
    props = producer_config(SinkConfig(KafkaAccess("k:9092", "PLAINTEXT"), "b"))
    assert not any(key.startswith("sasl.") for key in props)


def test_an_unreachable_cluster_is_unavailable_not_a_crash() -> None:
    config = SinkConfig(KafkaAccess("127.0.0.1:1", "PLAINTEXT"), "b")
    with pytest.raises(SinkUnavailable, match=r"127\.0\.0\.1:1 unavailable"):
        RdKafkaSink(config, connect_timeout_s=1.0)
