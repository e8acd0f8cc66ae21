"""Telegraf configurations for `ioc bench --only peer`, matched to the bridge's settings."""

from __future__ import annotations

import json
from collections.abc import Sequence

from ioc.core.settings import Settings

__all__ = ["telegraf_influx_config", "telegraf_kafka_config"]


def _q(value: str) -> str:
    """A TOML basic string (JSON string escapes are valid TOML)."""
    return json.dumps(value)


def _mqtt_input(settings: Settings, client_id: str, topics: Sequence[str],
               extra: str = "") -> str:
    # At least once, like the bridge: QoS 1 on a persistent session, each message acked
    # only after the output wrote it; as many unacked in flight as the bridge's default
    # receive maximum (4,000).
    return f"""
[[inputs.mqtt_consumer]]
  servers = [{_q(f"tcp://{settings.mqtt_host}:{settings.mqtt_port}")}]
  topics = [{", ".join(_q(t) for t in topics)}]
  qos = 1
  persistent_session = true
  client_id = {_q(client_id)}
  username = {_q(settings.mqtt_username)}
  password = {_q(settings.mqtt_password.get_secret_value())}
  max_undelivered_messages = 4000
  data_format = "json"
{extra}"""


def _agent() -> str:
    # Batches as large as the bridge's in-flight window; a short flush interval so the last
    # partial batch does not wait the default 10 s.
    return """
[agent]
  interval = "1s"
  flush_interval = "200ms"
  flush_jitter = "0s"
  metric_batch_size = 1000
  metric_buffer_limit = 200000
  omit_hostname = true
  quiet = true
"""


def telegraf_kafka_config(settings: Settings, client_id: str, kafka_topic: str,
                          mqtt_topics: Sequence[str]) -> str:
    """mqtt_consumer → outputs.kafka (acks=all, SASL/SCRAM as the bridge; Telegraf's
    default non-idempotent writes: sarama's idempotence allows one request in flight)."""
    return _agent() + _mqtt_input(settings, client_id, mqtt_topics) + f"""
[[outputs.kafka]]
  brokers = [{_q(settings.kafka_bootstrap)}]
  topic = {_q(kafka_topic)}
  required_acks = -1
  routing_tag = "topic"
  sasl_username = {_q(settings.kafka_username)}
  sasl_password = {_q(settings.kafka_password.get_secret_value())}
  sasl_mechanism = {_q(settings.kafka_sasl_mechanism)}
  data_format = "json"
"""


def telegraf_influx_config(settings: Settings, client_id: str, bucket_settings: Settings,
                           bucket: str, mqtt_topics: Sequence[str]) -> str:
    """mqtt_consumer → outputs.influxdb_v2 with a write-only token; each point at the
    reading's own dateObserved, as the worker stores it."""
    time_key = '  json_time_key = "dateObserved"\n  json_time_format = "unix_ms"\n'
    return _agent() + _mqtt_input(settings, client_id, mqtt_topics, time_key) + f"""
[[outputs.influxdb_v2]]
  urls = [{_q(bucket_settings.influx_url)}]
  token = {_q(bucket_settings.influx_token_for("write"))}
  organization = {_q(bucket_settings.influx_org)}
  bucket = {_q(bucket)}
"""
