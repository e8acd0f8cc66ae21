"""A Kafka data directory formatted before SASL keeps its data and gets the SCRAM logins.

Machines that ran `ioc services up` before issue 9 have a PLAINTEXT-formatted `.ioc/kafka`
with no SCRAM users; the next `ioc services up` must migrate it, not lose it or hang.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from pydantic import SecretStr

from ioc.core.errors import ServiceError
from ioc.core.kafka_auth import KafkaAccess, kafka_access
from ioc.core.settings import Settings
from ioc.devstack import kafka
from ioc.devstack.kafka_sasl import ADMIN_PASSWORD_KEY, broker_logins, logins_recorded
from ioc.devstack.process import log_tail, start_detached, stop_process, wait_until
from ioc.testing.processes import free_port

TOPIC = "written-before-sasl"


def _pre_sasl_properties(data: Path, port: int) -> str:
    """What `ioc services up` wrote before issue 9: PLAINTEXT listeners, no login."""
    return "\n".join([
        "process.roles=broker,controller", "node.id=1",
        f"controller.quorum.voters=1@127.0.0.1:{port + 1}",
        f"listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{port + 1}",
        f"advertised.listeners=PLAINTEXT://127.0.0.1:{port}",
        "controller.listener.names=CONTROLLER", "inter.broker.listener.name=PLAINTEXT",
        "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        f"log.dirs={data}", "num.partitions=1", "offsets.topic.replication.factor=1",
        "transaction.state.log.replication.factor=1", "transaction.state.log.min.isr=1",
        "group.initial.rebalance.delay.ms=0", ""])


def _java(state: Path, *args: str) -> list[str]:
    log4j = state / "kafka" / "log4j.properties"
    return ["java", "-Xmx512m", f"-Dlog4j.configuration=file:{log4j}",
            "-cp", f"{kafka.libs_dir()}/*", *args]


def _start_pre_sasl(state: Path, props: Path, data: Path, port: int) -> int:
    """Start a PLAINTEXT broker (on fresh ports after a port clash); the port it answers on."""
    pid_file, failure = state / "run" / "kafka.pid", ""
    for attempt in range(3):
        if attempt:
            port = free_port(span=2)
            props.write_text(_pre_sasl_properties(data, port))
        proc = start_detached(_java(state, "kafka.Kafka", str(props)),
                              log_file=state / "old.out", pid_file=pid_file)
        plain = KafkaAccess(f"127.0.0.1:{port}", "PLAINTEXT")
        try:
            wait_until(partial(kafka.kafka_answers, plain, 2.0), timeout=90,
                       what="the pre-SASL broker", proc=proc, log_file=state / "kafka.log")
            return port
        except ServiceError as exc:
            failure = f"{exc}\n{log_tail(state / 'old.out', 15)}"
        stop_process(pid_file, "kafka.Kafka", timeout=45)
        if "Address already in use" not in failure:
            break
    pytest.fail(failure)


@pytest.fixture
def pre_sasl_state(tmp_path: Path) -> Iterator[Path]:
    """A state dir whose Kafka data was formatted and written by a pre-SASL broker."""
    kafka.ensure_libs()
    state = tmp_path / "state"
    data, props = state / "kafka" / "data", state / "kafka" / "server.properties"
    data.mkdir(parents=True)
    (state / "kafka" / "log4j.properties").write_text(kafka.render_log4j(state / "kafka.log"))
    port = free_port(span=2)
    props.write_text(_pre_sasl_properties(data, port))
    subprocess.run(_java(state, "kafka.tools.StorageTool", "format", "-t",
                         kafka.new_cluster_id(), "-c", str(props)), check=True,
                   capture_output=True)
    try:
        port = _start_pre_sasl(state, props, data, port)
        producer = KafkaProducer(**KafkaAccess(f"127.0.0.1:{port}", "PLAINTEXT").client_options(),
                                 acks="all")
        producer.send(TOPIC, b"kept").get(timeout=30)
        producer.close()
    finally:
        stop_process(state / "run" / "kafka.pid", "kafka.Kafka", timeout=45)
    yield state
    kafka.stop(state)


def _values(access: KafkaAccess, topic: str) -> list[bytes]:
    consumer = KafkaConsumer(**access.client_options(), group_id=None,
                             consumer_timeout_ms=5000)
    try:
        part = TopicPartition(topic, 0)
        consumer.assign([part])
        consumer.seek_to_beginning(part)
        end = consumer.end_offsets([part])[part]
        values = []
        for record in consumer:  # stops after 5 s without records
            values.append(record.value)
            if record.offset + 1 >= end:
                break
        return values
    finally:
        consumer.close()


def test_services_up_migrates_pre_sasl_data(pre_sasl_state: Path) -> None:
    state = pre_sasl_state
    old = (state / "kafka" / "server.properties").read_text()
    bootstrap = old.split("advertised.listeners=PLAINTEXT://")[1].splitlines()[0]
    settings = Settings(kafka_bootstrap=bootstrap, kafka_password=SecretStr("client-pw-1"))
    creds = {ADMIN_PASSWORD_KEY: "admin-pw-1"}
    steps: list[str] = []

    action = kafka.start(settings, state, creds, steps.append)

    assert action == "started (SCRAM logins added to the existing data)", steps
    access = kafka_access(settings)
    assert _values(access, TOPIC) == [b"kept"]  # the data survived the migration
    assert not kafka.kafka_answers(KafkaAccess(bootstrap, "PLAINTEXT"), 3.0)
    assert not kafka.kafka_answers(access.with_login("ioc", "wrong"), 3.0)
    props = (state / "kafka" / "server.properties").read_text()
    assert "listener.name.client.plain" not in props  # PLAIN was for the migration only
    assert logins_recorded(state / "kafka" / "logins.fingerprint",
                           broker_logins(settings, creds))
