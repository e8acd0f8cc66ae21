"""The Faust worker logs in like every kafka-python client (same aiokafka keywords)."""

from __future__ import annotations

import asyncio
from typing import Any

import faust
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth
from pydantic import SecretStr

from ioc.core.kafka_auth import KafkaAccess
from ioc.core.settings import Settings
from ioc.processors.worker.app import Tuning, WorkerTopics, create_app
from ioc.processors.worker.faust_auth import faust_broker, faust_credentials
from ioc.testing.factories import drainage_device, registry

ACCESS = KafkaAccess("k1:9092,k2:9092", username="ioc", password=SecretStr("pw"),
                     mechanism="SCRAM-SHA-256")


def test_faust_credentials_give_aiokafka_the_same_login_as_kafka_python() -> None:
    aiokafka = dict(credentials_to_aiokafka_auth(faust_credentials(ACCESS)))
    assert aiokafka.pop("ssl_context") is None
    assert aiokafka == ACCESS.security_options()


def test_plaintext_broker_gets_no_credentials() -> None:
    plain = KafkaAccess("k:9092", "PLAINTEXT")
    assert faust_credentials(plain) is None
    assert dict(credentials_to_aiokafka_auth(None)) == plain.security_options()


def test_one_url_per_bootstrap_server() -> None:
    assert faust_broker(ACCESS) == ["kafka://k1:9092", "kafka://k2:9092"]


def test_worker_app_is_built_with_the_settings_login() -> None:
    settings = Settings(kafka_bootstrap="k:9092", kafka_username="worker-user",
                        kafka_password=SecretStr("worker-pw"))
    worker = create_app(settings, registry(drainage_device()), WorkerTopics.prefixed("t-"),
                        app_id="t-auth")
    creds = worker.app.conf.broker_credentials
    assert isinstance(creds, faust.SASLCredentials)
    assert (creds.username, creds.password) == ("worker-user", "worker-pw")
    assert creds.mechanism.value == "SCRAM-SHA-512"


def test_the_worker_consumer_fetches_with_the_tuned_wait_and_minimum() -> None:
    settings = Settings(kafka_bootstrap="k:9092", kafka_password=SecretStr("worker-pw"))
    worker = create_app(settings, registry(drainage_device()), WorkerTopics.prefixed("t-"),
                        app_id="t-fetch", tuning=Tuning(fetch_max_wait_ms=70,
                                                        fetch_min_bytes=16_384))
    app = worker.app

    async def build() -> Any:  # aiokafka builds its consumer inside a running loop
        return app.consumer._thread._create_worker_consumer(app.transport)  # type: ignore[attr-defined]

    consumer = asyncio.run(build())
    # Faust's own consumer would wait 1,500 ms for 1 byte
    assert (consumer._fetch_max_wait_ms, consumer._fetch_min_bytes) == (70, 16_384)


def test_the_fetch_settings_default_to_the_tuning_defaults() -> None:
    fields, tune = Settings.model_fields, Tuning()
    assert fields["worker_fetch_min_bytes"].default == tune.fetch_min_bytes > 1
    assert fields["worker_fetch_max_wait_ms"].default == tune.fetch_max_wait_ms
