"""`ioc alerts` against real Kafka before any worker has created the alerts topic."""

from __future__ import annotations

from click.testing import CliRunner
from kafka import KafkaConsumer

from ioc.core.kafka_auth import kafka_access
from ioc.core.settings import Settings
from ioc.processors.cli import alerts as alerts_cli


def test_alerts_on_a_missing_topic_prints_nothing_and_creates_nothing(
        kafka_service: Settings, unique_topic: str) -> None:
    for args in (["--json"], ["--all"]):
        result = CliRunner().invoke(alerts_cli, [*args, "--topic", unique_topic])
        assert result.exit_code == 0, (result.output, result.exception)
        assert result.output == ""
    consumer = KafkaConsumer(**kafka_access(kafka_service).client_options())
    try:
        # an auto-created alerts topic would not be compacted: `ioc alerts` must not make one
        assert unique_topic not in consumer.topics()
    finally:
        consumer.close()
